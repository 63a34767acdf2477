"""Serial, parallel and batch engines give the same results on a set of videos.

For every video of ``--set`` (default: the phantom set of ``make_phantom_set.py``):
``analyze --jobs 1`` against ``analyze --jobs N`` (events and signals compared); then
``batch --engine local`` against ``batch --engine ray`` on the whole folder (combined tables
compared without their timing and location columns). Prints one line per comparison and
the wall times.

    python benchmarks/make_phantom_set.py      # once
    python benchmarks/engines_agree.py [--set DIR] [--jobs N] [--no-ray]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))


def compare_analyze(video: Path, jobs: int) -> tuple[bool, str, float, float]:
    """(identical, description, serial wall s, parallel wall s) for one video."""
    from spasm_cv.pipeline import analyze_video

    t0 = time.perf_counter()
    serial = analyze_video(video, write=False, jobs=1)
    t1 = time.perf_counter()
    parallel = analyze_video(video, write=False, jobs=jobs)
    t2 = time.perf_counter()
    a, b = serial.signals, parallel.signals
    same_signals = np.array_equal(a.time, b.time) and all(
        np.array_equal(a[c], b[c], equal_nan=True) for c in a.columns
    )
    same_events = serial.detection.events == parallel.detection.events
    n = len(serial.detection.events)
    text = f"{n} events {'identical' if same_events else 'DIFFERENT'}, signals " + (
        "identical" if same_signals else "DIFFERENT"
    )
    return same_events and same_signals, text, t1 - t0, t2 - t1


def compare_batch(folder: Path, jobs: int) -> tuple[bool, str]:
    import ray

    from spasm_cv.batch.table import TABLE_FILE, TIMING_COLUMNS, read_table
    from spasm_cv.cli import main

    drop = {*TIMING_COLUMNS, "result_dir", "video"}
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("local", "ray"):
            out = Path(tmp) / engine
            t0 = time.perf_counter()
            if engine == "ray":
                ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
            try:
                main(
                    [
                        "batch",
                        str(folder),
                        "--out",
                        str(out),
                        "--engine",
                        engine,
                        "--jobs",
                        str(jobs),
                        "--quiet",
                    ]
                )
            finally:
                if engine == "ray":
                    ray.shutdown()
            rows = read_table(out / TABLE_FILE)
            tables.append([{k: v for k, v in r.items() if k not in drop} for r in rows])
            took = time.perf_counter() - t0
            print(f"  batch --engine {engine}: {len(rows)} rows in {took:.0f} s")
    same = tables[0] == tables[1]
    return same, "combined tables " + ("identical" if same else "DIFFERENT")


def main() -> int:
    from spasm_cv._processes import available_cores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--jobs", type=int, default=max(available_cores(), 2))
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    videos = sorted(args.set.glob("*.mp4"))
    if not videos:
        print(f"skipped: no videos in {args.set} (run benchmarks/make_phantom_set.py)")
        return 0
    ok = True
    print(f"analyze --jobs 1 vs --jobs {args.jobs}, {len(videos)} videos in {args.set}")
    for v in videos:
        same, text, ts, tp = compare_analyze(v, args.jobs)
        ok &= same
        print(f"  {v.name:40s} {text}  (serial {ts:.0f} s, parallel {tp:.0f} s)")
    if not args.no_ray:
        if importlib.util.find_spec("ray") is None:
            print("batch engines: skipped (ray is not installed: pip install '.[ray]')")
        else:
            same, text = compare_batch(args.set, args.jobs)
            ok &= same
            print(f"batch local vs ray: {text}")
    print("ALL IDENTICAL" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
