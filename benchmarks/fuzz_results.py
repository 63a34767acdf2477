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
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for where in (REPO / "src", REPO / "tests"):
    if str(where) not in sys.path:  # run from a checkout without installing
        sys.path.insert(0, str(where))

from fuzzing import (  # noqa: E402
    DB_COMMANDS,
    FOLDER_COMMANDS,
    check_outcome,
    fresh_copy,
    make_db,
    mutate_db,
    mutate_folder,
    run_db_command,
    run_folder_command,
    simulated_detection,
    synthetic_result,
)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

OUTCOMES: collections.Counter = collections.Counter()
COUNT = itertools.count(1)


def _report(kind: str, what: str, command: tuple, code: int, err: str) -> None:
    first = next((line for line in err.splitlines() if line.strip()), "")
    OUTCOMES[(kind, " ".join(command), code)] += 1
    print(f"{next(COUNT):5d} {kind:6s} {what:28.28s} {' '.join(command):12s} exit {code} "
          f"{first[:110]}", flush=True)


def fuzz_folder(valid: Path, work: Path, n: int) -> None:
    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def case(data):
        folder = fresh_copy(valid, work / "r" / valid.name)
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        what = mutate_folder(folder, data)
        command = data.draw(st.sampled_from(FOLDER_COMMANDS), "command")
        code, err = run_folder_command(command, folder, out)
        _report("folder", what, command, code, err)
        check_outcome(code, err, f"{' '.join(command)} after editing {what}")

    case()


def fuzz_db(valid: Path, work: Path, n: int) -> None:
    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def case(data):
        db = fresh_copy(valid, work / "monitor.sqlite")
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        what = mutate_db(db, data)
        command = data.draw(st.sampled_from(DB_COMMANDS), "command")
        code, err = run_db_command(command, db, out)
        _report("db", what, command, code, err)
        check_outcome(code, err, f"{' '.join(command)} after editing {what}")

    case()


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
    ap.add_argument("--sample", action="store_true",
                    help="also fuzz the bundled sample's result folder (analysed once)")
    args = ap.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="spasm-cv-fuzz-") as tmp:
        root = Path(tmp)
        valid = {"simulated": synthetic_result(root)}
        if args.sample:
            valid["sample"] = sample_result(root)
        db = make_db(root / "valid.sqlite", simulated_detection().events)
        jobs = [(f"folder ({name})", fuzz_folder, folder) for name, folder in valid.items()]
        jobs.append(("monitor database", fuzz_db, db))
        for i, (name, fuzz, src) in enumerate(jobs):
            work = root / f"work{i}"
            work.mkdir()
            print(f"== {name}: {args.examples} cases", flush=True)
            try:
                fuzz(src, work, args.examples)
            except AssertionError as exc:
                failed = True
                print(f"FAILED ({name}): {exc}", flush=True)
    print(f"\n{sum(OUTCOMES.values())} cases tried")
    for (kind, command, code), n in sorted(OUTCOMES.items()):
        print(f"  {kind:6s} {command:12s} exit {code}: {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
