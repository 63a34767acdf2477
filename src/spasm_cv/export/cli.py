"""``spasm-cv export``: result folders (or monitor sessions) to BIDS, ELAN, CSV or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from spasm_cv.cliargs import (
    add_count_option,
    add_deidentify_options,
    add_private_option,
    counting,
)
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS
from spasm_cv.results.deidentify import deidentify, from_args, is_deidentified, label
from spasm_cv.results.files import EVENT_COLUMNS
from spasm_cv.results.outputs import check_output_file, write_error
from spasm_cv.results.recording import Recording

FORMATS = ("bids", "elan", "csv", "json")

DESCRIPTION = """\
Export analysed recordings (result folders of `spasm-cv analyze`, or the sessions of a
monitor database with --db) for research tools.

  bids   a BIDS dataset in --out (default ./bids; new, or an existing one to add runs to):
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
DataFrames.

Nothing is replaced but a file an earlier export wrote; a BIDS dataset is only ever added to.

--deidentify: recordings are named rec01, rec02, ... (in the order given), and no file
name, path or date of the videos is written (--date-shift DAYS keeps dates, moved); ELAN
files link no video. Subject labels (--subject) are never taken from file names."""


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
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: ./bids for bids, . for the others)"
    )
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
    add_deidentify_options(p, "the export (ELAN files then link no video)")
    add_count_option(p)
    add_private_option(p, "the exported files")
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
    if name in ("events.csv", "episodes.csv", "recordings.csv"):
        return head.startswith(b"recording,")
    if name.endswith(".json"):
        doc = json.loads(path.read_text())
        return isinstance(doc, dict) and {"recording", "summary", "events"} <= set(doc)
    return False


def unique_stems(recordings: list[Recording], name=None) -> list[str]:
    """A distinct file stem per recording: ``name(rec)``'s stem (default its video's name),
    then ``_2``, ``_3`` ... on a clash."""
    stems, seen = [], {}
    for rec in recordings:
        stem = Path(name(rec) if name else rec.name).stem
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
    from spasm_cv.export import bids_dataset, elan, tables  # pandas: only when exporting

    originals = counting(gather_recordings(args), args.count)
    how = from_args(args)
    if how is not None and args.video:
        raise SpasmCvError("--video links a video by its name: not with --deidentify")
    recordings = (
        originals
        if how is None
        else [
            deidentify(r, label(i, max(2, len(str(len(originals))))), how)
            for i, r in enumerate(originals, 1)
        ]
    )
    out = Path(args.out if args.out is not None else "bids" if args.format == "bids" else ".")
    stems = unique_stems(recordings, tables.json_name if args.format == "json" else None)
    if args.format == "elan":
        if args.video and len(recordings) > 1:
            raise SpasmCvError("--video links one video: give one RESULT with it")
        if any(r.source != "analyze" for r in recordings):
            raise SpasmCvError("ELAN files link a video: monitor sessions have none")
    if args.format == "csv":
        paths = [out / tables.EVENTS_CSV, out / tables.RECORDINGS_CSV]
    elif args.format == "json":
        paths = [out / f"{stem}.json" for stem in stems]
    elif args.format == "bids":
        paths = []  # the dataset writer adds files and never replaces one
    else:
        paths = [out / f"{stem}.eaf" for stem in stems]
    _check_out(out, paths)
    try:
        written = _write(args, recordings, out, stems, bids_dataset, elan, tables)
    except OSError as exc:
        raise write_error(out, exc, "--out") from None
    for path in written:
        print(path)
    return 0


def _write(args, recordings, out, stems, bids_dataset, elan, tables) -> list[Path]:
    if args.format == "csv":
        return tables.write_csv(recordings, out, replace=_is_ours)
    if args.format == "json":
        return [
            tables.write_json(r, out, stem, replace=_is_ours)
            for r, stem in zip(recordings, stems, strict=True)
        ]
    if args.format == "bids":
        done = bids_dataset.write_dataset(
            recordings, out, subject=args.subject, session=args.session, task=args.task
        )
        for name, base in done.skipped:
            print(f"spasm-cv: note: {name} is already in the dataset as {base}", file=sys.stderr)
        return done.written
    written = []
    for rec, stem in zip(recordings, stems, strict=True):
        media = args.video or rec.summary.input.get("path")
        if media and not Path(media).exists():
            print(f"spasm-cv: warning: video not found, linked anyway: {media}", file=sys.stderr)
        quality = elan.quality_spans(rec.track) if rec.track is not None else ()
        path = out / f"{stem}.eaf"
        date = elan.NO_DATE if is_deidentified(rec) else None  # no time of processing
        written.append(
            elan.write_eaf(
                rec.events,
                path,
                media,
                quality,
                date=date,
                replace=_is_ours,
                events_sha256=_as_detected(rec),
            )
        )
    return written


def _as_detected(rec) -> str | None:
    """The checksum of a result folder's events.tsv when ``rec`` holds its events as
    detected (not recounted by --count, --min-confidence or --reviewed): an ELAN file made
    from them can be read back as review decisions (``spasm-cv import-review``)."""
    from spasm_cv.results.review import events_sha256

    if rec.source != "analyze" or not rec.path or rec.recounted or is_deidentified(rec):
        return None
    return events_sha256(rec.path)
