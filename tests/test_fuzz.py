"""Issue 22, fuzzing harness: a valid result folder and a valid monitor database, each edited
in one hostile way (types, ranges, NaN, missing and extra fields, unknown words, huge numbers,
markup and spreadsheet formulas in any string), then read by ``load``, ``load_db``,
``report``, ``export`` (every format) and ``review --episodes-only``: every run ends in an
output or one line with exit 2, never a traceback.

The valid inputs are made once per session: from simulated signals through the real writers
(fast loop), and from the bundled sample's analysis (``sample_result``, slow). The long run
is ``benchmarks/fuzz_results.py``.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from conftest import examples
from fuzzing import (
    DB_COMMANDS,
    FOLDER_COMMANDS,
    check_outcome,
    fresh_copy,
    make_db,
    mutate_db,
    mutate_folder,
    run_db_command,
    run_folder_command,
    simulated_detection,
    synthetic_result,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="session")
def valid_folder(tmp_path_factory) -> Path:
    return synthetic_result(tmp_path_factory.mktemp("fuzz-valid"))


@pytest.fixture(scope="session")
def valid_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("fuzz-db") / "monitor.sqlite"
    return make_db(db, simulated_detection().events)


def _fuzz_folder(valid: Path, work: Path, data) -> None:
    n = next(_counter)
    folder = fresh_copy(valid, work / "r" / valid.name)
    out = work / f"out{n}"
    what = mutate_folder(folder, data)
    command = data.draw(st.sampled_from(FOLDER_COMMANDS), "command")
    code, err = run_folder_command(command, folder, out)
    check_outcome(code, err, f"{' '.join(command)} after editing {what}")
    shutil.rmtree(out, ignore_errors=True)


_counter = itertools.count()


def test_the_valid_inputs_are_read(valid_folder, valid_db, tmp_path):
    for command in FOLDER_COMMANDS[:-1]:  # review: the synthetic folder has no real video
        out = tmp_path / f"f{'-'.join(command)}"
        code, err = run_folder_command(command, valid_folder, out)
        assert code == 0, err
    for command in DB_COMMANDS:
        out = tmp_path / f"d{'-'.join(command)}"
        code, err = run_db_command(command, valid_db, out)
        assert code == 0, err


@FUZZ
@given(data=st.data())
def test_an_edited_result_folder_is_read_or_refused_in_one_line(valid_folder, tmp_path, data):
    _fuzz_folder(valid_folder, tmp_path, data)


@settings(FUZZ, max_examples=examples(50))
@given(data=st.data())
def test_an_edited_sample_result_is_read_or_refused_in_one_line(sample_result, tmp_path, data):
    _fuzz_folder(sample_result, tmp_path, data)


@FUZZ
@given(data=st.data())
def test_an_edited_monitor_database_is_read_or_refused_in_one_line(valid_db, tmp_path, data):
    n = next(_counter)
    db = fresh_copy(valid_db, tmp_path / "monitor.sqlite")
    what = mutate_db(db, data)
    command = data.draw(st.sampled_from(DB_COMMANDS), "command")
    out = tmp_path / f"out{n}"
    code, err = run_db_command(command, db, out)
    check_outcome(code, err, f"{' '.join(command)} after editing {what}")
    shutil.rmtree(out, ignore_errors=True)
