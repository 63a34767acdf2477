"""``spasm-cv export``: result folders to BIDS events, ELAN, CSV or JSON files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spasm_cv.cliargs import add_deidentify_options, add_private_option
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.deidentify import deidentify, from_args, label
from spasm_cv.results.recording import Recording

FORMATS = ("bids", "elan", "csv", "json")

DESCRIPTION = """\
Export analysed recordings (result folders of `spasm-cv analyze`) for research tools.

  bids   <out>/sub-<S>[_ses-<X>]_task-<T>[_run-<n>]_events.tsv + .json (BIDS events; the
         sidecar is checked to describe every column and every level first)
  elan   <out>/<video>.eaf: one tier per side and event type, video linked, for review in ELAN
  csv    <out>/episodes.csv (one row per one-sided event of every RESULT) and
         <out>/recordings.csv (headline numbers, one row per RESULT)
  json   <out>/<video>.json: summary and all events of each RESULT

In Python, spasm_cv.load(RESULT) gives the same data as pandas DataFrames.

--deidentify: recordings are named rec01, rec02, ... (in the order given), and no file
name, path or date of the videos is written (--date-shift DAYS keeps dates, moved); ELAN
files link no video. Subject labels (--subject) are never taken from file names."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand on ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "export",
        help="export results as BIDS events, ELAN .eaf, CSV or JSON",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", nargs="+", metavar="RESULT", help="result folder(s)")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--out", default=".", metavar="DIR", help="output folder (default: .)")
    g = p.add_argument_group("bids")
    g.add_argument("--subject", default="01", help="BIDS subject label (default: 01)")
    g.add_argument("--session", help="BIDS session label")
    g.add_argument("--task", default="face", help="BIDS task label (default: face)")
    g = p.add_argument_group("elan")
    g.add_argument(
        "--video",
        metavar="PATH",
        help="the video to link (default: the analysed path in summary.json); one RESULT only",
    )
    add_deidentify_options(p, "the export (ELAN files then link no video)")
    add_private_option(p, "the exported files")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from spasm_cv.export import bids, elan, tables  # pandas: only when exporting

    originals = [Recording.from_folder(r) for r in args.results]
    how = from_args(args)
    if how is not None and args.video:
        raise SpasmCvError("--video links a video by its name: not with --deidentify")
    recordings = originals if how is None else [
        deidentify(r, label(i, max(2, len(str(len(originals))))), how)
        for i, r in enumerate(originals, 1)
    ]
    out = Path(args.out)
    if args.format == "csv":
        written = tables.write_csv(recordings, out)
    elif args.format == "json":
        written = [tables.write_json(r, out) for r in recordings]
    elif args.format == "bids":
        many = len(recordings) > 1
        written = []
        # copies events.tsv/json (times and levels only) from the result folder, which a
        # de-identified recording no longer names
        for i, rec in enumerate(originals, 1):
            name = bids.bids_name(args.subject, args.task, args.session, i if many else None)
            written += bids.write_bids(rec.path, out, name)
    else:
        if args.video and len(recordings) > 1:
            raise SpasmCvError("--video links one video: give one RESULT with it")
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
