"""One phantom frame from a source frame: donor eyes pasted, mouth corners pulled.

Works on the first pass's key points (pixels, see :data:`~spasm_cv.phantom.landmarks.
KEY_POINTS`); sides are the patient's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from spasm_cv.phantom import composite
from spasm_cv.phantom.donors import Rendition
from spasm_cv.phantom.landmarks import (
    CHIN,
    EYE_ANCHORS,
    EYE_OUTER,
    EYE_REGION,
    FOREHEAD,
    MOUTH_CORNER,
    key_columns,
)
from spasm_cv.phantom.params import CompositeParams

_AXES = key_columns((EYE_OUTER["right"], EYE_OUTER["left"], FOREHEAD, CHIN))


def face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Image unit vectors towards the patient's left and towards the forehead, and IOD (px)."""
    right, left, top, bottom = points[_AXES].astype(np.float64)
    ex = left - right
    iod = float(np.linalg.norm(ex))
    ex /= iod
    up = top - bottom
    up -= (up @ ex) * ex
    up /= np.linalg.norm(up)
    return ex, up, iod


def render_frame(
    rgb: np.ndarray,
    points: np.ndarray,
    eyes: Mapping[str, Rendition],
    donor_frames: Mapping[int, np.ndarray],
    donor_points: np.ndarray,
    mouth: Mapping[str, float] | None = None,
    params: CompositeParams = CompositeParams(),  # noqa: B008 (frozen, immutable)
) -> np.ndarray:
    """A source frame with donor eyes pasted and mouth corners pulled.

    Parameters
    ----------
    rgb : the source frame (RGB uint8), returned as is when there is nothing to draw.
    points : its key points, pixels.
    eyes : side -> rendition to paste over that eye.
    donor_frames : source frame index -> RGB frame, for the renditions' donors.
    donor_points : key points of every source frame, indexed by frame.
    mouth : side -> pull of that mouth corner, 0-1 of the maximum.
    """
    mouth = {s: a for s, a in (mouth or {}).items() if a > 0}
    if not eyes and not mouth:
        return rgb
    ex, up, iod = face_axes(points)
    out = rgb
    for side, r in eyes.items():
        anchors = key_columns(EYE_ANCHORS[side])
        out = composite.paste_eye(
            out,
            donor_frames[r.donor.frame],
            points[anchors],
            donor_points[r.donor.frame][anchors],
            points[key_columns(EYE_REGION[side])],
            iod,
            r.strength,
            params,
        )
    for side, amount in mouth.items():
        outward = -ex if side == "right" else ex
        corner = points[key_columns((MOUTH_CORNER[side],))[0]]
        out = composite.pull_mouth_corner(out, corner, outward, up, iod, amount, params)
    return out
