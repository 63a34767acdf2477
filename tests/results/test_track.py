"""results/track.py: the per-frame Track, its flags and its file form (signals.csv.gz)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spasm_cv.events.detect import detect
from spasm_cv.events.simulate import simulate_signals
from spasm_cv.events.table import SIDES
from spasm_cv.results.files import read_track, write_signals
from spasm_cv.results.track import OK, QUALITY_FLAGS, Track
from spasm_cv.signals.table import LOST_FLAGS


def _quality_by_frame(signals, activity) -> list[str]:
    """The text form as the per-frame loop of earlier versions wrote it (the oracle)."""
    out = []
    for i in range(len(signals)):
        flags = []
        if signals.lost[i]:
            flags.append(str(signals.lost[i]))
        elif not signals.face[i]:
            flags.append("no_face")
        else:
            for s in SIDES:
                if activity.occluded[s][i]:
                    flags.append(f"occluded_{s}")
                elif activity.warming_up[s][i]:
                    flags.append(f"warmup_{s}")
                elif not activity.measurable[s][i]:
                    flags.append(f"pose_{s}")
            if signals.n_faces[i] > 1:
                flags.append("multi_face")
        out.append("+".join(flags) or "ok")
    return out


@pytest.fixture(scope="module")
def analysed():
    signals, _ = simulate_signals(duration_s=40.0, head_turns=3, seed=3)
    n = len(signals)
    signals.face[100:130] = False  # no face
    for c in signals.columns.values():
        c[100:130] = np.nan
    signals.n_faces[300:320] = 2  # a second face
    signals.lost[500:510] = "frozen"
    signals.face[500:510] = False
    assert n > 600
    return signals, detect(signals)


def test_flags_of_an_analysis_are_the_per_frame_rules(analysed):
    signals, detection = analysed
    track = Track.from_analysis(signals, detection.activity)
    assert track.quality().tolist() == _quality_by_frame(signals, detection.activity)
    assert set(track.flags) == set(QUALITY_FLAGS)
    assert track.flag("frozen")[500:510].all() and not track.face[500:510].any()
    assert track.lost[505] == "frozen" and track.lost[0] == ""
    assert track.flag("multi_face")[300:320].all()
    both = detection.activity.measurable["right"] & detection.activity.measurable["left"]
    assert np.array_equal(track.observed, both)


def test_file_round_trip_keeps_every_flag_and_trace(analysed, tmp_path):
    signals, detection = analysed
    track = Track.from_analysis(signals, detection.activity)
    write_signals(tmp_path / "signals.csv.gz", track)
    back = read_track(tmp_path / "signals.csv.gz")
    assert back.quality().tolist() == track.quality().tolist()
    assert {f for f, on in back.flags.items() if on.any()} == {
        f for f, on in track.flags.items() if on.any()
    }
    for side in SIDES:
        assert np.array_equal(back.measurable[side], track.measurable[side])
        np.testing.assert_allclose(back.closure[side], track.closure[side], rtol=1e-5)
    assert list(back.to_table()) == list(track.to_table())  # the same columns, same order
    again = back.to_signals(fps=25.0)
    assert np.array_equal(again.face, signals.face) and np.array_equal(again.lost, signals.lost)


_FRAME_FLAGS = st.one_of(
    st.sampled_from([*LOST_FLAGS, "no_face"]).map(lambda f: [f]),
    st.tuples(
        *(st.sampled_from([None, "occluded", "warmup", "pose"]) for _ in SIDES), st.booleans()
    ).map(
        lambda t: (
            [f"{r}_{s}" for r, s in zip(t[:-1], SIDES, strict=True) if r]
            + (["multi_face"] if t[-1] else [])
        )
    ),  # fmt: skip
)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(_FRAME_FLAGS, min_size=1, max_size=30))
def test_text_form_parses_back_to_the_same_flags(frames):
    text = np.array(["+".join(f) or OK for f in frames])
    n = len(frames)
    track = Track.from_table({"time": np.arange(n) / 25.0, "quality": text})
    assert track.quality().tolist() == text.tolist()
    for name in QUALITY_FLAGS:
        assert track.flag(name).tolist() == [name in f for f in frames]


def test_a_flag_from_a_newer_version_is_kept_after_the_known_ones():
    track = Track.from_table({"time": np.arange(3.0), "quality": np.array(
        ["ok", "glare_right+pose_left", "no_face"])})  # fmt: skip
    assert track.flag("glare_right").tolist() == [False, True, False]
    assert track.quality().tolist() == ["ok", "pose_left+glare_right", "no_face"]
    assert track.face.tolist() == [True, True, False]


def test_spans_of_a_mask():
    track = Track.from_table({"time": np.arange(6) * 0.5, "quality": np.full(6, OK)})
    mask = np.array([1, 1, 0, 0, 1, 1], bool)
    assert track.spans(mask) == [(0.0, 1.0), (2.0, 3.0)]  # the last ends a step after
    assert track.spans(np.zeros(6, bool)) == []
