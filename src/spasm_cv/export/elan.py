"""ELAN annotation files (``.eaf``, EAF 3.0) with one tier per side and event type.

Tiers: ``spasm_right``, ``spasm_left``, ``blink``, ``bilateral_closure``, ``possible_right``,
``possible_left`` (possible episodes; all always present, so an
annotator can add what the detector missed) and, when per-frame signals are given,
``not_measurable`` (stretches without a face or with the head turned too far). The video is
linked (absolute ``MEDIA_URL`` and ``RELATIVE_MEDIA_URL``), so each detection can be reviewed on
the video. Times are whole milliseconds.

An annotation's value reads e.g. ``tonic eye+mouth | n_contractions=1 peak_closure=0.81
closure_duration=1.2 brow_raised=yes mouth_cocontraction=yes confidence=0.84``: the kind and
regions first for the annotator, then every field of events.tsv, so :func:`read_eaf` recovers
the events.
"""

from __future__ import annotations

import mimetypes
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, POSSIBLE, SPASM, Event
from spasm_cv.results.atomic import Replace, published
from spasm_cv.results.files import format_cell, parse_cell
from spasm_cv.results.track import OK, Track

TIERS = {
    "spasm_right": ("spasm", "right"),
    "spasm_left": ("spasm", "left"),
    "blink": ("blink", "both"),
    "bilateral_closure": ("bilateral_closure", "both"),
    "possible_right": ("possible_spasm", "right"),
    "possible_left": ("possible_spasm", "left"),
}
QUALITY_TIER = "not_measurable"
LINGUISTIC_TYPE = "spasm-cv-event"
# every events.tsv field after those the tier and the head of the value already say
_DETAIL = tuple(
    c
    for c in EVENT_FIELDS
    if c not in ("onset", "duration", "trial_type", "side", "kind", "regions")
)
# EAF 3.0 constraint stereotypes (ELAN writes these four in every file).
_CONSTRAINTS = {
    "Time_Subdivision": "Time subdivision of parent annotation's time interval, no time gaps "
    "allowed within this interval",
    "Symbolic_Subdivision": "Symbolic subdivision of a parent annotation. Annotations refering "
    "to the same parent are ordered",
    "Symbolic_Association": "1-1 association with a parent annotation",
    "Included_In": "Time alignable annotations within the parent annotation's time interval, "
    "gaps are allowed",
}


def ms(seconds: float) -> int:
    """Seconds to whole milliseconds (ELAN's time unit)."""
    return int(round(seconds * 1000.0))


def tier_of(e: Event) -> str:
    """The tier of an event: one per side for episodes and for possible episodes."""
    if e.is_one_sided:
        return f"{'spasm' if e.trial_type == SPASM else 'possible'}_{e.side}"
    return e.trial_type


def annotation_value(e: Event) -> str:
    """Label of an event: kind and regions for the eye, then all fields as key=value."""
    what = (e.kind or "episode") if e.is_one_sided else e.trial_type
    return f"{what} {e.regions} | " + " ".join(f"{k}={format_cell(getattr(e, k))}" for k in _DETAIL)


def parse_value(tier: str, start_ms: int, end_ms: int, value: str) -> Event:
    """Inverse of :func:`annotation_value` for an annotation on one of :data:`TIERS`."""
    trial_type, side = TIERS[tier]
    head, _, detail = value.partition(" | ")
    words = head.split()
    fields = dict(item.split("=", 1) for item in detail.split())
    if trial_type in (SPASM, POSSIBLE):  # one-sided
        kind, regions = (words + [None, None])[:2]
        kind = None if kind == "episode" else kind
    else:
        kind, regions = None, words[-1]
    if regions is None or any(k not in fields for k in _DETAIL):
        raise SpasmCvError(f"annotation {value!r} on tier {tier} is not a spasm-cv event")
    return Event(
        onset=start_ms / 1000.0,
        duration=(end_ms - start_ms) / 1000.0,
        trial_type=trial_type,
        side=side,
        kind=kind,
        regions=regions,
        **{k: parse_cell(k, fields[k]) for k in _DETAIL},
    )


def quality_spans(track: Track) -> list[tuple[float, float, str]]:
    """Stretches (start s, end s, flags) where frames carry the same quality flags (not
    none); the flags as signals.csv.gz writes them (joined by ``+``), the annotation's
    value. A stretch ends a median frame interval after its last frame."""
    t, q = track.time, track.quality()
    if len(t) == 0:
        return []
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    change = np.flatnonzero(q[1:] != q[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(q)])) - 1
    return [(float(t[a]), float(t[b] + step), str(q[a]))
            for a, b in zip(starts, ends, strict=True) if q[a] != OK]


NO_DATE = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the header's DATE when it must say nothing


def write_eaf(
    events: Sequence[Event],
    path: str | os.PathLike,
    media: str | os.PathLike | None = None,
    quality: Sequence[tuple[float, float, str]] = (),
    author: str = "spasm-cv",
    date: datetime | None = None,
    replace: Replace = True,
) -> Path:
    """Write an EAF 3.0 file with one tier per side and event type; returns its path.

    Parameters
    ----------
    events : events to annotate (times in s from the start of the video).
    path : the ``.eaf`` file to write.
    media : the video, linked by absolute URL and by a path relative to the ``.eaf``.
    quality : ``(start s, end s, flag)`` stretches for the ``not_measurable`` tier.
    date : the header's DATE (default: now); :data:`NO_DATE` for a de-identified recording.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    date = date or datetime.now(timezone.utc)
    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": author,
            "DATE": date.isoformat(timespec="seconds"),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    header = ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
    if media is not None:
        ET.SubElement(header, "MEDIA_DESCRIPTOR", _media_attributes(Path(media), out))
    time_order = ET.SubElement(root, "TIME_ORDER")
    tiers: dict[str, list[tuple[int, int, str]]] = {name: [] for name in TIERS}
    for e in sorted(events, key=lambda e: (e.onset, e.duration)):
        start, end = ms(e.onset), ms(e.end)
        tiers[tier_of(e)].append((start, max(end, start + 1), annotation_value(e)))
    if quality:
        tiers[QUALITY_TIER] = [(ms(a), max(ms(b), ms(a) + 1), flag) for a, b, flag in quality]
    slot = ann = 0
    for name, spans in tiers.items():
        tier = ET.Element("TIER", {"TIER_ID": name, "LINGUISTIC_TYPE_REF": LINGUISTIC_TYPE})
        for start, end, value in spans:
            refs = []
            for t in (start, end):
                slot += 1
                ET.SubElement(
                    time_order, "TIME_SLOT", {"TIME_SLOT_ID": f"ts{slot}", "TIME_VALUE": str(t)}
                )
                refs.append(f"ts{slot}")
            ann += 1
            a = ET.SubElement(
                ET.SubElement(tier, "ANNOTATION"),
                "ALIGNABLE_ANNOTATION",
                {"ANNOTATION_ID": f"a{ann}", "TIME_SLOT_REF1": refs[0], "TIME_SLOT_REF2": refs[1]},
            )
            ET.SubElement(a, "ANNOTATION_VALUE").text = value
        root.append(tier)
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(ann)
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        {
            "LINGUISTIC_TYPE_ID": LINGUISTIC_TYPE,
            "TIME_ALIGNABLE": "true",
            "GRAPHIC_REFERENCES": "false",
        },
    )
    ET.SubElement(root, "LOCALE", {"LANGUAGE_CODE": "en", "COUNTRY_CODE": "US"})
    for stereotype, description in _CONSTRAINTS.items():
        ET.SubElement(root, "CONSTRAINT", {"STEREOTYPE": stereotype, "DESCRIPTION": description})
    ET.indent(root, space="    ")
    with published(out, replace=replace) as done:
        ET.ElementTree(root).write(done.tmp, encoding="UTF-8", xml_declaration=True)
    return done.path


def _media_attributes(media: Path, eaf: Path) -> dict[str, str]:
    absolute = media.resolve()
    relative = os.path.relpath(absolute, eaf.resolve().parent).replace(os.sep, "/")
    if not relative.startswith("../"):
        relative = "./" + relative
    mime = mimetypes.guess_type(absolute.name)[0] or "video/*"
    return {"MEDIA_URL": absolute.as_uri(), "MIME_TYPE": mime, "RELATIVE_MEDIA_URL": relative}


def read_eaf(path: str | os.PathLike) -> tuple[list[Event], dict]:
    """Events from the spasm-cv tiers of an ``.eaf`` and its header's media descriptor.

    Annotations on other tiers (e.g. an annotator's own) are ignored. SpasmCvError if the
    file is not EAF XML.
    """
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SpasmCvError(f"cannot read ELAN file {p}: {exc}") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise SpasmCvError(f"{p} is not an ELAN annotation document")
    slots = {
        s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE"))
        for s in root.iter("TIME_SLOT")
        if s.get("TIME_VALUE") is not None
    }
    events = []
    for tier in root.iter("TIER"):
        name = tier.get("TIER_ID")
        if name not in TIERS:
            continue
        for a in tier.iter("ALIGNABLE_ANNOTATION"):
            value = a.findtext("ANNOTATION_VALUE") or ""
            start, end = slots[a.get("TIME_SLOT_REF1")], slots[a.get("TIME_SLOT_REF2")]
            events.append(parse_value(name, start, end, value))
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    return sorted(events, key=lambda e: (e.onset, e.duration)), (
        dict(media.attrib) if media is not None else {}
    )
