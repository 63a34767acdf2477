"""The result folder of ``spasm-cv analyze``: the versioned output contract.

A result folder holds ``events.tsv`` + ``events.json`` (BIDS-style events and their
sidecar), ``signals.csv.gz`` (one row per frame: the serialization of a
:class:`~spasm_cv.results.track.Track`) and ``summary.json``. Folders are written
under a temporary name and renamed into place (:func:`write_folder`), so a folder under the
final name is complete. Reading a whole folder: :meth:`Recording.from_folder
<spasm_cv.results.recording.Recording.from_folder>`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS, FIELD_TYPES, Event, context_levels
from spasm_cv.results.outputs import RESULT_FILES, ResultTarget
from spasm_cv.results.schemas import EventRecord, SummaryRecord, check, check_signal_columns
from spasm_cv.results.track import Track
from spasm_cv.signals.table import Signals

if TYPE_CHECKING:
    from spasm_cv.results.recording import Recording

EVENTS_FILE, EVENTS_SIDECAR = "events.tsv", "events.json"
SIGNALS_FILE, SUMMARY_FILE = "signals.csv.gz", "summary.json"
assert (EVENTS_FILE, EVENTS_SIDECAR, SIGNALS_FILE, SUMMARY_FILE) == RESULT_FILES

CONTEXT_WORDS = {
    "talking": "lips moving",
    "smiling": "both mouth corners pulled up",
    "head_moving": "head turning or tilting",
    "none": "none of these",
}
EVENT_COLUMNS = {
    "onset": {"Description": "Start of the event from the start of the video.", "Units": "s"},
    "duration": {"Description": "Duration of the event.", "Units": "s"},
    "trial_type": {
        "Description": "What the event is.",
        "Levels": {
            "spasm": "One-sided involuntary-looking contraction: an eye episode (regions "
            "'eye' or 'eye+mouth'), or a mouth-only event (regions 'mouth': no eye closure, "
            "not counted in the rates). Select eye episodes with regions != 'mouth'.",
            "possible_spasm": "One-sided eye episode the detector could not be sure of "
            "(e.g. during speech with the head moving): listed for review, "
            "not counted in rates unless asked (--count possible).",
            "blink": "Both eyes closing together for at most blink_max_s.",
            "bilateral_closure": "Both eyes closed together for longer (squint, eyes shut).",
        },
    },
    "side": {
        "Description": "Patient's anatomical side.",
        "Levels": {"left": "patient's left", "right": "patient's right", "both": "both sides"},
    },
    "kind": {
        "Description": "Kind of spasm episode (n/a for two-sided events).",
        "Levels": {
            "twitch": "single brief contraction",
            "clonic": "train of two or more contractions",
            "tonic": "a contraction held at least tonic_min_s",
        },
    },
    "regions": {
        "Description": "Face regions that contracted on that side.",
        "Levels": {
            "eye": "eyelid",
            "mouth": "mouth corner only: a mouth-only event, not an eye episode",
            "eye+mouth": "both",
        },
    },
    "n_contractions": {"Description": "Number of eyelid contractions in the episode."},
    "peak_closure": {
        "Description": "Largest eyelid closure on that side: 0 open as at baseline, 1 shut.",
        "Units": "fraction of baseline aperture",
    },
    "closure_duration": {
        "Description": "Time within the event with closure at or above closure_on.",
        "Units": "s",
    },
    "brow_raised": {
        "Description": "Same-side brow rose more than the other ('other Babinski sign').",
        "Levels": {"yes": "raised", "no": "not raised"},
    },
    "mouth_cocontraction": {
        "Description": "Same-side mouth corner pulled up/outwards more than the other.",
        "Levels": {"yes": "co-contraction", "no": "none"},
    },
    "confidence": {
        "Description": "For one-sided eye episodes, the calibrated probability that the "
        "episode is a real one-sided eyelid contraction (on people the model was not fitted "
        "on, episodes at 0.8 or more were at least 95 % real); 1 for two-sided events.",
    },
    "context": {
        "Description": "What the face was doing within context_s of a one-sided event: "
        "talking (lips moving), smiling (both mouth corners up), head_moving (head turned "
        "or tilted by head_motion_deg or more), joined by '+'; none; n/a for two-sided "
        "events. Speech and chewing trigger hemifacial spasm; expressions can also mimic it.",
        "Levels": {
            level: " and ".join(CONTEXT_WORDS[c] for c in level.split("+"))
            for level in context_levels()
        },
    },
}


def format_cell(value) -> str:
    """An events.tsv cell: ``n/a`` for None/NaN, ``yes``/``no`` for booleans, 4 decimals."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def write_events(path: Path, events: Iterable[Event]) -> None:
    """Write ``events`` as events.tsv (the columns of :data:`EVENT_FIELDS`), each checked
    against :class:`~spasm_cv.results.schemas.EventRecord` first."""
    records = [event_record(e) for e in events]  # the schema events.tsv is read with
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(EVENT_FIELDS)
        for e in records:
            w.writerow([format_cell(getattr(e, c)) for c in EVENT_FIELDS])


def parse_cell(column: str, text: str):
    """The value of an events.tsv cell of ``column`` (inverse of :func:`format_cell`).

    The type follows the :class:`~spasm_cv.events.table.Event` field (``FIELD_TYPES``);
    ValueError for a cell that is not one (``yes``/``no`` only for booleans).
    """
    if text == "n/a":
        return None
    kind = FIELD_TYPES[column]
    if kind == "bool":
        if text not in ("yes", "no"):
            raise ValueError("not yes, no or n/a")
        return text == "yes"
    if kind == "int":
        return int(text)
    if kind == "str":
        return text
    return float(text)


def event_record(e: Event) -> EventRecord:
    """An event checked against the schema events.tsv is read with (NaN: not measured)."""
    values = {}
    for c in EVENT_FIELDS:
        v = getattr(e, c)
        v = v.item() if isinstance(v, np.generic) else v
        values[c] = None if isinstance(v, float) and math.isnan(v) else v
    return check(EventRecord, values, f"event at {values['onset']!r} s")


def read_events(path: str | os.PathLike) -> list[Event]:
    """Events of an ``events.tsv`` (or of the result folder holding one).

    Every row is checked against :class:`~spasm_cv.results.schemas.EventRecord`; a cell out
    of its type, range or vocabulary is a SpasmCvError naming the file, row and column.
    """
    p = Path(path)
    if p.is_dir():
        p = p / EVENTS_FILE
    if not p.is_file():
        raise SpasmCvError(f"no events file at {p}")
    try:
        with open(p, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t")
            missing = [c for c in EVENT_FIELDS if c not in (reader.fieldnames or ())]
            if missing and missing != ["context"]:  # context: added later, n/a before
                raise SpasmCvError(f"{p}: {missing[0]}: column missing")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SpasmCvError(f"corrupt events file {p}: {exc}") from None
    events = []
    for i, r in enumerate(rows, start=2):
        values = {}
        for c in EVENT_FIELDS:
            text = r.get(c)
            if text is None:
                if c == "context":
                    continue
                raise SpasmCvError(f"{p}: row {i}: {c}: missing")
            try:
                values[c] = parse_cell(c, text)
            except ValueError:
                raise SpasmCvError(f"{p}: row {i}: {c}: not {FIELD_TYPES[c]}") from None
        record = check(EventRecord, values, f"{p}: row {i}")
        events.append(Event(**record.model_dump()))
    return events


@contextmanager
def open_gzip_text(path: str | os.PathLike) -> Iterator[TextIO]:
    """A new gzip-compressed text file (UTF-8) whose header holds no file name and no time.

    ``gzip.open`` writes the file's name and the time of writing into the gzip header: a
    de-identified result would still say when (and under what name) it was processed. Every
    gzip file spasm-cv writes goes through here (mtime 0, no name), so two runs over the same
    data give the same bytes.
    """
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as f,
    ):
        yield f


def write_signals(path: Path, track: Track) -> None:
    """Write a :class:`~spasm_cv.results.track.Track` as signals.csv.gz (its
    :meth:`~spasm_cv.results.track.Track.to_table` columns; 6 significant digits, empty for
    NaN)."""
    table = track.to_table()
    names = list(table)
    n = len(table["time"])
    with open_gzip_text(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        # column by column, as Python numbers (much faster to format than numpy scalars)
        cols = [[_cell(v) for v in np.asarray(table[c])[:n].tolist()] for c in names]
        w.writerows(zip(*cols, strict=True))


def _cell(v) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def read_signals_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``signals.csv.gz`` as columns: numbers as float arrays (NaN for empty), text as str.

    The columns are checked (:func:`~spasm_cv.results.schemas.check_signal_columns`): a
    cell that is not a number, or a number out of its column's range, is a SpasmCvError
    naming the file and the column.
    """
    p = Path(path)
    if p.is_dir():
        p = p / SIGNALS_FILE
    if not p.is_file():
        raise SpasmCvError(f"no signals file at {p}")
    try:
        with gzip.open(p, "rt", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
        raise SpasmCvError(f"corrupt signals file {p}: {exc}") from None
    if not rows:
        raise SpasmCvError(f"{p}: empty (no header)")
    header, body = rows[0], rows[1:]
    if len(set(header)) != len(header):
        raise SpasmCvError(f"{p}: a column name appears twice")
    ragged = next((i for i, r in enumerate(body, start=2) if len(r) != len(header)), None)
    if ragged is not None:
        raise SpasmCvError(f"{p}: row {ragged}: not {len(header)} cells")
    out = {}
    for j, name in enumerate(header):
        col = [r[j] for r in body]
        if name == "quality":
            out[name] = np.array(col, dtype=str)
            continue
        try:
            out[name] = np.array([float(x) if x else np.nan for x in col])
        except ValueError:
            raise SpasmCvError(f"{p}: {name[:60]}: not a number in every row") from None
    check_signal_columns(out, str(p))
    return out


def read_signals(path: str | os.PathLike) -> Signals:
    """The per-frame ``Signals`` of a result folder, to re-run detection without MediaPipe.

    Parameters
    ----------
    path : str or path
        A result folder (or its signals.csv.gz; the frame rate then is unknown).

    Returns
    -------
    Signals
        Time, face found, faces counted and the raw per-side measurements (6 significant
        digits, as saved), with ``meta["fps"]`` from summary.json.

    Examples
    --------
    >>> import spasm_cv
    >>> signals = spasm_cv.read_signals("sample_phantom.spasm-cv")
    >>> len(signals), signals.meta["fps"]
    (1500, 25.0)
    >>> len(spasm_cv.detect(signals).events)  # detection again, e.g. with other params
    28
    """
    summary_path = Path(path) / SUMMARY_FILE if Path(path).is_dir() else None
    fps = read_summary(summary_path)["fps"] if summary_path and summary_path.exists() else None
    return read_track(path).to_signals(fps)


def read_track(path: str | os.PathLike) -> Track:
    """The per-frame :class:`~spasm_cv.results.track.Track` of a result folder (or of its
    signals.csv.gz), checked as :func:`read_signals_table` checks it."""
    return Track.from_table(read_signals_table(path))


def read_summary(path: str | os.PathLike) -> dict:
    """The content of summary.json (a path, or the result folder holding it), checked
    against its schema (:class:`~spasm_cv.results.schemas.SummaryRecord`): SpasmCvError
    naming the file and the field otherwise."""
    p = Path(path)
    if p.is_dir():
        p = p / SUMMARY_FILE
    if not p.is_file():
        raise SpasmCvError(f"no summary at {p}: not a complete spasm-cv result folder")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise SpasmCvError(f"corrupt summary {p}: {exc}") from None
    if not isinstance(raw, dict):
        raise SpasmCvError(f"{p}: does not hold an object")
    check(SummaryRecord, raw, str(p))
    return raw


def write_result_files(folder: str | os.PathLike, recording: Recording) -> None:
    """Write a recording's result files into ``folder`` (an empty folder of our own).

    signals.csv.gz is written when the recording has per-frame signals; summary.json, the
    mark of a spasm-cv result folder, last.
    """
    tmp = Path(folder)
    write_events(tmp / EVENTS_FILE, recording.events)
    (tmp / EVENTS_SIDECAR).write_text(json.dumps(EVENT_COLUMNS, indent=2) + "\n")
    if recording.track is not None:
        write_signals(tmp / SIGNALS_FILE, recording.track)
    (tmp / SUMMARY_FILE).write_text(json.dumps(recording.summary.to_dict(), indent=2) + "\n")


def write_folder(
    out_dir: str | os.PathLike | None,
    recording: Recording,
    *,
    target: ResultTarget | None = None,
    replace: bool = True,
    partial: bool = False,
) -> Path:
    """Write a recording's result folder atomically (temporary folder, then rename).

    ``target``: a destination prepared before the work (:class:`ResultTarget`), which the
    caller made and closes; ``partial``: the result goes to the target's ``.partial``
    folder (the caller decides, for a run that was interrupted).
    Without a target, ``out_dir`` is checked now (``replace``: an earlier spasm-cv result
    there may be replaced). Never replaces anything spasm-cv did not write; files a user
    added to an earlier result folder are kept (see :mod:`spasm_cv.results.outputs`).
    Returns the folder written.
    """

    def fill(tmp: Path) -> None:
        write_result_files(tmp, recording)

    if target is not None:
        return target.write(fill, partial=partial)
    if out_dir is None:
        raise ValueError("write_folder needs out_dir or target")
    with ResultTarget(out_dir, replace=replace).prepare() as made:
        return made.write(fill, partial=partial)
