"""``spasm-cv batch``: analyse many videos, one result folder each, plus a combined table."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from spasm_cv.batch.engines import ENGINES, VideoOutcome, VideoTask, run_batch
from spasm_cv.batch.plan import plan_batch, read_done
from spasm_cv.batch.table import TABLE_FILE, write_table
from spasm_cv.errors import SpasmCvError
from spasm_cv.video.reader import probe

DESCRIPTION = """\
Analyse every video of a folder (searched recursively) or of a list file (one path per
line) and write one result folder per video, OUT/<name>/ (the same files as `spasm-cv
analyze`, <name> being the video's file name without extension), plus OUT/batch.tsv, one
row per video.

Resumable: a video whose result folder is complete and was made from the same file (same
size and modification time) is skipped, so rerunning an interrupted batch finishes only
the missing videos. A video that fails (corrupt, no face, ...) gets an error row and the
batch goes on."""

EPILOG = """\
engines:
  local   a pool of --jobs worker processes on this machine (default)
  ray     tasks on a Ray cluster (--ray-address, e.g. ray://head:10001 or auto; one CPU
          per video, the cluster's CPUs set how many run at once), or on a local Ray
          instance of --jobs CPUs; needs `pip install 'spasm-cv[ray]'`. On a cluster the
          videos and OUT must be at the same paths on every node (a shared filesystem)
          and spasm-cv must be installed on every node.

batch.tsv columns: name status error duration_s observed_s episodes per_hour ci95_low
  ci95_high right right_per_hour left left_per_hour blinks_per_min affected_side video
  result_dir elapsed_s (episodes: one-sided episodes involving the eye; rates per hour of
  observed face time with exact 95 % Poisson intervals; status ok | error | interrupted)

exit status: 0 every video analysed, 1 some videos failed, 2 bad input, 130 interrupted."""


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
    p.add_argument(
        "--json",
        action="store_true",
        help="print the outcome of every video (with its summary.json) as JSON on stdout",
    )
    from spasm_cv.cliargs import add_params_arguments

    add_params_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from spasm_cv.results.params import params_from_args

    if args.ray_address and args.engine != "ray":
        raise SpasmCvError("--ray-address needs --engine ray")
    params = params_from_args(args.params, args.set_params).to_dict()
    out = Path(args.out)
    items = plan_batch(args.input, out)
    out.mkdir(parents=True, exist_ok=True)
    model = str(Path(args.model).resolve()) if args.model else None
    done: dict[str, VideoOutcome] = {}  # skipped (already done) or failed at once
    tasks: list[VideoTask] = []
    weights: dict[str, float] = {}  # container durations, to weigh the progress bar
    for item in items:
        summary = read_done(item, args.mirrored, params)
        if summary is not None:
            done[item.name] = VideoOutcome(
                item.name, str(item.video), str(item.out_dir), "ok", summary=summary
            )
            continue
        try:
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

        outcomes = run_batch(tasks, args.engine, args.jobs, args.ray_address, advance)
    elapsed = time.perf_counter() - start
    by_name = {o.name: o for o in outcomes} | done
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
        return 130
    return 1 if failed else 0


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
