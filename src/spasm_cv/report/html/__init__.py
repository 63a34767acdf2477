"""The clinical report: one self-contained HTML file (A4 sheets, figures as inline SVG).

:func:`render_report` is the entry point for the command line (``spasm-cv report``) and for
other sources of :class:`~spasm_cv.results.recording.Recording` (monitor sessions). The page
template is ``templates/report.html`` (Jinja2, autoescaped: :mod:`spasm_cv._html`); one module
per page section, each building its HTML with :func:`spasm_cv._html.html`, which escapes every
value that is not markup written here:

- :mod:`~spasm_cv.report.html.summary`: sheet 1, the one-pager (header, headline, rates,
  suggested grades), with :mod:`~spasm_cv.report.html.comparison` and
  :mod:`~spasm_cv.report.html.methods`;
- :mod:`~spasm_cv.report.html.signals`: sheet 2, signal overviews and close-ups;
- :mod:`~spasm_cv.report.html.patterns`: sheet 3, when and how long, tables;
- :mod:`~spasm_cv.report.html.context` and :mod:`~spasm_cv.report.html.format`: what the
  sections share.

Sheets: 1 summary (headline, suggested scales, comparison across recordings, methods: the
one-pager); 2 signals (only when some recording has per-frame signals); 3 patterns and
tables. Each sheet starts a printed page; a sheet that overflows adds pages.

Every headline number is a ``<span class="num" data-key="a.b.c" data-scale="x">`` whose
text is ``value * x`` of that key in the pooled summary (the recording's summary.json for a
single recording), so tests and tools can check the page against the files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from spasm_cv._html import csp, render
from spasm_cv._version import __version__
from spasm_cv.report.aggregate import Treatment
from spasm_cv.report.html.context import Context, sheet_head
from spasm_cv.report.html.patterns import patterns_sheet
from spasm_cv.report.html.signals import signals_sheet
from spasm_cv.report.html.summary import summary_sheet
from spasm_cv.results.atomic import write_text_atomic
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, ObservationThresholds
from spasm_cv.results.recording import Recording

__all__ = ["DEFAULT_TITLE", "GENERATOR", "build_html", "is_report", "render_report"]

DEFAULT_TITLE = "Hemifacial spasm: video measurement report"
_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "report.html"
GENERATOR = b'<meta name="generator" content="spasm-cv '  # in the template's head
CSP = csp("img-src data:", "style-src 'unsafe-inline'")  # no script at all


def is_report(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a report page spasm-cv wrote (its generator tag, near the top)."""
    with open(path, "rb") as f:
        return GENERATOR in f.read(2048)


def render_report(
    recordings: Sequence[Recording],
    out_path: str | os.PathLike,
    title: str | None = None,
    treatments: Sequence[Treatment] = (),
    tz: tzinfo | None = None,
    generated: datetime | None = None,
    thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
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
    thresholds : the observed time rates and grades need; below it the page says
        "insufficient observation" instead of a number.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = build_html(recordings, title, treatments, tz, generated, thresholds)
    return write_text_atomic(out, text, encoding="utf-8", replace=is_report)


def build_html(
    recordings: Sequence[Recording],
    title: str | None = None,
    treatments: Sequence[Treatment] = (),
    tz: tzinfo | None = None,
    generated: datetime | None = None,
    thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
) -> str:
    """The report page as HTML text (see :func:`render_report`)."""
    if not recordings:
        raise ValueError("a report needs at least one recording")
    ctx = Context(recordings, title or DEFAULT_TITLE, treatments, tz, generated, thresholds)
    sheets = [summary_sheet(ctx)]
    if any(r.track is not None for r in ctx.recordings):
        sheets.append(signals_sheet(ctx))
    sheets.append(patterns_sheet(ctx))
    total = len(sheets)
    heads = [sheet_head(ctx, name, i, total) for i, (name, _) in enumerate(sheets, 1)]
    return render(
        _TEMPLATE,
        title=ctx.title,
        version=__version__,
        csp=CSP,
        sheets=[(head, body) for head, (_, body) in zip(heads, sheets, strict=True)],
    )
