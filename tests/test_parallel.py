"""Parallel analysis of one video: segment plan, frame-accurate seeking, stitching, events."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import shared_video

from spasm_cv.parallel import stitch
from spasm_cv.signals.table import SIGNAL_COLUMNS, Signals
from spasm_cv.video import reader
from spasm_cv.video.reader import read_frames
from spasm_cv.video.segments import Segment, SegmentParams, plan_segments

WINKS = "c2_winks_frowns_woman_lp_d3.mp4"  # 11.8 s, 512x512, 30 fps, two one-sided winks
JOIN_TOLERANCE_FRAMES = 3


def pingpong(src, dst, seconds: float, fourcc: str = "mp4v", size=None) -> None:
    """Write ``seconds`` of ``src`` looped forward-backward (no jump at the turns)."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f if size is None else cv2.resize(f, size))
    cap.release()
    loop = frames + frames[-2:0:-1]
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    for i in range(int(round(seconds * fps))):
        out.write(loop[i % len(loop)])
    out.release()


# --- segment plan ---------------------------------------------------------------------


@pytest.mark.parametrize("duration", [20.0, 59.9, 61.0, 3600.0, 86400.0])
@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_plan_covers_the_recording_with_equal_work(duration, jobs):
    p = SegmentParams()
    segs = plan_segments(duration, jobs, p, fps=30.0)
    assert segs[0].start_s == 0 and segs[0].warmup_s == 0 and segs[-1].end_s is None
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.end_s == b.start_s and b.warmup_s == p.overlap_s
        assert b.start_s - a.start_s >= p.min_segment_s - 1 / 30
        assert (b.start_s * 30) % 1 == pytest.approx(0.5)  # half-way between frames
    work = [(s.end_s or duration) - s.read_from_s for s in segs]
    assert max(work) - min(work) < 2 / 30  # equal up to frame snapping
    assert len(segs) % jobs == 0 or len(segs) == int(duration // p.min_segment_s)
    assert max(work) <= p.max_segment_s + p.overlap_s + 1


@pytest.mark.parametrize("duration", [0.0, 5.0, 19.9, float("nan")])
def test_short_or_unknown_recordings_run_serially(duration):
    assert plan_segments(duration, 4) == [Segment(0.0, None)]
    assert plan_segments(600.0, 1) == [Segment(0.0, None)]


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
    for fourcc, ext in (("mp4v", "mp4"), ("MJPG", "avi")):
        clips.append(d / f"winks_{fourcc}.{ext}")
        pingpong(src, clips[-1], 12.0, fourcc, size=(256, 256))
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


def assert_same_events(serial, parallel, fps: float) -> None:
    """The tolerance of a parallel run: the same events (kind, side, regions, contractions),
    onsets and durations within ``JOIN_TOLERANCE_FRAMES`` frames, peak closure within 0.05."""
    assert len(parallel) == len(serial)
    tol = JOIN_TOLERANCE_FRAMES / fps + 1e-9
    for a, b in zip(serial, parallel, strict=True):
        assert (a.trial_type, a.side, a.kind, a.regions, a.n_contractions) == (
            b.trial_type,
            b.side,
            b.kind,
            b.regions,
            b.n_contractions,
        ), (a, b)
        assert abs(a.onset - b.onset) <= tol and abs(a.duration - b.duration) <= tol, (a, b)
        assert abs(a.peak_closure - b.peak_closure) <= 0.05, (a, b)


@pytest.mark.slow
def test_parallel_events_equal_serial_events(tmp_path):
    """``--jobs 2`` on a 40 s clip (two segments joined at ~20 s) gives the serial events."""
    from spasm_cv.pipeline import analyze_video

    clip = tmp_path / "winks40.mp4"
    pingpong(shared_video(WINKS), clip, 40.0)
    serial = analyze_video(clip, write=False, jobs=1)
    parallel = analyze_video(clip, tmp_path / "out", jobs=2)
    assert np.array_equal(serial.signals.time, parallel.signals.time)
    assert parallel.summary["complete"] and (tmp_path / "out" / "summary.json").is_file()
    assert sum(e.trial_type == "spasm" for e in serial.detection.events) >= 3
    assert_same_events(serial.detection.events, parallel.detection.events, serial.detection.fps)
    ps, ss = parallel.summary, serial.summary  # the counts reports use
    for side in ("left", "right"):
        ep = "episodes"
        assert ps[ep]["by_side"][side]["count"] == ss[ep]["by_side"][side]["count"]
    assert ps["blinks"]["count"] == ss["blinks"]["count"]
    assert ps["affected_side"] == ss["affected_side"]
    # the signals: the first segment is the serial computation itself; after the join a
    # fresh tracker differs from the serial one by a small fraction of each signal's spread
    join = np.searchsorted(serial.signals.time, 20.0)
    for name in ("eye_aperture_left", "eye_aperture_right", "bs_eyeBlink_left"):
        a, b = serial.signals[name], parallel.signals[name]
        assert np.array_equal(a[:join], b[:join], equal_nan=True)
        assert np.nanmedian(np.abs(a - b)[join:]) < 0.01 * np.nanstd(a)
