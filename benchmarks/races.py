"""Race harness: a user's file at an output path, made at a random moment of a real run.

For each command (``analyze`` of a short cut of the bundled sample, ``review`` of its
result, as one video and as episode clips, ``export`` as CSV and BIDS, ``batch`` of two
cuts) and ``--runs`` runs each, the
command is started as its own process and, at a random moment from a third of its usual
duration (the start is mostly imports) to a little after its end, one of these is made at
its output path:

- ``file``: a user's file where the output goes;
- ``link``: a symbolic link to a user's folder (or file) elsewhere;
- ``inside``: a user's file inside the output folder (the folder made if it is not there
  yet; for a file output, a user's file where it goes).

Then the property is checked: the user's file (and a link's target) survives byte for byte,
the link is still a link, and the tool's output is never lost: the command exits 0 with
its output at the path or beside it (``NAME-2``, named in a ``spasm-cv: note:`` line), or
refuses with one line and exit 2 before doing the work; no hidden temporary is left behind.
It prints the cases tried (by command, intrusion and outcome) and every failure.

    python benchmarks/races.py [--runs 50] [--only analyze,export-csv] [--seed 0] [--work DIR]

Exit status 1 if any case failed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

SAMPLE = REPO / "sample_videos" / "sample_phantom.mp4"
USER = b"the user's own bytes\n\x00\xff"
KINDS = ("file", "link", "inside")
NOTE = re.compile(r"the output is (.+)$", re.MULTILINE)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    return env


def spasm_cv(*args: object) -> list[str]:
    return [sys.executable, "-m", "spasm_cv", *map(str, args)]


def cut(src: Path, dst: Path, seconds: float, start_s: float = 0.0) -> Path:
    """``seconds`` of ``src`` from ``start_s`` (a real face, quick to analyse)."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    size = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.set(cv2.CAP_PROP_POS_FRAMES, int(start_s * fps))
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(seconds * fps)):
        ok, frame = cap.read()
        if not ok:
            break
        out.write(frame)
    out.release()
    cap.release()
    return dst


@dataclass(frozen=True)
class Command:
    """A command run in folder ``run``: its arguments, and the output path intruded on in
    run number ``i``."""

    name: str
    args: Callable[[Path], list[object]]
    target: Callable[[Path, int], Path]


def commands(work: Path) -> dict[str, Command]:
    """The commands, with their inputs made once in ``work``."""
    video = cut(SAMPLE, work / "cut.mp4", 4.0, 20.0)
    vids = work / "videos"
    vids.mkdir(exist_ok=True)
    cut(SAMPLE, vids / "one.mp4", 3.0, 10.0)
    cut(SAMPLE, vids / "two.mp4", 3.0, 30.0)
    result = work / "cut.spasm-cv"
    if not result.exists():
        subprocess.run(spasm_cv("analyze", video, "--out", result, "--quiet"), check=True,
                       env=_env())  # fmt: skip
    return {
        "analyze": Command(
            "analyze", lambda r: ["analyze", video, "--out", r / "a.spasm-cv", "--quiet"],
            lambda r, i: r / "a.spasm-cv",
        ),
        "review": Command(
            "review", lambda r: ["review", result, "--out", r / "x.mp4", "--quiet"],
            lambda r, i: r / "x.mp4",
        ),
        "review-episodes": Command(
            "review-episodes",
            lambda r: ["review", result, "--episodes-only", "--out", r / "E", "--quiet"],
            lambda r, i: r / "E",
        ),
        "export-csv": Command(
            "export-csv", lambda r: ["export", result, "--format", "csv", "--out", r / "t"],
            lambda r, i: r / "t" / "events.csv",
        ),
        "export-bids": Command(
            "export-bids", lambda r: ["export", result, "--format", "bids", "--out", r / "b"],
            lambda r, i: r / "b" / "sub-01" / "beh" / "sub-01_task-face_run-1_events.tsv",
        ),
        "batch": Command(
            "batch", lambda r: ["batch", vids, "--out", r / "o", "--jobs", "1", "--quiet"],
            lambda r, i: r / "o" / ("one", "batch.tsv")[i % 2],  # a result folder, the table
        ),
    }  # fmt: skip


def intrude(kind: str, p: Path, run: Path) -> tuple[str, Path] | None:
    """Make ``kind`` at output path ``p`` of run folder ``run`` now; what was made (None:
    too late, the output is there already and ``kind`` needs it absent)."""
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "file":
            with open(p, "xb") as f:
                f.write(USER)
            return "file", p
        if kind == "link":
            elsewhere = run / "elsewhere"
            elsewhere.mkdir()
            (elsewhere / "mine.txt").write_bytes(USER)
            os.symlink(elsewhere, p)
            return "link", p
        if p.suffix and not p.is_dir():  # a file output: the user's file where it goes
            return intrude("file", p, run)
        p.mkdir(exist_ok=True)
        with open(p / "mine.txt", "xb") as f:
            f.write(USER)
        return "inside", p / "mine.txt"
    except FileExistsError:
        return None


def check(
    made: tuple[str, Path] | None, code: int, err: str, target: Path, run: Path, batch: bool
) -> list[str]:
    """What went wrong (nothing: an empty list)."""
    problems = []
    if made is not None:
        kind, p = made
        if kind == "link":
            elsewhere = run / "elsewhere"
            if not p.is_symlink() or Path(os.readlink(p)) != elsewhere:
                problems.append(f"the link {p} was replaced or removed")
            if sorted(os.listdir(elsewhere)) != ["mine.txt"]:
                problems.append(f"the link's target {elsewhere} changed")
            elif (elsewhere / "mine.txt").read_bytes() != USER:
                problems.append("the file behind the link changed")
        elif not p.is_file() or p.is_symlink() or p.read_bytes() != USER:
            problems.append(f"the user's file {p} was changed or removed")
    lines = [ln for ln in err.splitlines() if ln.startswith("spasm-cv: error:")]
    if code == 2:
        if len(lines) != 1 or "Traceback" in err or made is None:
            problems.append(f"exit 2 without one error line caused by the user: {err!r}")
    elif code == 1 and batch:  # the video whose folder was taken gets an error row
        table = target.parent / "batch.tsv"
        if made is None or not table.is_file() or "\terror\t" not in table.read_text():
            problems.append(f"exit 1 without an error row caused by the user: {err!r}")
    elif code != 0:
        problems.append(f"exit {code}: {err.strip()[-300:]!r}")
    else:
        beside = NOTE.findall(err)
        where = [Path(b) for b in beside] or [target]
        if made is not None and made[1] == target and not beside:
            problems.append("the output took a name the user had (no note)")
        if not all(os.path.lexists(w) for w in where):
            problems.append(f"the output is missing: {where}")
    for folder in {target.parent, target.parent.parent}:
        hidden = [n for n in os.listdir(folder) if re.match(r"\..*\.(tmp|old)-\d+-", n)]
        if hidden:
            problems.append(f"temporaries left in {folder}: {hidden}")
    return problems


def outcome(made, code: int, err: str) -> str:
    if made is None:
        return "late"
    if code in (1, 2):
        return "refused"
    return "beside" if NOTE.search(err) else "in place"


def run_case(cmd: Command, run: Path, i: int, kind: str, delay: float) -> tuple[str, list[str]]:
    run.mkdir(parents=True)
    target = cmd.target(run, i)
    proc = subprocess.Popen(spasm_cv(*cmd.args(run)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())  # fmt: skip
    time.sleep(delay)
    made = intrude(kind, target, run)
    _, err = proc.communicate(timeout=600)
    problems = check(made, proc.returncode, err, target, run, cmd.name == "batch")
    return outcome(made, proc.returncode, err), problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=50, help="runs per command (default 50)")
    names = ("analyze", "review", "review-episodes", "export-csv", "export-bids", "batch")
    ap.add_argument("--only", help="commas: " + ", ".join(names))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, help="folder for the runs (default: a temporary one)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="spasm-cv-races-"))
    work.mkdir(parents=True, exist_ok=True)
    cmds = commands(work)
    if args.only:
        cmds = {k: v for k, v in cmds.items() if k in args.only.split(",")}
    tried: Counter[tuple[str, str, str]] = Counter()
    failures = []
    for name, cmd in cmds.items():
        start = time.perf_counter()  # its usual duration, without intrusion
        subprocess.run(spasm_cv(*cmd.args(work / f"{name}-plain")), capture_output=True,
                       env=_env(), check=True)  # fmt: skip
        usual = time.perf_counter() - start
        for i in range(args.runs):
            kind = KINDS[(i // 2) % len(KINDS)]  # batch: both targets meet every kind
            delay = usual * rng.uniform(0.3, 1.1)  # the start is mostly imports
            got, problems = run_case(cmd, work / f"{name}-{i}", i, kind, delay)
            tried[name, kind, got] += 1
            for problem in problems:
                failures.append(f"{name} run {i} ({kind} at {delay:.2f} s): {problem}")
        print(f"{name}: {args.runs} runs (usual duration {usual:.1f} s)", flush=True)
    print("\ncases tried (command, intrusion, outcome: count)")
    for (name, kind, got), n in sorted(tried.items()):
        print(f"  {name:12s} {kind:7s} {got:9s} {n}")
    print(f"\n{len(failures)} failure(s)")
    for f in failures:
        print("  " + f)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
