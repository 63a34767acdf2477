"""The index page of ``spasm-cv review --episodes-only``: every clip beside its signals.

One HTML file in the clips' folder, self-contained: plots are inline SVG ``data:`` URIs,
clips are the folder's own files, and its Content-Security-Policy allows nothing else (no
network, no outside script, style or font, no form, no ``<base>``). A few lines of inline
script move a cursor over each plot in step with its video: the policy allows that script by
its hash, and no other (an injected ``<script>`` would not run). The page is the Jinja2
template ``templates/index.html``, autoescaped (:mod:`spasm_cv._html`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from spasm_cv._html import Markup, csp, render, script_hash
from spasm_cv._version import __version__
from spasm_cv.review.overlay import clock
from spasm_cv.review.plots import AXES_X, episode_plot
from spasm_cv.review.writer import H264_OPENCV, H264_PYAV

if TYPE_CHECKING:
    from spasm_cv.review.render import Clip
    from spasm_cv.review.source import ReviewSource

TEMPLATE = Path(__file__).resolve().parent / "templates" / "index.html"
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


CSP = csp(
    "img-src data:",
    "media-src 'self'",
    "style-src 'unsafe-inline'",
    f"script-src {script_hash(SCRIPT)}",
)


def _yes(value) -> str:
    return "n/a" if value is None else "yes" if value else "no"


def index_page(src: ReviewSource, clips: Sequence[Clip], codec: str, context_s: float) -> str:
    """The index page's HTML for ``clips`` of ``src`` written with ``codec``."""
    summary = src.recording.summary
    when = "time unknown"
    if summary.recorded_at:
        when = datetime.fromisoformat(summary.recorded_at).strftime("%Y-%m-%d %H:%M %Z").strip()
        source = SOURCE_WORDS.get(summary.recorded_at_source or "", "source not recorded")
        when += f" ({source})"
    left, right = AXES_X
    shown = []
    for c in clips:
        e = c.event
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
        shown.append(
            {
                "number": c.number,
                "start": f"{c.start_s:.6f}",
                "end": f"{c.end_s:.6f}",
                "side": e.side,
                "what": f"{e.kind}, {e.regions}" if e.involves_eye else "mouth only (not counted)",
                "file": c.file,
                "frames": c.frames,
                "plot": episode_plot(
                    src.recording.track,
                    src.recording.events,
                    e,
                    c.start_s,
                    c.end_s,
                    src.closure_on,
                ),
                "details": details,
            }
        )
    return render(
        TEMPLATE,
        csp=CSP,
        version=__version__,
        name=src.recording.name,
        style=Markup(STYLE),  # written here
        script=Markup(SCRIPT),  # written here; allowed by its hash
        when=when,
        analysed=clock(src.duration_s),
        observed=clock(summary.observed_s),
        context=f"{context_s:g}",
        mirrored=src.mirrored,
        codec=codec,
        h264=codec in (H264_PYAV, H264_OPENCV),
        clips=shown,
        axl=left,
        axr=right,
    )
