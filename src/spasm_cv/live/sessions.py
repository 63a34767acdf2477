"""Stored monitoring sessions as :class:`~spasm_cv.results.recording.Recording` objects.

What ``spasm-cv report --db`` reads: each session's events, per-minute aggregates and gaps,
with a :class:`~spasm_cv.results.summary.Summary` whose observed time and closed fractions
come from the per-minute aggregates and whose event numbers come from the stored events.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta, timezone, tzinfo

import numpy as np

from spasm_cv._secrets import scrub
from spasm_cv.events.table import SIDES, Event
from spasm_cv.live.frames import Gap
from spasm_cv.live.minutes import MINUTE_FIELDS, MinuteRow
from spasm_cv.live.schema import from_iso, iso
from spasm_cv.live.store import Store
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Coverage, Summary
from spasm_cv.results.track import Minutes


def session_summary(
    session: dict, events: list[Event], minutes: list[MinuteRow], gaps: list[Gap]
) -> Summary:
    """The summary of one stored session (``session``: its row of ``sessions``).

    Observed time and closed fractions come from the per-minute aggregates; event numbers
    from the stored events.
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
    return Summary.of_session(
        events=events,
        cover=Coverage(obs, by_side_obs, closed),
        session=session,
        settings=json.loads(session["settings"]),
        started=start,
        duration_s=duration,
        frames=frames,
        face_frames=int(sum(m.face_frames for m in minutes)),
        multi_face_frames=int(sum(m.multi_face_frames for m in minutes)),
        dropped_frames=int(sum(m.dropped_frames for m in minutes)),
        unavailable_s=float(sum(m.unavailable_s for m in minutes)),
        gaps=len(gaps),
    )


def minutes_columns(minutes: list[MinuteRow]) -> Minutes:
    """Per-minute aggregates as a :class:`~spasm_cv.results.track.Minutes` (``start`` as
    aware datetimes)."""
    columns: dict[str, np.ndarray] = {}
    for name in MINUTE_FIELDS[1:]:
        columns[name] = np.array([getattr(m, name) for m in minutes], dtype=float)
    for s in SIDES:
        columns[f"closed_fraction_{s}"] = np.array(
            [np.nan if m.closed_fraction(s) is None else m.closed_fraction(s) for m in minutes]
        )
    return Minutes(
        start=np.array(
            [datetime.fromtimestamp(m.minute_start, timezone.utc) for m in minutes], dtype=object
        ),
        observed_s=columns.pop("observed_s"),
        columns=columns,
    )


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
    last write (``summary.complete`` is False).
    """
    lo, hi = _day_bounds(date_from, date_to, tz)
    with Store(db, read_only=True) as store:  # a reader never writes
        out = []
        for s in store.sessions(lo, hi):
            # a database of an older version may hold a stream address with its password
            s = {
                **s,
                "source": scrub(s["source"]),
                "end_reason": s["end_reason"] and scrub(s["end_reason"]),
            }
            sid = s["id"]
            events, minutes = store.events(sid), store.minutes(sid)
            gaps = [replace(g, reason=scrub(g.reason)) for g in store.gaps(sid)]
            start = from_iso(s["started_at"]).astimezone(timezone.utc)
            out.append(
                Recording.from_session(
                    session_id=sid,
                    source=s["source"],
                    start=start,
                    summary=session_summary(s, events, minutes, gaps),
                    events=events,
                    minutes=minutes_columns(minutes),
                    db_path=db,
                    gaps=[asdict(g) for g in gaps],
                )
            )
        return out
