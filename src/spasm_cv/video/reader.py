"""Recorded video files as a stream of RGB frames with container timestamps.

Frames are decoded one at a time (memory stays flat for hour-long videos). Phone rotation
metadata is applied by OpenCV; ``mirrored=True`` flips every frame horizontally so that
everything downstream sees an unmirrored image (the patient's right eye on the image's left).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.errors import SpasmCvError


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video. ``fps`` is nominal; times come per frame."""

    path: str
    width: int
    height: int
    fps: float
    n_frames: int  # container estimate; may be off for variable frame rate or broken files
    rotation_deg: int
    codec: str

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else float("nan")


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based decode order
    time_s: float  # presentation time from the container, seconds from the first frame
    rgb: np.ndarray  # (H, W, 3) uint8, unmirrored


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.exists():
        raise SpasmCvError(f"video not found: {p}")
    if p.is_dir():
        raise SpasmCvError(f"expected a video file, got a folder: {p}")
    if p.stat().st_size == 0:
        raise SpasmCvError(f"video file is empty: {p}")
    with native_stderr_silenced():  # FFmpeg logs its own complaint; ours follows
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise SpasmCvError(f"cannot decode video (not a video, or corrupt): {p}")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's header; raise SpasmCvError if it cannot be decoded."""
    cap = _open(path)
    try:
        return _info(cap, path)
    finally:
        cap.release()


def _info(cap: cv2.VideoCapture, path: str | os.PathLike) -> VideoInfo:
    rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if rotation in (90, 270):  # OpenCV rotates the frames it returns; report their shape
        w, h = h, w
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 0.0
    return VideoInfo(
        path=str(path),
        width=w,
        height=h,
        fps=fps,
        n_frames=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
        rotation_deg=rotation,
        codec=codec,
    )


def read_frames(
    path: str | os.PathLike, *, mirrored: bool = False, start_s: float = 0.0
) -> Iterator[Frame]:
    """Yield the frames of a video file in order, as unmirrored RGB.

    Times come from the container (so variable frame rate does not shift time); where the
    container gives none, or they do not increase, the nominal frame rate fills in.
    ``start_s`` seeks (frame-accurately: frames before it are decoded and skipped).
    """
    cap = _open(path)
    try:
        info = _info(cap, path)
        step = 1.0 / info.fps if info.fps > 0 else 1.0 / 30.0
        last_t = -math.inf
        index = 0
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if not math.isfinite(t) or t <= last_t:
                t = last_t + step if math.isfinite(last_t) else 0.0
            last_t = t
            if t + 1e-9 >= start_s:
                if mirrored:
                    bgr = cv2.flip(bgr, 1)
                yield Frame(index=index, time_s=t, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1
        if index == 0:
            raise SpasmCvError(f"no frame could be decoded from {path}")
    finally:
        cap.release()
