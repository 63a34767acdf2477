"""The one loop from frames to observations: frames -> tracker -> per-frame signals.

Every path that landmarks video runs :func:`observe`: a recorded video (serial analysis and
each parallel segment), the phantom generator's passes over a face clip, and live monitoring.
It is a generator, so the same code serves a file and a live stream: frames come in one at
a time, each leaves with what the tracker found in it. Frames the video has but that are not
observations of a face leave with ``lost`` set and no face, unseen by the tracker: a frame
lost to a damaged packet (``corrupt``, a :class:`~spasm_cv.video.reader.LostFrame`) and a
frame of a frozen image (``frozen``, see :mod:`spasm_cv.video.frozen`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from spasm_cv.landmarks.tracker import FaceObservation, FaceTracker
from spasm_cv.signals.table import signals_row
from spasm_cv.video.frozen import FrozenCheck
from spasm_cv.video.reader import LostFrame


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
        The followed face, or None where no face was found or the frame is lost.
    lost : str
        ``""``, or why the frame is not an observation: ``corrupt`` (not decoded; ``rgb``
        is then an empty 0 x 0 image) or ``frozen`` (see ``LOST_FLAGS``).
    """

    time_s: float
    rgb: np.ndarray
    face: FaceObservation | None
    lost: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frame in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def signals(self) -> np.ndarray:
        """This frame's values of ``SIGNAL_COLUMNS`` (NaN where no face)."""
        return signals_row(self.face, *self.size)


def observe(
    frames: Iterable[TimedFrame | LostFrame],
    tracker: FaceTracker,
    frozen: FrozenCheck | None = None,
) -> Iterator[Observed]:
    """Run ``tracker`` over ``frames`` in order, yielding each frame with its observation.

    Parameters
    ----------
    frames : iterable of frames with ``time_s`` (increasing) and ``rgb``, or LostFrame
        A decoded video (:func:`~spasm_cv.video.reader.read_frames_and_losses`), a live source's
        frames, ...
    tracker : FaceTracker
        An opened tracker (inside its ``with`` block); it restarts on its segment grid.
    frozen : FrozenCheck, optional
        Decides which frames show a frozen image (default: a new ``FrozenCheck()``; a
        segment of a video passes one that has seen the frames before the segment).

    Yields
    ------
    Observed
        The frame and the followed face (or None), with ``lost`` set for a frame lost to
        a damaged packet or showing a frozen image (the tracker does not see those).
    """
    check = frozen if frozen is not None else FrozenCheck()
    for frame in frames:
        if isinstance(frame, LostFrame):
            yield Observed(frame.time_s, _NO_IMAGE, None, frame.flag)
        elif check.frozen(frame.rgb, frame.time_s):
            yield Observed(frame.time_s, frame.rgb, None, "frozen")
        else:
            yield Observed(frame.time_s, frame.rgb, tracker.detect(frame.rgb, frame.time_s))


_NO_IMAGE = np.zeros((0, 0, 3), np.uint8)
