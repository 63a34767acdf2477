"""ELAN annotation files (``.eaf``, EAF 3.0) with one tier per side and event type.

Tiers: ``spasm_right``, ``spasm_left``, ``blink``, ``bilateral_closure``, ``possible_right``,
``possible_left`` (possible episodes; all always present, so an annotator can add what the
detector missed) and, when per-frame signals are given, ``not_measurable`` (stretches
without a face or with the head turned too far). The video is linked (absolute
``MEDIA_URL`` and ``RELATIVE_MEDIA_URL``), so each detection can be reviewed on the video.
Times are whole milliseconds.

An annotation's value is the event's kind (one-sided tiers: ``twitch``, ``clonic``,
``tonic``) or type (``blink``, ``bilateral_closure``), from a controlled vocabulary, so it
survives editing in ELAN. Dependent tiers (symbolic associations) carry the rest: on the
one-sided tiers ``<tier>_regions`` (controlled vocabulary: ``eye``, ``eye+mouth``) and
``<tier>_review`` (controlled vocabulary: ``accepted``, ``rejected``, ``unsure``; empty
until a reviewer picks one), and on every event tier ``<tier>_details``: ``event=e<N>`` (the
event's row in events.tsv) and every other field of events.tsv, so :func:`read_eaf` recovers
the events and :func:`review_decisions` reads an edited file back as review decisions. The
header's ``spasm-cv:events_sha256`` property ties the file to its events.tsv.

Files written by earlier versions (the whole event packed in the value, ``tonic eye+mouth |
n_contractions=1 ...``) are still read.
"""

from __future__ import annotations

import mimetypes
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, KINDS, POSSIBLE, SPASM, Event
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
QUALITY_TYPE = "spasm-cv-quality"
# dependent tiers of each event tier, their linguistic types and controlled vocabularies
REGIONS_TYPE, REVIEW_TYPE, DETAILS_TYPE = "spasm-cv-regions", "spasm-cv-review", "spasm-cv-details"
VOCABULARIES = {
    "spasm-cv-kind": (*KINDS, "blink", "bilateral_closure", "n/a"),
    "spasm-cv-regions": ("eye", "eye+mouth", "mouth"),
    "spasm-cv-review": ("accepted", "rejected", "unsure"),
}
EVENTS_SHA_PROPERTY = "spasm-cv:events_sha256"
LANG_DEF = "http://cdb.iso.org/lg/CDB-00138502-001"  # ISO 639-3 "eng", as ELAN writes it
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
    """The value of an event's annotation: its kind (one-sided) or type (two-sided)."""
    return (e.kind or "n/a") if e.is_one_sided else e.trial_type


def details_value(e: Event, event_id: str | None) -> str:
    """The ``<tier>_details`` value: ``event=e<N>`` and the other fields as key=value."""
    keys = _DETAIL if e.is_one_sided else ("regions", *_DETAIL)  # one-sided: a tier of its own
    fields = " ".join(f"{k}={format_cell(getattr(e, k))}" for k in keys)
    return f"event={event_id} {fields}" if event_id else fields


def parse_value(tier: str, start_ms: int, end_ms: int, value: str) -> Event:
    """An event of an earlier version's packed annotation value (``tonic eye+mouth |
    n_contractions=1 ...``) on one of :data:`TIERS`."""
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
    return [
        (float(t[a]), float(t[b] + step), str(q[a]))
        for a, b in zip(starts, ends, strict=True)
        if q[a] != OK
    ]


NO_DATE = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the header's DATE when it must say nothing


def write_eaf(
    events: Sequence[Event],
    path: str | os.PathLike,
    media: str | os.PathLike | None = None,
    quality: Sequence[tuple[float, float, str]] = (),
    author: str = "spasm-cv",
    date: datetime | None = None,
    replace: Replace = True,
    events_sha256: str | None = None,
) -> Path:
    """Write an EAF 3.0 file with one tier per side and event type; returns its path.

    Parameters
    ----------
    events : events to annotate (times in s from the start of the video).
    path : the ``.eaf`` file to write.
    media : the video, linked by absolute URL and by a path relative to the ``.eaf``.
    quality : ``(start s, end s, flag)`` stretches for the ``not_measurable`` tier.
    date : the header's DATE (default: now); :data:`NO_DATE` for a de-identified recording.
    events_sha256 : when ``events`` are exactly the rows of an events.tsv, in its order:
        its checksum (a header property; :func:`review_decisions` refuses a file made for
        another), and each annotation's details name its row (``event=e<N>``).
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
    rows = {id(e): f"e{i}" for i, e in enumerate(events, 1)} if events_sha256 else {}
    tiers: dict[str, list[tuple[int, int, Event]]] = {name: [] for name in TIERS}
    for e in sorted(events, key=lambda e: (e.onset, e.duration)):
        start, end = ms(e.onset), ms(e.end)
        tiers[tier_of(e)].append((start, max(end, start + 1), e))
    counter = {"slot": 0, "ann": 0}

    def slot(t: int) -> str:
        counter["slot"] += 1
        ET.SubElement(time_order, "TIME_SLOT",
                      {"TIME_SLOT_ID": f"ts{counter['slot']}", "TIME_VALUE": str(t)})  # fmt: skip
        return f"ts{counter['slot']}"

    def annotation(tier: ET.Element, value: str, **attrs: str) -> str:
        counter["ann"] += 1
        kind = "ALIGNABLE_ANNOTATION" if "TIME_SLOT_REF1" in attrs else "REF_ANNOTATION"
        a = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), kind,
                          {"ANNOTATION_ID": f"a{counter['ann']}", **attrs})  # fmt: skip
        ET.SubElement(a, "ANNOTATION_VALUE").text = value
        return f"a{counter['ann']}"

    def tier(name: str, ltype: str, parent: str | None = None) -> ET.Element:
        attrs = {"TIER_ID": name, "LINGUISTIC_TYPE_REF": ltype}
        if parent:
            attrs["PARENT_REF"] = parent
        element = ET.Element("TIER", attrs)
        root.append(element)
        return element

    for name, spans in tiers.items():
        main = tier(name, LINGUISTIC_TYPE)
        one_sided = TIERS[name][0] in (SPASM, POSSIBLE)
        children = [(f"{name}_regions", REGIONS_TYPE), (f"{name}_review", REVIEW_TYPE)]
        children = ([*children] if one_sided else []) + [(f"{name}_details", DETAILS_TYPE)]
        child = {suffix: tier(n, t, name) for n, t in children for suffix in [n[len(name) :]]}
        for start, end, e in spans:
            ref = annotation(main, annotation_value(e), TIME_SLOT_REF1=slot(start),
                             TIME_SLOT_REF2=slot(end))  # fmt: skip
            if one_sided:
                annotation(child["_regions"], e.regions, ANNOTATION_REF=ref)
                annotation(child["_review"], "", ANNOTATION_REF=ref)
            annotation(child["_details"], details_value(e, rows.get(id(e))), ANNOTATION_REF=ref)
    if quality:
        q = tier(QUALITY_TIER, QUALITY_TYPE)
        for a, b_, flag in quality:
            start, end = ms(a), max(ms(b_), ms(a) + 1)
            annotation(q, flag, TIME_SLOT_REF1=slot(start), TIME_SLOT_REF2=slot(end))
    ET.SubElement(header, "PROPERTY", {"NAME": "lastUsedAnnotationId"}).text = str(counter["ann"])
    if events_sha256:
        ET.SubElement(header, "PROPERTY", {"NAME": EVENTS_SHA_PROPERTY}).text = events_sha256
    types = [
        (LINGUISTIC_TYPE, "true", None, "spasm-cv-kind"),
        (QUALITY_TYPE, "true", None, None),
        (REGIONS_TYPE, "false", "Symbolic_Association", "spasm-cv-regions"),
        (REVIEW_TYPE, "false", "Symbolic_Association", "spasm-cv-review"),
        (DETAILS_TYPE, "false", "Symbolic_Association", None),
    ]
    for ltype, alignable, constraint, vocabulary in types:
        attrs = {"LINGUISTIC_TYPE_ID": ltype, "TIME_ALIGNABLE": alignable,
                 "GRAPHIC_REFERENCES": "false"}  # fmt: skip
        if constraint:
            attrs["CONSTRAINTS"] = constraint
        if vocabulary:
            attrs["CONTROLLED_VOCABULARY_REF"] = vocabulary
        ET.SubElement(root, "LINGUISTIC_TYPE", attrs)
    ET.SubElement(root, "LOCALE", {"LANGUAGE_CODE": "en", "COUNTRY_CODE": "US"})
    ET.SubElement(root, "LANGUAGE", {"LANG_ID": "eng", "LANG_LABEL": "English (eng)",
                                     "LANG_DEF": LANG_DEF})  # fmt: skip
    for stereotype, description in _CONSTRAINTS.items():
        ET.SubElement(root, "CONSTRAINT", {"STEREOTYPE": stereotype, "DESCRIPTION": description})
    for cv, entries in VOCABULARIES.items():
        voc = ET.SubElement(root, "CONTROLLED_VOCABULARY", {"CV_ID": cv})
        ET.SubElement(voc, "DESCRIPTION", {"LANG_REF": "eng"})
        for i, value in enumerate(entries, 1):
            entry = ET.SubElement(voc, "CV_ENTRY_ML", {"CVE_ID": f"{cv}-{i}"})
            ET.SubElement(entry, "CVE_VALUE", {"LANG_REF": "eng"}).text = value
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


@dataclass(frozen=True)
class Annotation:
    """An annotation on one of the event tiers, with its dependent tiers' values."""

    tier: str
    start_ms: int
    end_ms: int
    value: str
    regions: str | None
    review: str | None
    details: dict[str, str]

    @property
    def event_id(self) -> str | None:
        """``e<N>``: the events.tsv row it was exported from (None: added in ELAN)."""
        return self.details.get("event")


def document(path: str | os.PathLike) -> ET.Element:
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SpasmCvError(f"cannot read ELAN file {p}: {exc}") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise SpasmCvError(f"{p} is not an ELAN annotation document")
    return root


def annotations(root: ET.Element, path: str | os.PathLike) -> list[Annotation]:
    """The annotations on the event tiers (:data:`TIERS`) of an ``.eaf`` (``root``, as
    :func:`document` parsed it from ``path``), in time order."""
    slots = {s.get("TIME_SLOT_ID"): s.get("TIME_VALUE") for s in root.iter("TIME_SLOT")}
    children: dict[str, dict[str, str]] = {}
    for t in root.iter("TIER"):
        parent, name = t.get("PARENT_REF"), t.get("TIER_ID") or ""
        if parent not in TIERS or not name.startswith(parent + "_"):
            continue
        role = name[len(parent) + 1 :]
        for ref in t.iter("REF_ANNOTATION"):
            children.setdefault(ref.get("ANNOTATION_REF") or "", {})[role] = (
                ref.findtext("ANNOTATION_VALUE") or ""
            ).strip()
    out = []
    for t in root.iter("TIER"):
        name = t.get("TIER_ID")
        if name not in TIERS:
            continue
        for a in t.iter("ALIGNABLE_ANNOTATION"):
            start, end = slots.get(a.get("TIME_SLOT_REF1")), slots.get(a.get("TIME_SLOT_REF2"))
            if start is None or end is None:
                raise SpasmCvError(f"{path}: an annotation on {name} has no time (unaligned)")
            extra = children.get(a.get("ANNOTATION_ID") or "", {})
            details = dict(item.split("=", 1) for item in extra.get("details", "").split()
                           if "=" in item)  # fmt: skip
            out.append(Annotation(name, int(start), int(end),
                                  (a.findtext("ANNOTATION_VALUE") or "").strip(),
                                  extra.get("regions") or None, extra.get("review") or None,
                                  details))  # fmt: skip
    return sorted(out, key=lambda x: (x.start_ms, x.end_ms, x.tier))


def read_eaf(path: str | os.PathLike) -> tuple[list[Event], dict]:
    """Events from the spasm-cv tiers of an ``.eaf`` and its header's media descriptor.

    Annotations on other tiers (e.g. an annotator's own) are ignored. SpasmCvError if the
    file is not EAF XML, or an annotation is not a spasm-cv event.
    """
    root = document(path)
    events = []
    for a in annotations(root, path):
        if " | " in a.value:  # written by an earlier version: the event packed in the value
            events.append(parse_value(a.tier, a.start_ms, a.end_ms, a.value))
            continue
        events.append(_event(a))
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    return sorted(events, key=lambda e: (e.onset, e.duration)), (
        dict(media.attrib) if media is not None else {}
    )


def _event(a: Annotation) -> Event:
    trial_type, side = TIERS[a.tier]
    one_sided = trial_type in (SPASM, POSSIBLE)
    if any(k not in a.details for k in _DETAIL) or (one_sided and a.regions is None):
        raise SpasmCvError(f"annotation {a.value!r} on tier {a.tier} is not a spasm-cv event")
    try:
        fields = {k: parse_cell(k, a.details[k]) for k in _DETAIL}
    except ValueError:
        raise SpasmCvError(
            f"annotation on tier {a.tier} at {a.start_ms} ms: details damaged"
        ) from None
    return Event(
        onset=a.start_ms / 1000.0,
        duration=(a.end_ms - a.start_ms) / 1000.0,
        trial_type=trial_type,
        side=side,
        kind=a.value if one_sided and a.value != "n/a" else None,
        regions=a.regions if one_sided else a.details.get("regions", "eye"),
        **fields,
    )
