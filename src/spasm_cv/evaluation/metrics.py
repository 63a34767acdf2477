"""Score predicted spasm episodes against known truth: metrics of a matching (no I/O).

Matching rules are in :mod:`spasm_cv.evaluation.match`.

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

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from spasm_cv.evaluation.match import Episodes, EvaluationParams, match_episodes


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
        names = (
            "precision",
            "recall",
            "f1",
            "side_accuracy",
            "recall_clear",
            "recall_subtle",
            "recall_by_kind",
            "false_per_hour",
            "true_per_hour",
            "predicted_per_hour",
            "rate_error_per_hour",
            "rate_relative_error",
            "median_onset_error_s",
            "median_abs_onset_error_s",
        )
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
        n_side_correct=int(
            np.sum(truth.side[timed.truth_index] == predicted.side[timed.pred_index])
        ),
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
    ints = (
        "n_truth",
        "n_predicted",
        "tp",
        "fp",
        "fn",
        "splits",
        "merges",
        "n_time_matched",
        "n_side_correct",
        "n_truth_clear",
        "tp_clear",
        "n_truth_subtle",
        "tp_subtle",
    )
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
