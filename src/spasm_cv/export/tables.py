"""Result numbers as pandas tables and files: per-event rows and per-recording rows.

Column names follow events.tsv (BIDS) and summary.json; times are in seconds from the start
of the recording, plus ``clock_onset`` (ISO 8601, UTC) where the recording time is known.
CSV files write booleans as ``1``/``0`` and a missing value as an empty cell (the CSV
convention of every spasm-cv file: signals.csv.gz does the same); read them back with
:data:`EVENTS_CSV_DTYPES`. Text that a spreadsheet would run as a formula (a recording named
``=cmd|...``) is written with a leading ``'`` (:mod:`spasm_cv.results.spreadsheet`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd

from spasm_cv.results.atomic import Replace, published, write_text_atomic
from spasm_cv.results.frames import EVENT_DTYPES, events_frame
from spasm_cv.results.recording import Recording
from spasm_cv.results.spreadsheet import safe_frame

EVENTS_CSV, RECORDINGS_CSV = "events.csv", "recordings.csv"
# pandas dtypes of events.csv: pd.read_csv("events.csv", dtype=EVENTS_CSV_DTYPES)
EVENTS_CSV_DTYPES: dict[str, str] = {
    "recording": "string",
    "clock_onset": "string",
    **EVENT_DTYPES,
    "offset": "float64",
    "counted": "boolean",
}


def events_table(recordings: Sequence[Recording]) -> pd.DataFrame:
    """One row per event of every recording (episodes, mouth-only events, blinks, closures).

    Parameters
    ----------
    recordings : sequence of Recording
        Analysed recordings.

    Returns
    -------
    DataFrame
        Columns ``recording``, ``clock_onset`` (ISO 8601 UTC; <NA> if the start is unknown),
        the columns of events.tsv with ``offset`` (onset + duration, s) after ``duration``,
        and ``counted`` (True for the one-sided eye episodes the headline rates count).

    Examples
    --------
    >>> import spasm_cv
    >>> table = events_table([spasm_cv.load("sample_phantom.spasm-cv").recording])
    >>> table.groupby("trial_type")["counted"].sum().to_dict()
    {'blink': 0, 'spasm': 8}
    """
    frames = []
    for rec in recordings:
        df = events_frame(rec.events)
        df.insert(0, "recording", pd.array([rec.name] * len(df), dtype="string"))
        df.insert(1, "clock_onset", pd.array(_clock(rec, df["onset"]), dtype="string"))
        df.insert(4, "offset", df["onset"] + df["duration"])
        df["counted"] = pd.array([e.is_episode for e in rec.events], dtype="boolean")
        frames.append(df)
    if not frames:
        return pd.DataFrame({c: pd.array([], dtype=t) for c, t in EVENTS_CSV_DTYPES.items()})
    return pd.concat(frames, ignore_index=True)


def _clock(rec: Recording, onsets) -> list[str | None]:
    if rec.start is None:
        return [None] * len(onsets)
    return [(rec.start + timedelta(seconds=float(t))).isoformat() for t in onsets]


def recordings_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """One row per recording with its headline numbers (see :meth:`Recording.headline`).

    Parameters
    ----------
    recordings : sequence of Recording
        Analysed recordings.

    Returns
    -------
    DataFrame
        One row per recording: name, start, duration, observed time, counts and rates per
        hour with 95 % intervals (all, per side, kind, side and kind), blinks, closed
        fractions, longest tonic, software version and model.

    Examples
    --------
    >>> import spasm_cv
    >>> row = recordings_frame([spasm_cv.load("sample_phantom.spasm-cv").recording]).iloc[0]
    >>> int(row["episodes_count"]), float(row["episodes_per_hour"])
    (8, 480.0)
    """
    return pd.DataFrame([r.headline() for r in recordings])


def _csv_booleans(df: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns as 1/0 (missing stays empty): the CSV convention."""
    out = df.copy()
    for c in out.columns:
        if str(out[c].dtype) in ("boolean", "bool"):
            out[c] = out[c].astype("Int64")
    return out


def write_csv(
    recordings: Sequence[Recording], out_dir: str | os.PathLike, replace: Replace = True
) -> list[Path]:
    """``events.csv`` (one row per event) and ``recordings.csv`` in ``out_dir``.

    Parameters
    ----------
    recordings : sequence of Recording
        Analysed recordings.
    out_dir : str or path
        Folder to write into (created if needed).
    replace : bool or callable
        Which existing files may be replaced (:func:`spasm_cv.results.atomic.publish`).

    Returns
    -------
    list of Path
        The two files written (atomically).

    Examples
    --------
    >>> import pandas as pd, spasm_cv
    >>> events_csv, _ = write_csv([spasm_cv.load("sample_phantom.spasm-cv").recording], "tables")
    >>> table = pd.read_csv(events_csv, dtype=EVENTS_CSV_DTYPES)
    >>> table.dtypes[["brow_raised", "counted"]].astype(str).tolist(), int(table["counted"].sum())
    (['boolean', 'boolean'], 8)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    events, summary = out / EVENTS_CSV, out / RECORDINGS_CSV
    with published(events, replace=replace) as done_events:
        table = safe_frame(_csv_booleans(events_table(recordings)))
        table.to_csv(done_events.tmp, index=False, float_format="%.4f")
    with published(summary, replace=replace) as done_summary:
        safe_frame(_csv_booleans(recordings_frame(recordings))).to_csv(
            done_summary.tmp, index=False
        )
    return [done_events.path, done_summary.path]


def json_name(rec: Recording) -> str:
    """The JSON export's file name of a recording.

    Parameters
    ----------
    rec : Recording
        An analysed recording.

    Returns
    -------
    str
        ``<video stem>.json``, or ``monitor-session-<id>.json`` for a monitor session.

    Examples
    --------
    >>> import spasm_cv
    >>> json_name(spasm_cv.load("sample_phantom.spasm-cv").recording)
    'sample_phantom.json'
    """
    if rec.source == "monitor" and "session_id" in rec.meta:
        return f"monitor-session-{rec.meta['session_id']}.json"
    return f"{Path(rec.name).stem}.json"


def write_json(
    rec: Recording,
    out_dir: str | os.PathLike,
    stem: str | None = None,
    replace: Replace = True,
) -> Path:
    """``<stem>.json`` (default: ``<name>.json``): the recording's summary and all its events
    (with clock onsets).

    Parameters
    ----------
    rec : Recording
        An analysed recording.
    out_dir : str or path
        Folder to write into (created if needed).
    stem : str, optional
        The file's name without ``.json`` (export gives each of several recordings that
        share a name its own); default that of :func:`json_name`.
    replace : bool or callable
        Whether an existing file may be replaced (:func:`spasm_cv.results.atomic.publish`).

    Returns
    -------
    Path
        The file written (atomically); booleans are JSON true/false, missing values null.

    Examples
    --------
    >>> import json, spasm_cv
    >>> path = write_json(spasm_cv.load("sample_phantom.spasm-cv").recording, "json")
    >>> doc = json.loads(path.read_text())
    >>> doc["start"], doc["events"][1]["brow_raised"]
    ('2026-01-05T09:30:00+00:00', False)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clock = _clock(rec, [e.onset for e in rec.events])
    doc = {
        "recording": rec.name,
        "start": rec.start.isoformat() if rec.start else None,
        "summary": rec.summary.to_dict(),
        "events": [
            {**e.to_dict(), "clock_onset": c} for e, c in zip(rec.events, clock, strict=True)
        ],
    }
    path = out / (f"{stem}.json" if stem else json_name(rec))
    return write_text_atomic(path, json.dumps(doc, indent=2) + "\n", replace=replace)
