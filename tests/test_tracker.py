"""FaceTracker: which face it follows when several are in view."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import shared_video

from spasm_cv.landmarks.tracker import FaceTracker, largest_face_only
from spasm_cv.video.reader import read_frames
from spasm_cv.video.segments import SegmentParams

PATIENT = "c3_talking_child_lp_d11.mp4"  # 512x512, 25 fps
BYSTANDER = "c3_expressions_man_lp_d18.mp4"  # 480x480
W, H = 960, 540
PATIENT_BOX = (40, 50, 480, 490)  # x0, y0, x1, y1 in the composite
BYSTANDER_SIZE = 380  # smaller, but MediaPipe on its own prefers this face


def _detection(x, y, w, h):
    return SimpleNamespace(bounding_box=SimpleNamespace(origin_x=x, origin_y=y, width=w, height=h))


def test_largest_face_only_greys_the_others():
    rgb = np.full((100, 200, 3), 7, np.uint8)
    out = largest_face_only(rgb, [_detection(10, 10, 40, 40), _detection(120, 20, 20, 20)])
    assert np.all(out[20:40, 120:140] == 128)  # the smaller face, greyed with its margin
    assert np.all(out[15:35, 115:145] == 128)
    assert np.all(out[10:50, 10:50] == 7) and np.all(out[:, 60:100] == 7)
    assert np.all(rgb == 7)  # the input is left alone


@pytest.fixture(scope="module")
def two_faces():
    """Three seconds of a large face (left) beside a smaller one (right)."""
    big = [f.rgb for f in read_frames(shared_video(PATIENT), end_s=3.0)]
    small = [f.rgb for f in read_frames(shared_video(BYSTANDER), end_s=3.0)]
    frames = []
    x0, y0, x1, y1 = PATIENT_BOX
    for a, b in zip(big, small, strict=False):
        c = np.full((H, W, 3), 90, np.uint8)
        c[y0:y1, x0:x1] = cv2.resize(a, (x1 - x0, y1 - y0))
        c[60 : 60 + BYSTANDER_SIZE, 560 : 560 + BYSTANDER_SIZE] = cv2.resize(
            b, (BYSTANDER_SIZE, BYSTANDER_SIZE)
        )
        frames.append(c)
    return frames


@pytest.mark.slow
def test_the_largest_face_is_followed_across_restarts(two_faces):
    """With a tracker restart every second, the followed face never switches to the
    bystander (MediaPipe alone starts on the bystander here), and frames are flagged."""
    x0, _, x1, _ = PATIENT_BOX
    with FaceTracker(segments=SegmentParams(segment_s=1.0), fps=25.0) as tracker:
        obs = [tracker.detect(f, i / 25.0) for i, f in enumerate(two_faces)]
        assert tracker.restarts == 2
    assert all(o is not None for o in obs)
    centres = np.array([o.landmarks[:, 0].mean() * W for o in obs])
    assert np.all((centres > x0) & (centres < x1)), centres.round()
    assert all(o.n_faces == 2 for o in obs)


def test_crop_geometry_maps_back_to_the_frame():
    from spasm_cv.landmarks.tracker import crop_around, tiles, uncrop_landmarks

    # tiles cover the frame, overlapping by half a tile
    t = tiles(1920, 1080)
    assert t[0][:2] == (0, 0) and max(x1 for *_, x1, _ in t) == 1920
    assert max(y1 for *_, y1 in t) == 1080
    # a square crop 3x the face, kept inside the frame
    x0, y0, x1, y1 = crop_around((1850, 10, 40, 50), 1920, 1080, 3.0)
    assert (x1 - x0, y1 - y0) == (150, 150) and x1 == 1920 and y0 == 0
    lm = np.array([[0.5, 0.5, 0.1], [0.0, 1.0, -0.2]], np.float32)
    out = uncrop_landmarks(lm, (100, 200, 400, 500), 1000, 800)
    assert np.allclose(out[0], [250 / 1000, 350 / 800, 0.1 * 300 / 1000])
    assert np.allclose(out[1], [100 / 1000, 500 / 800, -0.2 * 300 / 1000])


@pytest.mark.slow
def test_small_face_in_a_large_frame_is_found():
    """A speaker at a lectern in 1080p (IOD ~95 px): the landmarker's own detector misses
    the face; the tracker finds it in tiles and follows it in a crop."""
    from spasm_cv.signals.geometry import side_measures

    path = shared_video("c3_metrical_duda_speech.mp4")
    found, iod = 0, []
    frames = list(read_frames(path, end_s=4.0))
    with FaceTracker() as tracker:
        for f in frames:
            obs = tracker.detect(f.rgb, f.time_s)
            if obs is None:
                continue
            found += 1
            px = obs.landmarks[[33, 263], :2] * [f.rgb.shape[1], f.rgb.shape[0]]
            iod.append(np.linalg.norm(px[0] - px[1]))
            m = side_measures(obs.landmarks, f.rgb.shape[1], f.rgb.shape[0])
            assert 0.03 < m["eye_aperture_right"] < 0.2  # a plausible open eye, in IOD
    assert found >= 0.9 * len(frames)
    assert 80 < np.median(iod) < 110  # the manifest's outer-eye-corner distance, ~95 px
