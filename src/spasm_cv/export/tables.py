"""Result numbers as pandas tables: events, signals, per-episode rows and per-recording rows.

Column names follow events.tsv (BIDS) and summary.json; times are in seconds from the start
of the recording, plus ``clock_onset`` (ISO 8601, UTC) where the recording time is known.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from spasm_cv.events.table import KINDS, Event
from spasm_cv.report.recordings import Recording
from spasm_cv.results.files import EVENT_COLUMNS
from spasm_cv.signals.geometry import SIDES

_DTYPES = {
    "onset": "float64",
    "duration": "float64",
    "trial_type": "string",
    "side": "string",
    "kind": "string",
    "regions": "string",
    "n_contractions": "Int64",
    "peak_closure": "float64",
    "closure_duration": "float64",
    "brow_raised": "boolean",
    "mouth_cocontraction": "boolean",
    "confidence": "float64",
}


def events_frame(events: Sequence[Event]) -> pd.DataFrame:
    """All events as a DataFrame with the columns of events.tsv (n/a as <NA>)."""
    rows = {c: [getattr(e, c) for e in events] for c in EVENT_COLUMNS}
    return pd.DataFrame({c: pd.array(v, dtype=_DTYPES[c]) for c, v in rows.items()})


def signals_frame(table: dict[str, np.ndarray]) -> pd.DataFrame:
    """signals.csv.gz columns (see ``read_signals_table``) as a DataFrame, one row per frame."""
    return pd.DataFrame(table)


def episodes_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """One row per one-sided ``spasm`` event of every recording (blinks left out).

    Columns: ``recording``, ``clock_onset`` (ISO, UTC; empty if the start is unknown),
    ``offset`` (onset + duration, s), ``counted`` (True for eye episodes, the headline count;
    False for mouth-only events) and the columns of events.tsv.
    """
    frames = []
    for rec in recordings:
        spasms = [e for e in rec.events if e.trial_type == "spasm"]
        df = events_frame(spasms)
        df.insert(0, "recording", pd.array([rec.name] * len(df), dtype="string"))
        df.insert(1, "clock_onset", pd.array(_clock(rec, df["onset"]), dtype="string"))
        df.insert(4, "offset", df["onset"] + df["duration"])
        df["counted"] = pd.array([e.involves_eye for e in spasms], dtype="boolean")
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else events_frame([])


def _clock(rec: Recording, onsets) -> list[str | None]:
    if rec.start is None:
        return [None] * len(onsets)
    return [(rec.start + timedelta(seconds=float(t))).isoformat() for t in onsets]


def summary_row(rec: Recording) -> dict:
    """The headline numbers of one recording as a flat dict (one table row)."""
    s = rec.summary
    ep = s["episodes"]
    row = {
        "recording": rec.name,
        "path": rec.path,
        "source": rec.source,
        "start": rec.start.isoformat() if rec.start else None,
        "duration_s": s.get("duration_s"),
        "observed_s": s["observed_s"],
        "affected_side": s.get("affected_side"),
    }

    def put(prefix: str, r: dict) -> None:
        row[f"{prefix}_count"] = r["count"]
        row[f"{prefix}_per_hour"] = r["per_hour"]
        row[f"{prefix}_ci95_low"], row[f"{prefix}_ci95_high"] = r["ci95"]

    put("episodes", ep["total"])
    for side in SIDES:
        put(f"episodes_{side}", ep["by_side"][side])
    for k in KINDS:
        put(f"episodes_{k}", ep["by_kind"][k])
    for side in SIDES:
        for k in KINDS:
            put(f"episodes_{side}_{k}", ep["by_side_and_kind"][side][k])
    for side in SIDES:
        put(f"mouth_only_{side}", s["mouth_only"][side])
    row["episodes_with_mouth"] = ep.get("with_mouth")
    row["episodes_with_brow_raised"] = ep.get("with_brow_raised")
    row["blinks_count"] = s["blinks"]["count"]
    row["blinks_per_minute"] = s["blinks"]["per_minute"]
    for side in SIDES:
        row[f"closed_fraction_{side}"] = s.get("closed_fraction", {}).get(side)
    row["longest_tonic_s"] = s.get("longest_tonic_s")
    row["software_version"] = s.get("software", {}).get("version")
    row["model"] = s.get("model", {}).get("name")
    return row


def recordings_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """One row per recording with its headline numbers (see :func:`summary_row`)."""
    return pd.DataFrame([summary_row(r) for r in recordings])


def write_csv(recordings: Sequence[Recording], out_dir: str | os.PathLike) -> list[Path]:
    """``episodes.csv`` (one row per one-sided event) and ``recordings.csv`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    episodes, summary = out / "episodes.csv", out / "recordings.csv"
    episodes_frame(recordings).to_csv(episodes, index=False, float_format="%.4f")
    recordings_frame(recordings).to_csv(summary, index=False)
    return [episodes, summary]


def write_json(rec: Recording, out_dir: str | os.PathLike) -> Path:
    """``<name>.json``: the recording's summary and all its events (with clock onsets)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clock = _clock(rec, [e.onset for e in rec.events])
    doc = {
        "recording": rec.name,
        "start": rec.start.isoformat() if rec.start else None,
        "summary": rec.summary,
        "events": [
            {**e.to_dict(), "clock_onset": c} for e, c in zip(rec.events, clock, strict=True)
        ],
    }
    path = out / f"{Path(rec.name).stem}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
