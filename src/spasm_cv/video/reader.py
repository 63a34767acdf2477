"""Recorded video files as a stream of RGB frames with container timestamps.

Frames are decoded one at a time (memory stays flat for hour-long videos). Phone rotation
metadata is applied by OpenCV; ``mirrored=True`` flips every frame horizontally so that
everything downstream sees an unmirrored image (the patient's right eye on the image's left).
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from spasm_cv._native import native_stderr_silenced
from spasm_cv.errors import SpasmCvError


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video. ``fps`` is nominal; times come per frame."""

    path: str
    width: int
    height: int
    fps: float
    n_frames: int  # container estimate; may be off for variable frame rate or broken files
    rotation_deg: int
    codec: str

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps > 0 else float("nan")


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based decode order
    time_s: float  # presentation time from the container, seconds from the first frame
    rgb: np.ndarray  # (H, W, 3) uint8, unmirrored


@dataclass(frozen=True)
class LostFrame:
    """A frame the file holds but that could not be decoded (its packet is damaged).

    Yielded by :func:`read_frames_and_losses` in place of the frame, at its
    container time; observation records it as not observed (quality ``corrupt``).
    """

    index: int
    time_s: float
    flag: str = "corrupt"


IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".avif"}
)


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.exists():
        raise SpasmCvError(f"video not found: {p}")
    if p.is_dir():
        raise SpasmCvError(f"expected a video file, got a folder: {p}")
    if not p.is_file():  # a pipe or device would block the reader
        raise SpasmCvError(f"not a regular file: {p}")
    if p.stat().st_size == 0:
        raise SpasmCvError(f"video file is empty: {p}")
    try:
        with open(p, "rb") as f:
            f.read(1)
    except PermissionError:
        raise SpasmCvError(f"cannot read video (permission denied): {p}") from None
    except OSError as exc:
        raise SpasmCvError(f"cannot read video {p}: {exc.strerror or exc}") from None
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise SpasmCvError(f"{p} is a still image, not a video")
    with native_stderr_silenced():  # FFmpeg logs its own complaint; ours follows
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise SpasmCvError(f"cannot decode video (not a video, or corrupt): {p}")
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


MIN_SIDE_PX = 32  # smaller frames cannot show a face (and make MediaPipe fail outright)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's header; raise SpasmCvError if it cannot be decoded, or if its frames
    are too small to show a face (under :data:`MIN_SIDE_PX` pixels either way).

    An analysis reads the header and the first frames' times from one opening
    (:func:`spasm_cv.video.timing.probe_timing`); this is for callers that need the header
    only."""
    cap = _open(path)
    try:
        return header(cap, path)
    finally:
        cap.release()


def header(cap: cv2.VideoCapture, path: str | os.PathLike) -> VideoInfo:
    """:func:`probe` of a capture just opened (``_open``; nothing decoded yet)."""
    info = _info(cap, path)
    if 0 < min(info.width, info.height) < MIN_SIDE_PX:
        raise SpasmCvError(
            f"frames of {info.width}x{info.height} pixels are too small to show a face "
            f"(at least {MIN_SIDE_PX} pixels each way): {path}"
        )
    return info


def _info(cap: cv2.VideoCapture, path: str | os.PathLike) -> VideoInfo:
    rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if rotation in (90, 270):  # OpenCV rotates the frames it returns; report their shape
        w, h = h, w
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 0.0
    return VideoInfo(
        path=str(path),
        width=w,
        height=h,
        fps=fps,
        n_frames=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0),
        rotation_deg=rotation,
        codec=codec,
    )


SEEK_MARGIN_S = 1.0  # a seek lands this far before the wanted start, then decodes forward
SEEK_CHECK_FRAMES = 3  # frames after a seek whose container times must be usable


def read_frames(
    path: str | os.PathLike,
    *,
    mirrored: bool = False,
    start_s: float = 0.0,
    end_s: float | None = None,
    fps: float | None = None,
) -> Iterator[Frame]:
    """Yield the decoded frames of a video file in order, as unmirrored RGB: those of
    :func:`read_frames_and_losses` without the frames lost to damaged data."""
    frames = read_frames_and_losses(path, mirrored=mirrored, start_s=start_s, end_s=end_s, fps=fps)
    with contextlib.closing(frames):  # the decoder is released when this generator closes
        for frame in frames:
            if isinstance(frame, Frame):
                yield frame


def read_frames_and_losses(
    path: str | os.PathLike,
    *,
    mirrored: bool = False,
    start_s: float = 0.0,
    end_s: float | None = None,
    fps: float | None = None,
) -> Iterator[Frame | LostFrame]:
    """Yield the frames of a video file in order, as unmirrored RGB.

    Times come from the container (so variable frame rate does not shift time); where the
    container gives none, or they do not increase, the nominal frame rate fills in.
    Only frames with ``start_s <= time_s < end_s`` are yielded, with the same times as a
    decode from the start. Seeking is frame-accurate: the reader seeks to ``SEEK_MARGIN_S``
    before ``start_s``, checks the container times of the frames it lands on, and falls
    back to decoding from the start when the seek overshot or the times are unusable
    (codecs or files that seek to keyframes only or carry broken timestamps). After a seek
    ``index`` is the container's frame number (exact for a constant frame rate).
    ``fps``: the frame rate to fill in with (default the container's; see
    :func:`spasm_cv.video.timing.check_timing` for a rate repaired from frame times).
    Decoding goes on past damaged packets (:func:`decode_past_damage`); a frame lost to one
    is a :class:`LostFrame` at its own time.
    """
    cap = _open(path)
    try:
        info = _info(cap, path)
        rate = fps if fps and fps > 0 else info.fps
        step = 1.0 / rate if rate > 0 else 1.0 / 30.0
        landed: list[tuple[int, float, np.ndarray]] = []
        if start_s > 2 * SEEK_MARGIN_S:
            landed = _seek(cap, start_s)
            if not landed:  # not verified: decode from the start
                cap.release()
                cap = _open(path)
        index = landed[0][0] if landed else 0
        last_t = -math.inf
        for t, bgr in _decoded(cap, landed, step, path, info.rotation_deg):
            if not math.isfinite(t) or t <= last_t:
                if bgr is None:  # a damaged packet without a usable time of its own
                    continue
                t = last_t + step if math.isfinite(last_t) else 0.0
            last_t = t
            if end_s is not None and t + 1e-9 >= end_s:
                break
            if t + 1e-9 >= start_s:
                if bgr is None:
                    yield LostFrame(index=index, time_s=t)
                else:
                    if mirrored:
                        bgr = cv2.flip(bgr, 1)
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    yield Frame(index=index, time_s=t, rgb=rgb)
            index += 1
        if index == 0:
            raise SpasmCvError(f"no frame could be decoded from {path}")
    finally:
        cap.release()


def _decoded(
    cap: cv2.VideoCapture,
    landed: list[tuple[int, float, np.ndarray]],
    step: float,
    path: str | os.PathLike,
    rotation_deg: int,
) -> Iterator[tuple[float, np.ndarray | None]]:
    """(container time, BGR image) of each frame in order: the frames a seek landed on,
    then OpenCV's, then, where OpenCV stops, PyAV's past damaged packets (a damaged
    packet's frame as ``(time, None)``). A time may be NaN or not increase: the caller
    fills it in."""
    last_t = landed[-1][1] if landed else -math.inf
    for _, t, bgr in landed:
        yield t, bgr
    while True:
        ok, bgr = cap.read()
        if not ok or bgr is None:
            break
        t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if math.isfinite(t):
            last_t = max(last_t, t)
        yield t, bgr
    # OpenCV ends at the end of the file, and also at the first packet it cannot decode,
    # and does not say which: PyAV opens the file once more and decodes on from there (at
    # the end of an undamaged file it finds no newer frame)
    cap.release()
    yield from decode_past_damage(path, last_t, rotation_deg)


def decode_past_damage(
    path: str | os.PathLike, after_s: float, rotation_deg: int = 0
) -> Iterator[tuple[float, np.ndarray | None]]:
    """The frames of a video after ``after_s`` seconds, decoded past damaged packets.

    Parameters
    ----------
    path : str or path
        The video file.
    after_s : float
        Only frames later than this (seconds from the first frame; ``-inf``: all).
    rotation_deg : int
        The container's rotation, applied as OpenCV applies it.

    Yields
    ------
    (time_s, bgr or None)
        Each frame's container time and BGR image, in time order; ``None`` for a frame
        whose packet could not be decoded (damaged), at the packet's time.

    Notes
    -----
    OpenCV stops reading at the first packet its decoder rejects; PyAV reports the packet
    and decodes the next ones (the same FFmpeg decoder: the images are the same as
    OpenCV's). Nothing is yielded when PyAV cannot open the file.
    """
    import av
    import av.error

    try:
        container = av.open(os.fspath(path))
    except (av.error.FFmpegError, OSError, ValueError):
        return
    with container:
        if not container.streams.video:
            return
        stream = container.streams.video[0]
        base = stream.start_time or 0
        tb = stream.time_base
        if tb is None:
            return

        per_tick = tb.numerator / tb.denominator if tb.denominator else 0.0

        def seconds(pts: int | None) -> float:
            # OpenCV's arithmetic (milliseconds, then seconds), to the last bit: a video read
            # past damage has the times of the same frames read by OpenCV after a seek
            return math.nan if pts is None else float(pts - base) * per_tick * 1000.0 / 1000.0

        if math.isfinite(after_s) and after_s > SEEK_MARGIN_S:
            try:  # the keyframe before: decoding forward from there is exact
                container.seek(base + int((after_s - SEEK_MARGIN_S) / tb), stream=stream)
            except av.error.FFmpegError:
                try:
                    container.seek(base, stream=stream)
                except av.error.FFmpegError:
                    return
        last = after_s
        damaged: list[float] = []  # packet times, in decode order
        rotate = _ROTATE.get(rotation_deg)
        for packet in _packets(container, stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                t = seconds(packet.pts)
                if math.isfinite(t) and t > after_s:
                    damaged.append(t)
                continue
            for frame in decoded:
                t = seconds(frame.pts)
                if not math.isfinite(t) or t <= last:
                    continue
                for d in sorted(x for x in damaged if last < x < t):
                    yield d, None
                damaged = [x for x in damaged if x > t]
                last = t
                bgr = frame.to_ndarray(format="bgr24")
                yield t, bgr if rotate is None else cv2.rotate(bgr, rotate)
        for d in sorted(x for x in damaged if x > last):
            yield d, None


def _packets(container, stream) -> Iterator:
    """The stream's packets, up to where the container itself can no longer be read."""
    import av.error

    packets = container.demux(stream)
    while True:
        try:
            yield next(packets)
        except StopIteration:
            return
        except (av.error.FFmpegError, OSError):
            return


# the rotation OpenCV applies for a container's rotation tag (CAP_PROP_ORIENTATION_AUTO)
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def _seek(cap: cv2.VideoCapture, start_s: float) -> list[tuple[int, float, np.ndarray]]:
    """Seek to a bit before ``start_s``; the first frames there as (index, time, bgr).

    Empty when the landing cannot be trusted: nothing decoded, a first time that is not
    finite, not positive or not before ``start_s`` (frames would be missing), or times that
    do not increase over the first ``SEEK_CHECK_FRAMES`` frames.
    """
    with native_stderr_silenced():
        if not cap.set(cv2.CAP_PROP_POS_MSEC, (start_s - SEEK_MARGIN_S) * 1000.0):
            return []
        landed: list[tuple[int, float, np.ndarray]] = []
        while len(landed) < SEEK_CHECK_FRAMES:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            index = int(round(cap.get(cv2.CAP_PROP_POS_FRAMES))) - 1
            landed.append((index, t, bgr))
    if not landed:
        return []
    times = [t for _, t, _ in landed]
    first_ok = math.isfinite(times[0]) and 0.0 < times[0] < start_s - 1e-9 and landed[0][0] > 0
    rising = all(math.isfinite(b) and b > a for a, b in zip(times[:-1], times[1:], strict=True))
    return landed if first_ok and rising else []


def prefetch(frames: Iterator[Frame], depth: int = 8) -> Generator[Frame, None, None]:
    """Decode in a background thread so decoding overlaps with landmark inference."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work():
        try:
            for f in frames:
                while not stop.is_set():
                    try:
                        q.put(f, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed over to the consumer
            q.put(exc)

    t = threading.Thread(target=work, daemon=True, name="spasm-cv-decode")
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join(timeout=5)
        if not t.is_alive() and hasattr(frames, "close"):
            # release the decoder here and now, not whenever (and in whichever thread) the
            # source happens to be collected: an interrupted run exits soon after
            frames.close()
