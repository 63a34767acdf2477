"""How much image detail each eye region shows: a per-frame check that the eye is in view.

A hand, a patch or anything else held over one eye leaves the landmarker guessing: it still
draws an eye there, often open or shut at random, and a detector fed that guess sees
one-sided "spasms". What the guess cannot fake is the picture itself: an eye region in view
is full of edges (lid margin, lashes, iris, crease, brow), a closed eye still has most of
them, and a hand or patch over it has few. ``eye_texture`` measures that detail per eye; the
detector compares each eye with its own usual level and with the other eye
(:mod:`spasm_cv.events.activity`), so lighting, resolution and make-up cancel out.
"""

from __future__ import annotations

import cv2
import numpy as np

# Eye contour (lid margins and corners) per anatomical side, MediaPipe mesh indices.
EYE_CONTOUR = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    "left": (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
}
EYE_CORNERS = {"right": (33, 133), "left": (362, 263)}  # image-left corner first
PATCH = (32, 24)  # width, height of the sampled eye region, pixels
REGION_WIDTH = 1.6  # the region's width, in eye widths (corner to corner)


def eye_patch(rgb: np.ndarray, px: np.ndarray, side: str) -> np.ndarray:
    """The eye region of ``side`` as a small grey patch, levelled along the eye.

    ``px``: (478, 2) landmarks in pixels. The patch is centred on the eye contour,
    ``REGION_WIDTH`` eye widths wide (lids, corners, the crease and the top of the cheek).
    """
    a, b = px[EYE_CORNERS[side][0]], px[EYE_CORNERS[side][1]]
    centre = px[list(EYE_CONTOUR[side])].mean(axis=0)
    width = float(np.linalg.norm(b - a))
    w, h = PATCH
    if not np.isfinite(width) or width < 1.0:
        return np.zeros((h, w), np.float32)
    angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))
    m = cv2.getRotationMatrix2D(
        (float(centre[0]), float(centre[1])), angle, w / (REGION_WIDTH * width)
    )
    m[:, 2] += (w / 2.0 - centre[0], h / 2.0 - centre[1])
    patch = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY).astype(np.float32)


def eye_texture(rgb: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """Mean gradient magnitude (grey levels per patch pixel) of each eye region.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 frame, unmirrored.
    landmarks : (478, 3) MediaPipe normalised landmarks of the face in that frame.

    Returns
    -------
    dict side -> float: about 60-120 for an eye in view (a closed eye keeps 70-90 % of its
    open level), near 0 under a flat patch.

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.full((100, 100, 3), 128, np.uint8)
    >>> lm = np.full((478, 3), 0.5, np.float32)
    >>> lm[[33, 362], 0], lm[[133, 263], 0] = 0.3, 0.45
    >>> eye_texture(flat, lm)["right"]
    0.0
    """
    h, w = rgb.shape[:2]
    px = np.asarray(landmarks, dtype=np.float64)[:, :2] * (w, h)
    out = {}
    for side in EYE_CONTOUR:
        p = eye_patch(rgb, px, side)
        gx = cv2.Sobel(p, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(p, cv2.CV_32F, 0, 1)
        out[side] = float(np.mean(np.hypot(gx, gy)))
    return out
