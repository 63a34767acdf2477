"""Evaluating result folders against phantom truth files: one pair, or two folders of them.

- :func:`evaluate_files`: one truth file against one ``events.tsv`` (or result folder).
- :func:`evaluate_folders`: every ``TRUTH_DIR/<name>.truth.tsv`` against
  ``RESULTS_DIR/<name>/events.tsv``, pooled by summing counts (micro average).

The observed time (denominator of per-hour figures) is, in order of preference: ``observed_s``
from ``summary.json`` beside ``events.tsv``; ``duration_s`` from the truth sidecar
``<name>.truth.json``; the ``hours`` argument (per video); else unknown (per-hour figures
undefined).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation.match import Episodes, EvaluationParams
from spasm_cv.evaluation.metrics import EvaluationResult, combine_results, evaluate_events
from spasm_cv.evaluation.reviewed import is_review_file, review_truth
from spasm_cv.evaluation.tables import (
    pair_folders,
    read_event_table,
    read_observed_s,
    read_truth,
    read_truth_duration,
    resolve_events_path,
    video_name,
)

MissingPolicy = Literal["error", "empty"]


@dataclass(frozen=True)
class VideoEvaluation:
    """The evaluation of one video.

    ``events_path`` is None when the result was missing and counted as an empty prediction.
    ``observed_source`` tells where ``result.observed_s`` came from: ``"summary.json"``,
    ``"truth sidecar"``, ``"hours"`` or None (unknown).
    """

    name: str
    truth_path: Path
    events_path: Path | None
    observed_source: str | None
    result: EvaluationResult

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "truth": str(self.truth_path),
            "events": None if self.events_path is None else str(self.events_path),
            "observed_source": self.observed_source,
            **self.result.to_dict(),
        }


@dataclass(frozen=True)
class EvaluationReport:
    """Per-video evaluations and their micro-average ``total``."""

    params: EvaluationParams
    videos: tuple[VideoEvaluation, ...]
    total: EvaluationResult

    @classmethod
    def from_videos(
        cls, videos: list[VideoEvaluation], params: EvaluationParams
    ) -> EvaluationReport:
        return cls(params, tuple(videos), combine_results(v.result for v in videos))

    def to_dict(self) -> dict:
        return {
            "params": {"tolerance_s": self.params.tolerance_s, "regions": self.params.regions},
            "total": self.total.to_dict(),
            "videos": [v.to_dict() for v in self.videos],
        }


def _observed(
    truth_path: Path, events_path: Path | None, hours: float | None
) -> tuple[float | None, str | None]:
    if events_path is not None:
        s = read_observed_s(events_path)
        if s is not None:
            return s, "summary.json"
    s = read_truth_duration(truth_path)
    if s is not None:
        return s, "truth sidecar"
    if hours is not None:
        return hours * 3600.0, "hours"
    return None, None


def _check_hours(hours: float | None) -> None:
    if hours is not None and not (hours >= 0 and hours != float("inf")):
        raise SpasmCvError(f"hours must be a number >= 0, got {hours}")


def _evaluate_pair(
    name: str,
    truth_path: Path,
    events_path: Path | None,
    params: EvaluationParams,
    hours: float | None,
) -> VideoEvaluation:
    if is_review_file(truth_path) and events_path is not None:
        truth, predicted = review_truth(truth_path, events_path)  # the detector vs a reviewer
    else:
        truth = read_truth(truth_path)
        predicted = (
            Episodes.empty()
            if events_path is None
            else read_event_table(events_path).episodes(params.regions)
        )
    observed_s, source = _observed(truth_path, events_path, hours)
    result = evaluate_events(truth, predicted, observed_s, params)
    return VideoEvaluation(name, truth_path, events_path, source, result)


def evaluate_files(
    truth_path: str | Path,
    events_path: str | Path,
    params: EvaluationParams | None = None,
    hours: float | None = None,
) -> VideoEvaluation:
    """Evaluate one truth TSV against one ``events.tsv`` (or a result folder holding it).

    Parameters
    ----------
    truth_path : path
        ``<name>.truth.tsv``.
    events_path : path
        ``events.tsv`` or its result folder.
    params : EvaluationParams, optional
    hours : float, optional
        Observed hours, used only when neither ``summary.json`` nor the truth sidecar gives
        the observed time.

    Raises
    ------
    SpasmCvError
        Missing or malformed input.
    """
    params = params or EvaluationParams()
    _check_hours(hours)
    truth = Path(truth_path)
    if not truth.is_file():
        raise SpasmCvError(f"truth file not found: {truth}")
    return _evaluate_pair(video_name(truth), truth, resolve_events_path(events_path), params, hours)


def evaluate_folders(
    truth_dir: str | Path,
    results_dir: str | Path,
    params: EvaluationParams | None = None,
    hours: float | None = None,
    missing: MissingPolicy = "error",
) -> EvaluationReport:
    """Evaluate every ``TRUTH_DIR/<name>.truth.tsv`` against ``RESULTS_DIR/<name>/events.tsv``.

    Parameters
    ----------
    truth_dir, results_dir : path
    params : EvaluationParams, optional
    hours : float, optional
        Observed hours per video, when neither ``summary.json`` nor the sidecar gives it.
    missing : {"error", "empty"}
        A video without ``events.tsv``: ``"error"`` raises SpasmCvError naming every missing
        result; ``"empty"`` counts it as an empty prediction (its ``events_path`` is None).

    Returns
    -------
    EvaluationReport
        Per-video results (sorted by name) and their micro average.
    """
    params = params or EvaluationParams()
    _check_hours(hours)
    if missing not in ("error", "empty"):
        raise ValueError(f"missing must be 'error' or 'empty', got {missing!r}")
    pairs = pair_folders(truth_dir, results_dir)
    absent = [p.name for p in pairs if p.events is None]
    if absent and missing == "error":
        raise SpasmCvError(
            f"no events.tsv for {len(absent)} of {len(pairs)} videos in {results_dir}: "
            f"{', '.join(absent)} (expected {Path(results_dir) / absent[0] / 'events.tsv'}; "
            "use --missing empty to count them as empty predictions)"
        )
    videos = [_evaluate_pair(p.name, p.truth, p.events, params, hours) for p in pairs]
    return EvaluationReport.from_videos(videos, params)
