"""Clinical rating scales suggested from measured numbers (pure; the rule goes with the grade).

These are measurement-based *suggestions* for a clinician to confirm, not ratings: the
thresholds that turn continuous measures into grades are ours (module constants below), chosen
to follow the wording of the scales, and have not been validated against clinical ratings.

Scales (see docs/CLINICAL.md):

* Jankovic rating scale adapted for HFS, frequency item: 0 none; 1 less than once an hour;
  2 more than once an hour but not continuous; 3 continuous with breaks; 4 continuous. The
  Jankovic Rating Scale was introduced for blepharospasm [1]_; the HFS wording of its
  frequency item above is the one docs/CLINICAL.md gives.
* Samsung Medical Center (SMC) grade [2]_: I periocular only; II spread to other muscles on
  the same side; III frequent tonic spasms interfering with vision; IV disfiguring asymmetry.

No grade is suggested from too little observation
(:class:`~spasm_cv.results.observation.ObservationThresholds`: by default 30 min observed,
and for the SMC grade, which describes a pattern of episodes, 5 one-sided events): the
suggestion then says "insufficient observation" and why.

References
----------
.. [1] Jankovic J, Orman J. Blepharospasm: demographic and clinical survey of 250 patients.
   Ann Ophthalmol. 1984;16(4):371-376.
.. [2] Lee JA, Jo KW, Kong DS, Park K. Using the new clinical grading scale for
   quantification of the severity of hemifacial spasm: correlations with a quality of life
   scale. Stereotact Funct Neurosurg. 2012;90(1):16-19. doi:10.1159/000330396
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from spasm_cv.events.table import SIDES
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, INSUFFICIENT, ObservationThresholds

if TYPE_CHECKING:
    from spasm_cv.report.aggregate import EpisodeDetails
    from spasm_cv.results.pooled import Pooled

JANKOVIC_FREQUENCY = {
    "0": "none",
    "1": "less than once an hour",
    "2": "more than once an hour, not continuous",
    "3": "continuous with breaks",
    "4": "continuous",
}
SMC_GRADES = {
    "I": "periocular only",
    "II": "spread to other muscles on the same side",
    "III": "frequent tonic spasms interfering with vision",
    "IV": "disfiguring asymmetry",
}

PER_HOUR = 1.0  # Jankovic 1 vs 2: once an hour
CONTINUOUS_WITH_BREAKS = 0.5  # Jankovic 3: episodes fill at least this fraction of observed time
CONTINUOUS = 0.9  # Jankovic 4: ... at least this fraction
SPREAD_SHARE = 0.2  # SMC II: this share of episodes (or more) involves the mouth corner
TONIC_FREQUENT_PER_H = 6.0  # SMC III: tonic episodes at least this often (once per 10 min) ...
SHUT_INTERFERES = 0.05  # ... or the eye shut in episodes at least this fraction of the time


@dataclass(frozen=True)
class Suggestion:
    """A grade suggested on a clinical scale, the rule that gave it and any caveat.

    ``grade`` is None when the scale cannot be suggested from the measurements;
    ``insufficient`` is True when that is for too little observation (``meaning`` says
    "insufficient observation", ``evidence`` what was observed and what a grade needs).
    """

    scale: str
    grade: str | None
    meaning: str
    rule: str
    evidence: str
    caveat: str | None = None
    insufficient: bool = False


def _fmt_rate(x: float) -> str:
    """Three significant digits (none after the point from 100 on, and for 0)."""
    return f"{x:.0f}" if x >= 100 or x == 0 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def _fmt_time(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def jankovic_frequency(
    count: int,
    observed_s: float,
    episode_time_s: float,
    ci95: tuple[float | None, float | None] = (None, None),
    where: str = "",
    thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
) -> Suggestion:
    """Jankovic frequency item from an episode count over observed time.

    Parameters
    ----------
    count : episodes observed.
    observed_s : observed time (s), the denominator of the rate.
    episode_time_s : time within episodes (s, union of intervals).
    ci95 : 95 % interval of the rate (per hour), for the caveat.
    where : which side(s) the numbers are of, for the evidence text.
    thresholds : the observed time a grade needs (below it: ``insufficient``, no grade).
    """
    scale = "Jankovic frequency item (adapted for HFS)"
    rule = (
        f"0 if no episode; 1 if fewer than {PER_HOUR:g} per hour; otherwise by the share of "
        f"observed time within episodes: 2 below {CONTINUOUS_WITH_BREAKS:.0%}, 3 from "
        f"{CONTINUOUS_WITH_BREAKS:.0%}, 4 from {CONTINUOUS:.0%}."
    )
    if observed_s <= 0:
        return Suggestion(scale, None, "not gradable", rule, "no observed time")
    if thresholds.frequency_grade_insufficient(observed_s):
        evidence = (
            f"{count} episode{'s' * (count != 1)}{where}; {thresholds.grade_shortfall(observed_s)}."
        )
        return Suggestion(scale, None, INSUFFICIENT, rule, evidence, insufficient=True)
    per_hour = count * 3600.0 / observed_s
    share = min(1.0, episode_time_s / observed_s)
    if count == 0:
        grade = "0"
    elif per_hour < PER_HOUR:
        grade = "1"
    elif share >= CONTINUOUS:
        grade = "4"
    elif share >= CONTINUOUS_WITH_BREAKS:
        grade = "3"
    else:
        grade = "2"
    evidence = (
        f"{count} episode{'s' * (count != 1)}{where} in {_fmt_time(observed_s)} observed: "
        f"{_fmt_rate(per_hour)} per hour"
    )
    lo, hi = ci95
    if lo is not None and hi is not None:
        evidence += f" (95 % CI {_fmt_rate(lo)}-{_fmt_rate(hi)})"
    evidence += f"; episodes filled {share:.0%} of the observed time."
    caveat = None
    if grade in ("0", "1", "2") and lo is not None and hi is not None and lo < PER_HOUR <= hi:
        caveat = (
            "the 95 % interval includes rates both below and above once an hour, so grades "
            + ("0-2" if grade == "0" else "1 and 2")
            + " are all compatible with this recording."
        )
    return Suggestion(scale, grade, JANKOVIC_FREQUENCY[grade], rule, evidence, caveat)


def smc_grade(
    n_episodes: int,
    n_with_mouth: int,
    n_mouth_only: int,
    n_tonic: int,
    observed_s: float,
    shut_s: float,
    where: str = "",
    thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
) -> Suggestion:
    """Samsung Medical Center grade (I-III) from episode regions and tonic contractions.

    Parameters
    ----------
    n_episodes : eye episodes (with or without the mouth).
    n_with_mouth : eye episodes with a same-side mouth-corner co-contraction.
    n_mouth_only : one-sided mouth-corner events without the eye.
    n_tonic : tonic eye episodes.
    observed_s : observed time (s).
    shut_s : time the eye was shut within episodes (s, summed closure durations).
    thresholds : the observed time and one-sided events a grade needs (below: no grade).
    """
    scale = "Samsung Medical Center grade"
    rule = (
        f"III if there is a tonic episode and either tonic episodes reach "
        f"{TONIC_FREQUENT_PER_H:g} per hour or the eye is shut in episodes for at least "
        f"{SHUT_INTERFERES:.0%} of the observed time; else II if at least "
        f"{SPREAD_SHARE:.0%} of the events involve the mouth corner; else I. "
        "Grade IV (disfiguring asymmetry at rest) is not measured."
    )
    n_all = n_episodes + n_mouth_only
    if n_all == 0 or observed_s <= 0:
        evidence = f"no one-sided episode observed{where}."
        return Suggestion(scale, None, "not applicable", rule, evidence)
    if thresholds.pattern_grade_insufficient(observed_s, n_all):
        evidence = f"{thresholds.grade_shortfall(observed_s, n_all)}{where}."
        return Suggestion(scale, None, INSUFFICIENT, rule, evidence, insufficient=True)
    tonic_per_h = n_tonic * 3600.0 / observed_s
    shut_share = shut_s / observed_s
    mouth_share = (n_with_mouth + n_mouth_only) / n_all
    if n_tonic > 0 and (tonic_per_h >= TONIC_FREQUENT_PER_H or shut_share >= SHUT_INTERFERES):
        grade = "III"
    elif mouth_share >= SPREAD_SHARE:
        grade = "II"
    else:
        grade = "I"
    evidence = (
        f"{n_with_mouth} of {n_episodes} eye episodes{where} with the mouth corner, "
        f"{n_mouth_only} mouth-only ({mouth_share:.0%} involve the mouth); "
        f"{n_tonic} tonic ({_fmt_rate(tonic_per_h)} per hour); "
        f"eye shut in episodes {shut_share:.1%} of the observed time."
    )
    caveat = None
    if grade == "I" and n_episodes < 5:
        caveat = "few episodes: spread to the mouth may not have shown yet."
    return Suggestion(scale, grade, SMC_GRADES[grade], rule, evidence, caveat)


def suggest(
    pooled: Pooled,
    details: EpisodeDetails,
    thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
) -> list[Suggestion]:
    """Both suggestions from pooled numbers (:func:`spasm_cv.results.pooled.pool`) and the
    episodes' details (:func:`spasm_cv.report.aggregate.episode_details`).

    Uses the affected side when one side has more episodes, else both sides together.
    ``thresholds``: the observation a grade needs (below it the suggestion says so).
    """
    side = pooled.affected_side
    sides = (side,) if side in SIDES else SIDES
    ep = pooled.episodes
    if side in SIDES:
        where = f" on the {side} side"
    elif ep.total.count:
        where = " (both sides together: neither predominates)"
    else:
        where = " on either side"
    obs = pooled.observed_s
    r = ep.by_side[side] if side in SIDES else ep.total
    jankovic = jankovic_frequency(
        r.count,
        obs,
        sum(details.episode_time_s[s] for s in sides),
        tuple(r.ci95),
        where,
        thresholds,
    )
    smc = smc_grade(
        n_episodes=sum(ep.by_side[s].count for s in sides),
        n_with_mouth=sum(details.regions[s]["eye+mouth"] for s in sides),
        n_mouth_only=sum(pooled.mouth_only[s].count for s in sides),
        n_tonic=sum(ep.by_side_and_kind[s]["tonic"].count for s in sides),
        observed_s=obs,
        shut_s=sum(details.shut_in_episodes_s[s] for s in sides),
        where=where,
        thresholds=thresholds,
    )
    return [jankovic, smc]
