"""Phantom generator: schedule (pure), drawing, truth files, and real MediaPipe runs.

Tests that read ``../shared/videos`` (beside the repository) skip when it is absent; the
bundled sample phantom is checked with the landmarker in any case.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spasm_cv.errors import SpasmCvError
from spasm_cv.phantom import (
    TRUTH_COLUMNS,
    PhantomParams,
    ScheduleParams,
    envelope,
    make_phantom,
    pingpong,
    plan_episodes,
)
from spasm_cv.phantom import cli as phantom_cli
from spasm_cv.phantom.composite import (
    feathered_mask,
    paste_eye,
    pull_mouth_corner,
    similarity_transform,
)
from spasm_cv.phantom.donors import Donor, Rendition, choose_family, choose_rendition
from spasm_cv.phantom.schedule import Episode, allowed_intervals, closure_at
from spasm_cv.phantom.source import blink_runs, closures, open_baseline, track_video
from spasm_cv.phantom.truth import TruthRow, perceived, write_truth
from spasm_cv.video.reader import probe, read_frames

REPO = Path(__file__).resolve().parents[1]
VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "videos"
SAMPLE = REPO / "sample_videos" / "sample_phantom.mp4"
SAMPLE_TRUTH = REPO / "sample_videos" / "sample_phantom.truth.tsv"

needs_videos = pytest.mark.skipif(not VIDEOS.is_dir(), reason=f"{VIDEOS} absent")


def _video(name: str) -> Path:
    path = VIDEOS / name
    if not path.is_file():
        pytest.skip(f"{path} absent")
    return path


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _frames(path: Path) -> list[np.ndarray]:
    return [f.rgb for f in read_frames(path)]


# --------------------------------------------------------------------------- schedule


@st.composite
def _schedules(draw):
    duration = draw(st.floats(5.0, 120.0))
    cuts = sorted(draw(st.lists(st.floats(0.0, duration), min_size=0, max_size=8)))
    edges = [0.0, *cuts, duration]
    allowed = [
        (a + 0.2, b - 0.2) for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a > 0.5
    ]
    kinds = draw(
        st.lists(
            st.sampled_from(("twitch", "clonic", "tonic")), min_size=1, max_size=3, unique=True
        )
    )
    params = ScheduleParams(
        side=draw(st.sampled_from(("right", "left", "both"))),
        rate_per_min=draw(st.floats(1.0, 20.0)),
        kinds=tuple(kinds),
        mouth_prob=draw(st.floats(0.0, 1.0)),
    )
    full = {"right": draw(st.floats(0.2, 0.9)), "left": draw(st.floats(0.2, 0.9))}
    return draw(st.integers(0, 2**31)), duration, allowed, full, params


@settings(max_examples=examples(150), deadline=None)
@given(_schedules())
def test_schedule_properties(case):
    seed, duration, allowed, full, p = case
    episodes = plan_episodes(seed, duration, allowed, full, p)
    assert episodes == plan_episodes(seed, duration, allowed, full, p)  # pure, seeded
    assert len(episodes) <= max(1, round(p.rate_per_min * duration / 60))
    sides = {"right", "left"} if p.side == "both" else {p.side}
    for ep in episodes:
        assert ep.kind in p.kinds and ep.side in sides
        assert any(a - 1e-3 <= ep.onset_s and ep.offset_s <= b + 1e-3 for a, b in allowed)
        lo = min(p.min_closure, full[ep.side])
        assert lo - 1e-9 <= ep.peak_closure <= full[ep.side] + 1e-9
        assert (ep.mouth_level == 0) or (p.mouth_level[0] <= ep.mouth_level <= 1.0)
        for c in ep.contractions:
            assert p.close_s[0] <= c.close_s <= p.close_s[1]
            assert c.open_s >= c.close_s * 0.99 or ep.kind == "twitch"
        if ep.kind == "twitch":
            assert ep.n_contractions == 1
            assert p.twitch_s[0] - 1e-9 <= ep.duration_s <= p.twitch_s[1] + 1e-9
        elif ep.kind == "tonic":
            assert ep.n_contractions == 1
            assert p.tonic_s[0] - 1e-9 <= ep.duration_s <= p.tonic_s[1] + 1e-9
        else:
            assert p.clonic_n[0] <= ep.n_contractions <= p.clonic_n[1]
            starts = np.array([c.start_s for c in ep.contractions])
            rate = (ep.n_contractions - 1) / (starts[-1] - starts[0])
            assert 0.8 * p.clonic_hz[0] <= rate <= 1.25 * p.clonic_hz[1]
    for a, b in zip(episodes[:-1], episodes[1:], strict=True):
        assert b.onset_s - a.offset_s >= p.min_gap_s - 2e-3  # no overlap, gap kept


@pytest.mark.parametrize("kind", ["twitch", "clonic", "tonic"])
def test_envelope_shape(kind):
    p = ScheduleParams(kinds=(kind,))
    (ep,) = plan_episodes(7, 60.0, [(10.0, 20.0)], {"right": 0.6}, p)[:1]
    t = np.arange(ep.onset_s - 1.0, ep.offset_s + 1.0, 0.001)
    env = envelope(ep, t)
    assert env.min() >= 0.0 and env.max() <= 1.0 + 1e-12
    assert env.max() == pytest.approx(1.0, abs=1e-3)
    assert np.all(env[(t < ep.onset_s) | (t > ep.offset_s)] == 0.0)
    first = ep.contractions[0]
    rise = t[np.argmax(env >= 0.999 * first.level)] - ep.onset_s
    assert 0.045 <= rise <= 0.085  # closing phase 50-80 ms
    assert np.allclose(closure_at([ep], "right", t), ep.peak_closure * env)
    assert np.all(closure_at([ep], "left", t) == 0.0)


def test_no_room_no_episode():
    assert plan_episodes(1, 10.0, [(1.0, 1.1)], {"right": 0.6}, ScheduleParams()) == []
    assert plan_episodes(1, 60.0, [(0, 60)], {"right": 0.6}, ScheduleParams(rate_per_min=0.0)) == []


def test_allowed_intervals_and_blinks():
    times = np.arange(100) / 25.0
    open_ = np.ones(100, dtype=bool)
    open_[40:45] = False
    got = allowed_intervals(times, open_, 0.3, 0.04)
    assert np.allclose(got, [(0.3, 1.3), (1.8 + 0.3, 4.0 - 0.3)])
    c = {"right": np.zeros(20), "left": np.zeros(20)}
    c["right"][5:10] = [0.1, 0.4, 0.8, 0.3, 0.1]
    c["left"][5:10] = [0.1, 0.5, 0.7, 0.2, 0.06]
    assert blink_runs(c, 0.2) == [(5, 10)]


def test_pingpong():
    assert pingpong(4, 11).tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2]
    assert pingpong(5, 3).tolist() == [0, 1, 2]
    assert pingpong(1, 3).tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- drawing


def test_similarity_transform_recovers_known():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, size=(12, 2))
    angle, scale, shift = 0.2, 1.3, np.array([5.0, -7.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    m = similarity_transform(src, dst)
    assert np.allclose(m[:, :2], rot) and np.allclose(m[:, 2], shift)


def test_feathered_mask_inside_one_outside_zero():
    square = np.array([[20, 20], [60, 20], [60, 60], [20, 60]], dtype=float)
    mask = feathered_mask(square, (0, 0, 80, 80), dilate_px=3.0, feather_px=2.0)
    assert mask[40, 40] == pytest.approx(1.0, abs=1e-3)
    assert mask[2, 2] == 0.0 and mask[78, 40] == 0.0
    assert 0.0 < mask[40, 61] < 1.0  # soft edge


def test_paste_eye_identity_keeps_frame():
    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), (0, 0), 3)
    anchors = np.array([[50, 50], [90, 50], [70, 30], [70, 75], [45, 62], [95, 38.0]])
    region = np.array([[55, 45], [85, 45], [85, 65], [55, 65]], dtype=float)
    out = paste_eye(img, img, anchors, anchors, region, iod=60.0)
    assert np.abs(out.astype(int) - img.astype(int)).max() <= 3
    other = np.full_like(img, 200)
    out = paste_eye(img, other, anchors, anchors, region, iod=60.0)
    assert np.abs(out[55, 70].astype(int) - 200).max() <= 60  # donor inside (gain-matched)
    assert np.array_equal(out[:20], img[:20])  # untouched away from the eye


def test_pull_mouth_corner_moves_the_corner():
    img = np.zeros((200, 200, 3), dtype=np.uint8)
    cv2.circle(img, (100, 120), 3, (255, 255, 255), -1)
    up, outward = np.array([0.0, -1.0]), np.array([-1.0, 0.0])
    out = pull_mouth_corner(img, np.array([100.0, 120.0]), outward, up, iod=100.0, amount=1.0)
    ys, xs = np.nonzero(out[..., 0] > 128)
    assert xs.mean() == pytest.approx(100 - 5.0, abs=1.0)  # out 0.05 IOD
    assert ys.mean() == pytest.approx(120 - 8.0, abs=1.0)  # up 0.08 IOD
    assert np.array_equal(
        pull_mouth_corner(img, np.array([100.0, 120.0]), outward, up, 100.0, 0.0), img
    )


def test_rendition_choice_stays_in_one_blink():
    def rend(frame, blink, closure, strength=1.0):
        d = Donor(frame, "right", blink, 0.8, (0.0, 0.0, 0.0))
        return Rendition(d, strength, closure, 0.1)

    rs = [rend(1, 0, 0.6), rend(2, 0, 0.2), rend(1, 0, 0.3, 0.8), rend(9, 1, 0.4), rend(8, 1, 0.1)]
    assert choose_family(rs, 0.55, (0, 0, 0)) == 0
    assert choose_rendition(rs, 0.27, family=0).closure == 0.3
    assert choose_rendition(rs, 0.38, family=1).donor.frame == 9
    assert choose_rendition(rs, 0.38).donor.frame == 9  # any family


# --------------------------------------------------------------------------- truth files


def test_truth_files(tmp_path):
    rows = [
        TruthRow(1.23456, 0.3, "right", "twitch", 1, 0.5, 0.61, 0.1, True, True),
        TruthRow(5.0, 2.0, "left", "tonic", 1, 0.4, float("nan"), 0.2, False, False),
    ]
    sidecar = write_truth(tmp_path / "x.truth.tsv", rows, {"duration_s": 60.0})
    assert sidecar == tmp_path / "x.truth.json"
    lines = (tmp_path / "x.truth.tsv").read_text().splitlines()
    assert lines[0].split("\t") == list(TRUTH_COLUMNS)
    assert lines[1].split("\t") == [
        "1.235",
        "0.300",
        "right",
        "twitch",
        "1",
        "0.500",
        "0.610",
        "0.100",
        "yes",
        "yes",
    ]
    assert lines[2].split("\t")[6] == "n/a"
    meta = json.loads(sidecar.read_text())
    assert meta["duration_s"] == 60.0 and set(meta["columns"]) == set(TRUTH_COLUMNS)
    tables = pytest.importorskip("spasm_cv.evaluation.tables")
    episodes = tables.read_truth(tmp_path / "x.truth.tsv")
    assert list(episodes.side) == ["right", "left"] and list(episodes.clear) == [True, False]
    assert perceived(np.array([0.1, 0.5, np.nan, 0.9]), np.arange(4.0), 0.0, 2.5) == 0.5


# --------------------------------------------------------------------------- real videos


@pytest.mark.slow  # MediaPipe
@needs_videos
def test_deterministic_and_perceived(tmp_path):
    src = _video("c3_grid_woman_brbk7n.mp4")
    params = PhantomParams(seed=3, seconds=4.0, schedule=ScheduleParams(rate_per_min=20.0))
    a = make_phantom(src, tmp_path / "a.mp4", tmp_path / "a.truth.tsv", params)
    b = make_phantom(src, tmp_path / "b.mp4", tmp_path / "b.truth.tsv", params)
    assert (tmp_path / "a.truth.tsv").read_text() == (tmp_path / "b.truth.tsv").read_text()
    fa, fb = _frames(a.video), _frames(b.video)
    assert len(fa) == len(fb) == 100  # 4 s at 25 fps, looped forward-backward
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    info = probe(a.video)
    assert (info.width, info.height, info.fps) == (360, 288, 25.0)
    assert len(a.rows) >= 1
    for r in a.rows:
        assert r.side == "right"
        assert r.perceived_closure >= 0.3  # the landmarker sees the pasted eye closed ...
        assert r.perceived_closure_other <= 0.5 * r.perceived_closure  # ... not the other
    # The source frames outside episodes are untouched (up to the codec).
    original = _frames(src)
    quiet = [
        k
        for k in range(100)
        if all(not (r.onset_s - 0.1 <= k / 25 <= r.onset_s + r.duration_s + 0.1) for r in a.rows)
    ]
    order = pingpong(len(original), 100)
    err = np.mean([np.abs(fa[k].astype(int) - original[order[k]]).mean() for k in quiet])
    assert err < 4.0


@pytest.mark.slow  # MediaPipe
def test_sample_phantom_is_perceived():
    """The bundled sample: re-measured with a fresh tracker, it matches its truth table."""
    assert SAMPLE.is_file() and SAMPLE_TRUTH.is_file()
    truth = _read_tsv(SAMPLE_TRUTH)
    meta = json.loads(SAMPLE_TRUTH.with_suffix(".json").read_text())
    info = probe(SAMPLE)
    track = track_video(SAMPLE, info.width, info.height)
    assert len(track) == meta["n_frames"] and track.face.all()
    t = np.arange(len(track)) / meta["fps"]
    busy = np.zeros(len(track), dtype=bool)
    for r in truth:
        on, du = float(r["onset"]), float(r["duration"])
        busy |= (t >= on - 0.5) & (t <= on + du + 0.5)
    base = {s: open_baseline(track.aperture[s], ~busy) for s in ("right", "left")}
    c = closures(track.aperture, base)
    assert len(truth) >= 6 and {r["kind"] for r in truth} == {"twitch", "clonic", "tonic"}
    assert any(r["mouth"] == "yes" for r in truth)
    good = 0
    for r in truth:
        on, du = float(r["onset"]), float(r["duration"])
        other = "left" if r["side"] == "right" else "right"
        seen = perceived(c[r["side"]], t, on - 0.02, on + du + 0.04)
        seen_other = perceived(c[other], t, on - 0.02, on + du + 0.04)
        assert seen == pytest.approx(float(r["perceived_closure"]), abs=0.08)
        good += seen >= 0.3 and seen_other <= 0.5 * seen
    assert good >= 0.75 * len(truth)
    # Between episodes the injected eye reads open.
    assert np.nanmedian(c["right"][~busy]) < 0.1


@pytest.mark.slow  # MediaPipe
@needs_videos
def test_negative_needs_no_blink(tmp_path):
    src = _video("c3_grid_man_darkskin_swiz3n.mp4")
    params = PhantomParams(seconds=5.0, schedule=ScheduleParams(rate_per_min=0.0))
    ph = make_phantom(src, tmp_path / "neg.mp4", tmp_path / "neg.truth.tsv", params)
    assert ph.rows == []
    assert (tmp_path / "neg.truth.tsv").read_text().splitlines() == ["\t".join(TRUTH_COLUMNS)]
    meta = json.loads((tmp_path / "neg.truth.json").read_text())
    assert meta["duration_s"] == 5.0 and meta["n_episodes"] == 0
    assert len(_frames(ph.video)) == 125


# --------------------------------------------------------------------------- bad input


def _write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.mark.slow  # MediaPipe
def test_no_face(tmp_path):
    rng = np.random.default_rng(0)
    frames = [
        np.full((120, 160, 3), 128, np.uint8) + rng.integers(0, 20, (120, 160, 3), dtype=np.uint8)
        for _ in range(40)
    ]
    src = _write_video(tmp_path / "grey.mp4", frames)
    with pytest.raises(SpasmCvError, match="no face found"):
        make_phantom(src, tmp_path / "o.mp4", tmp_path / "o.truth.tsv")


def test_unreadable_and_bad_output(tmp_path):
    bad = tmp_path / "not_a_video.mp4"
    bad.write_text("hello")
    with pytest.raises(SpasmCvError, match="cannot decode|no frame"):
        make_phantom(bad, tmp_path / "o.mp4", tmp_path / "o.truth.tsv")
    with pytest.raises(SpasmCvError, match="not found"):
        make_phantom(tmp_path / "missing.mp4", tmp_path / "o.mp4", tmp_path / "o.truth.tsv")
    with pytest.raises(SpasmCvError, match="unsupported output type"):
        make_phantom(bad, tmp_path / "o.gif", tmp_path / "o.truth.tsv")


@pytest.mark.slow  # MediaPipe
@needs_videos
def test_no_blink(tmp_path):
    src = _video("c3_grid_man_darkskin_swiz3n.mp4")
    with pytest.raises(SpasmCvError, match="no natural blink"):
        make_phantom(src, tmp_path / "o.mp4", tmp_path / "o.truth.tsv")


@pytest.mark.slow  # MediaPipe
@needs_videos
def test_too_short(tmp_path):
    frames = _frames(_video("c3_grid_man_bbaf2n.mp4"))[38:56]  # 0.7 s, with a blink
    src = _write_video(tmp_path / "short.mp4", frames)
    with pytest.raises(SpasmCvError, match="too short"):
        make_phantom(src, tmp_path / "o.mp4", tmp_path / "o.truth.tsv")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spasm-cv")
    phantom_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_arguments_and_errors(tmp_path, capsys):
    args = _parse(
        [
            "phantom",
            "in.mp4",
            "--out",
            "o.mp4",
            "--truth",
            "o.truth.tsv",
            "--side",
            "both",
            "--kinds",
            "tonic,twitch",
            "--rate",
            "3",
            "--mouth-prob",
            "0.2",
            "--seconds",
            "30",
            "--seed",
            "9",
        ]
    )
    p = phantom_cli.params_from_args(args)
    assert p.schedule.side == "both" and p.schedule.kinds == ("tonic", "twitch")
    assert (p.schedule.rate_per_min, p.schedule.mouth_prob, p.seconds, p.seed) == (
        3.0,
        0.2,
        30.0,
        9,
    )
    with pytest.raises(SystemExit):
        _parse(["phantom", "in.mp4", "--out", "o.mp4", "--truth", "t.tsv", "--kinds", "wink"])
    capsys.readouterr()
    args = _parse(
        [
            "phantom",
            str(tmp_path / "missing.mp4"),
            "--out",
            str(tmp_path / "o.mp4"),
            "--truth",
            str(tmp_path / "o.truth.tsv"),
        ]
    )
    assert args.func(args) == 2
    assert "spasm-cv: error: video not found" in capsys.readouterr().err


def test_episode_truth_matches_envelope():
    ep = Episode(
        2.0,
        "left",
        "tonic",
        0.5,
        plan_episodes(1, 60, [(0, 60)], {"right": 0.6}, ScheduleParams(kinds=("tonic",)))[
            0
        ].contractions,
    )
    t = np.arange(0, 6, 0.04)
    c = closure_at([ep], "left", t)
    assert c.max() == pytest.approx(0.5, abs=1e-6)
    assert np.all(c[t < 2.0] == 0) and np.all(c[t > ep.offset_s] == 0)
