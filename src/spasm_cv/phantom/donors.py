"""Closed-eyelid donors: frames of the source's natural blinks, and which one to use.

A donor is one eye in one source frame during a natural blink. A rendition is a donor
pasted at some opacity, with the closure MediaPipe perceives once it is pasted over one eye
(measured by :mod:`spasm_cv.phantom.calibrate`: first every donor at full opacity, then each
blink's best one at partial opacities). All frames of one episode take their
renditions from the same blink (one "family"), so the lid does not change from frame to
frame; partial closures come from that blink's closing frames and from its most closed frame
pasted at partial opacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.phantom.params import SourceParams


@dataclass(frozen=True)
class Donor:
    """Eye ``side`` of source frame ``frame`` during natural blink number ``blink``.

    ``closure`` is what the first pass measured there (0-1); ``pose`` is yaw, pitch, roll
    in degrees.
    """

    frame: int
    side: str
    blink: int
    closure: float
    pose: tuple[float, float, float]


@dataclass(frozen=True)
class Rendition:
    """A donor pasted at ``strength`` (0-1 opacity) and the closure the landmarker then sees.

    ``closure`` and ``other`` are the closures MediaPipe perceives on the pasted eye and on
    the other eye when this rendition is held over open frames of the clip (NaN until
    calibrated).
    """

    donor: Donor
    strength: float
    closure: float = float("nan")
    other: float = float("nan")


def find_donors(
    closure: dict[str, np.ndarray],
    pose: np.ndarray,
    blinks: Sequence[tuple[int, int]],
    side: str,
    params: SourceParams = SourceParams(),
) -> list[Donor]:
    """Donor frames of ``side`` from the blink runs that close that eye enough.

    A run donates if its peak closure of ``side`` reaches ``params.donor_min_peak``; its
    frames closed at least ``params.donor_min_closure`` become donors.
    """
    c = closure[side]
    donors = []
    for k, (a, b) in enumerate(blinks):
        seg = c[a:b]
        if not np.any(np.isfinite(seg)) or np.nanmax(seg) < params.donor_min_peak:
            continue
        for i in range(a, b):
            if np.isfinite(c[i]) and c[i] >= params.donor_min_closure:
                donors.append(Donor(i, side, k, float(c[i]), tuple(float(v) for v in pose[i])))
    return donors


def require_donors(
    donors: dict[str, list[Donor]],
    closure: dict[str, np.ndarray],
    params: SourceParams = SourceParams(),
) -> None:
    """Raise SpasmCvError when a needed side has no donor, saying why."""
    for side, found in donors.items():
        if found:
            continue
        c = closure[side]
        best = float(np.nanmax(c)) if np.any(np.isfinite(c)) else float("nan")
        raise SpasmCvError(
            f"no natural blink to take a closed {side} eyelid from: the {side} eye never "
            f"closes by {params.donor_min_peak:.2f} or more (most: {best:.2f}); use a clip "
            "with at least one full blink"
        )


def partial_renditions(
    calibrated: Sequence[Rendition], strengths: Sequence[float]
) -> list[Rendition]:
    """Each blink's most closed rendition (as perceived) again at the partial ``strengths``."""
    best: dict[int, Rendition] = {}
    for r in calibrated:
        b = r.donor.blink
        if np.isfinite(r.closure) and (b not in best or r.closure > best[b].closure):
            best[b] = r
    return [
        Rendition(r.donor, float(s) * r.strength)
        for _, r in sorted(best.items())
        for s in strengths
        if s < 1.0
    ]


def full_closure(renditions: Sequence[Rendition]) -> float:
    """The strongest closure the renditions give (calibrated), 0 if none is finite."""
    c = [r.closure for r in renditions if np.isfinite(r.closure)]
    return max(c, default=0.0)


def choose_family(
    renditions: Sequence[Rendition],
    peak: float,
    pose: Sequence[float],
    weight_per_deg: float = 0.01,
) -> int:
    """The blink whose renditions best serve an episode of ``peak`` closure at ``pose``.

    Cost: shortfall of the blink's strongest closure below ``peak`` plus
    ``weight_per_deg`` per degree of summed |yaw, pitch, roll| difference from the blink's
    most closed frame.
    """
    best: dict[int, Rendition] = {}
    for r in renditions:
        b = r.donor.blink
        if np.isfinite(r.closure) and (b not in best or r.closure > best[b].closure):
            best[b] = r
    if not best:
        raise ValueError("no calibrated rendition")
    target = np.asarray(pose, dtype=np.float64)

    def cost(r: Rendition) -> float:
        dpose = np.abs(np.asarray(r.donor.pose) - target)
        return max(peak - r.closure, 0.0) + weight_per_deg * float(np.nansum(dpose))

    return min(sorted(best), key=lambda b: cost(best[b]))


def choose_rendition(
    renditions: Sequence[Rendition], target: float, family: int | None = None
) -> Rendition:
    """The rendition (of blink ``family`` if given) whose closure is nearest ``target``."""
    pool = [r for r in renditions if family is None or r.donor.blink == family]
    c = np.array([r.closure for r in pool], dtype=np.float64)
    return pool[int(np.argmin(np.abs(np.nan_to_num(c, nan=np.inf) - target)))]
