"""Counts over observed time: :class:`Rate` (per hour, exact Poisson 95 % interval), the
groups of rates a summary holds (:class:`EpisodeRates`, :class:`Blinks`), and the ratio of
two rates with its exact interval (:func:`rate_ratio`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from spasm_cv.events.table import CONTEXTS, KINDS, SIDES, Event


def poisson_ci(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for a Poisson count.

    The limits are chi-square quantiles [1]_: ``chi2(alpha/2, 2k) / 2`` (0 for ``k = 0``)
    and ``chi2(1 - alpha/2, 2k + 2) / 2`` for ``k`` events.

    Parameters
    ----------
    count : int
        Events observed.
    level : float
        Confidence level (0-1).

    Returns
    -------
    (low, high) : tuple of float
        Interval for the expected count.

    References
    ----------
    .. [1] Garwood F. Fiducial limits for the Poisson distribution. Biometrika.
       1936;28(3/4):437-442.

    Examples
    --------
    >>> low, high = poisson_ci(8)
    >>> round(low, 2), round(high, 2)
    (3.45, 15.76)
    """
    from scipy.stats import chi2  # imported on use: scipy.stats takes 0.8 s

    alpha = 1.0 - level
    lo = 0.0 if count == 0 else chi2.ppf(alpha / 2, 2 * count) / 2
    hi = chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return float(lo), float(hi)


@dataclass(frozen=True)
class Rate:
    """A count over some observed time: ``per_hour`` and ``ci95`` None without observed time.

    In summary.json: ``{"count": n, "per_hour": r, "ci95": [low, high]}``.
    """

    count: int
    per_hour: float | None
    ci95: tuple[float | None, float | None]

    @classmethod
    def of(cls, count: int, seconds: float) -> Rate:
        """``count`` events in ``seconds`` of observed time, per hour, exact 95 % interval."""
        if seconds <= 0:
            return cls(count, None, (None, None))
        lo, hi = poisson_ci(count)
        scale = 3600.0 / seconds
        return cls(count, count * scale, (lo * scale, hi * scale))

    @classmethod
    def from_dict(cls, d: dict) -> Rate:
        lo, hi = d["ci95"]
        return cls(d["count"], d["per_hour"], (lo, hi))

    def to_dict(self, insufficient: bool | None = None) -> dict:
        """summary.json's form; ``insufficient`` (when given) adds the
        ``insufficient_observation`` flag (see :mod:`spasm_cv.results.observation`)."""
        out = {"count": self.count, "per_hour": self.per_hour, "ci95": list(self.ci95)}
        if insufficient is not None:
            out["insufficient_observation"] = insufficient
        return out


@dataclass(frozen=True)
class EpisodeRates:
    """One-sided eye episodes: all, per side, per kind, per side and kind; region counts.

    ``with_mouth``/``with_brow_raised`` are None when a summary.json lacks them.
    """

    total: Rate
    by_side: dict[str, Rate]
    by_kind: dict[str, Rate]
    by_side_and_kind: dict[str, dict[str, Rate]]
    with_mouth: int | None
    with_brow_raised: int | None
    by_context: dict[str, int] | None = None

    @classmethod
    def count(cls, episodes: Sequence[Event], seconds: float) -> EpisodeRates:
        """Rates of ``episodes`` (eye episodes only) over ``seconds`` of observed time."""
        return cls(
            total=Rate.of(len(episodes), seconds),
            by_side={s: Rate.of(sum(e.side == s for e in episodes), seconds) for s in SIDES},
            by_kind={k: Rate.of(sum(e.kind == k for e in episodes), seconds) for k in KINDS},
            by_side_and_kind={
                s: {
                    k: Rate.of(sum(e.side == s and e.kind == k for e in episodes), seconds)
                    for k in KINDS
                }
                for s in SIDES
            },
            with_mouth=sum(e.regions == "eye+mouth" for e in episodes),
            with_brow_raised=sum(bool(e.brow_raised) for e in episodes),
            by_context=context_counts(episodes),
        )

    @classmethod
    def from_dict(cls, d: dict) -> EpisodeRates:
        return cls(
            total=Rate.from_dict(d["total"]),
            by_side={s: Rate.from_dict(r) for s, r in d["by_side"].items()},
            by_kind={k: Rate.from_dict(r) for k, r in d["by_kind"].items()},
            by_side_and_kind={
                s: {k: Rate.from_dict(r) for k, r in kinds.items()}
                for s, kinds in d["by_side_and_kind"].items()
            },
            with_mouth=d.get("with_mouth"),
            with_brow_raised=d.get("with_brow_raised"),
            by_context=d.get("by_context"),
        )

    def to_dict(self, insufficient: bool | None = None) -> dict:
        """summary.json's form; ``insufficient`` flags every rate (see :meth:`Rate.to_dict`)."""
        f = insufficient
        return {
            "total": self.total.to_dict(f),
            "by_side": {s: r.to_dict(f) for s, r in self.by_side.items()},
            "by_kind": {k: r.to_dict(f) for k, r in self.by_kind.items()},
            "by_side_and_kind": {
                s: {k: r.to_dict(f) for k, r in kinds.items()}
                for s, kinds in self.by_side_and_kind.items()
            },
            "with_mouth": self.with_mouth,
            "with_brow_raised": self.with_brow_raised,
            "by_context": self.by_context,
        }

    def counts(self) -> dict[str, int]:
        """Episode count per side."""
        return {s: self.by_side[s].count for s in SIDES}


def context_counts(episodes: Sequence[Event]) -> dict[str, int]:
    """Episodes per context (an episode while talking and smiling counts in both);
    ``none``: episodes with none of them."""
    out = {c: sum(c in (e.context or "").split("+") for e in episodes) for c in CONTEXTS}
    out["none"] = sum(e.context == "none" for e in episodes)
    return out


CONTEXT_WORDS = {
    "talking": "while talking",
    "smiling": "while smiling",
    "head_moving": "with the head moving",
    "none": "with none of these",
}


def context_phrase(by_context: dict[str, int], total: int) -> str:
    """``"58 % while talking, 8 % while smiling, 0 % with the head moving, 33 % with none of
    these"`` for ``total`` episodes."""
    return ", ".join(
        f"{100 * by_context.get(k, 0) / total:.0f} % {w}" for k, w in CONTEXT_WORDS.items()
    )


@dataclass(frozen=True)
class Blinks:
    """Two-sided blinks: count and rate per minute of observed time (None without any)."""

    count: int
    per_minute: float | None

    @classmethod
    def of(cls, count: int, seconds: float) -> Blinks:
        return cls(count, count * 60.0 / seconds if seconds > 0 else None)

    def to_dict(self, insufficient: bool | None = None) -> dict:
        """summary.json's form; ``insufficient`` flags the rate (see :meth:`Rate.to_dict`)."""
        out = {"count": self.count, "per_minute": self.per_minute}
        if insufficient is not None:
            out["insufficient_observation"] = insufficient
        return out


def affected_side(counts: dict[str, int]) -> str | None:
    """The side with more episodes; None when both sides have as many."""
    if counts["right"] == counts["left"]:
        return None
    return max(counts, key=counts.get)


def rate_ratio(
    count: int, seconds: float, ref_count: int, ref_seconds: float, level: float = 0.95
) -> tuple[float, float, float] | None:
    """Ratio of two Poisson rates (``count/seconds`` over ``ref_count/ref_seconds``).

    Exact conditional interval: given the total, ``count`` is binomial with
    ``p = r t / (r t + r0 t0)``; a Clopper-Pearson interval [1]_ on ``p`` maps to the ratio.
    None when there is no observed time or no episode in either period; the upper bound is
    ``inf`` when the reference has no episode.

    Parameters
    ----------
    count : int
        Episodes in the period compared (e.g. after a treatment).
    seconds : float
        Observed seconds of that period.
    ref_count : int
        Episodes in the reference period (e.g. before).
    ref_seconds : float
        Observed seconds of the reference period.
    level : float
        Confidence level (0-1).

    Returns
    -------
    (ratio, low, high) : tuple of float, or None
        The rate ratio and its exact interval.

    References
    ----------
    .. [1] Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in
       the case of the binomial. Biometrika. 1934;26(4):404-413.

    Examples
    --------
    >>> ratio, low, high = rate_ratio(4, 3600.0, 16, 3600.0)
    >>> ratio, round(low, 2), round(high, 2)
    (0.25, 0.06, 0.77)
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
