"""First pass over a video: per-frame key points, eye closures, pose; natural blinks.

Closure of an eye is ``1 - aperture / baseline`` where the aperture is
:func:`spasm_cv.signals.geometry.side_measures`' lid gap (inter-ocular units) and the
baseline is the median aperture of that eye over the clip's open frames. Sides are the
patient's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from spasm_cv.landmarks.observe import observe
from spasm_cv.landmarks.tracker import FaceTracker
from spasm_cv.phantom.landmarks import KEY_POINTS
from spasm_cv.signals.geometry import SIDES, head_pose, side_measures
from spasm_cv.video.reader import Frame, read_frames


@dataclass
class FaceTrack:
    """What the landmarker saw in each frame of a video (NaN where no face).

    ``points`` are the :data:`~spasm_cv.phantom.landmarks.KEY_POINTS` in pixels (x, y);
    ``aperture`` per side in inter-ocular units; ``pose`` yaw, pitch, roll in degrees.
    """

    time_s: np.ndarray  # (n,)
    face: np.ndarray  # (n,) bool
    points: np.ndarray  # (n, len(KEY_POINTS), 2) float32
    aperture: dict[str, np.ndarray]  # side -> (n,)
    pose: np.ndarray  # (n, 3)
    width: int
    height: int

    def __len__(self) -> int:
        return int(self.time_s.size)


def track_frames(
    frames: Iterable[Frame], width: int, height: int, keep: list[np.ndarray] | None = None
) -> FaceTrack:
    """Run a fresh :class:`FaceTracker` over ``frames`` (each kept in ``keep`` if given),
    through the shared observation loop (:func:`~spasm_cv.landmarks.observe.observe`)."""
    times: list[float] = []
    face: list[bool] = []
    pts: list[np.ndarray] = []
    ap: dict[str, list[float]] = {s: [] for s in SIDES}
    pose: list[tuple[float, float, float]] = []
    nan_pts = np.full((len(KEY_POINTS), 2), np.nan, dtype=np.float32)
    scale = np.array([width, height], dtype=np.float64)

    def kept(frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            if keep is not None:
                keep.append(frame.rgb)
            yield frame

    with FaceTracker() as tracker:
        for o in observe(kept(frames), tracker):
            obs = o.face
            times.append(o.time_s)
            face.append(obs is not None)
            if obs is None:
                pts.append(nan_pts)
                for s in SIDES:
                    ap[s].append(np.nan)
                pose.append((np.nan, np.nan, np.nan))
                continue
            pts.append((obs.landmarks[list(KEY_POINTS), :2] * scale).astype(np.float32))
            m = side_measures(obs.landmarks, width, height)
            for s in SIDES:
                ap[s].append(float(m[f"eye_aperture_{s}"]))
            pose.append(head_pose(obs.matrix))
    n = len(times)
    return FaceTrack(
        time_s=np.asarray(times, dtype=np.float64),
        face=np.asarray(face, dtype=bool),
        points=np.asarray(pts, dtype=np.float32).reshape(n, len(KEY_POINTS), 2),
        aperture={s: np.asarray(v, dtype=np.float64) for s, v in ap.items()},
        pose=np.asarray(pose, dtype=np.float64).reshape(n, 3),
        width=width,
        height=height,
    )


def track_video(
    path: str | os.PathLike,
    width: int,
    height: int,
    *,
    mirrored: bool = False,
    keep: list[np.ndarray] | None = None,
) -> FaceTrack:
    """:func:`track_frames` over a video file (unmirrored with ``mirrored=True``)."""
    return track_frames(read_frames(path, mirrored=mirrored), width, height, keep)


def open_baseline(aperture: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Median aperture of the open frames (frames within 25 % below the overall median).

    ``mask`` restricts the frames considered. NaN if no frame qualifies.
    """
    a = np.asarray(aperture, dtype=np.float64)
    if mask is not None:
        a = a[np.asarray(mask, dtype=bool)]
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan")
    first = np.median(a)
    return float(np.median(a[a >= 0.75 * first]))


def closures(aperture: dict[str, np.ndarray], baseline: dict[str, float]) -> dict[str, np.ndarray]:
    """Per side ``1 - aperture / baseline`` (NaN where no face)."""
    return {s: 1.0 - np.asarray(aperture[s]) / baseline[s] for s in aperture}


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``[start, stop)`` index runs where ``mask`` is True."""
    m = np.asarray(mask, dtype=np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m, [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def blink_runs(closure: dict[str, np.ndarray], threshold: float) -> list[tuple[int, int]]:
    """Frame runs where either eye is closed more than ``threshold`` (blinks, squints...).

    Each run is widened to the surrounding frames where that closure keeps falling towards
    open, so it covers the whole closing and opening.
    """
    c = np.fmax(closure["right"], closure["left"])
    out = []
    for a, b in runs(np.nan_to_num(c, nan=0.0) > threshold):
        while a > 0 and np.isfinite(c[a - 1]) and 0.05 < c[a - 1] < c[a]:
            a -= 1
        while b < c.size and np.isfinite(c[b]) and 0.05 < c[b] < c[b - 1]:
            b += 1
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
