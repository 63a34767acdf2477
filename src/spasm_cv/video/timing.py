"""Is a video's time plausible? Its frame rate checked against the frames' own times.

A container's nominal frame rate can be absurd (0.25 fps, 1000 fps) and its frame times
broken (all zero), and a still image opens as a one-frame "video". Every number spasm-cv
gives is per second, so a wrong rate silently turns a clonic train into a tonic one and
rates by a factor. :func:`check_timing` reads the times of the first frames
(:func:`sample_frame_times`) and decides (:func:`decide_timing`, pure):

- one frame or none: a still image, refused;
- a nominal rate outside ``MIN_FPS``-``MAX_FPS``: repaired from the frame times when they
  are regular and plausible, refused otherwise;
- a plausible nominal rate that the frame times contradict by more than 10 %: the frame
  times win (they are what the reader uses);
- frame times unusable with a plausible nominal rate: the nominal rate, with a warning;
- a rate below ``BLINK_FPS``: analysed, with a warning that blinks and twitches (tenths of
  a second) are not resolved.

Only OpenCV is used (``grab`` without colour conversion, so sampling costs a few frames'
decoding).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from spasm_cv.errors import SpasmCvError

if TYPE_CHECKING:
    from spasm_cv.video.reader import VideoInfo

MIN_FPS = 5.0  # below: contractions of 0.1-0.3 s fall between frames; refused
MAX_FPS = 240.0  # above: no camera a face video comes from; a broken header
BLINK_FPS = 15.0  # below: a warning (a blink lasts 0.1-0.4 s)
SAMPLE_FRAMES = 48
MISMATCH = 0.10  # nominal vs frame-time rate: beyond this relative difference, times win


@dataclass(frozen=True)
class Timing:
    """The frame rate to use and where it comes from.

    ``fps``: frames per second for the detector (and for frames without a usable time);
    ``source``: ``container`` or ``frame_times``; ``container_fps``: what the header says
    (0 when it says nothing usable); ``low_frame_rate``: below :data:`BLINK_FPS`;
    ``warnings``: one-line messages for the user.
    """

    fps: float
    source: str
    container_fps: float
    low_frame_rate: bool = False
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """summary.json's ``input.timing``."""
        return {
            "fps": self.fps,
            "source": self.source,
            "container_fps": self.container_fps,
            "low_frame_rate": self.low_frame_rate,
            "warnings": list(self.warnings),
        }


def sample_frame_times(cap: cv2.VideoCapture, n: int = SAMPLE_FRAMES) -> np.ndarray:
    """Container times (s) of up to ``n`` first frames of an opened capture (NaN if none)."""
    times = []
    for _ in range(n):
        if not cap.grab():
            break
        t = cap.get(cv2.CAP_PROP_POS_MSEC)
        times.append(t / 1000.0 if t is not None and math.isfinite(t) else math.nan)
    return np.asarray(times, dtype=float)


def _measured_fps(times: np.ndarray) -> float | None:
    """The rate the frame times show: 1 / median interval, if they increase throughout."""
    if len(times) < 3 or not np.all(np.isfinite(times)):
        return None
    gaps = np.diff(times)
    if not np.all(gaps > 0):
        return None
    return float(1.0 / np.median(gaps))


def _plausible(fps: float | None) -> bool:
    return fps is not None and math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS


def decide_timing(container_fps: float, times: np.ndarray, name: str = "the video") -> Timing:
    """The frame rate to use, from the header's rate and the first frames' times.

    Parameters
    ----------
    container_fps : float
        The nominal rate the container states (0 or NaN: none).
    times : ndarray
        Container times (s) of the first frames, in decoding order (NaN: none given).
    name : str
        The file, for messages.

    Raises
    ------
    SpasmCvError
        A still image (one frame or none), or a rate that is implausible and cannot be
        repaired from the frame times.
    """
    nominal = float(container_fps) if container_fps and math.isfinite(container_fps) else 0.0
    if len(times) <= 1:
        raise SpasmCvError(
            f"{name} holds {'one frame' if len(times) == 1 else 'no frame'}: a still image, "
            "not a video"
        )
    measured = _measured_fps(times)
    warnings: list[str] = []
    if _plausible(nominal):
        fps, source = nominal, "container"
        if measured is None:
            warnings.append(
                f"{name}: frames carry no usable time stamps; times follow the nominal "
                f"{nominal:g} fps"
            )
        elif abs(measured / nominal - 1.0) > MISMATCH and _plausible(measured):
            fps, source = measured, "frame_times"
            warnings.append(
                f"{name}: the container says {nominal:g} fps but its frame times say "
                f"{measured:.3g} fps: using {measured:.3g} fps"
            )
    elif _plausible(measured):
        assert measured is not None
        fps, source = measured, "frame_times"
        said = f"{nominal:g} fps" if nominal else "no frame rate"
        warnings.append(
            f"{name}: the container says {said}; its frame times say {measured:.3g} fps: "
            f"using {measured:.3g} fps"
        )
    else:
        said = f"{nominal:g} fps" if nominal else "no frame rate"
        seen = f"{measured:.3g} fps" if measured else "nothing usable"
        raise SpasmCvError(
            f"{name}: implausible frame rate (the container says {said}, the frame times "
            f"say {seen}; a face video has {MIN_FPS:g}-{MAX_FPS:g} fps): cannot measure time"
        )
    low = fps < BLINK_FPS
    if low:
        warnings.append(
            f"{name}: {fps:.3g} fps is too low to resolve blinks and twitches (at least "
            f"{BLINK_FPS:g} fps needed): short events may be missed, merged or mistyped"
        )
    return Timing(fps, source, nominal, low, tuple(warnings))


def check_timing(path: str | os.PathLike, container_fps: float) -> Timing:
    """:func:`decide_timing` for a video file (opens it and samples its first frames)."""
    from spasm_cv.video.reader import _open

    cap = _open(path)
    try:
        times = sample_frame_times(cap)
    finally:
        cap.release()
    return decide_timing(container_fps, times, os.fspath(path))


def probe_timing(path: str | os.PathLike) -> tuple[VideoInfo, Timing]:
    """:func:`~spasm_cv.video.reader.probe` and :func:`check_timing` from one opening of
    the file: its header, then the times of its first frames.

    Returns the header as the container states it (``info.fps`` the nominal rate) and the
    timing decided from both (``timing.fps``: the rate to use). The capture is not reused
    for the frames: decoding must start again at the first frame, and OpenCV's seek back to
    it is not exact for every file, so :func:`~spasm_cv.video.reader.read_frames_and_losses`
    opens the file anew.
    """
    from spasm_cv.video.reader import _open, header

    cap = _open(path)
    try:
        info = header(cap, path)
        times = sample_frame_times(cap)
    finally:
        cap.release()
    return info, decide_timing(info.fps, times, os.fspath(path))
