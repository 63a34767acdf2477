"""The signal plot beside each episode clip: eyelid closure and mouth-corner pull per side
over the clip's window, the episode shaded, as a self-contained SVG ``data:`` URI.

The axes sit at fixed fractions of the image width (:data:`AXES_X`), so the index page can
move a cursor over the plot in step with the video.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # never drawn on screen

from matplotlib.figure import Figure  # noqa: E402

from spasm_cv.events.table import SIDES, Event  # noqa: E402
from spasm_cv.results.track import Track  # noqa: E402

SIDE_HEX = {"right": "#D55E00", "left": "#0072B2"}
AXES_X = (0.13, 0.98)  # left and right edge of the axes, fractions of the image width
_RC = {"svg.fonttype": "path", "svg.hashsalt": "spasm-cv", "font.size": 7}


def episode_plot(
    track: Track,
    events: Sequence[Event],
    episode: Event,
    start_s: float,
    end_s: float,
    closure_on: float,
) -> str:
    """``data:image/svg+xml;base64,...`` of one episode's signals over ``[start_s, end_s]``.

    Parameters
    ----------
    track : the result folder's per-frame track (time, closure and mouth pull per side).
    events : all events of the recording (others in the window are shaded lighter).
    episode : the episode of the clip (shaded in its side's colour).
    start_s, end_s : the clip's window (s from the start of the recording).
    closure_on : the detector's closure threshold (dashed line).
    """
    t = track.time
    sel = (t >= start_s - 1e-9) & (t <= end_s + 1e-9)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(4.4, 2.3))
        left, right = AXES_X
        ax_eye = fig.add_axes((left, 0.55, right - left, 0.36))
        ax_mouth = fig.add_axes((left, 0.16, right - left, 0.3), sharex=ax_eye)
        for ax, trace in ((ax_eye, track.closure), (ax_mouth, track.mouth_pull)):
            for side in SIDES:
                y = trace[side][sel]
                ax.plot(t[sel], y, color=SIDE_HEX[side], lw=1.0, label=f"{side} (patient's)")
            for e in events:
                if e.end < start_s or e.onset > end_s:
                    continue
                if e.is_one_sided:
                    colour, alpha = SIDE_HEX[e.side], 0.3 if e is episode else 0.1
                else:
                    colour, alpha = "#9a9a9a", 0.2
                ax.axvspan(e.onset, e.end, color=colour, alpha=alpha, lw=0)
            ax.grid(True, color="#e6e6e6", lw=0.6)
            for spine in ("top", "right"):
                ax.spines[spine].set_visible(False)
        ax_eye.axhline(closure_on, color="#555555", lw=0.7, ls="--")
        ax_eye.set_ylim(-0.15, 1.1)
        ax_eye.set_title("eyelid closure (0 open, 1 shut); dashed: threshold", loc="left",
                         fontsize=6.5, pad=2)  # fmt: skip
        ax_mouth.set_title("mouth-corner pull (IOD: inter-ocular distances)", loc="left",
                           fontsize=6.5, pad=2)  # fmt: skip
        ax_eye.tick_params(labelbottom=False)
        ax_mouth.set_xlim(start_s, end_s)
        ax_mouth.set_xlabel("time from start of recording (s)", labelpad=1)
        ax_eye.legend(loc="upper right", fontsize=6, frameon=False, ncol=2,
                      bbox_to_anchor=(1.0, 1.32))  # fmt: skip
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "spasm-cv"})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
