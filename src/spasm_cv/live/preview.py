"""What the patient sees: the preview window (OpenCV) and the headless status line.

:func:`render` is pure (arrays in, a BGR image out): the frame with the mesh around the eyes
and mouth, a header with the episode counter and the rolling rate, and a panel with the last
seconds of each eye's closure. :class:`PreviewWindow` shows it; ``q`` or Esc or closing the
window stops the session. :func:`status_line` is the one-line text of ``--headless``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections import deque

import cv2
import numpy as np

from spasm_cv._secrets import scrub
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import SIDES
from spasm_cv.landmarks.contours import EYE_CONTOUR
from spasm_cv.live.frames import FROZEN_GAP
from spasm_cv.live.monitor import FrameView, MonitorStatus, Preview
from spasm_cv.signals.geometry import EYE_OUTER

# Mesh contours (MediaPipe face mesh indices); sides are the patient's. Eyes: EYE_CONTOUR.
BROW_LINE = {"right": (70, 63, 105, 66, 107), "left": (300, 293, 334, 296, 336)}
LIPS_OUTER = (
    61,
    146,
    91,
    181,
    84,
    17,
    314,
    405,
    321,
    375,
    291,
    409,
    270,
    269,
    267,
    0,
    37,
    39,
    40,
    185,
)
LIPS_INNER = (
    78,
    95,
    88,
    178,
    87,
    14,
    317,
    402,
    318,
    324,
    308,
    415,
    310,
    311,
    312,
    13,
    82,
    81,
    80,
    191,
)
COLOR = {"right": (80, 80, 235), "left": (235, 170, 60)}  # BGR: right red, left blue
MOUTH_COLOR = (120, 220, 120)
WARN = (40, 40, 240)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def hms(seconds: float) -> str:
    s = max(int(seconds), 0)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _rate_text(st: MonitorStatus) -> str:
    r = st.rate_per_hour
    return "n/a (under 1 min observed)" if r is None else f"{r:.1f}/h"


def status_line(st: MonitorStatus) -> str:
    """One line for the terminal: time, speed, drops, face, episodes, rate, problems."""
    parts = [
        hms(st.t),
        f"{st.fps:4.1f} fps",
        f"dropped {st.dropped}",
        "face" if st.face else "no face",
        f"episodes {st.total_episodes} (R {st.episodes['right']}, L {st.episodes['left']})",
        _rate_text(st),
    ]
    if st.gap is not None:
        now = st.gap_status or st.gap.reason
        lasted = hms(max(st.t - st.gap.start_s, 0.0))
        what = "FROZEN IMAGE" if st.gap.reason == FROZEN_GAP else "NO FRAMES"
        parts.append(f"{what} since {hms(st.gap.start_s)} ({lasted}): {now}")
    if st.store_error:
        parts.append(f"DATABASE ERROR (data kept in memory, retrying): {st.store_error}")
    return scrub("  ".join(parts))


class Traces:
    """The last ``seconds`` of per-side closure, for the preview panel."""

    def __init__(self, seconds: float = 10.0):
        self.seconds = seconds
        self.points: deque[tuple[float, float, float]] = deque()

    def add(self, t: float, closure: dict[str, float]) -> None:
        self.points.append((t, closure["right"], closure["left"]))
        while self.points and self.points[0][0] < t - self.seconds:
            self.points.popleft()

    def arrays(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        a = np.array(self.points, dtype=float).reshape(-1, 3)
        return a[:, 0], {"right": a[:, 1], "left": a[:, 2]}


def _text(img, text, org, scale=0.55, color=(255, 255, 255), thick=1) -> None:
    """Text with a drop shadow (same weight: OpenCV 5 changes glyph size with thickness)."""
    shadow = (org[0] + 1, org[1] + 1)
    cv2.putText(img, text, shadow, FONT, scale, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, color, thick, cv2.LINE_AA)


def _mesh(img: np.ndarray, landmarks: np.ndarray) -> None:
    h, w = img.shape[:2]
    pts = np.round(landmarks[:, :2] * (w, h)).astype(np.int32)

    def poly(idx, color, closed=True):
        cv2.polylines(img, [pts[list(idx)]], closed, color, 1, cv2.LINE_AA)
        for i in idx:
            cv2.circle(img, tuple(int(v) for v in pts[i]), 1, color, -1, cv2.LINE_AA)

    for s in SIDES:
        poly(EYE_CONTOUR[s], COLOR[s])
        poly(BROW_LINE[s], COLOR[s], closed=False)
        x, y = pts[EYE_OUTER[s]]
        dx = -28 if s == "right" else 12  # the patient's right eye is on the image's left
        _text(img, s[0].upper(), (int(x) + dx, int(y) + 5), 0.5, COLOR[s])
    poly(LIPS_OUTER, MOUTH_COLOR)
    poly(LIPS_INNER, MOUTH_COLOR)


def _panel(width: int, height: int, traces: Traces, closure_on: float) -> np.ndarray:
    panel = np.full((height, width, 3), 24, np.uint8)
    top, bottom, left = 22, height - 8, 8
    lo, hi = -0.2, 1.0

    def y_of(v: np.ndarray) -> np.ndarray:
        v = np.clip(np.nan_to_num(v, nan=lo), lo, hi)
        return (bottom - (v - lo) / (hi - lo) * (bottom - top)).astype(np.int32)

    y_on = int(y_of(np.array([closure_on]))[0])
    for x in range(left, width - 8, 12):  # dashed threshold line
        cv2.line(panel, (x, y_on), (x + 5, y_on), (90, 90, 90), 1)
    y0 = int(y_of(np.array([0.0]))[0])
    cv2.line(panel, (left, y0), (width - 8, y0), (60, 60, 60), 1)
    _text(panel, f"eyelid closure, last {traces.seconds:g} s", (left, 16), 0.45, (200, 200, 200))
    _text(panel, "R", (width - 70, 16), 0.45, COLOR["right"], 2)
    _text(panel, "L", (width - 40, 16), 0.45, COLOR["left"], 2)
    t, values = traces.arrays()
    if len(t) >= 2:
        x = left + (t - (t[-1] - traces.seconds)) / traces.seconds * (width - 16 - left)
        x = x.astype(np.int32)
        for s in SIDES:
            pts = np.stack([x, y_of(values[s])], axis=1)
            cv2.polylines(panel, [pts], False, COLOR[s], 2, cv2.LINE_AA)
    return panel


def render(
    view: FrameView,
    status: MonitorStatus,
    traces: Traces,
    *,
    width: int = 640,
    panel_height: int = 150,
    closure_on: float = 0.30,
) -> np.ndarray:
    """The preview image (BGR): frame with mesh and header, closure traces below."""
    h, w = view.rgb.shape[:2]
    scale = width / w
    frame = cv2.resize(view.rgb, (width, max(int(round(h * scale)), 1)))
    frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    if view.landmarks is not None:
        _mesh(frame, view.landmarks)
    header = frame[:58].copy()
    cv2.rectangle(header, (0, 0), (width, 58), (0, 0, 0), -1)
    frame[:58] = cv2.addWeighted(frame[:58], 0.45, header, 0.55, 0)
    st = status
    _text(
        frame,
        f"Episodes {st.total_episodes}   R {st.episodes['right']}   L {st.episodes['left']}",
        (10, 24),
        0.7,
        (255, 255, 255),
        2,
    )
    _text(frame, f"episodes per hour (last 60 min): {_rate_text(st)}", (10, 48), 0.5)
    _text(frame, f"{hms(st.t)}  {st.fps:.0f} fps  dropped {st.dropped}", (width - 230, 24), 0.5)
    warnings = []
    if not st.face:
        warnings.append("no face in view (not counted as observed)")
    if st.gap is not None and st.gap.reason == FROZEN_GAP:
        warnings.append(f"{FROZEN_GAP} (not counted as observed)")
    elif st.gap is not None:
        warnings.append("no frames from the source: reconnecting")
    if st.store_error:
        warnings.append("DATABASE ERROR: data kept in memory, retrying")
    for i, text in enumerate(warnings):
        _text(frame, text, (10, frame.shape[0] - 12 - 22 * i), 0.55, WARN, 2)
    return np.vstack([frame, _panel(width, panel_height, traces, closure_on)])


def _x_display_usable() -> bool:
    """On X11, whether the display can be connected to (Qt aborts the process otherwise)."""
    lib = ctypes.util.find_library("X11")
    if lib is None:
        return True  # cannot check; let OpenCV try
    x11 = ctypes.CDLL(lib)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        return False
    x11.XCloseDisplay(display)
    return True


def check_display() -> None:
    """SpasmCvError when no window can be opened here (instead of a crash inside Qt)."""
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise SpasmCvError("no display to open the preview window on: use --headless")
        if os.environ.get("DISPLAY") and not _x_display_usable():
            raise SpasmCvError(f"cannot connect to display {os.environ['DISPLAY']}: use --headless")


class PreviewWindow(Preview):
    """The OpenCV preview window. ``q``/Esc or closing it ends the session."""

    def __init__(
        self, title: str = "spasm-cv monitor", trace_s: float = 10.0, closure_on: float = 0.30
    ):
        check_display()
        self.title, self.closure_on = title, closure_on
        self.traces = Traces(trace_s)
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise SpasmCvError(f"cannot open the preview window ({exc}): use --headless") from None
        self._open = True

    def show(self, view: FrameView, status: MonitorStatus) -> bool:
        self.traces.add(view.time_s, view.closure)
        cv2.imshow(self.title, render(view, status, self.traces, closure_on=self.closure_on))
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            return False
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                cv2.destroyWindow(self.title)
                cv2.waitKey(1)
            except cv2.error:
                pass
