"""The monitor's SQLite store: sessions, events, per-minute aggregates and source gaps.

One file, WAL journal with ``synchronous=FULL`` (each commit is on disk when it returns), a
schema versioned by ``PRAGMA user_version`` and migrated on open. While a session runs, a
:class:`StoreWriter` thread commits what the monitor hands it (events at once, aggregates
every ~0.5 s), so a crash or power cut loses at most the last ~0.5 s. When the database cannot
be written (locked, disk full) the writer keeps everything in memory and retries; whatever is
still unwritten when the session closes goes to a JSON file beside the database.

Wall-clock times are ISO 8601 UTC text (``2026-03-01T09:30:00.000+00:00``, sortable); times
within a session (``onset``, gap ``start_s``) are session seconds, as in events.tsv.

Reading for reports: :func:`load_recordings`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import Event
from spasm_cv.landmarks.tracker import FOLLOWED_FACE
from spasm_cv.live.sources import Gap
from spasm_cv.report.recordings import Recording
from spasm_cv.report.summary import SCHEMA_VERSION as SUMMARY_SCHEMA_VERSION
from spasm_cv.report.summary import event_numbers
from spasm_cv.results.files import EVENT_COLUMNS
from spasm_cv.signals.geometry import SIDES

SCHEMA_VERSION = 1
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


# ------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class SessionInfo:
    """What is known of a session when it starts."""

    started_at: float  # Unix time of session time 0
    source: str
    source_kind: str
    fps: float
    width: int | None
    height: int | None
    mirrored: bool
    settings: dict
    software_version: str
    model_name: str
    model_sha256: str


@dataclass
class MinuteRow:
    """One wall-clock minute of a session (a row of ``minutes``); seconds and counts."""

    minute_start: float  # Unix time, a multiple of 60
    observed_s: float = 0.0
    measured_s_right: float = 0.0
    measured_s_left: float = 0.0
    closed_s_right: float = 0.0
    closed_s_left: float = 0.0
    episodes: int = 0
    episodes_right: int = 0
    episodes_left: int = 0
    mouth_only: int = 0
    blinks: int = 0
    frames: int = 0
    face_frames: int = 0
    multi_face_frames: int = 0
    dropped_frames: int = 0
    unavailable_s: float = 0.0

    def closed_fraction(self, side: str) -> float | None:
        measured = getattr(self, f"measured_s_{side}")
        return getattr(self, f"closed_s_{side}") / measured if measured > 0 else None

    def copy(self) -> MinuteRow:
        return MinuteRow(**asdict(self))


MINUTE_FIELDS = tuple(f.name for f in fields(MinuteRow))


def _event_key(e: Event) -> tuple:
    return (round(e.onset, 6), e.trial_type, e.side)


@dataclass
class Batch:
    """Rows to write in one transaction. Minute and gap rows are snapshots (latest wins)."""

    events: dict[tuple, Event] = field(default_factory=dict)
    minutes: dict[float, MinuteRow] = field(default_factory=dict)
    gaps: dict[float, Gap] = field(default_factory=dict)
    clips: dict[tuple, str] = field(default_factory=dict)
    progress: dict | None = None  # running totals of the session: frames, dropped_frames

    @classmethod
    def of(
        cls,
        events=(),
        minutes=(),
        gaps=(),
        clips=(),
        progress: dict | None = None,
    ) -> Batch:
        return cls(
            {_event_key(e): e for e in events},
            {m.minute_start: m.copy() for m in minutes},
            {g.start_s: g for g in gaps},
            {_event_key(e): path for e, path in clips},
            dict(progress) if progress else None,
        )

    def __len__(self) -> int:
        return len(self.events) + len(self.minutes) + len(self.gaps) + len(self.clips)

    def merge(self, newer: Batch) -> None:
        """Add ``newer`` (written after this one: its snapshots win)."""
        self.events.update(newer.events)
        self.minutes.update(newer.minutes)
        self.gaps.update(newer.gaps)
        self.clips.update(newer.clips)
        if newer.progress is not None:
            self.progress = newer.progress

    def to_json(self) -> dict:
        return {
            "events": [e.to_dict() for e in self.events.values()],
            "minutes": [asdict(m) for m in self.minutes.values()],
            "gaps": [asdict(g) for g in self.gaps.values()],
            "clips": [{"onset": k[0], "side": k[2], "path": v} for k, v in self.clips.items()],
            "progress": self.progress,
        }


# ------------------------------------------------------------------------------ store


class Store:
    """One connection to the SQLite store (use from one thread at a time).

    Opening creates the file (and its folder) if needed and migrates older schemas; a file
    that is not a spasm-cv store, or is from a newer version, raises SpasmCvError.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise SpasmCvError(f"no monitor database at {self.path}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise SpasmCvError(f"cannot open database {self.path}: {exc}") from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise SpasmCvError(f"cannot use database {self.path}: {exc}") from None
        except SpasmCvError:
            self.conn.close()
            raise

    def _setup(self) -> None:
        c = self.conn
        mode = c.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise SpasmCvError(f"{self.path}: cannot use write-ahead logging (mode {mode})")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA foreign_keys=ON")
        migrate(c, self.path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------

    def begin_session(self, info: SessionInfo) -> int:
        with _transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO sessions (started_at, last_write_at, source, source_kind, fps, width,"
                " height, mirrored, settings, software_version, model_name, model_sha256)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    iso(info.started_at),
                    iso(time.time()),
                    info.source,
                    info.source_kind,
                    info.fps,
                    info.width,
                    info.height,
                    int(info.mirrored),
                    json.dumps(info.settings, sort_keys=True),
                    info.software_version,
                    info.model_name,
                    info.model_sha256,
                ),
            )
            return int(cur.lastrowid)

    def write(self, session_id: int, t0_wall: float, batch: Batch) -> None:
        """Write ``batch`` of session ``session_id`` in one transaction (idempotent)."""
        now = iso(time.time())
        c = self.conn
        with _transaction(c):
            for e in batch.events.values():
                c.execute(
                    f"INSERT OR IGNORE INTO events (session_id, {', '.join(EVENT_COLUMNS)}, "
                    f"onset_at, stored_at) VALUES ({', '.join('?' * (len(EVENT_COLUMNS) + 3))})",
                    (session_id, *_event_values(e), iso(t0_wall + e.onset), now),
                )
            for m in batch.minutes.values():
                values = [getattr(m, f) for f in MINUTE_FIELDS[1:]]
                c.execute(
                    f"INSERT OR REPLACE INTO minutes (session_id, minute_start, "
                    f"{', '.join(MINUTE_FIELDS[1:])}, closed_fraction_right, "
                    f"closed_fraction_left) VALUES ({', '.join('?' * (len(values) + 4))})",
                    (
                        session_id,
                        iso(m.minute_start),
                        *values,
                        m.closed_fraction("right"),
                        m.closed_fraction("left"),
                    ),
                )
            for g in batch.gaps.values():
                c.execute(
                    "INSERT OR REPLACE INTO gaps (session_id, start_s, end_s, started_at, "
                    "ended_at, reason) VALUES (?,?,?,?,?,?)",
                    (
                        session_id,
                        g.start_s,
                        g.end_s,
                        iso(t0_wall + g.start_s),
                        None if g.end_s is None else iso(t0_wall + g.end_s),
                        g.reason,
                    ),
                )
            for (onset, trial_type, side), path in batch.clips.items():
                c.execute(
                    "UPDATE events SET clip=? WHERE session_id=? AND abs(onset-?)<1e-6 "
                    "AND trial_type=? AND side=?",
                    (path, session_id, onset, trial_type, side),
                )
            progress = batch.progress or {}
            c.execute(
                "UPDATE sessions SET last_write_at=?, frames=coalesce(?, frames), "
                "dropped_frames=coalesce(?, dropped_frames) WHERE id=?",
                (now, progress.get("frames"), progress.get("dropped_frames"), session_id),
            )

    def end_session(self, session_id: int, ended_at: float, reason: str) -> None:
        with _transaction(self.conn):
            self.conn.execute(
                "UPDATE sessions SET ended_at=?, last_write_at=?, end_reason=? WHERE id=?",
                (iso(ended_at), iso(time.time()), reason, session_id),
            )

    # -- reading -----------------------------------------------------------------------

    def sessions(self, started_from: str | None = None, started_before: str | None = None):
        """Session rows (dicts), oldest first, optionally by ``started_at`` ISO bounds."""
        sql, args = "SELECT * FROM sessions WHERE 1=1", []
        if started_from is not None:
            sql, args = sql + " AND started_at >= ?", [*args, started_from]
        if started_before is not None:
            sql, args = sql + " AND started_at < ?", [*args, started_before]
        return self._dicts(sql + " ORDER BY started_at, id", args)

    def events(self, session_id: int) -> list[Event]:
        rows = self._dicts("SELECT * FROM events WHERE session_id=? ORDER BY onset", [session_id])
        return [_event_from_row(r) for r in rows]

    def event_rows(self, session_id: int) -> list[dict]:
        return self._dicts("SELECT * FROM events WHERE session_id=? ORDER BY onset", [session_id])

    def minutes(self, session_id: int) -> list[MinuteRow]:
        rows = self._dicts(
            "SELECT * FROM minutes WHERE session_id=? ORDER BY minute_start", [session_id]
        )
        out = []
        for r in rows:
            values = {f: r[f] for f in MINUTE_FIELDS[1:]}
            out.append(MinuteRow(from_iso(r["minute_start"]).timestamp(), **values))
        return out

    def gaps(self, session_id: int) -> list[Gap]:
        rows = self._dicts("SELECT * FROM gaps WHERE session_id=? ORDER BY start_s", [session_id])
        return [Gap(r["start_s"], r["end_s"], r["reason"]) for r in rows]

    def _dicts(self, sql: str, args) -> list[dict]:
        cur = self.conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


class _transaction:
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


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; return the version found."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and (app != 0 or tables):
        raise SpasmCvError(f"{path} is not a spasm-cv monitor database")
    if version > SCHEMA_VERSION:
        raise SpasmCvError(
            f"{path} was written by a newer spasm-cv (database schema {version}, this version "
            f"reads up to {SCHEMA_VERSION}): update spasm-cv"
        )
    for v in range(version + 1, SCHEMA_VERSION + 1):
        with _transaction(conn):
            for statement in MIGRATIONS[v]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={v}")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    return version


def _event_values(e: Event) -> tuple:
    """The values of ``EVENT_COLUMNS`` as SQLite takes them (booleans 0/1, None NULL)."""
    values = []
    for c in EVENT_COLUMNS:
        v = getattr(e, c)
        if isinstance(v, np.generic):  # numpy scalars from the detector
            v = v.item()
        values.append(int(v) if isinstance(v, bool) else v)
    return tuple(values)


def _event_from_row(r: dict) -> Event:
    values = {c: r[c] for c in EVENT_COLUMNS}
    for c in ("brow_raised", "mouth_cocontraction"):
        values[c] = None if values[c] is None else bool(values[c])
    return Event(**values)


# ----------------------------------------------------------------------------- writer


def _jsonable(value):
    """numpy scalars (and anything else) for json.dumps."""
    return value.item() if isinstance(value, np.generic) else str(value)


class StoreError(SpasmCvError):
    """The store could not be written; the message says where the unsaved data went."""


class StoreWriter:
    """Writes one session's rows on its own thread, never dropping any.

    :meth:`submit` is non-blocking. A failed write (database locked, disk full, ...) keeps its
    rows, sets :attr:`error` and is retried (after 0.25 s doubling to 5 s, or sooner with the
    next submission); later rows are merged in. :meth:`close`
    writes the rest and ends the session; if the database still cannot be written after
    ``close_timeout_s``, the unsaved rows go to a JSON file and StoreError says where.
    """

    def __init__(
        self,
        store: Store,
        session_id: int,
        t0_wall: float,
        *,
        retry_s: tuple[float, float] = (0.25, 5.0),
        close_timeout_s: float = 10.0,
    ):
        self.store, self.session_id, self.t0_wall = store, session_id, t0_wall
        self.retry_s, self.close_timeout_s = retry_s, close_timeout_s
        self.error: str | None = None
        self.commits = 0
        self._pending = Batch()
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="spasm-cv-store", daemon=True)
        self._thread.start()

    @property
    def pending_rows(self) -> int:
        with self._cond:
            return len(self._pending)

    def submit(self, batch: Batch) -> None:
        if not len(batch) and batch.progress is None:
            return
        with self._cond:
            self._pending.merge(batch)
            self._cond.notify()

    def _take(self) -> Batch | None:
        with self._cond:
            while not len(self._pending) and self._pending.progress is None:
                if self._closing:
                    return None
                self._cond.wait()
            batch, self._pending = self._pending, Batch()
            return batch

    def _put_back(self, batch: Batch) -> None:
        with self._cond:
            batch.merge(self._pending)
            self._pending = batch

    def _write(self, batch: Batch) -> bool:
        try:
            self.store.write(self.session_id, self.t0_wall, batch)
        except Exception as exc:  # noqa: BLE001 - whatever it is, the rows are kept
            self.error = f"cannot write to {self.store.path}: {exc}"
            self._put_back(batch)
            return False
        self.error = None
        self.commits += 1
        return True

    def _run(self) -> None:
        delay = self.retry_s[0]
        while True:
            batch = self._take()
            if batch is None:
                return
            if self._write(batch):
                delay = self.retry_s[0]
                continue
            with self._cond:  # wait before retrying (wakes early when closing)
                if not self._closing:
                    self._cond.wait(delay)
            delay = min(delay * 2, self.retry_s[1])
            if self._closing:
                return

    def close(self, ended_at: float, reason: str, info: SessionInfo | None = None) -> None:
        """Write everything, mark the session ended; StoreError if data had to go elsewhere."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=self.close_timeout_s + 5)
        deadline = time.monotonic() + self.close_timeout_s
        ended = False
        while True:
            with self._cond:
                batch, self._pending = self._pending, Batch()
            try:
                if len(batch) or batch.progress is not None:
                    self.store.write(self.session_id, self.t0_wall, batch)
                self.store.end_session(self.session_id, ended_at, reason)
                ended = True
                self.error = None
                break
            except Exception as exc:  # noqa: BLE001 - kept, then dumped to JSON
                self.error = f"cannot write to {self.store.path}: {exc}"
                self._put_back(batch)
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.25)
        if not ended:
            path = self._dump(ended_at, reason, info)
            raise StoreError(
                f"{self.error}; the session's unsaved data ({self.pending_rows} rows) was "
                f"written to {path}" if path else f"{self.error}; unsaved data lost: "
                "could not write it anywhere"
            )

    def _dump(self, ended_at: float, reason: str, info: SessionInfo | None) -> Path | None:
        data = {
            "database": str(self.store.path),
            "session_id": self.session_id,
            "started_at": iso(self.t0_wall),
            "ended_at": iso(ended_at),
            "end_reason": reason,
            "session": asdict(info) if info else None,
            "unsaved": self._pending.to_json(),
        }
        name = f"{self.store.path.name}.unsaved-session{self.session_id}-{int(ended_at)}.json"
        text = json.dumps(data, indent=1, default=_jsonable) + "\n"
        for folder in (self.store.path.parent, Path(tempfile.gettempdir())):
            try:
                target = folder / name
                target.write_text(text)
                return target
            except OSError:
                continue
        return None


# ---------------------------------------------------------------------------- reports


def session_summary(
    session: dict, events: list[Event], minutes: list[MinuteRow], gaps: list[Gap]
) -> dict:
    """A summary.json-like dict of one stored session (the numbers of ``summarize``).

    Observed time and closed fractions come from the per-minute aggregates; event numbers from
    the stored events.
    """
    obs = float(sum(m.observed_s for m in minutes))
    by_side_obs = {s: float(sum(getattr(m, f"measured_s_{s}") for m in minutes)) for s in SIDES}
    closed = {}
    for s in SIDES:
        measured = by_side_obs[s]
        shut = sum(getattr(m, f"closed_s_{s}") for m in minutes)
        closed[s] = float(shut / measured) if measured > 0 else None
    start = from_iso(session["started_at"])
    end_text = session["ended_at"] or session["last_write_at"] or session["started_at"]
    duration = max((from_iso(end_text) - start).total_seconds(), 0.0)
    frames = int(sum(m.frames for m in minutes))
    face = int(sum(m.face_frames for m in minutes))
    unavailable = float(sum(m.unavailable_s for m in minutes))
    settings = json.loads(session["settings"])
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "software": {"name": "spasm-cv", "version": session["software_version"]},
        "model": {"name": session["model_name"], "sha256": session["model_sha256"]},
        "input": {
            "name": session["source"],
            "kind": session["source_kind"],
            "fps": session["fps"],
            "width": session["width"],
            "height": session["height"],
            "mirrored": bool(session["mirrored"]),
        },
        "complete": session["ended_at"] is not None,
        "fps": session["fps"],
        "duration_s": duration,
        "frames": frames,
        "quality": {
            "face_frames": face,
            "no_face_frames": frames - face,
            "multi_face_frames": int(sum(m.multi_face_frames for m in minutes)),
            "followed_face": FOLLOWED_FACE,
            "tracker_restart_s": settings.get("tracker_restart_s"),
            "truncated": False,
            "dropped_frames": int(sum(m.dropped_frames for m in minutes)),
            "unavailable_s": unavailable,
            "gaps": len(gaps),
        },
        "params": settings.get("params", {}),
        "recorded_at": start.isoformat(),
        "observed_s": obs,
        "observed_s_by_side": by_side_obs,
        **event_numbers(events, obs, closed),
        "observed_fraction": obs / duration if duration > 0 else 0.0,
        "monitor": {
            "session_id": session["id"],
            "end_reason": session["end_reason"],
            "gaps": len(gaps),
            "unavailable_s": unavailable,
            "settings": settings,
        },
    }


def minutes_columns(minutes: list[MinuteRow]) -> dict[str, np.ndarray]:
    """Per-minute aggregates as the report's columns (``start`` as aware datetimes)."""
    out: dict[str, np.ndarray] = {
        "start": np.array(
            [datetime.fromtimestamp(m.minute_start, timezone.utc) for m in minutes], dtype=object
        )
    }
    for name in MINUTE_FIELDS[1:]:
        out[name] = np.array([getattr(m, name) for m in minutes], dtype=float)
    for s in SIDES:
        out[f"closed_fraction_{s}"] = np.array(
            [np.nan if m.closed_fraction(s) is None else m.closed_fraction(s) for m in minutes]
        )
    return out


def _day_bounds(
    date_from: date | None, date_to: date | None, tz: tzinfo | None
) -> tuple[str | None, str | None]:
    tz = tz or datetime.now().astimezone().tzinfo

    def utc(d: date) -> str:
        return iso(datetime.combine(d, datetime.min.time(), tz).timestamp())

    return (
        utc(date_from) if date_from else None,
        utc(date_to + timedelta(days=1)) if date_to else None,
    )


def load_recordings(
    db: str | os.PathLike,
    date_from: date | None = None,
    date_to: date | None = None,
    tz: tzinfo | None = None,
) -> list[Recording]:
    """Monitor sessions stored in ``db`` as report recordings, oldest first.

    ``date_from``/``date_to`` (inclusive) select sessions by the local date (time zone ``tz``,
    default this computer's) they started on. Sessions whose process died count up to their
    last write (``summary["complete"]`` is False).
    """
    lo, hi = _day_bounds(date_from, date_to, tz)
    with Store(db, create=False) as store:
        out = []
        for s in store.sessions(lo, hi):
            sid = s["id"]
            events, minutes, gaps = store.events(sid), store.minutes(sid), store.gaps(sid)
            start = from_iso(s["started_at"]).astimezone(timezone.utc)
            out.append(
                Recording(
                    name=f"monitor session {s['id']} ({s['source']})",
                    summary=session_summary(s, events, minutes, gaps),
                    events=events,
                    start=start,
                    signals=None,
                    minutes=minutes_columns(minutes),
                    source="monitor",
                    path=str(Path(db)),
                    meta={"session_id": s["id"], "gaps": [asdict(g) for g in gaps]},
                )
            )
        return out
