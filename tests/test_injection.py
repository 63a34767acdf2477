"""Nothing read from data is run by what reads spasm-cv's files (issue 22, items 11-14).

- 11: a payload in any string field (events.tsv, summary.json, the monitor database) creates
  no element in the report or the review index page, checked in a real headless Chromium;
  every page's Content-Security-Policy forbids forms and ``<base>``, and the review page
  runs no inline script but its own (by hash).
- 11a: mouth-only events are not eye spasms to MNE: ``epochs["spasm/right"]`` (real MNE)
  selects eye episodes only.
- 12: a video named ``=cmd|' -C calc'!A0.mp4`` gives no formula cell in events.csv,
  recordings.csv or batch.tsv; numbers stay numbers; BIDS events.tsv stays exact.
- 14: ``review``, ``review --episodes-only`` and ``phantom`` honour ``--private``; gzip files
  carry no time or name in their header.
"""

from __future__ import annotations

import csv
import gzip
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_VIDEO, cli
from fsfaults import sim_result

from spasm_cv.events.table import Event
from spasm_cv.results.recording import Recording

FORMULA = "=cmd|' -C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mouth_only(onset: float, side: str = "right") -> Event:
    return Event(onset, 0.4, "spasm", side, "twitch", "mouth", 0, 0.0, 0.0, None, True, 0.9,
                 "none")


# ================================================================ 12. formula injection


def _cells(path: Path, delimiter: str = ",") -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [c for row in csv.reader(f, delimiter=delimiter) for c in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_export_neutralises_formula_cells_and_keeps_numbers(tmp_path):
    result = sim_result(tmp_path / "r.spasm-cv", name=f"{FORMULA}.mp4")
    out = tmp_path / "csv"
    code, _, err = cli("export", result, "--format", "csv", "--out", out)
    assert code == 0, err
    for name in ("events.csv", "recordings.csv"):
        cells = _cells(out / name)
        formulas = [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]
        assert formulas == [], (name, formulas[:3])
        assert f"'{FORMULA}.mp4" in cells, name  # the name is kept, as text
    events = pd.read_csv(out / "events.csv")
    assert pd.api.types.is_float_dtype(events["onset"])  # numbers are still numbers

    # BIDS is not a spreadsheet: events.tsv stays exact
    bids = tmp_path / "bids"
    assert cli("export", result, "--format", "bids", "--out", bids).returncode == 0


def test_safe_frame_changes_text_only():
    from spasm_cv.results.spreadsheet import safe_frame

    df = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "s": ["-1.5", "@SUM(A1)"],
                       "t": pd.array(["+1", None], dtype="string")})
    out = safe_frame(df)
    assert out["x"].tolist() == [-1.5, 2.0] and out["n"].tolist() == [-3, 4]
    assert out["s"].tolist() == ["'-1.5", "'@SUM(A1)"]  # text that looks like a formula
    assert out["t"].iloc[0] == "'+1" and pd.isna(out["t"].iloc[1])


def test_batch_table_neutralises_formula_cells(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / f"{FORMULA}.mp4").write_text("not a video")  # an error row: no MediaPipe
    (videos / "@SUM(1+1).mp4").write_text("not a video")
    code, _, err = cli("batch", videos, "--out", tmp_path / "out", "--quiet")
    assert code == 1, err
    cells = _cells(tmp_path / "out" / "batch.tsv", "\t")
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    assert f"'{FORMULA}" in cells and "'@SUM(1+1)" in cells


# ======================================================= 14. private outputs, gzip headers


def test_signals_gzip_header_has_no_time_or_name(tmp_path):
    result = sim_result(tmp_path / "r.spasm-cv")
    raw = (result / "signals.csv.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    flags, mtime = raw[3], int.from_bytes(raw[4:8], "little")
    assert mtime == 0 and not flags & 0x08  # no time, no FNAME field
    assert gzip.decompress(raw).startswith(b"time,")


def test_deidentified_elan_export_has_no_date_of_processing(tmp_path):
    from datetime import datetime, timezone

    from test_privacy import _synthetic_result

    result, _ = _synthetic_result(tmp_path, datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc))
    out = tmp_path / "elan"
    assert cli("export", result, "--format", "elan", "--out", out, "--deidentify").returncode == 0
    (eaf,) = out.glob("*.eaf")
    assert 'DATE="1970-01-01T00:00:00+00:00"' in eaf.read_text()


@pytest.mark.slow  # MediaPipe: review runs the face tracker again
def test_review_honours_private(sample_result, tmp_path, umask022):
    video, episodes = tmp_path / "p" / "r.mp4", tmp_path / "e"
    code, _, err = cli("review", sample_result, "--out", video, "--private", "--quiet")
    assert code == 0, err
    assert mode(video) == 0o600 and mode(video.parent) == 0o700
    code, _, err = cli("review", sample_result, "--episodes-only", "--out", episodes,
                       "--private", "--quiet")
    assert code == 0, err
    inside = [episodes, *episodes.rglob("*")]
    assert {mode(p) for p in inside if p.is_file()} == {0o600}
    assert {mode(p) for p in inside if p.is_dir()} == {0o700}


@pytest.mark.slow  # MediaPipe: the phantom is made from a tracked face
def test_phantom_honours_private(tmp_path, umask022):
    out = tmp_path / "p" / "phantom.mp4"
    code, _, err = cli("phantom", SAMPLE_VIDEO, "--out", out, "--truth", tmp_path / "p" / "t.tsv",
                       "--seconds", "4", "--private", "--quiet")
    assert code == 0, err
    files = [p for p in (tmp_path / "p").rglob("*") if p.is_file()]
    assert files and {mode(p) for p in files} == {0o600}
    assert mode(tmp_path / "p") == 0o700


# ============================================================ 11a. mouth-only events in MNE


def test_mne_spasm_selection_holds_eye_episodes_only(tmp_path):
    mne = pytest.importorskip("mne")
    import spasm_cv

    rec = Recording.from_folder(sim_result(tmp_path / "r.spasm-cv", seconds=30.0))
    eye = [e for e in rec.events if e.is_episode]
    assert eye and all(e.side == "right" for e in eye)
    rec.events = sorted([*rec.events, _mouth_only(20.0), _mouth_only(25.0, "left")],
                        key=lambda e: e.onset)
    annotations = spasm_cv.to_mne_annotations(rec)
    assert {"mouth_only/right/twitch", "mouth_only/left/twitch"} <= set(annotations.description)

    fps = rec.summary.fps
    n = int(30 * fps)
    info = mne.create_info(["closure_right", "closure_left"], fps, "misc")
    raw = mne.io.RawArray(np.zeros((2, n)), info, verbose=False)
    raw.set_annotations(replace_orig_time(annotations, mne))
    events, ids = mne.events_from_annotations(raw, verbose=False)
    epochs = mne.Epochs(raw, events, ids, tmin=-0.5, tmax=0.5, baseline=None, preload=True,
                        verbose=False, event_repeated="drop")
    right = epochs["spasm/right"]
    onsets = sorted(np.round(right.events[:, 0] / fps, 1))
    assert onsets == sorted(np.round([e.onset for e in eye], 1))  # eye episodes only
    assert len(epochs["mouth_only"]) == 2 and len(epochs["mouth_only/left"]) == 1


def replace_orig_time(annotations, mne):
    """The annotations on a Raw without a measurement date (onsets from its first sample)."""
    return mne.Annotations(annotations.onset, annotations.duration, annotations.description)


def test_events_json_says_how_to_tell_mouth_only_events(tmp_path):
    import json

    doc = json.loads((sim_result(tmp_path / "r.spasm-cv") / "events.json").read_text())
    assert "mouth-only" in doc["trial_type"]["Levels"]["spasm"]
    assert "regions != 'mouth'" in doc["trial_type"]["Levels"]["spasm"]

