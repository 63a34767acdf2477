"""``spasm-cv export``: result folders to BIDS events, ELAN, CSV or JSON files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spasm_cv.cliargs import add_deidentify_options, add_private_option
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS
from spasm_cv.results.deidentify import deidentify, from_args, label
from spasm_cv.results.files import EVENT_COLUMNS
from spasm_cv.results.outputs import check_output_file, write_error
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


def _is_ours(path: Path) -> bool:
    """Whether an existing file at an export path is one ``spasm-cv export`` wrote."""
    with open(path, "rb") as f:
        head = f.read(4096)
    name = path.name
    if name.endswith(".eaf"):
        return b'AUTHOR="spasm-cv"' in head
    if name.endswith("_events.tsv"):
        return head.split(b"\n", 1)[0].decode() == "\t".join(EVENT_FIELDS)
    if name.endswith("_events.json"):
        return set(json.loads(path.read_text())) == set(EVENT_COLUMNS)
    if name in ("episodes.csv", "recordings.csv"):
        return head.startswith(b"recording,")
    if name.endswith(".json"):
        doc = json.loads(path.read_text())
        return isinstance(doc, dict) and {"recording", "summary", "events"} <= set(doc)
    return False


def unique_stems(recordings: list[Recording]) -> list[str]:
    """A distinct file stem per recording: its video's name, ``_2``, ``_3`` ... on a clash."""
    stems, seen = [], {}
    for rec in recordings:
        stem = Path(rec.name).stem
        seen[stem] = seen.get(stem, 0) + 1
        stems.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    if len(set(stems)) != len(stems):  # "a_2" given as a name too: number them all
        stems = [f"{s}_{i}" for i, s in enumerate(stems, 1)]
    return stems


def _check_out(out: Path, paths: list[Path]) -> None:
    """Before anything is written: --out is a folder (or new), every file may be written."""
    if out.exists() and not out.is_dir():
        raise SpasmCvError(f"--out {out} is a file, not a folder: choose a folder")
    for p in paths:
        check_output_file(p, ours=_is_ours, what="export")


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
    stems = unique_stems(recordings)
    if args.format == "elan" and args.video and len(recordings) > 1:
        raise SpasmCvError("--video links one video: give one RESULT with it")
    if args.format == "csv":
        paths = [out / "episodes.csv", out / "recordings.csv"]
    elif args.format == "json":
        paths = [out / f"{stem}.json" for stem in stems]
    elif args.format == "bids":
        many = len(recordings) > 1
        names = [
            bids.bids_name(args.subject, args.task, args.session, i if many else None)
            for i in range(1, len(recordings) + 1)
        ]
        paths = [out / f"{n}_events{ext}" for n in names for ext in (".tsv", ".json")]
    else:
        paths = [out / f"{stem}.eaf" for stem in stems]
    _check_out(out, paths)
    try:
        written = _write(args, recordings, originals, out, stems, bids, elan, tables)
    except OSError as exc:
        raise write_error(out, exc, "--out") from None
    for path in written:
        print(path)
    return 0


def _write(args, recordings, originals, out, stems, bids, elan, tables) -> list[Path]:
    if args.format == "csv":
        return tables.write_csv(recordings, out)
    if args.format == "json":
        return [tables.write_json(r, out, stem) for r, stem in zip(recordings, stems, strict=True)]
    if args.format == "bids":
        many = len(recordings) > 1
        written = []
        # copies events.tsv/json (times and levels only) from the result folder, which a
        # de-identified recording no longer names
        for i, rec in enumerate(originals, 1):
            name = bids.bids_name(args.subject, args.task, args.session, i if many else None)
            written += bids.write_bids(rec.path, out, name)
        return written
    written = []
    for rec, stem in zip(recordings, stems, strict=True):
        media = args.video or rec.summary.input.get("path")
        if media and not Path(media).exists():
            print(f"spasm-cv: warning: video not found, linked anyway: {media}", file=sys.stderr)
        quality = elan.quality_spans(rec.signals) if rec.signals is not None else ()
        written.append(elan.write_eaf(rec.events, out / f"{stem}.eaf", media, quality))
    return written
