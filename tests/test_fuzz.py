"""Issue 22, fuzzing harness: a valid result folder and a valid monitor database, each edited
in one hostile way (types, ranges, NaN, missing and extra fields, unknown words, huge numbers,
markup and spreadsheet formulas in any string), then read by ``load``, ``load_db``,
``report``, ``export`` (every format) and ``review --episodes-only``: every run ends in an
output or one line with exit 2, never a traceback.

The valid inputs are made once per session: from simulated signals through the real writers
(fast loop), and from a real analysis of the bundled sample's first 17 s
(``short_sample_result``, slow: real signals, and a real video for ``review``). The long run
is ``benchmarks/fuzz_results.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import examples
from fuzzing import (
    DB_COMMANDS,
    FOLDER_COMMANDS,
    check_outcome,
    db_case,
    folder_case,
    fresh_copy,
    make_db,
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
    check_outcome(*folder_case(valid_folder, tmp_path, data))


@settings(FUZZ, max_examples=examples(50))
@given(data=st.data())
def test_an_edited_sample_result_is_read_or_refused_in_one_line(
    short_sample_result, tmp_path, data
):
    check_outcome(*folder_case(short_sample_result, tmp_path, data))


@FUZZ
@given(data=st.data())
def test_an_edited_monitor_database_is_read_or_refused_in_one_line(valid_db, tmp_path, data):
    check_outcome(*db_case(valid_db, tmp_path, data))


def test_payloads_in_free_text_reach_no_page_or_spreadsheet_raw(valid_folder, tmp_path):
    """The words of events are refused when unknown (test_validation.py); what is free text
    (names, versions, reasons) must come out escaped in HTML and neutralised in CSV."""
    import json

    import fuzzing

    assert fuzzing.CHECK_CSV_FORMULAS
    folder = fresh_copy(valid_folder, tmp_path / "in" / "visit.spasm-cv")
    doc = json.loads((folder / "summary.json").read_text())
    payloads = (fuzzing.MARKUP[0], "=cmd|' /C calc'!A0")
    for i, (record, key) in enumerate(
        [("input", "name"), ("input", "codec"), ("software", "version"), ("model", "name")]
    ):
        doc[record][key] = payloads[i % 2]
    doc["interrupted"] = payloads[0]
    (folder / "summary.json").write_text(json.dumps(doc))
    for command in (("report",), ("export", "csv")):
        assert run_folder_command(command, folder, tmp_path / "o")[0] == 0
    assert fuzzing.payload_leaks(tmp_path / "o") == []
