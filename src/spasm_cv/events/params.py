"""Detection parameters, grouped by the stage that reads them. Times in seconds; closures as
fractions of each eye's own baseline.

:class:`DetectionParams` holds one small frozen dataclass per stage of the detection core:
``activity`` (:mod:`spasm_cv.events.activity`), ``candidates``
(:mod:`spasm_cv.events.candidates`), ``decide`` (:mod:`spasm_cv.events.decide`), ``episodes``
(:mod:`spasm_cv.events.episodes`) and ``context`` (``Event.context`` and the windows of the
candidate features). Every parameter also has a flat name, unique across the groups
(``closure_on``, ``min_excess``, ...): the one users see in ``--set name=value``,
``--params FILE.toml``, summary.json's ``params``, monitor settings and BIDS ``GeneratedBy``
(:meth:`DetectionParams.to_dict`, :meth:`DetectionParams.from_dict`,
:meth:`DetectionParams.with_values`).

Long module: every detection parameter, its range and its documentation is in this one place,
so that a parameter's stage, flat name and meaning are read together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

# Every parameter by flat name, in summary.json's order (that of the one flat class of earlier
# versions; a new parameter goes at the end), with its allowed range, (low, high) inclusive;
# None: unbounded on that side. A parameter of no range is listed with (None, None): it only
# has to be a finite number.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "baseline_window_s": (1e-9, None),
    "warmup_s": (0.0, None),
    "occlusion_texture_ratio": (0.0, 1.0),
    "occlusion_window_s": (1e-9, None),
    "baseline_quantile": (0.0, 1.0),
    "closure_on": (1e-9, 1.0),
    "closure_off": (0.0, 1.0),
    "min_asymmetry": (0.0, 1.0),
    "other_open_ratio": (0.0, 1.0),
    "blink_sync_s": (0.0, None),
    "min_unilateral_s": (0.0, None),
    "merge_gap_s": (0.0, None),
    "tonic_min_s": (1e-9, None),
    "contraction_prominence": (0.0, None),
    "blink_min_closure": (0.0, 1.0),
    "blink_max_s": (1e-9, None),
    "mouth_on": (0.0, None),
    "mouth_only_on": (0.0, None),
    "mouth_only_ratio": (0.0, None),
    "mouth_only_min_s": (0.0, None),
    "brow_on": (0.0, None),
    "max_yaw_deg": (1e-9, 180.0),
    "max_pitch_deg": (1e-9, 180.0),
    "candidate_on": (1e-9, 1.0),
    "candidate_off": (0.0, 1.0),
    "candidate_asymmetry": (0.0, 1.0),
    "candidate_drop_ratio": (0.0, 1.0),
    "context_s": (0.0, None),
    "min_excess": (0.0, 1.0),
    "asymmetry_factor": (0.0, None),
    "min_margin": (0.0, 1.0),
    "head_speed_weight": (0.0, None),
    "min_close_speed": (0.0, None),
    "reopening_min_held_s": (0.0, None),
    "max_drop_ratio": (0.0, 2.0),
    "max_other_sd": (0.0, None),
    "min_open_iod": (0.0, None),
    "talking_lip_sd": (0.0, None),
    "smiling_iod": (0.0, None),
    "head_moving_deg": (0.0, None),
    "min_asymmetry_scale": (1e-9, 1.0),
    "asymmetry_history_s": (0.0, None),
    "unknown_asymmetry": (0.0, 1.0),
}


def _check_number(name: str, value: object) -> None:
    """ValueError unless ``value`` is a finite number within ``name``'s range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    low, high = _RANGES.get(name, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be within [{lo}, {hi}], got {value!r}")


def _check_order(values: Mapping[str, float], off: str, on: str) -> None:
    """ValueError if the lower threshold of a hysteresis exceeds its upper one."""
    if off in values and on in values and values[off] > values[on]:
        raise ValueError(f"{off} ({values[off]}) must not exceed {on} ({values[on]})")


def _check_group(group: object) -> None:
    """Every field of a group checked (``__post_init__`` of each group)."""
    for f in fields(group):  # type: ignore[arg-type]
        _check_number(f.name, getattr(group, f.name))


def _check_values(values: Mapping[str, float]) -> None:
    """Flat values checked in summary.json's order, then the hysteresis pairs (the order
    errors are reported in when several values are wrong)."""
    for name, value in values.items():
        _check_number(name, value)
    _check_order(values, "candidate_off", "candidate_on")
    _check_order(values, "closure_off", "closure_on")


@dataclass(frozen=True)
class ActivityParams:
    """Per-frame activity (:mod:`spasm_cv.events.activity`): baselines, which side is
    measurable, occlusion, and how long a person's usual eye difference takes to learn.

    Parameters
    ----------
    baseline_window_s : float
        Seconds of measured frames the causal open-eye and mouth/brow baselines look back.
    baseline_quantile : float
        Quantile (0-1) of the eyelid aperture taken as the open-eye level.
    warmup_s : float
        Seconds of measured frames a side's baselines need before the side counts as
        measured (its first frames have no open level to compare with).
    occlusion_texture_ratio, occlusion_window_s : float
        An eye is covered (not measurable) where the share of its usual image detail it
        shows is below this ratio (0-1) times the other eye's share, or below half the ratio
        whatever the other eye shows; "usual" is the upper quintile over the last
        ``occlusion_window_s`` seconds (see :mod:`spasm_cv.landmarks.texture`). A closed eye
        keeps 70-90 % of its detail; a hand or patch over it, 0-30 %.
    max_yaw_deg, max_pitch_deg : float
        Head pose (degrees) beyond which a side cannot be measured.
    asymmetry_history_s : float
        A person's usual difference between the eyes is known once this many seconds of calm
        frames (neither eye closing ``candidate_on``) were seen (until then the candidates
        stage assumes ``unknown_asymmetry``).
    """

    # Baselines: causal, over the last `baseline_window_s` of frames where the side was measured.
    baseline_window_s: float = 20.0
    warmup_s: float = 0.0  # a side is measurable once its baselines have this much history
    # Occlusion: an eye whose region shows less than this share of its usual image detail,
    # against the other eye's share, is covered (usual: over the last occlusion_window_s).
    occlusion_texture_ratio: float = 0.5
    occlusion_window_s: float = 60.0
    baseline_quantile: float = 0.8  # of aperture: the open-eye level (closures are brief)
    # Head pose beyond which a side cannot be measured (degrees).
    max_yaw_deg: float = 30.0  # the eye turned away beyond this is unmeasurable
    max_pitch_deg: float = 30.0
    asymmetry_history_s: float = 2.0  # calm frames needed before that difference is known

    def __post_init__(self) -> None:
        _check_group(self)


@dataclass(frozen=True)
class CandidateParams:
    """The first, generous look for one-sided contractions (:mod:`spasm_cv.events.candidates`),
    their grouping into trains and the features a candidate is decided by (0-1 closure).

    Parameters
    ----------
    candidate_on, candidate_off, candidate_asymmetry : float
        A run of closure above ``candidate_off`` reaching ``candidate_on``
        (``candidate_off <= candidate_on``), with frames where this eye is
        ``candidate_asymmetry`` more closed than the other. Each candidate is then decided
        by its features (:mod:`spasm_cv.events.decide`).
    candidate_drop_ratio : float
        ... and where the other eye's aperture dropped, in absolute size (IOD), by at most
        this share (0-1) of this eye's drop (expressions narrow both eyes alike).
    blink_sync_s : float
        One-sided frames this close (s) to a two-sided closure are a blink's edge.
    min_unilateral_s : float
        Shortest one-sided closure (s) that makes a contraction.
    merge_gap_s : float
        Contractions closer than this (s) form one episode (a clonic train).
    contraction_prominence : float
        Closure dip (0-1) that separates two contractions within an episode.
    min_asymmetry_scale : float
        Floor (0-1 closure) of a person's usual difference between the eyes, so a very
        still face does not make every small difference look large.
    unknown_asymmetry : float
        The usual difference between the eyes (0-1 closure) assumed until
        ``asymmetry_history_s`` of calm frames were seen, a cautious value: the upper decile
        of the usual differences of the 36 development people (0.069).
    """

    blink_sync_s: float = 0.10  # one-sided frames this close to a two-sided one are a blink edge
    min_unilateral_s: float = 0.06  # shortest one-sided closure that makes a contraction
    # Episodes: contractions closer than this form one episode (clonic train).
    merge_gap_s: float = 0.60
    contraction_prominence: float = 0.15  # closure dip that separates two contractions
    # A generous first look, decided by their features.
    candidate_on: float = 0.20  # a candidate contraction reaches this closure ...
    candidate_off: float = 0.12  # ... and lasts while closure stays above this ...
    candidate_asymmetry: float = 0.10  # ... with frames this much more closed than the other
    candidate_drop_ratio: float = 0.60  # ... whose absolute narrowing is at most this share
    min_asymmetry_scale: float = 0.02  # floor of a person's usual eye difference (0-1)
    unknown_asymmetry: float = 0.07  # ... and what is assumed until it is known (0-1)

    def __post_init__(self) -> None:
        _check_group(self)
        _check_order(vars(self), "candidate_off", "candidate_on")


@dataclass(frozen=True)
class DecisionParams:
    """The decision on a candidate (:mod:`spasm_cv.events.decide`), and when an accepted one
    is only possible.

    Parameters
    ----------
    min_excess, asymmetry_factor, min_margin : float
        At its most closed one-sided frame the candidate's eye's closure exceeds the other's
        by at least ``min_excess`` + ``asymmetry_factor`` x this person's usual difference
        between the eyes (0-1 closure), and over its one-sided frames by ``min_margin``
        (median).
    head_speed_weight : float
        ... where that usual difference counts ``1 + head_speed_weight x`` the fastest head
        rotation around the candidate (degrees per second; so the unit is s/deg, 0: head
        motion asks no more): under motion blur the two eyes' landmarks lag differently, and
        a blink during a head turn can look one-sided for a few frames.
    min_close_speed, reopening_min_held_s : float
        A candidate whose lid does not close on its own (its fastest closing is below
        ``min_close_speed``, closure per second) and is held less than
        ``reopening_min_held_s`` seconds is the uneven end of a two-sided blink (one lid
        reopening a few frames after the other), not a contraction.
    max_drop_ratio : float
        ... and over its frames closed at least ``candidate_on``, the other eye's absolute
        narrowing is at most this share of its own (median): an expression that narrows
        both eyes alike is not one-sided even where noise makes a frame look so.
    max_other_sd, min_open_iod : float
        An episode the detector cannot be sure of is a ``possible_spasm`` (listed, not
        counted unless asked): the other eye's closure varied with an SD of at least
        ``max_other_sd`` (0-1 closure) during it (in a one-sided contraction the other eye
        stays still; here both lids were moving: speech, an expression, a turning head, or
        landmarks that jitter), or this eye's open aperture is under ``min_open_iod``
        (IOD: an eye so narrow or small on the image that its closure is mostly noise).
        Both were measured on normal faces of people outside the development set (their
        false episodes) against the phantom episodes of the development people.
    """

    # At its peak the eye is more closed than the other by at least min_excess +
    # asymmetry_factor x this person's usual difference between the eyes, and its one-sided
    # frames by min_margin (median).
    min_excess: float = 0.08
    asymmetry_factor: float = 1.5
    min_margin: float = 0.10
    head_speed_weight: float = 0.01  # ... the usual difference x (1 + this x head speed, deg/s)
    min_close_speed: float = 0.2  # a lid closing slower than this (closure/s) on its own ...
    reopening_min_held_s: float = 0.2  # ... and held less than this only reopens: a blink's end
    max_drop_ratio: float = 0.70  # ... and, over its closed frames (median), the other eye's
    # absolute narrowing is at most this share of its own
    # An accepted episode is only possible (listed, not counted) when the other eye moved
    # (closure SD at least max_other_sd) or this eye is barely open (under min_open_iod, IOD).
    max_other_sd: float = 0.10
    min_open_iod: float = 0.05

    def __post_init__(self) -> None:
        _check_group(self)


@dataclass(frozen=True)
class EpisodeParams:
    """Episodes and their description (:mod:`spasm_cv.events.episodes`): eyelid contraction,
    one-sidedness, blinks, tonic hold, mouth and brow.

    Closure of an eye is ``1 - aperture / baseline``: 0 open as usual, 1 shut. Mouth and brow
    movements are in units of the inter-ocular distance (IOD) from their own baselines.

    Parameters
    ----------
    closure_on, closure_off : float
        Hysteresis of an eyelid contraction (0-1 closure): it must reach ``closure_on`` and
        lasts while closure stays above ``closure_off`` (``closure_off <= closure_on``).
    min_asymmetry : float
        A one-sided frame: this eye's closure exceeds the other's by at least this (0-1) ...
    other_open_ratio : float
        ... and the other eye's closure stays below this fraction of it (0-1).
    tonic_min_s : float
        A single contraction held at least this long (s) is tonic.
    blink_min_closure : float
        A two-sided closure needs both eyes at least this closed (0-1).
    blink_max_s : float
        Longer two-sided closures (s) are ``bilateral_closure`` (squint, eyes shut), not blinks.
    mouth_on : float
        Same-side mouth-corner pull (IOD) beyond the other's that counts as co-contraction.
    mouth_only_on, mouth_only_ratio, mouth_only_min_s : float
        A mouth-only event: a one-sided pull of at least ``mouth_only_on`` IOD, with the other
        corner below ``mouth_only_ratio`` of it, held ``mouth_only_min_s`` s, no eye closure.
    brow_on : float
        Brow raised (IOD) more than the other side's: "other Babinski sign".
    """

    # Eye contraction: hysteresis on closure.
    closure_on: float = 0.30  # a contraction needs at least this closure
    closure_off: float = 0.18  # ... and lasts while closure stays above this
    # One-sidedness: the other eye stays open while this one closes.
    min_asymmetry: float = 0.20  # this eye's closure exceeds the other's by at least this ...
    other_open_ratio: float = 0.55  # ... and the other's stays below this fraction of it
    tonic_min_s: float = 1.0  # a single contraction held this long is tonic
    blink_min_closure: float = 0.4  # a two-sided closure: both eyes reach at least this
    blink_max_s: float = 0.6  # longer two-sided closures are squints / eyes closed, not blinks
    # Mouth corner (up + outwards) and brow (up) relative to their own rolling medians, IOD.
    mouth_on: float = 0.05  # same-side corner pulled this much more than the other
    mouth_only_on: float = 0.12  # mouth-only episode: one-sided pull at least this ...
    mouth_only_ratio: float = 0.4  # ... with the other corner pulled less than this fraction ...
    mouth_only_min_s: float = 0.3  # ... held this long, with no eye closure
    brow_on: float = 0.02  # brow raised this much more than the other side's

    def __post_init__(self) -> None:
        _check_group(self)
        _check_order(vars(self), "closure_off", "closure_on")


@dataclass(frozen=True)
class ContextParams:
    """What the face was doing around a one-sided event (``Event.context``), and how far
    around a candidate its features look.

    Parameters
    ----------
    context_s : float
        Seconds around a candidate its context features (head motion, speech) look at (the
        streaming detector keeps that much, or ``merge_gap_s``, around every event).
    talking_lip_sd, smiling_iod, head_moving_deg : float
        The context of a one-sided event, within ``context_s`` of it: ``talking`` where the
        inner-lip gap varies with an SD of at least ``talking_lip_sd`` IOD; ``smiling``
        where both mouth corners are pulled up/out by at least ``smiling_iod`` IOD;
        ``head_moving`` where yaw, pitch or roll spans at least ``head_moving_deg`` degrees.
    """

    context_s: float = 0.5  # features look this far around a candidate
    talking_lip_sd: float = 0.015  # lips moving: SD of the inner-lip gap at least this, IOD
    smiling_iod: float = 0.03  # both mouth corners pulled up/out at least this, IOD
    head_moving_deg: float = 8.0  # yaw, pitch or roll ranging over at least this, degrees

    def __post_init__(self) -> None:
        _check_group(self)


@dataclass(frozen=True)
class DetectionParams:
    """Everything the detection core can be tuned by, one frozen group per stage.

    Each parameter also has a flat name, unique across the groups, by which users set and
    read it (``--set closure_on=0.4``, summary.json's ``params``): :meth:`to_dict`,
    :meth:`from_dict`, :meth:`with_values` and :meth:`flat_fields` speak flat names; code
    reads a parameter from its group (``params.episodes.closure_on``).

    Parameters
    ----------
    activity : ActivityParams
        Baselines, measurability, occlusion (:mod:`spasm_cv.events.activity`).
    candidates : CandidateParams
        The first look for one-sided contractions and their features
        (:mod:`spasm_cv.events.candidates`).
    decide : DecisionParams
        The decision on a candidate, and the possible tier (:mod:`spasm_cv.events.decide`).
    episodes : EpisodeParams
        Closure hysteresis, one-sidedness, blinks, tonic, mouth and brow
        (:mod:`spasm_cv.events.episodes`).
    context : ContextParams
        The context of an event and the window of the candidate features.

    Raises
    ------
    ValueError
        A value is not a finite number or is outside its range (see ``_RANGES``), or
        ``closure_off > closure_on`` or ``candidate_off > candidate_on``.

    Examples
    --------
    >>> strict = DetectionParams().with_values(closure_on=0.45)
    >>> strict.episodes.closure_on, strict.to_dict()["closure_on"]
    (0.45, 0.45)
    >>> DetectionParams.flat_fields()["min_excess"]
    'decide'
    >>> DetectionParams.from_dict({"merge_gap_s": 1.0}).candidates.merge_gap_s
    1.0
    """

    activity: ActivityParams = field(default_factory=ActivityParams)
    candidates: CandidateParams = field(default_factory=CandidateParams)
    decide: DecisionParams = field(default_factory=DecisionParams)
    episodes: EpisodeParams = field(default_factory=EpisodeParams)
    context: ContextParams = field(default_factory=ContextParams)

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), _GROUPS[f.name]):
                raise TypeError(
                    f"{f.name} must be a {_GROUPS[f.name].__name__}, got "
                    f"{getattr(self, f.name)!r} (flat names: DetectionParams.from_dict)"
                )

    @staticmethod
    def flat_fields() -> dict[str, str]:
        """Every parameter's flat name, in summary.json's order, and the group it is in.

        Returns
        -------
        dict of str to str
            Flat name -> group (``activity``, ``candidates``, ``decide``, ``episodes``,
            ``context``: an attribute of ``DetectionParams``).
        """
        return dict(_GROUP_OF)

    @classmethod
    def from_dict(cls, values: Mapping[str, float]) -> DetectionParams:
        """The parameters of ``values`` by flat name, the defaults for the others.

        Parameters
        ----------
        values : mapping of str to float
            Flat name -> value (as summary.json's ``params``).

        Returns
        -------
        DetectionParams

        Raises
        ------
        ValueError
            A name that is no parameter, or a bad value (checked in summary.json's order).
        """
        return _DEFAULT.with_values(**values)

    def with_values(self, **values: float) -> DetectionParams:
        """A copy with the parameters given by flat name changed (the others kept).

        Parameters
        ----------
        **values : float
            Flat name -> value, e.g. ``closure_on=0.45``.

        Returns
        -------
        DetectionParams

        Raises
        ------
        ValueError
            A name that is no parameter, or a bad value (checked in summary.json's order).
        """
        unknown = [k for k in values if k not in _GROUP_OF]
        if unknown:
            raise ValueError(f"unknown detection parameter {unknown[0]!r}")
        merged = {**self.to_dict(), **values}
        _check_values(merged)
        changed: dict[str, dict[str, float]] = {}
        for name, value in values.items():
            changed.setdefault(_GROUP_OF[name], {})[name] = value
        groups = {
            g: type(getattr(self, g))(**{**vars(getattr(self, g)), **kw})
            for g, kw in changed.items()
        }
        return DetectionParams(
            **{f.name: groups.get(f.name, getattr(self, f.name)) for f in fields(self)}
        )

    def to_dict(self) -> dict[str, float]:
        """Every parameter by flat name, in summary.json's order (as summary.json's ``params``).

        Returns
        -------
        dict of str to float
        """
        return {name: getattr(getattr(self, g), name) for name, g in _GROUP_OF.items()}


_GROUPS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in fields(DetectionParams)
}
_in_groups = {f.name: g for g, cls in _GROUPS.items() for f in fields(cls)}
if sorted(_in_groups) != sorted(_RANGES) or len(_in_groups) != sum(
    len(fields(cls)) for cls in _GROUPS.values()
):
    raise RuntimeError("every detection parameter needs one group and one _RANGES entry")
# flat name -> its group, in summary.json's order
_GROUP_OF: dict[str, str] = {name: _in_groups[name] for name in _RANGES}
_DEFAULT = DetectionParams()
