"""Result numbers as pandas tables and files: per-episode rows and per-recording rows.

Column names follow events.tsv (BIDS) and summary.json; times are in seconds from the start
of the recording, plus ``clock_onset`` (ISO 8601, UTC) where the recording time is known.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd

from spasm_cv.results.atomic import atomic_file, write_text_atomic
from spasm_cv.results.frames import events_frame
from spasm_cv.results.recording import Recording


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
        df["counted"] = pd.array([e.is_episode for e in spasms], dtype="boolean")
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else events_frame([])


def _clock(rec: Recording, onsets) -> list[str | None]:
    if rec.start is None:
        return [None] * len(onsets)
    return [(rec.start + timedelta(seconds=float(t))).isoformat() for t in onsets]


def recordings_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """One row per recording with its headline numbers (see :meth:`Recording.headline`)."""
    return pd.DataFrame([r.headline() for r in recordings])


def write_csv(recordings: Sequence[Recording], out_dir: str | os.PathLike) -> list[Path]:
    """``episodes.csv`` (one row per one-sided event) and ``recordings.csv`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    episodes, summary = out / "episodes.csv", out / "recordings.csv"
    with atomic_file(episodes) as tmp:
        episodes_frame(recordings).to_csv(tmp, index=False, float_format="%.4f")
    with atomic_file(summary) as tmp:
        recordings_frame(recordings).to_csv(tmp, index=False)
    return [episodes, summary]


def write_json(rec: Recording, out_dir: str | os.PathLike, stem: str | None = None) -> Path:
    """``<stem>.json`` (default stem: the video's name): the recording's summary and all its
    events (with clock onsets)."""
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
    path = out / f"{stem or Path(rec.name).stem}.json"
    return write_text_atomic(path, json.dumps(doc, indent=2) + "\n")
