"""Unit tests of :mod:`spasm_cv.events.episodes`: per-side activity to events.

The activities are built by hand at 30 fps (square closures of known frames), so every
onset, duration and count has a known answer. ``eye_episodes`` is given a stub decider, so
what is checked is how an accepted candidate becomes an event, not the packaged rule; the
packaged rule is used only where an end-to-end answer is obvious (a wide one-sided closure).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spasm_cv.events.activity import Activity
from spasm_cv.events.candidates import FEATURES
from spasm_cv.events.episodes import (
    bilateral_mask,
    blink_events,
    eye_episodes,
    find_events,
    mouth_episodes,
    mouth_pull,
    one_sided,
)
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import POSSIBLE, SPASM, TRIAL_TYPES, Event

FPS = 30.0
P = DetectionParams()
MERGE = int(round(P.candidates.merge_gap_s * FPS))  # 18 frames


def activity(n, right=None, left=None, *, mouth=None, brow=None, measurable=None, drop_scale=0.3):
    """An activity of ``n`` frames at 30 fps: closures (0 where not given), mouth and brow
    per side (0 where not given), every frame measurable unless said; each eye's aperture
    drop is ``drop_scale`` x its closure (an open eye of ``drop_scale`` IOD)."""
    closure = {
        "right": np.zeros(n) if right is None else np.asarray(right, dtype=np.float64),
        "left": np.zeros(n) if left is None else np.asarray(left, dtype=np.float64),
    }
    zeros = {"right": np.zeros(n), "left": np.zeros(n)}
    a = Activity.of(
        np.arange(n) / FPS,
        measurable or {"right": np.ones(n, bool), "left": np.ones(n, bool)},
        closure=closure,
        mouth=mouth or zeros,
        brow=brow or zeros,
    )
    return dataclasses.replace(a, drop={s: drop_scale * closure[s] for s in closure})


def pulses(n, *spans, level=0.8):
    """``n`` frames of 0 with ``level`` over each [start, stop) span."""
    x = np.zeros(n)
    for a, b in spans:
        x[a:b] = level
    return x


class StubDecider:
    """Accepts every candidate (or none) with a fixed confidence; keeps what it was shown."""

    name = "stub"

    def __init__(self, accept=True, confidence=0.7):
        self.accept, self.p, self.seen = accept, confidence, []

    def decide(self, x, params):
        self.seen.append(x)
        return np.full(len(x), self.accept), np.full(len(x), self.p)

    def provenance(self):
        return {"name": self.name}


def episodes(a, decider=None, params=P):
    bilateral = bilateral_mask(a, params.episodes)
    return eye_episodes(a, bilateral, FPS, params, decider or StubDecider())


# --- one_sided ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("this", "other", "expected"),
    [
        (0.5, 0.0, True),
        (0.30, 0.0, True),  # closure_on is inclusive
        (0.29, 0.0, False),  # not closed enough
        (0.5, 0.4, False),  # less than min_asymmetry (0.2) more closed than the other
        (0.5, 0.25, True),  # the other at 0.25 <= other_open_ratio (0.55) x 0.5
        (0.5, 0.28, False),  # 0.22 more closed, but the other is over 0.55 x 0.5
        (0.5, np.nan, False),  # the other eye unmeasured: one-sidedness unknown
        (np.nan, 0.0, False),
    ],
)
def test_one_sided_frame_by_frame(this, other, expected):
    a = activity(1, right=[this], left=[other])
    assert one_sided(a, "right", P.episodes).tolist() == [expected]
    assert not one_sided(a, "left", P.episodes).any()


def test_one_sided_needs_the_side_measurable():
    unmeasured = {"right": np.zeros(3, bool), "left": np.ones(3, bool)}
    a = activity(3, right=[0.8] * 3, measurable=unmeasured)
    assert not one_sided(a, "right", P.episodes).any()


# --- bilateral_mask -----------------------------------------------------------------------


def test_bilateral_mask_spans_a_blink_and_its_shallow_shoulders():
    both = np.zeros(30)
    both[8:10] = both[16:18] = 0.25  # >= closure_off (0.18), < blink_min_closure (0.4)
    both[10:16] = 0.8
    mask = bilateral_mask(activity(30, right=both, left=both), P.episodes)
    assert np.flatnonzero(mask).tolist() == list(range(8, 18))


def test_bilateral_mask_needs_both_eyes_at_blink_min_closure():
    shallow = np.full(10, 0.35)  # over closure_on (0.3) but under blink_min_closure (0.4)
    assert not bilateral_mask(activity(10, right=shallow, left=shallow), P.episodes).any()
    deep = np.full(10, 0.8)
    assert not bilateral_mask(activity(10, right=deep), P.episodes).any()  # one eye only


def test_bilateral_mask_is_not_the_shoulders_of_a_one_sided_closure():
    # both eyes narrow a little (0.25) around a one-sided closure of the right eye: shared
    # shallow narrowing is not a blink (no frame has both eyes at blink_min_closure)
    left = pulses(30, (8, 18), level=0.25)
    right = left.copy()
    right[10:16] = 0.8
    a = activity(30, right=right, left=left)
    assert one_sided(a, "right", P.episodes)[10:16].all()
    assert not bilateral_mask(a, P.episodes).any()


def test_bilateral_mask_reads_nan_as_open():
    right = np.full(10, 0.8)
    right[3:6] = np.nan
    mask = bilateral_mask(activity(10, right=right, left=np.full(10, 0.8)), P.episodes)
    assert mask.tolist() == [True] * 3 + [False] * 3 + [True] * 4


# --- mouth_pull ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own", "other", "expected"),
    [
        (0.10, 0.00, 0.10),
        (0.10, 0.08, 0.02),  # the other corner pulled too: only the excess counts
        (0.10, -0.05, 0.10),  # the other corner pulled in: never more than its own pull
        (-0.02, -0.10, -0.02),
        (0.00, 0.10, -0.10),
    ],
)
def test_mouth_pull_is_the_lesser_of_own_pull_and_excess(own, other, expected):
    a = activity(1, mouth={"right": np.array([own]), "left": np.array([other])})
    assert mouth_pull(a, "right")[0] == pytest.approx(expected)


def test_mouth_pull_unknown_where_either_corner_is():
    a = activity(2, mouth={"right": np.array([np.nan, 0.1]), "left": np.array([0.0, np.nan])})
    assert np.isnan(mouth_pull(a, "right")).all()
    assert np.isnan(mouth_pull(a, "left")).all()


# --- eye_episodes (stub decider) ----------------------------------------------------------


def test_a_short_one_sided_closure_is_a_twitch():
    a = activity(60, right=pulses(60, (20, 26)))
    (e,) = episodes(a)
    assert (e.trial_type, e.side, e.kind, e.regions) == (SPASM, "right", "twitch", "eye")
    assert e.onset == pytest.approx(20 / FPS)
    assert e.duration == pytest.approx(6 / FPS)
    assert e.n_contractions == 1
    assert e.peak_closure == pytest.approx(0.8)
    assert e.closure_duration == pytest.approx(6 / FPS)
    assert e.confidence == pytest.approx(0.7)
    assert e.mouth_cocontraction is False and e.brow_raised is False
    assert e.context == "none"


def test_left_closure_is_a_left_episode():
    (e,) = episodes(activity(60, left=pulses(60, (20, 26))))
    assert e.side == "left"


def test_a_clonic_train_is_one_episode_with_its_contractions():
    a = activity(90, right=pulses(90, (10, 14), (19, 23), (28, 32)))
    (e,) = episodes(a)
    assert (e.kind, e.n_contractions) == ("clonic", 3)
    assert e.onset == pytest.approx(10 / FPS)
    assert e.duration == pytest.approx(22 / FPS)
    assert e.closure_duration == pytest.approx(12 / FPS)


def test_a_held_contraction_is_tonic():
    held = int(P.episodes.tonic_min_s * FPS)
    (e,) = episodes(activity(120, right=pulses(120, (20, 20 + held))))
    assert e.kind == "tonic" and e.n_contractions == 1
    (e,) = episodes(activity(120, right=pulses(120, (20, 20 + held - 1))))
    assert e.kind == "twitch"


def test_contractions_exactly_merge_gap_apart_are_two_episodes():
    apart = activity(90, right=pulses(90, (10, 15), (15 + MERGE, 20 + MERGE)))
    assert [e.onset * FPS for e in episodes(apart)] == pytest.approx([10, 15 + MERGE])
    close = activity(90, right=pulses(90, (10, 15), (14 + MERGE, 19 + MERGE)))
    (e,) = episodes(close)
    assert (e.kind, e.n_contractions) == ("clonic", 2)


def test_the_decider_sees_one_feature_row_per_candidate():
    decider = StubDecider()
    a = activity(90, right=pulses(90, (50, 56)), left=pulses(90, (10, 16)))
    events = episodes(a, decider)
    (x,) = decider.seen
    assert x.shape == (2, len(FEATURES))
    assert [(e.side, round(e.onset * FPS)) for e in events] == [("right", 50), ("left", 10)]


def test_rejected_candidates_make_no_event():
    assert episodes(activity(60, right=pulses(60, (20, 26))), StubDecider(accept=False)) == []


def test_no_candidate_does_not_ask_the_decider():
    decider = StubDecider()
    assert episodes(activity(60), decider) == []
    assert decider.seen == []


@pytest.mark.parametrize(("given", "kept"), [(1.7, 1.0), (-0.3, 0.0), (0.25, 0.25)])
def test_confidence_is_clipped_to_a_probability(given, kept):
    (e,) = episodes(activity(60, right=pulses(60, (20, 26))), StubDecider(confidence=given))
    assert e.confidence == kept


def test_a_barely_open_eye_makes_a_possible_episode():
    # open aperture = drop / closure = 0.02 IOD, under min_open_iod (0.05)
    (e,) = episodes(activity(60, right=pulses(60, (20, 26)), drop_scale=0.02))
    assert e.trial_type == POSSIBLE
    assert e.is_possible and not e.is_episode


def test_same_side_mouth_and_brow_during_an_episode():
    n = 60
    pull = {"right": pulses(n, (20, 26), level=0.1), "left": np.zeros(n)}
    lift = {"right": pulses(n, (20, 26), level=0.05), "left": np.zeros(n)}
    (e,) = episodes(activity(n, right=pulses(n, (20, 26)), mouth=pull, brow=lift))
    assert e.regions == "eye+mouth"
    assert e.mouth_cocontraction is True and e.brow_raised is True
    # the other side's mouth and brow do not count for this side
    other = {"right": np.zeros(n), "left": pulses(n, (20, 26), level=0.1)}
    (e,) = episodes(activity(n, right=pulses(n, (20, 26)), mouth=other, brow=other))
    assert e.regions == "eye" and e.mouth_cocontraction is False and e.brow_raised is False


def test_unmeasured_mouth_and_brow_are_unknown():
    n = 60
    nan = {"right": np.full(n, np.nan), "left": np.full(n, np.nan)}
    (e,) = episodes(activity(n, right=pulses(n, (20, 26)), mouth=nan, brow=nan))
    assert e.mouth_cocontraction is None and e.brow_raised is None
    assert e.regions == "eye"


def test_peak_closure_is_clipped_to_one():
    (e,) = episodes(activity(60, right=pulses(60, (20, 26), level=1.3)))
    assert e.peak_closure == 1.0


def test_a_closure_still_closed_at_the_last_frame_is_not_an_episode():
    assert episodes(activity(40, right=pulses(40, (30, 40)))) == []
    # one that had more than half reopened by then is complete enough
    reopening = pulses(40, (30, 38))
    reopening[38:] = 0.3  # above candidate_off, under half the peak
    (e,) = episodes(activity(40, right=reopening))
    assert e.onset == pytest.approx(30 / FPS)


def test_an_unmeasured_other_eye_makes_no_episode():
    n = 60
    measurable = {"right": np.ones(n, bool), "left": np.zeros(n, bool)}
    a = activity(n, right=pulses(n, (20, 26)), left=np.full(n, np.nan), measurable=measurable)
    assert episodes(a) == []


# --- mouth_episodes -----------------------------------------------------------------------


def mouth_activity(n, right_pull, left_pull=None, right=None):
    left_pull = np.zeros(n) if left_pull is None else left_pull
    return activity(n, right=right, mouth={"right": right_pull, "left": left_pull})


def test_a_lone_mouth_pull_is_a_mouth_only_event():
    a = mouth_activity(60, pulses(60, (20, 35), level=0.15))
    (e,) = mouth_episodes(a, [], FPS, P)
    assert (e.trial_type, e.side, e.regions, e.kind) == (SPASM, "right", "mouth", "twitch")
    assert e.is_mouth_only and not e.is_episode
    assert e.onset == pytest.approx(20 / FPS)
    assert e.duration == pytest.approx(15 / FPS)
    assert (e.n_contractions, e.closure_duration) == (1, 0.0)
    assert e.mouth_cocontraction is True and e.brow_raised is None
    assert e.confidence == pytest.approx(0.2 + 2 * 0.15)


def test_mouth_only_confidence_is_capped():
    (e,) = mouth_episodes(mouth_activity(60, pulses(60, (20, 35), level=0.5)), [], FPS, P)
    assert e.confidence == pytest.approx(0.6)


def test_mouth_only_events_are_held_mouth_only_min_s():
    shortest = int(round(P.episodes.mouth_only_min_s * FPS))  # 9 frames
    held = mouth_activity(60, pulses(60, (20, 20 + shortest), level=0.15))
    assert len(mouth_episodes(held, [], FPS, P)) == 1
    brief = mouth_activity(60, pulses(60, (20, 19 + shortest), level=0.15))
    assert mouth_episodes(brief, [], FPS, P) == []


def test_a_long_mouth_pull_is_tonic():
    (e,) = mouth_episodes(mouth_activity(90, pulses(90, (20, 50), level=0.15)), [], FPS, P)
    assert e.kind == "tonic"


def test_mouth_pull_needs_the_on_level():
    weak = mouth_activity(60, pulses(60, (20, 35), level=0.1))  # under mouth_only_on (0.12)
    assert mouth_episodes(weak, [], FPS, P) == []


def test_both_corners_pulled_is_not_mouth_only():
    both = pulses(60, (20, 35), level=0.15)
    assert mouth_episodes(mouth_activity(60, both, 0.5 * both), [], FPS, P) == []


def test_a_mouth_pull_with_the_eye_closing_is_not_mouth_only():
    a = mouth_activity(60, pulses(60, (20, 35), level=0.15), right=pulses(60, (25, 28)))
    assert mouth_episodes(a, [], FPS, P) == []


def test_a_mouth_pull_during_an_eye_episode_of_its_side_is_left_to_it():
    a = mouth_activity(60, pulses(60, (20, 35), level=0.15))
    eye = dict(
        trial_type=SPASM,
        kind="twitch",
        regions="eye",
        n_contractions=1,
        peak_closure=0.8,
        closure_duration=0.2,
        brow_raised=None,
        mouth_cocontraction=None,
        confidence=0.9,
    )
    same_side = Event(onset=1.0, duration=0.1, side="right", **eye)
    assert mouth_episodes(a, [same_side], FPS, P) == []
    other_side = Event(onset=1.0, duration=0.1, side="left", **eye)
    assert len(mouth_episodes(a, [other_side], FPS, P)) == 1
    before = Event(onset=0.0, duration=20 / FPS, side="right", **eye)  # ends at its onset
    assert len(mouth_episodes(a, [before], FPS, P)) == 1


def test_mouth_pull_where_a_side_is_unmeasured_is_not_an_event():
    n = 60
    measurable = {"right": np.ones(n, bool), "left": np.zeros(n, bool)}
    a = activity(
        n,
        mouth={"right": pulses(n, (20, 35), level=0.15), "left": np.zeros(n)},
        measurable=measurable,
    )
    assert mouth_episodes(a, [], FPS, P) == []


# --- blink_events -------------------------------------------------------------------------


def blinks(closure):
    a = activity(len(closure), right=closure, left=closure)
    return blink_events(a, bilateral_mask(a, P.episodes), FPS, P)


def test_a_blink():
    (e,) = blinks(pulses(40, (10, 16), level=0.9))
    assert (e.trial_type, e.side, e.kind, e.regions) == ("blink", "both", None, "eye")
    assert e.onset == pytest.approx(10 / FPS)
    assert e.duration == pytest.approx(6 / FPS)
    assert (e.peak_closure, e.closure_duration, e.confidence) == pytest.approx((0.9, 0.2, 1.0))
    assert e.context is None


def test_blink_max_s_is_the_longest_blink():
    longest = int(round(P.episodes.blink_max_s * FPS))  # 18 frames: 0.6 s
    (e,) = blinks(pulses(60, (10, 10 + longest), level=0.9))
    assert e.trial_type == "blink"
    (e,) = blinks(pulses(60, (10, 11 + longest), level=0.9))
    assert e.trial_type == "bilateral_closure"


def test_blinks_without_reopening_between_them_are_split_at_the_dip():
    x = np.zeros(40)
    x[5:10] = 0.9
    x[10:12] = 0.3  # stays above closure_off: one two-sided region
    x[12:17] = 0.9
    first, second = blinks(x)
    assert first.onset == pytest.approx(5 / FPS)
    assert second.onset == pytest.approx(first.end)
    assert second.end == pytest.approx(17 / FPS)
    assert first.trial_type == second.trial_type == "blink"


def test_a_short_two_sided_closure_is_never_split():
    # no longer than 2 x min_unilateral_s + 0.2 s (10 frames): one blink, whatever its dips
    x = np.zeros(30)
    x[5:9] = 0.9
    x[9] = 0.3
    x[10:14] = 0.9
    (e,) = blinks(x)
    assert e.duration == pytest.approx(9 / FPS)


def test_a_blink_at_both_ends_of_the_recording():
    x = pulses(30, (0, 4), (26, 30), level=0.9)
    assert [round(e.onset * FPS) for e in blinks(x)] == [0, 26]


def test_no_two_sided_closure_no_blink():
    assert blinks(np.zeros(30)) == []
    assert blinks(np.zeros(0)) == []


# --- find_events --------------------------------------------------------------------------


def test_find_events_of_nothing_and_of_one_frame():
    assert find_events(activity(0), FPS, P) == []
    assert find_events(activity(1, right=[0.8]), FPS, P, StubDecider()) == []


def test_find_events_sorted_by_onset_with_the_packaged_rule():
    n = 150
    right = pulses(n, (100, 106))  # a twitch of the right eye at 100
    left = pulses(n, (20, 26))  # ... of the left eye at 20
    right[60:66] = left[60:66] = 0.9  # a blink at 60
    mouth = {"right": np.zeros(n), "left": pulses(n, (125, 140), level=0.15)}
    events = find_events(activity(n, right, left, mouth=mouth), FPS, P)
    assert [(e.trial_type, e.side, round(e.onset * FPS), e.regions) for e in events] == [
        (SPASM, "left", 20, "eye"),
        ("blink", "both", 60, "eye"),
        (SPASM, "right", 100, "eye"),
        (SPASM, "left", 125, "mouth"),
    ]


def test_find_events_ignores_a_two_sided_narrowing():
    n = 60
    squint = pulses(n, (20, 40), level=0.35)  # under blink_min_closure, and even
    assert find_events(activity(n, squint, squint), FPS, P) == []


# a random recording: square closures of each eye and the mouth at random frames
_spans = st.lists(st.tuples(st.integers(0, 119), st.integers(1, 40)), max_size=5)


@settings(max_examples=examples(60), deadline=None)
@given(
    right=_spans,
    left=_spans,
    pull=_spans,
    level=st.floats(0.0, 1.2),
    gaps=st.lists(st.integers(0, 119), max_size=10),
    offset=st.floats(0.0, 1e4),
)
def test_find_events_invariants(right, left, pull, level, gaps, offset):
    n = 120

    def square(spans, lvl):
        return pulses(n, *[(a, min(a + d, n)) for a, d in spans], level=lvl)

    r, lft = square(right, level), square(left, 0.9)
    r[gaps] = np.nan  # unmeasured frames of the right eye
    measurable = {"right": np.isfinite(r), "left": np.ones(n, bool)}
    mouth = {"right": square(pull, 0.15), "left": np.zeros(n)}
    a = activity(n, r, lft, mouth=mouth, measurable=measurable)
    events = find_events(a, FPS, P)

    assert [e.onset for e in events] == sorted(e.onset for e in events)
    for e in events:
        assert e.trial_type in TRIAL_TYPES
        assert e.onset >= 0.0 and e.end <= n / FPS + 1e-9 and e.duration > 0
        assert 0.0 <= e.peak_closure <= 1.0 and 0.0 <= e.confidence <= 1.0
        assert (e.side == "both") == (e.trial_type in ("blink", "bilateral_closure"))
        assert e.n_contractions >= 1
    for side in ("right", "left"):
        own = [e for e in events if e.side == side]
        for e1, e2 in zip(own[:-1], own[1:], strict=True):
            assert e1.end <= e2.onset + 1e-9, "two events of one side overlap"

    # the same recording later in time: the same events, shifted
    later = dataclasses.replace(a, time=a.time + offset)
    shifted = find_events(later, FPS, P)
    assert len(shifted) == len(events)
    for e, s in zip(events, shifted, strict=True):
        assert (s.trial_type, s.side, s.kind, s.n_contractions) == (
            e.trial_type,
            e.side,
            e.kind,
            e.n_contractions,
        )
        assert s.onset == pytest.approx(e.onset + offset, abs=1e-6)
        assert s.duration == pytest.approx(e.duration, abs=1e-6)
