"""Calibrate renditions: the closure MediaPipe perceives when one eye alone is pasted.

The landmarker couples the two eyes: a natural blink's closed lid pasted over one eye
reads as only about 0.45-0.6 closed (the other eye then reads about 0.2), and the partial
lids of the closing and opening phases read far less than in the blink itself. So each
rendition (donor, strength) is held for a few frames over open frames of the clip, with
open frames between renditions, and a fresh tracker measures what it sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from spasm_cv.phantom.donors import Rendition
from spasm_cv.phantom.params import CompositeParams
from spasm_cv.phantom.render import render_frame
from spasm_cv.phantom.source import FaceTrack, closures, track_frames
from spasm_cv.video.reader import Frame

HOLD_FRAMES = 5  # frames each rendition is shown; the last two are measured (settled)
GAP_FRAMES = 3  # open frames between renditions
LEAD_FRAMES = 5  # open frames before the first


def calibration_plan(n_renditions: int, n_targets: int) -> list[tuple[int, int]]:
    """Sequence of (rendition or -1 for none, target frame slot) for the calibration clip."""
    plan: list[tuple[int, int]] = []
    slot = 0
    for _ in range(LEAD_FRAMES):
        plan.append((-1, slot % n_targets))
        slot += 1
    for r in range(n_renditions):
        for _ in range(HOLD_FRAMES):
            plan.append((r, slot % n_targets))
            slot += 1
        for _ in range(GAP_FRAMES):
            plan.append((-1, slot % n_targets))
            slot += 1
    return plan


def calibrate(
    renditions: Sequence[Rendition],
    side: str,
    targets: Sequence[int],
    frames: Mapping[int, np.ndarray],
    track: FaceTrack,
    baseline: Mapping[str, float],
    fps: float,
    params: CompositeParams = CompositeParams(),  # noqa: B008 (frozen, immutable)
) -> list[Rendition]:
    """The renditions with ``closure`` and ``other`` measured.

    Parameters
    ----------
    renditions : what to measure, all pasted on ``side``.
    targets : source frames (open eyes) to paste on, used in turn.
    frames : source frame index -> RGB, for the targets and the donors.
    track : the first pass over the source (key points per frame).
    baseline : per side, the open-eye aperture of the source.
    fps : frame rate of the calibration clip (the source's).
    """
    if not renditions:
        return []
    plan = calibration_plan(len(renditions), len(targets))

    def clip():
        for k, (r, slot) in enumerate(plan):
            i = targets[slot]
            eyes = {} if r < 0 else {side: renditions[r]}
            rgb = render_frame(frames[i], track.points[i], eyes, frames, track.points, None, params)
            yield Frame(k, k / fps, rgb)

    seen = track_frames(clip(), track.width, track.height)
    c = closures(seen.aperture, baseline)
    other = "left" if side == "right" else "right"
    last = {r: k for k, (r, _) in enumerate(plan) if r >= 0}
    return [
        replace(rd, closure=_settled(c[side], last[j]), other=_settled(c[other], last[j]))
        for j, rd in enumerate(renditions)
    ]


def _settled(closure: np.ndarray, last: int) -> float:
    """Mean closure over a rendition's last two frames (NaN if the face was lost)."""
    x = float(np.mean(closure[last - 1 : last + 1]))
    return round(x, 4) if np.isfinite(x) else float("nan")


def pick_targets(open_frames: np.ndarray, max_len: int = 40) -> list[int]:
    """Source frames to paste on: the longest run of open frames (up to ``max_len``),
    forward then backward, so that the calibration clip moves smoothly."""
    mask = np.asarray(open_frames, dtype=np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask, [0]])))
    if edges.size == 0:
        return []
    lengths = edges[1::2] - edges[::2]
    k = int(np.argmax(lengths))
    a = int(edges[2 * k])
    b = min(int(edges[2 * k + 1]), a + max_len)
    run = list(range(a, b))
    return run + run[-2:0:-1]
