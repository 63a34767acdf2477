"""The report's numbers beyond the pooled summary: episode details, wall-clock bins, periods.

Everything here works on :class:`~spasm_cv.results.recording.Recording` objects whether or
not they carry per-frame ``signals`` (result folders) or per-minute ``minutes`` (monitor
sessions); pooled rates come from :func:`spasm_cv.results.pooled.pool`. Times of day are in
the time zone ``tz`` (default: this computer's local zone). No plotting here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

import numpy as np

from spasm_cv.events.table import SIDES
from spasm_cv.results.rates import Rate
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import frame_durations


def local_tz() -> tzinfo:
    """This computer's local time zone (what times of day in a report are shown in)."""
    return datetime.now().astimezone().tzinfo


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


# ---------------------------------------------------------------------------- episodes


@dataclass(frozen=True)
class EpisodeDetails:
    """What the report needs of the episodes themselves, per side, over all recordings.

    ``regions``: eye-episode counts by region (``eye``, ``eye+mouth``) and with the brow
    raised (``brow_raised``); ``episode_time_s``: time within episodes (union of their
    intervals); ``shut_in_episodes_s``: summed ``closure_duration``.
    """

    regions: dict[str, dict[str, int]]
    episode_time_s: dict[str, float]
    shut_in_episodes_s: dict[str, float]


def episode_details(recordings: Sequence[Recording]) -> EpisodeDetails:
    """:class:`EpisodeDetails` of the eye episodes of ``recordings``."""
    regions = {side: {"eye": 0, "eye+mouth": 0, "brow_raised": 0} for side in SIDES}
    episode_time = dict.fromkeys(SIDES, 0.0)
    shut = dict.fromkeys(SIDES, 0.0)
    for r in recordings:
        eye = r.episodes
        for e in eye:
            regions[e.side][e.regions] += 1
            regions[e.side]["brow_raised"] += bool(e.brow_raised)
            shut[e.side] += e.closure_duration
        for side in SIDES:
            episode_time[side] += union_seconds((e.onset, e.end) for e in eye if e.side == side)
    return EpisodeDetails(regions, episode_time, shut)


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
    if rec.minutes is not None and len(rec.minutes):
        for when, obs in rec.minutes.observed_by_start():
            out[_hour(_aware(when), tz)] += obs
        return dict(out)
    start = rec.start
    if rec.track is not None and len(rec.track):
        t = rec.track.time
        dt = frame_durations(t, float(rec.summary.fps or 30.0))
        both = rec.track.observed
        offsets = np.floor(_seconds_into_hour(start, tz) + t) // 3600
        for k in np.unique(offsets):
            sel = (offsets == k) & both
            out[_hour(start, tz) + timedelta(hours=int(k))] += float(dt[sel].sum())
        return dict(out)
    duration = float(rec.summary.duration_s or 0.0)
    observed = float(rec.summary.observed_s or 0.0)
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
        for e in rec.episodes:
            hour = _hour(rec.start + timedelta(seconds=e.onset), tz)
            bins.setdefault(hour, HourBin(hour)).episodes[e.side] += 1
    return [bins[h] for h in sorted(bins)]


@dataclass
class RateRow:
    """Eye-episode counts and rates by side over some observed time (a day, an hour of day)."""

    key: object
    observed_s: float
    counts: dict[str, int]

    def rate(self, side: str) -> Rate:
        """The episode rate of ``side`` (``total`` for both sides)."""
        count = sum(self.counts.values()) if side == "total" else self.counts[side]
        return Rate.of(count, self.observed_s)


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
