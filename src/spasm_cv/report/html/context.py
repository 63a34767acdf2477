"""What every section of the report page needs: the recordings in time order, pooled numbers,
episode details, time zone; and the sheet header."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from spasm_cv._html import Markup, html
from spasm_cv.report import aggregate
from spasm_cv.report.aggregate import Treatment
from spasm_cv.results.deidentify import is_deidentified
from spasm_cv.results.observation import DEFAULT_THRESHOLDS, ObservationThresholds
from spasm_cv.results.pooled import pool
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import ReviewTally

MAX_OVERVIEWS = 3  # per-frame signal overviews shown (most recent recordings)
MAX_ZOOMS = 3
MAX_EPISODE_ROWS = 15
MAX_RECORDING_ROWS = 8
MAX_COMPARISON_ROWS = 5  # rows of the page-1 comparison table (the latest)
GUESSED_TIP = "date guessed from the file's modification time (a copy changes it)"


class Context:
    """What every section needs: recordings sorted by time, pooled numbers, time zone.

    ``pooled``: the recordings' numbers together (:func:`~spasm_cv.results.pooled.pool`);
    ``details``: their eye episodes' regions and times
    (:func:`~spasm_cv.report.aggregate.episode_details`); ``episodes``/``mouth_only``:
    ``(recording, event)`` pairs; ``deidentified``: the recordings that were de-identified;
    ``thresholds``: the observed time rates and grades need
    (:class:`~spasm_cv.results.observation.ObservationThresholds`), ``short``: the pooled
    observed time is below the rate threshold (no rate is shown as a number).
    """

    def __init__(
        self,
        recordings: Sequence[Recording],
        title: str,
        treatments: Sequence[Treatment],
        tz: tzinfo | None,
        generated: datetime | None,
        thresholds: ObservationThresholds = DEFAULT_THRESHOLDS,
    ):
        self.thresholds = thresholds
        self.tz = tz or aggregate.local_tz()
        self.recordings = sorted(recordings, key=time_order)
        self.title = title
        self.treatments = sorted(
            (Treatment(t.when.astimezone(self.tz), t.label, t.day_only) for t in treatments),
            key=lambda t: t.effective,
        )
        self.generated = (generated or datetime.now(self.tz)).astimezone(self.tz)
        self.pooled = pool([r.summary for r in self.recordings])
        self.details = aggregate.episode_details(self.recordings)
        self.episodes = [(r, e) for r in self.recordings for e in r.episodes]
        self.mouth_only = [(r, e) for r in self.recordings for e in r.mouth_only]
        self.possible = [(r, e) for r in self.recordings for e in r.possible]
        self.multi = len(self.recordings) > 1
        self.deidentified = [r for r in self.recordings if is_deidentified(r)]
        self.short = thresholds.rates_insufficient(self.pooled.observed_s)
        self.review = reviewed_tally(self.recordings)

    def reviewed_text(self) -> str:
        """``confirmed by review: 31 of 34 detected, 2 added`` when counting a review
        (``--reviewed``), else ``""``."""
        return self.review.sentence() if self.review is not None else ""

    def counted_note(self) -> str:
        """What a figure's episodes are, when not the detector's own (a caption's ending)."""
        return f" Episodes {self.reviewed_text()}." if self.review is not None else ""

    def is_short(self, rec: Recording) -> bool:
        """True when ``rec`` alone is too short for its rates to be shown."""
        return self.thresholds.rates_insufficient(rec.summary.observed_s)

    @property
    def guessed_dates(self) -> list[Recording]:
        """Dated recordings whose date is a guess (the file's time, or a source not said)."""
        return [r for r in self.recordings if r.start is not None and r.summary.recorded_at_guessed]

    def clock(self, rec: Recording, seconds: float = 0.0, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if rec.start is None:
            return "time unknown"
        return (rec.start + timedelta(seconds=seconds)).astimezone(self.tz).strftime(fmt)

    def start_cell(self, rec: Recording) -> Markup:
        """``clock(rec)`` marked ``≈`` (with a tooltip) when the date is a guess."""
        text = self.clock(rec)
        if rec.start is not None and rec.summary.recorded_at_guessed:
            return html('<span class="guessed" title="{}">≈ {}</span>', GUESSED_TIP, text)
        return html("{}", text)


def partial_text(rec: Recording) -> str | None:
    """``partial: interrupted by Ctrl-C ...`` for a recording that is not whole, else None."""
    s = rec.summary
    if s.complete:
        return None
    why = s.interrupted or "interrupted"
    if rec.source == "monitor":
        return f"partial: {why}"
    text = f"partial: interrupted by {why}" if why in ("Ctrl-C", "SIGTERM") else f"partial: {why}"
    n, fps = s.input.get("n_frames"), s.input.get("fps")
    if n and fps and s.duration_s is not None:
        text += f", after {s.duration_s:.1f} s of about {n / fps:.1f} s in the file"
    return text


def time_order(rec: Recording) -> tuple:
    """Sort key: dated recordings by start, then undated ones by name."""
    return (rec.start is None, rec.start.timestamp() if rec.start else 0.0, rec.name)


def param(ctx: Context, name: str) -> str:
    """A detection parameter of the first recording, as text (``?`` if unknown)."""
    return ctx.recordings[0].summary.params.text(name)


def tz_name(ctx: Context) -> str:
    """The name of the time zone clock times are shown in."""
    return ctx.generated.tzname() or str(ctx.tz)


def sheet_head(ctx: Context, name: str, i: int, total: int) -> Markup:
    meta = html('<span class="meta">{} · page {} of {}</span>', name, i, total)
    if i == 1:  # the page title is big on the first page
        return html('<header class="sheet-head first"><h1>{}</h1>{}</header>', ctx.title, meta)
    return html(
        '<header class="sheet-head"><span class="title">{}</span>{}</header>', ctx.title, meta
    )


def reviewed_tally(recordings: Sequence[Recording]) -> ReviewTally | None:
    """The review tallies of recordings counted by review (``--reviewed``), added up; None
    if none is."""
    tallies = [ReviewTally.from_dict(r.summary.extra["reviewed"])
               for r in recordings if "reviewed" in r.summary.extra]  # fmt: skip
    return functools.reduce(operator.add, tallies) if tallies else None
