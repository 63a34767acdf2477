"""Report figures with matplotlib (no pyplot state), rendered to self-contained SVG.

Each ``plot_*`` function returns a :class:`matplotlib.figure.Figure`; :func:`to_svg` turns it
into SVG text (glyphs as paths: no font is needed to show it) and :func:`to_data_uri` into a
``data:`` URI for an ``<img>``. Sides use the same colours everywhere (Okabe-Ito orange for
the patient's right, blue for the left). Times on signal plots are seconds from the start of
the recording.

Long module: every report figure lives here so that all share one style (rc settings, side
colours, SVG export); the rate plots scale their axes by the recordings with enough observed
time (:func:`rate_axis_top`).
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")  # a report is never drawn on screen

import numpy as np  # noqa: E402
from matplotlib import dates as mdates  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from spasm_cv.events.table import SIDES, Event  # noqa: E402
from spasm_cv.report.aggregate import RateRow, Treatment  # noqa: E402
from spasm_cv.results.observation import DEFAULT_THRESHOLDS  # noqa: E402
from spasm_cv.results.rates import Rate  # noqa: E402
from spasm_cv.results.track import Track  # noqa: E402

SIDE_COLOURS = {"right": "#D55E00", "left": "#0072B2"}
SIDE_LABELS = {"right": "right (patient's)", "left": "left (patient's)"}
GREY = "#9a9a9a"
WIDTH_IN = 7.2  # figure width in inches: the printable width of an A4 page

_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "spasm-cv",  # stable ids: the same data gives the same file
    "font.size": 7.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 7.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
}


def to_svg(fig: Figure) -> str:
    """SVG text of a figure (no XML prolog, so it can also be inlined)."""
    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "spasm-cv"})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def to_data_uri(fig: Figure) -> str:
    """``data:image/svg+xml;base64,...`` of a figure, for ``<img src=...>``."""
    data = base64.b64encode(to_svg(fig).encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def _styled(plot: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a plot function under the report's matplotlib style (fonts, grid, spines)."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(_RC):
            return plot(*args, **kwargs)

    return wrapper


def _figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _axes(fig: Figure, *args, **kwargs):
    return fig.subplots(*args, **kwargs)


# ---------------------------------------------------------------------------- signals


def envelope(t: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Downsample to a min/max envelope of ``n_bins`` bins (2 points each); spikes survive.

    Bins of consecutive samples; a bin without any finite value gives NaN (a gap).
    """
    n = len(t)
    if n <= 2 * n_bins:
        return t, y
    edges = np.linspace(0, n, n_bins + 1).astype(int)[:-1]
    lo = np.fmin.reduceat(y, edges)
    hi = np.fmax.reduceat(y, edges)
    centre = t[np.minimum(edges + np.diff(np.append(edges, n)) // 2, n - 1)]
    return np.repeat(centre, 2), np.column_stack([lo, hi]).ravel()


def _time_unit(duration_s: float) -> tuple[float, str]:
    if duration_s > 2 * 3600:
        return 3600.0, "h"
    if duration_s > 180:
        return 60.0, "min"
    return 1.0, "s"


def shade(ax, intervals: Sequence[tuple[float, float]], color: str, alpha: float) -> None:
    """Shade x-intervals over the full height of ``ax`` (one collection, fast for thousands)."""
    if not len(intervals):
        return
    verts = [[(a, 0.0), (a, 1.0), (b, 1.0), (b, 0.0)] for a, b in intervals]
    ax.add_collection(
        PolyCollection(
            verts, transform=ax.get_xaxis_transform(), facecolor=color, alpha=alpha, lw=0
        ),
        autolim=False,
    )


def _shade_events(ax, events: Sequence[Event], scale: float, mouth_axis: bool) -> None:
    for side in SIDES:
        spasms = [e for e in events if e.trial_type == "spasm" and e.side == side]
        eye = [(e.onset / scale, e.end / scale) for e in spasms if e.is_episode]
        shade(ax, eye, SIDE_COLOURS[side], 0.22)
        if mouth_axis:
            mouth = [(e.onset / scale, e.end / scale) for e in spasms if e.is_mouth_only]
            shade(ax, mouth, SIDE_COLOURS[side], 0.10)


@_styled
def plot_signal_overview(
    track: Track,
    events: Sequence[Event],
    title: str | None = None,
    max_points: int = 1200,
    height_in: float = 2.6,
) -> Figure:
    """Eyelid closure and mouth-corner pull per side over the whole recording.

    Signals longer than ``max_points`` samples are drawn as a min/max envelope; one-sided
    episodes are shaded in their side's colour (mouth-only events lighter, mouth panel only);
    time without both sides measurable is grey.
    """
    t = track.time
    duration = float(t[-1] - t[0]) if len(t) > 1 else 1.0
    scale, unit = _time_unit(duration)
    fig = _figure(height_in)
    ax_eye, ax_mouth = _axes(fig, 2, 1, sharex=True)
    panels = (  # labelled above each panel: stacked rotated y-labels overlap in short panels
        (ax_eye, track.closure, "eyelid closure (0 open, 1 shut)"),
        (ax_mouth, track.mouth_pull, "mouth-corner pull (IOD: inter-ocular distances)"),
    )
    for ax, trace, ylabel in panels:
        for side in SIDES:
            y = trace[side]
            tt, yy = envelope(t / scale, y, max_points)
            ax.plot(tt, yy, color=SIDE_COLOURS[side], lw=0.6, label=SIDE_LABELS[side])
        _shade_events(ax, events, scale, mouth_axis=ax is ax_mouth)
        ax.set_title(ylabel, loc="left", fontsize=6.5, pad=1.5)
    mask = ~track.observed
    if mask.any():
        tt, mm = envelope(t / scale, mask.astype(float), max_points)
        for ax in (ax_eye, ax_mouth):
            ax.fill_between(
                tt,
                0,
                1,
                where=mm > 0,
                transform=ax.get_xaxis_transform(),
                color="#dddddd",
                lw=0,
                step="mid",
                zorder=0,
            )
    ax_eye.set_ylim(-0.15, 1.1)
    ax_mouth.set_xlabel(f"time from start of recording ({unit})")
    ax_mouth.set_xlim(t[0] / scale, t[-1] / scale)
    handles = [
        *ax_eye.get_lines()[:2],
        Patch(color=SIDE_COLOURS["right"], alpha=0.3, label="episode, right"),
        Patch(color=SIDE_COLOURS["left"], alpha=0.3, label="episode, left"),
    ]
    if mask.any():
        handles.append(Patch(color="#dddddd", label="not measurable"))
    ax_eye.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(handles),
        fontsize=6.5,
        borderaxespad=0.2,
    )
    if title:
        fig.suptitle(title, x=0.0, ha="left", fontsize=8.5)
    return fig


@dataclass(frozen=True)
class Zoom:
    """One episode to show close up, with the signals and events of its recording."""

    track: Track
    events: Sequence[Event]
    episode: Event
    caption: str


@_styled
def plot_episode_zooms(zooms: Sequence[Zoom], height_in: float = 2.5) -> Figure:
    """Close-ups (one column each) of eyelid closure and mouth pull around episodes.

    The shown episode is shaded in its side's colour, other episodes lighter, blinks and
    two-sided closures grey. Each window spans at least 4 s.
    """
    fig = _figure(height_in)
    axes = _axes(fig, 2, len(zooms), sharex="col", squeeze=False)
    for j, z in enumerate(zooms):
        e = z.episode
        t = z.track.time
        half = max(2.0, e.duration / 2 + 1.0)
        mid = e.onset + e.duration / 2
        # keep the window inside the recording (shift it, do not shrink it)
        mid = min(max(mid, t[0] + half), max(t[-1] - half, t[0] + half))
        sel = (t >= mid - half) & (t <= mid + half)
        for i, trace in enumerate((z.track.closure, z.track.mouth_pull)):
            ax = axes[i, j]
            for side in SIDES:
                ax.plot(
                    t[sel],
                    trace[side][sel],
                    color=SIDE_COLOURS[side],
                    lw=0.9,
                )
            for other in z.events:
                if other.end < mid - half or other.onset > mid + half:
                    continue
                if other.is_one_sided:
                    if i == 0 and not other.involves_eye:
                        continue
                    alpha = 0.28 if other is e else 0.10
                    colour = SIDE_COLOURS[other.side]
                else:
                    alpha, colour = 0.18, GREY
                ax.axvspan(other.onset, other.end, color=colour, alpha=alpha, lw=0)
            ax.set_xlim(mid - half, mid + half)
        axes[0, j].set_ylim(-0.15, 1.1)
        axes[0, j].set_title(z.caption, loc="left", fontsize=7.5)
        axes[1, j].set_xlabel("time from start (s)")
    axes[0, 0].set_ylabel("eyelid closure")
    axes[1, 0].set_ylabel("mouth pull (IOD)")
    return fig


# ---------------------------------------------------------------------------- rates


def _ci_errors(rates: Sequence[Rate]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([np.nan if r.per_hour is None else r.per_hour for r in rates], float)
    lo = np.array([np.nan if r.ci95[0] is None else r.ci95[0] for r in rates], float)
    hi = np.array([np.nan if r.ci95[1] is None else r.ci95[1] for r in rates], float)
    return y, np.vstack([y - lo, hi - y])


def _side_rates(rows, min_observed_s: float):
    """Per-row reliability (enough observed time), each side's (rates, CI error bars), and the
    top of the rate axis they share."""
    reliable = np.array([r.observed_s >= min_observed_s for r in rows], bool)
    series = {side: _ci_errors([r.rate(side) for r in rows]) for side in SIDES}
    top = rate_axis_top(
        np.concatenate([y for y, _ in series.values()]),
        np.concatenate([y + e[1] for y, e in series.values()]),
        np.concatenate([reliable] * len(SIDES)),
    )
    return reliable, series, top


def rate_axis_top(y: np.ndarray, hi: np.ndarray, reliable: np.ndarray) -> float:
    """Top of a rate axis, from the points with enough observed time (``reliable``).

    One short recording's extrapolated rate (thousands per hour from a few seconds) must not
    flatten every other point: the axis is scaled by the reliable points (all points when none
    is) and shows up to 1.5x their largest rate, or their intervals up to 3x it. Points and
    intervals above the top are clipped and marked (:func:`mark_clipped`).
    """
    use = reliable if reliable.any() else np.ones_like(reliable)
    ys, his = y[use & np.isfinite(y)], hi[use & np.isfinite(hi)]
    ymax = float(ys.max()) if ys.size else 0.0
    cimax = float(his.max()) if his.size else 0.0
    top = max(ymax * 1.5, min(cimax, ymax * 3)) if ymax > 0 else cimax
    return top * 1.08 or 1.0


def mark_clipped(ax, x, y: np.ndarray, top: float, color: str) -> int:
    """Mark points above ``top``: an arrow at the top edge with the value beside it.

    Returns the number of points marked. (Whiskers above ``top`` are clipped at the edge.)
    """
    n = 0
    for xi, yi in zip(x, y, strict=True):
        if np.isfinite(yi) and yi > top:
            ax.plot([xi], [top], marker="^", ms=5, color=color, clip_on=False, zorder=5)
            ax.annotate(
                f"{yi:.0f}/h",
                (xi, top),
                xytext=(4, -1),
                textcoords="offset points",
                fontsize=6,
                color=color,
                va="top",
                annotation_clip=False,
            )
            n += 1
    return n


@_styled
def plot_rate_by_hour_of_day(
    rows: Sequence[RateRow],
    height_in: float = 2.2,
    width_in: float = WIDTH_IN / 2,
    min_observed_s: float = DEFAULT_THRESHOLDS.rate_min_observed_s,
) -> Figure:
    """Episodes per hour (95 % CI) by hour of day and side, with observed minutes below.

    Hours never observed are grey. Hours observed less than ``min_observed_s`` are drawn
    hatched and pale and do not scale the axis; values above it are clipped and marked
    (:func:`rate_axis_top`). No legend: sides have the report's colours.
    """
    fig = _figure(height_in, width_in)
    ax, ax_obs = _axes(fig, 2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    hours = np.array([r.key for r in rows], int)
    reliable, series, top = _side_rates(rows, min_observed_s)
    for k, side in enumerate(SIDES):
        y, err = series[side]
        x = hours + (k - 0.5) * 0.38
        for sel, alpha, hatch in ((reliable, 1.0, None), (~reliable, 0.35, "////")):
            if sel.any():
                ax.bar(
                    x[sel],
                    np.minimum(y[sel], top),
                    width=0.36,
                    color=SIDE_COLOURS[side],
                    alpha=alpha,
                    hatch=hatch,
                    lw=0,
                )
                ax.errorbar(
                    x[sel],
                    y[sel],
                    yerr=err[:, sel],
                    fmt="none",
                    ecolor="#333333",
                    elinewidth=0.6,
                    capsize=1.5,
                    alpha=alpha,
                )
        mark_clipped(ax, x, y, top, SIDE_COLOURS[side])
    observed = set(hours.tolist())
    for h in range(24):
        if h not in observed:
            ax.axvspan(h - 0.5, h + 0.5, color="#f0f0f0", lw=0)
    ax.set_ylim(0, top)
    ax.set_ylabel("episodes per hour")
    ax.set_title("Episodes per hour by time of day (95 % CI)", loc="left")
    ax_obs.bar(hours, [r.observed_s / 60 for r in rows], width=0.8, color=GREY)
    ax_obs.set_ylabel("observed\n(min)")
    ax_obs.set_xlim(-0.6, 23.6)
    ax_obs.set_xticks(range(0, 24, 3))
    ax_obs.set_xlabel("hour of day (local time)")
    return fig


@_styled
def plot_durations(
    episodes: Sequence[Event],
    tonic_min_s: float | None,
    height_in: float = 2.2,
    width_in: float = WIDTH_IN / 2,
) -> Figure:
    """Histogram of eye-episode durations by side (stacked), tonic threshold marked.

    No legend: sides have the report's colours.
    """
    fig = _figure(height_in, width_in)
    ax = _axes(fig)
    d = np.array([e.duration for e in episodes], float)
    lo, hi = max(0.03, d.min() * 0.8), d.max() * 1.25
    log = hi / lo > 8
    bins = np.geomspace(lo, hi, 25) if log else np.linspace(0, hi, 25)
    data = [d[[e.side == s for e in episodes]] for s in SIDES]
    ax.hist(
        data,
        bins=bins,
        stacked=True,
        color=[SIDE_COLOURS[s] for s in SIDES],
        label=[SIDE_LABELS[s] for s in SIDES],
    )
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    if tonic_min_s:
        ax.axvline(tonic_min_s, color="#333333", lw=0.8, ls="--")
        ax.text(
            tonic_min_s,
            0.98,
            f" tonic ≥ {tonic_min_s:g} s",
            transform=ax.get_xaxis_transform(),
            va="top",
            fontsize=6.5,
        )
    ax.set_xlabel("episode duration (s)")
    ax.set_ylabel("episodes")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if tonic_min_s:
        ax.set_xlim(right=max(ax.get_xlim()[1], tonic_min_s * 1.35))
    ax.set_title(f"Episode durations (n = {len(d)})", loc="left")
    return fig


@_styled
def plot_daily_rates(
    rows: Sequence[RateRow],
    treatments: Sequence[Treatment],
    height_in: float = 2.2,
    min_observed_s: float = DEFAULT_THRESHOLDS.rate_min_observed_s,
) -> Figure:
    """Episodes per hour (95 % CI) per day and side, treatments as labelled dashed lines.

    Days observed less than ``min_observed_s`` are hollow points with pale whiskers and do
    not scale the axis; points and intervals above it are clipped and marked
    (:func:`rate_axis_top`, :func:`mark_clipped`).
    """
    fig = _figure(height_in)
    ax = _axes(fig)
    days = [datetime(r.key.year, r.key.month, r.key.day, 12) for r in rows]
    reliable, series, top = _side_rates(rows, min_observed_s)
    clipped = 0
    for k, side in enumerate(SIDES):
        y, err = series[side]
        x = np.array([d + timedelta(hours=(k - 0.5) * 4) for d in days], dtype=object)
        for sel, hollow in ((reliable, False), (~reliable, True)):
            if not sel.any():
                continue
            ax.errorbar(
                list(x[sel]),
                y[sel],
                yerr=err[:, sel],
                fmt="o",
                ms=3.5,
                color=SIDE_COLOURS[side],
                mfc="white" if hollow else SIDE_COLOURS[side],
                elinewidth=0.8,
                capsize=2,
                alpha=0.55 if hollow else 1.0,
                label=None if hollow else SIDE_LABELS[side],
            )
        clipped += mark_clipped(ax, list(x), y, top, SIDE_COLOURS[side])
    ax.set_ylim(0, top)
    if (~reliable).any():
        ax.plot(
            [],
            [],
            "o",
            ms=3.5,
            mfc="white",
            color=GREY,
            label=f"< {min_observed_s / 60:g} min observed",
        )
    if clipped:
        ax.plot([], [], "^", ms=4, color=GREY, label="off scale (value shown)")
    first = min(days + [t.effective.replace(tzinfo=None) for t in treatments])
    last = max(days + [t.effective.replace(tzinfo=None) for t in treatments])
    pad = max(timedelta(days=1), (last - first) * 0.04)
    ax.set_xlim(first - pad, last + pad)
    for t in treatments:
        x = t.effective.replace(tzinfo=None)
        ax.axvline(x, color="#333333", lw=0.9, ls="--")
        ax.text(
            x,
            0.98,
            f" {t.label} ({t.day.isoformat()})",
            transform=ax.get_xaxis_transform(),
            va="top",
            ha="left",
            fontsize=6.5,
        )
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("episodes per hour")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, borderaxespad=0.2)
    ax.set_title("Episodes per hour per day (95 % CI); dashed: treatments", loc="left")
    return fig
