"""The clinical report: one self-contained HTML file (A4 sheets, figures as inline SVG).

:func:`render_report` is the entry point for the command line (``spasm-cv report``) and for
other sources of :class:`~spasm_cv.report.recordings.Recording` (monitor sessions). The page
template is ``templates/report.html`` (``string.Template``); sections are built here.

Sheets: 1 summary (headline, suggested scales, comparison across recordings, methods: the
one-pager); 2 signals (only when some recording has per-frame signals); 3 patterns and
tables. Each sheet starts a printed page; a sheet that overflows adds pages.

Every headline number is a ``<span class="num" data-key="a.b.c" data-scale="x">`` whose
text is ``value * x`` of that key in the pooled summary (the recording's summary.json for a
single recording), so tests and tools can check the page against the files.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from html import escape
from pathlib import Path
from string import Template

from spasm_cv import __version__
from spasm_cv.events.params import DetectionParams
from spasm_cv.events.table import KINDS, Event
from spasm_cv.report import aggregate, plots, scales
from spasm_cv.report.aggregate import Period, RateRow, Treatment
from spasm_cv.report.recordings import Recording
from spasm_cv.signals.geometry import SIDES

DEFAULT_TITLE = "Hemifacial spasm: video measurement report"
MAX_OVERVIEWS = 3  # per-frame signal overviews shown (most recent recordings)
MAX_ZOOMS = 3
MAX_EPISODE_ROWS = 15
MAX_RECORDING_ROWS = 8
MAX_COMPARISON_ROWS = 5  # rows of the page-1 comparison table (the latest)
_TEMPLATE = Path(__file__).with_name("templates") / "report.html"


def render_report(
    recordings: Sequence[Recording],
    out_path: str | os.PathLike,
    title: str | None = None,
    treatments: Sequence[Treatment] = (),
    tz: tzinfo | None = None,
    generated: datetime | None = None,
) -> Path:
    """Write the HTML report over ``recordings`` to ``out_path``; returns the path.

    Parameters
    ----------
    recordings : one or more recordings (result folders or monitor sessions); recordings
        without ``signals`` get no signal plots, recordings without ``start`` are not placed
        on the time-of-day and per-day plots.
    title : page title (default :data:`DEFAULT_TITLE`), e.g. a patient code and visit.
    treatments : treatment dates to mark and to split recordings into before/after periods.
    tz : time zone for clock times (default: this computer's).
    generated : time stamp printed on the page (default: now).
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = build_html(recordings, title, treatments, tz, generated)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def build_html(
    recordings: Sequence[Recording],
    title: str | None = None,
    treatments: Sequence[Treatment] = (),
    tz: tzinfo | None = None,
    generated: datetime | None = None,
) -> str:
    """The report page as HTML text (see :func:`render_report`)."""
    if not recordings:
        raise ValueError("a report needs at least one recording")
    ctx = _Context(recordings, title or DEFAULT_TITLE, treatments, tz, generated)
    sheets = [_summary_sheet(ctx)]
    if any(r.signals is not None for r in ctx.recordings):
        sheets.append(_signals_sheet(ctx))
    sheets.append(_patterns_sheet(ctx))
    total = len(sheets)
    body = "\n".join(
        f'<section class="sheet" id="sheet-{i}">\n{_sheet_head(ctx, name, i, total)}\n{html}\n'
        "</section>"
        for i, (name, html) in enumerate(sheets, 1)
    )
    page = Template(_TEMPLATE.read_text(encoding="utf-8"))
    return page.substitute(title=escape(ctx.title), version=__version__, sheets=body)


class _Context:
    """What every section needs: recordings sorted by time, pooled numbers, time zone."""

    def __init__(self, recordings, title, treatments, tz, generated):
        self.tz = tz or aggregate.local_tz()
        self.recordings = sorted(recordings, key=_time_order)
        self.title = title
        self.treatments = sorted(
            (Treatment(t.when.astimezone(self.tz), t.label, t.day_only) for t in treatments),
            key=lambda t: t.effective,
        )
        self.generated = (generated or datetime.now(self.tz)).astimezone(self.tz)
        self.pooled = aggregate.pool(self.recordings)
        self.episodes = [(r, e) for r in self.recordings for e in aggregate.eye_episodes(r.events)]
        self.mouth_only = [
            (r, e) for r in self.recordings for e in aggregate.mouth_only_events(r.events)
        ]
        self.multi = len(self.recordings) > 1

    def clock(self, rec: Recording, seconds: float = 0.0, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if rec.start is None:
            return "time unknown"
        return (rec.start + timedelta(seconds=seconds)).astimezone(self.tz).strftime(fmt)


def _time_order(rec: Recording) -> tuple:
    """Sort key: dated recordings by start, then undated ones by name."""
    return (rec.start is None, rec.start.timestamp() if rec.start else 0.0, rec.name)


# ---------------------------------------------------------------------------- formatting


def _decimals(x: float) -> int:
    """Digits after the point for a rate or time: 3 significant digits, none for 0 or >= 100."""
    x = abs(x)
    return 0 if x >= 100 or x == 0 else 1 if x >= 10 else 2


def num(value: float | None, key: str, scale: float = 1.0, decimals: int | None = None) -> str:
    """A number tagged with the summary key it shows (``value * scale`` rounded)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '<span class="num na">n/a</span>'
    shown = value * scale
    d = _decimals(shown) if decimals is None else decimals
    return f'<span class="num" data-key="{key}" data-scale="{scale:.10g}">{shown:.{d}f}</span>'


def _duration(seconds: float, key: str | None = None) -> str:
    """Seconds as s / min / h with the unit; tagged with ``key`` when given."""
    if seconds < 120:
        scale, unit = 1.0, "s"
    elif seconds < 7200:
        scale, unit = 1 / 60, "min"
    else:
        scale, unit = 1 / 3600, "h"
    if key is None:
        v = seconds * scale
        return f"{v:.{_decimals(v) if unit != 's' else 1}f} {unit}"
    return f"{num(seconds, key, scale, None if unit != 's' else 1)} {unit}"


def _rate_cell(p: dict, key: str) -> str:
    if p["per_hour"] is None:
        return "n/a"
    lo, hi = p["ci95"]
    return (
        f"{num(p['per_hour'], key + '.per_hour')}/h"
        f'<span class="ci">({num(lo, key + ".ci95.0")}–{num(hi, key + ".ci95.1")}) · '
        f"n={num(p['count'], key + '.count', decimals=0)}</span>"
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _side_span(side: str | None) -> str:
    if side not in SIDES:
        return "—"
    return f'<span class="side-{side}">{side}</span>'


def _figure(name: str, fig, alt: str, caption: str = "") -> str:
    uri = plots.to_data_uri(fig)
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure class="plot" data-plot="{name}"><img alt="{escape(alt)}" src="{uri}">'
        f"{cap}</figure>"
    )


def _note(text: str, cls: str = "note") -> str:
    return f'<p class="{cls}">{text}</p>'


def _sheet_head(ctx: _Context, name: str, i: int, total: int) -> str:
    meta = f'<span class="meta">{escape(name)} · page {i} of {total}</span>'
    if i == 1:  # the page title is big on the first page
        return f'<header class="sheet-head first"><h1>{escape(ctx.title)}</h1>{meta}</header>'
    return (
        f'<header class="sheet-head"><span class="title">{escape(ctx.title)}</span>{meta}</header>'
    )


# ---------------------------------------------------------------------------- sheet 1


def _summary_sheet(ctx: _Context) -> tuple[str, str]:
    parts = [
        _header(ctx),
        _headline(ctx),
        _rate_table(ctx),
        _scales(ctx),
    ]
    if ctx.multi:
        parts.append(_comparison(ctx))
    parts.append(_methods(ctx))
    return "Summary", "\n".join(parts)


def _recording_span(ctx: _Context) -> str:
    recs = ctx.recordings
    if not ctx.multi:
        r = recs[0]
        return f"Recording <b>{escape(r.name)}</b>, {ctx.clock(r)}"
    dated = [r for r in recs if r.start is not None]
    span = ""
    if dated:
        first, last = ctx.clock(dated[0], fmt="%Y-%m-%d"), ctx.clock(dated[-1], fmt="%Y-%m-%d")
        span = f", {first}" + (f" to {last}" if last != first else "")
    return f"<b>{len(recs)} recordings</b>{span}"


def _header(ctx: _Context) -> str:
    p = ctx.pooled
    frac = p["observed_s"] / p["duration_s"] if p.get("duration_s") else None
    return (
        f'<p class="sub">{_recording_span(ctx)} · face observed {_duration(p["observed_s"])} of '
        f"{_duration(p['duration_s'] or 0.0)} recorded"
        + (f" ({100 * frac:.0f} %)" if frac is not None else "")
        + f" · generated {ctx.generated:%Y-%m-%d %H:%M} by spasm-cv {escape(__version__)}</p>"
    )


def _headline(ctx: _Context) -> str:
    p = ctx.pooled
    ep = p["episodes"]
    side = p["affected_side"]
    counts = {s: ep["by_side"][s]["count"] for s in SIDES}
    if side in SIDES:
        side_v = f'<span class="side-{side}" data-key="affected_side">{side.capitalize()}</span>'
        side_d = f"{counts[side]} of {ep['total']['count']} one-sided eye episodes"
        r = ep["by_side"][side]
        rate_key = f"episodes.by_side.{side}"
    else:
        side_v = (
            f'<span data-key="affected_side">{"undetermined" if ep["total"]["count"] else "none"}'
            "</span>"
        )
        side_d = (
            f"equal counts: {counts['right']} right, {counts['left']} left"
            if ep["total"]["count"]
            else "no one-sided eye episode"
        )
        r = ep["total"]
        rate_key = "episodes.total"
    lo, hi = r["ci95"]
    rate_v = (
        f"{num(r['per_hour'], rate_key + '.per_hour')} <small>/h</small>"
        if r["per_hour"] is not None
        else "n/a"
    )
    rate_d = (
        f"95 % CI {num(lo, rate_key + '.ci95.0')}–{num(hi, rate_key + '.ci95.1')}; "
        + (f"{side} side" if side in SIDES else "both sides")
        if r["per_hour"] is not None
        else ""
    )
    cf = p["closed_fraction"]
    obs = p["observed_s"]
    shut = p["shut_in_episodes_s"]
    closed_v = " · ".join(
        f'<span class="side-{s}">{s[0].upper()}</span> '
        + (num(cf[s], f"closed_fraction.{s}", 100, 1) + " %" if cf.get(s) is not None else "n/a")
        for s in SIDES
    )
    closed_d = (
        "eye closed (closure ≥ 0.5, blinks included); shut in one-sided episodes: "
        + ", ".join(f"{s[0].upper()} {_pct(shut[s] / obs if obs > 0 else None)}" for s in SIDES)
    )
    tonic = p["longest_tonic_s"]
    tonic_v = (
        f"{num(tonic, 'longest_tonic_s', decimals=1)} <small>s</small>"
        if tonic is not None
        else "none"
    )
    n_tonic = sum(ep["by_side_and_kind"][s]["tonic"]["count"] for s in SIDES)
    bpm = p["blinks"]["per_minute"]
    blink_v = (
        f"{num(bpm, 'blinks.per_minute', decimals=1)} <small>/min</small>"
        if bpm is not None
        else "n/a"
    )
    regions = _regions_text(ctx)
    cards = [
        ("Affected side", side_v, side_d, ""),
        ("Episodes per hour", rate_v, rate_d, ""),
        (
            "Observed face time",
            _duration(obs, "observed_s"),
            f"{p['n_recordings']} recording{'s' * ctx.multi}; rates use this time",
            "",
        ),
        (
            "Blink rate",
            blink_v,
            f"{p['blinks']['count']} blinks (both eyes closing ≤ {_param(ctx, 'blink_max_s')} s)",
            "",
        ),
        ("Eye closed, fraction of observed time", closed_v, closed_d, "wide"),
        (
            "Longest tonic contraction",
            tonic_v,
            f"{n_tonic} tonic episode{'s' * (n_tonic != 1)}",
            "",
        ),
        ("Regions involved", regions[0], regions[1], ""),
    ]
    html = ["<h2>Headline</h2>"]
    if ep["total"]["count"] == 0:
        html.append(
            _note(
                f"<b>No one-sided eye episode was detected</b> in {_duration(obs)} of observed "
                f"face time (95 % upper bound {_plain_upper(ep['total'])} per hour)."
                + _mouth_only_text(ctx)
            )
        )
    html.append('<div class="cards">')
    for k, v, d, cls in cards:
        html.append(
            f'<div class="card {cls}"><div class="k">{k}</div><div class="v">{v}</div>'
            f'<div class="d">{d}</div></div>'
        )
    html.append("</div>")
    return "\n".join(html)


def _plain_upper(r: dict) -> str:
    hi = r["ci95"][1]
    return "n/a" if hi is None else f"{hi:.{_decimals(hi)}f}"


def _mouth_only_text(ctx: _Context) -> str:
    n = len(ctx.mouth_only)
    return (
        f" {n} one-sided mouth-only event{'s' * (n != 1)} (not counted as episodes)." if n else ""
    )


def _regions_text(ctx: _Context) -> tuple[str, str]:
    p = ctx.pooled
    side = p["affected_side"]
    sides = (side,) if side in SIDES else SIDES
    n = sum(p["episodes"]["by_side"][s]["count"] for s in sides)
    reg = {k: sum(p["regions"][s][k] for s in sides) for k in ("eye", "eye+mouth", "brow_raised")}
    mouth_only = sum(p["mouth_only"][s]["count"] for s in sides)
    if n == 0 and mouth_only == 0:
        return "none", "no one-sided event"
    parts = ["eye"] if n else []
    if reg["eye+mouth"] or mouth_only:
        parts.append("mouth")
    if reg["brow_raised"]:
        parts.append("brow")
    detail = (
        f"of {n} eye episode{'s' * (n != 1)}: {reg['eye+mouth']} with mouth corner, "
        f"{reg['brow_raised']} with brow raised; {mouth_only} mouth-only"
    )
    return " + ".join(parts), detail


def _rate_table(ctx: _Context) -> str:
    ep = ctx.pooled["episodes"]
    head = "".join(f"<th>{k}</th>" for k in KINDS)
    rows = []
    for side in SIDES:
        key = f"episodes.by_side_and_kind.{side}"
        cells = [_rate_cell(ep["by_side"][side], f"episodes.by_side.{side}")]
        cells += [_rate_cell(ep["by_side_and_kind"][side][k], f"{key}.{k}") for k in KINDS]
        rows.append((f'<span class="side-{side}">{side.capitalize()}</span>', cells))
    cells = [_rate_cell(ep["total"], "episodes.total")]
    cells += [_rate_cell(ep["by_kind"][k], f"episodes.by_kind.{k}") for k in KINDS]
    rows.append(("Both sides", cells))
    body = "".join(
        f"<tr><td>{label}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        for label, cells in rows
    )
    mo = ctx.pooled["mouth_only"]
    mouth = ", ".join(f"{s} n={mo[s]['count']}" for s in SIDES)
    return (
        "<h2>One-sided eye episodes per hour of observed time (95 % CI)</h2>"
        f'<table class="rates"><tr><th>Side</th><th>all episodes</th>{head}</tr>{body}</table>'
        f'<p class="sub">twitch: single contraction; clonic: train of contractions; tonic: held '
        f"≥ {_param(ctx, 'tonic_min_s')} s. Mouth-only one-sided events (not counted): {mouth}.</p>"
    )


def _param(ctx: _Context, name: str):
    value = ctx.recordings[0].summary.get("params", {}).get(name)
    return "?" if value is None else f"{value:g}"


def _scales(ctx: _Context) -> str:
    html = [
        "<h2>Suggested clinical grades (measurement-based, to be confirmed by the clinician)</h2>"
    ]
    html.append('<div class="scales">')
    for s in scales.suggest(ctx.pooled):
        grade = "—" if s.grade is None else s.grade
        html.append(
            f'<div class="scale" data-scale-name="{escape(s.scale)}"><div>{escape(s.scale)}</div>'
            f'<div class="grade" data-grade="{escape(grade)}">{escape(grade)} '
            f"<small>({escape(s.meaning)})</small></div>"
            f"<div>{escape(s.evidence)}</div>"
            f'<div class="rule"><b>Rule:</b> {escape(s.rule)}</div>'
            + (f'<div class="caveat"><b>Caveat:</b> {escape(s.caveat)}</div>' if s.caveat else "")
            + "</div>"
        )
    html.append("</div>")
    return "\n".join(html)


def _comparison(ctx: _Context) -> str:
    side = ctx.pooled["affected_side"]
    ref = side if side in SIDES else "total"
    ref_name = f"{side} side" if side in SIDES else "both sides"
    if ctx.treatments:
        rows = _period_rows(ctx, aggregate.periods(ctx.recordings, ctx.treatments), ref)
        heading = "Before and after treatment"
        if len(rows) > MAX_COMPARISON_ROWS:
            heading += f" (last {MAX_COMPARISON_ROWS} of {len(rows)} periods)"
            rows = rows[-MAX_COMPARISON_ROWS:]
        first_col = "Period"
    else:
        days = aggregate.by_day(ctx.recordings, ctx.tz)
        rows = _day_rows(days, ref)[-MAX_COMPARISON_ROWS:]
        shown = days[-MAX_COMPARISON_ROWS:]
        heading = "Comparison across days"
        if len(days) > len(shown):
            heading += f" (last {len(shown)} of {len(days)} days)"
        first_col = "Day"
    html = [
        f"<h2>{heading}</h2>",
        f'<table class="comparison small"><tr><th>{first_col}</th><th class="l">Dates</th>'
        "<th>Rec.</th><th>Observed</th><th>Right /h (95 % CI), n</th>"
        "<th>Left /h (95 % CI), n</th>"
        f"<th>Rate ratio vs previous, {ref_name} (95 % CI)</th></tr>",
        *rows,
        "</table>",
    ]
    undated = [r for r in ctx.recordings if r.start is None]
    if undated:
        html.append(
            _note(f"{len(undated)} recording(s) without a recording time are left out here.", "sub")
        )
    if len(aggregate.by_day(ctx.recordings, ctx.tz)) >= 2:
        page = 3 if any(r.signals is not None for r in ctx.recordings) else 2
        html.append(f'<p class="sub">Rates per day with the treatment dates: page {page}.</p>')
    return "\n".join(html)


def _ratio_text(cur: RateRow | None, prev: RateRow | None, ref: str) -> str:
    if cur is None or prev is None:
        return "—"
    rr = aggregate.rate_ratio(
        cur.rate(ref)["count"], cur.observed_s, prev.rate(ref)["count"], prev.observed_s
    )
    if rr is None:
        return "n/a (no episodes)"
    est, lo, hi = rr

    def f(x: float) -> str:
        return "∞" if math.isinf(x) else f"{x:.2f}"

    return f"×{f(est)} ({f(lo)}–{f(hi)})"


def _period_rows(ctx: _Context, periods: list[Period], ref: str) -> list[str]:
    rows, prev = [], None
    for p in periods:
        row = _pool_row(p.recordings, ctx)
        dates = "—"
        if p.recordings:
            d0 = ctx.clock(p.recordings[0], fmt="%Y-%m-%d")
            d1 = ctx.clock(p.recordings[-1], fmt="%Y-%m-%d")
            dates = d0 if d0 == d1 else f"{d0} – {d1}"
            if p.after is not None:
                days = sorted(
                    (r.start.astimezone(ctx.tz).date() - p.after.day).days for r in p.recordings
                )
                dates += f" (day {days[0]}" + (f"–{days[-1]}" if days[-1] != days[0] else "")
                dates += " after)"
        rows.append(_table_row(escape(p.label), dates, len(p.recordings), row, prev, ref))
        if row is not None:
            prev = row
    return rows


def _day_rows(days: list[RateRow], ref: str) -> list[str]:
    rows, prev = [], None
    for d in days:
        rows.append(_table_row(d.key.isoformat(), d.key.strftime("%a"), "", d, prev, ref))
        prev = d
    return rows


def _pool_row(recordings: list[Recording], ctx: _Context) -> RateRow | None:
    if not recordings:
        return None
    obs = sum(r.summary["observed_s"] for r in recordings)
    counts = {
        s: sum(r.summary["episodes"]["by_side"][s]["count"] for r in recordings) for s in SIDES
    }
    return RateRow(None, obs, counts)


def _table_row(label, dates, n_rec, row: RateRow | None, prev, ref) -> str:
    if row is None:
        cells = '<td colspan="4" class="l">no recordings</td>'
        return f"<tr><td>{label}</td><td class='l'>{dates}</td>{cells}<td>—</td></tr>"
    cells = "".join(
        f"<td class='nw'>{_short_rate(row.rate(s))}, {row.counts[s]}</td>" for s in SIDES
    )
    return (
        f"<tr><td>{label}</td><td class='l'>{dates}</td><td>{n_rec}</td>"
        f"<td>{_duration(row.observed_s)}</td>{cells}<td>{_ratio_text(row, prev, ref)}</td></tr>"
    )


METHODS = (
    "<b>Methods.</b> Face landmarks and blendshapes were tracked in every video frame with the "
    "MediaPipe Face Landmarker ({models}; sha256 {sha}…) by spasm-cv {versions} ({sources}). "
    "Each eye's closure was 1 − aperture / own open-eye baseline (the "
    "{baseline_quantile} quantile of its aperture over the preceding {baseline_window_s} s). A "
    "one-sided contraction needed closure ≥ {closure_on} (ending below {closure_off}) that "
    "exceeded the other eye's by ≥ {min_asymmetry} while the other stayed below "
    "{other_open_ratio} of it, for ≥ {min_unilateral_s} s; contractions less than {merge_gap_s} s "
    "apart formed one episode (twitch: one contraction; clonic: a train; tonic: held ≥ "
    "{tonic_min_s} s). Both eyes closing together for ≤ {blink_max_s} s were blinks. A "
    "mouth-corner co-contraction was a same-side pull ≥ {mouth_on} inter-ocular distances more "
    "than the other side's; the brow counted as raised at ≥ {brow_on}. Frames with head yaw > "
    "{max_yaw_deg}° or pitch > {max_pitch_deg}°, or without a face, were not observed. Rates are "
    "per hour of observed time (both sides measurable; {observed} in {n_recordings}) with exact "
    "Poisson (Garwood) 95 % intervals; rate ratios use the exact conditional binomial interval. "
    "Eye-closed time is closure ≥ 0.5. Clock times are local ({tz}); recording times come from "
    "summary.json (given at analysis, else guessed from the file's time)."
)
SOURCES = {"analyze": "recorded videos", "monitor": "live monitoring sessions"}
DISCLAIMER = (
    "Grades above are suggestions computed from video measurements with the rules shown; they "
    "are not a diagnosis. A detector cannot always tell a voluntary wink or one-sided smile from "
    "a spasm: review the episodes (close-ups, ELAN export) before relying on them."
)


def _methods(ctx: _Context) -> str:
    first = ctx.recordings[0].summary
    params = first.get("params", {})
    values = {k: "?" if v is None else f"{v:g}" for k, v in params.items()}
    for k in DetectionParams.__dataclass_fields__:
        values.setdefault(k, "?")
    n = len(ctx.recordings)
    values.update(
        models=", ".join(
            sorted({r.summary.get("model", {}).get("name", "?") for r in ctx.recordings})
        ),
        sha=str(first.get("model", {}).get("sha256", "?"))[:12],
        versions=", ".join(
            sorted({r.summary.get("software", {}).get("version", "?") for r in ctx.recordings})
        ),
        sources=", ".join(sorted({SOURCES.get(r.source, r.source) for r in ctx.recordings})),
        observed=_duration(ctx.pooled["observed_s"]),
        n_recordings=f"{n} recording{'s' * (n != 1)}",
        tz=_tz_name(ctx),
    )
    text = METHODS.format(**{k: escape(v) for k, v in values.items()})
    if any(r.summary.get("params") != params for r in ctx.recordings):
        text += (
            " <b>Detection parameters differed between recordings;</b> the values above are "
            "those of the first."
        )
    return f'<h2>Methods</h2><p class="methods">{text} {DISCLAIMER}</p>'


def _tz_name(ctx: _Context) -> str:
    return ctx.generated.tzname() or str(ctx.tz)


# ---------------------------------------------------------------------------- sheet 2


def _signals_sheet(ctx: _Context) -> tuple[str, str]:
    with_signals = [r for r in ctx.recordings if r.signals is not None]
    shown = with_signals[-MAX_OVERVIEWS:]
    html = ["<h2>Eyelid and mouth signals per side, episodes shaded</h2>"]
    if len(with_signals) > len(shown):
        html.append(
            _note(
                f"Overviews of the {len(shown)} most recent of {len(with_signals)} recordings "
                "with per-frame signals; report a recording alone to see its own.",
                "sub",
            )
        )
    height = 2.6 if len(shown) == 1 else 1.7
    for i, rec in enumerate(shown, 1):
        n = len(aggregate.eye_episodes(rec.events))
        caption = (
            f"{n} one-sided eye episode{'s' * (n != 1)} shaded (orange: right, blue: left; "
            "lighter, mouth panel only: mouth-only events)."
            if n
            else "No one-sided episode was detected in this recording: nothing is shaded."
        )
        html.append(
            _figure(
                f"overview-{i}",
                plots.plot_signal_overview(rec.signals, rec.events, height_in=height),
                f"signals of {rec.name}",
                f"<b>{escape(rec.name)}</b>, {ctx.clock(rec)}: {caption}",
            )
        )
    zooms = typical_episodes(ctx, with_signals)
    html.append("<h2>Close-up of typical episodes</h2>")
    if zooms:
        html.append(
            _figure(
                "zoom",
                plots.plot_episode_zooms(zooms),
                "close-ups of typical episodes",
                "Per kind, the episode of median duration (affected side first). Shaded: this "
                "episode in its side's colour, other episodes lighter, blinks and two-sided "
                "closures grey.",
            )
        )
    else:
        html.append(
            _note(
                "No one-sided eye episode in recordings with per-frame signals: "
                "no close-up to show."
            )
        )
    return "Signals", "\n".join(html)


def typical_episodes(ctx: _Context, recordings: Sequence[Recording]) -> list[plots.Zoom]:
    """Up to ``MAX_ZOOMS`` episodes to show: per kind, the one of median duration.

    Kinds are taken in order of frequency, then further examples (next closest to the
    median) from the most frequent kinds; the affected side is preferred.
    """
    side = ctx.pooled["affected_side"]
    by_kind: dict[str, list[tuple[Recording, Event]]] = {}
    for r in recordings:
        for e in aggregate.eye_episodes(r.events):
            by_kind.setdefault(e.kind or "twitch", []).append((r, e))
    ranked = {}
    for kind, items in by_kind.items():
        preferred = [x for x in items if x[1].side == side] or items
        med = statistics.median(e.duration for _, e in preferred)
        ranked[kind] = sorted(preferred, key=lambda x: (abs(x[1].duration - med), x[1].onset))
    order = sorted(ranked, key=lambda k: -len(ranked[k]))
    picks: list[tuple[Recording, Event]] = []
    depth = 0
    while len(picks) < MAX_ZOOMS and any(depth < len(ranked[k]) for k in order):
        for k in order:
            if depth < len(ranked[k]) and len(picks) < MAX_ZOOMS:
                picks.append(ranked[k][depth])
        depth += 1
    picks.sort(key=lambda x: (_time_order(x[0]), x[1].onset))
    return [
        plots.Zoom(
            r.signals,
            r.events,
            e,
            f"{e.kind or 'episode'}, {e.side}, {e.duration:.1f} s, {e.regions}\n"
            + (f"{r.name[:28]} " if ctx.multi else "")
            + f"at {_mmss(e.onset)}",
        )
        for r, e in picks
    ]


def _mmss(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


# ---------------------------------------------------------------------------- sheet 3


def _patterns_sheet(ctx: _Context) -> tuple[str, str]:
    html = ["<h2>When and how long</h2>"]
    days = aggregate.by_day(ctx.recordings, ctx.tz)
    hours = aggregate.by_hour_of_day(ctx.recordings, ctx.tz)
    if not ctx.episodes:
        html.append(
            _note(
                f"No one-sided eye episode: 0 per hour in each of the {len(hours)} observed "
                f"hour(s) of the day"
                + (f" and on each of the {len(days)} days" if ctx.multi else "")
                + ", and no duration to show."
            )
        )
    else:
        if ctx.multi and len(days) >= 2:
            html.append(
                _figure(
                    "daily",
                    plots.plot_daily_rates(days, ctx.treatments),
                    "episodes per hour per day",
                    "One point per day and side (orange: right, blue: left); whiskers: 95 % CI; "
                    "dashed: treatments (a date without a time counts that day as before).",
                )
            )
        pair = []
        if hours:
            pair.append(
                _figure(
                    "time-of-day",
                    plots.plot_rate_by_hour_of_day(hours),
                    "episodes per hour by time of day",
                    f"By local hour ({escape(_tz_name(ctx))}), pooled over days; orange: right, "
                    "blue: left; grey: hours not observed; below: minutes observed.",
                )
            )
        else:
            html.append(_note("No recording time is known: no time-of-day plot.", "sub"))
        pair.append(
            _figure(
                "durations",
                plots.plot_durations([e for _, e in ctx.episodes], _tonic_min(ctx)),
                "distribution of episode durations",
                "One-sided eye episodes, stacked by side (orange: right, blue: left).",
            )
        )
        html.append(f'<div class="row2">{"".join(pair)}</div>')
    html.append(_recordings_table(ctx))
    html.append(_episode_table(ctx))
    return "Patterns and tables", "\n".join(html)


def _tonic_min(ctx: _Context) -> float | None:
    return ctx.recordings[0].summary.get("params", {}).get("tonic_min_s")


def _short_rate(p: dict) -> str:
    """``12.3 (8.1–17.9)``: a rate per hour and its 95 % interval on one line."""
    if p["per_hour"] is None:
        return "n/a"
    x, (lo, hi) = p["per_hour"], p["ci95"]
    return f"{x:.{_decimals(x)}f} ({lo:.{_decimals(lo)}f}–{hi:.{_decimals(hi)}f})"


def _recordings_table(ctx: _Context) -> str:
    rows = []
    shown = ctx.recordings[-MAX_RECORDING_ROWS:]
    for r in shown:
        s = r.summary
        ep = s["episodes"]["by_side"]
        cf = s.get("closed_fraction", {})
        bpm = s["blinks"]["per_minute"]
        tonic = s.get("longest_tonic_s")
        rows.append(
            f"<tr><td class='name'>{escape(r.name)}</td><td>{ctx.clock(r)}</td>"
            f"<td>{_duration(s['observed_s'])}</td>"
            f"<td>{ep['right']['count']} / {ep['left']['count']}</td>"
            + "".join(f"<td>{_short_rate(ep[side])}</td>" for side in SIDES)
            + f"<td>{'n/a' if bpm is None else f'{bpm:.1f}'}</td>"
            + f"<td>{_pct(cf.get('right'))} / {_pct(cf.get('left'))}</td>"
            + f"<td>{'—' if tonic is None else f'{tonic:.1f} s'}</td></tr>"
        )
    return (
        "<h2>Recordings</h2>"
        '<table class="recordings small nowrap"><tr><th>Recording</th><th>Start</th>'
        "<th>Observed</th><th>Episodes R / L</th><th>Right /h (95 % CI)</th>"
        "<th>Left /h (95 % CI)</th><th>Blinks /min</th><th>Eye closed R / L</th>"
        "<th>Longest tonic</th></tr>"
        + "".join(rows)
        + "</table>"
        + (
            f'<p class="sub">{len(ctx.recordings) - len(shown)} earlier recordings not listed '
            "(all in <code>spasm-cv export --format csv</code>).</p>"
            if len(shown) < len(ctx.recordings)
            else ""
        )
    )


def _episode_table(ctx: _Context) -> str:
    items = sorted(
        ctx.episodes + ctx.mouth_only,
        key=lambda x: (_time_order(x[0]), x[1].onset),
    )
    if not items:
        return "<h2>Episodes</h2>" + _note("No one-sided event to list.", "sub")
    limit = MAX_EPISODE_ROWS - (5 if ctx.multi else 0)  # the per-day plot needs room
    # one recording: its first events; several: the latest (the current state)
    shown = items[:limit] if not ctx.multi else items[-limit:]
    yes = {True: "yes", False: "no", None: "n/a"}
    rows = []
    for r, e in shown:
        when = ctx.clock(r, e.onset, "%Y-%m-%d %H:%M:%S") if r.start else escape(r.name[:20])
        rows.append(
            f"<tr><td class='l'>{when}</td><td>{_mmss(e.onset)}</td><td>{_side_span(e.side)}</td>"
            f"<td class='l'>{e.kind or '—'}</td><td class='l'>{e.regions}</td>"
            f"<td>{e.duration:.2f}</td><td>{e.closure_duration:.2f}</td>"
            f"<td>{e.peak_closure:.2f}</td><td>{e.n_contractions}</td>"
            f"<td>{yes[e.brow_raised]}</td><td>{e.confidence:.2f}</td></tr>"
        )
    more = (
        f'<p class="sub">{len(items) - len(shown)} {"later" if not ctx.multi else "earlier"} '
        "events not listed (all in <code>spasm-cv export --format csv</code>).</p>"
        if len(items) > len(shown)
        else ""
    )
    return (
        f"<h2>One-sided events ({len(items)})</h2>"
        '<table class="episodes small"><tr><th class="l">Clock time</th>'
        "<th>From start</th><th>Side</th><th class='l'>Kind</th><th class='l'>Regions</th>"
        "<th>Duration s</th><th>Eye shut s</th><th>Peak closure</th><th>Contr.</th>"
        "<th>Brow raised</th><th>Confidence</th></tr>" + "".join(rows) + "</table>" + more
    )
