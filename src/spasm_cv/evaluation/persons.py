"""Evaluation person by person: folds that hold people out, and the per-person table.

A detector tuned on a few faces can look excellent on them and fail on the next person, so
its figures must come from people it was not tuned on. Everything here is pure: it assigns
people to folds and pools :class:`~spasm_cv.evaluation.metrics.EvaluationResult` per person;
running a detector is the caller's business (``benchmarks/person_heldout.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spasm_cv.evaluation.metrics import EvaluationResult, combine_results


def assign_folds(people: Sequence[str], n_folds: int, seed: int = 0) -> dict[str, int]:
    """Each person's fold, 0 .. ``n_folds - 1``: people shuffled by ``seed``, dealt in turn.

    Every clip of a person lands in that person's fold, so no fold ever scores a face it
    was tuned on.

    Parameters
    ----------
    people : person ids (repeats allowed: one per video).
    n_folds : number of folds, >= 2 and at most the number of distinct people.
    seed : shuffling seed; the same people and seed always give the same folds.

    Examples
    --------
    >>> folds = assign_folds(["ann", "bob", "cy", "bob"], 3)
    >>> sorted(folds) == ["ann", "bob", "cy"], sorted(folds.values())
    (True, [0, 1, 2])
    """
    unique = sorted(set(people))
    if not 2 <= n_folds <= len(unique):
        raise ValueError(f"n_folds must be within 2-{len(unique)}, got {n_folds}")
    order = np.random.default_rng(seed).permutation(len(unique))
    return {unique[j]: i % n_folds for i, j in enumerate(order)}


@dataclass(frozen=True)
class PersonResult:
    """One person's pooled result over their videos.

    ``positives`` pools the videos with episodes placed in them; ``all`` adds the videos
    without (the person's normal face), so ``all.fp`` counts every false episode of the
    person and ``all.observed_s`` every second of their face.
    """

    person: str
    fold: int
    positives: EvaluationResult | None
    all: EvaluationResult


def by_person(
    results: Mapping[str, EvaluationResult],
    person_of: Mapping[str, str],
    fold_of: Mapping[str, int],
    has_truth: Mapping[str, bool],
) -> list[PersonResult]:
    """Pool per-video results per person, sorted worst first (most false episodes, then
    lowest recall).

    Parameters
    ----------
    results : video name -> its evaluation.
    person_of : video name -> person id.
    fold_of : person id -> fold.
    has_truth : video name -> whether episodes were placed in it.
    """
    people: dict[str, list[str]] = {}
    for video in results:
        people.setdefault(person_of[video], []).append(video)
    out = []
    for person, videos in people.items():
        pos = [results[v] for v in videos if has_truth[v]]
        out.append(
            PersonResult(
                person,
                fold_of[person],
                combine_results(pos) if pos else None,
                combine_results(results[v] for v in videos),
            )
        )

    def badness(p: PersonResult) -> tuple:
        recall = p.positives.recall if p.positives and p.positives.recall is not None else 1.0
        return (-p.all.fp, recall, p.person)

    return sorted(out, key=badness)


def _cell(x: float | None, fmt: str = ".2f") -> str:
    return "n/a" if x is None else format(x, fmt)


def format_person_table(rows: Sequence[PersonResult]) -> str:
    """The per-person table: observed minutes, episodes, hits, misses, false episodes, recall
    (all and clear), false episodes per hour of the person's face."""
    head = ("person", "fold", "min", "truth", "TP", "FN", "FP", "recall", "clear", "side", "FP/h")
    lines = [f"{head[0]:<34}" + "".join(f"{h:>7}" for h in head[1:])]
    for p in rows:
        pos = p.positives
        cells = (
            str(p.fold),
            _cell((p.all.observed_s or 0.0) / 60.0, ".1f"),
            str(pos.n_truth if pos else 0),
            str(pos.tp if pos else 0),
            str(pos.fn if pos else 0),
            str(p.all.fp),
            _cell(pos.recall if pos else None),
            _cell(pos.recall_clear if pos else None),
            _cell(pos.side_accuracy if pos else None),
            _cell(p.all.false_per_hour, ".1f"),
        )
        lines.append(f"{p.person:<34}" + "".join(f"{c:>7}" for c in cells))
    return "\n".join(lines)


def summary_lines(rows: Sequence[PersonResult]) -> list[str]:
    """Pooled figures and the worst person's, as printable lines."""
    pooled = combine_results(p.all for p in rows)
    lines = [
        f"pooled over {len(rows)} people, {pooled.observed_s / 3600.0:.2f} h of face: "
        f"F1 {_cell(pooled.f1, '.3f')} (precision {_cell(pooled.precision, '.3f')}, recall "
        f"{_cell(pooled.recall, '.3f')}), recall clear {_cell(pooled.recall_clear, '.3f')} "
        f"({pooled.tp_clear}/{pooled.n_truth_clear}), side accuracy "
        f"{_cell(pooled.side_accuracy, '.3f')}, {pooled.fp} false episodes = "
        f"{_cell(pooled.false_per_hour, '.1f')}/h, rate error "
        f"{_cell(pooled.rate_relative_error and 100 * pooled.rate_relative_error, '+.1f')} %"
    ]
    with_fp = [p for p in rows if p.all.fp]
    recalls = [p.positives.recall for p in rows if p.positives and p.positives.recall is not None]
    worst_recall = min(recalls) if recalls else None
    lines.append(
        f"people with a false episode: {len(with_fp)} of {len(rows)}; most false episodes in "
        f"one person: {max((p.all.fp for p in rows), default=0)}; lowest recall of a person: "
        f"{_cell(worst_recall)}"
    )
    return lines
