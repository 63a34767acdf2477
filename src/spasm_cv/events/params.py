"""Detection parameters. Times in seconds; closures as fractions of each eye's own baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DetectionParams:
    """Everything the detection core can be tuned by.

    Closure of an eye is ``1 - aperture / baseline``: 0 open as usual, 1 shut. Mouth and brow
    movements are in units of the inter-ocular distance (IOD) from their own baselines.
    """

    # Baselines: causal, over the last `baseline_window_s` of frames where the side was measured.
    baseline_window_s: float = 20.0
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

    def to_dict(self) -> dict:
        return asdict(self)
