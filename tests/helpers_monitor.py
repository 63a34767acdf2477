"""A monitor database made without a camera: a session's rows written through the Store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from spasm_cv.events.table import Event
from spasm_cv.live.minutes import MinuteAggregator
from spasm_cv.live.store import Batch, SessionInfo, Store


def write_session(
    db: Path,
    events: Sequence[Event],
    start: datetime,
    seconds: float = 60.0,
    fps: float = 25.0,
    source: str = "file sample_phantom.mp4",
    source_kind: str = "file",
    params: dict | None = None,
) -> int:
    """Store one finished session of ``seconds`` with ``events`` (face seen throughout)."""
    t0 = start.timestamp()
    with Store(db) as store:
        info = SessionInfo(
            t0,
            source,
            source_kind,
            fps,
            640,
            480,
            False,
            {"params": params or {}},
            "test",
            "model",
            "sha",
        )
        sid = store.begin_session(info)
        agg = MinuteAggregator(t0, fps)
        for i in range(int(seconds * fps)):
            agg.frame(i / fps, True, 1, {"right": True, "left": True}, {"right": 0.0, "left": 0.0})
        agg.finish()
        for e in events:
            agg.event(e)
        store.write(sid, t0, Batch.of(events=events, minutes=agg.take_dirty()))
        store.end_session(sid, t0 + seconds, "test")
    return sid
