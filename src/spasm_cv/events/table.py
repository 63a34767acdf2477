"""``Event``: one row of events.tsv, and the words every layer describes events with.

The vocabulary lives here once: :data:`SIDES` (the patient's anatomical sides, as the signal
stage names them), :data:`OTHER` (each side's opposite), :data:`KINDS`,
the trial types (:data:`TRIAL_TYPES`), :data:`EVENT_SIDES`, :data:`REGIONS` and
:func:`context_levels` (what readers accept), and the questions every consumer asks of an
event: :attr:`Event.is_episode` (a one-sided episode involving the eye: what rates count),
:attr:`Event.is_possible` (one the detector could not be sure of: listed, not counted unless
asked), :attr:`Event.is_one_sided` (either of them, or a mouth-only pull) and
:attr:`Event.is_mouth_only`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from spasm_cv.signals.geometry import SIDES

__all__ = [
    "CONTEXTS",
    "EVENT_FIELDS",
    "EVENT_SIDES",
    "FIELD_TYPES",
    "KINDS",
    "OTHER",
    "POSSIBLE",
    "REGIONS",
    "SIDES",
    "SPASM",
    "TRIAL_TYPES",
    "Event",
    "context_levels",
]

OTHER = {"right": "left", "left": "right"}
KINDS = ("twitch", "clonic", "tonic")
# What an event is (events.tsv ``trial_type``). ``possible_spasm``: a one-sided eye episode
# the detector could not be sure of (see spasm_cv.events.decide.unsure): listed and
# reviewable, not counted in rates unless asked (``Recording.counting_possible``).
SPASM, POSSIBLE = "spasm", "possible_spasm"
TRIAL_TYPES = (SPASM, POSSIBLE, "blink", "bilateral_closure")
EVENT_SIDES = (*SIDES, "both")  # an event's side: one of SIDES, or both (two-sided events)
REGIONS = ("eye", "mouth", "eye+mouth")
# What the face was doing around an episode (Event.context joins them with "+", or "none").
CONTEXTS = ("talking", "smiling", "head_moving")


def context_levels() -> tuple[str, ...]:
    """Every value ``Event.context`` can take besides None: ``none`` and each non-empty
    combination of :data:`CONTEXTS`, in their order, joined by ``+``."""
    from itertools import combinations

    combos = ["+".join(c) for n in range(1, len(CONTEXTS) + 1) for c in combinations(CONTEXTS, n)]
    return ("none", *combos)


@dataclass(frozen=True)
class Event:
    """A detected episode or blink. Times in seconds from the start of the recording.

    ``side`` is the patient's anatomical side (``both`` for two-sided events); ``regions`` is
    ``eye``, ``mouth`` or ``eye+mouth``. ``brow_raised``/``mouth_cocontraction`` are None where
    they could not be measured or do not apply. ``context`` says what the face was doing
    around a one-sided event: any of :data:`CONTEXTS` joined by ``+`` (``talking+smiling``),
    or ``none``; None (``n/a`` in files) for two-sided events.
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
    context: str | None = None  # what the face was doing (CONTEXTS); None: n/a (two-sided)

    @property
    def end(self) -> float:
        return self.onset + self.duration

    @property
    def involves_eye(self) -> bool:
        return "eye" in self.regions

    @property
    def is_episode(self) -> bool:
        """A one-sided ``spasm`` event involving the eye: what episode counts and rates count."""
        return self.trial_type == SPASM and self.involves_eye

    @property
    def is_possible(self) -> bool:
        """A ``possible_spasm``: a one-sided eye episode the detector could not be sure of
        (listed and reviewable, not counted unless asked)."""
        return self.trial_type == POSSIBLE

    @property
    def is_one_sided(self) -> bool:
        """Any one-sided event: an episode, a possible one, or a mouth-only pull."""
        return self.trial_type in (SPASM, POSSIBLE)

    @property
    def is_mouth_only(self) -> bool:
        """A one-sided mouth-corner pull without the eye (counted apart from episodes)."""
        return self.trial_type == SPASM and not self.involves_eye

    def to_dict(self) -> dict:
        return asdict(self)


# The columns of events.tsv, in order, and the type of each (``float``, ``int``, ``str`` or
# ``bool``; None allowed where the annotation says so). Readers and writers of every format
# go through these, so a new Event field reaches each of them.
EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Event))
FIELD_TYPES: dict[str, str] = {
    f.name: str(f.type).replace(" | None", "").replace("None | ", "") for f in fields(Event)
}
