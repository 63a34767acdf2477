"""Drawing one review frame (pure: arrays in, an RGB image out).

A review frame is the video frame as analysed (unmirrored, rotated upright) with the eye
contours of both eyes drawn on it, and a band below it:

- a closure bar per eye (0 open .. 1 shut), with the detector's closure threshold marked;
- the current event: side, trial type, kind, regions and confidence (and the detector's
  context, e.g. ``speech``, where the events carry one), on a box in the side's colour;
- what the frame counts as (observed, no face, head turned, not analysed) and the time;
- a timeline strip: the recording (or the clip) with its episodes in their side's colours,
  blinks as grey ticks, unobserved time hatched, and a cursor at this frame.

Colours are the report's (Okabe-Ito): orange for the patient's right, blue for the left.
:func:`layout` gives where everything is, so tests can read the pixels back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from spasm_cv.events.table import SIDES, Event

SIDE_RGB = {"right": (213, 94, 0), "left": (0, 114, 178)}  # report colours (RGB)
BLINK_RGB = (150, 150, 150)
BAND_RGB = (24, 24, 24)
TEXT_RGB = (235, 235, 235)
DIM_RGB = (150, 150, 150)
WARN_RGB = (240, 190, 60)
FONT = cv2.FONT_HERSHEY_SIMPLEX

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in output pixels


@dataclass(frozen=True)
class Layout:
    """Where things are in a review frame of a video of ``frame`` = (width, height).

    ``size`` is the output (width, height), both even; the video frame sits at the top left,
    the band below it from ``band_top``. ``bars`` (per side), ``event_box``, ``text`` and
    ``strip`` are rectangles in the band; ``k`` scales line widths and text.
    """

    frame: tuple[int, int]
    size: tuple[int, int]
    band_top: int
    bars: dict[str, Rect]
    event_box: Rect
    text: Rect
    strip: Rect
    k: float

    @property
    def font(self) -> float:
        return 0.42 * self.k

    @property
    def line(self) -> int:
        return max(int(round(15 * self.k)), 10)


def display_scale(width: int) -> int:
    """Whole-number enlargement for small videos (a 360-pixel-wide face is too small to see
    the lids under their contours): frames under 600 pixels wide are shown 2x (or more)."""
    return max(1, -(-600 // max(width, 1)))


def layout(width: int, height: int) -> Layout:
    """The :class:`Layout` of review frames for a ``width`` x ``height`` frame (as shown,
    i.e. after :func:`display_scale`)."""
    k = float(np.clip(width / 640, 0.85, 2.5))
    pad = int(round(6 * k))
    line = max(int(round(15 * k)), 10)
    strip_h = int(round(14 * k))
    bar_w = int(round(12 * k))
    text_h = 3 * line + pad
    band = pad + text_h + pad + strip_h + pad
    out_w, out_h = width + width % 2, height + band
    out_h += out_h % 2
    top = height
    bars = {}
    x = pad
    for side in SIDES:  # right first, as the image shows it (patient's right on the left)
        bars[side] = (x, top + pad + line // 2, x + bar_w, top + pad + text_h)
        x += bar_w + pad
    x_text = x + pad
    event_box = (x_text, top + pad + line, out_w - pad, top + pad + 2 * line + pad // 2)
    text = (x_text, top + pad, out_w - pad, top + pad + text_h)
    strip = (pad, top + pad + text_h + pad, out_w - pad, top + pad + text_h + pad + strip_h)
    return Layout((width, height), (out_w, out_h), top, bars, event_box, text, strip, k)


# ---------------------------------------------------------------------------- what is shown


@dataclass(frozen=True)
class FrameState:
    """What one review frame shows besides the image.

    ``closure``: per side, 0 open .. 1 shut, NaN when that eye was not measured;
    ``contours``: per side, the eye contour in pixels (N x 2) or None without a face;
    ``events``: events going on at this frame (spasm episodes first); ``status``: what the
    frame counts as (``observed``, ``no face``, ``head turned``, ``not analysed``);
    ``numbers``: episode index (1-based) and total, for the event line.
    """

    time_s: float
    index: int
    n_frames: int
    closure: dict[str, float]
    contours: dict[str, np.ndarray | None]
    events: Sequence[Event]
    status: str
    closure_on: float = 0.30
    episode_numbers: dict[int, int] | None = None  # id(event) -> 1-based episode number
    n_episodes: int = 0
    note: str = ""


def event_words(e: Event) -> str:
    """``RIGHT spasm, tonic, eye+mouth, confidence 0.63`` (and the context when known)."""
    if e.is_one_sided:
        what = "possible spasm" if e.is_possible else "spasm"
        words = f"{e.side.upper()} {what}, {e.kind or 'mouth only'}, {e.regions}"
    elif e.trial_type == "blink":
        words = "blink (both eyes)"
    else:
        words = f"{e.trial_type.replace('_', ' ')} (both eyes)"
    words += f", confidence {e.confidence:.2f}"
    context = getattr(e, "context", None)  # the detector's context label, where it has one
    if context and context != "none":
        words += f", context {context}"
    return words


def _text(img, text: str, org: tuple[int, int], scale: float, color, thick: int = 1) -> None:
    cv2.putText(img, text, (org[0] + 1, org[1] + 1), FONT, scale, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, color, thick, cv2.LINE_AA)


def _fit(text: str, width_px: int, scale: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width_px`` at ``scale``."""
    while text and cv2.getTextSize(text, FONT, scale, 1)[0][0] > width_px:
        text = text[:-2] + "…" if len(text) > 2 else ""
    return text.replace("…", "...")


def clock(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` from an hour)."""
    m, s = divmod(max(seconds, 0.0), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def draw_contours(img: np.ndarray, contours: dict[str, np.ndarray | None], k: float) -> None:
    """Each eye's lid contour in its side's colour (pixels, on the video frame part)."""
    thick = max(int(round(2 * k)), 2)  # 2 px at least: H.264 4:2:0 washes out 1 px colour
    for side, pts in contours.items():
        if pts is None or not np.isfinite(pts).all():
            continue
        cv2.polylines(
            img, [np.round(pts).astype(np.int32)], True, SIDE_RGB[side], thick, cv2.LINE_AA
        )


def draw_bars(img: np.ndarray, lay: Layout, closure: dict[str, float], closure_on: float) -> None:
    """A vertical closure bar per eye: fill = closure, a tick at the detector's threshold."""
    for side, (x0, y0, x1, y1) in lay.bars.items():
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), DIM_RGB, 1)
        c = closure.get(side, float("nan"))
        if np.isfinite(c):
            top = int(round(y1 - 1 - np.clip(c, 0, 1) * (y1 - y0 - 2)))
            cv2.rectangle(img, (x0 + 1, top), (x1 - 2, y1 - 2), SIDE_RGB[side], -1)
        else:
            cv2.line(img, (x0, y0), (x1 - 1, y1 - 1), DIM_RGB, 1)
        y_on = int(round(y1 - 1 - closure_on * (y1 - y0 - 2)))
        cv2.line(img, (x0 - 2, y_on), (x1 + 1, y_on), TEXT_RGB, 1)
        _text(img, side[0].upper(), (x0 + 1, y0 - 3), lay.font * 0.9, SIDE_RGB[side])


class Timeline:
    """The strip under a review frame: ``[t0, t1]`` with events and unobserved time.

    The background is drawn once; :meth:`draw` copies it and adds the cursor.
    """

    def __init__(
        self,
        lay: Layout,
        t0: float,
        t1: float,
        events: Sequence[Event],
        unobserved: Sequence[tuple[float, float]] = (),
        highlight: Event | None = None,
    ):
        self.lay, self.t0, self.t1 = lay, t0, max(t1, t0 + 1e-6)
        x0, y0, x1, y1 = lay.strip
        w, h = x1 - x0, y1 - y0
        bg = np.full((h, w, 3), 60, np.uint8)
        for a, b in unobserved:
            xa, xb = self._x(a) - x0, max(self._x(b) - x0, self._x(a) - x0 + 1)
            bg[:, max(xa, 0) : max(xb, 0)] = 38
        for e in events:
            xa = self._x(e.onset) - x0
            xb = max(self._x(e.end) - x0, xa + 1)
            if e.is_one_sided:
                y_top = 0 if e.involves_eye else h // 2  # mouth-only: lower half
                bg[y_top:, max(xa, 0) : max(xb, 0)] = SIDE_RGB[e.side]
            else:
                bg[h - max(h // 3, 2) :, max(xa, 0) : max(xb, 0)] = BLINK_RGB
        if highlight is not None:
            xa = max(self._x(highlight.onset) - x0, 0)
            xb = min(max(self._x(highlight.end) - x0, xa + 1), w - 1)
            cv2.rectangle(bg, (xa, 0), (xb, h - 1), TEXT_RGB, 1)
        self.background = bg

    def _x(self, t: float) -> int:
        x0, _, x1, _ = self.lay.strip
        frac = (t - self.t0) / (self.t1 - self.t0)
        return int(round(x0 + np.clip(frac, 0.0, 1.0) * (x1 - x0 - 1)))

    def draw(self, img: np.ndarray, t: float) -> None:
        x0, y0, x1, y1 = self.lay.strip
        img[y0:y1, x0:x1] = self.background
        x = self._x(t)
        cv2.line(img, (x, y0 - 2), (x, y1 + 1), (255, 255, 255), max(int(round(self.lay.k)), 1))
        span = f"{clock(self.t0)}-{clock(self.t1)}"
        _text(
            img,
            span,
            (x1 - cv2.getTextSize(span, FONT, self.lay.font * 0.8, 1)[0][0], y0 - 3),
            self.lay.font * 0.8,
            DIM_RGB,
        )


def draw_frame(rgb: np.ndarray, lay: Layout, state: FrameState, timeline: Timeline) -> np.ndarray:
    """The review frame: ``rgb`` (the analysed video frame) annotated as described above."""
    out = np.zeros((lay.size[1], lay.size[0], 3), np.uint8)
    out[: rgb.shape[0], : rgb.shape[1]] = rgb
    out[lay.band_top :] = BAND_RGB
    draw_contours(out, state.contours, lay.k)
    draw_bars(out, lay, state.closure, state.closure_on)
    x0, y0, x1, _ = lay.text
    width = x1 - x0
    head = f"{clock(state.time_s)}  frame {state.index + 1}/{state.n_frames}  {state.status}"
    _text(
        out,
        _fit(head, width, lay.font),
        (x0, y0 + lay.line - 4),
        lay.font,
        TEXT_RGB if state.status == "observed" else WARN_RGB,
    )
    bx0, by0, bx1, by1 = lay.event_box
    current = state.events[0] if state.events else None
    if current is None:
        _text(out, "no event", (bx0 + 4, by1 - 5), lay.font, DIM_RGB)
    else:
        colour = SIDE_RGB.get(current.side, BLINK_RGB) if current.is_one_sided else (BLINK_RGB)
        cv2.rectangle(out, (bx0, by0), (bx1 - 1, by1 - 1), colour, -1)
        _text(
            out,
            _fit(event_words(current), bx1 - bx0 - 8, lay.font),
            (bx0 + 4, by1 - 5),
            lay.font,
            (255, 255, 255),
        )
    detail = state.note
    if current is not None:
        n = (state.episode_numbers or {}).get(id(current))
        where = f"{clock(current.onset)}-{clock(current.end)}"
        detail = (
            (f"episode {n} of {state.n_episodes}, " if n else "")
            + where
            + (f"; {state.note}" if state.note else "")
        )
    if detail:
        _text(
            out,
            _fit(detail, width, lay.font * 0.9),
            (x0, by1 + lay.line - 3),
            lay.font * 0.9,
            DIM_RGB,
        )
    timeline.draw(out, state.time_s)
    return out
