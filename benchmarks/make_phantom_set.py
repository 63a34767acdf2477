"""Build the development phantom set and print its acceptance table.

For each of several people in ``../shared/videos`` (beside the repository) it writes a
phantom with one-sided episodes (both sides, all kinds, some with the mouth) and the
uninjected forward-backward loop of the same source as a negative (empty truth table):

    <out>/<name>.mp4  <out>/<name>.truth.tsv  <out>/<name>.truth.json

Acceptance: an episode passes when the landmarker perceives a closure of at least 0.30 on
the injected eye and at most half of that on the other eye; the target is >= 85 % passing.

Usage: python benchmarks/make_phantom_set.py [OUT_DIR] (default /tmp/spasm_phantom_set;
never inside the repository). Skips (exit 0) when the shared videos are absent.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIDEOS = REPO.parent / "shared" / "videos"
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))
DEFAULT_OUT = Path("/tmp/spasm_phantom_set")

MIN_PERCEIVED = 0.30  # closure the landmarker must see on the injected eye
MAX_OTHER_RATIO = 0.5  # ... and at most this fraction of it on the other eye
TARGET_PASS = 0.85


@dataclass(frozen=True)
class Source:
    name: str  # output name stem
    file: str  # in the shared videos folder
    side: str
    seed: int


# One clip per person; each has at least one natural full blink (the eyelid donor).
SOURCES = (
    Source("grid_man", "c3_grid_man_bbaf2n.mp4", "both", 11),
    Source("grid_woman", "c3_grid_woman_brbk7n.mp4", "left", 12),
    Source("grid_man_glasses", "c3_grid_man_glasses_lbax4n.mp4", "right", 13),
    Source("man_glasses_phone", "c3_talking_man_glasses_phone_lp_d13.mp4", "both", 14),
    Source("woman_expressive", "c3_talking_woman_expressive_lp_d10.mp4", "both", 15),
    Source("child", "c3_talking_child_lp_d11.mp4", "both", 16),
    Source("man_expressions", "c3_expressions_man_lp_d18.mp4", "both", 17),
)
SECONDS = 30.0
RATE_PER_MIN = 12.0
MOUTH_PROB = 0.5


def passes(perceived: float, other: float) -> bool:
    """The acceptance criterion for one episode."""
    return perceived >= MIN_PERCEIVED and other <= MAX_OTHER_RATIO * perceived


def build_one(src: Source, out_dir: Path) -> tuple[str, list, str]:
    """Phantom and negative of one source; returns (name, truth rows, log line)."""
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.phantom import PhantomParams, ScheduleParams, make_phantom

    path = VIDEOS / src.file
    if not path.is_file():
        return src.name, [], f"skip {src.name}: {path} missing"
    t0 = time.monotonic()
    schedule = ScheduleParams(side=src.side, rate_per_min=RATE_PER_MIN, mouth_prob=MOUTH_PROB)
    try:
        ph = make_phantom(path, out_dir / f"{src.name}.mp4", out_dir / f"{src.name}.truth.tsv",
                          PhantomParams(seed=src.seed, seconds=SECONDS, schedule=schedule))
        make_phantom(path, out_dir / f"{src.name}_negative.mp4",
                     out_dir / f"{src.name}_negative.truth.tsv",
                     PhantomParams(seed=src.seed, seconds=SECONDS,
                                   schedule=ScheduleParams(rate_per_min=0.0)))
    except SpasmCvError as e:
        return src.name, [], f"skip {src.name}: {e}"
    return src.name, ph.rows, (f"{src.name}: {len(ph.rows)} episodes + negative, "
                               f"{time.monotonic() - t0:.0f} s")


def build(out_dir: Path, jobs: int = 2) -> int:
    """Build every source (``jobs`` processes, one face tracker each) and report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    results = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(build_one, src, out_dir) for src in SOURCES]
        for fut in as_completed(futures):
            name, rows, line = fut.result()
            print(line, flush=True)
            results[name] = rows
    print(f"built {out_dir} in {time.monotonic() - t_all:.0f} s\n")
    rows = [(s.name, r) for s in SOURCES for r in results.get(s.name, [])]
    return report(rows)


def report(rows: list) -> int:
    """Print the per-episode table and the pass fractions; 0 if the target is met."""
    if not rows:
        print("no episode built")
        return 1
    head = ("source", "onset", "side", "kind", "mouth", "peak", "seen", "other", "pass")
    print("  ".join(f"{h:>8}" if i else f"{h:<18}" for i, h in enumerate(head)))
    per: dict[str, list[bool]] = {}
    for name, r in rows:
        ok = passes(r.perceived_closure, r.perceived_closure_other)
        per.setdefault(name, []).append(ok)
        cells = (f"{r.onset_s:.3f}", r.side, r.kind, "yes" if r.mouth else "no",
                 f"{r.peak_closure:.2f}", f"{r.perceived_closure:.2f}",
                 f"{r.perceived_closure_other:.2f}", "yes" if ok else "NO")
        print(f"{name:<18}  " + "  ".join(f"{c:>8}" for c in cells))
    print()
    for name, oks in per.items():
        print(f"{name:<18}  {sum(oks)}/{len(oks)} pass ({100 * sum(oks) / len(oks):.0f} %)")
    all_ok = [ok for oks in per.values() for ok in oks]
    frac = sum(all_ok) / len(all_ok)
    kinds = sorted({r.kind for _, r in rows})
    sides = sorted({r.side for _, r in rows})
    n_mouth = sum(r.mouth for _, r in rows)
    print(f"\nall: {sum(all_ok)}/{len(all_ok)} episodes pass ({100 * frac:.0f} %; target "
          f">= {100 * TARGET_PASS:.0f} %): perceived >= {MIN_PERCEIVED} on the injected eye "
          f"and <= {MAX_OTHER_RATIO} x that on the other")
    print(f"sides {','.join(sides)}; kinds {','.join(kinds)}; {n_mouth} with the mouth; "
          f"{len(per)} people")
    return 0 if frac >= TARGET_PASS else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if not VIDEOS.is_dir():
        print(f"skipped: {VIDEOS} not found (the shared development videos)")
        return 0
    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        print(f"refusing to write inside the repository: {out}", file=sys.stderr)
        return 2
    return build(out, max(args.jobs, 1))


if __name__ == "__main__":
    sys.exit(main())
