"""BIDS events: check that an events table's sidecar describes every column and level, and
name files the BIDS way (``sub-<label>[_ses-<label>]_task-<label>[_run-<n>]``).

The native events.tsv already is a BIDS events file (onset, duration first; ``n/a`` for
missing values). The whole dataset (folders, dataset_description.json, scans.tsv, signals as
a continuous recording) is written by :mod:`spasm_cv.export.dataset`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES
from spasm_cv.results.files import EVENTS_FILE, EVENTS_SIDECAR

_LABEL = re.compile(r"^[A-Za-z0-9]+$")
# columns holding words (levels), not numbers: the Event fields of type str or bool
TEXT_COLUMNS = tuple(c for c in EVENT_FIELDS if FIELD_TYPES[c] in ("str", "bool"))


def validate_events(header: list[str], rows: list[dict[str, str]], sidecar: dict) -> list[str]:
    """Problems with a BIDS events table and its JSON sidecar (empty list: valid).

    Checks: ``onset`` and ``duration`` come first, in seconds, as numbers >= 0; every column is
    described (a non-empty ``Description``) and every described column exists; every value of
    a column with ``Levels`` is one of them (or ``n/a``); other columns hold numbers or ``n/a``.
    """
    problems = []
    if header[:2] != ["onset", "duration"]:
        problems.append(f"first columns must be onset, duration (got {header[:2]})")
    for col in header:
        desc = sidecar.get(col)
        if not isinstance(desc, dict) or not str(desc.get("Description", "")).strip():
            problems.append(f"column {col!r} has no Description in the sidecar")
    problems += [f"sidecar describes {c!r}, not a column" for c in sidecar if c not in header]
    for col in ("onset", "duration"):
        if col in sidecar and sidecar[col].get("Units") != "s":
            problems.append(f"{col} must have Units 's'")
    for i, row in enumerate(rows, start=2):
        for col in header:
            value = row.get(col)
            if value is None:
                problems.append(f"line {i}: missing {col}")
                continue
            if value == "n/a" and col not in ("onset", "duration"):
                continue
            levels = (sidecar.get(col) or {}).get("Levels")
            if levels:
                if value not in levels:
                    problems.append(f"line {i}: {col}={value!r} is not a described level")
            elif col not in TEXT_COLUMNS and not _is_number(
                value, nonneg=col in ("onset", "duration")
            ):
                problems.append(f"line {i}: {col}={value!r} is not a number")
    return problems


def _is_number(text: str, nonneg: bool) -> bool:
    try:
        x = float(text)
    except ValueError:
        return False
    return math.isfinite(x) and (x >= 0 or not nonneg)


def read_events_files(result_dir: str | os.PathLike) -> tuple[list[str], list[dict], dict]:
    """Header, rows (as text) and sidecar of a result folder; SpasmCvError if unreadable."""
    p = Path(result_dir)
    tsv, sidecar = p / EVENTS_FILE, p / EVENTS_SIDECAR
    for f in (tsv, sidecar):
        if not f.is_file():
            raise SpasmCvError(f"no {f.name} in {p}: not a complete spasm-cv result folder")
    try:
        with open(tsv, newline="") as f:
            reader = csv.DictReader(f, delimiter="\t")
            rows = list(reader)
            header = list(reader.fieldnames or [])
        meta = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError) as exc:
        raise SpasmCvError(f"corrupt events in {p}: {exc}") from None
    if not isinstance(meta, dict):
        raise SpasmCvError(f"{sidecar} is not a JSON object")
    return header, rows, meta


def check_result(result_dir: str | os.PathLike) -> list[str]:
    """Problems of a result folder's events.tsv + events.json as BIDS events."""
    return validate_events(*read_events_files(result_dir))


def bids_name(subject: str, task: str, session: str | None = None, run: int | None = None) -> str:
    """``sub-<subject>[_ses-<session>]_task-<task>[_run-<run>]`` (labels alphanumeric)."""
    for key, label in (("subject", subject), ("task", task), ("session", session)):
        if label is not None and not _LABEL.match(label):
            raise SpasmCvError(f"BIDS {key} label must be letters and digits only: {label!r}")
    parts = [f"sub-{subject}"]
    if session:
        parts.append(f"ses-{session}")
    parts.append(f"task-{task}")
    if run is not None:
        parts.append(f"run-{run}")
    return "_".join(parts)
