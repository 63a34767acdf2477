"""One connection to the monitor's SQLite file: sessions, events, minutes and gaps in and out.

:class:`Store` writes a :class:`Batch` of rows in one transaction (idempotent: rows are keyed,
snapshots replace older ones) and reads a session's rows back. The schema and migrations are
in :mod:`spasm_cv.live.schema`; the thread that writes while a session runs is
:class:`~spasm_cv.live.writer.StoreWriter`; reading sessions for reports is
:mod:`spasm_cv.live.sessions`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spasm_cv._secrets import scrub
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, Event
from spasm_cv.live.frames import Gap
from spasm_cv.live.minutes import MINUTE_FIELDS, MinuteRow
from spasm_cv.live.new_store import create_store
from spasm_cv.live.rows import EventRow, check_row
from spasm_cv.live.schema import (
    APPLICATION_ID,
    BUSY_TIMEOUT_S,
    check_readable,
    from_iso,
    iso,
    migrate,
    transaction,
)
from spasm_cv.results.files import event_record


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


class Store:
    """One connection to the SQLite store (use from one thread at a time).

    Opening creates the file (and its folder) if needed, readable by its owner only (file
    ``0600``, new folders ``0700``; an existing file keeps its mode), and migrates older
    schemas; a file that is not a spasm-cv store, or is from a newer version, raises
    SpasmCvError. Text that may quote a stream address (source, gap reasons, end reason) is
    stored without its credentials (:func:`~spasm_cv._secrets.scrub`).

    ``read_only=True`` (what reports use) never writes: the file's header is checked first
    (a SQLite file whose application id is spasm-cv's), without SQLite touching it, then it
    is opened with the URI ``mode=ro``; nothing is created, migrated or switched to WAL, so a
    file that is not a spasm-cv store is left byte for byte as it was.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, read_only: bool = False):
        self.path = Path(path)
        if read_only:
            self.conn = _open_read_only(self.path)
            return
        if not create and not self.path.is_file():
            raise SpasmCvError(f"no monitor database at {self.path}")
        if create and not os.path.lexists(self.path):
            create_store(self.path)
        # anything else at the path (an empty or text file, another program's database, a
        # folder) is refused and left untouched (never switched to WAL)
        check_store_header(self.path, allow_blank=True)
        try:
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
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT INTO sessions (started_at, last_write_at, source, source_kind, fps, width,"
                " height, mirrored, settings, software_version, model_name, model_sha256)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    iso(info.started_at),
                    iso(time.time()),
                    scrub(info.source),
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
        with transaction(c):
            for e in batch.events.values():
                c.execute(
                    f"INSERT OR IGNORE INTO events (session_id, {', '.join(EVENT_FIELDS)}, "
                    f"onset_at, stored_at) VALUES ({', '.join('?' * (len(EVENT_FIELDS) + 3))})",
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
                        scrub(g.reason),
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
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE sessions SET ended_at=?, last_write_at=?, end_reason=? WHERE id=?",
                (iso(ended_at), iso(time.time()), scrub(reason), session_id),
            )

    # -- reading -----------------------------------------------------------------------

    def sessions(self, started_from: str | None = None, started_before: str | None = None):
        """Session rows (dicts), oldest first, optionally by ``started_at`` ISO bounds."""
        sql, args = "SELECT * FROM sessions WHERE 1=1", []
        if started_from is not None:
            sql, args = sql + " AND started_at >= ?", [*args, started_from]
        if started_before is not None:
            sql, args = sql + " AND started_at < ?", [*args, started_before]
        return self._dicts("sessions", sql + " ORDER BY started_at, id", args)

    def events(self, session_id: int) -> list[Event]:
        where = f"{self.path}: events of session {session_id}"
        return [Event(**EventRow.event(r, where).model_dump()) for r in self.event_rows(session_id)]

    def event_rows(self, session_id: int) -> list[dict]:
        sql = "SELECT * FROM events WHERE session_id=? ORDER BY onset"
        return self._dicts("events", sql, [session_id])

    def minutes(self, session_id: int) -> list[MinuteRow]:
        rows = self._dicts(
            "minutes",
            "SELECT * FROM minutes WHERE session_id=? ORDER BY minute_start",
            [session_id],
        )
        out = []
        for r in rows:
            values = {f: r[f] for f in MINUTE_FIELDS[1:]}
            out.append(MinuteRow(from_iso(r["minute_start"]).timestamp(), **values))
        return out

    def gaps(self, session_id: int) -> list[Gap]:
        sql = "SELECT * FROM gaps WHERE session_id=? ORDER BY start_s"
        rows = self._dicts("gaps", sql, [session_id])
        return [Gap(r["start_s"], r["end_s"], r["reason"]) for r in rows]

    def _dicts(self, table: str, sql: str, args) -> list[dict]:
        """Rows of ``table``, each checked against its schema (:mod:`spasm_cv.live.rows`)."""
        cur = self.conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [
            check_row(table, dict(zip(names, row, strict=True)), self.path)
            for row in cur.fetchall()
        ]


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_header(path: Path, allow_blank: bool = False) -> bool:
    """Refuse a file that is not a spasm-cv store, from its header bytes alone.

    A SQLite file starts with ``SQLite format 3\\0``; its application id is the big-endian
    32-bit number at byte 68 (:data:`~spasm_cv.live.schema.APPLICATION_ID` for a store).
    ``allow_blank``: a SQLite file with no schema at all (schema cookie, byte 40, zero) is
    accepted too (a store whose creation was cut short).

    Returns False when the bytes cannot tell: a write-ahead log beside a WAL-mode file (or
    an empty one) holds pages not yet copied into it (a monitor killed mid-session); the
    caller then asks SQLite, read-only, for the application id (:func:`_check_app_id`).
    """
    if not path.exists():
        raise SpasmCvError(f"no monitor database at {path}")
    if not path.is_file():
        raise SpasmCvError(f"not a monitor database (a folder): {path}")
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise SpasmCvError(f"cannot read database {path}: {exc.strerror or exc}") from None
    wal = path.with_name(path.name + "-wal")
    pending = wal.is_file() and wal.stat().st_size > 0
    if not head:
        if pending:
            return False
        raise SpasmCvError(f"{path} is an empty file, not a spasm-cv monitor database")
    if not head.startswith(SQLITE_MAGIC) or len(head) < 72:
        raise SpasmCvError(f"{path} is not a spasm-cv monitor database (not SQLite)")
    app, cookie = int.from_bytes(head[68:72], "big"), int.from_bytes(head[40:44], "big")
    if app == APPLICATION_ID or (allow_blank and app == 0 and cookie == 0):
        return True
    if pending and head[18:20] == b"\x02\x02":  # WAL mode: newer pages in the log
        return False
    raise SpasmCvError(f"{path} is not a spasm-cv monitor database")


def _check_app_id(conn: sqlite3.Connection, path: Path) -> None:
    """The application id as SQLite sees it (through the write-ahead log)."""
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and (app != 0 or tables):
        conn.close()
        raise SpasmCvError(f"{path} is not a spasm-cv monitor database")


def _connect(uri: str) -> sqlite3.Connection:
    """A connection to ``uri`` that has read the schema (closed again if it cannot)."""
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write: URI ``mode=ro`` (``immutable=1`` where the folder is
    read-only and no write-ahead log exists, so no writer can be at work)."""
    verified = check_store_header(path)
    uri = path.resolve().as_uri()
    try:
        conn = _connect(f"{uri}?mode=ro")
    except sqlite3.Error as exc:
        wal = path.with_name(path.name + "-wal")
        if wal.exists() or os.access(path.parent, os.W_OK):
            raise SpasmCvError(f"cannot read database {path}: {exc}") from None
        try:  # a WAL store in a read-only folder: SQLite cannot make its shared-memory file
            conn = _connect(f"{uri}?mode=ro&immutable=1")
        except sqlite3.Error as exc2:
            raise SpasmCvError(f"cannot read database {path}: {exc2}") from None
    if not verified:
        _check_app_id(conn, path)
    try:
        check_readable(conn.execute("PRAGMA user_version").fetchone()[0], path)
    except SpasmCvError:
        conn.close()
        raise
    return conn


def _event_values(e: Event) -> tuple:
    """The values of the events.tsv columns as SQLite takes them (booleans 0/1, None NULL),
    checked against events.tsv's schema first (:func:`~spasm_cv.results.files.event_record`)."""
    record = event_record(e)
    values = [getattr(record, c) for c in EVENT_FIELDS]
    return tuple(int(v) if isinstance(v, bool) else v for v in values)
