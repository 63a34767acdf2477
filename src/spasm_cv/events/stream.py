"""Streaming detection: frames in, final events out, at most ~1 s after each event ends.

The streaming detector runs the offline stages themselves: the causal activity stage
(:class:`~spasm_cv.events.activity.ActivityStage`) continues chunk by chunk, and the event
stage (:func:`~spasm_cv.events.episodes.find_events`) is re-run over a buffer that starts at
a quiet moment (no closure, no mouth pull, on either side, for longer than the merge gap).
Fed a whole recording, it reports exactly the offline events, as long as no activity lasts
longer than ``max_buffer_s`` without a quiet moment (then it cuts anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from spasm_cv.events.activity import Activity, ActivityStage
from spasm_cv.events.decide import Decider, load_model
from spasm_cv.events.episodes import find_events, mouth_pull
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import Event
from spasm_cv.signals.geometry import SIDES


@dataclass(frozen=True)
class StreamUpdate:
    """What one :meth:`StreamingDetector.push` gives back.

    Attributes
    ----------
    events : list of Event
        The events that became final with these frames, in onset order (often none).
    activity : Activity
        The activity of the pushed frames themselves (closure, movement and measurability
        per side, one entry per frame): what a live display or per-minute aggregate needs,
        without running the causal stage a second time.
    """

    events: list[Event]
    activity: Activity


class StreamingDetector:
    """Feed frames with :meth:`push`; get each event once, when it can no longer change.

    Parameters
    ----------
    fps : nominal frame rate of the source, frames per second (must match what the
        offline detector would use for the same recording to get identical events).
    params : detection parameters.
    max_buffer_s : longest stretch of continuous activity kept before a forced cut.
    step_s : the event stage runs at most this often (seconds of stream time); it adds at
        most ``step_s`` to the reporting delay.
    model : what decides whether a candidate is an episode (default: the packaged model).
    """

    def __init__(
        self,
        fps: float,
        params: DetectionParams | None = None,
        max_buffer_s: float = 300.0,
        step_s: float = 0.1,
        model: Decider | None = None,
    ):
        self.fps = float(fps)
        self.params = params or DetectionParams()
        self.model = model or load_model()
        self._stage = ActivityStage(self.fps, self.params)
        self._buffer: Activity | None = None
        self._emitted: set[tuple] = set()
        # how far around an event its decision looks: the merge gap, and the window of its
        # context features
        cp = self.params.candidates
        reach = max(cp.merge_gap_s, self.params.context.context_s) + cp.blink_sync_s
        self._margin = int(np.ceil(reach * self.fps)) + 2
        self._horizon_s = reach + 2.0 / self.fps
        self._max_buffer = int(max_buffer_s * self.fps)
        self._step = max(int(round(step_s * self.fps)), 1)
        self._pending = 0  # frames since the event stage last ran

    @property
    def latency_s(self) -> float:
        """How long after an event's end it is reported, at most (seconds of stream time)."""
        return self._horizon_s + self._step / self.fps

    def push(self, time: np.ndarray, columns: dict[str, np.ndarray]) -> StreamUpdate:
        """Add frames and return the events that became final, with the frames' activity.

        Parameters
        ----------
        time : array of float, shape (n,)
            Frame times, seconds, increasing.
        columns : dict of str to array, each shape (n,)
            Raw signals as in :class:`~spasm_cv.signals.table.Signals` (at least
            ``CORE_COLUMNS``), NaN where no face.

        Returns
        -------
        StreamUpdate
            ``events``: the events that became final, in onset order; ``activity``: the
            pushed frames' activity.
        """
        time = np.atleast_1d(np.asarray(time, dtype=np.float64))
        columns = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in columns.items()}
        chunk = self._stage.update(time, columns)
        self._buffer = (
            chunk if self._buffer is None else Activity.concatenate([self._buffer, chunk])
        )
        self._pending += len(time)
        if self._pending < self._step:
            return StreamUpdate([], chunk)
        self._pending = 0
        t_last = float(self._buffer.time[-1])
        new = self._collect(lambda e: e.end + self._horizon_s <= t_last)
        self._cut()
        return StreamUpdate(new, chunk)

    def flush(self) -> list[Event]:
        """The end of the stream: every remaining event is final."""
        if self._buffer is None:
            return []
        new = self._collect(lambda e: True)
        self._buffer = None
        return new

    def _collect(self, is_final) -> list[Event]:
        events = find_events(self._buffer, self.fps, self.params, self.model)
        new = []
        for e in events:
            key = (round(e.onset, 6), e.trial_type, e.side)
            if key not in self._emitted and is_final(e):
                self._emitted.add(key)
                new.append(e)
        return new

    def _quiet(self, a: Activity) -> np.ndarray:
        p = self.params
        quiet = np.ones(len(a), dtype=bool)
        for s in SIDES:
            # the lowest closure any event of the second stage extends over
            quiet &= ~(
                np.nan_to_num(a.closure[s], nan=0.0)
                >= min(p.episodes.closure_off, p.candidates.candidate_off)
            )
            quiet &= ~(np.nan_to_num(mouth_pull(a, s), nan=0.0) >= p.episodes.mouth_on)
        return quiet

    def _cut(self) -> None:
        """Drop buffered frames before the latest quiet moment whose events are all out."""
        a = self._buffer
        n, m = len(a), self._margin
        if n < 4 * m:
            return
        calm = ndimage.binary_erosion(self._quiet(a), structure=np.ones(2 * m + 1, dtype=bool))
        calm[n - m :] = False
        candidates = np.flatnonzero(calm)
        if candidates.size:
            cut = int(candidates[-1])
        elif n > self._max_buffer:
            cut = n - self._max_buffer // 2  # forced: continuous activity for max_buffer_s
        else:
            return
        if cut > 0:
            self._buffer = a.slice(cut)
            # forget keys of events that can no longer be seen again
            t0 = float(self._buffer.time[0])
            self._emitted = {k for k in self._emitted if k[0] >= t0 - 1e-6}
