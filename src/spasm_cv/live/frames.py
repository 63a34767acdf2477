"""What live sources deliver: session time, frames, gaps, and the bounded queue between them.

Times are session seconds: seconds since :class:`SessionClock` started (a monotonic clock).
A reader thread puts frames into a :class:`FrameQueue` that holds at most ``max_lag_s`` of
frames: when processing falls behind, the oldest frames are dropped and counted, so the
monitor never lags further than that.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np


class SessionClock:
    """Session time: monotonic seconds since the clock started, and its wall-clock origin."""

    def __init__(self) -> None:
        self.t0_mono = time.monotonic()
        self.t0_wall = time.time()  # Unix time of session time 0

    def now(self) -> float:
        return time.monotonic() - self.t0_mono

    def wall(self, t: float) -> float:
        """Unix time of session time ``t``."""
        return self.t0_wall + t


@dataclass(frozen=True)
class LiveFrame:
    """One frame: session time (s) and the unmirrored RGB image (H, W, 3) uint8."""

    time_s: float
    rgb: np.ndarray


# the reason of a gap during which the source sent frames of a frozen image
FROZEN_GAP = "the camera image is frozen"


@dataclass(frozen=True)
class Gap:
    """A stretch without frames from the source (unplugged camera, dropped stream, stall),
    or with frames of a frozen image only (reason :data:`FROZEN_GAP`).

    ``end_s`` is None while the gap lasts. Times are session seconds.
    """

    start_s: float
    end_s: float | None
    reason: str

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s


@dataclass(frozen=True)
class Delivery:
    """What one :meth:`LiveSource.read` returns.

    ``frame`` is None when no frame came within the timeout. ``dropped`` counts frames the
    queue discarded since the previous read. ``gaps`` lists gaps that opened (``end_s`` None)
    or closed since the previous read. ``finished``: the source ended (end of file) or failed
    for good (``error`` says why); no frame will follow.
    """

    frame: LiveFrame | None
    dropped: int = 0
    gaps: tuple[Gap, ...] = ()
    finished: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a lost camera or stream is retried, and when missing frames make a gap.

    Retries wait ``first_delay_s``, then ``factor`` times longer each time, at most
    ``max_delay_s``. A gap starts when the reader reports a failure, or when no frame came for
    ``stall_s`` seconds.
    """

    first_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 10.0
    stall_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return min(self.first_delay_s * self.factor**attempt, self.max_delay_s)


@dataclass(frozen=True)
class _Loss:
    """A loss of the device, in the queue where it happened (:meth:`FrameQueue.lost`)."""

    reason: str


class FrameQueue:
    """Frames from a reader thread to the monitor: bounded, dropping (and counting) the oldest.

    The reader calls :meth:`put`, :meth:`lost` (it lost the device and is retrying) and
    :meth:`finish`; the monitor calls :meth:`get`. A loss travels in the queue between the
    frames before and after it, so a monitor running behind still sees it in its place
    (frames queued before it are taken first; a frame put after it does not erase it).
    """

    def __init__(self, max_frames: int):
        self.max_frames = max(int(max_frames), 1)
        self._items: deque[LiveFrame | _Loss] = deque()
        self._n_frames = 0
        self._cond = threading.Condition()
        self._dropped = 0
        self._finished = False
        self._error: str | None = None

    def put(self, frame: LiveFrame) -> None:
        with self._cond:
            if self._n_frames >= self.max_frames:  # drop the oldest frame, never a loss
                oldest = next(i for i, x in enumerate(self._items) if not isinstance(x, _Loss))
                del self._items[oldest]
                self._n_frames -= 1
                self._dropped += 1
            self._items.append(frame)
            self._n_frames += 1
            self._cond.notify()

    def lost(self, reason: str) -> None:
        with self._cond:
            self._items.append(_Loss(reason))
            self._cond.notify()

    def finish(self, error: str | None = None) -> None:
        with self._cond:
            self._finished, self._error = True, error
            self._cond.notify()

    def get(self, timeout_s: float) -> tuple[LiveFrame | None, int, str | None, bool, str | None]:
        """``(frame or None, dropped since last get, loss reason, finished, error)``: the next
        frame, or the next loss (then no frame).

        ``finished`` is only reported once every queued frame has been taken.
        """
        with self._cond:
            if not self._items and not self._finished:
                self._cond.wait(timeout_s)
            item = self._items.popleft() if self._items else None
            dropped, self._dropped = self._dropped, 0
            if isinstance(item, _Loss):
                return None, dropped, item.reason, False, None
            if item is not None:
                self._n_frames -= 1
            done = self._finished and not self._items and item is None
            return item, dropped, None, done, self._error if done else None
