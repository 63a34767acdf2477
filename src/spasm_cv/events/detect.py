"""Offline detection: a whole recording's signals to events, in two stages.

``compute_activity`` (causal baselines) then ``find_events`` (regions to episodes). The
streaming detector in :mod:`spasm_cv.events.stream` runs the same two functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spasm_cv.events.activity import Activity, compute_activity
from spasm_cv.events.episodes import find_events
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import Event
from spasm_cv.signals.table import Signals


@dataclass
class Detection:
    events: list[Event]
    activity: Activity
    fps: float
    params: DetectionParams

    @property
    def spasms(self) -> list[Event]:
        return [e for e in self.events if e.trial_type == "spasm"]


def nominal_fps(signals: Signals) -> float:
    """The frame rate windows are sized with: the container's, else the median frame rate."""
    fps = signals.meta.get("fps")
    if fps and np.isfinite(fps) and fps > 0:
        return float(fps)
    return signals.fps


def detect(signals: Signals, params: DetectionParams | None = None) -> Detection:
    """Detect one-sided episodes and blinks in a recording's signals."""
    params = params or DetectionParams()
    fps = nominal_fps(signals)
    activity = compute_activity(signals.time, signals.columns, fps, params)
    return Detection(find_events(activity, fps, params), activity, fps, params)
