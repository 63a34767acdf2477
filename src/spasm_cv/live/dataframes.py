"""``spasm_cv.load_db``: the monitor's SQLite store as pandas DataFrames, opened read-only.

Every table is read with ``SELECT *`` and typed by its declared SQLite column type, so
columns added by a later schema version come through: ``INTEGER`` -> ``Int64``, ``REAL`` ->
``float64``, ``TEXT`` -> ``string``; wall-clock columns (``*_at``, ``minute_start``) ->
``datetime64[ns, UTC]``; yes/no columns (stored 1/0) -> ``boolean``; ``settings`` (JSON) ->
dicts. The database is opened read-only (``mode=ro``): a running monitor can go on writing,
and nothing is migrated or changed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES
from spasm_cv.live.rows import check_row
from spasm_cv.live.schema import APPLICATION_ID, BUSY_TIMEOUT_S, check_readable, iso

if TYPE_CHECKING:
    import pandas as pd

# columns stored as 0/1 that mean yes/no
BOOLEAN_COLUMNS = frozenset({"mirrored", *(c for c in EVENT_FIELDS if FIELD_TYPES[c] == "bool")})
TIME_COLUMNS = frozenset({"minute_start"})  # besides every column ending in _at


@dataclass
class MonitorData:
    """The monitor's store as DataFrames (see the README's "monitor database" section).

    Attributes
    ----------
    sessions : DataFrame
        One row per session (``session_id``, ``started_at``, ``ended_at``, ``source``,
        ``fps``, ``mirrored``, ``settings`` (dict), software and model, frames, ...).
    events : DataFrame
        Every stored event: ``session_id``, the events.tsv columns (``onset`` in session
        seconds), ``onset_at`` (wall clock, UTC), ``stored_at``, ``clip``.
    episodes : DataFrame
        The one-sided eye episodes (what rates count): ``spasm`` rows of ``events`` whose
        regions include the eye.
    minutes : DataFrame
        Per-minute aggregates: ``session_id``, ``minute_start`` (UTC), observed seconds,
        measured and closed seconds per eye, events counted, quality counters.
    gaps : DataFrame
        Stretches without frames from the source: ``session_id``, ``start_s``, ``end_s``,
        ``started_at``, ``ended_at``, ``reason``.
    schema_version : int
        The database's schema version (``PRAGMA user_version``).
    """

    sessions: pd.DataFrame
    events: pd.DataFrame
    episodes: pd.DataFrame
    minutes: pd.DataFrame
    gaps: pd.DataFrame
    schema_version: int

    def __repr__(self) -> str:
        return (
            f"MonitorData({len(self.sessions)} sessions, {len(self.episodes)} episodes, "
            f"{len(self.minutes)} minutes; schema {self.schema_version})"
        )


def _bound(value: datetime | date | str | None, end: bool) -> str | None:
    """A ``since``/``until`` bound as the store's ISO UTC text (naive: local time)."""
    if value is None:
        return None
    if not isinstance(value, (datetime, date, str)):
        raise SpasmCvError(f"since/until: not a date, datetime or ISO text: {value!r:.40}")
    if isinstance(value, str):
        try:
            value = (
                datetime.fromisoformat(value)
                if "T" in value or " " in value
                else (date.fromisoformat(value))
            )
        except ValueError:
            raise SpasmCvError(f"not an ISO date or date/time: {value!r}") from None
    if not isinstance(value, datetime):  # a whole day: until includes it
        value = datetime.combine(value + timedelta(days=1 if end else 0), time.min)
    if value.tzinfo is None:
        value = value.astimezone()  # local time
    return iso(value.timestamp())


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SpasmCvError(f"no monitor database at {path}")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise SpasmCvError(f"cannot read database {path}: {exc}") from None
    if app != APPLICATION_ID:
        conn.close()
        raise SpasmCvError(f"{path} is not a spasm-cv monitor database")
    try:
        check_readable(version, path)
    except SpasmCvError:
        conn.close()
        raise
    return conn


def _frame(
    conn: sqlite3.Connection, table: str, where: str, args: list, path: Path
) -> pd.DataFrame:
    import pandas as pd

    declared = {r[1]: (r[2] or "").upper() for r in conn.execute(f"PRAGMA table_info({table})")}
    cur = conn.execute(f"SELECT * FROM {table} {where}", args)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    for row in rows:  # every row fits its table's schema (live/rows.py)
        check_row(table, dict(zip(names, row, strict=True)), path)
    columns = {}
    for j, name in enumerate(names):
        values = [r[j] for r in rows]
        kind = declared.get(name, "")
        if name.endswith("_at") or name in TIME_COLUMNS:
            when = pd.to_datetime(pd.Series(values, dtype="object"), utc=True, format="ISO8601")
            columns[name] = when.astype("datetime64[ns, UTC]")
        elif name in BOOLEAN_COLUMNS:
            columns[name] = pd.array(
                [None if v is None else bool(v) for v in values], dtype="boolean"
            )
        elif name == "settings":
            columns[name] = pd.Series(
                [json.loads(v) if v else None for v in values], dtype="object"
            )
        elif "INT" in kind:
            columns[name] = pd.array(values, dtype="Int64")
        elif "REAL" in kind:
            columns[name] = pd.array(
                [float("nan") if v is None else v for v in values], dtype="float64"
            )
        else:
            columns[name] = pd.array(values, dtype="string")
    df = pd.DataFrame(columns, columns=names)
    return df.rename(columns={"id": "session_id"}) if table == "sessions" else df


def load_db(
    path: str | os.PathLike,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
) -> MonitorData:
    """Read the monitor's SQLite store as pandas DataFrames (read-only).

    Parameters
    ----------
    path : str or path
        The database ``spasm-cv monitor`` wrote (``--db``; by default
        ``~/.local/share/spasm-cv/spasm-cv.sqlite``).
    since, until : datetime, date or ISO string, optional
        Only sessions that started at or after ``since`` and before ``until`` (a date:
        up to the end of that day). Naive values are local time.

    Returns
    -------
    MonitorData
        ``sessions``, ``events``, ``episodes``, ``minutes`` and ``gaps`` DataFrames of the
        selected sessions, and the database's ``schema_version``.

    Raises
    ------
    SpasmCvError
        No such file, not a spasm-cv monitor database, written by a newer version, or a
        row out of its table's schema (:mod:`spasm_cv.live.rows`).

    Examples
    --------
    >>> import spasm_cv
    >>> db = spasm_cv.load_db("monitor.sqlite", since="2026-01-05")
    >>> db.sessions[["session_id", "source_kind", "mirrored"]]
       session_id source_kind  mirrored
    0           1        file     False
    >>> int(db.episodes["side"].eq("right").sum()), str(db.minutes["minute_start"].dtype)
    (8, 'datetime64[ns, UTC]')
    """
    p = Path(path)
    lo, hi = _bound(since, end=False), _bound(until, end=True)
    conn = _connect(p)
    try:
        where, args = "WHERE 1=1", []
        if lo is not None:
            where, args = where + " AND started_at >= ?", [*args, lo]
        if hi is not None:
            where, args = where + " AND started_at < ?", [*args, hi]
        sessions = _frame(conn, "sessions", where + " ORDER BY started_at, id", args, p)
        ids = [int(i) for i in sessions["session_id"]]
        marks = ",".join("?" * len(ids))
        sel = f"WHERE session_id IN ({marks})" if ids else "WHERE 0"
        events = _frame(conn, "events", sel + " ORDER BY session_id, onset", ids, p)
        # events.tsv's order, whatever order later schema versions added columns in
        first = ["session_id", *[c for c in EVENT_FIELDS if c in events.columns]]
        events = events[first + [c for c in events.columns if c not in first]]
        minutes = _frame(conn, "minutes", sel + " ORDER BY session_id, minute_start", ids, p)
        gaps = _frame(conn, "gaps", sel + " ORDER BY session_id, start_s", ids, p)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise SpasmCvError(f"cannot read database {p}: {exc}") from None
    finally:
        conn.close()
    eye = (events["trial_type"] == "spasm") & events["regions"].str.contains("eye")
    episodes = events[eye.fillna(False).astype(bool)].reset_index(drop=True)
    return MonitorData(sessions, events, episodes, minutes, gaps, int(version))
