"""Drawing on frames: a donor's eye aligned and blended in, the mouth corner pulled.

All functions take and return RGB uint8 images and pixel coordinates (x, y) in the same
unmirrored image; they do not change their inputs.
"""

from __future__ import annotations

import cv2
import numpy as np

from spasm_cv.phantom.params import CompositeParams


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping ``src`` to ``dst``.

    Parameters
    ----------
    src, dst : (n, 2) matching points, n >= 2.

    Returns
    -------
    (2, 3) matrix ``M`` with ``dst ~ M @ [x, y, 1]`` (closed form, Umeyama 1991 [1]_).

    References
    ----------
    .. [1] Umeyama S. Least-squares estimation of transformation parameters between two
       point patterns. IEEE Trans Pattern Anal Mach Intell. 1991;13(4):376-380.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - ms, dst - md
    var = (s**2).sum()
    a = (s * d).sum() / var  # scale * cos
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / var  # scale * sin
    rot = np.array([[a, -b], [b, a]])
    return np.hstack([rot, (md - rot @ ms)[:, None]])


def iod_px(outer_right: np.ndarray, outer_left: np.ndarray) -> float:
    """Inter-ocular distance in pixels (outer eye corners)."""
    return float(np.linalg.norm(np.asarray(outer_left) - np.asarray(outer_right)))


def region_box(points: np.ndarray, margin: float, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Integer box ``(x0, y0, x1, y1)`` around ``points`` grown by ``margin`` px, clipped."""
    h, w = shape[:2]
    x0 = int(max(np.floor(points[:, 0].min() - margin), 0))
    y0 = int(max(np.floor(points[:, 1].min() - margin), 0))
    x1 = int(min(np.ceil(points[:, 0].max() + margin) + 1, w))
    y1 = int(min(np.ceil(points[:, 1].max() + margin) + 1, h))
    return x0, y0, x1, y1


def feathered_mask(
    polygon: np.ndarray, box: tuple[int, ...], dilate_px: float, feather_px: float
) -> np.ndarray:
    """Soft mask (float32 0-1, box-sized) of the convex hull of ``polygon``.

    The hull is grown by ``dilate_px - 1.5 * feather_px`` (shrunk if negative) and blurred
    with a Gaussian of sigma ``feather_px``: the mask is 1 well inside the hull and fades to
    about 0 at ``dilate_px`` outside it.
    """
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    hull = cv2.convexHull(np.round((polygon - (x0, y0)) * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA, shift=4)
    grow = int(round(dilate_px - 1.5 * feather_px))
    if grow != 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(grow) + 1,) * 2)
        mask = cv2.dilate(mask, k) if grow > 0 else cv2.erode(mask, k)
    soft = mask.astype(np.float32) / 255.0
    if feather_px > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=feather_px, sigmaY=feather_px)
    return soft


def paste_eye(
    target: np.ndarray,
    donor: np.ndarray,
    target_anchors: np.ndarray,
    donor_anchors: np.ndarray,
    target_region: np.ndarray,
    iod: float,
    strength: float = 1.0,
    params: CompositeParams = CompositeParams(),
) -> np.ndarray:
    """Blend the donor's eye region over the target's.

    Parameters
    ----------
    target, donor : RGB uint8 frames (same size).
    target_anchors, donor_anchors : (n, 2) pixel positions of the same lid-independent
        points (see :data:`~spasm_cv.phantom.landmarks.EYE_ANCHORS`) in each frame.
    target_region : (m, 2) pixel positions of the eye-region ring in the target.
    iod : inter-ocular distance of the target, pixels (sets mask sizes).
    strength : 0-1 opacity of the donor inside the mask.

    Returns
    -------
    A new frame; the donor region is aligned by a similarity transform on the anchors,
    its colour gain matched to the target on the mask's rim, and alpha-blended.
    """
    out = target.copy()
    if strength <= 0:
        return out
    dilate = params.mask_dilate_iod * iod
    feather = max(params.feather_iod * iod, 0.5)
    box = region_box(target_region, dilate + 3 * feather + 2, target.shape)
    x0, y0, x1, y1 = box
    if x1 - x0 < 4 or y1 - y0 < 4:
        return out
    m = similarity_transform(donor_anchors, target_anchors)
    m[:, 2] -= (x0, y0)  # into box coordinates
    patch = cv2.warpAffine(
        donor, m, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    ).astype(np.float32)
    base = target[y0:y1, x0:x1].astype(np.float32)
    alpha = feathered_mask(target_region, box, dilate, feather)
    rim = (alpha > 0.05) & (alpha < 0.6)
    if rim.sum() >= 8:  # gain on the mask's rim, where both should look alike
        gain = (base[rim].mean(axis=0) + 1.0) / (patch[rim].mean(axis=0) + 1.0)
        patch *= np.clip(gain, 0.8, 1.25)
    a = (strength * alpha)[..., None]
    out[y0:y1, x0:x1] = np.clip(a * patch + (1.0 - a) * base + 0.5, 0, 255).astype(np.uint8)
    return out


def pull_mouth_corner(
    frame: np.ndarray,
    corner: np.ndarray,
    outward: np.ndarray,
    up: np.ndarray,
    iod: float,
    amount: float,
    params: CompositeParams = CompositeParams(),
) -> np.ndarray:
    """Pull the mouth corner up and outwards with a smooth Gaussian-weighted warp.

    Parameters
    ----------
    frame : RGB uint8.
    corner : (2,) pixel position of the mouth corner (mesh 61 or 291).
    outward, up : (2,) unit vectors in the image: away from the face midline on that side,
        and towards the forehead.
    iod : inter-ocular distance, pixels.
    amount : 0-1, fraction of the maximal pull (``params.mouth_lift_iod`` up,
        ``params.mouth_out_iod`` out).

    Returns
    -------
    A new frame; pixels near the corner move by up to the pull, fading with a Gaussian of
    radius ``params.mouth_sigma_iod`` (the warp stays one-to-one: pull < sigma).
    """
    out = frame.copy()
    if amount <= 0:
        return out
    shift = (
        amount
        * iod
        * (
            params.mouth_lift_iod * np.asarray(up, dtype=np.float64)
            + params.mouth_out_iod * np.asarray(outward, dtype=np.float64)
        )
    )
    sigma = params.mouth_sigma_iod * iod
    corner = np.asarray(corner, dtype=np.float64)
    box = region_box(corner[None, :] + shift / 2, 3.2 * sigma + np.abs(shift).max(), frame.shape)
    x0, y0, x1, y1 = box
    if x1 - x0 < 4 or y1 - y0 < 4:
        return out
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    # Backward map: the pixel at p shows the source at p - w(p) * shift, with w centred on
    # the moved corner so that the corner itself lands at corner + shift.
    centre = corner + shift
    w = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2.0 * sigma**2))
    map_x = (xs - w * shift[0]).astype(np.float32)
    map_y = (ys - w * shift[1]).astype(np.float32)
    out[y0:y1, x0:x1] = cv2.remap(
        frame, map_x, map_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    return out
