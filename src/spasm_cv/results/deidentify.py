"""De-identification: a recording without the names, paths and dates that point to a person.

A video's file name often holds the patient's name (``/data/jane_doe_visit2.mp4``), its
folder the clinic's, and its dates the visit. :func:`deidentify` returns a copy of a
:class:`~spasm_cv.results.recording.Recording` that keeps every measurement but

- replaces its name (and the summary's ``input.name``) by a neutral label (``rec01``) that
  is never derived from a file name;
- drops its paths (the result folder, the video's path) and the file's size and
  modification time (``input.path``, ``size_bytes``, ``mtime``);
- drops every wall-clock time (``recorded_at``, the start, per-minute clock times), or, with
  ``date_shift_days``, moves them all by that many whole days (BIDS-style: the time of day
  and the intervals between recordings stay; the shift itself is not written anywhere);
- removes file paths, the input's name and stream addresses from free text (monitor end
  reasons, gap reasons, summary keys of newer versions);
- records ``input.deidentified`` (``{"dates": "removed"}`` or ``{"dates": "shifted"}``), which
  the report states.

It runs before any writer, so every output made from the copy (result folder, report, every
export format) is de-identified alike. What stays: events in seconds from the start,
signals, numbers, detection parameters, software and model versions, video format (frame
rate, size, codec).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from spasm_cv._secrets import scrub
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.params import RecordedParams
from spasm_cv.results.recording import Recording
from spasm_cv.results.summary import Summary
from spasm_cv.results.track import Minutes

__all__ = [
    "KEPT_INPUT_KEYS",
    "Deidentify",
    "deidentify",
    "folder_label",
    "from_args",
    "is_deidentified",
    "label",
]

# what summary.json's ``input`` keeps: the video's format, nothing that names or dates it
KEPT_INPUT_KEYS = (
    "kind",
    "fps",
    "width",
    "height",
    "n_frames",
    "rotation_deg",
    "codec",
    "mirrored",
)
_LABEL = re.compile(r"^[A-Za-z0-9]+$")
# an absolute path (POSIX, Windows, file URL) standing on its own in a text
_ABS_PATH = re.compile(r"(?<![\w.:/\\])(?:file://)?(?:[A-Za-z]:[\\/]|/|~/|\\\\)[^\s\"'<>|]*")


@dataclass(frozen=True)
class Deidentify:
    """How to de-identify: ``date_shift_days`` None drops every date and time of day;
    a whole number of days moves them all by that much (keep the number to yourself, and
    use the same one for every recording of a person to keep the intervals)."""

    date_shift_days: int | None = None

    @property
    def dates(self) -> str:
        return "removed" if self.date_shift_days is None else "shifted"


def from_args(args) -> Deidentify | None:
    """What ``--deidentify [--date-shift DAYS]`` asked for (None: not to de-identify)."""
    shift = getattr(args, "date_shift", None)
    if not getattr(args, "deidentify", False):
        if shift is not None:
            raise SpasmCvError("--date-shift goes with --deidentify")
        return None
    return Deidentify(shift)


def folder_label(path: str | os.PathLike) -> str:
    """The label of a recording written to result folder ``path``: its name's letters and
    digits (``visit2.spasm-cv`` -> ``visit2``; the user chose that name), else ``rec01``."""
    stem = Path(path).name.removesuffix(".partial").removesuffix(".spasm-cv")
    return re.sub(r"[^A-Za-z0-9]", "", stem) or label(1)


def label(i: int, width: int = 2) -> str:
    """The neutral label of the ``i``-th recording (1-based): ``rec01``, ``rec02``, ..."""
    return f"rec{i:0{width}d}"


def is_deidentified(recording: Recording) -> bool:
    """Whether ``recording`` was de-identified (here or when its result folder was written)."""
    return bool(recording.summary.input.get("deidentified"))


def deidentify(recording: Recording, name: str, how: Deidentify | None = None) -> Recording:
    """A copy of ``recording`` under the label ``name``, without names, paths or dates.

    Parameters
    ----------
    recording : the recording (any source: result folder, analysis, monitor session).
    name : its new name, letters and digits only (e.g. :func:`label`); never a file name.
    how : what to do with dates (default: drop them).

    Returns
    -------
    Recording
        The de-identified copy (events and signals are shared, not copied: they hold times
        in seconds from the start and measurements only).
    """
    how = how or Deidentify()
    if not _LABEL.match(name):
        raise SpasmCvError(
            f"a de-identified recording's label must be letters and digits: {name!r}"
        )
    s = recording.summary
    forbidden = _identifiers(recording)
    previous = s.input.get("deidentified") or {}
    dates = "removed" if previous.get("dates") == "removed" else how.dates
    shift = None if dates == "removed" else timedelta(days=how.date_shift_days or 0)
    new_input = {k: s.input[k] for k in KEPT_INPUT_KEYS if k in s.input}
    new_input["name"] = name
    new_input["deidentified"] = {"dates": dates}
    summary = replace(
        s,
        input=new_input,
        recorded_at=_shift_iso(s.recorded_at, shift),
        params=RecordedParams(_clean(s.params.to_dict(), [], name)),
        monitor=_clean(s.monitor, forbidden, name) if s.monitor is not None else None,
        extra=_clean(s.extra, forbidden, name),
    )
    _check(summary, forbidden)
    meta = dict(recording.meta)
    if "gaps" in meta:
        meta["gaps"] = [
            {**g, "reason": _clean(g.get("reason"), forbidden, name)} for g in meta["gaps"]
        ]
    return replace(
        recording,
        name=name,
        summary=summary,
        start=None if shift is None or recording.start is None else recording.start + shift,
        minutes=_shift_minutes(recording.minutes, shift),
        path=None,
        meta=_clean(meta, forbidden, name),
    )


def _identifiers(recording: Recording) -> list[str]:
    """Text that would name the recording's person or place: paths, file names, stems."""
    found = set()
    given = recording.summary.input.get("name")
    paths = [recording.path, recording.summary.input.get("path")]
    if recording.source == "analyze":
        paths.append(given)
    elif given:  # a monitor source: 'file x.mp4', 'stream rtsp://***@host/path', 'camera 0'
        found.add(given)
        paths.append(given.partition(" ")[2])
    for text in filter(None, paths):
        for p in (PurePosixPath(text), PureWindowsPath(text)):
            found |= {str(p), p.name, p.stem}
            found |= {str(parent) for parent in p.parents if len(parent.parts) > 1}
    return sorted((f for f in found if len(f) >= 3 and f not in (".", "..")), key=len, reverse=True)


def _clean(value, forbidden: list[str], name: str):
    """``value`` (nested dicts/lists) with paths cut to file names and identifiers replaced."""
    if isinstance(value, dict):
        return {k: _clean(v, forbidden, name) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(v, forbidden, name) for v in value)
    if not isinstance(value, str):
        return value
    text = _ABS_PATH.sub(lambda m: _file_name(m.group(0)), scrub(value))
    for f in forbidden:
        text = text.replace(f, name)
    return text


def _file_name(path: str) -> str:
    p: PurePath = PureWindowsPath(path) if "\\" in path else PurePosixPath(path)
    return p.name or "n/a"


def _check(summary: Summary, forbidden: list[str]) -> None:
    """Refuse to go on if a path or file name of the input is still in the summary."""
    text = str(summary.to_dict())
    left = [f for f in forbidden if ("/" in f or "\\" in f or "." in f) and f in text]
    if left:
        raise SpasmCvError(
            "de-identification left the input's path or file name in the summary: not written"
        )


def _shift_iso(text: str | None, shift: timedelta | None) -> str | None:
    if text is None or shift is None:
        return None
    return (datetime.fromisoformat(text) + shift).isoformat()


def _shift_minutes(minutes: Minutes | None, shift: timedelta | None) -> Minutes | None:
    """Per-minute aggregates with shifted clock times; None when dates are dropped (the
    minutes' clock times would give them away)."""
    if minutes is None or shift is None:
        return None
    return minutes.shifted(shift)
