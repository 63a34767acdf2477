"""A frozen image: a still photo, a frozen camera driver, a paused stream.

A face on video is never perfectly still: breathing, small head movements, sensor and
compression noise change every frame a little. A picture that stays near-identical from
frame to frame for longer than :attr:`FrozenParams.after_s` is not a face being observed
but a frozen feed: its frames are not observed time (quality ``frozen``).

A frame is frozen when every frame of the ``after_s`` seconds before it is near-identical
to it: the mean absolute difference between small grey copies (``side`` x ``side`` pixels,
area-averaged: a few microseconds a frame) is at most ``max_difference`` grey levels (0-255).
Comparing with every frame of the window, not only the previous one, keeps a slow movement
from passing as still, and tolerates what a video encoder does to a repeated image (a new
keyframe redraws it a little differently). The decision is made frame by frame, the same
offline and live: the first ``after_s`` seconds of a still image are observed, as those of a
face sitting still are.

The decision at a frame depends only on the frames of the ``history_s`` seconds before it,
so a worker landmarking a segment of a video decides as a serial run does when it first
shows the check the frames of the ``history_s`` seconds before its segment.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

# max_difference: see README, "Frozen images", for the measurement on real clips


@dataclass(frozen=True)
class FrozenParams:
    """When consecutive frames count as one frozen image.

    Parameters
    ----------
    after_s : float
        Seconds of near-identical consecutive frames after which the frames are frozen
        (0.5-30).
    max_difference : float
        Largest mean absolute difference, in grey levels (0-255), between two consecutive
        small grey copies that still counts as near-identical (0-10).
    side : int
        Side of the small grey copy, pixels (8-256).
    """

    after_s: float = 2.0
    max_difference: float = 0.35
    side: int = 32

    def __post_init__(self) -> None:
        checks = (
            ("after_s", self.after_s, 0.5, 30.0),
            ("max_difference", self.max_difference, 0.0, 10.0),
            ("side", self.side, 8, 256),
        )
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"FrozenParams.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and low <= value <= high):
                raise ValueError(f"FrozenParams.{name} must be in {low}-{high}, got {value}")
        if not isinstance(self.side, int):
            raise ValueError(f"FrozenParams.side must be an integer, got {self.side!r}")

    @property
    def history_s(self) -> float:
        """Seconds of earlier frames that decide whether a frame is frozen (with margin)."""
        return self.after_s + 1.0


def small_grey(rgb: np.ndarray, side: int) -> np.ndarray:
    """A ``side`` x ``side`` area-averaged grey copy of an RGB image, as float32."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)


class FrozenCheck:
    """Frame by frame: has the image stood still for ``after_s`` seconds?

    Parameters
    ----------
    params : FrozenParams, optional
        The thresholds (default ``FrozenParams()``).

    Examples
    --------
    >>> import numpy as np
    >>> check = FrozenCheck()
    >>> still = np.full((48, 64, 3), 120, np.uint8)
    >>> [check.frozen(still, t) for t in (0.0, 1.0, 2.0, 3.0)]
    [False, False, True, True]
    """

    def __init__(self, params: FrozenParams | None = None):
        self.params = params or FrozenParams()
        # (time, small grey copy) of the frames of the last after_s seconds, and the one
        # frame before them
        self._window: deque[tuple[float, np.ndarray]] = deque()

    def frozen(self, rgb: np.ndarray, time_s: float) -> bool:
        """Add the next frame (in time order); True if it shows a frozen image.

        Parameters
        ----------
        rgb : ndarray, shape (H, W, 3), uint8
            The frame.
        time_s : float
            Its time, seconds.

        Returns
        -------
        bool
            Every frame of the last ``after_s`` seconds is near-identical to this one.
        """
        p = self.params
        small = small_grey(rgb, p.side)
        window = self._window
        window.append((time_s, small))
        while len(window) > 1 and window[1][0] <= time_s - p.after_s + 1e-9:
            window.popleft()
        if time_s - window[0][0] < p.after_s - 1e-9:
            return False
        # oldest first: in a moving image the oldest frame differs most, one comparison
        return all(float(np.mean(np.abs(small - other))) <= p.max_difference for _, other in window)
