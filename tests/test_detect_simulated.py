"""Detection core on simulated signals with exact truth (no video, fast)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spasm_cv.events.detect import detect
from spasm_cv.events.simulate import SimEpisode, simulate_signals
from spasm_cv.events.stream import StreamingDetector

SETTINGS = settings(
    max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MIN_AMPLITUDE = 0.45  # stated: every one-sided episode at least this closed is found


@st.composite
def episodes(draw, n_slots=6, slot_s=8.0):
    eps = []
    for i in range(draw(st.integers(0, n_slots))):
        kind = draw(st.sampled_from(["twitch", "clonic", "tonic"]))
        hold = draw(st.floats(1.0, 3.0)) if kind == "tonic" else draw(st.floats(0.03, 0.15))
        eps.append(
            SimEpisode(
                onset=2.0 + i * slot_s + draw(st.floats(0, 2)),
                side=draw(st.sampled_from(["left", "right"])),
                kind=kind,
                amplitude=draw(st.floats(MIN_AMPLITUDE, 1.0)),
                n_contractions=draw(st.integers(3, 6)) if kind == "clonic" else 1,
                hold_s=hold,
                # the lid reopens between clonic contractions (rise 0.06 s + fall 0.10 s)
                period_s=draw(st.floats(min(hold + 0.18, 0.6), 0.6)),
                mouth=draw(st.booleans()),
            )
        )
    return tuple(eps)


conditions = st.fixed_dictionaries(
    {
        "blinks_per_min": st.floats(0, 30),
        "noise": st.floats(0, 0.03),
        "drift": st.floats(0, 0.1),
        "head_turns": st.integers(0, 3),
        "rest_asymmetry": st.floats(0, 0.3),
        "expressions_per_min": st.floats(0, 12),
        "lopsided": st.floats(-0.2, 0.2),
        "talking": st.booleans(),
        "fps": st.sampled_from([25.0, 30.0, 60.0]),
        "seed": st.integers(0, 2**16),
    }
)


def spasms(events):
    return [e for e in events if e.trial_type == "spasm" and e.involves_eye]


@SETTINGS
@given(conditions)
def test_no_episode_from_noise_blinks_drift_and_head_turns(cond):
    signals, _ = simulate_signals(duration_s=50.0, **cond)
    assert spasms(detect(signals).events) == []


@SETTINGS
@given(episodes(), conditions)
def test_every_episode_found_once_on_its_side(eps, cond):
    signals, _ = simulate_signals(duration_s=52.0, episodes=eps, **cond)
    events = detect(signals).events
    # found: counted, or listed as possible (the other eye moved too: the simulated coupling of
    # the eyes under a strong contraction, with speech or an expression moving both lids)
    found = sorted(spasms(events) + [e for e in events if e.is_possible], key=lambda e: e.onset)
    assert len(found) == len(eps)
    busy = cond["talking"] or cond["head_turns"] or cond["expressions_per_min"] > 0
    assert busy or not any(e.is_possible for e in found)  # calm face: every one counted
    for ep, ev in zip(eps, sorted(found, key=lambda e: e.onset), strict=True):
        assert ev.side == ep.side
        assert ev.onset < ep.onset + ep.duration and ep.onset < ev.end
        expected_kind = "twitch" if ep.kind == "clonic" and ev.n_contractions == 1 else ep.kind
        assert ev.kind in (ep.kind, expected_kind)


@SETTINGS
@given(episodes(), conditions)
def test_mirroring_flips_sides_and_nothing_else(eps, cond):
    signals, _ = simulate_signals(duration_s=52.0, episodes=eps, **cond)
    flip = {"left": "right", "right": "left", "both": "both"}
    expected = [dataclasses.replace(e, side=flip[e.side]) for e in detect(signals).events]
    got = detect(signals.mirrored()).events
    key = lambda e: (e.onset, e.trial_type, e.side)  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)


def _stream(signals, chunk):
    sd = StreamingDetector(signals.meta["fps"])
    out = []
    for i in range(0, len(signals), chunk):
        part = signals.slice(i, i + chunk)
        out += sd.push(part.time, part.columns).events
    return out + sd.flush()


@settings(max_examples=examples(8), deadline=None)
@given(episodes(n_slots=12, slot_s=9.0), conditions, st.sampled_from([1, 5, 64]))
def test_streaming_equals_offline(eps, cond, chunk):
    signals, _ = simulate_signals(duration_s=110.0, episodes=eps, **cond)
    key = lambda e: (e.onset, e.trial_type, e.side)  # noqa: E731
    assert sorted(_stream(signals, chunk), key=key) == detect(signals).events


def test_streaming_latency_is_bounded():
    eps = tuple(SimEpisode(5.0 + 10 * i, "right", "twitch", 0.8) for i in range(10))
    signals, _ = simulate_signals(duration_s=110.0, episodes=eps, seed=4)
    sd = StreamingDetector(30.0)
    delays = []
    for i in range(len(signals)):
        part = signals.slice(i, i + 1)
        for e in spasms(sd.push(part.time, part.columns).events):
            delays.append(part.time[0] - e.end)
    assert len(delays) == 10 and max(delays) <= sd.latency_s + 1e-9 <= 1.0


def test_blink_during_tonic_spasm_is_reported_apart():
    signals, _ = simulate_signals(
        duration_s=20.0,
        episodes=(SimEpisode(5.0, "left", "tonic", 0.7, hold_s=2.5),),
        blinks_per_min=0,
        seed=2,
    )
    # a blink of the other (right) eye in the middle of the left tonic closure
    t = signals.time
    blink = np.exp(-0.5 * ((t - 6.5) / 0.05) ** 2)
    signals.columns["eye_aperture_right"] = signals.columns["eye_aperture_right"] * (
        1 - 0.9 * blink
    )
    events = detect(signals).events
    assert [(e.side, e.kind) for e in spasms(events)] == [("left", "tonic")]
    assert any(e.trial_type == "blink" and 6.2 < e.onset < 6.6 for e in events)


def test_clonic_train_is_one_episode_counting_contractions():
    ep = SimEpisode(4.0, "right", "clonic", 0.7, n_contractions=5, period_s=0.3, mouth=True)
    signals, _ = simulate_signals(duration_s=15.0, episodes=(ep,), blinks_per_min=0, seed=9)
    (ev,) = spasms(detect(signals).events)
    assert ev.kind == "clonic" and ev.n_contractions == 5
    assert ev.regions == "eye+mouth" and ev.mouth_cocontraction


def test_partial_one_sided_closure_with_narrow_resting_eye():
    # Osaki 2019: one-sided movements are smaller than blinks; Gameiro 2024: narrower rest.
    eps = (SimEpisode(6.0, "right", "twitch", 0.4, hold_s=0.1),)
    signals, _ = simulate_signals(
        duration_s=15.0, episodes=eps, rest_asymmetry=0.2, blinks_per_min=0, seed=5
    )
    assert [e.side for e in spasms(detect(signals).events)] == ["right"]


def test_narrow_eyed_expressive_talker_gives_no_episode():
    """The failure of a detector that judges one-sidedness only relative to each eye's own
    open level: a face whose right eye rests 30 % narrower, smiling and squinting (both eyes
    narrow by the same absolute amount) while talking, reads as right-sided tonic spasms."""
    for seed in range(4):
        signals, _ = simulate_signals(
            duration_s=60.0,
            rest_asymmetry=0.3,
            expressions_per_min=12,
            talking=True,
            lopsided=0.15,
            seed=seed,
        )
        assert spasms(detect(signals).events) == []


def test_episodes_found_on_a_narrow_eyed_expressive_talker():
    eps = (
        SimEpisode(5.0, "right", "twitch", 0.6),
        SimEpisode(15.0, "left", "tonic", 0.7, hold_s=1.5),
        SimEpisode(25.0, "right", "clonic", 0.7, n_contractions=4),
    )
    signals, _ = simulate_signals(
        duration_s=35.0,
        episodes=eps,
        rest_asymmetry=0.3,
        expressions_per_min=12,
        talking=True,
        lopsided=0.15,
        seed=3,
    )
    found = spasms(detect(signals).events)
    assert [(e.side, e.kind) for e in found] == [
        ("right", "twitch"),
        ("left", "tonic"),
        ("right", "clonic"),
    ]


@pytest.mark.parametrize("fps", [12.5, 15.0, 30.0])
def test_one_frame_of_one_eye_is_not_an_episode_at_any_frame_rate(fps):
    """A webcam halves its rate in dim light: then one frame is 67-80 ms, and the frame in
    which one eye's landmarks lag (a blink caught a frame apart, motion blur) looked like
    a twitch. A contraction must be seen in two frames at least."""
    signals, _ = simulate_signals(duration_s=40.0, fps=fps, blinks_per_min=0, seed=2)
    for k, t in enumerate(np.arange(3.0, 38.0, 3.0)):
        i = int(round(t * fps))
        side = "right" if k % 2 else "left"
        signals.columns[f"eye_aperture_{side}"][i] *= 0.5  # one frame, half closed
    assert spasms(detect(signals).events) == []
    # while a twitch lasting a few frames is found at that rate
    eps = (SimEpisode(10.0, "left", "twitch", 0.8, hold_s=0.1),)
    signals, _ = simulate_signals(duration_s=20.0, fps=fps, episodes=eps, seed=2)
    assert [e.side for e in spasms(detect(signals).events)] == ["left"]


def _blinks_with_a_late_lid(times, late_side, fps=30.0, seed=0):
    """Blinks at ``times`` in which ``late_side``'s lid reopens over 0.3 s instead of 0.1 s
    (both close together; one lid's landmarks lag under motion blur)."""
    signals, _ = simulate_signals(
        duration_s=max(times) + 5.0, fps=fps, blinks_per_min=0, noise=0.005, seed=seed
    )
    t = signals.time
    for onset in times:
        for side in ("left", "right"):
            fall = 0.3 if side == late_side else 0.1
            closing = np.clip((t - onset) / 0.06, 0, 1)
            opening = np.clip(1 - (t - onset - 0.14) / fall, 0, 1)
            signals.columns[f"eye_aperture_{side}"] *= 1 - 0.9 * np.minimum(closing, opening)
    return signals


def test_one_lid_reopening_late_after_blinks_is_not_an_episode():
    """Blinks during head turns: one lid's landmarks lag under motion blur, so that eye
    reads closed a few frames after the other reopened, without ever closing on its own.
    Not a contraction (without the rule that says so, these are twitches)."""
    from spasm_cv.events.params import DetectionParams

    times = [4.0, 9.0, 14.0, 19.0, 24.0]
    for side in ("left", "right"):
        signals = _blinks_with_a_late_lid(times, side)
        assert spasms(detect(signals).events) == []
        without = spasms(detect(signals, DetectionParams().with_values(min_close_speed=0.0)).events)
        assert {e.side for e in without} == {side}


def test_a_held_one_sided_closure_after_a_blink_is_found():
    """What the rule must not take: a lid that stays shut after a blink (a spasm the blink
    set off), though it does not close on its own either."""
    signals = _blinks_with_a_late_lid([5.0], "left")
    t = signals.time
    held = (t >= 5.2) & (t < 5.8)  # the left lid stays 80 % closed for 0.6 s
    signals.columns["eye_aperture_left"][held] = 0.2 * np.median(
        signals.columns["eye_aperture_left"][:60]
    )
    assert [e.side for e in spasms(detect(signals).events)] == ["left"]


def test_fast_head_motion_asks_for_a_larger_difference_between_the_eyes():
    from spasm_cv.events.candidates import FEATURES
    from spasm_cv.events.decide import accept
    from spasm_cv.events.params import DetectionParams

    params = DetectionParams().decide
    x = np.zeros(len(FEATURES))
    for name, value in {
        "peak_closure": 0.45,
        "other_closure": 0.2,
        "margin": 0.2,
        "usual_asymmetry": 0.06,
        "close_speed": 3.0,
        "held_s": 0.1,
    }.items():
        x[FEATURES.index(name)] = value
    moving = x.copy()
    moving[FEATURES.index("head_speed_deg_s")] = 90.0
    assert accept(x, params).tolist() == [True]
    assert accept(moving, params).tolist() == [False]
    still = dataclasses.replace(params, head_speed_weight=0.0)
    assert accept(moving, still).tolist() == [True]


@pytest.mark.xfail(strict=True, reason="known: a false low-confidence tonic episode (issue #21)")
def test_lopsided_expressions_while_turning_the_head_give_no_episode():
    # found by an explored property test (SPASM_CV_HYPOTHESIS=explore); strict: when the
    # detector no longer makes this episode, this test fails and the mark is to be removed
    cond = {"blinks_per_min": 6.0, "noise": 0.0234375, "drift": 0.0625, "head_turns": 3,
            "rest_asymmetry": 0.0, "expressions_per_min": 9.0, "lopsided": -0.1875,
            "talking": False, "fps": 25.0, "seed": 155}  # fmt: skip
    signals, _ = simulate_signals(duration_s=52.0, **cond)
    assert spasms(detect(signals).events) == []
