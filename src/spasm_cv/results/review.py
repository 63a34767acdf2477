"""``review.tsv``: what a person decided about a recording's episodes, beside its events.

The detector's events.tsv is never changed. A reviewer's decisions go, one row per decision,
into ``review.tsv`` in the same result folder; the last decision about an episode wins, and
nothing is overwritten (rows are only appended). Each row records the checksum of the
events.tsv it was made for: a review of another recording, or of an earlier analysis of
this one, is refused rather than applied to the wrong episodes.

Decisions (:data:`DECISIONS`): ``accepted`` (a real one-sided episode; the reviewer may
correct its side or kind), ``rejected`` (not one), ``unsure``, and ``added`` (a missed
episode, with its own onset, duration, side and kind). A *reviewed count* counts accepted
and added episodes: :func:`reviewed_events`,
:meth:`Recording.reviewed <spasm_cv.results.recording.Recording.reviewed>`.

Columns (BIDS-style TSV, ``n/a`` for none): ``onset``, ``duration`` (s, of the episode as
detected, or as added), ``event`` (``e<N>``: the N-th row of events.tsv; ``a<N>``: an added
episode), ``decision``, ``side``, ``kind`` (as detected, or as added), ``corrected_side``,
``corrected_kind`` (n/a: unchanged), ``note``, ``reviewer``, ``decided_at`` (ISO 8601, UTC),
``events_sha256``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import Field

from spasm_cv._private import create_private_file
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import KINDS, POSSIBLE, SIDES, SPASM, Event
from spasm_cv.results.files import EVENTS_FILE, format_cell
from spasm_cv.results.schemas import Schema, Seconds, check

REVIEW_FILE = "review.tsv"
DECISIONS = ("accepted", "rejected", "unsure", "added")
NOT_REVIEWED = "not reviewed"
REVIEW_COLUMNS = (
    "onset", "duration", "event", "decision", "side", "kind", "corrected_side",
    "corrected_kind", "note", "reviewer", "decided_at", "events_sha256",
)  # fmt: skip
MAX_NOTE = 2000  # characters of a free note


class DecisionRecord(Schema):
    """One row of review.tsv, as it is read back and before it is written."""

    onset: Seconds
    duration: Seconds
    event: str = Field(pattern=r"^[ea][1-9][0-9]{0,8}$")
    decision: Literal[DECISIONS]  # type: ignore[valid-type]
    side: Literal[SIDES]  # type: ignore[valid-type]
    kind: Literal[KINDS] | None
    corrected_side: Literal[SIDES] | None  # type: ignore[valid-type]
    corrected_kind: Literal[KINDS] | None
    note: str = Field(max_length=MAX_NOTE, pattern=r"^[^\t\r\n]*$")
    reviewer: str = Field(min_length=1, max_length=100, pattern=r"^[^\t\r\n]*$")
    decided_at: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
    events_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision about one episode (see the module's description of columns)."""

    event: str
    decision: str
    onset: float
    duration: float
    side: str
    kind: str | None
    corrected_side: str | None = None
    corrected_kind: str | None = None
    note: str = ""
    reviewer: str = "reviewer"
    decided_at: str = ""
    events_sha256: str = ""

    @property
    def final_side(self) -> str:
        """The side as the reviewer judged it."""
        return self.corrected_side or self.side

    @property
    def final_kind(self) -> str | None:
        """The kind as the reviewer judged it."""
        return self.corrected_kind or self.kind

    @property
    def confirmed(self) -> bool:
        """Counted in a reviewed count: accepted or added."""
        return self.decision in ("accepted", "added")


def events_sha256(folder: str | os.PathLike) -> str:
    """The SHA-256 of a result folder's events.tsv (what a review is tied to)."""
    path = Path(folder) / EVENTS_FILE
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise SpasmCvError(f"cannot read {path}: {exc.strerror or exc}") from None


def event_id(row: int) -> str:
    """The ``event`` of the ``row``-th event of events.tsv (1-based)."""
    return f"e{row}"


def reviewable(events: Sequence[Event]) -> list[tuple[str, Event]]:
    """``(event id, event)`` of the events a reviewer decides on: one-sided eye episodes,
    sure or possible, in events.tsv order."""
    return [(event_id(i), e) for i, e in enumerate(events, 1) if e.is_episode or e.is_possible]


def decision_for(event_key: str, e: Event, decision: str, **extra) -> Decision:
    """A decision about the detected event ``e`` (its id from :func:`reviewable`)."""
    return Decision(event=event_key, decision=decision, onset=e.onset, duration=e.duration,
                    side=e.side, kind=e.kind, **extra)  # fmt: skip


def read_review(path: str | os.PathLike, events_sha: str | None = None) -> list[Decision]:
    """Every decision of a review.tsv (or of the result folder holding one), in file order.

    Parameters
    ----------
    path : path-like
        A review.tsv, or a result folder (no review.tsv there: no decision).
    events_sha : str, optional
        The checksum of the events.tsv the review must have been made for (a folder's own
        by default): a row made for another is a SpasmCvError.

    Returns
    -------
    list of Decision
        Rows are checked against :class:`DecisionRecord`; damage is one SpasmCvError line
        naming the file and row.
    """
    p = Path(path)
    if p.is_dir():
        if events_sha is None:
            events_sha = events_sha256(p)
        p = p / REVIEW_FILE
        if not p.exists():
            return []
    try:
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t")
            missing = [c for c in REVIEW_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise SpasmCvError(f"{p}: not a spasm-cv review ({missing[0]}: column missing)")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SpasmCvError(f"cannot read {p}: {exc}") from None
    out = []
    for i, r in enumerate(rows, start=2):
        values: dict = {}
        for c in REVIEW_COLUMNS:
            text = r.get(c)
            if text is None:
                raise SpasmCvError(f"{p}: row {i}: {c}: missing")
            if c in ("onset", "duration"):
                try:
                    values[c] = float(text)
                except ValueError:
                    raise SpasmCvError(f"{p}: row {i}: {c}: not a number") from None
            elif c in ("kind", "corrected_side", "corrected_kind"):
                values[c] = None if text == "n/a" else text
            else:
                values[c] = "" if (c == "note" and text == "n/a") else text
        record = check(DecisionRecord, values, f"{p}: row {i}")
        if events_sha is not None and record.events_sha256 != events_sha:
            raise SpasmCvError(
                f"{p} was made for a different events.tsv (another recording, or an earlier "
                "analysis of this one): not used"
            )
        out.append(Decision(**record.model_dump()))
    return out


def latest(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """The last decision per episode (``event``), in order of first decision."""
    out: dict[str, Decision] = {}
    for d in decisions:
        out[d.event] = d
    return out


def append_decisions(folder: str | os.PathLike, decisions: Sequence[Decision]) -> Path:
    """Append ``decisions`` to the folder's review.tsv (created owner-only, with its header).

    Each decision is checked first; ``decided_at`` is set to now where empty and
    ``events_sha256`` to the folder's events.tsv. Rows are only appended, never rewritten;
    review.tsv is never followed through a link.
    """
    folder = Path(folder)
    sha = events_sha256(folder)
    path = folder / REVIEW_FILE
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    for d in decisions:
        d = replace(d, decided_at=d.decided_at or now, events_sha256=sha)
        check(DecisionRecord, _record(d), f"{path}: decision about {d.event}")
        w.writerow([_cell(getattr(d, c)) for c in REVIEW_COLUMNS])
    if create_private_file(path, exist_ok=True):
        _append(path, "\t".join(REVIEW_COLUMNS) + "\n")
    elif path.is_symlink():
        raise SpasmCvError(f"{path} is a link: not written through")
    else:
        read_review(path, sha)  # refuse to add to a review of another events.tsv
    _append(path, buf.getvalue())
    return path


def _record(d: Decision) -> dict:
    return {c: getattr(d, c) for c in REVIEW_COLUMNS}


def _cell(value) -> str:
    if value in (None, ""):
        return "n/a"
    return format_cell(value)


def _append(path: Path, text: str) -> None:
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SpasmCvError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def next_added_id(decisions: Iterable[Decision]) -> str:
    """The ``event`` for a newly added episode (``a<N>``, one more than any so far)."""
    taken = [int(d.event[1:]) for d in decisions if d.event.startswith("a")]
    return f"a{max(taken, default=0) + 1}"


# ---------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class ReviewTally:
    """How a recording's detected episodes were reviewed (counts of episodes)."""

    detected: int
    accepted: int
    rejected: int
    unsure: int
    added: int

    @property
    def not_reviewed(self) -> int:
        return self.detected - self.accepted - self.rejected - self.unsure

    @property
    def confirmed(self) -> int:
        """Accepted and added: what a reviewed count counts."""
        return self.accepted + self.added

    def sentence(self) -> str:
        """``confirmed by review: 31 of 34 detected, 2 added`` (and what is left)."""
        text = f"confirmed by review: {self.accepted} of {self.detected} detected"
        text += f", {self.added} added" if self.added else ""
        if self.not_reviewed:
            text += f"; {self.not_reviewed} not reviewed (not counted)"
        if self.unsure:
            text += f"; {self.unsure} unsure (not counted)"
        return text

    @classmethod
    def from_dict(cls, d: dict) -> ReviewTally:
        """Inverse of :meth:`to_dict` (``not_reviewed`` follows from the others)."""
        return cls(d["detected"], d["accepted"], d["rejected"], d["unsure"], d["added"])

    def __add__(self, other: ReviewTally) -> ReviewTally:
        return ReviewTally(self.detected + other.detected, self.accepted + other.accepted,
                           self.rejected + other.rejected, self.unsure + other.unsure,
                           self.added + other.added)  # fmt: skip

    def to_dict(self) -> dict:
        return {"detected": self.detected, "accepted": self.accepted, "rejected": self.rejected,
                "unsure": self.unsure, "added": self.added,
                "not_reviewed": self.not_reviewed}  # fmt: skip


Labels = dict[tuple[float, str], str]  # (onset s, side) of an event -> its review state


def review_labels(events: Sequence[Event], decisions: Iterable[Decision]) -> Labels:
    """Per event a reviewer decides on (one-sided eye episodes, sure or possible), keyed
    by ``(onset, side)``: its last decision, or ``not reviewed``."""
    last = latest(decisions)
    return {(e.onset, e.side): last[key].decision if key in last else NOT_REVIEWED
            for key, e in reviewable(events)}  # fmt: skip


def label_of(labels: Labels, e: Event) -> str:
    """The review state of ``e`` in ``labels`` (``n/a``: not one a reviewer decides on)."""
    return labels.get((e.onset, e.side), "n/a")


def reviewed_events(events: Sequence[Event], decisions: Iterable[Decision]
                    ) -> tuple[list[Event], Labels, ReviewTally]:  # fmt: skip
    """The events as a review counts them, their review states, and the tally.

    Accepted episodes count (as ``spasm``, with the reviewer's side and kind); rejected ones
    are dropped; unsure and not reviewed ones are listed as ``possible_spasm`` (not counted);
    added episodes count. Other events (blinks, mouth-only) are kept as detected.
    """
    last = latest(decisions)
    ids = dict(reviewable(events))
    out: list[Event] = []
    labels: Labels = {}
    n = dict.fromkeys(DECISIONS, 0)
    for i, e in enumerate(events, 1):
        key = event_id(i)
        if key not in ids:
            out.append(e)
            continue
        d = last.get(key)
        if d is not None and d.decision in ("accepted", "rejected", "unsure"):
            n[d.decision] += 1
        if d is None or d.decision not in ("accepted", "rejected"):
            kept = replace(e, trial_type=POSSIBLE)
        elif d.decision == "accepted":
            kept = replace(e, trial_type=SPASM, side=d.final_side, kind=d.final_kind or e.kind)
        else:
            continue
        out.append(kept)
        labels[(kept.onset, kept.side)] = d.decision if d is not None else NOT_REVIEWED
    for d in last.values():
        if d.decision == "added" and d.event.startswith("a"):
            n["added"] += 1
            added = Event(onset=d.onset, duration=d.duration, trial_type=SPASM,
                          side=d.final_side, kind=d.final_kind or "twitch", regions="eye",
                          n_contractions=1, peak_closure=float("nan"),
                          closure_duration=float("nan"), brow_raised=None,
                          mouth_cocontraction=None, confidence=1.0, context="none")  # fmt: skip
            out.append(added)
            labels[(added.onset, added.side)] = "added"
    out.sort(key=lambda e: e.onset)
    tally = ReviewTally(len(ids), n["accepted"], n["rejected"], n["unsure"], n["added"])
    return out, labels, tally
