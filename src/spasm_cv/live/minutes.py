"""Per-minute aggregates of a monitoring session: the rows and the aggregator that fills them.

A minute row holds the seconds observed (both sides measurable: the denominator of rates),
measured and closed per eye, the events counted in it, and quality counters (frames, faces,
dropped frames, seconds without frames). The monitor feeds :class:`MinuteAggregator` every
frame and event; the store writes the rows it changed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from spasm_cv.events.table import SIDES, Event
from spasm_cv.results.summary import closed_mask, frame_duration


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


class MinuteAggregator:
    """Per-minute aggregates of one session, fed frame by frame (pure bookkeeping).

    Each frame stands for the time to the next frame, at most two frame periods
    (:func:`~spasm_cv.results.summary.frame_duration`, the rule of the offline summary), and
    an eye is closed by the summary's rule (:func:`~spasm_cv.results.summary.closed_mask`), so
    observed seconds and closed fractions equal those of the offline summary; a frame's time
    is booked in the minute it started in. Minutes are wall-clock minutes (``t0_wall`` is the
    Unix time of session time 0).
    """

    def __init__(self, t0_wall: float, fps: float, keep_s: float = 3720.0):
        self.t0_wall, self.fps, self.keep_s = t0_wall, float(fps), keep_s
        self.rows: dict[float, MinuteRow] = {}
        self._dirty: set[float] = set()
        self._prev: tuple | None = None  # (t, measurable_r, measurable_l, closed_r, closed_l)
        self.totals = MinuteRow(minute_start=0.0)

    def _key(self, t: float) -> float:
        return math.floor((self.t0_wall + t) / 60.0) * 60.0

    def _row(self, t: float) -> MinuteRow:
        key = self._key(t)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = MinuteRow(minute_start=key)
        self._dirty.add(key)
        return row

    def _book(self, dt: float) -> None:
        t, m_r, m_l, c_r, c_l = self._prev
        row = self._row(t)
        for target in (row, self.totals):
            if m_r and m_l:
                target.observed_s += dt
            if m_r:
                target.measured_s_right += dt
                target.closed_s_right += dt if c_r else 0.0
            if m_l:
                target.measured_s_left += dt
                target.closed_s_left += dt if c_l else 0.0

    def frame(self, t: float, face: bool, n_faces: int, measurable: dict, closure: dict) -> None:
        """Add a frame: ``measurable``/``closure`` map each side to this frame's value."""
        if self._prev is not None:
            self._book(frame_duration(t - self._prev[0], self.fps))
        row = self._row(t)
        for target in (row, self.totals):
            target.frames += 1
            target.face_frames += int(face)
            target.multi_face_frames += int(n_faces > 1)
        closed = {s: bool(closed_mask(bool(measurable[s]), closure[s])) for s in SIDES}
        self._prev = (t, bool(measurable["right"]), bool(measurable["left"]), *closed.values())

    def finish(self, end_s: float | None = None) -> None:
        """The last frame stands for one frame period, and never past the session's end
        ``end_s`` (session seconds): observed time does not exceed the session."""
        if self._prev is not None:
            dt = 1.0 / self.fps
            if end_s is not None:
                dt = min(dt, max(end_s - self._prev[0], 0.0))
            self._book(dt)
            self._prev = None

    def dropped(self, t: float, n: int) -> None:
        if n > 0:
            self._row(t).dropped_frames += n
            self.totals.dropped_frames += n

    def unavailable(self, start_s: float, end_s: float) -> None:
        """Book a gap's seconds in the minutes it spans."""
        t = start_s
        while t < end_s:
            nxt = min(end_s, self._key(t) + 60.0 - self.t0_wall)
            nxt = nxt if nxt > t else end_s  # guard against rounding at minute edges
            self._row(t).unavailable_s += nxt - t
            self.totals.unavailable_s += nxt - t
            t = nxt

    def event(self, e: Event) -> None:
        """Count an event in the minute of its onset."""
        if e.trial_type == "blink":
            fields_ = ("blinks",)
        elif e.is_episode:
            fields_ = ("episodes", f"episodes_{e.side}")
        elif e.is_mouth_only:
            fields_ = ("mouth_only",)
        else:
            return
        row = self._row(e.onset)
        for target in (row, self.totals):
            for name in fields_:
                setattr(target, name, getattr(target, name) + 1)

    def take_dirty(self) -> list[MinuteRow]:
        """Copies of the minutes changed since the last call; forgets minutes long past."""
        out = [self.rows[k].copy() for k in sorted(self._dirty)]
        self._dirty.clear()
        if self.rows:
            horizon = max(self.rows) - self.keep_s
            for k in [k for k in self.rows if k < horizon]:
                del self.rows[k]
        return out

    def rolling(self, t: float, window_s: float) -> tuple[int, float]:
        """Eye episodes and observed seconds in the minutes of the last ``window_s``."""
        since = self._key(t) - window_s + 60.0
        rows = [r for k, r in self.rows.items() if k >= since]
        return sum(r.episodes for r in rows), sum(r.observed_s for r in rows)
