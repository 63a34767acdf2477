"""Score predicted spasm episodes against known truth: matching and metrics (no I/O).

Everything here works on arrays and small dataclasses; times are in seconds. Reading the
files lives in :mod:`spasm_cv.evaluation.tables`.

Matching
--------
A predicted episode ``[p_on, p_off]`` may match a truth episode ``[t_on, t_off]`` when the two
closed intervals overlap after widening the truth episode by ``tolerance_s`` on each side::

    p_on <= t_off + tolerance_s  and  p_off >= t_on - tolerance_s

For hits the sides must be equal as well. Among the pairs allowed, a one-to-one assignment
(``scipy.optimize.linear_sum_assignment``) first maximises the number of pairs, then the total
overlap in seconds (widened truth against prediction). Each truth episode matches at most one
prediction and vice versa. An unmatched prediction that could have matched a truth episode
(already taken by another prediction) is a *split*; an unmatched truth episode that could have
matched a prediction (already taken) is a *merge*.

Metrics
-------
- ``tp``: matched pairs with the right side; ``fp`` = predictions - ``tp`` (splits included);
  ``fn`` = truth episodes - ``tp``.
- ``precision`` = tp / (tp + fp), undefined (None) without predictions.
- ``recall`` = tp / (tp + fn), undefined (None) without truth episodes.
- ``f1`` = 2 tp / (2 tp + fp + fn): the harmonic mean of precision and recall when both are
  defined, 0 when there is only one of truth or predictions, undefined (None) when there is
  neither (nothing to find, nothing found).
- ``side_accuracy``: a second matching that ignores side; among its pairs, the fraction whose
  sides agree. Undefined without such pairs.
- ``recall_clear`` / ``recall_subtle``: recall on truth episodes marked clear (the landmarker
  perceived >= 0.5 closure) and on the others; ``recall_by_kind``: recall per truth ``kind``.
- ``false_per_hour`` = fp / observed hours; ``true_per_hour`` and ``predicted_per_hour`` are
  episode rates; ``rate_error_per_hour`` = predicted - true rate (episodes/h, signed);
  ``rate_relative_error`` = that error / true rate (undefined when the true rate is 0). All
  per-hour figures are undefined when the observed time is unknown or zero.
- ``median_onset_error_s``: median of predicted - truth onset over hits (signed, positive =
  late); ``median_abs_onset_error_s``: median of its absolute value.

Several recordings are pooled by summing counts (micro average, :func:`combine_results`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

RegionScope = Literal["eye", "any"]
SIDES = ("left", "right", "both")


@dataclass(frozen=True)
class EvaluationParams:
    """Parameters of the evaluation.

    Parameters
    ----------
    tolerance_s : float
        Seconds by which each truth episode is widened on both sides before testing overlap.
    regions : {"eye", "any"}
        Which predicted ``spasm`` rows count as episodes: ``"eye"`` those whose ``regions``
        include ``eye`` (mouth-only rows are not episodes), ``"any"`` every spasm row.
    """

    tolerance_s: float = 0.25
    regions: RegionScope = "eye"

    def __post_init__(self) -> None:
        if not np.isfinite(self.tolerance_s) or self.tolerance_s < 0:
            raise ValueError(f"tolerance_s must be a finite number >= 0, got {self.tolerance_s}")
        if self.regions not in ("eye", "any"):
            raise ValueError(f"regions must be 'eye' or 'any', got {self.regions!r}")


@dataclass(frozen=True)
class Episodes:
    """A set of episodes (truth or predicted) as parallel arrays.

    Parameters
    ----------
    onset : array of float, shape (n,)
        Start, seconds.
    duration : array of float, shape (n,)
        Length, seconds (>= 0).
    side : array of str, shape (n,)
        ``left``, ``right`` or ``both`` (the patient's anatomical side).
    kind : array of str, shape (n,), optional
        Episode kind (e.g. from the phantom generator); ``"n/a"`` when unknown.
    clear : array of bool, shape (n,), optional
        Truth only: True where the episode is clearly visible; default all True.
    """

    onset: np.ndarray
    duration: np.ndarray
    side: np.ndarray
    kind: np.ndarray | None = None
    clear: np.ndarray | None = None

    def __post_init__(self) -> None:
        onset = np.asarray(self.onset, dtype=float).reshape(-1)
        n = onset.size
        duration = np.asarray(self.duration, dtype=float).reshape(-1)
        side = np.asarray(self.side, dtype=object).reshape(-1)
        kind = np.full(n, "n/a", dtype=object) if self.kind is None else self.kind
        kind = np.asarray(kind, dtype=object).reshape(-1)
        clear = np.ones(n, dtype=bool) if self.clear is None else self.clear
        clear = np.asarray(clear, dtype=bool).reshape(-1)
        for name, arr in (("duration", duration), ("side", side), ("kind", kind),
                          ("clear", clear)):
            if arr.size != n:
                raise ValueError(f"{name} has {arr.size} values, onset has {n}")
        if not (np.all(np.isfinite(onset)) and np.all(np.isfinite(duration))):
            raise ValueError("onset and duration must be finite")
        if np.any(duration < 0):
            raise ValueError("duration must be >= 0")
        bad = sorted({str(s) for s in side} - set(SIDES))
        if bad:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, got {', '.join(bad)}")
        for name, arr in (("onset", onset), ("duration", duration), ("side", side),
                          ("kind", kind), ("clear", clear)):
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.onset.size)

    @property
    def offset(self) -> np.ndarray:
        """End of each episode, seconds."""
        return self.onset + self.duration

    @classmethod
    def empty(cls) -> Episodes:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))

    def subset(self, mask: np.ndarray) -> Episodes:
        """The episodes where ``mask`` (bool or index array) selects."""
        return Episodes(self.onset[mask], self.duration[mask], self.side[mask],
                        self.kind[mask], self.clear[mask])


@dataclass(frozen=True)
class Matching:
    """A one-to-one matching of truth to predicted episodes.

    ``truth_index[k]`` is matched to ``pred_index[k]``; ``eligible`` (n_truth, n_pred) tells
    which pairs were allowed to match.
    """

    truth_index: np.ndarray
    pred_index: np.ndarray
    eligible: np.ndarray

    def __len__(self) -> int:
        return int(self.truth_index.size)

    @property
    def splits(self) -> int:
        """Unmatched predictions that could have matched an (already matched) truth episode."""
        free = np.ones(self.eligible.shape[1], dtype=bool)
        free[self.pred_index] = False
        return int(np.sum(free & self.eligible.any(axis=0)))

    @property
    def merges(self) -> int:
        """Unmatched truth episodes that could have matched an (already matched) prediction."""
        free = np.ones(self.eligible.shape[0], dtype=bool)
        free[self.truth_index] = False
        return int(np.sum(free & self.eligible.any(axis=1)))


def spasm_mask(
    trial_type: Sequence[str], regions: Sequence[str], scope: RegionScope = "eye"
) -> np.ndarray:
    """Which rows of an events table are predicted episodes.

    Parameters
    ----------
    trial_type, regions : sequences of str
        Columns of ``events.tsv``; ``regions`` is ``eye``, ``mouth``, ``eye+mouth`` or
        ``n/a``.
    scope : {"eye", "any"}
        ``"eye"``: spasm rows whose regions include ``eye`` or are unknown (``n/a``);
        ``"any"``: every spasm row.

    Returns
    -------
    mask : array of bool
    """
    is_spasm = np.array([str(t).strip().lower() == "spasm" for t in trial_type], dtype=bool)
    if scope == "any":
        return is_spasm
    has_eye = np.array(
        [r in ("n/a", "") or "eye" in r.split("+")
         for r in (str(x).strip().lower() for x in regions)],
        dtype=bool,
    )
    return is_spasm & has_eye.reshape(is_spasm.shape)


def eligible_pairs(
    truth: Episodes, predicted: Episodes, tolerance_s: float, use_side: bool = True
) -> np.ndarray:
    """Boolean matrix (n_truth, n_pred): pairs close enough in time (and same side) to match."""
    t_on = truth.onset[:, None] - tolerance_s
    t_off = truth.offset[:, None] + tolerance_s
    ok = (predicted.onset[None, :] <= t_off) & (predicted.offset[None, :] >= t_on)
    if use_side:
        ok &= truth.side[:, None] == predicted.side[None, :]
    return ok


def overlap_s(truth: Episodes, predicted: Episodes, tolerance_s: float) -> np.ndarray:
    """Overlap in seconds (n_truth, n_pred) of each widened truth episode and prediction."""
    lo = np.maximum(truth.onset[:, None] - tolerance_s, predicted.onset[None, :])
    hi = np.minimum(truth.offset[:, None] + tolerance_s, predicted.offset[None, :])
    return np.clip(hi - lo, 0.0, None)


def _assign(
    eligible: np.ndarray, overlap: np.ndarray, prefer: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-cardinality assignment on ``eligible``; ties broken first by the number of
    ``prefer`` pairs (same side, when matching ignores side), then by the largest overlap."""
    n = min(eligible.shape)
    if prefer is None:
        prefer = np.zeros(eligible.shape)
    scale = max(float(overlap[eligible].max()), 1e-12) * (n + 1)
    # A pair is worth 1 plus a bonus; all bonuses together stay below 1, so one more pair
    # always wins, and one more preferred pair beats any overlap gain.
    bonus = (prefer.astype(float) + overlap / scale) / (2.0 * (n + 1))
    weight = np.where(eligible, 1.0 + bonus, 0.0)
    from scipy.optimize import linear_sum_assignment  # imported on use: 0.6 s

    rows, cols = linear_sum_assignment(weight, maximize=True)
    keep = eligible[rows, cols]
    return rows[keep], cols[keep]


def match_episodes(
    truth: Episodes, predicted: Episodes, tolerance_s: float = 0.25, use_side: bool = True
) -> Matching:
    """Match predicted to truth episodes one-to-one by time overlap.

    Parameters
    ----------
    truth, predicted : Episodes
    tolerance_s : float
        Widening of each truth episode on both sides, seconds.
    use_side : bool
        If True a pair must also have the same side.

    Returns
    -------
    Matching
        Maximum number of pairs, ties broken by the largest total overlap (see module notes).
    """
    eligible = eligible_pairs(truth, predicted, tolerance_s, use_side)
    t_idx: list[np.ndarray] = []
    p_idx: list[np.ndarray] = []
    if eligible.any():
        overlap = overlap_s(truth, predicted, tolerance_s)
        # Solve each connected group of pairs on its own (sparse in time, small problems).
        for rows, cols in _components(eligible):
            same = truth.side[rows][:, None] == predicted.side[cols][None, :]
            r, c = _assign(
                eligible[np.ix_(rows, cols)],
                overlap[np.ix_(rows, cols)],
                None if use_side else same,
            )
            t_idx.append(rows[r])
            p_idx.append(cols[c])
    ti = np.concatenate(t_idx) if t_idx else np.zeros(0, dtype=int)
    pi = np.concatenate(p_idx) if p_idx else np.zeros(0, dtype=int)
    order = np.argsort(ti, kind="stable")
    return Matching(ti[order].astype(int), pi[order].astype(int), eligible)


def _components(eligible: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components (truth rows, prediction columns) of the bipartite graph."""
    n_t, n_p = eligible.shape
    parent = np.arange(n_t + n_p)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for t, p in zip(*np.nonzero(eligible), strict=True):
        a, b = find(int(t)), find(n_t + int(p))
        if a != b:
            parent[b] = a
    roots = np.array([find(i) for i in range(n_t + n_p)])
    out = []
    for root in np.unique(roots):
        members = np.nonzero(roots == root)[0]
        rows, cols = members[members < n_t], members[members >= n_t] - n_t
        if rows.size and cols.size:
            out.append((rows, cols))
    return out


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


@dataclass(frozen=True)
class EvaluationResult:
    """Counts of one evaluation (or of several pooled); metrics are derived properties.

    Counts are episodes; ``observed_s`` is the observed face time in seconds (None if
    unknown); ``onset_errors_s`` holds predicted - truth onset (s) of every hit. See the module
    docstring for the definition of each metric.
    """

    n_truth: int
    n_predicted: int
    tp: int
    fp: int
    fn: int
    splits: int
    merges: int
    n_time_matched: int
    n_side_correct: int
    n_truth_clear: int
    tp_clear: int
    n_truth_subtle: int
    tp_subtle: int
    truth_by_kind: dict[str, int] = field(default_factory=dict)
    tp_by_kind: dict[str, int] = field(default_factory=dict)
    observed_s: float | None = None
    onset_errors_s: tuple[float, ...] = ()

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def side_accuracy(self) -> float | None:
        return _ratio(self.n_side_correct, self.n_time_matched)

    @property
    def recall_clear(self) -> float | None:
        return _ratio(self.tp_clear, self.n_truth_clear)

    @property
    def recall_subtle(self) -> float | None:
        return _ratio(self.tp_subtle, self.n_truth_subtle)

    @property
    def recall_by_kind(self) -> dict[str, float | None]:
        return {k: _ratio(self.tp_by_kind.get(k, 0), n) for k, n in self.truth_by_kind.items()}

    @property
    def observed_h(self) -> float | None:
        return self.observed_s / 3600.0 if self.observed_s else None

    def _per_hour(self, count: int) -> float | None:
        h = self.observed_h
        return count / h if h else None

    @property
    def false_per_hour(self) -> float | None:
        return self._per_hour(self.fp)

    @property
    def true_per_hour(self) -> float | None:
        return self._per_hour(self.n_truth)

    @property
    def predicted_per_hour(self) -> float | None:
        return self._per_hour(self.n_predicted)

    @property
    def rate_error_per_hour(self) -> float | None:
        if self.observed_h is None:
            return None
        return (self.n_predicted - self.n_truth) / self.observed_h

    @property
    def rate_relative_error(self) -> float | None:
        return _ratio(self.n_predicted - self.n_truth, self.n_truth)

    @property
    def median_onset_error_s(self) -> float | None:
        return float(np.median(self.onset_errors_s)) if self.onset_errors_s else None

    @property
    def median_abs_onset_error_s(self) -> float | None:
        if not self.onset_errors_s:
            return None
        return float(np.median(np.abs(self.onset_errors_s)))

    def metrics(self) -> dict[str, float | None | dict[str, float | None]]:
        """The derived metrics by name (None where undefined)."""
        names = ("precision", "recall", "f1", "side_accuracy", "recall_clear", "recall_subtle",
                 "recall_by_kind", "false_per_hour", "true_per_hour", "predicted_per_hour",
                 "rate_error_per_hour", "rate_relative_error", "median_onset_error_s",
                 "median_abs_onset_error_s")
        return {name: getattr(self, name) for name in names}

    def to_dict(self) -> dict:
        """Counts and metrics as plain JSON-ready values (onset errors left out)."""
        counts = asdict(self)
        counts.pop("onset_errors_s")
        return {**counts, **self.metrics()}


def evaluate_events(
    truth: Episodes,
    predicted: Episodes,
    observed_s: float | None = None,
    params: EvaluationParams | None = None,
) -> EvaluationResult:
    """Score predicted episodes against truth episodes of one recording.

    Parameters
    ----------
    truth : Episodes
        Truth episodes, with ``kind`` and ``clear`` if known.
    predicted : Episodes
        Predicted episodes (already selected, e.g. with :func:`spasm_mask`).
    observed_s : float or None
        Observed face time, seconds: denominator of the per-hour figures (None: unknown).
    params : EvaluationParams, optional
        Default ``EvaluationParams()`` (tolerance 0.25 s).

    Returns
    -------
    EvaluationResult
        Counts; metrics are its properties (see module docstring).

    Examples
    --------
    >>> truth = Episodes([10.0], [1.0], ["left"])
    >>> pred = Episodes([10.1, 10.6], [0.3, 0.3], ["left", "left"])
    >>> r = evaluate_events(truth, pred, observed_s=3600.0)
    >>> r.tp, r.fp, r.fn, r.splits
    (1, 1, 0, 1)
    """
    params = params or EvaluationParams()
    if observed_s is not None and (not np.isfinite(observed_s) or observed_s < 0):
        raise ValueError(f"observed_s must be a finite number >= 0, got {observed_s}")
    tol = params.tolerance_s
    hits = match_episodes(truth, predicted, tol, use_side=True)
    timed = match_episodes(truth, predicted, tol, use_side=False)

    hit = np.zeros(len(truth), dtype=bool)
    hit[hits.truth_index] = True
    truth_by_kind: dict[str, int] = {}
    tp_by_kind: dict[str, int] = {}
    for kind in sorted({str(k) for k in truth.kind} - {"n/a", ""}):
        sel = truth.kind == kind
        truth_by_kind[kind] = int(sel.sum())
        tp_by_kind[kind] = int((sel & hit).sum())
    errors = predicted.onset[hits.pred_index] - truth.onset[hits.truth_index]
    tp = len(hits)
    return EvaluationResult(
        n_truth=len(truth),
        n_predicted=len(predicted),
        tp=tp,
        fp=len(predicted) - tp,
        fn=len(truth) - tp,
        splits=hits.splits,
        merges=hits.merges,
        n_time_matched=len(timed),
        n_side_correct=int(np.sum(truth.side[timed.truth_index]
                                  == predicted.side[timed.pred_index])),
        n_truth_clear=int(truth.clear.sum()),
        tp_clear=int((hit & truth.clear).sum()),
        n_truth_subtle=int((~truth.clear).sum()),
        tp_subtle=int((hit & ~truth.clear).sum()),
        truth_by_kind=truth_by_kind,
        tp_by_kind=tp_by_kind,
        observed_s=None if observed_s is None else float(observed_s),
        onset_errors_s=tuple(float(e) for e in errors),
    )


def combine_results(results: Iterable[EvaluationResult]) -> EvaluationResult:
    """Pool several recordings by summing counts (micro average).

    Observed times add up; if any recording's observed time is unknown the pooled one is too
    (per-hour figures undefined). Onset errors are pooled before taking the median.
    """
    results = list(results)
    ints = ("n_truth", "n_predicted", "tp", "fp", "fn", "splits", "merges", "n_time_matched",
            "n_side_correct", "n_truth_clear", "tp_clear", "n_truth_subtle", "tp_subtle")
    sums = {name: sum(getattr(r, name) for r in results) for name in ints}
    truth_by_kind: dict[str, int] = {}
    tp_by_kind: dict[str, int] = {}
    for r in results:
        for k, n in r.truth_by_kind.items():
            truth_by_kind[k] = truth_by_kind.get(k, 0) + n
            tp_by_kind[k] = tp_by_kind.get(k, 0) + r.tp_by_kind.get(k, 0)
    observed = [r.observed_s for r in results]
    return EvaluationResult(
        **sums,
        truth_by_kind=dict(sorted(truth_by_kind.items())),
        tp_by_kind=dict(sorted(tp_by_kind.items())),
        observed_s=None if any(o is None for o in observed) else float(sum(observed)),
        onset_errors_s=tuple(e for r in results for e in r.onset_errors_s),
    )
