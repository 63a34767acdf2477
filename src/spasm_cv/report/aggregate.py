"""Numbers over one or many recordings: pooled rates, wall-clock bins, periods (no plotting).

Everything here works on :class:`~spasm_cv.report.recordings.Recording` objects whether or not
they carry per-frame ``signals`` (result folders) or per-minute ``minutes`` (monitor sessions).
Times of day are in the time zone ``tz`` (default: this computer's local zone).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

import numpy as np

from spasm_cv.events.table import KINDS, Event
from spasm_cv.report.recordings import Recording
from spasm_cv.report.summary import frame_durations, rate
from spasm_cv.signals.geometry import SIDES


def local_tz() -> tzinfo:
    """This computer's local time zone (what times of day in a report are shown in)."""
    return datetime.now().astimezone().tzinfo


def eye_episodes(events: Iterable[Event]) -> list[Event]:
    """Headline episodes: one-sided ``spasm`` events involving the eye."""
    return [e for e in events if e.trial_type == "spasm" and e.involves_eye]


def mouth_only_events(events: Iterable[Event]) -> list[Event]:
    return [e for e in events if e.trial_type == "spasm" and not e.involves_eye]


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length (s) of the union of ``(start, end)`` intervals."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


# ---------------------------------------------------------------------------- pooling

POOLED_KEYS = (
    "observed_s",
    "duration_s",
    "episodes",
    "mouth_only",
    "blinks",
    "affected_side",
    "closed_fraction",
    "longest_tonic_s",
)


def pool(recordings: Sequence[Recording]) -> dict:
    """Headline numbers over recordings, with the keys (and meaning) of summary.json.

    One recording: its summary's own values. Several: counts and observed seconds are summed
    and rates recomputed (exact Poisson intervals); closed fractions are weighted by each
    side's observed time; the longest tonic contraction is the maximum. Extra keys computed
    from the events: per side, ``regions`` (eye-episode counts by region, and
    with the brow raised), ``episode_time_s`` (union of episode intervals) and
    ``shut_in_episodes_s`` (summed ``closure_duration``).
    """
    if not recordings:
        raise ValueError("no recordings to pool")
    sums = [r.summary for r in recordings]
    if len(sums) == 1:
        s = sums[0]
        out = {k: s.get(k) for k in POOLED_KEYS}
    else:
        out = _pool_summaries(sums)
    out["n_recordings"] = len(recordings)
    out.update(_event_numbers(recordings))
    return out


def _pool_summaries(sums: list[dict]) -> dict:
    obs = float(sum(s["observed_s"] for s in sums))

    def pooled(get) -> dict:
        return rate(int(sum(get(s)["count"] for s in sums)), obs)

    ep = {
        "total": pooled(lambda s: s["episodes"]["total"]),
        "by_side": {side: pooled(lambda s, a=side: s["episodes"]["by_side"][a]) for side in SIDES},
        "by_kind": {k: pooled(lambda s, k=k: s["episodes"]["by_kind"][k]) for k in KINDS},
        "by_side_and_kind": {
            side: {
                k: pooled(lambda s, a=side, k=k: s["episodes"]["by_side_and_kind"][a][k])
                for k in KINDS
            }
            for side in SIDES
        },
        "with_mouth": int(sum(s["episodes"].get("with_mouth", 0) for s in sums)),
        "with_brow_raised": int(sum(s["episodes"].get("with_brow_raised", 0) for s in sums)),
    }
    counts = {side: ep["by_side"][side]["count"] for side in SIDES}
    affected = None if counts["right"] == counts["left"] else max(counts, key=counts.get)
    blinks = int(sum(s["blinks"]["count"] for s in sums))
    closed = {}
    for side in SIDES:
        num = den = 0.0
        for s in sums:
            cf = s.get("closed_fraction", {}).get(side)
            if cf is None:
                continue
            w = s.get("observed_s_by_side", {}).get(side, s["observed_s"])
            num, den = num + cf * w, den + w
        closed[side] = num / den if den > 0 else None
    tonic = [s["longest_tonic_s"] for s in sums if s.get("longest_tonic_s") is not None]
    return {
        "observed_s": obs,
        "duration_s": float(sum(s.get("duration_s", 0.0) for s in sums)),
        "episodes": ep,
        "mouth_only": {side: pooled(lambda s, a=side: s["mouth_only"][a]) for side in SIDES},
        "blinks": {"count": blinks, "per_minute": blinks * 60.0 / obs if obs > 0 else None},
        "affected_side": affected,
        "closed_fraction": closed,
        "longest_tonic_s": max(tonic) if tonic else None,
    }


def _event_numbers(recordings: Sequence[Recording]) -> dict:
    regions = {side: {"eye": 0, "eye+mouth": 0, "brow_raised": 0} for side in SIDES}
    episode_time = dict.fromkeys(SIDES, 0.0)
    shut = dict.fromkeys(SIDES, 0.0)
    for r in recordings:
        eye = eye_episodes(r.events)
        for e in eye:
            regions[e.side][e.regions] += 1
            regions[e.side]["brow_raised"] += bool(e.brow_raised)
            shut[e.side] += e.closure_duration
        for side in SIDES:
            episode_time[side] += union_seconds((e.onset, e.end) for e in eye if e.side == side)
    return {"regions": regions, "episode_time_s": episode_time, "shut_in_episodes_s": shut}


# ---------------------------------------------------------------------------- rate ratio


def rate_ratio(
    count: int, seconds: float, ref_count: int, ref_seconds: float, level: float = 0.95
) -> tuple[float, float, float] | None:
    """Ratio of two Poisson rates (``count/seconds`` over ``ref_count/ref_seconds``).

    Exact conditional interval: given the total, ``count`` is binomial with
    ``p = r t / (r t + r0 t0)``; a Clopper-Pearson interval on ``p`` maps to the ratio.
    None when there is no observed time or no episode in either period; the upper bound is
    ``inf`` when the reference has no episode.
    """
    if seconds <= 0 or ref_seconds <= 0 or count + ref_count == 0:
        return None
    from scipy.stats import beta  # imported on use: scipy.stats takes 0.8 s

    n, a = count + ref_count, 1.0 - level
    p_lo = 0.0 if count == 0 else beta.ppf(a / 2, count, n - count + 1)
    p_hi = 1.0 if count == n else beta.ppf(1 - a / 2, count + 1, n - count)
    scale = ref_seconds / seconds

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * scale

    est = math.inf if ref_count == 0 else count / ref_count * scale
    return est, to_ratio(float(p_lo)), to_ratio(float(p_hi))


# ---------------------------------------------------------------------------- wall clock


@dataclass
class HourBin:
    """Observed time and eye-episode counts in one wall-clock hour (local time)."""

    start: datetime
    observed_s: float = 0.0
    episodes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))


def observed_by_hour(rec: Recording, tz: tzinfo | None = None) -> dict[datetime, float]:
    """Seconds observed (both sides measurable) per local wall-clock hour; {} if undated.

    Uses, in order: per-minute aggregates (``minutes``), per-frame signals, or the summary's
    observed time spread evenly over the recording.
    """
    if rec.start is None:
        return {}
    tz = tz or local_tz()
    out: dict[datetime, float] = defaultdict(float)
    if rec.minutes is not None and len(rec.minutes.get("start", ())):
        for when, obs in zip(rec.minutes["start"], rec.minutes["observed_s"], strict=True):
            out[_hour(_aware(when), tz)] += float(obs)
        return dict(out)
    start = rec.start
    if rec.signals is not None and len(rec.signals.get("time", ())):
        t = np.asarray(rec.signals["time"], float)
        fps = float(rec.summary.get("fps") or 30.0)
        dt = frame_durations(t, fps)
        both = np.ones(len(t), bool)
        for side in SIDES:
            col = rec.signals.get(f"measurable_{side}")
            if col is not None:
                both &= np.nan_to_num(np.asarray(col, float)) > 0
        offsets = np.floor(_seconds_into_hour(start, tz) + t) // 3600
        for k in np.unique(offsets):
            sel = (offsets == k) & both
            out[_hour(start, tz) + timedelta(hours=int(k))] += float(dt[sel].sum())
        return dict(out)
    duration = float(rec.summary.get("duration_s") or 0.0)
    observed = float(rec.summary.get("observed_s") or 0.0)
    if duration <= 0:
        return {}
    t0, t1 = 0.0, duration
    first = _seconds_into_hour(start, tz)
    while t0 < t1:
        nxt = min(t1, t0 + 3600.0 - (first + t0) % 3600.0)
        out[_hour(start + timedelta(seconds=t0), tz)] += observed * (nxt - t0) / duration
        t0 = nxt
    return dict(out)


def hour_bins(recordings: Sequence[Recording], tz: tzinfo | None = None) -> list[HourBin]:
    """Wall-clock hours with observed time and eye-episode counts by side, sorted."""
    tz = tz or local_tz()
    bins: dict[datetime, HourBin] = {}
    for rec in recordings:
        for hour, obs in observed_by_hour(rec, tz).items():
            bins.setdefault(hour, HourBin(hour)).observed_s += obs
        if rec.start is None:
            continue
        for e in eye_episodes(rec.events):
            hour = _hour(rec.start + timedelta(seconds=e.onset), tz)
            bins.setdefault(hour, HourBin(hour)).episodes[e.side] += 1
    return [bins[h] for h in sorted(bins)]


@dataclass
class RateRow:
    """Eye-episode counts and rates by side over some observed time (a day, an hour of day)."""

    key: object
    observed_s: float
    counts: dict[str, int]

    def rate(self, side: str) -> dict:
        """``{count, per_hour, ci95}`` of ``side`` (``total`` for both sides)."""
        count = sum(self.counts.values()) if side == "total" else self.counts[side]
        return rate(count, self.observed_s)


def _rows(bins: Iterable[HourBin], key) -> list[RateRow]:
    rows: dict[object, RateRow] = {}
    for b in bins:
        k = key(b.start)
        row = rows.setdefault(k, RateRow(k, 0.0, dict.fromkeys(SIDES, 0)))
        row.observed_s += b.observed_s
        for side in SIDES:
            row.counts[side] += b.episodes[side]
    return [rows[k] for k in sorted(rows)]


def by_day(recordings: Sequence[Recording], tz: tzinfo | None = None) -> list[RateRow]:
    """One row per local calendar day with observed time (key: ``datetime.date``)."""
    return _rows(hour_bins(recordings, tz), lambda h: h.date())


def by_hour_of_day(recordings: Sequence[Recording], tz: tzinfo | None = None) -> list[RateRow]:
    """One row per hour of the day (0-23) with observed time, pooled over days."""
    return _rows(hour_bins(recordings, tz), lambda h: h.hour)


def _aware(when) -> datetime:
    if isinstance(when, np.datetime64):
        when = datetime.fromisoformat(str(when.astype("datetime64[us]")))
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return when if when.tzinfo else when.astimezone()


def _hour(when: datetime, tz: tzinfo) -> datetime:
    return when.astimezone(tz).replace(minute=0, second=0, microsecond=0)


def _seconds_into_hour(when: datetime, tz: tzinfo) -> float:
    local = when.astimezone(tz)
    return local.minute * 60 + local.second + local.microsecond / 1e6


# ---------------------------------------------------------------------------- treatments


@dataclass(frozen=True)
class Treatment:
    """A treatment (injection, surgery) at ``when``; ``day_only`` if given without a time.

    A date without a time counts recordings made that day as *before* the treatment (botulinum
    toxin acts after days), so its effective time is the end of that day.
    """

    when: datetime
    label: str
    day_only: bool = False

    @property
    def effective(self) -> datetime:
        return self.when + timedelta(days=1) if self.day_only else self.when

    @property
    def day(self) -> date:
        return self.when.date()


@dataclass
class Period:
    """Recordings between two treatments (or before the first / after the last)."""

    label: str
    start: datetime | None
    end: datetime | None
    recordings: list[Recording]
    after: Treatment | None = None  # the treatment this period follows


def periods(recordings: Sequence[Recording], treatments: Sequence[Treatment]) -> list[Period]:
    """Split dated recordings at the treatments (by recording start); empty periods kept.

    Undated recordings (``start`` None) belong to no period.
    """
    ts = sorted(treatments, key=lambda t: t.effective)
    out = [Period(f"Before {ts[0].label}" if ts else "All", None, None, [])]
    for i, t in enumerate(ts):
        out[-1].end = t.effective
        nxt = ts[i + 1].label if i + 1 < len(ts) else None
        label = f"After {t.label}" + (f", before {nxt}" if nxt else "")
        out.append(Period(label, t.effective, None, [], after=t))
    for rec in sorted((r for r in recordings if r.start is not None), key=lambda r: r.start):
        for p in out:
            if (p.start is None or rec.start >= p.start) and (p.end is None or rec.start < p.end):
                p.recordings.append(rec)
                break
    return out
