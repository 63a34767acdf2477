"""Sheet 3 of the report: when and how long (per-day and time-of-day rates, durations), the
recordings table and the list of one-sided events."""

from __future__ import annotations

from spasm_cv._html import Markup, html, join
from spasm_cv.events.table import SIDES
from spasm_cv.report import aggregate, plots
from spasm_cv.report.html.context import (
    MAX_EPISODE_ROWS,
    MAX_RECORDING_ROWS,
    Context,
    partial_text,
    time_order,
    tz_name,
)
from spasm_cv.report.html.format import duration, figure, mmss, note, pct, short_rate, side_span
from spasm_cv.results.observation import INSUFFICIENT, time_words


def patterns_sheet(ctx: Context) -> tuple[str, Markup]:
    """Sheet 3 (its name and HTML)."""
    parts = [Markup("<h2>When and how long</h2>")]
    days = aggregate.by_day(ctx.recordings, ctx.tz)
    hours = aggregate.by_hour_of_day(ctx.recordings, ctx.tz)
    min_s = ctx.thresholds.rate_min_observed_s
    short_note = (
        f"Hatched bars and hollow points: less than {time_words(min_s)} observed, "
        f"{INSUFFICIENT} for a rate (they do not set the scale); ▲: a value off the scale, "
        "with the value; whiskers reaching the top continue beyond it."
    )
    if not ctx.episodes:
        parts.append(
            note(
                f"No one-sided eye episode in any of the {len(hours)} observed hour(s) of the "
                "day"
                + (f" or on any of the {len(days)} days" if ctx.multi else "")
                + ", and no duration to show."
            )
        )
    else:
        if ctx.multi and len(days) >= 2:
            parts.append(
                figure(
                    "daily",
                    plots.plot_daily_rates(days, ctx.treatments, min_observed_s=min_s),
                    "episodes per hour per day",
                    "One point per day and side (orange: right, blue: left); whiskers: 95 % CI; "
                    "dashed: treatments (a date without a time counts that day as before). "
                    + short_note
                    + ctx.counted_note(),
                )
            )
        pair = []
        if hours:
            pair.append(
                figure(
                    "time-of-day",
                    plots.plot_rate_by_hour_of_day(hours, min_observed_s=min_s),
                    "episodes per hour by time of day",
                    f"By local hour ({tz_name(ctx)}), pooled over days; orange: right, "
                    "blue: left; grey: hours not observed; below: minutes observed. "
                    + short_note
                    + ctx.counted_note(),
                )
            )
        else:
            parts.append(note("No recording time is known: no time-of-day plot.", "sub"))
        pair.append(
            figure(
                "durations",
                plots.plot_durations([e for _, e in ctx.episodes], _tonic_min(ctx)),
                "distribution of episode durations",
                "One-sided eye episodes, stacked by side (orange: right, blue: left)."
                + ctx.counted_note(),
            )
        )
        parts.append(html('<div class="row2">{}</div>', join(pair)))
    parts.append(_recordings_table(ctx))
    parts.append(_episode_table(ctx))
    return "Patterns and tables", join(parts, "\n")


def _tonic_min(ctx: Context) -> float | None:
    return ctx.recordings[0].summary.params.get("tonic_min_s")


def _recordings_table(ctx: Context) -> Markup:
    rows = []
    shown = ctx.recordings[-MAX_RECORDING_ROWS:]
    n_short = n_guessed = 0
    for r in shown:
        s = r.summary
        ep = s.episodes.by_side
        cf = s.closed_fraction or {}
        bpm = s.blinks.per_minute
        tonic = s.longest_tonic_s
        short = ctx.is_short(r)
        n_short += short
        n_guessed += r.start is not None and s.recorded_at_guessed
        tag = Markup(' <span class="tag short" data-short="1">short</span>') if short else ""
        why = partial_text(r)
        flag = html('<br><small class="partial">{}</small>', why) if why else ""
        rates = join(html("<td>{}</td>", "—" if short else short_rate(ep[side])) for side in SIDES)
        blinks = "n/a" if bpm is None else "—" if short else f"{bpm:.1f}"
        rows.append(
            html(
                "<tr{}><td class='name'>{}{}{}</td><td>{}</td><td{}>{}</td><td>{} / {}</td>{}"
                "<td>{}</td><td>{} / {}</td><td>{}</td></tr>",
                Markup(" data-short=1") if short else "",
                r.name,
                tag,
                flag,
                ctx.start_cell(r),
                Markup(" class='short'") if short else "",
                duration(s.observed_s),
                ep["right"].count,
                ep["left"].count,
                rates,
                blinks,
                pct(cf.get("right")),
                pct(cf.get("left")),
                "—" if tonic is None else f"{tonic:.1f} s",
            )
        )
    notes = []
    if n_short:
        notes.append(
            html(
                '<p class="sub"><span class="tag short">short</span>: less than {} of face '
                "observed; the recording's rates are not shown ({}), only its counts.</p>",
                time_words(ctx.thresholds.rate_min_observed_s),
                INSUFFICIENT,
            )
        )
    if n_guessed:
        notes.append(
            Markup(
                '<p class="sub">≈: recording time guessed from the file\'s modification time '
                "(a copy changes it).</p>"
            )
        )
    if len(shown) < len(ctx.recordings):
        notes.append(
            html(
                '<p class="sub">{} earlier recordings not listed (all in <code>spasm-cv export '
                "--format csv</code>).</p>",
                len(ctx.recordings) - len(shown),
            )
        )
    return html(
        "<h2>Recordings</h2>"
        '<table class="recordings small nowrap"><tr><th>Recording</th><th>Start</th>'
        "<th>Observed</th><th>Episodes R / L</th><th>Right /h (95 % CI)</th>"
        "<th>Left /h (95 % CI)</th><th>Blinks /min</th><th>Eye closed R / L</th>"
        "<th>Longest tonic</th></tr>{}</table>{}",
        join(rows),
        join(notes),
    )


def _episode_table(ctx: Context) -> Markup:
    items = sorted(
        ctx.episodes + ctx.mouth_only,
        key=lambda x: (time_order(x[0]), x[1].onset),
    )
    if not items:
        return Markup("<h2>Episodes</h2>") + note("No one-sided event to list.", "sub")
    limit = MAX_EPISODE_ROWS - (5 if ctx.multi else 0)  # the per-day plot needs room
    # one recording: its first events; several: the latest (the current state)
    shown = items[:limit] if not ctx.multi else items[-limit:]
    yes = {True: "yes", False: "no", None: "n/a"}
    rows = []
    for r, e in shown:
        when = ctx.clock(r, e.onset, "%Y-%m-%d %H:%M:%S") if r.start else r.name[:20]
        rows.append(
            html(
                "<tr><td class='l'>{}</td><td>{}</td><td>{}</td><td class='l'>{}</td>"
                "<td class='l'>{}</td><td>{:.2f}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td>"
                "<td>{}</td><td>{:.2f}</td></tr>",
                when,
                mmss(e.onset),
                side_span(e.side),
                e.kind or "—",
                e.regions,
                e.duration,
                e.closure_duration,
                e.peak_closure,
                e.n_contractions,
                yes.get(e.brow_raised, "n/a"),
                e.confidence,
            )
        )
    more = (
        html(
            '<p class="sub">{} {} events not listed (all in <code>spasm-cv export --format '
            "csv</code>).</p>",
            len(items) - len(shown),
            "later" if not ctx.multi else "earlier",
        )
        if len(items) > len(shown)
        else ""
    )
    return html(
        "<h2>One-sided events ({})</h2>"
        '<table class="episodes small"><tr><th class="l">Clock time</th>'
        "<th>From start</th><th>Side</th><th class='l'>Kind</th><th class='l'>Regions</th>"
        "<th>Duration s</th><th>Eye shut s</th><th>Peak closure</th><th>Contr.</th>"
        "<th>Brow raised</th><th>Confidence</th></tr>{}</table>{}",
        len(items),
        join(rows),
        more,
    )
