"""Offline detection: a whole recording's signals to events, in two stages.

``compute_activity`` (causal baselines) then ``find_events`` (regions to episodes). The
streaming detector in :mod:`spasm_cv.events.stream` runs the same two functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spasm_cv.events.activity import Activity, compute_activity
from spasm_cv.events.decide import Decider, load_model
from spasm_cv.events.episodes import find_events
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import Event
from spasm_cv.signals.table import Signals


@dataclass
class Detection:
    """What :func:`detect` found in one recording.

    Attributes
    ----------
    events : list of Event
        Every event (one-sided ``spasm`` episodes, eye or mouth-only; ``blink``;
        ``bilateral_closure``), sorted by onset; times in seconds from the first frame.
    activity : Activity
        The per-frame, per-side activity the events were found in (closure relative to each
        eye's own baseline, mouth and brow movement, which frames each side was measurable).
    fps : float
        Nominal frame rate the windows were sized with, frames per second.
    params : DetectionParams
        The parameters used.
    model : Decider
        What decided which candidates are episodes (its provenance goes into summary.json).
    """

    events: list[Event]
    activity: Activity
    fps: float
    params: DetectionParams
    model: Decider

    @property
    def spasms(self) -> list[Event]:
        """The one-sided ``spasm`` events (eye episodes and mouth-only events)."""
        return [e for e in self.events if e.trial_type == "spasm"]

    @property
    def episodes(self) -> list[Event]:
        """The one-sided eye episodes (what episode counts and rates count)."""
        return [e for e in self.events if e.is_episode]


def nominal_fps(signals: Signals) -> float:
    """The frame rate windows are sized with: the container's, else the median frame rate."""
    fps = signals.meta.get("fps")
    if fps and np.isfinite(fps) and fps > 0:
        return float(fps)
    return signals.fps


def detect(
    signals: Signals, params: DetectionParams | None = None, model: Decider | None = None
) -> Detection:
    """Detect one-sided episodes and blinks in a recording's signals.

    Two stages: :func:`~spasm_cv.events.activity.compute_activity` turns the raw per-side
    signals into closure and movement relative to causal baselines, then
    :func:`~spasm_cv.events.episodes.find_events` finds contractions, groups them into
    episodes and finds two-sided closures (blinks). The streaming detector
    (:class:`~spasm_cv.events.stream.StreamingDetector`) runs the same two stages and, fed a
    whole recording, gives the same events.

    Parameters
    ----------
    signals : Signals
        Per-frame signals of one recording (from the landmark stage, or
        :func:`spasm_cv.read_signals` of a result folder); sides are the patient's.
    params : DetectionParams, optional
        Detection parameters (default: ``DetectionParams()``).
    model : Decider, optional
        What decides whether a candidate is an episode and with what confidence (default:
        the packaged rule, see :mod:`spasm_cv.events.decide`).

    Returns
    -------
    Detection
        Events, per-frame activity, the frame rate used and the parameters.

    Notes
    -----
    Windows are sized with the container's frame rate (``signals.meta["fps"]``), else the
    median frame rate of the signals (see :func:`nominal_fps`).

    Examples
    --------
    >>> import spasm_cv
    >>> signals = spasm_cv.read_signals("sample_phantom.spasm-cv")  # doctest: +SKIP
    >>> [e.side for e in spasm_cv.detect(signals).episodes]  # doctest: +SKIP
    ['right', 'right', ...]
    """
    params = params or DetectionParams()
    fps = nominal_fps(signals)
    activity = compute_activity(signals.time, signals.columns, fps, params)
    model = model or load_model()
    return Detection(find_events(activity, fps, params, model), activity, fps, params, model)
