"""What a result file may hold: one schema per file kind, for reading and for writing.

Every reader of summary.json and events.tsv (and the monitor database's rows, which hold
the same events: :mod:`spasm_cv.live.rows`) checks what it read against these schemas, and
every writer checks what it is about to write against the same ones, so writer and reader
cannot drift apart. A value out of its type, range or vocabulary (a NaN, ``observed_s``
1e12, ``side`` ``up``, ``schema_version`` ``9.0``) is a one-line
:class:`~spasm_cv.errors.SpasmCvError` naming the file and the field (:func:`check`).

The schemas are pydantic v2 models in strict mode (no ``"12"`` for 12, no ``1`` for true);
unknown keys of summary.json are kept (a newer spasm-cv may add some: README, "Output
contract"), unknown columns are not read. The vocabularies are those of
:mod:`spasm_cv.events.table` and :mod:`spasm_cv.results.summary`, never repeated here.

signals.csv.gz is a table of up to millions of numbers: it is checked column by column
(:func:`check_signal_columns`), with the limits stated here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import (
    CONTEXTS,
    EVENT_SIDES,
    KINDS,
    REGIONS,
    SIDES,
    TRIAL_TYPES,
    context_levels,
)
from spasm_cv.signals.table import LOST_FLAGS

SCHEMA_VERSION = "1.0"  # summary.json's, written by this version
READABLE_SCHEMA_VERSIONS = (SCHEMA_VERSION,)  # summary.json versions this version reads
# where ``recorded_at`` came from: given by the user (``--recorded-at``), the container's
# creation time, the file's modification time (a guess: a copy changes it), the monitor's clock
RECORDED_AT_SOURCES = ("given", "container", "file_mtime", "clock")

# Limits of a plausible recording: ten years of seconds, a billion of anything counted.
MAX_SECONDS = 10 * 365.25 * 86400.0
MAX_COUNT = 10**9
MAX_FPS = 1000.0
EARLIEST_YEAR = 1970  # the earliest plausible recording time (also the CLI's --recorded-at)

Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
Seconds = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=MAX_SECONDS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Fraction = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)]
Fps = Annotated[float, Field(allow_inf_nan=False, gt=0.0, le=MAX_FPS)]
PerTime = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1e12)]
Side = Literal[SIDES]  # type: ignore[valid-type]


def latest_year() -> int:
    """The latest plausible recording year: next year (a clock slightly ahead)."""
    return datetime.now().year + 1


def plausible_time(value: datetime, what: str = "time") -> datetime:
    """``value`` if its year is within :data:`EARLIEST_YEAR` and :func:`latest_year`."""
    if not EARLIEST_YEAR <= value.year <= latest_year():
        raise ValueError(
            f"{value.isoformat()} is not a plausible {what} (years {EARLIEST_YEAR}-{latest_year()})"
        )
    return value


def _iso_text(text: str) -> str:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 date/time") from None
    plausible_time(when)
    return text


def _aware_iso_text(text: str) -> str:
    _iso_text(text)
    if datetime.fromisoformat(text).tzinfo is None:
        raise ValueError("an ISO 8601 date/time without its time zone")
    return text


# a wall-clock time given through the Python API (``recorded_at``): aware, plausible
RecordedAt = Annotated[AwareDatetime, AfterValidator(plausible_time)]
IsoTime = Annotated[str, AfterValidator(_iso_text)]  # naive: an older result, local time
AwareIsoTime = Annotated[str, AfterValidator(_aware_iso_text)]


class Schema(BaseModel):
    """A record of a file: strict types, finite numbers, unknown keys refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class OpenSchema(Schema):
    """A record that keeps keys this version does not know (written by a newer one)."""

    model_config = ConfigDict(extra="allow")


M = TypeVar("M", bound=BaseModel)


def check(model: type[M], data: Any, where: str) -> M:
    """``data`` validated by ``model``; else SpasmCvError ``"<where>: <field>: <problem>"``.

    Parameters
    ----------
    model : pydantic model class
        The schema of the record (e.g. :class:`SummaryRecord`).
    data : object
        What was read (or is about to be written).
    where : str
        The file (and row) it came from, first in the message.

    Returns
    -------
    model
        The validated record.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpasmCvError(f"{where}: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """The first problem of a validation error on one line: ``field: problem``."""
    err = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-")) or "value"
    msg = re.sub(r" or instance of \w+", "", err["msg"].removeprefix("Value error, "))
    if err["type"] == "missing":
        msg = "missing"
    if err["type"] in {"literal_error", "enum"}:
        expected = (err.get("ctx") or {}).get("expected", "")
        msg = f"not one of {expected}" if expected else msg
    return " ".join(f"{field}: {msg}".split())[:300]


# ----------------------------------------------------------------------------- events


class EventRecord(Schema):
    """One row of events.tsv (and of the monitor's ``events`` table): an Event's fields."""

    onset: Seconds
    duration: Seconds
    trial_type: Literal[TRIAL_TYPES]  # type: ignore[valid-type]
    side: Literal[EVENT_SIDES]  # type: ignore[valid-type]
    kind: Literal[KINDS] | None  # type: ignore[valid-type]
    regions: Literal[REGIONS]  # type: ignore[valid-type]
    n_contractions: Count
    peak_closure: Finite | None
    closure_duration: Seconds | None
    brow_raised: bool | None
    mouth_cocontraction: bool | None
    confidence: Fraction | None
    context: Literal[context_levels()] | None = None  # type: ignore[valid-type]


# ---------------------------------------------------------------------------- summary


class RateRecord(Schema):
    """``{"count", "per_hour", "ci95"}`` (and the derived ``insufficient_observation``)."""

    count: Count
    per_hour: PerTime | None
    ci95: Annotated[list[PerTime | None], Field(min_length=2, max_length=2)]
    insufficient_observation: bool | None = None

    @model_validator(mode="after")
    def _interval(self) -> RateRecord:
        lo, hi = self.ci95
        if (lo is None) != (hi is None) or (lo is not None and hi is not None and lo > hi):
            raise ValueError("ci95 is not an interval [low, high]")
        return self


def _by(keys: tuple[str, ...], value: Any, name: str) -> type[Schema]:
    """A record with one required field per key (every side, every kind)."""
    return create_model(name, __base__=Schema, **{k: (value, ...) for k in keys})


RatesBySide = _by(SIDES, RateRecord, "RatesBySide")
RatesByKind = _by(KINDS, RateRecord, "RatesByKind")
RatesBySideAndKind = _by(SIDES, RatesByKind, "RatesBySideAndKind")
SecondsBySide = _by(SIDES, Seconds, "SecondsBySide")
FractionBySide = _by(SIDES, Fraction | None, "FractionBySide")


class EpisodesRecord(Schema):
    """summary.json's ``episodes``."""

    total: RateRecord
    by_side: RatesBySide  # type: ignore[valid-type]
    by_kind: RatesByKind  # type: ignore[valid-type]
    by_side_and_kind: RatesBySideAndKind  # type: ignore[valid-type]
    with_mouth: Count | None = None
    with_brow_raised: Count | None = None
    by_context: dict[Literal[(*CONTEXTS, "none")], Count] | None = None  # type: ignore[valid-type]


class BlinksRecord(Schema):
    count: Count
    per_minute: PerTime | None
    insufficient_observation: bool | None = None


class NamedRecord(OpenSchema):
    """``software``/``model``: a name and a version or checksum."""

    name: str | None = None
    version: str | None = None
    sha256: str | None = None


class InputRecord(OpenSchema):
    """summary.json's ``input``: the video (or the monitor's source)."""

    path: str | None = None
    name: str | None = None
    kind: Literal["camera", "stream", "file"] | None = None
    size_bytes: Annotated[int, Field(ge=0)] | None = None
    mtime: Finite | None = None
    fps: Fps | None = None
    width: Count | None = None
    height: Count | None = None
    n_frames: Count | None = None
    rotation_deg: Finite | None = None
    codec: str | None = None
    mirrored: bool | None = None
    timing: dict | None = None


class _QualityCounts(OpenSchema):
    """summary.json's ``quality`` (counts; a newer spasm-cv may count more)."""

    face_frames: Count | None = None
    no_face_frames: Count | None = None
    multi_face_frames: Count | None = None
    followed_face: str | None = None
    tracker_restart_s: Seconds | None = None
    truncated: bool | None = None
    low_frame_rate: bool | None = None
    dropped_frames: Count | None = None
    unavailable_s: Seconds | None = None
    gaps: Count | None = None


# and per frame not observed for a reason of the video (LOST_FLAGS: ``corrupt``, not
# decodable; ``frozen``, a frozen image) ``<flag>_frames`` and ``<flag>_s`` (absent in a
# summary.json written before them): spasm_cv.results.summary.lost_frames
QualityRecord = create_model(
    "QualityRecord",
    __base__=_QualityCounts,
    **{
        k: (t | None, None)
        for f in LOST_FLAGS
        for k, t in ((f"{f}_frames", Count), (f"{f}_s", Seconds))
    },
)


class ProcessingRecord(OpenSchema):
    elapsed_s: Seconds | None = None
    times_real_time: PerTime | None = None


class MonitorRecord(OpenSchema):
    session_id: Count | None = None
    end_reason: str | None = None
    gaps: Count | None = None
    unavailable_s: Seconds | None = None
    settings: dict | None = None


Param = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]


class SummaryRecord(OpenSchema):
    """summary.json (README, "Output contract"); ``schema_version`` one this version reads."""

    schema_version: str
    software: NamedRecord = NamedRecord()
    model: NamedRecord = NamedRecord()
    input: InputRecord = InputRecord()
    complete: bool = True
    interrupted: str | None = None
    fps: Fps | None = None
    duration_s: Seconds | None = None
    frames: Count | None = None
    quality: QualityRecord = QualityRecord()  # type: ignore[valid-type]
    params: dict[str, Param] = {}
    recorded_at: IsoTime | None = None
    recorded_at_source: Literal[RECORDED_AT_SOURCES] | None = None  # type: ignore[valid-type]
    observed_s: Seconds
    observed_s_by_side: SecondsBySide | dict = {}  # type: ignore[valid-type]
    episodes: EpisodesRecord
    contractions: Count | None = None
    mouth_only: RatesBySide  # type: ignore[valid-type]
    # possible_spasm events per side; null (or absent) in a summary.json written before them
    possible: RatesBySide | None = None  # type: ignore[valid-type]
    blinks: BlinksRecord
    affected_side: Side | None = None
    closed_fraction: FractionBySide | None = None  # type: ignore[valid-type]
    longest_tonic_s: Seconds | None = None
    observed_fraction: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.01)] | None = None
    processing: ProcessingRecord | None = None
    monitor: MonitorRecord | None = None
    detector: dict | None = None
    observation: dict | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: str) -> str:
        if v not in READABLE_SCHEMA_VERSIONS:
            raise ValueError(
                f"schema {v[:20]!r} is not one this spasm-cv reads ({SCHEMA_VERSION}): "
                "written by a newer spasm-cv, or not by spasm-cv"
            )
        return v

    @field_validator("params")
    @classmethod
    def _detection_params(cls, v: dict[str, float]) -> dict[str, float]:
        """Numbers, and those this version knows within DetectionParams' ranges (a newer
        spasm-cv may have more, an older one fewer)."""
        from spasm_cv.events.params import DetectionParams

        names = DetectionParams.flat_fields()
        DetectionParams.from_dict({k: x for k, x in v.items() if k in names})  # ValueError
        return v

    @field_validator("observed_s_by_side", mode="before")
    @classmethod
    def _by_side(cls, v: Any) -> Any:
        if v == {}:  # an older summary.json without it
            return v
        return SecondsBySide.model_validate(v)

    @model_validator(mode="after")
    def _within_duration(self) -> SummaryRecord:
        if self.duration_s is None:
            return self
        slack = 0.01 * self.duration_s + 2.0
        if self.observed_s > self.duration_s + slack:
            raise ValueError(
                f"observed_s ({self.observed_s:g} s) exceeds the duration ({self.duration_s:g} s)"
            )
        if self.longest_tonic_s is not None and self.longest_tonic_s > self.duration_s + slack:
            raise ValueError("longest_tonic_s exceeds the duration")
        return self


# ---------------------------------------------------------------------- signals.csv.gz

# numbers' limits by column name (first match); any other column: finite or empty
SIGNAL_LIMITS: tuple[tuple[str, float, float], ...] = (
    (r"time", 0.0, MAX_SECONDS),
    (r"n_faces", 0.0, 1000.0),
    (r"measurable_.*", 0.0, 1.0),
)
# a frame's quality: flags joined by "+" ("ok" alone); flags a newer spasm-cv adds (e.g.
# ``corrupt``, ``frozen``) are read as any other flag
QUALITY_PATTERN = re.compile(r"[a-z][a-z_]{0,40}(\+[a-z][a-z_]{0,40}){0,15}")


def check_signal_columns(columns: dict[str, np.ndarray], where: str) -> None:
    """signals.csv.gz's columns: ``time`` (seconds, non-decreasing), ``quality`` (flags),
    every other column numbers within :data:`SIGNAL_LIMITS` (or empty: NaN).

    Raises
    ------
    SpasmCvError
        ``"<where>: <column>: <problem>"`` for the first column that breaks its limits.
    """
    for required in ("time", "quality"):
        if required not in columns:
            raise SpasmCvError(f"{where}: {required}: missing")
    time = columns["time"]
    if len(time) and (not np.isfinite(time).all() or (np.diff(time) < 0).any()):
        raise SpasmCvError(f"{where}: time: not finite non-decreasing seconds")
    bad = [q for q in columns["quality"] if not QUALITY_PATTERN.fullmatch(q)]
    if bad:
        raise SpasmCvError(f"{where}: quality: not flags joined by '+': {bad[0][:40]!r}")
    for name, values in columns.items():
        if name == "quality":
            continue
        lo, hi = next(
            ((lo, hi) for pat, lo, hi in SIGNAL_LIMITS if re.fullmatch(pat, name)), (-1e9, 1e9)
        )
        v = values[~np.isnan(values)]
        if len(v) and (not np.isfinite(v).all() or v.min() < lo or v.max() > hi):
            raise SpasmCvError(f"{where}: {name}: numbers outside {lo:g}..{hi:g}")
