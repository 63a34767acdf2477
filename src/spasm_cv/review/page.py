"""The index page of ``spasm-cv review --episodes-only``: every clip beside its signals.

One HTML file in the clips' folder, self-contained: plots are inline SVG ``data:`` URIs,
clips are the folder's own files, and its Content-Security-Policy allows nothing else (no
network, no outside script, style or font). A few lines of inline script move a cursor over
each plot in step with its video.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from spasm_cv._version import __version__
from spasm_cv.review.overlay import clock
from spasm_cv.review.plots import AXES_X, episode_plot
from spasm_cv.review.writer import H264_OPENCV, H264_PYAV

if TYPE_CHECKING:
    from spasm_cv.review.render import Clip
    from spasm_cv.review.source import ReviewSource

CSP = (
    "default-src 'none'; img-src data:; media-src 'self'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'"
)
SOURCE_WORDS = {
    "given": "given at analysis",
    "container": "from the video's creation time",
    "file_mtime": "guessed from the file's modification time",
    "clock": "monitor clock",
}

STYLE = """
body { font: 14px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 16px;
  color: #1d1d1d; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 4px; }
.sub { color: #555; font-size: 12px; }
.warn { background: #fde9d9; border-left: 3px solid #c0392b; padding: 4px 8px; }
.ep { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(300px, 1fr); gap: 12px;
  border-top: 1px solid #ccc; padding: 10px 0; align-items: start; }
.ep h2 { grid-column: 1 / -1; font-size: 15px; margin: 0; }
.ep video { width: 100%; background: #000; }
.plot { position: relative; }
.plot img { display: block; width: 100%; height: auto; }
.cursor { position: absolute; top: 4%; bottom: 12%; width: 2px; background: #222;
  left: 0; opacity: .7; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0 10px; margin: 6px 0 0;
  font-size: 12px; }
dt { color: #555; }
dd { margin: 0; }
.right { color: #b34700; } .left { color: #005a8c; }
"""

SCRIPT = """
for (const ep of document.querySelectorAll('.ep')) {
  const v = ep.querySelector('video'), c = ep.querySelector('.cursor');
  const a = +ep.dataset.start, b = +ep.dataset.end;
  const l = +ep.dataset.axl, r = +ep.dataset.axr;
  const place = () => {
    const f = Math.min(Math.max((v.currentTime) / Math.max(b - a, 1e-6), 0), 1);
    c.style.left = ((l + f * (r - l)) * 100) + '%';
  };
  const loop = () => { place(); if (!v.paused) requestAnimationFrame(loop); };
  v.addEventListener('play', loop); v.addEventListener('seeked', place);
  v.addEventListener('timeupdate', place); place();
}
"""


def _yes(value) -> str:
    return "n/a" if value is None else "yes" if value else "no"


def index_page(src: ReviewSource, clips: Sequence[Clip], codec: str, context_s: float) -> str:
    """The index page's HTML for ``clips`` of ``src`` written with ``codec``."""
    summary = src.recording.summary
    name = escape(src.recording.name)
    when = "time unknown"
    if summary.recorded_at:
        when = datetime.fromisoformat(summary.recorded_at).strftime("%Y-%m-%d %H:%M %Z").strip()
        source = SOURCE_WORDS.get(summary.recorded_at_source or "", "source not recorded")
        when += f" ({escape(source)})"
    head = [
        f"<h1>Episodes of {name}</h1>",
        f'<p class="sub">Recorded {when}; {clock(src.duration_s)} analysed, face observed '
        f"{clock(summary.observed_s)}. {len(clips)} one-sided event"
        f"{'s' * (len(clips) != 1)} (eye episodes and mouth-only events), each with "
        f"{context_s:g} s of video before and after. Frames are shown as analysed"
        f"{' (mirrored recording shown unmirrored)' if src.mirrored else ''}: the patient's "
        "right (orange) is on the image's left. Below each clip: the closure bars (R, L), "
        "the current event and a timeline of the clip with the episode outlined. Written "
        f"with {escape(codec)} by spasm-cv {escape(__version__)}.</p>",
    ]
    if codec not in (H264_PYAV, H264_OPENCV):
        head.append(
            '<p class="warn">These clips are MPEG-4 Part 2 (no H.264 encoder was available): '
            "browsers may not play them here; open the files in <code>clips/</code> with a "
            "video player.</p>"
        )
    if not clips:
        head.append("<p>No one-sided event was detected: no clip to show.</p>")
    body = []
    left, right = AXES_X
    for c in clips:
        e = c.event
        what = f"{e.kind}, {e.regions}" if e.involves_eye else "mouth only (not counted)"
        plot = episode_plot(
            src.recording.signals, src.recording.events, e, c.start_s, c.end_s, src.closure_on
        )
        details = {
            "onset": f"{clock(e.onset)} ({e.onset:.2f} s)",
            "duration": f"{e.duration:.2f} s (eye shut {e.closure_duration:.2f} s)",
            "contractions": str(e.n_contractions),
            "peak closure": f"{e.peak_closure:.2f}",
            "brow raised": _yes(e.brow_raised),
            "mouth co-contraction": _yes(e.mouth_cocontraction),
            "confidence": f"{e.confidence:.2f}",
        }
        context = getattr(e, "context", None)
        if context:
            details["context"] = str(context)
        dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in details.items())
        body.append(
            f'<section class="ep" id="ep{c.number}" data-start="{c.start_s:.6f}" '
            f'data-end="{c.end_s:.6f}" data-axl="{left}" data-axr="{right}">'
            f'<h2>{c.number}. <span class="{e.side}">{e.side}</span> {escape(what)}</h2>'
            f'<div><video src="{escape(c.file)}" controls muted playsinline preload="metadata">'
            f'</video><p class="sub">{escape(c.file)} · {c.frames} frames</p></div>'
            f'<div><div class="plot"><img alt="signals of episode {c.number}" src="{plot}">'
            f'<div class="cursor"></div></div><dl>{dl}</dl></div></section>'
        )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="generator" content="spasm-cv {escape(__version__)}">'
        f"<title>Episodes of {name}</title><style>{STYLE}</style></head><body>"
        + "\n".join(head + body)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
