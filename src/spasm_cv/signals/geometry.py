"""Per-side face measurements from one frame's mesh: pure numpy, no MediaPipe objects.

Conventions
-----------
* Input landmarks are MediaPipe's normalised coordinates in an UNMIRRORED image: the
  patient's right eye is on the image's left (mesh points 33/133/159/145), the left eye on
  the image's right (263/362/386/374).
* Everything is measured in a face-fixed frame built from the mesh itself: x from the
  patient's right outer eye corner to the left one, y up towards the forehead, z out of the
  face. Lengths are in units of the 3D distance between the outer eye corners ("IOD"), which
  expressions do not change and head rotation changes little.
"""

from __future__ import annotations

import numpy as np

SIDES = ("right", "left")

# Mesh indices per anatomical side.
EYE_OUTER = {"right": 33, "left": 263}
EYE_INNER = {"right": 133, "left": 362}
# Upper/lower eyelid pairs across the middle of each eye.
LID_PAIRS = {
    "right": ((159, 145), (158, 153), (160, 144)),
    "left": ((386, 374), (385, 380), (387, 373)),
}
MOUTH_CORNER = {"right": 61, "left": 291}
BROW = {"right": (70, 63, 105, 66, 107), "left": (300, 293, 334, 296, 336)}
CHEEK = {"right": (50, 101, 118), "left": (280, 330, 347)}
FOREHEAD, CHIN = 10, 152
LIPS_INNER = (13, 14)  # upper and lower inner lip on the midline

# Blendshapes kept per side (MediaPipe suffix Left/Right is the patient's side).
BLENDSHAPES = (
    "eyeBlink",
    "eyeSquint",
    "cheekSquint",
    "mouthSmile",
    "mouthStretch",
    "mouthDimple",
    "browDown",
    "browOuterUp",
)

GEOMETRY_COLUMNS = tuple(
    f"{name}_{side}"
    for side in SIDES
    for name in ("eye_aperture", "mouth_x", "mouth_y", "brow_y", "cheek_y")
) + ("mouth_open",)
BLENDSHAPE_COLUMNS = tuple(f"bs_{name}_{side}" for side in SIDES for name in BLENDSHAPES)
POSE_COLUMNS = ("yaw", "pitch", "roll")
# Image detail of each eye region (spasm_cv.landmarks.texture): low when the eye is covered.
TEXTURE_COLUMNS = tuple(f"eye_texture_{side}" for side in SIDES)


def face_frame(points: np.ndarray) -> np.ndarray:
    """Mesh points in the face-fixed frame, in IOD units.

    Parameters
    ----------
    points : (..., 478, 3) landmarks in pixel-like units (x*W, y*H, z*W).

    Returns
    -------
    (..., 478, 3) coordinates: x towards the patient's left, y up, z out of the face.
    """
    right = points[..., EYE_OUTER["right"], :]
    left = points[..., EYE_OUTER["left"], :]
    ex = left - right
    iod = np.linalg.norm(ex, axis=-1, keepdims=True)
    ex = ex / iod
    up = points[..., FOREHEAD, :] - points[..., CHIN, :]  # image y grows downwards
    ey = up - np.sum(up * ex, axis=-1, keepdims=True) * ex
    ey = ey / np.linalg.norm(ey, axis=-1, keepdims=True)
    ez = np.cross(ex, ey)
    origin = (right + left) / 2.0
    rel = points - origin[..., None, :]
    basis = np.stack([ex, ey, ez], axis=-2)  # (..., 3, 3), rows are the axes
    return np.einsum("...nk,...jk->...nj", rel, basis) / iod[..., None, :]


def side_measures(landmarks: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
    """Eyelid aperture, mouth corner, brow and cheek per side.

    Parameters
    ----------
    landmarks : (..., 478, 3) MediaPipe normalised landmarks.
    width, height : image size in pixels (to undo the normalisation's aspect ratio).

    Returns
    -------
    dict with ``GEOMETRY_COLUMNS`` keys, each (...,) float, in IOD units:
    ``eye_aperture_<side>`` mean upper-to-lower lid distance; ``mouth_x_<side>`` mouth corner
    distance outwards from the midline; ``mouth_y_<side>`` its height above the eye line
    (negative: below); ``brow_y_<side>`` and ``cheek_y_<side>`` heights above the eye line;
    ``mouth_open`` the gap between the inner lips on the midline (speech, chewing).
    """
    pts = np.asarray(landmarks, dtype=np.float64) * np.array([width, height, width])
    q = face_frame(pts)
    out: dict[str, np.ndarray] = {}
    for side in SIDES:
        outward = -1.0 if side == "right" else 1.0
        gaps = [np.linalg.norm(q[..., a, :] - q[..., b, :], axis=-1) for a, b in LID_PAIRS[side]]
        out[f"eye_aperture_{side}"] = np.mean(gaps, axis=0)
        corner = q[..., MOUTH_CORNER[side], :]
        out[f"mouth_x_{side}"] = outward * corner[..., 0]
        out[f"mouth_y_{side}"] = corner[..., 1]
        out[f"brow_y_{side}"] = q[..., list(BROW[side]), 1].mean(axis=-1)
        out[f"cheek_y_{side}"] = q[..., list(CHEEK[side]), 1].mean(axis=-1)
    upper, lower = LIPS_INNER
    out["mouth_open"] = np.linalg.norm(q[..., upper, :] - q[..., lower, :], axis=-1)
    return {k: out[k] for k in GEOMETRY_COLUMNS}


def blendshape_sides(scores: dict[str, float]) -> dict[str, float]:
    """Per-side blendshape scores, named ``bs_<name>_<side>`` (patient's sides)."""
    return {
        f"bs_{name}_{side}": float(scores.get(f"{name}{side.capitalize()}", np.nan))
        for side in SIDES
        for name in BLENDSHAPES
    }


def head_pose(matrix: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees from MediaPipe's 4x4 facial transformation matrix.

    Signs (pinned by tests/test_head_pose.py): yaw > 0 when the patient turns towards their
    own left (their left eye moves away from the camera); pitch > 0 when the face tilts down;
    roll > 0 when the head tilts towards the patient's right shoulder (in an unmirrored
    image, the left eye rises).
    """
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    r = r / np.cbrt(np.linalg.det(r))  # drop any uniform scale
    yaw = np.degrees(np.arctan2(r[0, 2], r[2, 2]))
    pitch = np.degrees(np.arcsin(np.clip(-r[1, 2], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(r[1, 0], r[1, 1]))
    return float(yaw), float(pitch), float(roll)
