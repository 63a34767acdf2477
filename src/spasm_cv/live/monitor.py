"""The live loop: source -> observe (FaceTracker, per-frame signals) -> StreamingDetector -> store.

The detector is the detection core's own :class:`~spasm_cv.events.stream.StreamingDetector`
(the offline analysis runs the same stages), fed one frame at a time with the source's frame
times and nominal frame rate; a file played at real time with no frame dropped therefore gives
exactly the events of ``spasm-cv analyze``. Frames go through the same observation generator
as offline analysis (:func:`~spasm_cv.landmarks.observe.observe`); the detector's
:meth:`~spasm_cv.events.stream.StreamingDetector.push` also returns each frame's activity,
which feeds the per-minute aggregates (:mod:`spasm_cv.live.minutes`) and the preview traces.

Frames the source had to drop (processing fell more than ``max_lag_s`` behind) are counted per
minute; time without frames (unplugged camera, dropped stream) is recorded as a gap and as
unavailable seconds, and is never counted as observed. So is a frozen image (a still photo, a
frozen camera driver, a paused stream: :mod:`spasm_cv.video.frozen`): its frames are not
observed, and the time it lasts is a gap with the reason ``FROZEN_GAP``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from spasm_cv._version import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.decide import load_model
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.stream import StreamingDetector
from spasm_cv.events.table import SIDES, Event
from spasm_cv.landmarks.model import MODEL_SHA256, MODEL_VERSION
from spasm_cv.landmarks.observe import Observed, observe
from spasm_cv.landmarks.tracker import FaceTracker
from spasm_cv.live.frames import FROZEN_GAP, Gap, LiveFrame, SessionClock
from spasm_cv.live.minutes import MinuteAggregator
from spasm_cv.live.sources import LiveSource
from spasm_cv.live.store import Batch, SessionInfo, Store
from spasm_cv.live.writer import StoreError, StoreWriter
from spasm_cv.signals.table import SIGNAL_COLUMNS
from spasm_cv.video.segments import DEFAULT_SEGMENTS, SegmentParams


@dataclass(frozen=True)
class MonitorSettings:
    """How a session runs. Times in seconds.

    ``duration_s``: stop after this long (None: until stopped). ``commit_every_s``: aggregates
    are handed to the store this often (events at once). ``rolling_window_s``: window of the
    displayed episode rate. ``max_lag_s``: how far processing may fall behind the source before
    frames are dropped (used when opening the source). ``tracker_restart_s``: the face tracker
    starts afresh this often, as in offline analysis (see :mod:`spasm_cv.video.segments`).
    """

    duration_s: float | None = None
    commit_every_s: float = 0.5
    status_every_s: float = 1.0
    rolling_window_s: float = 3600.0
    max_lag_s: float = 0.5
    tracker_restart_s: float = DEFAULT_SEGMENTS.segment_s
    params: DetectionParams = field(default_factory=DetectionParams)
    model_path: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["params"] = self.params.to_dict()
        d["detector"] = load_model().provenance()
        return d


# ---------------------------------------------------------------------------- session


@dataclass
class MonitorStatus:
    """What the preview and the status line show (times in session seconds)."""

    t: float = 0.0
    frames: int = 0
    dropped: int = 0
    fps: float = 0.0  # frames processed per second of source time, over the last seconds
    face: bool = False
    episodes: dict = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    rolling_count: int = 0
    rolling_observed_s: float = 0.0
    observed_s: float = 0.0
    gap: Gap | None = None
    gap_status: str | None = None  # what is happening in the open gap now (retries)
    store_error: str | None = None
    source: str = ""

    @property
    def total_episodes(self) -> int:
        return sum(self.episodes.values())

    @property
    def rate_per_hour(self) -> float | None:
        """Rolling rate; None before a minute of observed time."""
        if self.rolling_observed_s < 60.0:
            return None
        return self.rolling_count * 3600.0 / self.rolling_observed_s


@dataclass
class SessionResult:
    """What a session did."""

    session_id: int
    db_path: str
    end_reason: str
    duration_s: float
    frames: int
    dropped_frames: int
    observed_s: float
    events: list[Event]
    gaps: list[Gap]
    store_error: str | None = None

    @property
    def episodes(self) -> list[Event]:
        """The one-sided eye episodes of the session."""
        return [e for e in self.events if e.is_episode]


@dataclass(frozen=True)
class FrameView:
    """One processed frame for the preview: image, mesh (or None) and per-side closure."""

    time_s: float
    rgb: np.ndarray
    landmarks: np.ndarray | None  # (478, 3) normalised, unmirrored
    closure: dict[str, float]


class Preview:
    """What the monitor needs of a preview: ``show`` returns False when the user closed it."""

    def show(self, view: FrameView, status: MonitorStatus) -> bool:  # pragma: no cover
        return True

    def close(self) -> None:  # pragma: no cover
        pass


FPS_WINDOW_FRAMES = 60  # frames the status line's rate is measured over


def _columns(row: np.ndarray) -> dict[str, np.ndarray]:
    return {c: row[i : i + 1] for i, c in enumerate(SIGNAL_COLUMNS)}


def run_monitor(
    source: LiveSource,
    db_path,
    settings: MonitorSettings | None = None,
    *,
    preview: Preview | None = None,
    clips=None,
    on_status: Callable[[MonitorStatus], None] | None = None,
    on_start: Callable[[int, SessionClock], None] | None = None,
    stop: threading.Event | None = None,
) -> SessionResult:
    """Run one monitoring session on an opened ``source`` until stopped; return what it did.

    Stops when ``stop`` is set, ``settings.duration_s`` has passed, the source ends, or the
    preview is closed. The session is closed in the store in every case; if the store could not
    be written by then, the unsaved rows go to a JSON file and ``result.store_error`` says where.
    ``clips`` is a :class:`~spasm_cv.live.clips.ClipRecorder` or None.
    """
    settings = settings or MonitorSettings()
    stop = stop or threading.Event()
    store = Store(db_path)
    try:
        segments = SegmentParams(segment_s=settings.tracker_restart_s)
        with FaceTracker(settings.model_path, segments=segments, fps=source.fps) as tracker:
            clock = SessionClock()
            info = SessionInfo(
                started_at=clock.t0_wall,
                source=source.description,
                source_kind=source.kind,
                fps=source.fps,
                width=source.size[0] if source.size else None,
                height=source.size[1] if source.size else None,
                mirrored=source.mirrored,
                settings=settings.to_dict(),
                software_version=__version__,
                model_name=MODEL_VERSION,
                model_sha256=MODEL_SHA256,
            )
            try:
                session_id = store.begin_session(info)
            except sqlite3.Error as exc:
                raise SpasmCvError(f"cannot start a session in {db_path}: {exc}") from None
            writer = StoreWriter(store, session_id, clock.t0_wall)
            session = _Session(source, tracker, writer, clock, settings, preview, clips)
            try:
                source.start(clock)
                if clips is not None:
                    clips.start(session_id, clock.t0_wall, source.fps, writer)
                if on_start is not None:
                    on_start(session_id, clock)
                reason = session.loop(stop, on_status)
            except BaseException as exc:
                reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"error: {exc}"
                session.close(reason, info, str(db_path))
                raise
            return session.close(reason, info, str(db_path))
    finally:
        store.close()


class _Session:
    """State of one running session (the loop body and its clean end)."""

    def __init__(self, source, tracker, writer, clock, settings, preview, clips):
        self.source, self.tracker, self.writer, self.clock = source, tracker, writer, clock
        self.settings, self.preview, self.clips = settings, preview, clips
        self.detector = StreamingDetector(source.fps, settings.params)
        self.agg = MinuteAggregator(clock.t0_wall, source.fps)
        self.status = MonitorStatus(source=source.description)
        self.events: list[Event] = []
        self.gaps: dict[float, Gap] = {}
        self._frozen: Gap | None = None  # open while the source's image is frozen
        self._last_t = 0.0
        self._closed = False
        self._frame_times: list[float] = []  # source times of the last frames processed
        self._reason = ""

    def loop(self, stop: threading.Event, on_status) -> str:
        """Process frames until the session ends; returns why it ended."""
        for o in observe(self._frames(stop, on_status), self.tracker):
            view = self._frame(o)
            self._frame_times.append(o.time_s)
            del self._frame_times[:-FPS_WINDOW_FRAMES]
            if self.preview is not None and not self.preview.show(view, self._status()):
                return "window closed"
        return self._reason

    def _frames(self, stop: threading.Event, on_status) -> Iterator[LiveFrame]:
        """The source's frames as they come; in between, gaps, drops, commits and status.

        Ends (setting ``_reason``) when stopped, after ``duration_s``, or with the source.
        """
        s = self.settings
        next_commit = next_status = time.monotonic()
        while True:
            if stop.is_set():
                self._reason = "stopped"
                return
            now = self.clock.now()
            if s.duration_s is not None and now >= s.duration_s:
                self._reason = "duration"
                return
            d = self.source.read(timeout_s=0.1)
            self._gaps(d.gaps)
            self.agg.dropped(self._last_t, d.dropped)
            self.status.dropped += d.dropped
            if d.frame is not None:
                yield d.frame
            elif d.finished:
                self._reason = f"source failed: {d.error}" if d.error else "source ended"
                return
            mono = time.monotonic()
            if mono >= next_commit:
                self._commit()
                next_commit = mono + s.commit_every_s
            if on_status is not None and mono >= next_status:
                on_status(self._status())
                next_status = mono + s.status_every_s

    def _frame(self, o: Observed) -> FrameView:
        t, face = o.time_s, o.face
        if (o.lost == "frozen") != (self._frozen is not None):
            self._frozen_changed(t)
        update = self.detector.push(np.array([t]), _columns(o.signals()))
        act = update.activity
        closure = {side: float(act.closure[side][0]) for side in SIDES}
        measurable = {side: bool(act.measurable[side][0]) for side in SIDES}
        n_faces = 0 if face is None else face.n_faces
        self.agg.frame(t, face is not None, n_faces, measurable, closure)
        if self.clips is not None:
            self.clips.add(t, o.rgb)
        self._last_t = t
        self.status.frames += 1
        self.status.face = face is not None
        if update.events:
            self._events(update.events)
        return FrameView(t, o.rgb, None if face is None else face.landmarks, closure)

    def _events(self, new: list[Event]) -> None:
        for e in new:
            self.agg.event(e)
            if e.is_episode:
                self.status.episodes[e.side] += 1
            if self.clips is not None and e.is_one_sided:
                self.clips.request(e)
        self.events.extend(new)
        self.writer.submit(Batch.of(events=new, minutes=self.agg.take_dirty()))

    def _frozen_changed(self, t: float) -> None:
        """The image froze at ``t`` (a gap opens), or moves again from ``t`` (it closes)."""
        if self._frozen is None:
            self._frozen = Gap(t, None, FROZEN_GAP)
            self._gaps([self._frozen])
        else:
            closed, self._frozen = Gap(self._frozen.start_s, t, FROZEN_GAP), None
            self._gaps([closed])

    def _gaps(self, gaps) -> None:
        for g in gaps:
            self.gaps[g.start_s] = g
            if g.end_s is not None:
                self.agg.unavailable(g.start_s, g.end_s)
            self.writer.submit(Batch.of(gaps=[g]))
        self._gap_status(self.status)

    def _gap_status(self, st: MonitorStatus) -> None:
        st.gap, st.gap_status = self.source.open_gap, self.source.gap_status
        if st.gap is None and self._frozen is not None:
            st.gap, st.gap_status = self._frozen, f"{FROZEN_GAP} (not counted as observed)"

    def _progress(self) -> dict:
        return {"frames": self.status.frames, "dropped_frames": self.status.dropped}

    def _commit(self) -> None:
        self.writer.submit(Batch.of(minutes=self.agg.take_dirty(), progress=self._progress()))

    def _status(self) -> MonitorStatus:
        st = self.status
        times = self._frame_times
        st.t = self.clock.now()
        self._gap_status(st)
        # frames per second of source time (frame times, not the moments they were
        # processed: frames that queued up while the model started are not a burst of speed)
        if len(times) >= 2 and times[-1] > times[0]:
            st.fps = (len(times) - 1) / (times[-1] - times[0])
        st.rolling_count, st.rolling_observed_s = self.agg.rolling(
            self._last_t, self.settings.rolling_window_s
        )
        st.observed_s = self.agg.totals.observed_s
        st.store_error = self.writer.error
        return st

    def close(self, reason: str, info: SessionInfo | None = None, db: str = "") -> SessionResult:
        """Flush the detector, close gaps, write everything, end the session."""
        if self._closed:
            raise RuntimeError("session closed twice")
        self._closed = True
        end_t = self.clock.now()
        if self.status.frames:  # the last frame stands for one frame period: the session
            end_t = max(end_t, self._last_t + 1.0 / self.source.fps)  # lasts at least that
        self.source.close()
        error = None
        try:
            for open_gap in (self.source.open_gap, self._frozen):
                if open_gap is not None:
                    closed = Gap(open_gap.start_s, max(end_t, open_gap.start_s), open_gap.reason)
                    self._gaps([closed])
            self._frozen = None
            self.agg.finish(end_t)  # observed time never past the session's end
            final = self.detector.flush()
            for e in final:
                self.agg.event(e)
                if e.is_episode:
                    self.status.episodes[e.side] += 1
            self.events.extend(final)
            if self.clips is not None:
                for e in final:
                    if e.is_one_sided:
                        self.clips.request(e)
            self.writer.submit(
                Batch.of(events=final, minutes=self.agg.take_dirty(), progress=self._progress())
            )
        finally:
            if self.clips is not None:
                self.clips.close()
            if self.preview is not None:
                self.preview.close()
            try:
                self.writer.close(self.clock.wall(end_t), reason, info)
            except StoreError as exc:
                error = str(exc)
        result = SessionResult(
            session_id=self.writer.session_id,
            db_path=db,
            end_reason=reason,
            duration_s=end_t,
            frames=self.status.frames,
            dropped_frames=self.status.dropped,
            observed_s=self.agg.totals.observed_s,
            events=list(self.events),
            gaps=list(self.gaps.values()),
            store_error=error,
        )
        return result
