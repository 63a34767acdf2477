"""``Recording``: one analysed recording as the report and export code see it.

A recording comes from a result folder of ``spasm-cv analyze`` (:func:`load_recording`) or
from a session of ``spasm-cv monitor`` stored in SQLite. Both give the same summary keys
(see summary.json) and the same events; per-frame signals exist only for result folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import Event
from spasm_cv.results.files import read_events, read_signals_table, read_summary


@dataclass
class Recording:
    """An analysed recording.

    ``start`` is the wall-clock start when known (monitor sessions; for a file, its
    modification time minus its duration is a guess, so None). ``signals`` maps the columns
    of signals.csv.gz to arrays, or is None (monitor sessions keep per-minute aggregates in
    ``minutes`` instead: columns ``start`` (datetime), ``observed_s``, ``episodes``,
    ``blinks``, ``closed_fraction_right``/``_left``).
    """

    name: str
    summary: dict
    events: list[Event]
    start: datetime | None = None
    signals: dict[str, np.ndarray] | None = None
    minutes: dict[str, np.ndarray] | None = None
    source: str = "analyze"
    path: str | None = None
    meta: dict = field(default_factory=dict)


def load_recording(result_dir: str | os.PathLike, with_signals: bool = True) -> Recording:
    """Read a result folder written by ``spasm-cv analyze``; SpasmCvError if it is not one."""
    p = Path(result_dir)
    if not p.is_dir():
        raise SpasmCvError(f"not a result folder: {p}")
    summary = read_summary(p)
    if "schema_version" not in summary or "episodes" not in summary:
        raise SpasmCvError(f"{p / 'summary.json'} is not a spasm-cv summary")
    start = summary.get("recorded_at")
    return Recording(
        name=summary.get("input", {}).get("name", p.name),
        summary=summary,
        events=read_events(p),
        start=datetime.fromisoformat(start).astimezone(timezone.utc) if start else None,
        signals=read_signals_table(p) if with_signals else None,
        source="analyze",
        path=str(p),
    )
