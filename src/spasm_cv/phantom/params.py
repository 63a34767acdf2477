"""Parameters of the phantom generator, in seconds and closure units.

Closure of an eye is ``1 - aperture / open_baseline`` of that eye (0 open, about 0.8 when
MediaPipe sees a natural blink fully closed; see :mod:`spasm_cv.phantom.source`).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("twitch", "clonic", "tonic")
SIDE_CHOICES = ("right", "left", "both")


@dataclass(frozen=True)
class ScheduleParams:
    """When, where and how strongly episodes happen (pure timing; no video involved).

    ``side`` ``both`` lets each episode draw its side at random (even odds).
    Closing and opening phases follow a raised cosine; ``open_ratio`` is opening time over
    closing time (eyes reopen a little slower than they close).
    """

    side: str = "right"
    rate_per_min: float = 6.0  # episodes per minute asked for (fewer if they do not fit; 0: none)
    kinds: tuple[str, ...] = KINDS  # drawn with equal odds
    mouth_prob: float = 0.5  # probability that an episode pulls the same-side mouth corner
    min_gap_s: float = 1.5  # eyes-open time between two episodes
    twitch_s: tuple[float, float] = (0.15, 0.35)  # duration of a single twitch
    clonic_n: tuple[int, int] = (3, 6)  # contractions in a clonic train (inclusive)
    clonic_hz: tuple[float, float] = (2.0, 6.0)  # contraction rate within a train
    clonic_hold_s: tuple[float, float] = (0.02, 0.06)  # closed time of each contraction
    tonic_s: tuple[float, float] = (1.0, 3.0)  # duration of a tonic closure
    close_s: tuple[float, float] = (0.05, 0.08)  # closing phase of one contraction
    open_ratio: tuple[float, float] = (1.3, 2.0)  # opening phase / closing phase
    min_closure: float = 0.35  # weakest peak closure drawn (strongest: the donors' best)
    clonic_level: tuple[float, float] = (0.75, 1.0)  # per-contraction level in a train
    mouth_level: tuple[float, float] = (0.6, 1.0)  # mouth pull, fraction of the maximum

    def __post_init__(self) -> None:
        if self.side not in SIDE_CHOICES:
            raise ValueError(f"side must be one of {SIDE_CHOICES}, got {self.side!r}")
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {self.kinds}")
        if not (self.rate_per_min >= 0):
            raise ValueError(f"rate_per_min must be >= 0, got {self.rate_per_min}")
        if not (0.0 <= self.mouth_prob <= 1.0):
            raise ValueError(f"mouth_prob must be within 0-1, got {self.mouth_prob}")


@dataclass(frozen=True)
class SourceParams:
    """How the source clip is read: what counts as open, as a blink, as a donor."""

    open_max_closure: float = 0.2  # a frame with either eye closed more is not 'open'
    blink_peak: float = 0.45  # a non-open run closing an eye this much is a natural blink
    blink_margin_s: float = 0.3  # keep episodes this far from natural blinks and face loss
    donor_min_peak: float = 0.6  # a blink must close the eye at least this much to donate
    donor_min_closure: float = 0.3  # frames of a donor blink less closed are not used
    min_perceived_closure: float = 0.2  # refuse donors seen less closed when pasted
    pose_weight_per_deg: float = 0.01  # donor choice: closure error equivalent to 1 degree
    min_input_s: float = 1.0  # shorter inputs are refused
    max_cached_bytes: int = 3 * 1024**3  # source frames kept in memory when looping


@dataclass(frozen=True)
class CompositeParams:
    """How the donor eye and the mouth-corner pull are drawn, lengths in inter-ocular units.

    IOD here is the 2D image distance between the outer eye corners (mesh 33 and 263).
    """

    mask_dilate_iod: float = 0.02  # grow the eye-region hull before feathering
    feather_iod: float = 0.045  # Gaussian sigma of the mask edge
    min_target_closure: float = 0.03  # below this the frame is left untouched
    partial_strengths: tuple[float, ...] = (0.55, 0.7, 0.8, 0.9)  # opacities calibrated
    mouth_lift_iod: float = 0.08  # upward pull of the mouth corner at full strength
    mouth_out_iod: float = 0.05  # outward pull of the mouth corner at full strength
    mouth_sigma_iod: float = 0.16  # Gaussian radius of the mouth-corner warp


@dataclass(frozen=True)
class PhantomParams:
    """Everything :func:`spasm_cv.phantom.make_phantom` needs besides the file paths.

    ``seconds`` is the phantom's length (None: the input's); shorter inputs are looped
    forward-backward. ``mirrored`` says the input is a selfie-mirrored video: it is read
    unmirrored, and the phantom is written mirrored again (analyse it with the same flag).
    """

    seed: int = 0
    seconds: float | None = None
    mirrored: bool = False
    schedule: ScheduleParams = ScheduleParams()
    source: SourceParams = SourceParams()
    composite: CompositeParams = CompositeParams()
    clear_closure: float = 0.5  # truth 'clear' when the landmarker perceives this much

    def __post_init__(self) -> None:
        if self.seconds is not None and not (self.seconds > 0):
            raise ValueError(f"seconds must be > 0, got {self.seconds}")
