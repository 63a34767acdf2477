"""``Summary``: the numbers of one recording, as summary.json holds them, built in one place.

What turns a recording's events and observed time into its numbers lives here (and in
:mod:`~spasm_cv.results.rates` and :mod:`~spasm_cv.results.pooled`) and nowhere else:

- :class:`~spasm_cv.results.rates.Rate` (:mod:`spasm_cv.results.rates`): a count over
  observed time, per hour, with its exact Poisson 95 % interval.
- :func:`coverage`: the denominators of a recording analysed frame by frame (observed time,
  per side, closed fraction per eye); a monitor session gets the same from its per-minute
  aggregates.
- :class:`Summary`: one recording. :meth:`Summary.of_analysis` (a recorded video),
  :meth:`Summary.of_session` (a monitoring session) and :meth:`Summary.from_dict` (a
  summary.json) make one; :meth:`Summary.to_dict` gives summary.json (schema
  :data:`SCHEMA_VERSION`).
- :func:`~spasm_cv.results.pooled.pool`: several recordings' numbers together.

Episodes are one-sided ``spasm`` events involving the eye (:attr:`Event.is_episode`);
mouth-only events are counted apart. Rates are per hour of observed time: frames where the
face was found and both sides were measurable.

Long module: summary.json is one document with one reader and one writer; splitting its
provenance from its numbers would put the two halves of :meth:`Summary.to_dict` and
:meth:`Summary.from_dict` in different files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from spasm_cv._version import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import SIDES, Event
from spasm_cv.landmarks.model import MODEL_SHA256, MODEL_VERSION
from spasm_cv.landmarks.provenance import FOLLOWED_FACE
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, observation_record
from spasm_cv.results.params import RecordedParams
from spasm_cv.results.rates import Blinks, EpisodeRates, Rate, affected_side
from spasm_cv.results.schemas import (  # noqa: F401 (SCHEMA_VERSION: imported from here)
    READABLE_SCHEMA_VERSIONS,
    RECORDED_AT_SOURCES,
    SCHEMA_VERSION,
    SummaryRecord,
    check,
)
from spasm_cv.signals.table import LOST_FLAGS

if TYPE_CHECKING:
    from spasm_cv.events.activity import Activity
    from spasm_cv.events.detect import Detection
    from spasm_cv.signals.table import Signals

GUESSED_SOURCES = ("file_mtime", None)  # None: an older summary that did not say
CLOSED = 0.5  # closure above which an eye counts as "closed" for the closed-time fraction
MAX_FRAME_GAP = 2.0  # a frame stands for the time to the next frame, at most this many periods


# ------------------------------------------------------------------------ coverage


def frame_durations(time: np.ndarray, fps: float) -> np.ndarray:
    """Seconds each frame stands for: the gap to the next frame, capped at two frame periods."""
    if len(time) == 0:
        return np.zeros(0)
    gaps = np.diff(time, append=time[-1] + 1.0 / fps)
    return np.clip(gaps, 0.0, MAX_FRAME_GAP / fps)


def frame_duration(gap_s: float, fps: float) -> float:
    """:func:`frame_durations` for one frame, given the gap (s) to the next frame."""
    return min(max(gap_s, 0.0), MAX_FRAME_GAP / fps)


def closed_mask(measurable: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """Frames where an eye counts as closed: measurable and closure >= :data:`CLOSED`."""
    return measurable & (np.nan_to_num(closure, nan=0.0) >= CLOSED)


def observed_seconds(activity: Activity, fps: float) -> dict[str, float]:
    """Observed time: ``both`` sides measurable (the denominator of rates), and per side."""
    dt = frame_durations(activity.time, fps)
    both = activity.measurable["right"] & activity.measurable["left"]
    out = {"both": float(dt[both].sum())}
    out.update({s: float(dt[activity.measurable[s]].sum()) for s in SIDES})
    return out


@dataclass(frozen=True)
class Coverage:
    """The denominators of a recording's numbers.

    ``observed_s``: seconds with both sides measurable; ``observed_s_by_side``: seconds each
    side was; ``closed_fraction``: per eye, the fraction of its measured time it was closed
    (None if never measured).
    """

    observed_s: float
    observed_s_by_side: dict[str, float]
    closed_fraction: dict[str, float | None]


def coverage(activity: Activity, fps: float) -> Coverage:
    """:class:`Coverage` of a recording analysed frame by frame."""
    observed = observed_seconds(activity, fps)
    dt = frame_durations(activity.time, fps)
    closed_fraction = {}
    for s in SIDES:
        m = activity.measurable[s]
        closed = closed_mask(m, activity.closure[s])
        closed_fraction[s] = float(dt[closed].sum() / dt[m].sum()) if m.any() else None
    return Coverage(observed["both"], {s: observed[s] for s in SIDES}, closed_fraction)


def lost_frames(signals: Signals, fps: float) -> dict[str, int | float]:
    """summary.json's ``quality`` counts of frames not observed for a reason of the video.

    For each of ``LOST_FLAGS`` (``corrupt``: not decodable; ``frozen``: a frozen image),
    ``<flag>_frames`` (frames) and ``<flag>_s`` (the seconds they stand for).
    """
    dt = frame_durations(signals.time, fps)
    out: dict[str, int | float] = {}
    for flag in LOST_FLAGS:
        lost = signals.lost == flag
        out[f"{flag}_frames"] = int(lost.sum())
        out[f"{flag}_s"] = float(dt[lost].sum())
    return out


# -------------------------------------------------------------------------- summary

_DERIVED = frozenset({"observation"})  # written from the numbers by to_dict, never kept


@dataclass(frozen=True)
class Summary:
    """One recording's summary.json, with its numbers typed.

    Descriptive records (``software``, ``model``, ``input``, ``quality``, ``processing``,
    ``monitor``) are plain dicts, as in summary.json; ``processing`` is set for analysed
    videos, ``monitor`` for monitoring sessions. ``params``, the detection parameters by flat
    name, is a :class:`~spasm_cv.results.params.RecordedParams` (a plain mapping given is
    taken as one); it keeps parameters of other versions as written. ``extra`` keeps keys
    this version does not know, so that a summary written by a newer one passes through
    unchanged.
    Optional fields are None where an older or damaged summary.json lacks them.
    ``recorded_at_source`` says where ``recorded_at`` came from (:data:`RECORDED_AT_SOURCES`).
    summary.json's ``observation`` record and the ``insufficient_observation`` flag of each
    rate are derived from ``observed_s`` when written (:mod:`spasm_cv.results.observation`).
    """

    schema_version: str
    software: dict
    model: dict
    input: dict
    complete: bool
    fps: float | None
    duration_s: float | None
    frames: int | None
    quality: dict
    params: RecordedParams
    recorded_at: str | None
    observed_s: float
    observed_s_by_side: dict[str, float]
    episodes: EpisodeRates
    contractions: int | None
    mouth_only: dict[str, Rate]
    blinks: Blinks
    affected_side: str | None
    closed_fraction: dict[str, float | None] | None
    longest_tonic_s: float | None
    observed_fraction: float | None
    processing: dict | None = None
    monitor: dict | None = None
    recorded_at_source: str | None = None
    detector: dict | None = None
    interrupted: str | None = None
    # possible_spasm events (one-sided eye episodes the detector could not be sure of) per
    # side: listed apart, never in ``episodes``; None where an older summary.json lacks them
    possible: dict[str, Rate] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, RecordedParams):
            object.__setattr__(self, "params", RecordedParams(self.params))

    # -- building ------------------------------------------------------------------

    @staticmethod
    def numbers(events: Iterable[Event], cover: Coverage) -> dict:
        """The fields counted from events over observed time (shared by every producer)."""
        events = list(events)
        obs = cover.observed_s
        eye = [e for e in events if e.is_episode]
        episodes = EpisodeRates.count(eye, obs)
        tonic = [e.duration for e in eye if e.kind == "tonic"]
        return {
            "observed_s": obs,
            "observed_s_by_side": dict(cover.observed_s_by_side),
            "episodes": episodes,
            "contractions": int(sum(e.n_contractions for e in eye)),
            "mouth_only": {
                s: Rate.of(sum(e.side == s for e in events if e.is_mouth_only), obs) for s in SIDES
            },
            "possible": {
                s: Rate.of(sum(e.side == s for e in events if e.is_possible), obs) for s in SIDES
            },
            "blinks": Blinks.of(sum(e.trial_type == "blink" for e in events), obs),
            "affected_side": affected_side(episodes.counts()),
            "closed_fraction": dict(cover.closed_fraction),
            "longest_tonic_s": max(tonic) if tonic else None,
        }

    @classmethod
    def of_analysis(
        cls,
        signals: Signals,
        detection: Detection,
        input_info: dict,
        elapsed_s: float | None = None,
        recorded_at: datetime | None = None,
        container_time: datetime | None = None,
    ) -> Summary:
        """The summary of a recorded video analysed frame by frame.

        Parameters
        ----------
        signals : Signals
            The recording's per-frame signals (``meta``: ``interrupted``,
            ``tracker_restart_s``).
        detection : Detection
            What :func:`~spasm_cv.events.detect.detect` found in them.
        input_info : dict
            The input record (path, name, size_bytes, mtime, fps, width, height, n_frames,
            rotation_deg, codec, mirrored).
        elapsed_s : float, optional
            Processing time, for the ``processing`` record.
        recorded_at : datetime, optional
            Wall-clock start given by the user (source ``given``).
        container_time : datetime, optional
            The video's creation time (:func:`~spasm_cv.video.metadata.creation_time`),
            used when none is given (source ``container``); without either, the file's
            modification time minus its duration (a recording's file is last written when it
            ends), with source ``file_mtime``. ``recorded_at_source`` is decided here and
            nowhere else.
        """
        n = len(signals)
        duration = float(signals.time[-1] + 1.0 / detection.fps) if n else 0.0
        face_frames = int(signals.face.sum())
        n_expected = input_info.get("n_frames")
        stopped = signals.meta.get("interrupted")
        interrupted = None if not stopped else stopped if isinstance(stopped, str) else "Ctrl-C"
        source: str | None = "given"
        if recorded_at is None:
            recorded_at, source = container_time, "container"
        if recorded_at is None:
            source = None
            if input_info.get("mtime"):
                recorded_at = datetime.fromtimestamp(input_info["mtime"] - duration, timezone.utc)
                source = "file_mtime"
        numbers = cls.numbers(detection.events, coverage(detection.activity, detection.fps))
        processing = None
        if elapsed_s is not None:
            processing = {
                "elapsed_s": elapsed_s,
                "times_real_time": duration / elapsed_s if elapsed_s > 0 else None,
            }
        return cls(
            schema_version=SCHEMA_VERSION,
            software={"name": "spasm-cv", "version": __version__},
            model={"name": MODEL_VERSION, "sha256": MODEL_SHA256},
            input=input_info,
            complete=interrupted is None,
            interrupted=interrupted,
            fps=detection.fps,
            duration_s=duration,
            frames=n,
            quality={
                "face_frames": face_frames,
                "no_face_frames": n - face_frames,
                "multi_face_frames": int((signals.n_faces > 1).sum()),
                "followed_face": FOLLOWED_FACE,
                "tracker_restart_s": signals.meta.get("tracker_restart_s"),
                # fewer frames than the container announced, though the run went to the end
                "truncated": bool(interrupted is None and n_expected and n < 0.98 * n_expected - 1),
                "low_frame_rate": bool((input_info.get("timing") or {}).get("low_frame_rate")),
                **lost_frames(signals, detection.fps),
            },
            params=RecordedParams.of(detection.params),
            recorded_at=recorded_at.isoformat() if recorded_at else None,
            recorded_at_source=source,
            observed_fraction=numbers["observed_s"] / duration if duration > 0 else 0.0,
            processing=processing,
            detector=detection.model.provenance(),
            **numbers,
        )

    @classmethod
    def of_session(
        cls,
        *,
        events: Sequence[Event],
        cover: Coverage,
        session: dict,
        settings: dict,
        started: datetime,
        duration_s: float,
        frames: int,
        face_frames: int,
        multi_face_frames: int,
        dropped_frames: int,
        unavailable_s: float,
        gaps: int,
    ) -> Summary:
        """The summary of a stored monitoring session.

        ``session``: its stored record (``id``, ``source``, ``source_kind``, ``fps``, ``width``,
        ``height``, ``mirrored``, ``ended_at``, ``end_reason``, ``software_version``,
        ``model_name``, ``model_sha256``); ``settings``: the monitor settings it ran with;
        ``cover``: observed time and closed fractions from its per-minute aggregates.
        """
        numbers = cls.numbers(events, cover)
        interrupted = None
        if session["ended_at"] is None:
            last = session.get("last_write_at") or session.get("started_at")
            interrupted = (
                f"ended abnormally at its last write, {last} (the monitor was stopped without "
                "closing the session, or is still running)"
            )
        return cls(
            schema_version=SCHEMA_VERSION,
            software={"name": "spasm-cv", "version": session["software_version"]},
            model={"name": session["model_name"], "sha256": session["model_sha256"]},
            input={
                "name": session["source"],
                "kind": session["source_kind"],
                "fps": session["fps"],
                "width": session["width"],
                "height": session["height"],
                "mirrored": bool(session["mirrored"]),
            },
            complete=session["ended_at"] is not None,
            interrupted=interrupted,
            fps=session["fps"],
            duration_s=duration_s,
            frames=frames,
            quality={
                "face_frames": face_frames,
                "no_face_frames": frames - face_frames,
                "multi_face_frames": multi_face_frames,
                "followed_face": FOLLOWED_FACE,
                "tracker_restart_s": settings.get("tracker_restart_s"),
                "truncated": False,
                "dropped_frames": dropped_frames,
                "unavailable_s": unavailable_s,
                "gaps": gaps,
            },
            params=RecordedParams(settings.get("params", {})),
            recorded_at=started.isoformat(),
            recorded_at_source="clock",
            observed_fraction=numbers["observed_s"] / duration_s if duration_s > 0 else 0.0,
            monitor={
                "session_id": session["id"],
                "end_reason": session["end_reason"],
                "gaps": gaps,
                "unavailable_s": unavailable_s,
                "settings": settings,
            },
            detector=settings.get("detector"),
            **numbers,
        )

    # -- summary.json --------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: dict, where: str = "summary.json") -> Summary:
        """A summary.json's content, checked against its schema
        (:class:`~spasm_cv.results.schemas.SummaryRecord`): SpasmCvError ``"<where>: <field>:
        <problem>"`` for a value out of its type, range or vocabulary, or a missing one."""
        if not isinstance(d, dict):
            raise SpasmCvError(f"{where}: does not hold an object")
        check(SummaryRecord, d, where)
        known = {f for f in cls.__dataclass_fields__ if f != "extra"} | _DERIVED
        blinks = d["blinks"]
        return cls(
            schema_version=d["schema_version"],
            software=d.get("software", {}),
            model=d.get("model", {}),
            input=d.get("input", {}),
            complete=d.get("complete", True),
            interrupted=d.get("interrupted")
            or (None if d.get("complete", True) else "interrupted (reason not recorded)"),
            fps=d.get("fps"),
            duration_s=d.get("duration_s"),
            frames=d.get("frames"),
            quality=d.get("quality", {}),
            params=RecordedParams(d.get("params", {})),
            recorded_at=d.get("recorded_at"),
            observed_s=d["observed_s"],
            observed_s_by_side=d.get("observed_s_by_side", {}),
            episodes=EpisodeRates.from_dict(d["episodes"]),
            contractions=d.get("contractions"),
            mouth_only={s: Rate.from_dict(r) for s, r in d["mouth_only"].items()},
            possible={s: Rate.from_dict(r) for s, r in d["possible"].items()}
            if isinstance(d.get("possible"), dict)
            else None,
            blinks=Blinks(blinks["count"], blinks["per_minute"]),
            affected_side=d.get("affected_side"),
            closed_fraction=d.get("closed_fraction"),
            longest_tonic_s=d.get("longest_tonic_s"),
            observed_fraction=d.get("observed_fraction"),
            processing=d.get("processing"),
            monitor=d.get("monitor"),
            recorded_at_source=d.get("recorded_at_source"),
            detector=d.get("detector"),
            extra={k: v for k, v in d.items() if k not in known},
        )

    @property
    def insufficient_observation(self) -> bool:
        """Too little observed face time for rates to be read as rates
        (:data:`~spasm_cv.results.observation.DEFAULT_THRESHOLDS`: 10 min)."""
        return DEFAULT_THRESHOLDS.rates_insufficient(self.observed_s)

    def to_dict(self) -> dict:
        """summary.json, keys in their documented order, checked against the schema its
        readers check it with (:class:`~spasm_cv.results.schemas.SummaryRecord`).

        Rates carry an ``insufficient_observation`` flag and ``observation`` records the
        thresholds (:data:`~spasm_cv.results.observation.DEFAULT_THRESHOLDS`) and what they
        allow for this recording's observed time.
        """
        short = self.insufficient_observation
        out = {
            "schema_version": self.schema_version,
            "software": self.software,
            "model": self.model,
            "input": self.input,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "fps": self.fps,
            "duration_s": self.duration_s,
            "frames": self.frames,
            "quality": self.quality,
            "params": self.params.to_dict(),
            "recorded_at": self.recorded_at,
            "recorded_at_source": self.recorded_at_source,
            "observed_s": self.observed_s,
            "observed_s_by_side": self.observed_s_by_side,
            "episodes": self.episodes.to_dict(short),
            "contractions": self.contractions,
            "mouth_only": {s: r.to_dict(short) for s, r in self.mouth_only.items()},
            "possible": None
            if self.possible is None
            else {s: r.to_dict(short) for s, r in self.possible.items()},
            "blinks": self.blinks.to_dict(short),
            "affected_side": self.affected_side,
            "closed_fraction": self.closed_fraction,
            "longest_tonic_s": self.longest_tonic_s,
            "observed_fraction": self.observed_fraction,
            "observation": observation_record(self.observed_s, self.n_events),
        }
        if self.processing is not None:
            out["processing"] = self.processing
        if self.monitor is not None:
            out["monitor"] = self.monitor
        if self.detector is not None:
            out["detector"] = self.detector
        out.update(self.extra)
        check(SummaryRecord, out, "summary.json (to be written)")  # the readers' schema
        return out

    @property
    def n_events(self) -> int:
        """One-sided events: eye episodes and mouth-only events."""
        return self.episodes.total.count + sum(r.count for r in self.mouth_only.values())

    @property
    def recorded_at_guessed(self) -> bool:
        """True when ``recorded_at`` is a guess (the file's time) or its source is unknown."""
        return self.recorded_at is not None and self.recorded_at_source in GUESSED_SOURCES

    @property
    def name(self) -> str | None:
        """The input's name (video file or monitor source), if recorded."""
        return self.input.get("name")
