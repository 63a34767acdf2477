"""Episode rates with exact Poisson intervals over observed face time (pure, no I/O)."""

from __future__ import annotations

import numpy as np

from spasm_cv.events.activity import Activity
from spasm_cv.events.table import KINDS, Event
from spasm_cv.signals.geometry import SIDES

SCHEMA_VERSION = "1.0"
CLOSED = 0.5  # closure above which an eye counts as "closed" for the closed-time fraction


def poisson_ci(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for a Poisson count."""
    from scipy.stats import chi2  # imported on use: scipy.stats takes 0.8 s

    alpha = 1.0 - level
    lo = 0.0 if count == 0 else chi2.ppf(alpha / 2, 2 * count) / 2
    hi = chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return float(lo), float(hi)


def rate(count: int, seconds: float, per: float = 3600.0) -> dict:
    """Count, rate per ``per`` seconds (default: per hour) and its exact 95 % interval."""
    if seconds <= 0:
        return {"count": count, "per_hour": None, "ci95": [None, None]}
    lo, hi = poisson_ci(count)
    scale = per / seconds
    return {"count": count, "per_hour": count * scale, "ci95": [lo * scale, hi * scale]}


def frame_durations(time: np.ndarray, fps: float) -> np.ndarray:
    """Seconds each frame stands for: the gap to the next frame, capped at two frame periods."""
    if len(time) == 0:
        return np.zeros(0)
    gaps = np.diff(time, append=time[-1] + 1.0 / fps)
    return np.clip(gaps, 0.0, 2.0 / fps)


def observed_seconds(activity: Activity, fps: float) -> dict[str, float]:
    """Observed time: ``both`` sides measurable (the denominator of rates), and per side."""
    dt = frame_durations(activity.time, fps)
    both = activity.measurable["right"] & activity.measurable["left"]
    out = {"both": float(dt[both].sum())}
    out.update({s: float(dt[activity.measurable[s]].sum()) for s in SIDES})
    return out


def event_numbers(
    events: list[Event], observed_s: float, closed_fraction: dict[str, float | None]
) -> dict:
    """The event part of summary.json, given the observed time (s) and closed fractions.

    Episodes are one-sided ``spasm`` events involving the eye; mouth-only events are counted
    apart (``mouth_only``). Rates are per hour of ``observed_s``. Shared by offline analysis
    (:func:`summarize`) and live monitoring sessions.
    """
    obs = observed_s
    eye = [e for e in events if e.trial_type == "spasm" and e.involves_eye]
    mouth_only = [e for e in events if e.trial_type == "spasm" and not e.involves_eye]
    blinks = [e for e in events if e.trial_type == "blink"]
    by_side = {s: rate(sum(e.side == s for e in eye), obs) for s in SIDES}
    counts = {s: by_side[s]["count"] for s in SIDES}
    affected = None
    if counts["right"] != counts["left"]:
        affected = max(counts, key=counts.get)
    tonic = [e.duration for e in eye if e.kind == "tonic"]
    return {
        "episodes": {
            "total": rate(len(eye), obs),
            "by_side": by_side,
            "by_kind": {k: rate(sum(e.kind == k for e in eye), obs) for k in KINDS},
            "by_side_and_kind": {
                s: {k: rate(sum(e.side == s and e.kind == k for e in eye), obs) for k in KINDS}
                for s in SIDES
            },
            "with_mouth": sum(e.regions == "eye+mouth" for e in eye),
            "with_brow_raised": sum(bool(e.brow_raised) for e in eye),
        },
        "contractions": int(sum(e.n_contractions for e in eye)),
        "mouth_only": {s: rate(sum(e.side == s for e in mouth_only), obs) for s in SIDES},
        "blinks": {
            "count": len(blinks),
            "per_minute": len(blinks) * 60.0 / obs if obs > 0 else None,
        },
        "affected_side": affected,
        "closed_fraction": closed_fraction,
        "longest_tonic_s": max(tonic) if tonic else None,
    }


def summarize(events: list[Event], activity: Activity, fps: float) -> dict:
    """The numbers of summary.json that depend on events and activity only.

    Observed time is the time in which both sides were measurable (see
    :func:`observed_seconds`); see :func:`event_numbers` for the rest.
    """
    observed = observed_seconds(activity, fps)
    dt = frame_durations(activity.time, fps)
    closed_fraction = {}
    for s in SIDES:
        m = activity.measurable[s]
        closed = m & (np.nan_to_num(activity.closure[s], nan=0.0) >= CLOSED)
        closed_fraction[s] = float(dt[closed].sum() / dt[m].sum()) if m.any() else None
    return {
        "observed_s": observed["both"],
        "observed_s_by_side": {s: observed[s] for s in SIDES},
        **event_numbers(events, observed["both"], closed_fraction),
    }
