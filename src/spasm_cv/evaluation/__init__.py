"""Score predicted spasm episodes (``events.tsv``) against phantom truth (``*.truth.tsv``).

- :func:`evaluate_events`: arrays in, :class:`EvaluationResult` out (no I/O;
  :mod:`~spasm_cv.evaluation.metrics`).
- :func:`evaluate_files`, :func:`evaluate_folders`: files and folders
  (:mod:`~spasm_cv.evaluation.evaluate`).

Matching rules are in :mod:`spasm_cv.evaluation.match`, metric definitions in
:mod:`spasm_cv.evaluation.metrics`, file formats in :mod:`spasm_cv.evaluation.tables`.
"""

from __future__ import annotations

from spasm_cv.evaluation.evaluate import (
    EvaluationReport,
    VideoEvaluation,
    evaluate_files,
    evaluate_folders,
)
from spasm_cv.evaluation.match import (
    Episodes,
    EvaluationParams,
    Matching,
    match_episodes,
    spasm_mask,
)
from spasm_cv.evaluation.metrics import EvaluationResult, combine_results, evaluate_events
from spasm_cv.evaluation.tables import (
    EventTable,
    VideoPair,
    pair_folders,
    read_event_table,
    read_truth,
)

# former name of read_event_table (an EventTable; not results.files.read_events' Event list)
read_events = read_event_table

__all__ = [
    "EvaluationParams",
    "EvaluationReport",
    "EvaluationResult",
    "EventTable",
    "Episodes",
    "Matching",
    "VideoEvaluation",
    "VideoPair",
    "combine_results",
    "evaluate_events",
    "evaluate_files",
    "evaluate_folders",
    "match_episodes",
    "pair_folders",
    "read_event_table",
    "read_events",
    "read_truth",
    "spasm_mask",
]
