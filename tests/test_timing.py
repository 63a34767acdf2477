"""Issue 16: time sanity. Implausible frame rates are repaired from the frame times or
refused, stills are refused, and a rate too low for blinks is said.

Before the fix a container claiming 0.25 fps was analysed as 4 s per frame, a still image
gave "0.0/h (95% CI 0.0-331999.2)", and broken times silently assumed 30 fps.
"""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO, cli, sample_cut
from fsfaults import assert_one_line_error, write_video

from spasm_cv.errors import SpasmCvError

BLINK_FPS = 15.0  # spasm_cv.video.timing.BLINK_FPS (checked below)


def decide_timing(*args, **kwargs):  # imported late: the file-level tests also run on main
    from spasm_cv.video import timing

    assert timing.BLINK_FPS == BLINK_FPS
    return timing.decide_timing(*args, **kwargs)


def _times(fps: float, n: int = 48) -> np.ndarray:
    return np.arange(n) / fps


def test_a_plausible_rate_with_matching_times_is_kept():
    t = decide_timing(25.0, _times(25.0))
    assert (t.fps, t.source, t.warnings) == (25.0, "container", ())


@pytest.mark.parametrize("nominal", [0.0, 0.25, 1000.0, float("nan")])
def test_an_implausible_rate_is_repaired_from_regular_frame_times(nominal):
    t = decide_timing(nominal, _times(30.0))
    assert t.fps == pytest.approx(30.0) and t.source == "frame_times"
    assert len(t.warnings) == 1 and "using 30 fps" in t.warnings[0]


def test_a_plausible_rate_contradicted_by_the_frame_times_gives_way_to_them():
    t = decide_timing(30.0, _times(25.0))
    assert t.fps == pytest.approx(25.0) and t.source == "frame_times"


def test_broken_times_keep_a_plausible_rate_with_a_warning():
    t = decide_timing(25.0, np.zeros(48))
    assert t.fps == 25.0 and "no usable time stamps" in t.warnings[0]


@pytest.mark.parametrize(
    "nominal, times",
    [
        (0.0, np.zeros(48)),  # no rate, all-zero times: formerly 30 fps assumed
        (0.25, _times(0.25)),  # really 4 s per frame
        (2.0, _times(2.0)),  # a clonic train would read as tonic
        (1000.0, _times(1000.0)),
        (0.0, np.full(48, np.nan)),
    ],
)
def test_an_implausible_rate_that_cannot_be_repaired_is_refused(nominal, times):
    with pytest.raises(SpasmCvError, match="implausible frame rate"):
        decide_timing(nominal, times)


@pytest.mark.parametrize("n", [0, 1])
def test_a_still_is_refused(n):
    with pytest.raises(SpasmCvError, match="still image"):
        decide_timing(25.0, _times(25.0, n))


def test_a_low_rate_is_analysed_with_a_warning():
    t = decide_timing(10.0, _times(10.0))
    assert t.fps == 10.0 and t.low_frame_rate
    assert any("too low to resolve blinks" in w for w in t.warnings)
    assert not decide_timing(BLINK_FPS, _times(BLINK_FPS)).low_frame_rate


# ------------------------------------------------------------------- real files


@pytest.mark.parametrize("fps", [0.25, 2.0, 300.0, 1000.0])
def test_absurd_frame_rate_containers_are_refused_in_one_line(tmp_path, fps):
    video = write_video(tmp_path / "clip.mp4", n=20, fps=fps)
    code, _, err = cli("analyze", video, "--out", tmp_path / "res")
    assert_one_line_error(code, err, "implausible frame rate", str(video))
    assert not (tmp_path / "res").exists()


def test_stills_are_refused(tmp_path):
    img = tmp_path / "face.jpg"
    cv2.imwrite(str(img), np.full((48, 64, 3), 120, np.uint8))
    code, _, err = cli("analyze", img, "--out", tmp_path / "r1")
    assert_one_line_error(code, err, "still image")
    renamed = tmp_path / "face.mp4"
    shutil.copy(img, renamed)
    code, _, err = cli("analyze", renamed, "--out", tmp_path / "r2")
    assert_one_line_error(code, err, "still image")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.jpg", "face.mp4"]


@pytest.mark.slow  # MediaPipe on 3 s of a real face at 10 fps
def test_a_face_at_10_fps_is_analysed_with_a_clear_warning(tmp_path):
    cap = cv2.VideoCapture(str(SAMPLE_VIDEO))
    frames = []
    while len(frames) < 75:
        ok, frame = cap.read()
        assert ok
        frames.append(frame)
    cap.release()
    h, w = frames[0].shape[:2]
    video = tmp_path / "slow.mp4"
    vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    for f in frames[::3]:  # 25 fps -> every third frame at 10 fps (slightly slower)
        vw.write(f)
    vw.release()
    code, out, err = cli("analyze", video, "--out", tmp_path / "res")
    assert code == 0, err
    warnings = [ln for ln in err.splitlines() if ln.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("spasm-cv: warning:")
    assert "too low to resolve blinks" in warnings[0]
    s = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert s["quality"]["low_frame_rate"] is True and s["fps"] == 10.0
    assert s["input"]["timing"]["source"] == "container"
    assert "too low to resolve blinks" in out


@pytest.mark.slow  # MediaPipe on 2 s of a real face
def test_an_analysis_opens_the_video_as_few_times_as_it_must(tmp_path, monkeypatch):
    """Issue 25: the video was opened four times (and a fifth past the last frame). With
    one job: OpenCV twice (header and first frames' times, then the frames from the start:
    it cannot rewind exactly), PyAV twice (the creation-time tag OpenCV does not give, and
    the decoding past where OpenCV stopped, damage or the end)."""
    import av

    from spasm_cv.pipeline import analyze_video

    clip = sample_cut(tmp_path / "clip.mp4", 2.0)
    opened: dict[str, int] = {"cv2": 0, "av": 0}
    real_capture, real_av_open = cv2.VideoCapture, av.open

    def capture(*args, **kwargs):
        opened["cv2"] += str(args[0]) == str(clip)
        return real_capture(*args, **kwargs)

    def av_open(*args, **kwargs):
        opened["av"] += str(args[0]) == str(clip)
        return real_av_open(*args, **kwargs)

    monkeypatch.setattr(cv2, "VideoCapture", capture)
    monkeypatch.setattr(av, "open", av_open)
    a = analyze_video(clip, tmp_path / "out", jobs=1)
    assert a.recording.summary.recorded_at_source in ("container", "file_mtime")
    assert opened == {"cv2": 2, "av": 2}
