"""The one loop from frames to observations: frames -> tracker -> per-frame signals.

Every path that landmarks video runs :func:`observe`: a recorded video (serial analysis and
each parallel segment), the phantom generator's passes over a face clip, and live monitoring.
It is a generator, so the same code serves a file and a live stream: frames come in one at
a time, each leaves with what the tracker found in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from spasm_cv.landmarks.tracker import FaceObservation, FaceTracker
from spasm_cv.signals.table import signals_row


class TimedFrame(Protocol):
    """A frame with its time: :class:`spasm_cv.video.reader.Frame`, a live frame, ..."""

    @property
    def time_s(self) -> float: ...

    @property
    def rgb(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Observed:
    """One frame and what the tracker saw in it.

    Attributes
    ----------
    time_s : float
        Frame time, seconds.
    rgb : ndarray, shape (H, W, 3), uint8
        The unmirrored image.
    face : FaceObservation or None
        The followed face, or None where no face was found.
    """

    time_s: float
    rgb: np.ndarray
    face: FaceObservation | None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frame in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def signals(self) -> np.ndarray:
        """This frame's values of ``SIGNAL_COLUMNS`` (NaN where no face)."""
        return signals_row(self.face, *self.size)


def observe(frames: Iterable[TimedFrame], tracker: FaceTracker) -> Iterator[Observed]:
    """Run ``tracker`` over ``frames`` in order, yielding each frame with its observation.

    Parameters
    ----------
    frames : iterable of frames with ``time_s`` (increasing) and ``rgb``
        A decoded video (:func:`~spasm_cv.video.reader.read_frames`), a live source's
        frames, ...
    tracker : FaceTracker
        An opened tracker (inside its ``with`` block); it restarts on its segment grid.

    Yields
    ------
    Observed
        The frame and the followed face (or None).
    """
    for frame in frames:
        yield Observed(frame.time_s, frame.rgb, tracker.detect(frame.rgb, frame.time_s))
