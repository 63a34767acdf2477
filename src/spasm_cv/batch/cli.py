"""``spasm-cv batch``: analyse many videos, one result folder each, plus a combined table."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from spasm_cv._processes import capped_jobs
from spasm_cv.batch import key as key_file
from spasm_cv.batch.engines import ENGINES, VideoOutcome, VideoTask, run_batch
from spasm_cv.batch.plan import BatchItem, plan_batch, read_done
from spasm_cv.batch.table import TABLE_FILE, is_batch_table, write_table
from spasm_cv.cliargs import add_deidentify_options, add_private_option
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.deidentify import from_args
from spasm_cv.results.outputs import (
    ResultTarget,
    check_output_file,
    remove_stale_temporaries,
    write_error,
)

DESCRIPTION = """\
Analyse every video of a folder (searched recursively) or of a list file (one path per
line) and write one result folder per video, OUT/<name>/ (the same files as `spasm-cv
analyze`, <name> being the video's file name without extension), plus OUT/batch.tsv, one
row per video.

Resumable: a video whose result folder is complete and was made from the same file (same
size and modification time) is skipped, so rerunning an interrupted batch finishes only
the missing videos. A video that fails (corrupt, no face, ...) gets an error row and the
batch goes on. A folder under OUT with a video's name that is not a spasm-cv result is never
replaced (that video gets an error row); files you add to a result folder are kept when it
is redone."""

EPILOG = """\
engines:
  local   a pool of --jobs worker processes on this machine (default)
  ray     tasks on a Ray cluster (--ray-address, e.g. ray://head:10001 or auto; one CPU
          per video, the cluster's CPUs set how many run at once), or on a local Ray
          instance of --jobs CPUs; needs `pip install 'spasm-cv[ray]'`. On a cluster the
          videos and OUT must be at the same paths on every node (a shared filesystem)
          and spasm-cv must be installed on every node.

batch.tsv columns: name status error duration_s observed_s episodes per_hour ci95_low
  ci95_high insufficient_observation right right_per_hour left left_per_hour
  blinks_per_min affected_side review_detected review_confirmed video result_dir elapsed_s
  (episodes: one-sided episodes involving the eye; rates per hour of observed face time
  with exact 95 % Poisson intervals; insufficient_observation yes: under 10 min observed,
  the rates are not rates yet; review_*: for a result folder a reviewer reviewed (a batch
  resumed over it), the episodes detected and those the review confirmed; status ok |
  error | interrupted)

de-identified (--deidentify --key FILE): result folders are OUT/rec001, OUT/rec002, ...
  and hold no file name, path or date of the videos (--date-shift DAYS keeps dates, moved);
  batch.tsv gives labels only (video n/a). FILE, written owner-only and outside OUT, is
  the one table linking each label to its video: keep it, do not share it; a rerun with the
  same FILE keeps the labels and resumes.

exit status: 0 every video analysed, 1 some videos failed, 2 bad input, 130 interrupted
  (Ctrl-C), 143 stopped by SIGTERM (the videos being analysed keep a <name>.partial)."""


def add_parser(subparsers) -> None:
    from spasm_cv._processes import available_cores
    from spasm_cv.cliargs import positive_int

    p = subparsers.add_parser(
        "batch",
        help="analyse many videos (resumable), locally or on a Ray cluster",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT_DIR_OR_LIST", help="folder of videos, or list file")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the results")
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=available_cores(),
        metavar="N",
        help="videos analysed at once (default: all cores, here %(default)s)",
    )
    p.add_argument("--engine", choices=ENGINES, default="local", help="default: local")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster (default: start locally)")
    p.add_argument("--mirrored", action="store_true", help="all videos are mirrored selfies")
    p.add_argument("--model", metavar="PATH", help="face_landmarker.task (default: bundled)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    add_private_option(p, "OUT, its result folders and batch.tsv")
    add_deidentify_options(p, "result folders rec001, rec002, ... (needs --key)")
    p.add_argument(
        "--key",
        metavar="FILE",
        help="with --deidentify: the table linking each label to its video (written "
        "owner-only, outside OUT; read again to resume)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the outcome of every video (with its summary.json) as JSON on stdout",
    )
    from spasm_cv.cliargs import add_params_arguments

    add_params_arguments(p)
    p.set_defaults(func=run)


def _deidentified(outcome: VideoOutcome, item: BatchItem) -> VideoOutcome:
    """A row of batch.tsv that names neither the video nor where anything is: the label, the
    numbers, and an error message with paths and file names replaced by the label."""
    error = outcome.error
    if error:
        names = {
            str(item.video),
            str(item.video.resolve()),
            str(item.out_dir),
            str(item.out_dir.resolve()),
            item.video.name,
            item.video.stem,
        }
        for text in sorted(names, key=len, reverse=True):
            error = error.replace(text, item.name)
    return replace(outcome, video="n/a", out_dir=item.name, error=error)


def _check_out(out: Path, source: str) -> None:
    """Refuse, before any work, an --out that is a file, the input, or not writable, and a
    batch.tsv there that this command did not write."""
    if out.exists() and not out.is_dir():
        raise SpasmCvError(f"--out {out} is a file, not a folder: choose a folder for the results")
    src = Path(source)
    if out.exists() and src.exists() and os.path.samefile(out, src):
        raise SpasmCvError(f"--out {out} is the input {src}: choose another folder")
    check_output_file(out / TABLE_FILE, ours=is_batch_table, what="--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(out, exc, "--out") from None


def run(args) -> int:
    from spasm_cv.results.params import params_from_args
    from spasm_cv.video.reader import probe  # here: registering `batch` loads no OpenCV

    if args.ray_address and args.engine != "ray":
        raise SpasmCvError("--ray-address needs --engine ray")
    params = params_from_args(args.params, args.set_params).to_dict()
    out = Path(args.out)
    how = from_args(args)
    if (how is None) != (args.key is None):
        raise SpasmCvError(
            "--deidentify and --key go together: the key links each label to its video"
        )
    items = plan_batch(args.input, out)
    key_path = None if how is None else key_file.check_key_path(args.key, out)
    _check_out(out, args.input)
    remove_stale_temporaries(out)  # left by a run that was killed (kill -9, power cut)
    key: dict[str, key_file.KeyRow] = {}  # --deidentify: the key by video, its rows by label
    rows: dict[str, key_file.KeyRow] = {}
    if key_path is not None:
        key = key_file.read_key(key_path)
        items = key_file.relabel(items, key, out)
        rows = {r.label: r for r in key.values()}  # unchanged rows keep their old file times
        for item in items:
            rows.setdefault(item.name, key_file.KeyRow.of(item.name, item.video, args.mirrored))
        key_file.write_key(key_path, list(rows.values()))  # before any result is written
    jobs = args.jobs if args.ray_address else capped_jobs(args.jobs)  # a cluster has more
    model = str(Path(args.model).resolve()) if args.model else None
    done: dict[str, VideoOutcome] = {}  # skipped (already done) or failed at once
    tasks: list[VideoTask] = []
    weights: dict[str, float] = {}  # container durations, to weigh the progress bar
    for item in items:
        if how is None:
            summary = read_done(item, args.mirrored, params)
        else:
            summary = key_file.done(item, key.get(str(item.video.resolve())), args.mirrored)
        if summary is not None:
            done[item.name] = VideoOutcome(
                item.name, str(item.video), str(item.out_dir), "ok", summary=summary
            )
            continue
        try:
            # never into (nor deleting) a folder that is not a spasm-cv result
            ResultTarget(item.out_dir, inputs=(item.video,), replace=True).check()
            duration = probe(item.video).duration_s
        except SpasmCvError as exc:  # not a video: no need for a worker to find out
            done[item.name] = VideoOutcome(
                item.name, str(item.video), str(item.out_dir), "error", str(exc)
            )
            continue
        weights[item.name] = duration if math.isfinite(duration) and duration > 0 else 0.0
        tasks.append(
            VideoTask(
                item.name,
                str(item.video.resolve()),
                str(item.out_dir.resolve()),
                args.mirrored,
                model,
                how,
                args.private,
                params,
            )
        )
    show = not args.quiet and sys.stderr.isatty()
    start = time.perf_counter()
    from tqdm import tqdm

    with tqdm(
        total=sum(weights.values()) or None,
        unit="video-s",
        unit_scale=True,
        desc=f"batch ({len(tasks)} videos)",
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        counts = {"ok": 0, "error": 0}

        def advance(outcome: VideoOutcome) -> None:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            bar.update(weights.get(outcome.name, 0.0))
            bar.set_postfix(ok=counts["ok"], error=counts["error"], refresh=False)

        outcomes = run_batch(tasks, args.engine, jobs, args.ray_address, advance)
    _say_moved(tasks, outcomes)
    elapsed = time.perf_counter() - start
    by_name = {o.name: o for o in outcomes} | done
    if key_path is not None:
        by_name = {i.name: _deidentified(by_name[i.name], i) for i in items}
        rows.update(
            (o.name, key_file.KeyRow.of(o.name, Path(o.video), args.mirrored))
            for o in outcomes
            if o.status == "ok"  # analysed from the file as it is now
        )
        key_file.write_key(key_path, list(rows.values()))
    table = write_table(out / TABLE_FILE, [by_name[i.name] for i in items])
    skipped = sum(o.status == "ok" for o in done.values())
    failed = [by_name[i.name] for i in items if by_name[i.name].status == "error"]
    n_int = sum(o.status == "interrupted" for o in outcomes)
    if args.json:
        print(json.dumps(_json_doc(table, [by_name[i.name] for i in items]), indent=2))
    elif not args.quiet:
        hours = sum(o.summary.duration_s for o in outcomes if o.summary) / 3600.0
        rate = f", {hours * 3600.0 / elapsed:.1f} video-h/h" if elapsed > 0 and hours else ""
        analysed = sum(o.status == "ok" for o in outcomes)
        print(
            f"{len(items)} videos: {skipped} already done, {analysed} analysed "
            f"({elapsed:.0f} s{rate}), {len(failed)} failed"
            + (f", {n_int} interrupted" if n_int else "")
        )
        for o in failed:
            print(f"  {o.name}: {o.error}")
        print(f"table: {table}")
    if n_int:
        terminated = any("SIGTERM" in (o.error or "") for o in outcomes)
        return 143 if terminated else 130
    return 1 if failed else 0


def _say_moved(tasks: list[VideoTask], outcomes: list[VideoOutcome]) -> None:
    """One line per result that went beside its folder (something appeared there while the
    video was analysed; the workers' own stderr is silenced)."""
    wanted = {t.name: t.out_dir for t in tasks}
    for o in outcomes:
        if o.summary is not None and o.status == "ok" and o.out_dir != wanted.get(o.name):
            print(
                f"spasm-cv: note: {wanted[o.name]} appeared while {o.name} was analysed and "
                f"was left as it is; the output is {o.out_dir}",
                file=sys.stderr,
            )


def _json_doc(table: Path, outcomes: list[VideoOutcome]) -> dict:
    """``--json``: the batch table's path and, per video, its outcome and summary.json."""
    return {
        "table": str(table),
        "videos": [
            {
                "name": o.name,
                "status": o.status,
                "error": o.error,
                "video": o.video,
                "result_dir": o.out_dir if o.summary is not None else None,
                "summary": o.summary.to_dict() if o.summary is not None else None,
            }
            for o in outcomes
        ],
    }
