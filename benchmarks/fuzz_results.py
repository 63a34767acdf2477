"""The long run of the fuzzing harness (issue 22): hostile edits of a valid result folder and a
valid monitor database, read by load, load_db, report, export (every format) and review
--episodes-only; every run must end in an output or one line with exit 2.

    python benchmarks/fuzz_results.py                      # 1000 folder + 1000 database cases
    python benchmarks/fuzz_results.py --examples 200 --sample  # also the bundled sample's folder

The valid inputs are made once: a result folder from simulated signals through the real
writers (and with ``--sample`` the bundled sample analysed once with MediaPipe, whose video
``review --episodes-only`` then reads), and a monitor database written through the Store. The
edits and the checks are those of tests/test_fuzz.py (tests/fuzzing.py). Each case tried is
printed (what was edited, the command, its exit code and the first line it printed); at the
end, the counts per outcome. Exit status 1 if any case failed (Hypothesis prints the smallest).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for where in (REPO / "src", REPO / "tests"):
    if str(where) not in sys.path:  # run from a checkout without installing
        sys.path.insert(0, str(where))

from fuzzing import (  # noqa: E402
    check_outcome,
    db_case,
    folder_case,
    make_db,
    simulated_detection,
    synthetic_result,
)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OUTCOMES: collections.Counter = collections.Counter()
COUNT = itertools.count(1)


def fuzz(case, valid: Path, work: Path, n: int, kind: str) -> None:
    """Run ``n`` cases of ``case`` (:func:`folder_case` or :func:`db_case`), printing each."""

    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data):
        what, code, err = case(valid, work, data)
        first = next((line for line in err.splitlines() if line.strip()), "")
        OUTCOMES[(kind, what.split(" after ")[0], code)] += 1
        print(f"{next(COUNT):5d} {kind:6s} exit {code} {what[:60]:60s} {first[:100]}", flush=True)
        check_outcome(what, code, err)

    one()


def sample_result(work: Path) -> Path:
    """The bundled sample analysed once (MediaPipe, about 30 s), through the command line."""
    from conftest import SAMPLE_RECORDED_AT, cli

    run = cli("--recorded-at", SAMPLE_RECORDED_AT.isoformat(), "--quiet", cwd=work)
    if run.returncode != 0:
        raise SystemExit(f"the sample could not be analysed: {run.stderr}")
    return work / "sample_phantom.spasm-cv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=1000, help="cases per input (default 1000)")
    ap.add_argument(
        "--sample",
        action="store_true",
        help="also fuzz the bundled sample's result folder (analysed once)",
    )
    args = ap.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="spasm-cv-fuzz-") as tmp:
        root = Path(tmp)
        valid = {"simulated": synthetic_result(root)}
        if args.sample:
            valid["sample"] = sample_result(root)
        db = make_db(root / "valid.sqlite", simulated_detection().events)
        jobs = [(f"folder ({name})", folder_case, folder) for name, folder in valid.items()]
        jobs.append(("monitor database", db_case, db))
        for i, (name, case, src) in enumerate(jobs):
            work = root / f"work{i}"
            work.mkdir()
            print(f"== {name}: {args.examples} cases", flush=True)
            try:
                fuzz(case, src, work, args.examples, "db" if case is db_case else "folder")
            except AssertionError as exc:
                failed = True
                print(f"FAILED ({name}): {exc}", flush=True)
    print(f"\n{sum(OUTCOMES.values())} cases tried")
    for (kind, command, code), n in sorted(OUTCOMES.items()):
        print(f"  {kind:6s} {command:12s} exit {code}: {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
