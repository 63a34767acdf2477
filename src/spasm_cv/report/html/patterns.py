"""Sheet 3 of the report: when and how long (per-day and time-of-day rates, durations), the
recordings table and the list of one-sided events."""

from __future__ import annotations

from html import escape

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


def patterns_sheet(ctx: Context) -> tuple[str, str]:
    """Sheet 3 (its name and HTML)."""
    html = ["<h2>When and how long</h2>"]
    days = aggregate.by_day(ctx.recordings, ctx.tz)
    hours = aggregate.by_hour_of_day(ctx.recordings, ctx.tz)
    min_s = ctx.thresholds.rate_min_observed_s
    short_note = (
        f"Hatched bars and hollow points: less than {time_words(min_s)} observed, "
        f"{INSUFFICIENT} for a rate (they do not set the scale); ▲: a value off the scale, "
        "with the value; whiskers reaching the top continue beyond it."
    )
    if not ctx.episodes:
        html.append(
            note(
                f"No one-sided eye episode in any of the {len(hours)} observed hour(s) of the "
                "day" + (f" or on any of the {len(days)} days" if ctx.multi else "")
                + ", and no duration to show."
            )
        )
    else:
        if ctx.multi and len(days) >= 2:
            html.append(
                figure(
                    "daily",
                    plots.plot_daily_rates(days, ctx.treatments, min_observed_s=min_s),
                    "episodes per hour per day",
                    "One point per day and side (orange: right, blue: left); whiskers: 95 % CI; "
                    "dashed: treatments (a date without a time counts that day as before). "
                    + short_note,
                )
            )
        pair = []
        if hours:
            pair.append(
                figure(
                    "time-of-day",
                    plots.plot_rate_by_hour_of_day(hours, min_observed_s=min_s),
                    "episodes per hour by time of day",
                    f"By local hour ({escape(tz_name(ctx))}), pooled over days; orange: right, "
                    "blue: left; grey: hours not observed; below: minutes observed. "
                    + short_note,
                )
            )
        else:
            html.append(note("No recording time is known: no time-of-day plot.", "sub"))
        pair.append(
            figure(
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


def _tonic_min(ctx: Context) -> float | None:
    return ctx.recordings[0].summary.params.get("tonic_min_s")


def _recordings_table(ctx: Context) -> str:
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
        tag = ' <span class="tag short" data-short="1">short</span>' if short else ""
        obs_cls = " class='short'" if short else ""
        why = partial_text(r)
        flag = f'<br><small class="partial">{escape(why)}</small>' if why else ""
        rows.append(
            f"<tr{' data-short=1' if short else ''}><td class='name'>{escape(r.name)}{tag}"
            f"{flag}</td><td>{ctx.start_cell(r)}</td>"
            f"<td{obs_cls}>{duration(s.observed_s)}</td>"
            f"<td>{ep['right'].count} / {ep['left'].count}</td>"
            + "".join(f"<td>{'—' if short else short_rate(ep[side])}</td>" for side in SIDES)
            + f"<td>{'n/a' if bpm is None else '—' if short else f'{bpm:.1f}'}</td>"
            + f"<td>{pct(cf.get('right'))} / {pct(cf.get('left'))}</td>"
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
            f'<p class="sub"><span class="tag short">short</span>: less than '
            f"{time_words(ctx.thresholds.rate_min_observed_s)} of face observed; the recording's "
            f"rates are not shown ({INSUFFICIENT}), only its counts.</p>"
            if n_short
            else ""
        )
        + (
            '<p class="sub">≈: recording time guessed from the file\'s modification time '
            "(a copy changes it).</p>"
            if n_guessed
            else ""
        )
        + (
            f'<p class="sub">{len(ctx.recordings) - len(shown)} earlier recordings not listed '
            "(all in <code>spasm-cv export --format csv</code>).</p>"
            if len(shown) < len(ctx.recordings)
            else ""
        )
    )


def _episode_table(ctx: Context) -> str:
    items = sorted(
        ctx.episodes + ctx.mouth_only,
        key=lambda x: (time_order(x[0]), x[1].onset),
    )
    if not items:
        return "<h2>Episodes</h2>" + note("No one-sided event to list.", "sub")
    limit = MAX_EPISODE_ROWS - (5 if ctx.multi else 0)  # the per-day plot needs room
    # one recording: its first events; several: the latest (the current state)
    shown = items[:limit] if not ctx.multi else items[-limit:]
    yes = {True: "yes", False: "no", None: "n/a"}
    rows = []
    for r, e in shown:
        when = ctx.clock(r, e.onset, "%Y-%m-%d %H:%M:%S") if r.start else escape(r.name[:20])
        rows.append(
            f"<tr><td class='l'>{when}</td><td>{mmss(e.onset)}</td><td>{side_span(e.side)}</td>"
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
