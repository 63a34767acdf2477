"""How much video a reviewer watches with the screening pass, and what share of true episodes
it shows them (issue #24), person-held-out on the phantom set.

A reviewer of ``review --serve`` watches a clip of every detected one-sided eye episode (sure
and possible) and of the top near misses (one-sided candidates the detector rejected, most
confident first; :func:`spasm_cv.events.episodes.near_misses`), each with a second of video
either side. Without screening, finding what the detector missed means watching the whole
video. For each number of near misses per minute of video this prints:

- the share of the placed (true) episodes that lie in a clip the reviewer sees (a detection
  or a near miss matching it, ``evaluate``'s criteria: overlap within the tolerance, the
  same side), pooled and for the worst person;
- the share of the video the reviewer watches (the union of the clips' windows);

Every person is scored with the shipped thresholds and a confidence model fitted without
their fold's people (``person_heldout.py --method fixed``), so near misses are ranked by a
model that never saw them. Sealed people are not read (the set holds open people only).

    python benchmarks/make_phantom_set.py        # once
    python benchmarks/person_heldout.py          # once: the signals cache
    python benchmarks/screening.py [--set DIR] [--work DIR] [--per-minute 0,1,2,4]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO / "src", REPO / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import numpy as np  # noqa: E402
from person_heldout import cache_all, fold_models, predicted_episodes, read_people  # noqa: E402

from spasm_cv.evaluation.match import match_episodes  # noqa: E402
from spasm_cv.evaluation.persons import assign_folds  # noqa: E402
from spasm_cv.evaluation.tables import read_truth  # noqa: E402

CONTEXT_S = 1.0  # seconds of video either side of each clip, as review --serve cuts them
TOLERANCE_S = 0.25


def union_s(windows: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of ``windows``."""
    total, end = 0.0, -math.inf
    for a, b in sorted(windows):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def main(argv: list[str] | None = None) -> int:
    from spasm_cv.events.detect import detect
    from spasm_cv.events.episodes import near_misses

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("/tmp/spasm_phantom_set"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/spasm_heldout"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--per-minute",
        default="0,1,2,4,8",
        help="near misses per minute of video to try (comma-separated)",
    )
    args = ap.parse_args(argv)
    if not (args.set / "people.tsv").is_file():
        print(f"skipped: no {args.set / 'people.tsv'} (run benchmarks/make_phantom_set.py)")
        return 0
    videos = [v for v in read_people(args.set) if v.path.is_file() and v.role != "training"]
    signals = cache_all(videos, args.work, jobs=2)
    folds = assign_folds([v.person for v in videos], args.folds, 0)
    models = fold_models(videos, signals, folds, fixed=True)
    rates = [float(x) for x in args.per_minute.split(",")]
    # per video: duration, truth, detected events, near misses (the most asked for)
    rows = []
    for v in videos:
        params, model = models[folds[v.person]]
        det = detect(signals[v.name], params, model=model)
        duration = float(len(signals[v.name]) / det.fps)
        shown = [e for e in det.events if e.is_episode or e.is_possible]
        most = int(math.ceil(max(rates) * duration / 60.0))
        near = [m for m in near_misses(det.activity, det.fps, det.params, most + len(shown), model)
                if not any(e.side == m.side and e.onset < m.end and m.onset < e.end
                           for e in shown)]  # fmt: skip
        near.sort(key=lambda e: -e.confidence)
        rows.append((v, duration, read_truth(v.truth) if v.role == "phantom" else None,
                     shown, near))  # fmt: skip
    total_min = sum(d for _, d, *_ in rows) / 60.0
    n_truth = sum(len(t.onset) for _, _, t, _, _ in rows if t is not None)
    print(
        f"{len(rows)} videos of {len({v.person for v, *_ in rows})} people, "
        f"{total_min:.1f} min of video, {n_truth} placed episodes; clips span each event "
        f"and {CONTEXT_S:g} s either side; a true episode counts as shown when a clip's "
        f"event matches it (tolerance {TOLERANCE_S:g} s, same side)"
    )
    print(
        "near misses/min | true episodes shown (pooled) | clear ones | worst person | video watched"
    )
    for rate in rates:
        found = total = found_clear = total_clear = 0
        watched = 0.0
        by_person: dict[str, list[int]] = {}
        for v, duration, truth, shown, near in rows:
            n_near = int(math.ceil(rate * duration / 60.0))
            clips = shown + near[:n_near]
            watched += min(duration, union_s(
                [(max(0.0, e.onset - CONTEXT_S), min(duration, e.end + CONTEXT_S))
                 for e in clips]))  # fmt: skip
            if truth is None or not len(truth.onset):
                continue
            hits = match_episodes(truth, predicted_episodes(clips), TOLERANCE_S)
            seen = len(hits)  # one-to-one: each true episode shown at most once
            found, total = found + seen, total + len(truth.onset)
            found_clear += int(np.count_nonzero(truth.clear[hits.truth_index]))
            total_clear += int(np.count_nonzero(truth.clear))
            person = by_person.setdefault(v.person, [0, 0])
            person[0] += seen
            person[1] += len(truth.onset)
        worst = min((f / t, p) for p, (f, t) in by_person.items() if t)
        print(
            f"{rate:15g} | {found:4d}/{total} = {found / total:6.1%}       | "
            f"{found_clear}/{total_clear} = {found_clear / total_clear:.1%} | "
            f"{worst[0]:6.1%} ({worst[1][:28]}) | "
            f"{watched / 60:.1f} of {total_min:.1f} min = {watched / 60 / total_min:.1%}"
        )
    print(
        "without screening, finding every missed episode means watching all "
        f"{total_min:.1f} min (100 %)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
