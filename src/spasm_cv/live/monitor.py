"""The live loop: source -> FaceTracker -> ``signals_row`` -> StreamingDetector -> store.

The detector is the detection core's own :class:`~spasm_cv.events.stream.StreamingDetector`
(the offline analysis runs the same stages), fed one frame at a time with the source's frame
times and nominal frame rate; a file played at real time with no frame dropped therefore gives
exactly the events of ``spasm-cv analyze``. A second :class:`ActivityStage` (the detector's
first stage, same class) gives per-frame closure for the per-minute aggregates and the
preview traces (0.3 ms a frame).

Frames the source had to drop (processing fell more than ``max_lag_s`` behind) are counted per
minute; time without frames (unplugged camera, dropped stream) is recorded as a gap and as
unavailable seconds, and is never counted as observed.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from spasm_cv import __version__
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.activity import ActivityStage
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.stream import StreamingDetector
from spasm_cv.events.table import Event
from spasm_cv.landmarks.model import MODEL_SHA256, MODEL_VERSION
from spasm_cv.landmarks.tracker import FaceTracker
from spasm_cv.live.sources import Gap, LiveSource, SessionClock
from spasm_cv.live.store import Batch, MinuteRow, SessionInfo, Store, StoreError, StoreWriter
from spasm_cv.report.summary import CLOSED
from spasm_cv.signals.geometry import SIDES
from spasm_cv.signals.table import SIGNAL_COLUMNS, signals_row
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
        return d


# ------------------------------------------------------------------------- aggregates


class MinuteAggregator:
    """Per-minute aggregates of one session, fed frame by frame (pure bookkeeping).

    Each frame stands for the time to the next frame, at most two frame periods (as
    :func:`~spasm_cv.report.summary.frame_durations`), so observed seconds equal those of the
    offline summary; a frame's time is booked in the minute it started in. Minutes are
    wall-clock minutes (``t0_wall`` is the Unix time of session time 0).
    """

    def __init__(self, t0_wall: float, fps: float, keep_s: float = 3720.0):
        self.t0_wall, self.fps, self.keep_s = t0_wall, float(fps), keep_s
        self.rows: dict[float, MinuteRow] = {}
        self._dirty: set[float] = set()
        self._prev: tuple | None = None  # (t, measurable_r, measurable_l, closed_r, closed_l)
        self.totals = MinuteRow(minute_start=0.0)

    def _key(self, t: float) -> float:
        return math.floor((self.t0_wall + t) / 60.0) * 60.0

    def _row(self, t: float) -> MinuteRow:
        key = self._key(t)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = MinuteRow(minute_start=key)
        self._dirty.add(key)
        return row

    def _book(self, dt: float) -> None:
        t, m_r, m_l, c_r, c_l = self._prev
        row = self._row(t)
        for target in (row, self.totals):
            if m_r and m_l:
                target.observed_s += dt
            if m_r:
                target.measured_s_right += dt
                target.closed_s_right += dt if c_r else 0.0
            if m_l:
                target.measured_s_left += dt
                target.closed_s_left += dt if c_l else 0.0

    def frame(
        self, t: float, face: bool, n_faces: int, measurable: dict, closure: dict
    ) -> None:
        """Add a frame: ``measurable``/``closure`` map each side to this frame's value."""
        if self._prev is not None:
            self._book(min(max(t - self._prev[0], 0.0), 2.0 / self.fps))
        row = self._row(t)
        for target in (row, self.totals):
            target.frames += 1
            target.face_frames += int(face)
            target.multi_face_frames += int(n_faces > 1)
        closed = {s: bool(measurable[s]) and np.nan_to_num(closure[s]) >= CLOSED for s in SIDES}
        self._prev = (t, bool(measurable["right"]), bool(measurable["left"]), *closed.values())

    def finish(self) -> None:
        """The last frame stands for one frame period."""
        if self._prev is not None:
            self._book(1.0 / self.fps)
            self._prev = None

    def dropped(self, t: float, n: int) -> None:
        if n > 0:
            self._row(t).dropped_frames += n
            self.totals.dropped_frames += n

    def unavailable(self, start_s: float, end_s: float) -> None:
        """Book a gap's seconds in the minutes it spans."""
        t = start_s
        while t < end_s:
            nxt = min(end_s, self._key(t) + 60.0 - self.t0_wall)
            nxt = nxt if nxt > t else end_s  # guard against rounding at minute edges
            self._row(t).unavailable_s += nxt - t
            self.totals.unavailable_s += nxt - t
            t = nxt

    def event(self, e: Event) -> None:
        """Count an event in the minute of its onset."""
        if e.trial_type == "blink":
            fields_ = ("blinks",)
        elif e.trial_type == "spasm" and e.involves_eye:
            fields_ = ("episodes", f"episodes_{e.side}")
        elif e.trial_type == "spasm":
            fields_ = ("mouth_only",)
        else:
            return
        row = self._row(e.onset)
        for target in (row, self.totals):
            for name in fields_:
                setattr(target, name, getattr(target, name) + 1)

    def take_dirty(self) -> list[MinuteRow]:
        """Copies of the minutes changed since the last call; forgets minutes long past."""
        out = [self.rows[k].copy() for k in sorted(self._dirty)]
        self._dirty.clear()
        if self.rows:
            horizon = max(self.rows) - self.keep_s
            for k in [k for k in self.rows if k < horizon]:
                del self.rows[k]
        return out

    def rolling(self, t: float, window_s: float) -> tuple[int, float]:
        """Eye episodes and observed seconds in the minutes of the last ``window_s``."""
        since = self._key(t) - window_s + 60.0
        rows = [r for k, r in self.rows.items() if k >= since]
        return sum(r.episodes for r in rows), sum(r.observed_s for r in rows)


# ---------------------------------------------------------------------------- session


@dataclass
class MonitorStatus:
    """What the preview and the status line show (times in session seconds)."""

    t: float = 0.0
    frames: int = 0
    dropped: int = 0
    fps: float = 0.0  # frames processed per second, recently
    face: bool = False
    episodes: dict = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    rolling_count: int = 0
    rolling_observed_s: float = 0.0
    observed_s: float = 0.0
    gap: Gap | None = None
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
        return [e for e in self.events if e.trial_type == "spasm" and e.involves_eye]


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
        self.stage = ActivityStage(source.fps, settings.params)
        self.agg = MinuteAggregator(clock.t0_wall, source.fps)
        self.status = MonitorStatus(source=source.description)
        self.events: list[Event] = []
        self.gaps: dict[float, Gap] = {}
        self._last_t = 0.0
        self._closed = False

    def loop(self, stop: threading.Event, on_status) -> str:
        s = self.settings
        next_commit = next_status = time.monotonic()
        frame_clock: list[float] = []
        while True:
            if stop.is_set():
                return "stopped"
            now = self.clock.now()
            if s.duration_s is not None and now >= s.duration_s:
                return "duration"
            d = self.source.read(timeout_s=0.1)
            self._gaps(d.gaps)
            self.agg.dropped(self._last_t, d.dropped)
            self.status.dropped += d.dropped
            if d.frame is not None:
                view = self._frame(d.frame.time_s, d.frame.rgb)
                frame_clock.append(time.monotonic())
                del frame_clock[:-30]
                shown = self.preview is None or self.preview.show(view, self._status(frame_clock))
                if not shown:
                    return "window closed"
            elif d.finished:
                return f"source failed: {d.error}" if d.error else "source ended"
            mono = time.monotonic()
            if mono >= next_commit:
                self._commit()
                next_commit = mono + s.commit_every_s
            if on_status is not None and mono >= next_status:
                on_status(self._status(frame_clock))
                next_status = mono + s.status_every_s

    def _frame(self, t: float, rgb: np.ndarray) -> FrameView:
        obs = self.tracker.detect(rgb, t)
        row = signals_row(obs, rgb.shape[1], rgb.shape[0])
        cols, times = _columns(row), np.array([t])
        new = self.detector.push(times, cols)
        act = self.stage.update(times, cols)
        measurable = {side: bool(act.measurable[side][0]) for side in SIDES}
        closure = {side: float(act.closure[side][0]) for side in SIDES}
        self.agg.frame(t, obs is not None, 0 if obs is None else obs.n_faces, measurable, closure)
        if self.clips is not None:
            self.clips.add(t, rgb)
        self._last_t = t
        self.status.frames += 1
        self.status.face = obs is not None
        if new:
            self._events(new)
        return FrameView(t, rgb, None if obs is None else obs.landmarks, closure)

    def _events(self, new: list[Event]) -> None:
        for e in new:
            self.agg.event(e)
            if e.trial_type == "spasm" and e.involves_eye:
                self.status.episodes[e.side] += 1
            if self.clips is not None and e.trial_type == "spasm":
                self.clips.request(e)
        self.events.extend(new)
        self.writer.submit(Batch.of(events=new, minutes=self.agg.take_dirty()))

    def _gaps(self, gaps) -> None:
        for g in gaps:
            self.gaps[g.start_s] = g
            if g.end_s is not None:
                self.agg.unavailable(g.start_s, g.end_s)
            self.writer.submit(Batch.of(gaps=[g]))
        self.status.gap = self.source.open_gap

    def _progress(self) -> dict:
        return {"frames": self.status.frames, "dropped_frames": self.status.dropped}

    def _commit(self) -> None:
        self.writer.submit(Batch.of(minutes=self.agg.take_dirty(), progress=self._progress()))

    def _status(self, frame_clock: list[float]) -> MonitorStatus:
        st = self.status
        st.t = self.clock.now()
        if len(frame_clock) >= 2 and frame_clock[-1] > frame_clock[0]:
            st.fps = (len(frame_clock) - 1) / (frame_clock[-1] - frame_clock[0])
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
        self.source.close()
        error = None
        try:
            open_gap = self.source.open_gap
            if open_gap is not None:
                closed = Gap(open_gap.start_s, max(end_t, open_gap.start_s), open_gap.reason)
                self._gaps([closed])
            self.agg.finish()
            final = self.detector.flush()
            for e in final:
                self.agg.event(e)
                if e.trial_type == "spasm" and e.involves_eye:
                    self.status.episodes[e.side] += 1
            self.events.extend(final)
            if self.clips is not None:
                for e in final:
                    if e.trial_type == "spasm":
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
