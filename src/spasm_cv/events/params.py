"""Detection parameters. Times in seconds; closures as fractions of each eye's own baseline."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

# Allowed range of each parameter, (low, high) inclusive; None: unbounded on that side.
# A parameter not listed only has to be a finite number (new parameters start that way).
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


@dataclass(frozen=True)
class DetectionParams:
    """Everything the detection core can be tuned by (frozen; change with ``dataclasses.replace``).

    Closure of an eye is ``1 - aperture / baseline``: 0 open as usual, 1 shut. Mouth and brow
    movements are in units of the inter-ocular distance (IOD) from their own baselines.

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
    closure_on, closure_off : float
        Hysteresis of an eyelid contraction (0-1 closure): it must reach ``closure_on`` and
        lasts while closure stays above ``closure_off`` (``closure_off <= closure_on``).
    min_asymmetry : float
        A one-sided frame: this eye's closure exceeds the other's by at least this (0-1) ...
    other_open_ratio : float
        ... and the other eye's closure stays below this fraction of it (0-1).
    blink_sync_s : float
        One-sided frames this close (s) to a two-sided closure are a blink's edge.
    min_unilateral_s : float
        Shortest one-sided closure (s) that makes a contraction.
    merge_gap_s : float
        Contractions closer than this (s) form one episode (a clonic train).
    tonic_min_s : float
        A single contraction held at least this long (s) is tonic.
    contraction_prominence : float
        Closure dip (0-1) that separates two contractions within an episode.
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
    max_yaw_deg, max_pitch_deg : float
        Head pose (degrees) beyond which a side cannot be measured.
    candidate_on, candidate_off, candidate_asymmetry : float
        The first, generous look for one-sided contractions (0-1 closure): a run of closure
        above ``candidate_off`` reaching ``candidate_on``, with frames where this eye is
        ``candidate_asymmetry`` more closed than the other. Each candidate is then decided
        by its features (:mod:`spasm_cv.events.candidates`).
    candidate_drop_ratio : float
        ... and where the other eye's aperture dropped, in absolute size (IOD), by at most
        this share (0-1) of this eye's drop (expressions narrow both eyes alike).
    min_excess, asymmetry_factor, min_margin : float
        The decision on a candidate (:mod:`spasm_cv.events.decide`): at its most closed
        one-sided frame its eye's closure exceeds the other's by at least ``min_excess`` +
        ``asymmetry_factor`` x this person's usual difference between the eyes (0-1
        closure), and over its one-sided frames by ``min_margin`` (median).
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
    context_s : float
        Seconds around a candidate its context features (head motion, speech) look at (the
        streaming detector keeps that much, or ``merge_gap_s``, around every event).
    talking_lip_sd, smiling_iod, head_moving_deg : float
        The context of a one-sided event (``Event.context``), within ``context_s`` of it:
        ``talking`` where the inner-lip gap varies with an SD of at least
        ``talking_lip_sd`` IOD; ``smiling`` where both mouth corners are pulled up/out by
        at least ``smiling_iod`` IOD; ``head_moving`` where yaw, pitch or roll spans at
        least ``head_moving_deg`` degrees.
    asymmetry_history_s, unknown_asymmetry : float
        A person's usual difference between the eyes is known once ``asymmetry_history_s``
        seconds of calm frames (neither eye closing) were seen; until then
        ``unknown_asymmetry`` (0-1 closure) is assumed, a cautious value: the upper decile
        of the usual differences of the 36 development people (0.069).
    min_asymmetry_scale : float
        Floor (0-1 closure) of a person's usual difference between the eyes, so a very
        still face does not make every small difference look large.

    Raises
    ------
    ValueError
        A value is not a finite number or is outside its range (see ``_RANGES``), or
        ``closure_off > closure_on``.

    Examples
    --------
    >>> import dataclasses
    >>> strict = dataclasses.replace(DetectionParams(), closure_on=0.45)
    >>> strict.closure_on
    0.45
    """

    # Baselines: causal, over the last `baseline_window_s` of frames where the side was measured.
    baseline_window_s: float = 20.0
    warmup_s: float = 0.0  # a side is measurable once its baselines have this much history
    # Occlusion: an eye whose region shows less than this share of its usual image detail,
    # against the other eye's share, is covered (usual: over the last occlusion_window_s).
    occlusion_texture_ratio: float = 0.5
    occlusion_window_s: float = 60.0
    baseline_quantile: float = 0.8  # of aperture: the open-eye level (closures are brief)
    # Eye contraction: hysteresis on closure.
    closure_on: float = 0.30  # a contraction needs at least this closure
    closure_off: float = 0.18  # ... and lasts while closure stays above this
    # One-sidedness: the other eye stays open while this one closes.
    min_asymmetry: float = 0.20  # this eye's closure exceeds the other's by at least this ...
    other_open_ratio: float = 0.55  # ... and the other's stays below this fraction of it
    blink_sync_s: float = 0.10  # one-sided frames this close to a two-sided one are a blink edge
    min_unilateral_s: float = 0.06  # shortest one-sided closure that makes a contraction
    # Episodes: contractions closer than this form one episode (clonic train).
    merge_gap_s: float = 0.60
    tonic_min_s: float = 1.0  # a single contraction held this long is tonic
    contraction_prominence: float = 0.15  # closure dip that separates two contractions
    blink_min_closure: float = 0.4  # a two-sided closure: both eyes reach at least this
    blink_max_s: float = 0.6  # longer two-sided closures are squints / eyes closed, not blinks
    # Mouth corner (up + outwards) and brow (up) relative to their own rolling medians, IOD.
    mouth_on: float = 0.05  # same-side corner pulled this much more than the other
    mouth_only_on: float = 0.12  # mouth-only episode: one-sided pull at least this ...
    mouth_only_ratio: float = 0.4  # ... with the other corner pulled less than this fraction ...
    mouth_only_min_s: float = 0.3  # ... held this long, with no eye closure
    brow_on: float = 0.02  # brow raised this much more than the other side's
    # Head pose beyond which a side cannot be measured (degrees).
    max_yaw_deg: float = 30.0  # the eye turned away beyond this is unmeasurable
    max_pitch_deg: float = 30.0
    # Candidates (see events/candidates.py): a generous first look, decided by their features.
    candidate_on: float = 0.20  # a candidate contraction reaches this closure ...
    candidate_off: float = 0.12  # ... and lasts while closure stays above this ...
    candidate_asymmetry: float = 0.10  # ... with frames this much more closed than the other
    candidate_drop_ratio: float = 0.60  # ... whose absolute narrowing is at most this share
    context_s: float = 0.5  # features look this far around a candidate
    # The decision (events/decide.py): at its peak the eye is more closed than the other by
    # at least min_excess + asymmetry_factor x this person's usual difference between the eyes,
    # and its one-sided frames by min_margin (median).
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
    # Context of an episode (Event.context), within context_s of it:
    talking_lip_sd: float = 0.015  # lips moving: SD of the inner-lip gap at least this, IOD
    smiling_iod: float = 0.03  # both mouth corners pulled up/out at least this, IOD
    head_moving_deg: float = 8.0  # yaw, pitch or roll ranging over at least this, degrees
    min_asymmetry_scale: float = 0.02  # floor of a person's usual eye difference (0-1)
    asymmetry_history_s: float = 2.0  # calm frames needed before that difference is known
    unknown_asymmetry: float = 0.07  # ... and what is assumed until then (0-1)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(f.default, (int, float)) or isinstance(f.default, bool):
                continue  # only numeric parameters are checked here
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
            low, high = _RANGES.get(f.name, (None, None))
            if (low is not None and value < low) or (high is not None and value > high):
                lo = "-inf" if low is None else f"{low:g}"
                hi = "inf" if high is None else f"{high:g}"
                raise ValueError(f"{f.name} must be within [{lo}, {hi}], got {value!r}")
        if self.candidate_off > self.candidate_on:
            raise ValueError(
                f"candidate_off ({self.candidate_off}) must not exceed candidate_on "
                f"({self.candidate_on})"
            )
        if self.closure_off > self.closure_on:
            raise ValueError(
                f"closure_off ({self.closure_off}) must not exceed closure_on ({self.closure_on})"
            )

    def to_dict(self) -> dict:
        """Every parameter by name (as summary.json's ``params``)."""
        return asdict(self)
