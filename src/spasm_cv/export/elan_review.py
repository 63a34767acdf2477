"""An ELAN file exported by spasm-cv and edited by a reviewer, read back as review decisions
(``spasm-cv import-review``; the file's layout: :mod:`spasm_cv.export.elan`)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import KINDS, SIDES, SPASM, Event
from spasm_cv.export.elan import EVENTS_SHA_PROPERTY, TIERS, annotations, document, ms
from spasm_cv.results.review import Decision, decision_for, reviewable


def events_sha_of(root: ET.Element) -> str | None:
    """The checksum of the events.tsv an ``.eaf`` (parsed: ``root``) was exported from (None
    if not said)."""
    for prop in root.iter("PROPERTY"):
        if prop.get("NAME") == EVENTS_SHA_PROPERTY:
            return (prop.text or "").strip() or None
    return None


def review_decisions(path: str | os.PathLike, events: Sequence[Event],
                     events_sha256: str) -> list[Decision]:  # fmt: skip
    """What an ``.eaf`` exported by spasm-cv and edited in ELAN says about its episodes.

    For every one-sided eye episode of ``events`` (events.tsv order): its annotation deleted
    is ``rejected``; a value picked on its ``_review`` tier is that decision; moved to the
    other side's tier with its dependent annotations (ELAN: copy the annotation group),
    given another kind, moved in time, or dragged from a ``possible``
    tier to a ``spasm`` tier without a pick is ``accepted`` (with the corrected side and
    kind; a move in time is said in the note); untouched, nothing is decided. An annotation
    added on a ``spasm_<side>`` tier is an ``added`` episode.

    Raises
    ------
    SpasmCvError
        The file was exported from another events.tsv (its ``spasm-cv:events_sha256``).
    """
    root = document(path)
    said = events_sha_of(root)
    if said is not None and said != events_sha256:
        raise SpasmCvError(f"{path} was exported from a different events.tsv: not imported")
    found = annotations(root, path)
    by_id = {a.event_id: a for a in found if a.event_id}
    out: list[Decision] = []
    for key, e in reviewable(events):
        a = by_id.get(key)
        if a is None:
            out.append(decision_for(key, e, "rejected", note="deleted in ELAN"))
            continue
        trial_type, side = TIERS[a.tier]
        kind = a.value if a.value in KINDS else e.kind
        start, end = a.start_ms / 1000.0, a.end_ms / 1000.0
        moved = abs(a.start_ms - ms(e.onset)) > 1 or abs(a.end_ms - ms(e.end)) > 1
        promoted = trial_type == SPASM and e.is_possible
        decision = a.review if a.review in ("accepted", "rejected", "unsure") else None
        if decision is None and (side != e.side or kind != e.kind or moved or promoted):
            decision = "accepted"
        if decision is None:
            continue
        note = f"moved in ELAN to {start:.3f}-{end:.3f} s" if moved else ""
        out.append(decision_for(key, e, decision, note=note,
                                corrected_side=side if side != e.side else None,
                                corrected_kind=kind if kind != e.kind else None))  # fmt: skip
    n = 0
    for a in found:
        trial_type, side = TIERS[a.tier]
        if a.event_id or trial_type != SPASM or side not in SIDES:
            continue
        n += 1
        out.append(Decision(event=f"a{n}", decision="added", onset=a.start_ms / 1000.0,
                            duration=max(a.end_ms - a.start_ms, 1) / 1000.0, side=side,
                            kind=a.value if a.value in KINDS else "twitch",
                            note="added in ELAN"))  # fmt: skip
    return out
