"""``spasm-cv report``: one self-contained HTML page over analysed recordings.

Recordings come from result folders (positional ``RESULT`` arguments) and from any module
listed in :data:`RECORDING_SOURCES`. Such a module (e.g. the monitor's SQLite store, for
``--db PATH --from DATE --to DATE``) provides::

    add_report_arguments(parser: argparse.ArgumentParser) -> None
    report_recordings(args: argparse.Namespace) -> list[Recording]

and is added to the tuple with a one-line edit; nothing else here needs to change.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib
import os
import re
import zlib
from datetime import datetime
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.report.aggregate import Treatment
from spasm_cv.report.recordings import Recording, load_recording

# Modules providing add_report_arguments(parser) and report_recordings(args) (see above).
RECORDING_SOURCES: tuple[str, ...] = ("spasm_cv.live.cli",)

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


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "report",
        help="one-page HTML report for clinicians over analysed recordings",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(p)
    p.set_defaults(func=run)
    return p


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
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
        help="HTML file to write (default: report.html)",
    )
    p.add_argument("--title", help="page title, e.g. a patient code and visit")
    p.add_argument(
        "--treatment",
        action="extend",
        nargs="+",
        default=[],
        type=parse_treatment,
        metavar="DATE[:LABEL]",
        help="treatments (injection, surgery) to mark and compare before/after, e.g. "
        "2026-03-02:BoNT-A or 2026-03-02T10:30:MVD (local time); several allowed",
    )
    for name in RECORDING_SOURCES:  # e.g. --db PATH --from DATE --to DATE
        importlib.import_module(name).add_report_arguments(p)
    return p


def load_result(path: str | os.PathLike, with_signals: bool = True) -> Recording:
    """A result folder as a Recording; any damage becomes a one-line SpasmCvError."""
    p = Path(path)
    if not p.exists():
        raise SpasmCvError(f"result folder not found: {p}")
    if not p.is_dir():
        raise SpasmCvError(
            f"not a result folder (expected the folder `spasm-cv analyze` wrote): {p}"
        )
    try:
        return load_recording(p, with_signals=with_signals)
    except SpasmCvError as exc:
        raise SpasmCvError(f"cannot use {p}: {exc}") from None
    except (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        csv.Error,
        zlib.error,
        gzip.BadGzipFile,
    ) as exc:
        raise SpasmCvError(f"corrupt result folder {p}: {type(exc).__name__}: {exc}") from None


def gather_recordings(args: argparse.Namespace) -> list[Recording]:
    """Recordings from RESULT folders and from every module in RECORDING_SOURCES."""
    recordings = [load_result(p) for p in args.results]
    for name in RECORDING_SOURCES:
        recordings.extend(importlib.import_module(name).report_recordings(args))
    if not recordings:
        raise SpasmCvError("no recordings: give one or more result folders")
    return recordings


def run(args: argparse.Namespace) -> int:
    from spasm_cv.report.html import render_report  # matplotlib: only when a report is made

    recordings = gather_recordings(args)
    _check_summaries(recordings)
    out = render_report(recordings, args.out, title=args.title, treatments=args.treatment)
    print(f"report: {out} ({len(recordings)} recording{'s' * (len(recordings) != 1)})")
    return 0


def _check_summaries(recordings: list[Recording]) -> None:
    """Fail early, with the recording's name, on a summary missing what the report uses."""
    needed = ("observed_s", "episodes", "mouth_only", "blinks", "closed_fraction")
    for r in recordings:
        missing = [k for k in needed if k not in r.summary]
        if missing:
            where = r.path or r.name
            raise SpasmCvError(f"summary of {where} lacks {', '.join(missing)}: not usable")
