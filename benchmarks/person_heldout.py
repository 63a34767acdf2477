"""The detector on people it was not tuned on: k-fold evaluation by person.

    python benchmarks/make_phantom_set.py       # once: every person of ../shared/videos
    python benchmarks/person_heldout.py [--set DIR] [--work DIR] [--folds 5]
    python benchmarks/make_phantom_set.py --sealed && python benchmarks/person_heldout.py --sealed

MediaPipe runs once per video (signals cached in WORK/signals/<video>.npz while the video and
the landmarking are unchanged); detection is re-run from the cache with the code as it is.
People are dealt into folds (two clips of one person share a fold, ``people.tsv``); whatever
is tuned or trained is fitted on the other folds' people only, then each fold's people are
scored. Prints the per-person table (worst first), the pooled figures and the worst person.
False episodes count every counted episode (``spasm`` rows involving the eye, what rates
count) on the uninjected videos and outside the placed episodes of the phantoms; mouth-only
events (counted apart from episodes) and possible episodes (listed, not counted) are
reported beside them, each matched against the placed episodes the same way.

``--sealed [DIR]`` scores the sealed people (``../shared/videos/SEALED.txt``, built by
``make_phantom_set.py --sealed`` into /tmp/spasm_sealed_set) with the detector exactly as it
ships: design, thresholds and confidence model all fixed before, nothing fitted or chosen on
them. It is a final test: run it once a change's design is final, quote its figures whatever
they are, and never change anything because of them.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO / "src"))

from spasm_cv.evaluation.match import (  # noqa: E402
    Episodes,
    EvaluationParams,
    match_episodes,
)
from spasm_cv.evaluation.metrics import EvaluationResult, evaluate_events  # noqa: E402
from spasm_cv.evaluation.persons import (  # noqa: E402
    assign_folds,
    by_person,
    format_person_table,
    summary_lines,
)
from spasm_cv.evaluation.tables import read_truth, read_truth_duration  # noqa: E402
from spasm_cv.signals.table import Signals  # noqa: E402

CACHE_VERSION = 3  # bump when the landmarking or the signal columns change


@dataclass
class Video:
    name: str
    person: str
    role: str  # phantom | negative
    path: Path
    truth: Path


def read_people(set_dir: Path) -> list[Video]:
    with (set_dir / "people.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        Video(
            r["video"],
            r["person"],
            r["role"],
            set_dir / f"{r['video']}.mp4",
            set_dir / f"{r['video']}.truth.tsv",
        )
        for r in rows
    ]


# ---------------------------------------------------------------- signals cache
def _key(video: Path) -> dict:
    st = video.stat()
    return {"size": st.st_size, "mtime": st.st_mtime, "version": CACHE_VERSION}


def save_signals(path: Path, signals: Signals, key: dict) -> None:
    arrays = {f"col:{k}": v for k, v in signals.columns.items()}
    meta = json.dumps({"meta": signals.meta, "key": key}, default=str)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        time=signals.time,
        face=signals.face,
        n_faces=signals.n_faces,
        meta=np.array(meta),
        **arrays,
    )
    tmp.replace(path)


def load_signals(path: Path, key: dict | None = None) -> Signals | None:
    if not path.exists():
        return None
    with np.load(path) as z:
        doc = json.loads(str(z["meta"]))
        if key is not None and doc["key"] != key:
            return None
        cols = {k[4:]: z[k] for k in z.files if k.startswith("col:")}
        return Signals(z["time"], z["face"], z["n_faces"], cols, doc["meta"])


def _extract(video: Path, out: Path) -> str:
    from spasm_cv.pipeline import extract_signals

    save_signals(out, extract_signals(video), _key(video))
    return video.name


def cache_all(videos: list[Video], work: Path, jobs: int) -> dict[str, Signals]:
    """Signals of every video, landmarking (``jobs`` processes) those not cached yet."""
    (work / "signals").mkdir(parents=True, exist_ok=True)
    todo = [
        v for v in videos if load_signals(work / "signals" / f"{v.name}.npz", _key(v.path)) is None
    ]
    if todo:
        t0 = time.monotonic()
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futs = [pool.submit(_extract, v.path, work / "signals" / f"{v.name}.npz") for v in todo]
            for i, fut in enumerate(as_completed(futs), 1):
                print(
                    f"[{i}/{len(todo)}] landmarked {fut.result()} ({time.monotonic() - t0:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    return {v.name: load_signals(work / "signals" / f"{v.name}.npz") for v in videos}


# ---------------------------------------------------------------- scoring
def predicted_episodes(events) -> Episodes:
    spasms = list(events)
    return Episodes(
        np.array([e.onset for e in spasms]),
        np.array([e.duration for e in spasms]),
        np.array([e.side for e in spasms], dtype=object),
        np.array([e.kind or "n/a" for e in spasms], dtype=object),
    )


def observed_s(video: Video, detection) -> float:
    """Observed face time from the detection's activity (both sides measurable)."""
    a = detection.activity
    both = a.measurable["right"] & a.measurable["left"]
    return (
        float(np.count_nonzero(both) / detection.fps)
        if len(a)
        else (read_truth_duration(video.truth) or 0.0)
    )


# (confidence, matched a placed episode) of every held-out spasm event: the calibration table
SCORED_EVENTS: list[tuple[float, bool]] = []
# matched a placed episode, for every held-out possible episode (listed, not counted) and
# mouth-only event (counted apart)
POSSIBLE_EVENTS: list[bool] = []
MOUTH_ONLY_EVENTS: list[bool] = []


def score(video: Video, events, observed: float, params: EvaluationParams) -> EvaluationResult:
    truth = read_truth(video.truth)
    episodes = [e for e in events if e.is_episode]
    predicted = predicted_episodes(episodes)
    hit = set(match_episodes(truth, predicted, params.tolerance_s).pred_index.tolist())
    SCORED_EVENTS.extend((e.confidence, i in hit) for i, e in enumerate(episodes))
    for kept, which in (
        (POSSIBLE_EVENTS, [e for e in events if e.is_possible]),
        (MOUTH_ONLY_EVENTS, [e for e in events if e.is_mouth_only]),
    ):
        if which:
            found = match_episodes(truth, predicted_episodes(which), params.tolerance_s)
            hit = set(found.pred_index.tolist())
            kept.extend(i in hit for i in range(len(which)))
    return evaluate_events(truth, predicted, observed, params)


def calibration_table(scored: list[tuple[float, bool]]) -> str:
    """Held-out episodes by confidence: how many, and the share that were real."""
    lines = ["confidence   episodes   real   share real"]
    edges = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
    conf = np.array([c for c, _ in scored])
    real = np.array([r for _, r in scored], dtype=bool)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf >= lo) & (conf < hi)
        if m.any():
            lines.append(
                f"{lo:.1f}-{min(hi, 1.0):.1f}   {m.sum():>8}   {real[m].sum():>4}   "
                f"{real[m].mean():>10.3f}"
            )
    m = conf >= 0.8
    if m.any():
        lines.append(f">= 0.8     {m.sum():>8}   {real[m].sum():>4}   {real[m].mean():>10.3f}")
    return "\n".join(lines)


def run_default(videos, signals, folds, params, scoring=None):
    """The packaged detector as it ships: the same rule, but its confidence model was fitted
    on these very people (confidence figures optimistic; decisions identical to ``rule``)."""
    from spasm_cv.events.detect import detect

    scoring = scoring or signals
    results = {}
    for v in videos:
        if v.role == "training":
            continue
        det = detect(scoring[v.name])
        results[v.name] = score(v, det.events, observed_s(v, det), params)
    return results


def fold_models(videos, signals, folds, boosted: bool = False, fixed: bool = False) -> dict:
    """For each fold, what is learnt or chosen on the other folds' people only (their
    phantoms, training phantoms and normal faces): (thresholds of the rule, its confidence),
    (``fixed``) (the shipped thresholds, its confidence) or (``boosted``) (default
    parameters, gradient-boosted trees deciding on their own)."""
    from detector_training import (
        RULE_GRID,
        candidate_table,
        choose_rule,
        fit_boosted,
        fit_confidence,
    )

    from spasm_cv.events.params import DetectionParams

    tables = {v.name: candidate_table(signals[v.name], read_truth(v.truth)) for v in videos}
    models = {}
    for k in sorted(set(folds.values())):
        train = [v for v in videos if folds[v.person] != k]
        args = ([tables[v.name] for v in train], [v.person for v in train], f"fold-{k}")
        if boosted:
            models[k] = (DetectionParams(), fit_boosted(*args))
        elif fixed:
            models[k] = (DetectionParams(), fit_confidence(*args, "", DetectionParams()))
        else:
            hours = sum(
                len(signals[v.name]) / signals[v.name].fps / 3600.0
                for v in train
                if v.role != "training"
            )
            rule = choose_rule(args[0], args[1], [v.role != "training" for v in train], hours)
            models[k] = (rule, fit_confidence(*args, "", rule))
            print(
                f"fold {k}: " + ", ".join(f"{n} {rule.to_dict()[n]}" for n in RULE_GRID),
                file=sys.stderr,
            )
    return models


def _run_folds(videos, signals, folds, params, scoring, boosted, fixed=False):
    from spasm_cv.events.detect import detect

    models = fold_models(videos, signals, folds, boosted, fixed)
    scoring = scoring or signals
    results = {}
    for v in videos:
        if v.role != "training":
            rule, model = models[folds[v.person]]
            det = detect(scoring[v.name], rule, model=model)
            results[v.name] = score(v, det.events, observed_s(v, det), params)
    return results


def run_rule(videos, signals, folds, params, scoring=None):
    """The episode rule with its thresholds chosen, and its confidence fitted, without each
    fold's people (:func:`fold_models`); ``scoring``: other signals of the same videos to
    score (e.g. degraded), default the ones fitted on."""
    return _run_folds(videos, signals, folds, params, scoring, boosted=False)


def run_fixed(videos, signals, folds, params, scoring=None):
    """The shipped thresholds (``DetectionParams()``, fixed before), with the confidence
    fitted without each fold's people: the figures of the detector as it ships."""
    return _run_folds(videos, signals, folds, params, scoring, boosted=False, fixed=True)


def run_boosted(videos, signals, folds, params, scoring=None):
    """Gradient-boosted trees over all features deciding instead of the rule, each fold's
    fitted without that fold's people (the learned alternative the rule is compared with)."""
    return _run_folds(videos, signals, folds, params, scoring, boosted=True)


METHODS = {"rule": run_rule, "fixed": run_fixed, "boosted": run_boosted, "packaged": run_default}


def false_event_lines(
    scored: list[tuple[float, bool]], results: dict, videos: list[Video]
) -> list[str]:
    """False episodes on the normal faces (videos without placed episodes) per hour of those
    faces, and how confident every false event was."""
    negatives = [results[v.name] for v in videos if v.role == "negative" and v.name in results]
    fp = sum(r.fp for r in negatives)
    hours = sum(r.observed_s or 0.0 for r in negatives) / 3600.0
    conf = np.array([c for c, real in scored if not real])
    line = (
        f"normal faces: {fp} false episodes in {60 * hours:.1f} min = "
        f"{fp / hours if hours else float('nan'):.1f}/h"
    )
    if conf.size:
        line += (
            f"; confidence of all {conf.size} false events: median {np.median(conf):.2f}, "
            f"range {conf.min():.2f}-{conf.max():.2f}"
        )
    lines = [line]
    for what, kept in (
        ("possible episodes (listed, not counted)", POSSIBLE_EVENTS),
        ("mouth-only events (counted apart)", MOUTH_ONLY_EVENTS),
    ):
        lines.append(
            f"{what}: {len(kept)}, of which {sum(kept)} overlapped a placed episode "
            f"and {len(kept) - sum(kept)} did not"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_heldout"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--method",
        choices=sorted(METHODS),
        default="fixed",
        help="fixed: the shipped thresholds, confidence fitted per fold (the "
        "figures to quote); rule: thresholds chosen and confidence fitted "
        "per fold; boosted: trees deciding instead; packaged: the shipped "
        "confidence model, fitted on everyone (optimistic)",
    )
    ap.add_argument("--json", type=Path, help="also write the per-video results here")
    ap.add_argument(
        "--sealed",
        type=Path,
        nargs="?",
        const=Path("/tmp/spasm_sealed_set"),
        help="score the sealed people only, with the detector as it ships "
        "(a final test: run once, when the design is final)",
    )
    args = ap.parse_args(argv)
    if args.sealed is not None:
        args.set, args.method = args.sealed, "packaged"
    if not (args.set / "people.tsv").is_file():
        print(f"skipped: no {args.set / 'people.tsv'} (run benchmarks/make_phantom_set.py)")
        return 0
    videos = [v for v in read_people(args.set) if v.path.is_file()]
    signals = cache_all(videos, args.work, args.jobs)
    scored = [v for v in videos if v.role != "training"]
    person_of = {v.name: v.person for v in videos}
    folds = (
        {v.person: 0 for v in videos}
        if args.sealed is not None
        else assign_folds([v.person for v in videos], args.folds, args.seed)
    )
    params = EvaluationParams(regions="any")
    results = METHODS[args.method](videos, signals, folds, params)
    results = {v.name: results[v.name] for v in scored}
    has_truth = {v.name: v.role == "phantom" for v in scored}
    rows = by_person(results, person_of, folds, has_truth)
    if args.sealed is not None:
        print("== SEALED people, detector as shipped (nothing fitted or chosen on them)")
    print(
        f"== {args.method}: {len(scored)} videos of {len(rows)} people, {args.folds} folds "
        f"by person (tolerance {params.tolerance_s} s, a hit needs the side; counted "
        "episodes: eye episodes, as rates count them)"
    )
    print(format_person_table(rows))
    print()
    print("\n".join(summary_lines(rows) + false_event_lines(SCORED_EVENTS, results, scored)))
    print("\nHeld-out counted episodes by confidence:")
    print(calibration_table(SCORED_EVENTS))
    if args.json:
        args.json.write_text(json.dumps({k: r.to_dict() for k, r in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
