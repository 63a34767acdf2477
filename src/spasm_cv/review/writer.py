"""Writing review videos: H.264 where it can be had, else MPEG-4 Part 2, and say which.

A review video is meant to be opened by anyone (a clinician's laptop, a browser page), so
H.264 in MP4 is preferred. The encoders are tried in this order:

1. H.264 with libx264 through PyAV (the FFmpeg bindings spasm-cv already uses to read the
   recording time; its wheels ship libx264);
2. H.264 through OpenCV (``avc1``), which only some OpenCV builds can write (the
   ``opencv-contrib-python`` wheel that MediaPipe brings cannot: it has no H.264 encoder);
3. MPEG-4 Part 2 through OpenCV (``mp4v``): every build writes it and desktop players play
   it, but browsers do not.

:attr:`VideoWriter.codec` names the one used. The file is written under a temporary name and
renamed into place when complete (:func:`spasm_cv.results.atomic.atomic_file`).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.atomic import Published, published

H264_PYAV = "H.264 (libx264 via PyAV)"
H264_OPENCV = "H.264 (avc1 via OpenCV)"
MP4V_OPENCV = "MPEG-4 Part 2 (mp4v via OpenCV; desktop players only, not browsers)"
CRF = 20  # libx264 quality: visually lossless for review, a few MB a minute at 640x480


def frame_rate(fps: float) -> Fraction:
    """The exact frame rate to write for a nominal ``fps`` (29.97002997 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Write RGB frames of one size to an MP4 at a constant frame rate.

    Parameters
    ----------
    path : path-like
        The MP4 to write (created atomically when the writer closes without error).
    fps : float
        Frames per second.
    size : (width, height)
        Frame size in pixels; both must be even (H.264 4:2:0).
    prefer : tuple of str
        Encoders to try, in order (default: :data:`H264_PYAV`, :data:`H264_OPENCV`,
        :data:`MP4V_OPENCV`).

    Examples
    --------
    >>> with VideoWriter("review.mp4", 25.0, (640, 480)) as w:  # doctest: +SKIP
    ...     w.write(rgb)
    ...     print(w.codec)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        size: tuple[int, int],
        prefer: tuple[str, ...] = (H264_PYAV, H264_OPENCV, MP4V_OPENCV),
    ):
        w, h = size
        if w % 2 or h % 2 or w <= 0 or h <= 0:
            raise ValueError(f"frame size must be positive and even, got {size}")
        if not fps > 0:
            raise ValueError(f"frame rate must be positive, got {fps}")
        self.path, self.fps, self.size, self.prefer = Path(path), fps, size, prefer
        self.codec: str | None = None
        self.frames = 0
        self._stack = ExitStack()
        self._av = None  # (container, stream)
        self._cv: cv2.VideoWriter | None = None

    def __enter__(self) -> VideoWriter:
        self._out: Published = self._stack.enter_context(published(self.path))
        tmp = self._out.tmp
        try:
            for codec in self.prefer:
                if self._open(codec, tmp):
                    self.codec = codec
                    return self
            raise SpasmCvError(f"no video encoder could write {self.path}")
        except BaseException:
            self._stack.__exit__(None, None, None)
            raise

    def _open(self, codec: str, tmp: Path) -> bool:
        if codec == H264_PYAV:
            try:
                import av
                import av.error
            except ImportError:
                return False
            try:
                container = av.open(str(tmp), mode="w")
                stream = container.add_stream("libx264", rate=frame_rate(self.fps))
            except (av.error.FFmpegError, ValueError):
                return False
            stream.width, stream.height = self.size
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(CRF), "preset": "veryfast"}
            self._av = (container, stream)
            return True
        fourcc = {H264_OPENCV: "avc1", MP4V_OPENCV: "mp4v"}[codec]
        with native_stderr_silenced():  # FFmpeg logs each encoder it cannot open
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), self.fps, self.size)
        if not writer.isOpened():
            writer.release()
            return False
        self._cv = writer
        return True

    def write(self, rgb: np.ndarray) -> None:
        """Append one RGB uint8 frame of the writer's size."""
        if rgb.shape[1::-1] != self.size:
            raise ValueError(f"frame of size {rgb.shape[1::-1]}, expected {self.size}")
        if self._av is not None:
            import av

            container, stream = self._av
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = self.frames
            frame.time_base = 1 / frame_rate(self.fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        else:
            self._cv.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._av is not None:
                container, stream = self._av
                try:
                    if exc_type is None:
                        for packet in stream.encode():
                            container.mux(packet)
                finally:
                    container.close()
            if self._cv is not None:
                self._cv.release()
        except BaseException as err:
            self._stack.__exit__(type(err), err, err.__traceback__)
            raise
        self._stack.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.path = self._out.path  # where it went (beside, if taken meanwhile)
