"""Researchers' tools read what spasm-cv writes: MNE-Python, pympi (ELAN), pandas.

Each test reads with the field's own reader, not with spasm-cv's, and checks the values
against the result folder. The pandas read calls are the ones the README documents.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RECORDED_AT

import spasm_cv
from spasm_cv.cli import main
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import EVENT_FIELDS
from spasm_cv.results.files import read_events, read_signals_table

# README, "Reading the files with pandas": one convention per format family
TSV = {"sep": "\t", "na_values": ["n/a"], "keep_default_na": False,
       "true_values": ["yes"], "false_values": ["no"]}  # fmt: skip
EVENT_DTYPES = {
    "onset": "float64", "duration": "float64", "trial_type": "string", "side": "string",
    "kind": "string", "regions": "string", "n_contractions": "Int64",
    "peak_closure": "float64", "closure_duration": "float64", "brow_raised": "boolean",
    "mouth_cocontraction": "boolean", "confidence": "float64", "context": "string",
}  # fmt: skip


def events_ms(result: Path) -> list[tuple[int, int, str]]:
    return sorted(
        (round(e.onset * 1000), round(e.end * 1000), e.trial_type) for e in read_events(result)
    )


# ---------------------------------------------------------------------------- pandas


def test_events_tsv_reads_with_the_documented_dtypes(sample_result):
    df = pd.read_csv(sample_result / "events.tsv", dtype=EVENT_DTYPES, **TSV)
    assert list(df.columns) == list(EVENT_FIELDS) == list(EVENT_DTYPES)
    assert {str(t) for t in df.dtypes} == {"float64", "string", "Int64", "boolean"}
    assert df["brow_raised"].isna().sum() == (df["trial_type"] != "spasm").sum()
    loaded = spasm_cv.load(sample_result).events
    assert str(loaded.pop("reviewed").dtype) == "string"  # beside events.tsv's columns
    pd.testing.assert_frame_equal(df, loaded, check_dtype=True, check_like=False, atol=1e-9)


def test_signals_csv_reads_with_the_documented_dtypes(sample_result):
    table = read_signals_table(sample_result)
    dtypes = {"quality": "string", "n_faces": "Int64",
              "measurable_right": "boolean", "measurable_left": "boolean"}  # fmt: skip
    df = pd.read_csv(sample_result / "signals.csv.gz", dtype=dtypes, index_col="time")
    assert df["measurable_right"].all() and str(df["measurable_right"].dtype) == "boolean"
    others = [c for c in df.columns if c not in dtypes]
    assert all(df[c].dtype == np.float64 for c in others)
    assert df["closure_right"].to_numpy() == pytest.approx(table["closure_right"], nan_ok=True)
    loaded = spasm_cv.load(sample_result).signals
    pd.testing.assert_frame_equal(df, loaded, check_dtype=True)


def test_csv_export_reads_with_the_documented_dtypes(sample_result, tmp_path):
    from spasm_cv.export.tables import EVENTS_CSV_DTYPES

    assert main(["export", str(sample_result), "--format", "csv", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "recordings.csv"]
    text = (tmp_path / "events.csv").read_text()
    assert "True" not in text and "False" not in text and "n/a" not in text  # 1/0, empty
    df = pd.read_csv(tmp_path / "events.csv", dtype=EVENTS_CSV_DTYPES)
    events = read_events(sample_result)
    assert len(df) == len(events)  # every event, blinks included
    assert df["counted"].tolist() == [e.is_episode for e in events]
    assert df["brow_raised"].tolist() == [
        pd.NA if e.brow_raised is None else e.brow_raised for e in events
    ]
    assert str(df["n_contractions"].dtype) == "Int64"
    summary = json.loads((sample_result / "summary.json").read_text())
    assert int(df["counted"].sum()) == summary["episodes"]["total"]["count"]
    assert df["clock_onset"].iloc[0].startswith("2026-01-05T09:30:01")
    rec = pd.read_csv(tmp_path / "recordings.csv")
    assert rec["episodes_per_hour"].iloc[0] == pytest.approx(
        summary["episodes"]["total"]["per_hour"]
    )
    assert rec["start"].iloc[0] == SAMPLE_RECORDED_AT.isoformat()


def test_batch_tsv_reads_with_the_documented_dtypes(sample_result, tmp_path):
    from spasm_cv.batch import VideoOutcome, write_table
    from spasm_cv.results.summary import Summary

    summary = Summary.from_dict(json.loads((sample_result / "summary.json").read_text()))
    outcomes = [
        VideoOutcome("a", "a.mp4", str(sample_result), "ok", summary=summary, elapsed_s=1.0),
        VideoOutcome("b", "b.mp4", "b", "error", "no face found"),
    ]
    path = write_table(tmp_path / "batch.tsv", outcomes)
    df = pd.read_csv(path, dtype={"name": "string", "status": "string", "error": "string",
                                  "episodes": "Int64", "right": "Int64", "left": "Int64",
                                  "affected_side": "string"}, **TSV)  # fmt: skip
    assert df["episodes"].tolist() == [8, pd.NA]
    assert df["per_hour"].dtype == np.float64 and np.isnan(df["per_hour"].iloc[1])
    assert df["error"].tolist() == [pd.NA, "no face found"]


def test_analysis_gives_the_dataframes_without_a_folder(sample_analysis, sample_result):
    direct = sample_analysis.result  # the same as analyze_video(..., write=False).result
    loaded = spasm_cv.load(sample_result)
    pd.testing.assert_frame_equal(direct.events, loaded.events, atol=1e-4)
    signals = direct.signals
    assert signals.index.name == "time" and signals.index.is_monotonic_increasing
    assert signals.attrs["fps"] == 25.0
    assert signals.attrs["start"] == SAMPLE_RECORDED_AT.isoformat()
    assert signals.attrs["name"] == "sample_phantom.mp4"
    assert {"duration_s", "mirrored", "software_version"} <= set(signals.attrs)
    assert list(signals.columns) == list(loaded.signals.columns)
    assert signals["closure_right"].to_numpy() == pytest.approx(
        loaded.signals["closure_right"].to_numpy(), rel=1e-5, abs=1e-6, nan_ok=True
    )
    assert len(direct.episodes) == 8 and direct.episodes.attrs["fps"] == 25.0


# ------------------------------------------------------------------------------- MNE


def test_mne_annotations_round_trip_to_the_millisecond(sample_result, tmp_path):
    mne = pytest.importorskip("mne")
    annotations = spasm_cv.to_mne_annotations(spasm_cv.load(sample_result))
    assert isinstance(annotations, mne.Annotations)
    assert annotations.orig_time == SAMPLE_RECORDED_AT
    events = sorted(read_events(sample_result), key=lambda e: (e.onset, e.duration))
    assert list(annotations.description) == [
        "/".join(p for p in (e.trial_type, e.side, e.kind) if p) for e in events
    ]
    assert annotations.extras[1]["regions"] == events[1].regions

    # through MNE's own files and back, and onto a recording of the signals
    annotations.save(tmp_path / "sample-annot.fif")
    for back in (mne.read_annotations(tmp_path / "sample-annot.fif"),):
        assert back.orig_time == SAMPLE_RECORDED_AT
        got = sorted(zip(np.round(back.onset * 1000).astype(int),
                         np.round((back.onset + back.duration) * 1000).astype(int),
                         [d.split("/")[0] for d in back.description], strict=True))  # fmt: skip
        assert got == events_ms(sample_result)
    annotations.save(tmp_path / "sample.csv")  # wall-clock times in the CSV
    csv = mne.read_annotations(tmp_path / "sample.csv")
    wall = [csv.orig_time.timestamp() + t for t in csv.onset]
    want = [SAMPLE_RECORDED_AT.timestamp() + e.onset for e in events]
    assert np.abs(np.array(wall) - np.array(want)).max() < 0.001

    signals = spasm_cv.load(sample_result).signals
    info = mne.create_info(["closure_right", "closure_left"], signals.attrs["fps"], "misc")
    raw = mne.io.RawArray(signals[["closure_right", "closure_left"]].T.to_numpy(), info,
                          verbose=False)  # fmt: skip
    raw.set_meas_date(annotations.orig_time)
    raw.set_annotations(annotations)
    assert np.allclose(raw.annotations.onset, [e.onset for e in events], atol=0.0005)
    _, ids = mne.events_from_annotations(raw, verbose=False)
    assert {"spasm/right/twitch", "blink/both"} <= set(ids)


def test_mne_annotations_of_a_recording_without_a_start(sample_result, tmp_path):
    pytest.importorskip("mne")
    rec = spasm_cv.load(sample_result).recording
    rec.start = None
    assert spasm_cv.to_mne_annotations(rec).orig_time is None
    with pytest.raises(TypeError, match="expected a Recording"):
        spasm_cv.to_mne_annotations(42)


def test_mne_missing_is_a_clear_error(sample_result, monkeypatch):
    monkeypatch.setitem(sys.modules, "mne", None)  # import mne raises ImportError
    with pytest.raises(SpasmCvError, match=r'pip install "spasm-cv\[mne\]"'):
        spasm_cv.to_mne_annotations(sample_result)


# ------------------------------------------------------------------------------ ELAN


def test_pympi_reads_the_elan_file(sample_result, tmp_path):
    elan = pytest.importorskip("pympi.Elan")
    assert main(["export", str(sample_result), "--format", "elan", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.eaf")
    eaf = elan.Eaf(str(path))
    tiers = set(eaf.get_tier_names())
    assert {"spasm_right", "spasm_left", "blink", "bilateral_closure"} <= tiers
    got = []
    for tier in ("spasm_right", "spasm_left", "blink", "bilateral_closure"):
        trial_type = "spasm" if tier.startswith("spasm") else tier
        got += [(a[0], a[1], trial_type) for a in eaf.get_annotation_data_for_tier(tier)]
    assert sorted(got) == events_ms(sample_result)
    kinds = {a[2] for a in eaf.get_annotation_data_for_tier("spasm_right")}
    entries = eaf.get_cv_entries("spasm-cv-kind").values()
    vocabulary = {value for values, _ in entries for value, _, _ in values}
    assert kinds <= vocabulary and {"twitch", "clonic", "tonic"} <= vocabulary
    details = [a[2] for a in eaf.get_ref_annotation_data_for_tier("spasm_right_details")]
    assert details and all("confidence=" in v and v.startswith("event=e") for v in details)
    (media,) = eaf.media_descriptors
    summary = json.loads((sample_result / "summary.json").read_text())
    assert media["MEDIA_URL"] == Path(summary["input"]["path"]).resolve().as_uri()
