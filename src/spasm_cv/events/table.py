"""``Event``: one row of events.tsv."""

from __future__ import annotations

from dataclasses import asdict, dataclass

TRIAL_TYPES = ("spasm", "blink", "bilateral_closure")
KINDS = ("twitch", "clonic", "tonic")


@dataclass(frozen=True)
class Event:
    """A detected episode or blink. Times in seconds from the start of the recording.

    ``side`` is the patient's anatomical side (``both`` for two-sided events); ``regions`` is
    ``eye``, ``mouth`` or ``eye+mouth``. ``brow_raised``/``mouth_cocontraction`` are None where
    they could not be measured or do not apply.
    """

    onset: float
    duration: float
    trial_type: str
    side: str
    kind: str | None  # None (n/a) for two-sided events
    regions: str
    n_contractions: int
    peak_closure: float
    closure_duration: float
    brow_raised: bool | None
    mouth_cocontraction: bool | None
    confidence: float

    @property
    def end(self) -> float:
        return self.onset + self.duration

    @property
    def involves_eye(self) -> bool:
        return "eye" in self.regions

    def to_dict(self) -> dict:
        return asdict(self)
