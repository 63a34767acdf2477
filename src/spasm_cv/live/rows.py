"""What a row of the monitor database may hold: one schema per table, checked on reading.

Every reader of the store (:class:`~spasm_cv.live.store.Store` for reports and exports,
:func:`~spasm_cv.live.dataframes.load_db`) checks each row it reads with :func:`check_row`;
a value out of its type, range or vocabulary (``started_at`` ``garbage``, ``side`` ``up``, a
NaN observed time) is a one-line SpasmCvError naming the database, the table, the row and
the column. Events hold the columns of events.tsv and are checked with its schema
(:class:`~spasm_cv.results.schemas.EventRecord`), booleans stored as 0/1.

Columns a later schema version adds are kept (``extra="allow"``); a column an older version
lacks takes its default (``events.context``: None).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, create_model, field_validator

from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES
from spasm_cv.live.minutes import MinuteRow
from spasm_cv.results.schemas import (
    AwareIsoTime,
    Count,
    EventRecord,
    Fps,
    Fraction,
    Schema,
    Seconds,
    check,
)

MinuteSeconds = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=120.0)]
SessionId = Annotated[int, Field(ge=1)]
Flag = Literal[0, 1]


class Row(Schema):
    """A row of the store: strict types; columns of a later schema version kept."""

    model_config = ConfigDict(extra="allow")


class SessionRow(Row):
    id: SessionId
    started_at: AwareIsoTime
    ended_at: AwareIsoTime | None = None
    last_write_at: AwareIsoTime | None = None
    end_reason: str | None = None
    source: str
    source_kind: Literal["camera", "stream", "file"]
    fps: Fps
    width: Count | None = None
    height: Count | None = None
    mirrored: Flag
    settings: str
    software_version: str
    model_name: str
    model_sha256: str
    frames: Count = 0
    dropped_frames: Count = 0

    @field_validator("settings")
    @classmethod
    def _json_object(cls, v: str) -> str:
        try:
            value = json.loads(v)
        except (json.JSONDecodeError, RecursionError):
            raise ValueError("not JSON") from None
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return v


_BOOLS = tuple(c for c in EVENT_FIELDS if FIELD_TYPES[c] == "bool")


class EventRow(Row):
    """A row of ``events``: an event (events.tsv's schema) of a session, and when."""

    session_id: SessionId
    onset_at: AwareIsoTime
    stored_at: AwareIsoTime
    clip: str | None = None

    @classmethod
    def event(cls, row: dict, where: str) -> EventRecord:
        """The event of a checked row (booleans stored 0/1)."""
        values = {c: row[c] for c in EVENT_FIELDS if c in row}
        for c in _BOOLS:
            if values.get(c) in (0, 1) and not isinstance(values[c], bool):
                values[c] = bool(values[c])
        return check(EventRecord, values, where)


# a row of ``minutes``: MinuteRow's numbers (seconds within a minute, counts), and two
# fractions written beside them
MinuteRecord = create_model(
    "MinuteRecord",
    __base__=Row,
    session_id=(SessionId, ...),
    minute_start=(AwareIsoTime, ...),
    closed_fraction_right=(Fraction | None, None),
    closed_fraction_left=(Fraction | None, None),
    **{
        f.name: (MinuteSeconds if f.type == "float" else Count, ...)
        for f in fields(MinuteRow)
        if f.name != "minute_start"
    },
)


class GapRow(Row):
    session_id: SessionId
    start_s: Seconds
    end_s: Seconds | None = None
    started_at: AwareIsoTime
    ended_at: AwareIsoTime | None = None
    reason: str


ROW_SCHEMAS: dict[str, type[Row]] = {  # type: ignore[dict-item]
    "sessions": SessionRow,
    "events": EventRow,
    "episodes": EventRow,
    "minutes": MinuteRecord,
    "gaps": GapRow,
}


def check_row(table: str, row: dict[str, Any], path: object) -> dict[str, Any]:
    """``row`` of ``table`` if it fits the table's schema (events: and events.tsv's).

    Raises
    ------
    SpasmCvError
        ``"<path>: <table> row <key>: <column>: <problem>"``.
    """
    key = row.get("id", row.get("session_id", "?"))
    where = f"{path}: {table} row of session {key}"
    check(ROW_SCHEMAS[table], row, where)
    if ROW_SCHEMAS[table] is EventRow:
        EventRow.event(row, where)
    return row
