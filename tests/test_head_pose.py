"""The signs of ``head_pose``'s yaw, pitch and roll, pinned to what they mean for the patient.

Yaw > 0: the patient turns towards their own left (the left eye moves away from the camera;
the detector then cannot measure the left eye beyond ``max_yaw_deg``). Pitch > 0: the face
tilts down (chin towards the chest). Roll > 0: the head tilts towards the patient's right
shoulder (in an unmirrored image, the left eye rises).

The fast test builds MediaPipe facial transformation matrices of pure rotations in the
canonical face frame (x towards the patient's left, y up, z out of the face, towards the
camera). The slow test checks the same signs on a real clip against what the image shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_video

from spasm_cv.signals.geometry import EYE_OUTER, head_pose


def _rotation(axis: str, deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    r = {
        "x": [[1, 0, 0], [0, c, -s], [0, s, c]],
        "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
        "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
    }[axis]
    m = np.eye(4)
    m[:3, :3] = 1.7 * np.array(r)  # with a uniform scale, as MediaPipe's matrices have
    m[:3, 3] = (0.5, -1.0, -40.0)
    return m


@pytest.mark.parametrize("deg", [-25.0, -5.0, 5.0, 25.0])
def test_pose_signs_of_known_rotations(deg):
    left_eye, normal = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])

    m = _rotation("y", deg)  # face normal turned towards the patient's left when deg > 0
    yaw, pitch, roll = head_pose(m)
    assert yaw == pytest.approx(deg) and pitch == pytest.approx(0) and roll == pytest.approx(0)
    assert np.sign((m[:3, :3] @ left_eye)[2]) == -np.sign(deg)  # left eye away: yaw > 0

    m = _rotation("x", deg)
    yaw, pitch, roll = head_pose(m)
    assert pitch == pytest.approx(deg) and yaw == pytest.approx(0) and roll == pytest.approx(0)
    assert np.sign((m[:3, :3] @ normal)[1]) == -np.sign(deg)  # face looks down: pitch > 0

    m = _rotation("z", deg)
    yaw, pitch, roll = head_pose(m)
    assert roll == pytest.approx(deg) and yaw == pytest.approx(0) and pitch == pytest.approx(0)
    assert np.sign((m[:3, :3] @ left_eye)[1]) == np.sign(deg)  # left eye up: roll > 0


@pytest.mark.slow  # MediaPipe
def test_pose_signs_on_a_real_head_turn():
    """A webcam clip with the head turned, nodded and tilted both ways."""
    from spasm_cv.landmarks.observe import observe
    from spasm_cv.landmarks.tracker import FaceTracker
    from spasm_cv.video.reader import probe, read_frames

    path = shared_video("c3_webcam_man_headpose_smallface.mp4")
    rows = []
    with FaceTracker(fps=probe(path).fps) as tracker:
        for o in observe(read_frames(path), tracker):
            if o.face is None:
                continue
            lm = o.face.landmarks.astype(float) * (*o.size, o.size[0])  # pixels; z as x
            left, right, nose = lm[EYE_OUTER["left"]], lm[EYE_OUTER["right"]], lm[1]
            rows.append(
                (
                    *head_pose(o.face.matrix),
                    left[2] - right[2],  # > 0: left eye farther (MediaPipe z grows away)
                    nose[1] - (left[1] + right[1]) / 2,  # nose below the eye line (image y)
                    right[1] - left[1],  # > 0: the left eye higher in the image
                )
            )
    yaw, pitch, roll, depth, nose, rise = np.array(rows).T
    turned, tilted = np.abs(yaw) > 10, np.abs(roll) > 5
    assert turned.sum() > 20 and tilted.sum() > 20 and np.ptp(pitch) > 20
    assert np.mean(np.sign(yaw[turned]) == np.sign(depth[turned])) > 0.95
    assert np.corrcoef(pitch, nose)[0, 1] > 0.9  # face down: the nose tip drops in the image
    assert np.mean(np.sign(roll[tilted]) == np.sign(rise[tilted])) > 0.95
