"""A frozen image: a still photo, a frozen camera driver, a paused stream.

A face on video is never perfectly still: breathing, small head movements, sensor and
compression noise change every frame a little. A picture that stays near-identical from
frame to frame for longer than :attr:`FrozenParams.after_s` is not a face being observed
but a frozen feed: its frames are not observed time (quality ``frozen``).

Near-identical: the mean absolute difference between consecutive frames of a small grey
copy (``side`` x ``side`` pixels, area-averaged: a few microseconds a frame) is at most
``max_difference`` grey levels (0-255). The frames count as frozen once the run of
near-identical frames has lasted ``after_s`` seconds (a frame-to-frame decision, the same
offline and live); the first ``after_s`` seconds of a run are still observed, as a
still-sitting face is for a moment.

The decision at a frame depends only on the frames of the ``history_s`` seconds before it,
so a worker landmarking a segment of a video decides as a serial run does when it first
shows the check the frames of the ``history_s`` seconds before its segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# the measurement behind max_difference (README, "Frozen video"): in 51 real face clips
# the smallest frame-to-frame difference found over any 2 s was well above it, while a
# repeated frame, re-encoded, differs by less than a tenth of it


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
    max_difference: float = 0.25
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
    >>> [check.frozen(still, t / 10) for t in range(0, 40, 10)]
    [False, False, True, True]
    """

    def __init__(self, params: FrozenParams | None = None):
        self.params = params or FrozenParams()
        self._previous: np.ndarray | None = None
        self._previous_t = math.nan
        self._still_since: float | None = None  # time of the first frame of the still run

    def frozen(self, rgb: np.ndarray, time_s: float) -> bool:
        """Add the next frame (in time order); True if it belongs to a frozen image.

        Parameters
        ----------
        rgb : ndarray, shape (H, W, 3), uint8
            The frame.
        time_s : float
            Its time, seconds.

        Returns
        -------
        bool
            The frame is near-identical to the frames before it, without a break, since at
            least ``after_s`` seconds.
        """
        p = self.params
        small = small_grey(rgb, p.side)
        still = (
            self._previous is not None
            and float(np.mean(np.abs(small - self._previous))) <= p.max_difference
        )
        if not still:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = self._previous_t
        self._previous, self._previous_t = small, time_s
        return self._still_since is not None and time_s - self._still_since >= p.after_s - 1e-9
