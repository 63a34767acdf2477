"""``spasm-cv export``: result folders (or monitor sessions) to BIDS, ELAN, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from spasm_cv.errors import SpasmCvError
from spasm_cv.results.recording import Recording

FORMATS = ("bids", "elan", "csv", "json")

DESCRIPTION = """\
Export analysed recordings (result folders of `spasm-cv analyze`, or the sessions of a
monitor database with --db) for research tools.

  bids   a BIDS dataset in --out (new, or an existing one to add runs to):
         dataset_description.json (GeneratedBy: software, version, parameters),
         participants.tsv, sub-<S>/[ses-<X>/]sub-<S>[_ses-<X>]_scans.tsv (acq_time) and
         beh/sub-<S>[_ses-<X>]_task-<T>_run-<n>_events.tsv/.json (+ _physio.tsv.gz/.json:
         the per-frame signals). Runs are numbered by recording time; a recording already
         in the dataset is skipped; no existing file is replaced.
  elan   <out>/<video>.eaf: one tier per side and event type, video linked, for review in ELAN
  csv    <out>/events.csv (one row per event of every recording: spasm episodes, mouth-only
         events, blinks, bilateral closures; `counted` marks the episodes the rates count;
         before version 0.2 this was episodes.csv, with the spasm rows only) and
         <out>/recordings.csv (headline numbers, one row per recording)
  json   <out>/<video>.json (monitor sessions: monitor-session-<id>.json): summary and all
         events of each recording

Booleans: yes/no/n/a in TSV (BIDS), 1/0/empty in CSV, true/false/null in JSON.
In Python, spasm_cv.load(RESULT) and spasm_cv.load_db(PATH) give the same data as pandas
DataFrames."""


class RecordingSource(Protocol):
    """Somewhere other than result folders that recordings come from (``--db``)."""

    def add_report_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options that select its recordings."""

    def report_recordings(self, args: argparse.Namespace) -> list[Recording]:
        """The recordings ``args`` ask for (none when its options are not given)."""


def add_parser(
    subparsers: argparse._SubParsersAction, sources: Sequence[RecordingSource] = ()
) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand on ``subparsers``; returns its parser.

    ``sources``: where recordings come from besides result folders (each adds its options:
    the monitor database's ``--db PATH --from DATE --to DATE``).
    """
    p = subparsers.add_parser(
        "export",
        help="export results as a BIDS dataset, ELAN .eaf, CSV or JSON",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", nargs="*", metavar="RESULT", help="result folder(s)")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--out", default=".", metavar="DIR", help="output folder (default: .)")
    g = p.add_argument_group("bids")
    g.add_argument("--subject", default="01", help="BIDS subject label (default: 01)")
    g.add_argument("--session", help="BIDS session label (default: none)")
    g.add_argument("--task", default="face", help="BIDS task label (default: face)")
    g = p.add_argument_group("elan")
    g.add_argument(
        "--video",
        metavar="PATH",
        help="the video to link (default: the analysed path in summary.json); one RESULT only",
    )
    for source in sources:  # --db PATH --from DATE --to DATE
        source.add_report_arguments(p)
    p.set_defaults(func=run, sources=tuple(sources))
    return p


def gather_recordings(args: argparse.Namespace) -> list[Recording]:
    """Recordings from RESULT folders and from every other source of the parser."""
    recordings = [Recording.from_folder(r) for r in args.results]
    for source in getattr(args, "sources", ()):
        recordings.extend(source.report_recordings(args))
    if not recordings:
        raise SpasmCvError("nothing to export: give result folders (or --db PATH)")
    return recordings


def run(args: argparse.Namespace) -> int:
    from spasm_cv.export import bids_dataset, elan, tables  # pandas: only when exporting

    recordings = gather_recordings(args)
    out = Path(args.out)
    if args.format == "csv":
        written = tables.write_csv(recordings, out)
    elif args.format == "json":
        written = [tables.write_json(r, out) for r in recordings]
    elif args.format == "bids":
        done = bids_dataset.write_dataset(
            recordings, out, subject=args.subject, session=args.session, task=args.task
        )
        for name, base in done.skipped:
            print(f"spasm-cv: note: {name} is already in the dataset as {base}", file=sys.stderr)
        written = done.written
    else:
        if args.video and len(recordings) > 1:
            raise SpasmCvError("--video links one video: give one RESULT with it")
        if any(r.source != "analyze" for r in recordings):
            raise SpasmCvError("ELAN files link a video: monitor sessions have none")
        written = []
        for rec in recordings:
            media = args.video or rec.summary.input.get("path")
            if media and not Path(media).exists():
                print(
                    f"spasm-cv: warning: video not found, linked anyway: {media}", file=sys.stderr
                )
            quality = elan.quality_spans(rec.signals) if rec.signals is not None else ()
            path = out / f"{Path(rec.name).stem}.eaf"
            written.append(elan.write_eaf(rec.events, path, media, quality))
    _check_unique(written)
    for path in written:
        print(path)
    return 0


def _check_unique(paths: list[Path]) -> None:
    seen = set()
    for p in paths:
        if p in seen:
            raise SpasmCvError(
                f"two results were written to the same file {p}: export them "
                "to different --out folders"
            )
        seen.add(p)
