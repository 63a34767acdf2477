import numpy as np
import pytest

from spasm_cv.events.activity import Activity
from spasm_cv.events.table import Event
from spasm_cv.results.rates import Rate, poisson_ci
from spasm_cv.results.summary import Summary, coverage, observed_seconds


def test_poisson_ci_known_values():
    # Garwood exact intervals (e.g. Ulm 1990 tables)
    assert poisson_ci(0) == pytest.approx((0.0, 3.6889), abs=1e-4)
    assert poisson_ci(1) == pytest.approx((0.0253, 5.5716), abs=1e-4)
    assert poisson_ci(10) == pytest.approx((4.7954, 18.3904), abs=1e-4)


def test_rate_per_hour():
    r = Rate.of(3, 1800.0)
    assert r.per_hour == pytest.approx(6.0)
    assert r.ci95[0] < 6.0 < r.ci95[1]
    assert Rate.of(2, 0.0).per_hour is None
    assert r.to_dict() == {"count": 3, "per_hour": r.per_hour, "ci95": list(r.ci95)}


def _activity(n, fps, measurable_right):
    t = np.arange(n) / fps
    z = np.zeros(n)
    return Activity.of(
        t,
        {"right": measurable_right, "left": np.ones(n, bool)},
        {"right": z, "left": z},
        {"right": z, "left": z},
        {"right": z, "left": z},
    )


def _spasm(onset, side, kind="twitch", regions="eye"):
    return Event(onset, 0.3, "spasm", side, kind, regions, 1, 0.8, 0.2, False, False, 0.8)


def test_rates_use_observed_time_only():
    fps = 10.0
    m = np.ones(36000, bool)
    m[18000:] = False  # right side unmeasurable for the second half hour
    act = _activity(36000, fps, m)
    obs = observed_seconds(act, fps)
    assert obs["both"] == pytest.approx(1800.0)
    assert obs["left"] == pytest.approx(3600.0)
    events = [
        _spasm(10, "right"),
        _spasm(20, "right", "tonic"),
        _spasm(30, "left"),
        _spasm(40, "left", regions="mouth"),
    ]
    s = Summary.numbers(events, coverage(act, fps))
    assert s["episodes"].total.count == 3  # the mouth-only event is counted apart
    assert s["episodes"].total.per_hour == pytest.approx(6.0)
    assert s["episodes"].by_side["right"].count == 2
    assert s["episodes"].by_kind["tonic"].count == 1
    assert s["mouth_only"]["left"].count == 1
    assert s["affected_side"] == "right"


def test_event_vocabulary():
    assert _spasm(1, "left").is_episode and not _spasm(1, "left").is_mouth_only
    mouth = _spasm(1, "left", regions="mouth")
    assert mouth.is_mouth_only and not mouth.is_episode
    blink = Event(1, 0.2, "blink", "both", None, "eye", 1, 0.9, 0.1, None, None, 1.0)
    assert not blink.is_episode and not blink.is_mouth_only
