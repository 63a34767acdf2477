"""The monitor's SQLite file: schema (versioned, migrated on open), paths and time stamps.

One file, WAL journal with ``synchronous=FULL`` (each commit is on disk when it returns), a
schema versioned by ``PRAGMA user_version`` and migrated on open (:func:`migrate`). Tables:
``sessions``, ``events`` (the columns of events.tsv), ``minutes`` (per-minute aggregates) and
``gaps``; view ``episodes``.

Wall-clock times are ISO 8601 UTC text (``2026-03-01T09:30:00.000+00:00``, sortable); times
within a session (``onset``, gap ``start_s``) are session seconds, as in events.tsv.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path

from spasm_cv.errors import SpasmCvError

SCHEMA_VERSION = 2
# The one rule of every reader (load_db, report --db, export --db): a store of schema 1 to
# SCHEMA_VERSION is read (columns an older one lacks read as empty); 0 (no schema yet: a file
# whose creation was cut short) and newer ones are refused. The monitor migrates older stores.
OLDEST_READABLE = 1
APPLICATION_ID = 0x53435631  # "SCV1": marks the file as a spasm-cv store
DB_NAME = "spasm-cv.sqlite"
BUSY_TIMEOUT_S = 2.0

# Each entry brings the schema from version (key - 1) to version key.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,      -- wall clock of session time 0
            ended_at TEXT,                 -- NULL while running, or if the process died
            last_write_at TEXT,            -- last commit: a session that died ended after it
            end_reason TEXT,
            source TEXT NOT NULL,          -- e.g. 'camera 0', 'file x.mp4', 'stream rtsp://..'
            source_kind TEXT NOT NULL,     -- camera | stream | file
            fps REAL NOT NULL,             -- nominal frame rate the detector used
            width INTEGER,
            height INTEGER,
            mirrored INTEGER NOT NULL,
            settings TEXT NOT NULL,        -- JSON: monitor settings and detection params
            software_version TEXT NOT NULL,
            model_name TEXT NOT NULL,
            model_sha256 TEXT NOT NULL,
            frames INTEGER NOT NULL DEFAULT 0,
            dropped_frames INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE events (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            onset REAL NOT NULL,           -- session seconds (events.tsv columns from here)
            duration REAL NOT NULL,
            trial_type TEXT NOT NULL,
            side TEXT NOT NULL,
            kind TEXT,
            regions TEXT NOT NULL,
            n_contractions INTEGER NOT NULL,
            peak_closure REAL,
            closure_duration REAL,
            brow_raised INTEGER,
            mouth_cocontraction INTEGER,
            confidence REAL,
            onset_at TEXT NOT NULL,        -- wall clock of the onset
            stored_at TEXT NOT NULL,       -- when the row was written
            clip TEXT,                     -- path of the MP4 clip, when saved
            PRIMARY KEY (session_id, onset, trial_type, side)
        )""",
        "CREATE VIEW episodes AS SELECT * FROM events WHERE trial_type = 'spasm'",
        """CREATE TABLE minutes (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            minute_start TEXT NOT NULL,    -- wall-clock minute
            observed_s REAL NOT NULL,      -- both sides measurable (rate denominator)
            measured_s_right REAL NOT NULL,
            measured_s_left REAL NOT NULL,
            closed_s_right REAL NOT NULL,  -- measurable and closure >= 0.5
            closed_s_left REAL NOT NULL,
            closed_fraction_right REAL,
            closed_fraction_left REAL,
            episodes INTEGER NOT NULL,     -- one-sided eye episodes by onset minute
            episodes_right INTEGER NOT NULL,
            episodes_left INTEGER NOT NULL,
            mouth_only INTEGER NOT NULL,
            blinks INTEGER NOT NULL,
            frames INTEGER NOT NULL,       -- quality: frames processed ...
            face_frames INTEGER NOT NULL,  -- ... with a face ...
            multi_face_frames INTEGER NOT NULL,  -- ... with several faces in view
            dropped_frames INTEGER NOT NULL,     -- frames skipped to keep up
            unavailable_s REAL NOT NULL,   -- seconds without frames from the source
            PRIMARY KEY (session_id, minute_start)
        )""",
        """CREATE TABLE gaps (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            start_s REAL NOT NULL,
            end_s REAL,                    -- NULL while the gap lasts
            started_at TEXT NOT NULL,
            ended_at TEXT,
            reason TEXT NOT NULL,
            PRIMARY KEY (session_id, start_s)
        )""",
        "CREATE INDEX sessions_started ON sessions(started_at)",
    ),
    # 2: events.context (what the face was doing around a one-sided event)
    2: ("ALTER TABLE events ADD COLUMN context TEXT",),  # NULL: n/a (two-sided events)
}


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/spasm-cv/spasm-cv.sqlite`` (default ``~/.local/share``) on Linux;
    the usual per-user data folder on macOS and Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "spasm-cv" / DB_NAME


def iso(unix_s: float) -> str:
    """Unix time as the store's ISO 8601 UTC text (millisecond precision)."""
    return datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


class transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rollback on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def refuse_newer(version: int, path: Path | str) -> None:
    """Refuse a store written by a newer spasm-cv (its schema unknown here)."""
    if version > SCHEMA_VERSION:
        raise SpasmCvError(
            f"{path} was written by a newer spasm-cv (database schema {version}, this version "
            f"reads up to {SCHEMA_VERSION}): update spasm-cv"
        )


def check_readable(version: int, path: Path | str) -> None:
    """Refuse a store that readers cannot read (see :data:`OLDEST_READABLE`)."""
    refuse_newer(version, path)
    if version < OLDEST_READABLE:
        raise SpasmCvError(
            f"{path} has database schema {version}: not a spasm-cv monitor database this "
            f"version reads (schemas {OLDEST_READABLE} to {SCHEMA_VERSION})"
        )


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; return the version found."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and (app != 0 or tables):
        raise SpasmCvError(f"{path} is not a spasm-cv monitor database")
    refuse_newer(version, path)
    for v in range(version + 1, SCHEMA_VERSION + 1):
        with transaction(conn):
            for statement in MIGRATIONS[v]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={v}")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    return version
