"""The detector against a reviewer, and two reviewers against each other.

A reviewer's review.tsv (:mod:`spasm_cv.results.review`) is a truth like a phantom's: the
episodes it accepted (with its side) and added. :func:`review_truth` turns it into the
:class:`~spasm_cv.evaluation.match.Episodes` the evaluator scores, and the detector's
episodes the reviewer decided on (accepted or rejected) into the predictions: an episode
left unsure or not reviewed is neither a hit nor a false alarm.

Two reviewers of the same recording: :func:`agreement` gives Cohen's kappa over the detected
episodes both decided, and the list of disagreements.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation.match import Episodes
from spasm_cv.results.files import read_events
from spasm_cv.results.review import (
    REVIEW_FILE,
    Decision,
    events_sha256,
    latest,
    read_review,
    reviewable,
)


def is_review_file(path: str | Path) -> bool:
    """Whether ``path`` is a review.tsv (by its header), not a phantom's truth table."""
    p = Path(path)
    if p.is_dir():
        return False
    try:
        with open(p, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f, delimiter="\t"), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return "decision" in header and "events_sha256" in header


def _folder(events_path: str | Path) -> Path:
    p = Path(events_path)
    folder = p if p.is_dir() else p.parent
    if not (folder / "events.tsv").is_file():
        raise SpasmCvError(f"no events.tsv in {folder}: --events must be the reviewed result")
    return folder


def review_truth(review: str | Path, events_path: str | Path) -> tuple[Episodes, Episodes]:
    """``(truth, predicted)`` episodes of a reviewed recording.

    Parameters
    ----------
    review : path-like
        A review.tsv (or the result folder holding one).
    events_path : path-like
        The result folder (or its events.tsv) the review was made for; a review of another
        events.tsv is a SpasmCvError.

    Returns
    -------
    truth : Episodes
        Accepted episodes (the reviewer's side and kind) and added ones.
    predicted : Episodes
        The detector's one-sided eye episodes (sure or possible) the reviewer accepted or
        rejected, as the detector reported them.
    """
    folder = _folder(events_path)
    path = Path(review) / REVIEW_FILE if Path(review).is_dir() else Path(review)
    last = latest(read_review(path, events_sha256(folder)))
    confirmed = [d for d in last.values() if d.confirmed]
    truth = Episodes(
        np.array([d.onset for d in confirmed], float),
        np.array([d.duration for d in confirmed], float),
        np.array([d.final_side for d in confirmed], dtype=object),
        np.array([d.final_kind or "n/a" for d in confirmed], dtype=object),
    )
    decided = [e for key, e in reviewable(read_events(folder))
               if key in last and last[key].decision in ("accepted", "rejected")]  # fmt: skip
    predicted = Episodes(
        np.array([e.onset for e in decided], float),
        np.array([e.duration for e in decided], float),
        np.array([e.side for e in decided], dtype=object),
        np.array([e.kind or "n/a" for e in decided], dtype=object),
    )
    return truth, predicted


@dataclass(frozen=True)
class Agreement:
    """Two reviewers on the detected episodes both decided about.

    ``kappa``: Cohen's kappa over accepted / rejected / unsure (None when undefined: fewer
    than two episodes, or both always gave the same single answer); ``observed``: the share
    of episodes with the same decision; ``disagreements``: ``(event, onset s, side, first
    reviewer's decision, second's)``; ``added_only``: episodes one reviewer added that the
    other did not (``(reviewer 1 or 2, onset s, side)``).
    """

    n: int
    observed: float | None
    kappa: float | None
    disagreements: list[tuple[str, float, str, str, str]]
    added_only: list[tuple[int, float, str]]


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items [1]_.

    ``(p_o - p_e) / (1 - p_e)``: observed agreement beyond what the raters' own label
    frequencies give by chance. None when undefined (no item, or ``p_e`` = 1).

    References
    ----------
    .. [1] Cohen J. A coefficient of agreement for nominal scales. Educational and
       Psychological Measurement 1960;20(1):37-46.

    Examples
    --------
    >>> cohen_kappa(["yes", "yes", "no", "no"], ["yes", "no", "no", "no"])
    0.5
    """
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    labels = sorted(set(a) | set(b))
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    p_e = sum((list(a).count(k) / n) * (list(b).count(k) / n) for k in labels)
    return None if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def agreement(first: str | Path, second: str | Path, events_path: str | Path,
              tolerance_s: float = 0.25) -> Agreement:  # fmt: skip
    """How two reviewers' review.tsv files of one recording agree (:class:`Agreement`)."""
    folder = _folder(events_path)
    sha = events_sha256(folder)
    one, two = (latest(read_review(Path(p), sha)) for p in (first, second))
    events = dict(reviewable(read_events(folder)))
    both = [k for k in events if k in one and k in two]
    a = [one[k].decision for k in both]
    b = [two[k].decision for k in both]
    differ = [(k, events[k].onset, events[k].side, one[k].decision, two[k].decision)
              for k in both if one[k].decision != two[k].decision
              or one[k].final_side != two[k].final_side]  # fmt: skip
    added_only = []
    for who, mine, theirs in ((1, one, two), (2, two, one)):
        for d in _added(mine):
            if not any(_near(d, o, tolerance_s) for o in _added(theirs)):
                added_only.append((who, d.onset, d.final_side))
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / len(both) if both else None
    return Agreement(len(both), observed, cohen_kappa(a, b), differ, added_only)


def _added(decisions: dict[str, Decision]) -> list[Decision]:
    return [d for d in decisions.values() if d.decision == "added"]


def _near(a: Decision, b: Decision, tolerance_s: float) -> bool:
    return (a.final_side == b.final_side and a.onset - tolerance_s < b.onset + b.duration
            and b.onset - tolerance_s < a.onset + a.duration)  # fmt: skip


def format_agreement(r: Agreement) -> str:
    """The agreement as lines for the terminal."""
    kappa = "n/a" if r.kappa is None else f"{r.kappa:.3f}"
    observed = "n/a" if r.observed is None else f"{100 * r.observed:.0f} %"
    lines = [f"episodes both reviewers decided: {r.n}; same decision: {observed}; "
             f"Cohen's kappa {kappa}"]  # fmt: skip
    if r.disagreements:
        lines.append("disagreements (event, onset, side: first, second):")
        lines += [f"  {k} {t:.2f} s {side}: {x}, {y}" for k, t, side, x, y in r.disagreements]
    for who, t, side in r.added_only:
        lines.append(f"  added only by reviewer {who}: {side} at {t:.2f} s")
    return "\n".join(lines)
