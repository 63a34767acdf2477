"""Parallel analysis of one video: segment plan, frame-accurate seeking, stitching, events."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from conftest import shared_video

from spasm_cv.landmarks.parallel import stitch
from spasm_cv.signals.table import SIGNAL_COLUMNS, Signals
from spasm_cv.video import reader
from spasm_cv.video.reader import read_frames
from spasm_cv.video.segments import SegmentParams, plan_segments, segment_index

WINKS = "c2_winks_frowns_woman_lp_d3.mp4"  # 11.8 s, 512x512, 30 fps, two one-sided winks
JOIN_TOLERANCE_FRAMES = 3


def pingpong(src, dst, seconds: float, fourcc: str = "mp4v", size=None) -> None:
    """Write ``seconds`` of ``src`` looped forward-backward (no jump at the turns)."""
    write_pingpong(*bgr_frames(src, size), dst, seconds, fourcc)


def bgr_frames(src, size=None) -> tuple[list[np.ndarray], float]:
    """Every frame of ``src`` (resized to ``size``) and its frame rate."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f if size is None else cv2.resize(f, size))
    cap.release()
    return frames, fps


def write_pingpong(frames, fps: float, dst, seconds: float, fourcc: str = "mp4v") -> None:
    loop = frames + frames[-2:0:-1]
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    for i in range(int(round(seconds * fps))):
        out.write(loop[i % len(loop)])
    out.release()


# --- segment plan ---------------------------------------------------------------------


@pytest.mark.parametrize("fps", [30.0, 25.0, 29.97, None])
@pytest.mark.parametrize("duration", [0.5, 20.0, 59.9, 61.0, 3600.0])
def test_plan_gives_every_frame_exactly_one_segment(duration, fps):
    p = SegmentParams(segment_s=10.0)
    segs = plan_segments(duration, fps, p)
    assert [s.index for s in segs] == list(range(len(segs))) and segs[-1].last
    assert len(segs) == max(math.ceil(duration / p.segment_s - 1e-6), 1)
    rate = fps or 30.0
    n = int(duration * rate)
    times = np.arange(n) / rate + 1e-7 * np.sin(np.arange(n))  # container-time jitter
    sample = times[:: max(n // 300, 1)]
    owners = np.array([[s.keeps(t) for s in segs] for t in sample])
    assert np.all(owners.sum(axis=1) == 1)
    owner = np.array([segment_index(t, p.segment_s, fps) for t in times], dtype=int)
    assert np.all(np.diff(owner) >= 0)
    for s in segs:  # decoding from start_s reaches the segment's first frame, no earlier one
        mine = times[owner == s.index]
        if len(mine):
            assert s.start_s <= mine[0] + 1e-9 and not s.after(mine[-1])
        assert np.all(owner[times < s.start_s - 1e-9] < s.index)


def test_plan_does_not_depend_on_the_workers():
    """The boundaries are where the tracker restarts in every run, serial or parallel."""
    segs = plan_segments(3600.0, 30.0)
    assert len(segs) == 360
    assert segs[1].start_s == pytest.approx(299.5 / 30) and segs[1].keeps(10.0)
    assert not segs[0].keeps(10.0) and segs[0].keeps(9.98) and segs[0].after(10.0)
    assert segs[-1].keeps(7200.0) and not segs[-1].after(7200.0)  # open-ended: a short estimate


@pytest.mark.parametrize("duration", [0.0, float("nan"), -1.0])
def test_unknown_duration_is_one_open_segment(duration):
    (seg,) = plan_segments(duration, 30.0)
    assert seg.index == 0 and seg.last and seg.start_s == 0.0 and seg.keeps(1e6)


def test_segment_params_are_checked():
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            SegmentParams(segment_s=bad)


# --- seeking --------------------------------------------------------------------------


def _decode(path, **kw):
    return [(f.index, f.time_s, f.rgb) for f in read_frames(path, **kw)]


def _same(got, want) -> bool:
    return len(got) == len(want) and all(
        a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])
        for a, b in zip(got, want, strict=True)
    )


@pytest.fixture(scope="module")
def codec_clips(tmp_path_factory):
    """12 s of the winks clip as H.264 (the original, looped), MPEG-4 part 2 and MJPEG."""
    src = shared_video(WINKS)
    d = tmp_path_factory.mktemp("codecs")
    clips = [src]
    frames, fps = bgr_frames(src, size=(256, 256))
    for fourcc, ext in (("mp4v", "mp4"), ("MJPG", "avi")):
        clips.append(d / f"winks_{fourcc}.{ext}")
        write_pingpong(frames, fps, clips[-1], 12.0, fourcc)
    return clips


def test_seeking_is_frame_accurate_with_true_times(codec_clips, monkeypatch):
    landed = []
    seek = reader._seek
    monkeypatch.setattr(reader, "_seek", lambda cap, s: landed.append(s) or seek(cap, s))
    for clip in codec_clips:
        full = _decode(clip)
        landed.clear()
        for start, end in ((2.5, 4.0), (5.02, None), (7.0, 7.5), (9.99, 11.0)):
            want = [x for x in full if x[1] + 1e-9 >= start and (end is None or x[1] + 1e-9 < end)]
            assert _same(_decode(clip, start_s=start, end_s=end), want), (clip.name, start)
        assert len(landed) == 4  # every start beyond 2 s went through a seek


class _Overshooting:
    """A capture that seeks 3 s past the target, like a codec seeking to keyframes only."""

    def __init__(self, cap):
        self._cap = cap

    def set(self, prop, value):
        if prop == cv2.CAP_PROP_POS_MSEC:
            return self._cap.set(prop, value + 3000.0)
        return self._cap.set(prop, value)

    def __getattr__(self, name):
        return getattr(self._cap, name)


def test_a_seek_that_overshoots_falls_back_to_decoding_forward(codec_clips, monkeypatch):
    clip = codec_clips[1]
    full = _decode(clip)
    opened = []
    real_open = reader._open

    def open_overshooting(path):
        opened.append(path)
        return _Overshooting(real_open(path))

    monkeypatch.setattr(reader, "_open", open_overshooting)
    want = [x for x in full if 6.0 <= x[1] + 1e-9 < 8.0]
    assert _same(_decode(clip, start_s=6.0, end_s=8.0), want)
    assert len(opened) == 2  # the seek was refused and the file decoded from its start


# --- stitching ------------------------------------------------------------------------


def _signals(t0: float, n: int, interrupted: bool = False) -> Signals:
    time = t0 + np.arange(n) / 30.0
    cols = {c: np.full(n, t0) for c in SIGNAL_COLUMNS}
    meta = {"fps": 30.0, **({"interrupted": True} if interrupted else {})}
    return Signals(time, np.ones(n, bool), np.ones(n, np.int16), cols, meta)


def test_stitch_concatenates_in_order():
    out = stitch([_signals(0, 30), _signals(1, 30), _signals(2, 15)])
    assert len(out) == 75 and np.all(np.diff(out.time) > 0)
    assert "interrupted" not in out.meta


def test_stitch_after_an_interruption_keeps_the_contiguous_start():
    out = stitch([_signals(0, 30), _signals(1, 12, interrupted=True), _signals(2, 30)])
    assert len(out) == 42 and out.meta["interrupted"]
    out = stitch([_signals(0, 30), None, _signals(2, 30)])
    assert len(out) == 30 and out.meta["interrupted"]
    with pytest.raises(KeyboardInterrupt):
        stitch([None, _signals(1, 30)])


def test_stitch_stops_where_the_video_ended_early():
    """A truncated video: the segment holding its end stops early, as a serial decode."""
    early = _signals(1, 12)
    early.meta["ended_early"] = True
    out = stitch([_signals(0, 30), early, _signals(2, 30)])
    assert len(out) == 42 and "interrupted" not in out.meta and "ended_early" not in out.meta


# --- a whole analysis -----------------------------------------------------------------


@pytest.mark.slow
def test_parallel_run_is_identical_to_the_serial_run(tmp_path):
    """``--jobs 2`` on a 40 s clip (four 10 s segments, two per worker) equals ``--jobs 1``:
    signals bit for bit, hence the same events and summary."""
    from spasm_cv.pipeline import analyze_video

    clip = tmp_path / "winks40.mp4"
    pingpong(shared_video(WINKS), clip, 40.0)
    serial = analyze_video(clip, write=False, jobs=1)
    parallel = analyze_video(clip, tmp_path / "out", jobs=2)
    assert parallel.summary["complete"] and (tmp_path / "out" / "summary.json").is_file()
    assert np.array_equal(serial.signals.time, parallel.signals.time)
    assert np.array_equal(serial.signals.lost, parallel.signals.lost)
    for name in serial.signals.columns:
        assert np.array_equal(serial.signals[name], parallel.signals[name], equal_nan=True), name
    assert sum(e.trial_type == "spasm" for e in serial.detection.events) >= 3
    assert parallel.detection.events == serial.detection.events
    strip = ("processing",)
    assert {k: v for k, v in parallel.summary.items() if k not in strip} == {
        k: v for k, v in serial.summary.items() if k not in strip
    }


@pytest.mark.slow  # MediaPipe
def test_tracker_restarts_at_segment_boundaries(tmp_path):
    """A serial tracker restarts on the first frame of each segment, and from there gives
    the landmarks of a tracker started on that frame."""
    from spasm_cv.landmarks.tracker import FaceTracker

    frames = list(read_frames(shared_video(WINKS), end_s=3.0))
    params = SegmentParams(segment_s=1.0)
    with FaceTracker(segments=params, fps=30.0) as serial:
        got = [serial.detect(f.rgb, f.time_s) for f in frames]
        assert serial.restarts == 2
    with FaceTracker(segments=params, fps=30.0) as fresh:
        late = [fresh.detect(f.rgb, f.time_s) for f in frames[30:]]
        assert fresh.restarts == 1
    for a, b in zip(got[30:], late, strict=True):
        assert np.array_equal(a.landmarks, b.landmarks)
    with FaceTracker(segments=None) as never:
        for f in frames:
            never.detect(f.rgb, f.time_s)
        assert never.restarts == 0
