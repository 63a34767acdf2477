"""Unit tests of :mod:`spasm_cv.events.runs`: runs of True in frame masks.

Each function is checked on small hand-built masks with known answers, and against a plain
Python restatement of its contract on random masks (hypothesis).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spasm_cv.events.runs import dilate, hysteresis, merge_close, regions, seeded_runs

T, F = True, False

masks = st.lists(st.booleans(), max_size=60).map(lambda v: np.array(v, dtype=bool))


def _runs_by_hand(mask) -> list[tuple[int, int]]:
    """[start, stop) of each run of True, walking the mask one frame at a time."""
    out, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


# --- regions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ([], []),
        ([F], []),
        ([T], [[0, 1]]),
        ([F, F, F], []),
        ([T, T, T], [[0, 3]]),
        ([T, T, F, T], [[0, 2], [3, 4]]),  # runs touching both ends
        ([F, T, F, F, T, T, F], [[1, 2], [4, 6]]),
    ],
)
def test_regions_known_masks(mask, expected):
    runs = regions(np.array(mask, dtype=bool))
    assert runs.shape == (len(expected), 2)
    assert runs.tolist() == expected


def test_regions_reads_numbers_as_truth_values():
    assert regions([0, 2, 0, -1]).tolist() == [[1, 2], [3, 4]]


@settings(max_examples=examples(200), deadline=None)
@given(masks)
def test_regions_matches_a_frame_by_frame_walk(mask):
    runs = regions(mask)
    assert [tuple(r) for r in runs.tolist()] == _runs_by_hand(mask)
    rebuilt = np.zeros(len(mask), dtype=bool)
    for a, b in runs:
        rebuilt[a:b] = True
    assert np.array_equal(rebuilt, mask)


# --- seeded_runs and hysteresis -----------------------------------------------------------


def test_seeded_runs_keeps_only_runs_with_a_seed():
    low = np.array([T, T, F, T, T, T, F, T])
    seed = np.array([F, T, F, F, F, F, F, F])
    assert seeded_runs(low, seed).tolist() == [T, T, F, F, F, F, F, F]


def test_seeded_runs_ignores_seeds_outside_low():
    low = np.array([T, T, F, T, T])
    seed = np.array([F, F, T, F, F])  # between the runs: selects neither neighbour
    assert not seeded_runs(low, seed).any()


def test_seeded_runs_without_any_run_or_frame():
    assert seeded_runs(np.zeros(4, bool), np.ones(4, bool)).tolist() == [F, F, F, F]
    empty = seeded_runs(np.zeros(0, bool), np.zeros(0, bool))
    assert empty.dtype == bool and empty.shape == (0,)


def test_hysteresis_needs_the_on_level_somewhere_in_the_run():
    x = np.array([0.0, 0.2, 0.5, 0.2, 0.0, 0.2, 0.3, 0.2, 0.0])
    # the second run stays above off (0.1) but never reaches on (0.4)
    assert hysteresis(x, on=0.4, off=0.1).tolist() == [F, T, T, T, F, F, F, F, F]


def test_hysteresis_levels_are_inclusive():
    x = np.array([0.1, 0.4, 0.1, 0.0999, 0.4])
    assert hysteresis(x, on=0.4, off=0.1).tolist() == [T, T, T, F, T]


def test_hysteresis_nan_counts_as_low_and_splits_a_run():
    x = np.array([0.2, 0.5, np.nan, 0.2, 0.2])
    assert hysteresis(x, on=0.4, off=0.1).tolist() == [T, T, F, F, F]
    assert not hysteresis(np.full(5, np.nan), on=0.4, off=0.1).any()


def test_hysteresis_of_nothing_and_of_one_frame():
    assert hysteresis(np.array([]), on=0.4, off=0.1).shape == (0,)
    assert hysteresis(np.array([0.5]), on=0.4, off=0.1).tolist() == [T]
    assert hysteresis(np.array([0.3]), on=0.4, off=0.1).tolist() == [F]


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), max_size=60),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_hysteresis_is_the_runs_above_off_that_reach_on(values, a, b):
    off, on = min(a, b), max(a, b)
    x = np.array(values, dtype=np.float64)
    got = hysteresis(x, on, off)
    above_off = np.nan_to_num(x, nan=-1.0) >= off
    above_on = np.nan_to_num(x, nan=-1.0) >= on
    expected = np.zeros(len(x), dtype=bool)
    for s, e in _runs_by_hand(above_off):
        expected[s:e] = above_on[s:e].any()
    assert np.array_equal(got, expected)


# --- dilate -------------------------------------------------------------------------------


def test_dilate_grows_each_run_on_both_sides():
    mask = np.array([F, F, F, T, F, F, F])
    assert dilate(mask, 2).tolist() == [F, T, T, T, T, T, F]


def test_dilate_stops_at_the_ends():
    assert dilate(np.array([T, F, F, F]), 1).tolist() == [T, T, F, F]  # no wrap-around
    assert dilate(np.array([F, F, F, T]), 1).tolist() == [F, F, T, T]
    assert dilate(np.array([F, T, F]), 10).tolist() == [T, T, T]


def test_dilate_by_nothing_returns_the_mask_as_booleans():
    for frames in (0, -3):
        out = dilate(np.array([0, 1, 0, 2]), frames)
        assert out.dtype == bool and out.tolist() == [F, T, F, T]
    assert dilate(np.zeros(0, bool), 2).shape == (0,)


@settings(max_examples=examples(200), deadline=None)
@given(masks, st.integers(-2, 8))
def test_dilate_is_any_true_within_frames(mask, frames):
    got = dilate(mask, frames)
    k = max(frames, 0)
    expected = [bool(mask[max(i - k, 0) : i + k + 1].any()) for i in range(len(mask))]
    assert got.tolist() == expected


# --- merge_close --------------------------------------------------------------------------


def test_merge_close_of_no_run_and_of_one():
    assert merge_close(np.zeros((0, 2), dtype=int), 5) == []
    assert merge_close(np.array([[3, 7]]), 5) == [[0]]


def test_merge_close_gap_exactly_at_the_threshold_stays_apart():
    # gaps are stop -> next start: 4 - 2 = 2 frames, then 10 - 6 = 4 frames
    runs = np.array([[0, 2], [4, 6], [10, 12]])
    assert merge_close(runs, 4) == [[0, 1], [2]]  # 4 is not < 4
    assert merge_close(runs, 5) == [[0, 1, 2]]
    assert merge_close(runs, 2) == [[0], [1], [2]]  # 2 is not < 2
    assert merge_close(runs, 3) == [[0, 1], [2]]


def test_merge_close_chains_through_a_group():
    # each gap is 2 frames: all one group, however far the last run is from the first
    runs = np.array([[0, 1], [3, 4], [6, 7], [9, 10], [12, 13]])
    assert merge_close(runs, 3) == [[0, 1, 2, 3, 4]]


def test_merge_close_with_no_gap_allowed_keeps_every_run():
    runs = np.array([[0, 2], [2, 4]])  # touching runs: a gap of 0 frames is not < 0
    assert merge_close(runs, 0) == [[0], [1]]


@settings(max_examples=examples(200), deadline=None)
@given(masks, st.integers(0, 10))
def test_merge_close_groups_are_the_runs_of_the_mask_with_short_gaps_filled(mask, max_gap):
    runs = regions(mask)
    groups = merge_close(runs, max_gap)
    # the groups partition the runs, in order
    assert [i for g in groups for i in g] == list(range(len(runs)))
    # filling every gap of fewer than max_gap frames between two runs gives one run per group
    filled = mask.copy()
    for (_, stop), (start, _) in zip(runs[:-1], runs[1:], strict=True):
        if start - stop < max_gap:
            filled[stop:start] = True
    spans = [(int(runs[g[0]][0]), int(runs[g[-1]][1])) for g in groups]
    assert spans == _runs_by_hand(filled)
