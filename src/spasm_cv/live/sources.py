"""Live frame sources: a camera, an RTSP/HTTP stream, or a video file played at real time.

Every source has one interface: :meth:`LiveSource.read` returns a :class:`Delivery` (the next
frame with its session time, frames dropped since the last read, gaps opened or closed, end
of source). A reader thread puts frames into a :class:`FrameQueue` that holds at most
``max_lag_s`` of frames: when processing falls behind, the oldest frames are dropped and
counted, so the monitor never lags further than that.

A file source releases each frame at its own container time on the session clock, through the
same queue and the same reader thread machinery, so a file exercises the live code path; its
frame times are the container's (the offline analysis uses the same ones).

Times are session seconds: seconds since :class:`SessionClock` started (a monotonic clock).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.errors import SpasmCvError
from spasm_cv.video.reader import probe, read_frames

DEFAULT_FPS = 30.0


class SessionClock:
    """Session time: monotonic seconds since the clock started, and its wall-clock origin."""

    def __init__(self) -> None:
        self.t0_mono = time.monotonic()
        self.t0_wall = time.time()  # Unix time of session time 0

    def now(self) -> float:
        return time.monotonic() - self.t0_mono

    def wall(self, t: float) -> float:
        """Unix time of session time ``t``."""
        return self.t0_wall + t


@dataclass(frozen=True)
class LiveFrame:
    """One frame: session time (s) and the unmirrored RGB image (H, W, 3) uint8."""

    time_s: float
    rgb: np.ndarray


@dataclass(frozen=True)
class Gap:
    """A stretch without frames from the source (unplugged camera, dropped stream, stall).

    ``end_s`` is None while the gap lasts. Times are session seconds.
    """

    start_s: float
    end_s: float | None
    reason: str

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else self.end_s - self.start_s


@dataclass(frozen=True)
class Delivery:
    """What one :meth:`LiveSource.read` returns.

    ``frame`` is None when no frame came within the timeout. ``dropped`` counts frames the
    queue discarded since the previous read. ``gaps`` lists gaps that opened (``end_s`` None)
    or closed since the previous read. ``finished``: the source ended (end of file) or failed
    for good (``error`` says why); no frame will follow.
    """

    frame: LiveFrame | None
    dropped: int = 0
    gaps: tuple[Gap, ...] = ()
    finished: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a lost camera or stream is retried, and when missing frames make a gap.

    Retries wait ``first_delay_s``, then ``factor`` times longer each time, at most
    ``max_delay_s``. A gap starts when the reader reports a failure, or when no frame came for
    ``stall_s`` seconds.
    """

    first_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 10.0
    stall_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return min(self.first_delay_s * self.factor**attempt, self.max_delay_s)


class FrameQueue:
    """Frames from a reader thread to the monitor: bounded, dropping (and counting) the oldest.

    The reader calls :meth:`put`, :meth:`lost` (it lost the device and is retrying) and
    :meth:`finish`; the monitor calls :meth:`get`.
    """

    def __init__(self, max_frames: int):
        self.max_frames = max(int(max_frames), 1)
        self._frames: deque[LiveFrame] = deque()
        self._cond = threading.Condition()
        self._dropped = 0
        self._lost: str | None = None
        self._finished = False
        self._error: str | None = None

    def put(self, frame: LiveFrame) -> None:
        with self._cond:
            if len(self._frames) >= self.max_frames:
                self._frames.popleft()
                self._dropped += 1
            self._frames.append(frame)
            self._lost = None
            self._cond.notify()

    def lost(self, reason: str) -> None:
        with self._cond:
            self._lost = reason
            self._cond.notify()

    def finish(self, error: str | None = None) -> None:
        with self._cond:
            self._finished, self._error = True, error
            self._cond.notify()

    def get(self, timeout_s: float) -> tuple[LiveFrame | None, int, str | None, bool, str | None]:
        """``(frame or None, dropped since last get, loss reason, finished, error)``.

        ``finished`` is only reported once every queued frame has been taken.
        """
        with self._cond:
            if not self._frames and not self._finished:
                self._cond.wait(timeout_s)
            frame = self._frames.popleft() if self._frames else None
            dropped, self._dropped = self._dropped, 0
            done = self._finished and not self._frames and frame is None
            return frame, dropped, self._lost, done, self._error if done else None


class LiveSource:
    """Base of all sources: a reader thread feeding a :class:`FrameQueue`, gaps, lifecycle.

    Use: ``src.open()`` (raises SpasmCvError when the source cannot be opened at all), then
    ``src.start(clock)``, then :meth:`read` until ``finished``; :meth:`close` at the end (or use
    it as a context manager after ``open``).

    Subclasses set ``kind``, ``description``, ``fps`` and implement ``_open`` and ``_run``.
    """

    kind = "source"

    def __init__(
        self,
        description: str,
        *,
        mirrored: bool = False,
        max_lag_s: float = 0.5,
        policy: ReconnectPolicy | None = None,
    ):
        self.description = description
        self.mirrored = mirrored
        self.max_lag_s = max_lag_s
        self.policy = policy or ReconnectPolicy()
        self.fps = DEFAULT_FPS
        self.size: tuple[int, int] | None = None  # (width, height) when known
        self.clock: SessionClock | None = None
        self._queue: FrameQueue | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gap: Gap | None = None
        self._last_t: float | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def open(self) -> LiveSource:
        self._open()
        return self

    def start(self, clock: SessionClock) -> None:
        """Start reading on the session clock ``clock``."""
        self.clock = clock
        self._queue = FrameQueue(math.ceil(self.max_lag_s * self.fps))
        self._thread = threading.Thread(target=self._guarded_run, name="spasm-cv-source")
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._release()

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def open_gap(self) -> Gap | None:
        """The gap going on now, if any."""
        return self._gap

    # -- reading -----------------------------------------------------------------------

    def read(self, timeout_s: float = 0.1) -> Delivery:
        """Next frame (or None after ``timeout_s``), with drops and gap changes since last."""
        if self._queue is None or self.clock is None:
            raise RuntimeError("read() before start()")
        frame, dropped, lost, finished, error = self._queue.get(timeout_s)
        gaps: list[Gap] = []
        if frame is not None:
            if self._gap is not None:
                gaps.append(replace(self._gap, end_s=max(frame.time_s, self._gap.start_s)))
                self._gap = None
            self._last_t = frame.time_s
        elif self._gap is None and not finished:
            last = self._last_t if self._last_t is not None else 0.0
            now = self.clock.now()
            if lost is not None or now - last > self.policy.stall_s:
                start = min(last + 1.0 / self.fps, now) if self._last_t is not None else 0.0
                reason = lost or f"no frame from {self.description} for {self.policy.stall_s:g} s"
                self._gap = Gap(start, None, reason)
                gaps.append(self._gap)
        return Delivery(frame, dropped, tuple(gaps), finished, error)

    # -- for subclasses ----------------------------------------------------------------

    def _open(self) -> None:
        raise NotImplementedError

    def _run(self, queue: FrameQueue) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        pass

    def _guarded_run(self) -> None:
        assert self._queue is not None
        try:
            self._run(self._queue)
        except Exception as exc:  # noqa: BLE001 - reported to the monitor, never lost
            self._queue.finish(f"{self.description}: {type(exc).__name__}: {exc}")


def _to_rgb(bgr: np.ndarray, mirrored: bool) -> np.ndarray:
    if mirrored:
        bgr = cv2.flip(bgr, 1)
    code = cv2.COLOR_GRAY2RGB if bgr.ndim == 2 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(bgr, code)


class Capture(Protocol):
    """What a source needs of ``cv2.VideoCapture`` (tests pass their own)."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...

    def get(self, prop: int) -> float: ...


class CaptureSource(LiveSource):
    """A camera or a network stream: read as fast as it delivers, reopened with backoff.

    ``opener`` returns an opened capture or None; it is called once by :meth:`open` (None:
    SpasmCvError with ``unavailable``'s message) and again to reconnect after a failure.
    Frame times are the session clock when each frame was read.
    """

    def __init__(
        self,
        opener: Callable[[], Capture | None],
        description: str,
        kind: str,
        *,
        fps: float | None = None,
        unavailable: Callable[[], str] | None = None,
        **kwargs,
    ):
        super().__init__(description, **kwargs)
        self.kind = kind
        self._opener = opener
        self._fixed_fps = fps
        self._unavailable = unavailable or (lambda: f"cannot open {description}")
        self._cap: Capture | None = None
        self.reconnects = 0

    def _try_open(self) -> Capture | None:
        try:
            return self._opener()
        except Exception:  # noqa: BLE001 - a failed attempt, retried
            return None

    def _open(self) -> None:
        self._cap = self._try_open()
        if self._cap is None:
            raise SpasmCvError(self._unavailable())
        fps = self._fixed_fps or float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if math.isfinite(fps) and 1.0 <= fps <= 240.0 else DEFAULT_FPS
        w, h = (int(self._cap.get(p) or 0) for p in (cv2.CAP_PROP_FRAME_WIDTH,
                                                     cv2.CAP_PROP_FRAME_HEIGHT))
        self.size = (w, h) if w > 0 and h > 0 else None

    def _run(self, queue: FrameQueue) -> None:
        cap, attempt = self._cap, 0
        self._cap = None
        try:
            while not self._stop.is_set():
                if cap is None:
                    delay = self.policy.delay(attempt)
                    attempt += 1
                    queue.lost(
                        f"{self.description} lost; reconnecting (attempt {attempt}, "
                        f"waiting {delay:g} s)"
                    )
                    if self._stop.wait(delay):
                        break
                    cap = self._try_open()
                    if cap is not None:
                        self.reconnects += 1
                    continue
                ok, bgr = cap.read()
                t = self.clock.now()
                if not ok or bgr is None:
                    cap.release()
                    cap = None
                    queue.lost(f"{self.description} stopped delivering frames")
                    continue
                attempt = 0
                queue.put(LiveFrame(t, _to_rgb(bgr, self.mirrored)))
        finally:
            if cap is not None:
                cap.release()

    def _release(self) -> None:
        if self._cap is not None:  # opened but never started
            self._cap.release()
            self._cap = None


class FileSource(LiveSource):
    """A video file played at its own real-time rate on the session clock.

    Frame ``i`` is released when the session clock reaches its container time (plus the
    length of the previous plays when ``repeat`` > 1), so frame times equal those of the
    offline analysis. The file's end ends the source.
    """

    kind = "file"

    def __init__(self, path: str | os.PathLike, *, repeat: int = 1, **kwargs):
        self.path = Path(path)
        super().__init__(f"file {self.path.name}", **kwargs)
        self.repeat = max(int(repeat), 1)

    def _open(self) -> None:
        info = probe(self.path)  # SpasmCvError if missing or undecodable
        self.fps = info.fps if info.fps > 0 else DEFAULT_FPS
        self.size = (info.width, info.height)

    def _run(self, queue: FrameQueue) -> None:
        offset = 0.0
        for _ in range(self.repeat):
            last = None
            for t, rgb in self._frames(offset):
                if self._stop.wait(max(0.0, t - self.clock.now())):
                    return
                queue.put(LiveFrame(t, rgb))
                last = t
            if last is None:
                break
            offset = last + 1.0 / self.fps
        queue.finish()

    def _frames(self, offset: float) -> Iterator[tuple[float, np.ndarray]]:
        with contextlib.closing(read_frames(self.path, mirrored=self.mirrored)) as frames:
            for f in frames:
                yield f.time_s + offset, f.rgb


# ------------------------------------------------------------------------ opening by name


def _quiet_opencv() -> None:
    with contextlib.suppress(Exception):
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _camera_device(index: int) -> str:
    return f"/dev/video{index}"


def open_camera(index: int) -> cv2.VideoCapture | None:
    """An opened camera that delivered a first frame, or None."""
    _quiet_opencv()
    backend = cv2.CAP_V4L2 if os.name == "posix" and Path("/dev").is_dir() else cv2.CAP_ANY
    cap = cv2.VideoCapture(index, backend)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


def open_stream(url: str, timeout_s: float = 5.0) -> cv2.VideoCapture | None:
    """An opened RTSP/HTTP stream (FFmpeg, with open and read timeouts), or None."""
    _quiet_opencv()
    ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


def _camera_tried(indices: list[int]) -> str:
    parts = []
    for i in indices:
        dev = _camera_device(i)
        if os.name == "posix" and Path("/dev").is_dir() and not Path(dev).exists():
            parts.append(f"camera {i} ({dev} does not exist)")
        else:
            parts.append(f"camera {i} (could not be opened: in use by another program?)")
    found = sorted(str(p) for p in Path("/dev").glob("video*")) if Path("/dev").is_dir() else []
    devices = f"video devices present: {', '.join(found)}" if found else "no /dev/video* device"
    return (
        f"no camera could be opened; tried {', '.join(parts)}; {devices}. Connect a webcam, "
        "choose one with --camera INDEX, or read a stream or video file with --source."
    )


def is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def open_source(
    camera: int | None = None,
    source: str | None = None,
    *,
    mirrored: bool = False,
    max_lag_s: float = 0.5,
    policy: ReconnectPolicy | None = None,
) -> LiveSource:
    """The source a user asked for, opened (SpasmCvError saying what was tried if not).

    ``source``: an ``rtsp://``/``http(s)://`` URL or a video file; otherwise camera ``camera``
    (default: the first of cameras 0-2 that opens).
    """
    # FFmpeg's own log lines (reconnection attempts...) would break the status line; OpenCV
    # reads this when it first uses FFmpeg. Our messages say what failed.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    _quiet_opencv()
    common = {"mirrored": mirrored, "max_lag_s": max_lag_s, "policy": policy}
    if source is not None and camera is not None:
        raise SpasmCvError("give either --camera or --source, not both")
    if source is not None:
        if is_url(source):
            stream = CaptureSource(
                lambda: open_stream(source),
                f"stream {source}",
                "stream",
                unavailable=lambda: f"cannot open stream {source} (tried FFmpeg with a 5 s "
                "timeout): check the address and that the camera is on",
                **common,
            )
            with native_stderr_silenced():  # FFmpeg's own complaint; ours is clearer
                return stream.open()
        path = Path(source.removeprefix("file://"))
        if not path.exists():
            raise SpasmCvError(f"--source: no such file, and not a URL: {source}")
        return FileSource(path, **common).open()
    indices = [camera] if camera is not None else [0, 1, 2]
    for i in indices:
        with native_stderr_silenced():
            cap = open_camera(i)
        if cap is not None:
            cap.release()  # reopened by the source (same code path as a reconnection)
            return CaptureSource(
                lambda i=i: open_camera(i),
                f"camera {i}",
                "camera",
                unavailable=lambda: _camera_tried(indices),
                **common,
            ).open()
    raise SpasmCvError(_camera_tried(indices))
