"""``spasm-cv report``: one self-contained HTML page over analysed recordings.

Recordings come from result folders (positional ``RESULT`` arguments) and from any other
:class:`RecordingSource` the command line hands to :func:`add_parser` (the monitor's SQLite
store, for ``--db PATH --from DATE --to DATE``). The report knows nothing of where such
recordings are kept: a source adds its own arguments and turns them into recordings.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from spasm_cv.cliargs import (
    add_count_option,
    add_deidentify_options,
    add_private_option,
    counting,
    probability,
)
from spasm_cv.errors import SpasmCvError
from spasm_cv.report.aggregate import Treatment
from spasm_cv.results.deidentify import deidentify, from_args, label
from spasm_cv.results.outputs import check_output_file, write_error
from spasm_cv.results.recording import Recording


class RecordingSource(Protocol):
    """Somewhere other than result folders that recordings for a report come from."""

    def add_report_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options that select its recordings to the ``report`` parser."""

    def report_recordings(self, args: argparse.Namespace) -> list[Recording]:
        """The recordings ``args`` ask for (none when its options are not given)."""


DESCRIPTION = """\
Write one self-contained HTML report (A4, prints to PDF) over one or more analysed
recordings: affected side, episodes per hour with 95 % intervals, eye-closed time, longest
tonic contraction, regions, suggested Jankovic frequency and SMC grades with their rules,
signal plots, and before/after comparisons across treatment dates."""

EPILOG = """\
examples:
  spasm-cv report visit1.spasm-cv visit2.spasm-cv --title "Patient 0042" \\
      --treatment 2026-03-02:"BoNT-A 20 U" --out 0042.html
  chromium --headless --print-to-pdf=0042.pdf 0042.html     # a PDF for the patient file

A treatment date without a time counts recordings made that day as before the treatment."""

_TREATMENT = re.compile(
    r"^(?P<when>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)(?::(?P<label>.*))?$"
)


def parse_treatment(text: str) -> Treatment:
    """``DATE[:LABEL]`` or ``DATETIME[:LABEL]`` (ISO; local time) -> :class:`Treatment`."""
    m = _TREATMENT.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(
            f"treatment must be DATE:LABEL, e.g. 2026-03-02:BoNT-A (got {text!r})"
        )
    try:
        when = datetime.fromisoformat(m["when"])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a valid date: {m['when']!r}") from None
    label = (m["label"] or "").strip() or "treatment"
    return Treatment(when.astimezone(), label, day_only=len(m["when"]) == 10)


class TreatmentsAndResults(argparse.Action):
    """``--treatment`` values; an argument after them that is not a treatment is a RESULT.

    ``report --treatment 2026-03-02:BoNT-A visit1.spasm-cv`` must not take the folder for a
    second treatment: folders and treatments may come in any order. An existing path is
    always a folder (a folder named like a date beats a treatment of that date); an argument
    that starts like a date (``2026-``) but is not a valid treatment is an error; anything
    else is a result folder (whose absence ``report`` reports).
    """

    def __call__(self, parser, namespace, values, option_string=None):
        treatments = list(getattr(namespace, self.dest, None) or [])
        results = list(getattr(namespace, "results_after_treatments", None) or [])
        for i, text in enumerate(values):
            if os.path.exists(text) or (i > 0 and not _DATE_START.match(text.strip())):
                results.append(text)
                continue
            try:
                treatments.append(parse_treatment(text))
            except argparse.ArgumentTypeError as exc:
                parser.error(f"argument {option_string}: {exc}")
        setattr(namespace, self.dest, treatments)
        namespace.results_after_treatments = results


_DATE_START = re.compile(r"^\d{4}-")


def add_parser(
    subparsers: argparse._SubParsersAction, sources: Sequence[RecordingSource] = ()
) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on ``subparsers``; returns its parser.

    ``sources``: where recordings come from besides result folders (each adds its options).
    """
    p = subparsers.add_parser(
        "report",
        help="one-page HTML report for clinicians over analysed recordings",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "results",
        nargs="*",
        metavar="RESULT",
        help="result folders written by `spasm-cv analyze`",
    )
    p.add_argument(
        "--out",
        default="report.html",
        metavar="FILE",
        help="HTML file to write (default: report.html); an existing file is replaced only "
        "if it is a report spasm-cv wrote",
    )
    p.add_argument("--title", help="page title, e.g. a patient code and visit")
    p.add_argument(
        "--min-confidence",
        type=probability,
        metavar="C",
        help="count only one-sided events with confidence >= C (0-1; at 0.8, episodes were "
        "real at least 95 %% of the time on people the detector was not tuned on)",
    )
    add_count_option(p)
    p.add_argument(
        "--treatment",
        action=TreatmentsAndResults,
        nargs="+",
        default=[],
        metavar="DATE[:LABEL]",
        help="treatments (injection, surgery) to mark and compare before/after, e.g. "
        "2026-03-02:BoNT-A or 2026-03-02T10:30:MVD (local time); several allowed, before or "
        "after the result folders",
    )
    for source in sources:  # e.g. --db PATH --from DATE --to DATE
        source.add_report_arguments(p)
    add_private_option(p, "the report")
    add_deidentify_options(p, "the report")
    p.set_defaults(func=run, sources=tuple(sources))
    return p


def gather_recordings(args: argparse.Namespace) -> list[Recording]:
    """Recordings from RESULT folders and from every other source of the parser."""
    folders = [*args.results, *getattr(args, "results_after_treatments", [])]
    recordings = [Recording.from_folder(p) for p in folders]
    for source in getattr(args, "sources", ()):
        recordings.extend(source.report_recordings(args))
    if not recordings:
        raise SpasmCvError("no recordings: give one or more result folders")
    return recordings


def run(args: argparse.Namespace) -> int:
    from spasm_cv.report.html import is_report, render_report  # matplotlib: only when needed

    # before reading anything: never over a file this command did not write
    check_output_file(args.out, ours=is_report, inputs=args.results)
    recordings = gather_recordings(args)
    _check_summaries(recordings)
    recordings = counting(recordings, args.count)
    if args.min_confidence is not None:
        recordings = [r.with_min_confidence(args.min_confidence) for r in recordings]
    treatments = args.treatment
    how = from_args(args)
    if how is not None:  # labels in the order given; treatments moved with the dates
        if treatments and how.date_shift_days is None:
            raise SpasmCvError(
                "--treatment with --deidentify needs --date-shift DAYS (the "
                "dates are removed otherwise)"
            )
        shift = timedelta(days=how.date_shift_days or 0)
        treatments = [replace(t, when=t.when + shift) for t in treatments]
        width = max(2, len(str(len(recordings))))
        recordings = [deidentify(r, label(i, width), how) for i, r in enumerate(recordings, 1)]
    try:
        out = render_report(recordings, args.out, title=args.title, treatments=treatments)
    except OSError as exc:
        raise write_error(args.out, exc, "--out") from None
    print(f"report: {out} ({len(recordings)} recording{'s' * (len(recordings) != 1)})")
    return 0


def _check_summaries(recordings: list[Recording]) -> None:
    """Fail early, with the recording's name, on a summary missing what the report uses.

    (A summary lacking observed time, episodes, mouth-only events or blinks cannot be read at
    all: :meth:`Recording.from_folder` says so.)
    """
    for r in recordings:
        if r.summary.closed_fraction is None:
            where = r.path or r.name
            raise SpasmCvError(f"summary of {where} lacks closed_fraction: not usable")
