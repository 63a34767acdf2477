"""Opt-in MP4 clips around episodes, so a clinician can check what was counted.

Frames are kept only in memory: JPEG-compressed in a ring buffer of the last ``ring_s``
seconds (about 1-2 MB a second at 640x480). When the monitor reports a spasm episode, the clip
``[onset - pre_s, end + post_s]`` is written once its last frame has arrived, to a temporary
name then renamed, and its path is stored with the episode. Clips are owner-only (files
``0600``; a clip folder it creates ``0700``). Nothing else is written to disk.
All encoding runs on the recorder's own thread; if it falls behind, frames are skipped for
clips (never for measurement).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from spasm_cv._private import make_private_dirs
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import Event
from spasm_cv.live.store import Batch
from spasm_cv.results.atomic import atomic_file


@dataclass(frozen=True)
class ClipSettings:
    """Where clips go and how much around each episode (seconds)."""

    directory: Path
    pre_s: float = 3.0
    post_s: float = 3.0
    ring_s: float = 20.0  # frames kept in memory; longer episodes are clipped at this
    jpeg_quality: int = 85


_STOP = object()


class ClipRecorder:
    """Ring buffer of recent frames and a writer thread for episode clips."""

    def __init__(self, settings: ClipSettings):
        self.settings = settings
        try:
            make_private_dirs(settings.directory)
        except OSError as exc:
            raise SpasmCvError(
                f"cannot create the clip folder {settings.directory}: {exc}"
            ) from None
        if not os.access(settings.directory, os.W_OK):
            raise SpasmCvError(f"cannot write clips to {settings.directory}")
        self.saved: list[Path] = []
        self.errors: list[str] = []
        self._queue: queue.Queue = queue.Queue(maxsize=120)
        self._thread: threading.Thread | None = None

    def start(self, session_id: int, t0_wall: float, fps: float, writer=None) -> None:
        """Start for a session; ``writer`` (a StoreWriter) gets each clip's path."""
        self.session_id, self.t0_wall, self.fps, self.writer = session_id, t0_wall, fps, writer
        self._thread = threading.Thread(target=self._run, name="spasm-cv-clips", daemon=True)
        self._thread.start()

    def add(self, t: float, rgb: np.ndarray) -> None:
        """A new frame (never blocks; skipped for clips if the encoder is behind)."""
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait((t, rgb))

    def request(self, event: Event) -> None:
        """Write a clip around ``event`` once its post-roll has been recorded."""
        self._queue.put(event)

    def close(self) -> None:
        """Write the clips still waiting (with the frames there are), stop the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        ring: deque[tuple[float, bytes]] = deque()
        pending: list[Event] = []
        quality = [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality]
        while True:
            item = self._queue.get()
            if item is _STOP:
                for e in pending:
                    self._write(e, ring)
                return
            if isinstance(item, Event):
                pending.append(item)
            else:
                t, rgb = item
                ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), quality)
                if ok:
                    ring.append((t, jpeg.tobytes()))
                while ring and ring[0][0] < t - self.settings.ring_s:
                    ring.popleft()
            newest = ring[-1][0] if ring else -np.inf
            ready = [e for e in pending if e.end + self.settings.post_s <= newest]
            for e in ready:
                pending.remove(e)
                self._write(e, ring)

    def _name(self, e: Event) -> str:
        when = datetime.fromtimestamp(self.t0_wall + e.onset).strftime("%Y%m%d-%H%M%S")
        kind = e.kind or e.regions
        return f"{when}_session{self.session_id}_{e.onset:07.1f}s_{e.side}_{kind}.mp4"

    def _write(self, e: Event, ring: deque[tuple[float, bytes]]) -> None:
        s = self.settings
        frames = [(t, j) for t, j in ring if e.onset - s.pre_s <= t <= e.end + s.post_s]
        if not frames:
            return
        target = Path(s.directory) / self._name(e)
        try:
            with atomic_file(target, private=True) as tmp:  # MP4 by the suffix it keeps
                first = cv2.imdecode(np.frombuffer(frames[0][1], np.uint8), cv2.IMREAD_COLOR)
                h, w = first.shape[:2]
                fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                out = cv2.VideoWriter(str(tmp), fourcc, self.fps, (w, h))
                if not out.isOpened():
                    raise OSError(f"cannot write {tmp}")
                for t, jpeg in frames:
                    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
                    inside = e.onset <= t <= e.end
                    label = f"{e.side} {e.kind or e.regions}  t={t:.2f} s" + (
                        "  EPISODE" if inside else ""
                    )
                    cv2.putText(
                        img,
                        label,
                        (8, h - 10),
                        cv2.FONT_HERSHEY_SIMPLEX,
                        0.5,
                        (0, 0, 255) if inside else (255, 255, 255),
                        1,
                        cv2.LINE_AA,
                    )
                    out.write(img)
                out.release()
        except (OSError, cv2.error) as exc:
            self.errors.append(f"clip for the episode at {e.onset:.1f} s: {exc}")
            return
        self.saved.append(target)
        if self.writer is not None:
            self.writer.submit(Batch.of(clips=[(e, str(target))]))
