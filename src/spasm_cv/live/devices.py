"""Opening a live source by what the user asked for: a camera index, a stream URL, a file.

Errors say what was tried (which cameras, which devices exist), in one line; a stream's
address appears in them without its credentials.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import cv2

from spasm_cv._native import native_stderr_silenced
from spasm_cv._secrets import SecretUrl
from spasm_cv.errors import SpasmCvError
from spasm_cv.live.frames import ReconnectPolicy
from spasm_cv.live.sources import CaptureSource, FileSource, LiveSource


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


def open_stream(url: SecretUrl, timeout_s: float = 5.0) -> cv2.VideoCapture | None:
    """An opened RTSP/HTTP stream (FFmpeg, with open and read timeouts), or None.

    The one place the address is revealed (with its password) is the call to OpenCV.
    """
    _quiet_opencv()
    ms = int(timeout_s * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    cap = cv2.VideoCapture(url.reveal(), cv2.CAP_FFMPEG, params)
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


def is_url(text: str | SecretUrl) -> bool:
    if isinstance(text, SecretUrl):
        return True
    return "://" in text and not text.startswith("file://")


def open_source(
    camera: int | None = None,
    source: str | SecretUrl | None = None,
    *,
    mirrored: bool = False,
    max_lag_s: float = 0.5,
    policy: ReconnectPolicy | None = None,
) -> LiveSource:
    """The source a user asked for, opened (SpasmCvError saying what was tried if not).

    ``source``: an ``rtsp://``/``http(s)://`` URL or a video file; otherwise camera ``camera``
    (default: the first of cameras 0-2 that opens). A URL is kept as a
    :class:`~spasm_cv._secrets.SecretUrl`: the source's description, its messages and what the
    monitor stores show it without user name and password (``rtsp://***@host/path``).
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
            url = source if isinstance(source, SecretUrl) else SecretUrl(source)
            if url.has_credentials:  # FFmpeg's own log lines may quote the address
                os.environ["OPENCV_FFMPEG_LOGLEVEL"] = "-8"
            stream = CaptureSource(
                lambda: open_stream(url),
                f"stream {url}",
                "stream",
                unavailable=lambda: (
                    f"cannot open stream {url} (tried FFmpeg with a 5 s "
                    "timeout): check the address and that the camera is on"
                ),
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
