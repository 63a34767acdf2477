"""Formatting for the report page: numbers tagged with their summary key, durations, rates.

Every headline number is a ``<span class="num" data-key="a.b.c" data-scale="x">`` whose text
is ``value * x`` of that key in the pooled summary (:meth:`Pooled.to_dict
<spasm_cv.results.pooled.Pooled.to_dict>`; the recording's summary.json for a single
recording), so tests and tools can check the page against the files.

Every function here returns :class:`~markupsafe.Markup` built with
:func:`spasm_cv._html.html`, which escapes whatever it is given that is not Markup: text read
from data (names, kinds, regions) is shown as text wherever it goes.
"""

from __future__ import annotations

import math

from spasm_cv._html import Markup, html
from spasm_cv.events.table import SIDES
from spasm_cv.report import plots
from spasm_cv.results.observation import INSUFFICIENT
from spasm_cv.results.rates import Rate


def decimals_for(x: float) -> int:
    """Digits after the point for a rate or time: 3 significant digits, none for 0 or >= 100."""
    x = abs(x)
    return 0 if x >= 100 or x == 0 else 1 if x >= 10 else 2


def num(value: float | None, key: str, scale: float = 1.0, decimals: int | None = None) -> Markup:
    """A number tagged with the summary key it shows (``value * scale`` rounded)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Markup('<span class="num na">n/a</span>')
    shown = value * scale
    d = decimals_for(shown) if decimals is None else decimals
    return html(
        '<span class="num" data-key="{}" data-scale="{:.10g}">{:.{}f}</span>', key, scale, shown, d
    )


def duration(seconds: float, key: str | None = None) -> Markup:
    """Seconds as s / min / h with the unit; tagged with ``key`` when given."""
    if seconds < 120:
        scale, unit = 1.0, "s"
    elif seconds < 7200:
        scale, unit = 1 / 60, "min"
    else:
        scale, unit = 1 / 3600, "h"
    if key is None:
        v = seconds * scale
        return html("{:.{}f} {}", v, decimals_for(v) if unit != "s" else 1, unit)
    return html("{} {}", num(seconds, key, scale, None if unit != "s" else 1), unit)


def insufficient(detail: str = "") -> Markup:
    """ "insufficient observation" in place of a number (never bold), with a tooltip."""
    title = html(' title="{}"', detail) if detail else ""
    return html('<span class="insufficient"{}>{}</span>', title, INSUFFICIENT)


def rate_cell(r: Rate, key: str, short: bool = False) -> Markup:
    """A table cell: rate per hour, its 95 % interval and the count, each tagged (``key``).

    ``short``: too little observed time for a rate; the count only.
    """
    if short:
        return html("n={}", num(r.count, key + ".count", decimals=0))
    if r.per_hour is None:
        return Markup("n/a")
    lo, hi = r.ci95
    return html(
        '{}/h<span class="ci">({}–{}) · n={}</span>',
        num(r.per_hour, key + ".per_hour"),
        num(lo, key + ".ci95.0"),
        num(hi, key + ".ci95.1"),
        num(r.count, key + ".count", decimals=0),
    )


def short_rate(r: Rate, short: bool = False) -> Markup:
    """``12.3 (8.1–17.9)``: a rate per hour and its 95 % interval on one line.

    ``short``: too little observed time for a rate; "insufficient observation" instead.
    """
    if short:
        return insufficient()
    if r.per_hour is None:
        return Markup("n/a")
    x, (lo, hi) = r.per_hour, r.ci95
    return html(
        "{:.{}f} ({:.{}f}–{:.{}f})", x, decimals_for(x), lo, decimals_for(lo), hi, decimals_for(hi)
    )


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def side_span(side: str | None) -> Markup:
    if side not in SIDES:
        return Markup("—")
    return html('<span class="side-{0}">{0}</span>', side)


def mmss(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def figure(name: str, fig, alt: str, caption: str | Markup = "") -> Markup:
    """A plot as an inline image; ``caption`` text (escaped) or Markup."""
    cap = html("<figcaption>{}</figcaption>", caption) if caption else ""
    return html(
        '<figure class="plot" data-plot="{}"><img alt="{}" src="{}">{}</figure>',
        name,
        alt,
        plots.to_data_uri(fig),
        cap,
    )


def note(text: str | Markup, cls: str = "note") -> Markup:
    """A paragraph of class ``cls``; ``text`` is escaped unless Markup."""
    return html('<p class="{}">{}</p>', cls, text)
