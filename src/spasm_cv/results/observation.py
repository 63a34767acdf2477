"""How much the data can say: the observed time a rate or a grade needs before it is shown.

A rate per hour from seconds of video is an extrapolation: one episode in 1.3 s is
"2727 per hour (95 % CI 69-15195)", a number nobody should act on. Every consumer (the
terminal summary, summary.json, the report's cards, tables, grades and plots) asks
:class:`ObservationThresholds` whether a figure has enough observed time behind it, and
below the threshold says **insufficient observation** instead of a number.

The thresholds (seconds, observed time: both sides of the face measurable) are:

- ``rate_min_observed_s`` (10 min): a count becomes a rate per hour (or per minute, for
  blinks). Below it the count is still reported; the rate is flagged.
- ``grade_min_observed_s`` (30 min): a suggested clinical grade. The Jankovic frequency item
  grades how often episodes come; 30 min is the shortest time in which "less than once an
  hour" (grade 1) can be told from "more than once an hour" (grade 2) by at least one
  episode.
- ``grade_min_episodes`` (5): the Samsung Medical Center grade also describes what the
  episodes look like (spread to the mouth, frequent tonic spasms): a share of fewer than five
  episodes is not a pattern.

These are conventions of this tool, chosen to stop extrapolations, not clinically validated
cut-offs; they are written into summary.json (``observation``) with every result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ObservationThresholds:
    """Minimum observed time (seconds) and episodes for rates and suggested grades.

    Parameters
    ----------
    rate_min_observed_s : float
        Observed seconds below which a rate (per hour, per minute) is not shown as a rate.
    grade_min_observed_s : float
        Observed seconds below which no clinical grade is suggested (at least
        ``rate_min_observed_s``: a grade rests on rates).
    grade_min_episodes : int
        One-sided events below which the Samsung Medical Center grade (a pattern of episodes)
        is not suggested.

    Raises
    ------
    ValueError
        A threshold that is not a finite positive number, fewer than one episode, or a grade
        threshold below the rate threshold.

    Examples
    --------
    >>> t = ObservationThresholds()
    >>> t.rates_insufficient(73.0), t.rates_insufficient(3600.0)
    (True, False)
    """

    rate_min_observed_s: float = 600.0
    grade_min_observed_s: float = 1800.0
    grade_min_episodes: int = 5

    def __post_init__(self) -> None:
        for name in ("rate_min_observed_s", "grade_min_observed_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number of seconds, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite positive number of seconds: {value}")
        n = self.grade_min_episodes
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"grade_min_episodes must be a whole number >= 1, got {n!r}")
        if self.grade_min_observed_s < self.rate_min_observed_s:
            raise ValueError(
                "grade_min_observed_s must be at least rate_min_observed_s (a grade rests on "
                f"rates): {self.grade_min_observed_s} < {self.rate_min_observed_s}"
            )

    # -- the rules -----------------------------------------------------------------

    def rates_insufficient(self, observed_s: float | None) -> bool:
        """True when ``observed_s`` is too short for a rate to be shown as a rate."""
        return observed_s is None or observed_s < self.rate_min_observed_s

    def frequency_grade_insufficient(self, observed_s: float | None) -> bool:
        """True when no frequency grade (Jankovic) should be suggested from ``observed_s``."""
        return observed_s is None or observed_s < self.grade_min_observed_s

    def pattern_grade_insufficient(self, observed_s: float | None, n_events: int) -> bool:
        """True when no pattern grade (SMC) should be suggested: too little time or too few
        one-sided events (``n_events``: eye episodes and mouth-only events)."""
        return self.frequency_grade_insufficient(observed_s) or n_events < self.grade_min_episodes

    # -- words ---------------------------------------------------------------------

    def rate_shortfall(self, observed_s: float | None) -> str:
        """Why a rate is not shown, e.g. ``1.3 s observed; a rate needs at least 10 min``."""
        return (
            f"{time_words(observed_s)} observed; a rate needs at least "
            f"{time_words(self.rate_min_observed_s)}"
        )

    def grade_shortfall(self, observed_s: float | None, n_events: int | None = None) -> str:
        """Why a grade is not suggested (time, and the episodes when ``n_events`` is given)."""
        need = f"at least {time_words(self.grade_min_observed_s)} observed"
        if n_events is not None:
            need += f" and {self.grade_min_episodes} one-sided events"
        have = f"{time_words(observed_s)} observed" + (
            f", {n_events} event{'s' * (n_events != 1)}" if n_events is not None else ""
        )
        return f"{have}; a suggested grade needs {need}"

    def to_dict(self) -> dict:
        """The thresholds under their names (seconds), as summary.json records them."""
        return asdict(self)


DEFAULT_THRESHOLDS = ObservationThresholds()
INSUFFICIENT = "insufficient observation"  # what every consumer shows instead of a number
FLAG = "insufficient_observation"  # the summary.json key flagging a figure


def observation_record(
    observed_s: float, n_events: int, thresholds: ObservationThresholds = DEFAULT_THRESHOLDS
) -> dict:
    """summary.json's ``observation``: the thresholds and what they allow for these numbers.

    Parameters
    ----------
    observed_s : float
        Observed time (s) of the recording (or recordings pooled).
    n_events : int
        One-sided events (eye episodes and mouth-only events).
    thresholds : ObservationThresholds
        The rules applied.
    """
    return {
        **thresholds.to_dict(),
        "insufficient_for_rates": thresholds.rates_insufficient(observed_s),
        "insufficient_for_grades": {
            "jankovic_frequency": thresholds.frequency_grade_insufficient(observed_s),
            "smc": thresholds.pattern_grade_insufficient(observed_s, n_events),
        },
    }


def time_words(seconds: float | None) -> str:
    """A time for people: ``1.3 s``, ``10 min``, ``12.5 min``, ``2.0 h``."""
    if seconds is None:
        return "no time"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min" if seconds % 60 == 0 else f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
