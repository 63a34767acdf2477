"""Live frame sources: a camera, an RTSP/HTTP stream, or a video file played at real time.

Every source has one interface: :meth:`LiveSource.read` returns a
:class:`~spasm_cv.live.frames.Delivery` (the next frame with its session time, frames dropped
since the last read, gaps opened or closed, end of source). A reader thread feeds a bounded
:class:`~spasm_cv.live.frames.FrameQueue`.

A file source releases each frame at its own container time on the session clock, through the
same queue and the same reader thread machinery, so a file exercises the live code path; its
frame times are the container's (the offline analysis uses the same ones). Opening a source
by what the user typed (camera index, URL, file): :mod:`spasm_cv.live.devices`.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from spasm_cv._secrets import scrub
from spasm_cv.errors import SpasmCvError
from spasm_cv.live.frames import (
    Delivery,
    FrameQueue,
    Gap,
    LiveFrame,
    ReconnectPolicy,
    SessionClock,
)
from spasm_cv.video.reader import read_frames
from spasm_cv.video.timing import probe_timing

__all__ = [
    "DEFAULT_FPS",
    "CaptureSource",
    "Delivery",
    "FileSource",
    "FrameQueue",
    "Gap",
    "LiveFrame",
    "LiveSource",
    "ReconnectPolicy",
    "SessionClock",
]

DEFAULT_FPS = 30.0


class LiveSource:
    """Base of all sources: a reader thread feeding a :class:`FrameQueue`, gaps, lifecycle.

    Use: ``src.open()`` (raises SpasmCvError when the source cannot be opened at all), then
    ``src.start(clock)``, then :meth:`read` until ``finished``; :meth:`close` at the end (or use
    it as a context manager after ``open``).

    Subclasses set ``kind``, ``description``, ``fps`` and implement ``_open`` and ``_run``.
    ``description`` is shown and stored (messages, gaps, the session's ``source``): it never
    holds a password (a stream is described by its redacted address).
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
        self._gap_now: str | None = None  # the latest word on an open gap (retry attempts)
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

    @property
    def gap_status(self) -> str | None:
        """What is happening in the open gap now (e.g. the current reconnection attempt and
        its wait); the gap's ``reason`` keeps what opened it."""
        return self._gap_now if self._gap is not None else None

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
                self._gap, self._gap_now = None, None
            self._last_t = frame.time_s
        elif self._gap is not None:
            if lost is not None:
                self._gap_now = lost
        elif not finished:
            last = self._last_t if self._last_t is not None else 0.0
            now = self.clock.now()
            if lost is not None or now - last > self.policy.stall_s:
                start = min(last + 1.0 / self.fps, now) if self._last_t is not None else 0.0
                reason = lost or f"no frame from {self.description} for {self.policy.stall_s:g} s"
                self._gap, self._gap_now = Gap(start, None, reason), reason
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
            self._queue.finish(scrub(f"{self.description}: {type(exc).__name__}: {exc}"))


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
        w, h = (
            int(self._cap.get(p) or 0)
            for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
        )
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
                    continue
                ok, bgr = cap.read()
                t = self.clock.now()
                if not ok or bgr is None:
                    cap.release()
                    cap = None
                    queue.lost(f"{self.description} lost: it stopped delivering frames")
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
        # SpasmCvError if missing or undecodable, a still, or an implausible rate that the
        # frame times cannot repair
        info, timing = probe_timing(self.path)
        self.fps = timing.fps
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
        frames = read_frames(self.path, mirrored=self.mirrored, fps=self.fps)
        with contextlib.closing(frames):
            for f in frames:
                yield f.time_s + offset, f.rgb
