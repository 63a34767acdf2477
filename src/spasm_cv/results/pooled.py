"""Numbers over several recordings: :func:`pool`, the one place summaries are pooled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spasm_cv.events.table import KINDS, SIDES
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, observation_record
from spasm_cv.results.rates import Blinks, EpisodeRates, Rate, affected_side
from spasm_cv.results.summary import Summary


@dataclass(frozen=True)
class Pooled:
    """Numbers over one or more recordings, with the meaning of the summary fields.

    ``duration_s`` is None when a single recording's summary lacks it.
    """

    n_recordings: int
    observed_s: float
    duration_s: float | None
    episodes: EpisodeRates
    mouth_only: dict[str, Rate]
    blinks: Blinks
    affected_side: str | None
    closed_fraction: dict[str, float | None]
    longest_tonic_s: float | None

    @property
    def n_events(self) -> int:
        """One-sided events: eye episodes and mouth-only events."""
        return self.episodes.total.count + sum(r.count for r in self.mouth_only.values())

    def to_dict(self) -> dict:
        """The numbers under summary.json's keys (the keys report pages tag numbers with),
        rates flagged and ``observation`` recorded as in summary.json."""
        short = DEFAULT_THRESHOLDS.rates_insufficient(self.observed_s)
        return {
            "n_recordings": self.n_recordings,
            "observed_s": self.observed_s,
            "duration_s": self.duration_s,
            "episodes": self.episodes.to_dict(short),
            "mouth_only": {s: r.to_dict(short) for s, r in self.mouth_only.items()},
            "blinks": self.blinks.to_dict(short),
            "affected_side": self.affected_side,
            "closed_fraction": self.closed_fraction,
            "longest_tonic_s": self.longest_tonic_s,
            "observation": observation_record(self.observed_s, self.n_events),
        }


def _pooled_contexts(summaries: Sequence[Summary]) -> dict[str, int] | None:
    """Episode counts per context, summed; None when a summary predates them."""
    if any(s.episodes.by_context is None for s in summaries):
        return None
    out: dict[str, int] = {}
    for s in summaries:
        for k, n in s.episodes.by_context.items():
            out[k] = out.get(k, 0) + int(n)
    return out


def pool(summaries: Sequence[Summary]) -> Pooled:
    """Numbers over recordings (the one place summaries are pooled).

    One recording: its summary's own values. Several: counts and observed seconds are summed
    and rates recomputed (exact Poisson intervals); closed fractions are weighted by each
    side's observed time; the longest tonic contraction is the maximum.
    """
    if not summaries:
        raise ValueError("no recordings to pool")
    if len(summaries) == 1:
        s = summaries[0]
        return Pooled(
            1,
            s.observed_s,
            s.duration_s,
            s.episodes,
            s.mouth_only,
            s.blinks,
            s.affected_side,
            s.closed_fraction or {},
            s.longest_tonic_s,
        )
    obs = float(sum(s.observed_s for s in summaries))

    def pooled(get) -> Rate:
        return Rate.of(int(sum(get(s).count for s in summaries)), obs)

    ep = EpisodeRates(
        total=pooled(lambda s: s.episodes.total),
        by_side={a: pooled(lambda s, a=a: s.episodes.by_side[a]) for a in SIDES},
        by_kind={k: pooled(lambda s, k=k: s.episodes.by_kind[k]) for k in KINDS},
        by_side_and_kind={
            a: {k: pooled(lambda s, a=a, k=k: s.episodes.by_side_and_kind[a][k]) for k in KINDS}
            for a in SIDES
        },
        with_mouth=int(sum(s.episodes.with_mouth or 0 for s in summaries)),
        with_brow_raised=int(sum(s.episodes.with_brow_raised or 0 for s in summaries)),
        by_context=_pooled_contexts(summaries),
    )
    closed = {}
    for side in SIDES:
        num = den = 0.0
        for s in summaries:
            cf = (s.closed_fraction or {}).get(side)
            if cf is None:
                continue
            w = s.observed_s_by_side.get(side, s.observed_s)
            num, den = num + cf * w, den + w
        closed[side] = num / den if den > 0 else None
    tonic = [s.longest_tonic_s for s in summaries if s.longest_tonic_s is not None]
    return Pooled(
        n_recordings=len(summaries),
        observed_s=obs,
        duration_s=float(sum(s.duration_s or 0.0 for s in summaries)),
        episodes=ep,
        mouth_only={a: pooled(lambda s, a=a: s.mouth_only[a]) for a in SIDES},
        blinks=Blinks.of(int(sum(s.blinks.count for s in summaries)), obs),
        affected_side=affected_side(ep.counts()),
        closed_fraction=closed,
        longest_tonic_s=max(tonic) if tonic else None,
    )
