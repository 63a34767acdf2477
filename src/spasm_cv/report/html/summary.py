"""Sheet 1 of the report, the one-pager: header, headline cards, rate table, suggested grades,
then the comparison across recordings (:mod:`~spasm_cv.report.html.comparison`) and the
methods paragraph (:mod:`~spasm_cv.report.html.methods`)."""

from __future__ import annotations

from spasm_cv._html import Markup, html, join
from spasm_cv._version import __version__
from spasm_cv.events.table import KINDS, SIDES
from spasm_cv.report import scales
from spasm_cv.report.html.comparison import comparison
from spasm_cv.report.html.context import Context, param, partial_text
from spasm_cv.report.html.format import (
    decimals_for,
    duration,
    insufficient,
    note,
    num,
    pct,
    rate_cell,
)
from spasm_cv.report.html.methods import methods
from spasm_cv.results.observation import INSUFFICIENT, time_words
from spasm_cv.results.rates import Rate, context_phrase


def summary_sheet(ctx: Context) -> tuple[str, Markup]:
    """Sheet 1 (its name and HTML)."""
    parts = [
        _header(ctx),
        _headline(ctx),
        _rate_table(ctx),
        _scales(ctx),
    ]
    if ctx.multi:
        parts.append(comparison(ctx))
    parts.append(methods(ctx))
    return "Summary", join(parts, "\n")


def _recording_span(ctx: Context) -> Markup:
    recs = ctx.recordings
    if not ctx.multi:
        r = recs[0]
        dated_guess = r.start is not None and r.summary.recorded_at_guessed
        guessed = " (guessed from the file's time)" if dated_guess else ""
        return html("Recording <b>{}</b>, {}{}", r.name, ctx.start_cell(r), guessed)
    dated = [r for r in recs if r.start is not None]
    span = ""
    if dated:
        first, last = ctx.clock(dated[0], fmt="%Y-%m-%d"), ctx.clock(dated[-1], fmt="%Y-%m-%d")
        span = f", {first}" + (f" to {last}" if last != first else "")
    return html("<b>{} recordings</b>{}", len(recs), span)


def _header(ctx: Context) -> Markup:
    p = ctx.pooled
    frac = p.observed_s / p.duration_s if p.duration_s else None
    partial = [r for r in ctx.recordings if not r.summary.complete]
    flag = ""
    if partial:
        what = (
            partial_text(partial[0]) or "partial"
            if not ctx.multi
            else f"{len(partial)} of {len(ctx.recordings)} recordings partial (interrupted)"
        )
        flag = html(' · <b class="partial">{}</b>', what)
    if ctx.review is not None:
        flag += html(' · <b class="reviewed" data-key="reviewed">{}</b>', ctx.reviewed_text())
    return html(
        '<p class="sub">{} · face observed {} of {} recorded{}{}{} · generated{} by spasm-cv '
        "{}</p>",
        _recording_span(ctx),
        duration(p.observed_s),
        duration(p.duration_s or 0.0),
        f" ({100 * frac:.0f} %)" if frac is not None else "",
        flag,
        " · de-identified" if ctx.deidentified else "",
        "" if ctx.deidentified else f" {ctx.generated:%Y-%m-%d %H:%M}",  # bounds the dates
        __version__,
    )


def _headline(ctx: Context) -> Markup:
    p = ctx.pooled
    ep = p.episodes
    side = p.affected_side
    counts = ep.counts()
    if side in SIDES:
        side_v = html(
            '<span class="side-{}" data-key="affected_side">{}</span>', side, side.capitalize()
        )
        side_d = f"{counts[side]} of {ep.total.count} one-sided eye episodes"
        r = ep.by_side[side]
        rate_key = f"episodes.by_side.{side}"
    else:
        side_v = html(
            '<span data-key="affected_side">{}</span>',
            "undetermined" if ep.total.count else "none",
        )
        side_d = (
            f"equal counts: {counts['right']} right, {counts['left']} left"
            if ep.total.count
            else "no one-sided eye episode"
        )
        r = ep.total
        rate_key = "episodes.total"
    lo, hi = r.ci95
    short = ctx.short
    rate_v = (
        insufficient(ctx.thresholds.rate_shortfall(p.observed_s))
        if short
        else html("{} <small>/h</small>", num(r.per_hour, rate_key + ".per_hour"))
        if r.per_hour is not None
        else "n/a"
    )
    rate_d = (
        html(
            "{} episode{}{} in {}; a rate needs ≥ {} observed",
            num(r.count, rate_key + ".count", decimals=0),
            "s" * (r.count != 1),
            f" ({side} side)" if side in SIDES else "",
            duration(p.observed_s),
            time_words(ctx.thresholds.rate_min_observed_s),
        )
        if short
        else html(
            "95 % CI {}–{}; {}",
            num(lo, rate_key + ".ci95.0"),
            num(hi, rate_key + ".ci95.1"),
            f"{side} side" if side in SIDES else "both sides",
        )
        if r.per_hour is not None
        else ""
    )
    cf = p.closed_fraction
    obs = p.observed_s
    shut = ctx.details.shut_in_episodes_s
    closed_v = join(
        (
            html(
                '<span class="side-{}">{}</span> {}',
                s,
                s[0].upper(),
                html("{} %", num(cf[s], f"closed_fraction.{s}", 100, 1))
                if cf.get(s) is not None
                else "n/a",
            )
            for s in SIDES
        ),
        " · ",
    )
    closed_d = (
        "eye closed (closure ≥ 0.5, blinks included); shut in one-sided episodes: "
        + ", ".join(f"{s[0].upper()} {pct(shut[s] / obs if obs > 0 else None)}" for s in SIDES)
    )
    tonic = p.longest_tonic_s
    tonic_v = (
        html("{} <small>s</small>", num(tonic, "longest_tonic_s", decimals=1))
        if tonic is not None
        else "none"
    )
    n_tonic = sum(ep.by_side_and_kind[s]["tonic"].count for s in SIDES)
    bpm = p.blinks.per_minute
    blink_v = (
        insufficient(ctx.thresholds.rate_shortfall(p.observed_s))
        if short
        else html("{} <small>/min</small>", num(bpm, "blinks.per_minute", decimals=1))
        if bpm is not None
        else "n/a"
    )
    regions = _regions_text(ctx)
    cards = [
        ("Affected side", side_v, side_d, ""),
        ("Episodes per hour", rate_v, rate_d, ""),
        (
            "Observed face time",
            duration(obs, "observed_s"),
            f"{p.n_recordings} recording{'s' * ctx.multi}; rates use this time",
            "",
        ),
        (
            "Blink rate",
            blink_v,
            f"{p.blinks.count} blinks (both eyes closing ≤ {param(ctx, 'blink_max_s')} s)",
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
    parts = [Markup("<h2>Headline</h2>")]
    for r in ctx.recordings:
        why = partial_text(r)
        if why:
            parts.append(
                note(
                    html(
                        '<b class="partial">Partial recording: {}</b>, {}. The numbers cover '
                        "only what was measured before it stopped.",
                        r.name,
                        why.removeprefix("partial: "),
                    )
                )
            )
    if short:
        t = ctx.thresholds
        parts.append(
            note(
                html(
                    "<b>Insufficient observation:</b> only {} of face time observed. Rates are "
                    "shown from {} of observed time and grades are suggested from {}; below "
                    "that this page gives counts, not rates per hour.",
                    duration(obs),
                    time_words(t.rate_min_observed_s),
                    time_words(t.grade_min_observed_s),
                ),
                "note short",
            )
        )
    if ep.total.count == 0:
        upper = "" if short else f" (95 % upper bound {_plain_upper(ep.total)} per hour)"
        parts.append(
            note(
                html(
                    "<b>No one-sided eye episode was detected</b> in {} of observed face time{}.{}",
                    duration(obs),
                    upper,
                    _mouth_only_text(ctx),
                )
            )
        )
    if ctx.possible:
        n = len(ctx.possible)
        parts.append(
            note(
                html(
                    "<b>{} possible one-sided episode{} not counted:</b> the detector could not "
                    "be sure of {} (the face was talking with the head moving, or the eye was "
                    "poorly seen). They are listed in the result folder (trial_type "
                    "possible_spasm) for review; <code>--count possible</code> counts them.",
                    n,
                    "s" * (n != 1),
                    "them" if n != 1 else "it",
                )
            )
        )
    parts.append(Markup('<div class="cards">'))
    for k, v, d, cls in cards:
        parts.append(
            html(
                '<div class="card {}"><div class="k">{}</div><div class="v">{}</div>'
                '<div class="d">{}</div></div>',
                cls,
                k,
                v,
                d,
            )
        )
    parts.append(Markup("</div>"))
    return join(parts, "\n")


def _plain_upper(r: Rate) -> str:
    hi = r.ci95[1]
    return "n/a" if hi is None else f"{hi:.{decimals_for(hi)}f}"


def _mouth_only_text(ctx: Context) -> str:
    n = len(ctx.mouth_only)
    return (
        f" {n} one-sided mouth-only event{'s' * (n != 1)} (not counted as episodes)." if n else ""
    )


def _regions_text(ctx: Context) -> tuple[str, str]:
    p = ctx.pooled
    side = p.affected_side
    sides = (side,) if side in SIDES else SIDES
    n = sum(p.episodes.by_side[s].count for s in sides)
    regions = ctx.details.regions
    reg = {k: sum(regions[s][k] for s in sides) for k in ("eye", "eye+mouth", "brow_raised")}
    mouth_only = sum(p.mouth_only[s].count for s in sides)
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


def _rate_table(ctx: Context) -> Markup:
    ep = ctx.pooled.episodes
    short = ctx.short
    head = join(html("<th>{}</th>", k) for k in KINDS)
    rows = []
    for side in SIDES:
        key = f"episodes.by_side_and_kind.{side}"
        cells = [rate_cell(ep.by_side[side], f"episodes.by_side.{side}", short)]
        cells += [rate_cell(ep.by_side_and_kind[side][k], f"{key}.{k}", short) for k in KINDS]
        label = html('<span class="side-{}">{}</span>', side, side.capitalize())
        rows.append((label, cells))
    cells = [rate_cell(ep.total, "episodes.total", short)]
    cells += [rate_cell(ep.by_kind[k], f"episodes.by_kind.{k}", short) for k in KINDS]
    rows.append(("Both sides", cells))
    body = join(
        html("<tr><td>{}</td>{}</tr>", label, join(html("<td>{}</td>", c) for c in cells))
        for label, cells in rows
    )
    mo = ctx.pooled.mouth_only
    mouth = ", ".join(f"{s} n={mo[s].count}" for s in SIDES)
    heading = (
        f"One-sided eye episodes: counts ({INSUFFICIENT} for rates per hour)"
        if short
        else "One-sided eye episodes per hour of observed time (95 % CI)"
    )
    context = ""
    if ep.by_context and ep.total.count:
        context = html(
            '<p class="sub" data-key="episodes.by_context">Context of the episodes: {} (speech '
            "and chewing are known triggers; expressions can also look like spasms).</p>",
            context_phrase(ep.by_context, ep.total.count),
        )
    return html(
        "<h2>{}</h2>"
        '<table class="rates"><tr><th>Side</th><th>all episodes</th>{}</tr>{}</table>'
        '<p class="sub">twitch: single contraction; clonic: train of contractions; tonic: held '
        "≥ {} s. Mouth-only one-sided events (not counted): {}.</p>{}",
        heading,
        head,
        body,
        param(ctx, "tonic_min_s"),
        mouth,
        context,
    )


def _scales(ctx: Context) -> Markup:
    parts = [
        Markup(
            "<h2>Suggested clinical grades (measurement-based, to be confirmed by the "
            "clinician)</h2>"
        ),
        Markup('<div class="scales">'),
    ]
    for s in scales.suggest(ctx.pooled, ctx.details, ctx.thresholds):
        grade = "—" if s.grade is None else s.grade
        shown = (
            html('<div class="grade insufficient" data-grade="{}">{}</div>', grade, s.meaning)
            if s.insufficient
            else html(
                '<div class="grade" data-grade="{0}">{0} <small>({1})</small></div>',
                grade,
                s.meaning,
            )
        )
        caveat = html('<div class="caveat"><b>Caveat:</b> {}</div>', s.caveat) if s.caveat else ""
        parts.append(
            html(
                '<div class="scale" data-scale-name="{0}"><div>{0}</div>{1}<div>{2}</div>'
                '<div class="rule"><b>Rule:</b> {3}</div>{4}</div>',
                s.scale,
                shown,
                s.evidence,
                s.rule,
                caveat,
            )
        )
    parts.append(Markup("</div>"))
    return join(parts, "\n")
