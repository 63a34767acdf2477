"""Sheet 1, comparison across recordings: before/after treatments, or day by day, with rate
ratios against the previous row."""

from __future__ import annotations

import math

from spasm_cv._html import Markup, html, join
from spasm_cv.events.table import SIDES
from spasm_cv.report import aggregate
from spasm_cv.report.aggregate import Period, RateRow
from spasm_cv.report.html.context import MAX_COMPARISON_ROWS, Context
from spasm_cv.report.html.format import duration, note, short_rate
from spasm_cv.results.observation import INSUFFICIENT, ObservationThresholds
from spasm_cv.results.pooled import pool
from spasm_cv.results.rates import rate_ratio
from spasm_cv.results.recording import Recording


def comparison(ctx: Context) -> Markup:
    """Sheet 1's comparison table: periods between treatments, else days."""
    side = ctx.pooled.affected_side
    ref = side if side in SIDES else "total"
    ref_name = f"{side} side" if side in SIDES else "both sides"
    t = ctx.thresholds
    if ctx.treatments:
        rows = _period_rows(ctx, aggregate.periods(ctx.recordings, ctx.treatments), ref)
        heading = "Before and after treatment"
        if len(rows) > MAX_COMPARISON_ROWS:
            heading += f" (last {MAX_COMPARISON_ROWS} of {len(rows)} periods)"
            rows = rows[-MAX_COMPARISON_ROWS:]
        first_col = "Period"
    else:
        days = aggregate.by_day(ctx.recordings, ctx.tz)
        rows = _day_rows(days, ref, t)[-MAX_COMPARISON_ROWS:]
        shown = days[-MAX_COMPARISON_ROWS:]
        heading = "Comparison across days"
        if len(days) > len(shown):
            heading += f" (last {len(shown)} of {len(days)} days)"
        first_col = "Day"
    parts = [
        html("<h2>{}</h2>", heading),
        *_guessed_dates_warning(ctx),
        html(
            '<table class="comparison small"><tr><th>{}</th><th class="l">Dates</th>'
            "<th>Rec.</th><th>Observed</th><th>Right /h (95 % CI), n</th>"
            "<th>Left /h (95 % CI), n</th>"
            "<th>Rate ratio vs previous, {} (95 % CI)</th></tr>",
            first_col,
            ref_name,
        ),
        *rows,
        Markup("</table>"),
    ]

    undated = [r for r in ctx.recordings if r.start is None]
    if undated:
        parts.append(
            note(f"{len(undated)} recording(s) without a recording time are left out here.", "sub")
        )
    if len(aggregate.by_day(ctx.recordings, ctx.tz)) >= 2:
        page = 3 if any(r.track is not None for r in ctx.recordings) else 2
        parts.append(
            html('<p class="sub">Rates per day with the treatment dates: page {}.</p>', page)
        )
    return join(parts, "\n")


def _guessed_dates_warning(ctx: Context) -> list[Markup]:
    """A warning when the comparison rests on dates guessed from files' modification times."""
    guessed = ctx.guessed_dates
    if not guessed:
        return []
    names = ", ".join(r.name for r in guessed[:3]) + (", …" if len(guessed) > 3 else "")
    what = "before/after split" if ctx.treatments else "day-by-day comparison"
    return [
        note(
            html(
                "<b>Dates guessed:</b> the recording time of {} of {} recordings ({}) comes "
                "from the file's modification time, which copying changes; the {} below may be "
                "wrong. Give the time at analysis (<code>spasm-cv analyze --recorded-at</code>) "
                "or keep the video's creation time (original files from the phone or camera).",
                len(guessed),
                len(ctx.recordings),
                names,
                what,
            ),
            "note warn",
        )
    ]


def _ratio_text(
    cur: RateRow | None, prev: RateRow | None, ref: str, t: ObservationThresholds
) -> str:
    if cur is None or prev is None:
        return "—"
    if t.rates_insufficient(cur.observed_s) or t.rates_insufficient(prev.observed_s):
        return f"n/a ({INSUFFICIENT})"
    rr = rate_ratio(cur.rate(ref).count, cur.observed_s, prev.rate(ref).count, prev.observed_s)
    if rr is None:
        return "n/a (no episodes)"
    est, lo, hi = rr

    def f(x: float) -> str:
        return "∞" if math.isinf(x) else f"{x:.2f}"

    return f"×{f(est)} ({f(lo)}–{f(hi)})"


def _period_rows(ctx: Context, periods: list[Period], ref: str) -> list[Markup]:
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
        rows.append(_table_row(p.label, dates, len(p.recordings), row, prev, ref, ctx.thresholds))
        if row is not None:
            prev = row
    return rows


def _day_rows(days: list[RateRow], ref: str, t: ObservationThresholds) -> list[Markup]:
    rows, prev = [], None
    for d in days:
        rows.append(_table_row(d.key.isoformat(), d.key.strftime("%a"), "", d, prev, ref, t))
        prev = d
    return rows


def _pool_row(recordings: list[Recording], ctx: Context) -> RateRow | None:
    if not recordings:
        return None
    pooled = pool([r.summary for r in recordings])
    return RateRow(None, pooled.observed_s, pooled.episodes.counts())


def _table_row(
    label, dates, n_rec, row: RateRow | None, prev, ref, t: ObservationThresholds
) -> Markup:
    if row is None:
        return html(
            '<tr><td>{}</td><td class=\'l\'>{}</td><td colspan="4" class="l">no recordings'
            "</td><td>—</td></tr>",
            label,
            dates,
        )
    short = t.rates_insufficient(row.observed_s)
    cells = join(
        html("<td class='nw'>{}, {}</td>", short_rate(row.rate(s), short), row.counts[s])
        for s in SIDES
    )
    return html(
        "<tr><td>{}</td><td class='l'>{}</td><td>{}</td><td>{}</td>{}<td>{}</td></tr>",
        label,
        dates,
        n_rec,
        duration(row.observed_s),
        cells,
        _ratio_text(row, prev, ref, t),
    )
