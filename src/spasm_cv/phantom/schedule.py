"""Episode schedule: when, on which side, what kind and how strong (pure, seeded).

An episode is one or more contractions of the orbicularis oculi. Each contraction closes
the eye along a raised-cosine ramp, holds, and reopens more slowly; the episode's envelope
(0-1, a fraction of its peak closure) is the maximum over its contractions. Times are in
seconds from the start of the phantom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spasm_cv.phantom.params import ScheduleParams

Interval = tuple[float, float]

_MAX_TRIES = 300  # onsets tried per episode before drawing another (shorter) one


@dataclass(frozen=True)
class Contraction:
    """One closing-hold-opening of the lid; ``start_s`` from the episode onset, seconds."""

    start_s: float
    close_s: float
    hold_s: float
    open_s: float
    level: float  # fraction of the episode's peak closure, 0-1

    @property
    def end_s(self) -> float:
        return self.start_s + self.close_s + self.hold_s + self.open_s


@dataclass(frozen=True)
class Episode:
    """A one-sided spasm episode with its truth.

    ``peak_closure`` is the closure (``1 - aperture / open baseline``) asked for at the
    envelope's maximum; ``mouth_level`` (0-1) scales the maximal mouth-corner pull and is 0
    when the mouth takes no part.
    """

    onset_s: float
    side: str  # patient's 'left' or 'right'
    kind: str  # 'twitch', 'clonic' or 'tonic'
    peak_closure: float
    contractions: tuple[Contraction, ...]
    mouth_level: float = 0.0

    @property
    def duration_s(self) -> float:
        return max(c.end_s for c in self.contractions)

    @property
    def offset_s(self) -> float:
        return self.onset_s + self.duration_s

    @property
    def n_contractions(self) -> int:
        return len(self.contractions)

    @property
    def mouth(self) -> bool:
        return self.mouth_level > 0


def _ramp(x: np.ndarray) -> np.ndarray:
    """Raised cosine from 0 (x <= 0) to 1 (x >= 1)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def contraction_envelope(c: Contraction, t: np.ndarray) -> np.ndarray:
    """Envelope (0-``c.level``) of one contraction at times ``t`` from the episode onset."""
    t = np.asarray(t, dtype=np.float64) - c.start_s
    rise = _ramp(t / c.close_s)
    fall = 1.0 - _ramp((t - c.close_s - c.hold_s) / c.open_s)
    inside = (t >= 0) & (t <= c.close_s + c.hold_s + c.open_s)
    return np.where(inside, c.level * np.minimum(rise, fall), 0.0)


def envelope(episode: Episode, t: np.ndarray | float) -> np.ndarray:
    """Episode envelope at absolute times ``t`` (s): fraction 0-1 of its peak closure."""
    rel = np.asarray(t, dtype=np.float64) - episode.onset_s
    out = np.zeros_like(rel)
    for c in episode.contractions:
        out = np.maximum(out, contraction_envelope(c, rel))
    return out


def closure_at(episodes: Sequence[Episode], side: str, t: np.ndarray) -> np.ndarray:
    """Target closure of ``side`` at times ``t`` (s) from all its episodes."""
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    for ep in episodes:
        if ep.side == side:
            out = np.maximum(out, ep.peak_closure * envelope(ep, t))
    return out


def mouth_at(episodes: Sequence[Episode], side: str, t: np.ndarray) -> np.ndarray:
    """Mouth-corner pull of ``side`` (0-1 of the maximum) at times ``t`` (s)."""
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros_like(t)
    for ep in episodes:
        if ep.side == side and ep.mouth:
            out = np.maximum(out, ep.mouth_level * envelope(ep, t))
    return out


def _contraction(
    rng: np.random.Generator, p: ScheduleParams, start: float, total: float | None, level: float
) -> Contraction:
    close = rng.uniform(*p.close_s)
    opening = close * rng.uniform(*p.open_ratio)
    if total is None:  # clonic: a brief hold
        hold = rng.uniform(*p.clonic_hold_s)
    else:
        opening = min(opening, max(total - close, 0.0))
        hold = max(total - close - opening, 0.0)
    return Contraction(float(start), float(close), float(hold), float(opening), float(level))


def draw_contractions(
    rng: np.random.Generator, kind: str, p: ScheduleParams
) -> tuple[Contraction, ...]:
    """The contractions of one episode of ``kind``, timed from its onset (s)."""
    if kind == "twitch":
        return (_contraction(rng, p, 0.0, rng.uniform(*p.twitch_s), 1.0),)
    if kind == "tonic":
        return (_contraction(rng, p, 0.0, rng.uniform(*p.tonic_s), 1.0),)
    if kind == "clonic":
        n = int(rng.integers(p.clonic_n[0], p.clonic_n[1] + 1))
        period = 1.0 / rng.uniform(*p.clonic_hz)
        levels = rng.uniform(*p.clonic_level, size=n)
        levels = levels / levels.max()
        starts = period * np.arange(n) + rng.uniform(-0.1, 0.1, size=n) * period
        starts[0] = 0.0
        starts = np.maximum.accumulate(starts)
        return tuple(
            _contraction(rng, p, s, None, lv) for s, lv in zip(starts, levels, strict=True)
        )
    raise ValueError(f"unknown episode kind {kind!r}")


def _fits(start: float, stop: float, allowed: Sequence[Interval]) -> bool:
    return any(a <= start and stop <= b for a, b in allowed)


def plan_episodes(
    seed: int,
    duration_s: float,
    allowed: Sequence[Interval],
    full_closure: dict[str, float],
    params: ScheduleParams = ScheduleParams(),  # noqa: B008 (frozen, immutable)
) -> list[Episode]:
    """Draw the episodes of one phantom.

    Parameters
    ----------
    seed : random seed; the same inputs give the same episodes.
    duration_s : phantom length, seconds.
    allowed : intervals (s) where an episode may lie entirely (both eyes open in the source,
        away from natural blinks).
    full_closure : per side, the strongest closure the donors can give; peaks are drawn
        uniformly between ``params.min_closure`` and it.
    params : timing and amplitude ranges.

    Returns
    -------
    Episodes sorted by onset, at most ``round(rate * duration / 60)`` (at least one asked
    for unless the rate is 0), separated by at least ``params.min_gap_s``. Fewer (maybe
    none) if they do not fit.
    """
    rng = np.random.default_rng(seed)
    if params.rate_per_min <= 0:
        return []
    n_wanted = max(1, int(round(params.rate_per_min * duration_s / 60.0)))
    sides = ("right", "left") if params.side == "both" else (params.side,)
    placed: list[Episode] = []
    slot = duration_s / n_wanted
    for i in range(n_wanted):
        for attempt in range(4):  # a long episode that does not fit gives way to another
            kind = params.kinds[int(rng.integers(len(params.kinds)))]
            side = sides[int(rng.integers(len(sides)))]
            contractions = draw_contractions(rng, kind, params)
            length = max(c.end_s for c in contractions)
            full = full_closure[side]
            peak = rng.uniform(min(params.min_closure, full), full)
            mouth = rng.uniform(*params.mouth_level) if rng.random() < params.mouth_prob else 0.0
            # First try within this episode's share of the time line (spreads them out).
            window = (i * slot, (i + 1) * slot) if attempt < 2 else (0.0, duration_s)
            onset = _place(rng, length, window, allowed, placed, params.min_gap_s)
            if onset is not None:
                placed.append(
                    Episode(round(onset, 3), side, kind, float(peak), contractions, float(mouth))
                )
                break
    return sorted(placed, key=lambda e: e.onset_s)


def _place(
    rng: np.random.Generator,
    length: float,
    window: Interval,
    allowed: Sequence[Interval],
    placed: Sequence[Episode],
    gap: float,
) -> float | None:
    """A random onset (s) within ``window`` where an episode of ``length`` fits, or None."""
    room = [
        (max(a, window[0]), b - length)
        for a, b in allowed
        if b - length >= max(a, window[0]) and a < window[1]
    ]
    room = [(a, min(b, window[1])) for a, b in room]
    if not room:
        return None
    widths = np.array([b - a for a, b in room]) + 1e-6
    for _ in range(_MAX_TRIES):
        k = int(rng.choice(len(room), p=widths / widths.sum()))
        onset = float(rng.uniform(room[k][0], room[k][1]))
        stop = onset + length
        if not _fits(onset, stop, allowed):
            continue
        if all(onset >= e.offset_s + gap or stop + gap <= e.onset_s for e in placed):
            return onset
    return None


def allowed_intervals(
    times: np.ndarray, open_mask: np.ndarray, margin_s: float, frame_s: float
) -> list[Interval]:
    """Intervals (s) at least ``margin_s`` inside runs of open frames.

    ``times`` are the frame times (s) and ``open_mask`` says which frames have both eyes open
    and a face; a frame covers ``[t, t + frame_s)``. The start and the end of the video count
    as edges too.
    """
    out: list[Interval] = []
    mask = np.asarray(open_mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        a = times[start] + margin_s
        b = times[stop - 1] + frame_s - margin_s
        if b > a:
            out.append((float(a), float(b)))
    return out
