"""The combined table of a batch: one row per video, written as TSV (``batch.tsv``).

Numbers come from each video's ``summary.json``; rates are per hour of observed face
time with exact 95 % Poisson intervals. ``n/a`` marks a missing value. ``elapsed_s`` (this
batch's processing time, 0 for videos skipped as already done) is the only column that
depends on the run rather than on the results. Text a spreadsheet would run as a formula (a
video named ``=cmd|...``) gets a leading ``'`` (:mod:`spasm_cv.results.spreadsheet`).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from pathlib import Path

from spasm_cv.batch.engines import VideoOutcome
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.atomic import atomic_file
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import REVIEW_FILE, ReviewTally
from spasm_cv.results.spreadsheet import safe_cell

TABLE_FILE = "batch.tsv"
TIMING_COLUMNS = ("elapsed_s",)

COLUMNS = (
    "name",  # result folder name (the video's stem, longer on a clash)
    "status",  # ok | error | interrupted
    "error",  # one-line message for error and interrupted rows
    "duration_s",
    "observed_s",  # face observed on both sides: the denominator of the rates
    "episodes",  # one-sided episodes involving the eye
    "per_hour",
    "ci95_low",
    "ci95_high",
    "insufficient_observation",  # yes: under 10 min observed, the rates are not rates yet
    "right",
    "right_per_hour",
    "left",
    "left_per_hour",
    "blinks_per_min",
    "affected_side",
    "review_detected",  # result folders with a review.tsv (review --serve, import-review):
    "review_confirmed",  # episodes detected, and accepted + added by the review
    "video",
    "result_dir",
    "elapsed_s",
)
# headers written by earlier versions (before ``insufficient_observation``, before the review
# counts): such a batch folder resumes
_REVIEW = ("review_detected", "review_confirmed")
_OLD_HEADERS = (
    tuple(c for c in COLUMNS if c not in _REVIEW),
    tuple(c for c in COLUMNS if c not in (*_REVIEW, "insufficient_observation")),
)


def outcome_row(outcome: VideoOutcome) -> dict:
    """One table row (column -> value, None for n/a)."""
    row = dict.fromkeys(COLUMNS)
    row.update(
        name=outcome.name,
        status=outcome.status,
        error=outcome.error,
        video=outcome.video,
        result_dir=outcome.out_dir if outcome.summary is not None else None,
        elapsed_s=outcome.elapsed_s,
    )
    s = outcome.summary
    if s is not None:
        ep = s.episodes
        row.update(
            duration_s=s.duration_s,
            observed_s=s.observed_s,
            episodes=ep.total.count,
            per_hour=ep.total.per_hour,
            ci95_low=ep.total.ci95[0],
            ci95_high=ep.total.ci95[1],
            insufficient_observation="yes" if s.insufficient_observation else "no",
            right=ep.by_side["right"].count,
            right_per_hour=ep.by_side["right"].per_hour,
            left=ep.by_side["left"].count,
            left_per_hour=ep.by_side["left"].per_hour,
            blinks_per_min=s.blinks.per_minute,
            affected_side=s.affected_side,
        )
        tally = _review_tally(outcome.out_dir)
        if tally is not None:
            row.update(review_detected=tally.detected, review_confirmed=tally.confirmed)
    return row


def _review_tally(folder: str) -> ReviewTally | None:
    """The review of a result folder (a batch resumed over reviewed folders), if any."""
    if not (Path(folder) / REVIEW_FILE).is_file():
        return None
    try:
        return Recording.from_folder(folder, with_signals=False).review_tally()
    except SpasmCvError:
        return None  # a review of another events.tsv: not counted here


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.3f}"
    if isinstance(value, int | bool):
        return str(value)
    return str(safe_cell(str(value).replace("\t", " ").replace("\n", " ")))


def write_table(path: str | os.PathLike, outcomes: Iterable[VideoOutcome]) -> Path:
    """Write the combined table atomically (temporary file, then rename)."""
    path = Path(path)
    with atomic_file(path, replace=is_batch_table) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(COLUMNS)
        for outcome in outcomes:
            row = outcome_row(outcome)
            w.writerow([_cell(row[c]) for c in COLUMNS])
    return path


def is_batch_table(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a combined table this command wrote (its header row is ours)."""
    with open(path, newline="") as f:
        return tuple(f.readline().rstrip("\r\n").split("\t")) in (COLUMNS, *_OLD_HEADERS)


def read_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a combined table as text (``n/a`` kept as is)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))
