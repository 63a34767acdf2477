"""Exports for researchers: ELAN round trip, BIDS sidecar, CSV/JSON tables, the pandas API."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import spasm_cv
from spasm_cv.cli import main
from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import KINDS, Event
from spasm_cv.export import bids, elan, tables
from spasm_cv.results.files import EVENT_COLUMNS, read_events
from spasm_cv.results.frames import events_frame
from spasm_cv.results.recording import Recording
from spasm_cv.results.track import Track


@pytest.fixture(scope="session")
def result(sample_result) -> Path:
    return sample_result


# ---------------------------------------------------------------------------- ELAN

# EAF 3.0: the order of the document's children (schema sequence) and what each tier needs.
EAF_ORDER = [
    "LICENSE",
    "HEADER",
    "TIME_ORDER",
    "TIER",
    "LINGUISTIC_TYPE",
    "LOCALE",
    "LANGUAGE",
    "CONSTRAINT",
    "CONTROLLED_VOCABULARY",
    "LEXICON_REF",
    "REF_LINK_SET",
    "EXTERNAL_REF",
]


def check_eaf_structure(root: ET.Element) -> None:
    """The parts of the EAF 3.0 schema that ELAN relies on to open a file."""
    assert root.tag == "ANNOTATION_DOCUMENT"
    assert root.get("FORMAT") == "3.0" and root.get("VERSION") == "3.0"
    assert root.get("AUTHOR") is not None and root.get("DATE")
    order = [EAF_ORDER.index(child.tag) for child in root]
    assert order == sorted(order), [c.tag for c in root]
    assert root.find("HEADER").get("TIME_UNITS") == "milliseconds"
    slots = {s.get("TIME_SLOT_ID"): int(s.get("TIME_VALUE")) for s in root.iter("TIME_SLOT")}
    types = {t.get("LINGUISTIC_TYPE_ID"): t for t in root.iter("LINGUISTIC_TYPE")}
    ids = [a.get("ANNOTATION_ID") for a in root.iter()
           if a.tag in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION")]  # fmt: skip
    assert len(ids) == len(set(ids))
    last = root.find("HEADER/PROPERTY[@NAME='lastUsedAnnotationId']")
    assert int(last.text) == len(ids)
    vocabularies = {
        v.get("CV_ID"): {e.text for e in v.iter("CVE_VALUE")}
        for v in root.iter("CONTROLLED_VOCABULARY")
    }
    tiers = {t.get("TIER_ID"): t for t in root.iter("TIER")}
    for tier in tiers.values():
        ltype = types[tier.get("LINGUISTIC_TYPE_REF")]
        allowed = vocabularies.get(ltype.get("CONTROLLED_VOCABULARY_REF"))
        if ltype.get("CONTROLLED_VOCABULARY_REF"):
            assert allowed, "a linguistic type names a vocabulary the file does not hold"
        if tier.get("PARENT_REF") is None:
            assert ltype.get("TIME_ALIGNABLE") == "true"
            for a in tier.iter("ALIGNABLE_ANNOTATION"):
                assert slots[a.get("TIME_SLOT_REF1")] < slots[a.get("TIME_SLOT_REF2")]
                assert a.find("ANNOTATION_VALUE") is not None
                assert allowed is None or a.findtext("ANNOTATION_VALUE") in allowed
        else:  # a dependent tier: one value per annotation of its parent
            assert ltype.get("CONSTRAINTS") == "Symbolic_Association"
            parent = {
                a.get("ANNOTATION_ID")
                for a in tiers[tier.get("PARENT_REF")].iter("ALIGNABLE_ANNOTATION")
            }
            refs = [a.get("ANNOTATION_REF") for a in tier.iter("REF_ANNOTATION")]
            assert sorted(refs) == sorted(parent)
            for a in tier.iter("REF_ANNOTATION"):
                value = a.findtext("ANNOTATION_VALUE") or ""
                assert allowed is None or value in allowed | {""}


def test_eaf_of_sample_round_trips_and_links_the_video(result, tmp_path, capsys):
    assert main(["export", str(result), "--format", "elan", "--out", str(tmp_path / "e")]) == 0
    (path,) = (tmp_path / "e").glob("*.eaf")
    assert capsys.readouterr().out.strip() == str(path)
    root = ET.parse(path).getroot()
    check_eaf_structure(root)
    tiers = [t.get("TIER_ID") for t in root.iter("TIER") if t.get("PARENT_REF") is None]
    assert tiers[:4] == ["spasm_right", "spasm_left", "blink", "bilateral_closure"]

    # the video: absolute URL and a path relative to the .eaf, both to the analysed file
    summary = json.loads((result / "summary.json").read_text())
    video = Path(summary["input"]["path"])
    media = root.find("HEADER/MEDIA_DESCRIPTOR")
    assert media.get("MEDIA_URL") == video.resolve().as_uri()
    assert media.get("MIME_TYPE") == "video/mp4"
    assert (path.parent / media.get("RELATIVE_MEDIA_URL")).resolve() == video.resolve()

    # every event comes back, times to the millisecond, every field as in events.tsv
    expected = read_events(result)
    events, media_attrs = elan.read_eaf(path)
    assert media_attrs["MEDIA_URL"] == video.resolve().as_uri()
    assert len(events) == len(expected) > 0
    for got, want in zip(
        events, sorted(expected, key=lambda e: (e.onset, e.duration)), strict=True
    ):
        assert abs(got.onset - want.onset) <= 0.0005 + 1e-9
        assert abs(got.end - want.end) <= 0.0005 + 1e-9
        for field in EVENT_COLUMNS:
            if field not in ("onset", "duration"):
                assert getattr(got, field) == getattr(want, field), field


events_strategy = st.lists(
    st.builds(
        Event,
        onset=st.floats(0, 36000, allow_nan=False),
        duration=st.floats(0.01, 60, allow_nan=False),
        trial_type=st.sampled_from(["spasm", "blink", "bilateral_closure"]),
        side=st.sampled_from(["right", "left"]),
        kind=st.sampled_from([*KINDS, None]),
        regions=st.sampled_from(["eye", "mouth", "eye+mouth"]),
        n_contractions=st.integers(0, 50),
        peak_closure=st.floats(0, 1).map(lambda x: round(x, 4)),
        closure_duration=st.floats(0, 60).map(lambda x: round(x, 4)),
        brow_raised=st.sampled_from([True, False, None]),
        mouth_cocontraction=st.sampled_from([True, False, None]),
        confidence=st.floats(0, 1).map(lambda x: round(x, 4)),
    ).map(
        lambda e: Event(**{
            **e.to_dict(),
            "side": "both" if e.trial_type != "spasm" else e.side,
            "kind": e.kind if e.trial_type == "spasm" else None,
        })
    ),
    max_size=12,
)  # fmt: skip


@settings(max_examples=examples(40), deadline=None)
@given(events=events_strategy)
def test_eaf_round_trip_any_events(events, tmp_path_factory):
    path = elan.write_eaf(events, tmp_path_factory.mktemp("eaf") / "x.eaf", media=None)
    check_eaf_structure(ET.parse(path).getroot())
    back, media = elan.read_eaf(path)
    assert media == {}
    want = sorted(events, key=lambda e: (elan.ms(e.onset), elan.ms(e.end)))
    got = sorted(back, key=lambda e: (elan.ms(e.onset), elan.ms(e.end)))
    assert len(got) == len(want)
    key = lambda e: (e.trial_type, e.side, e.kind, e.regions, e.n_contractions)  # noqa: E731
    assert sorted(map(key, got), key=str) == sorted(map(key, want), key=str)
    assert sorted(elan.ms(e.onset) for e in got) == sorted(elan.ms(e.onset) for e in want)
    assert sorted(elan.ms(e.end) for e in got) == sorted(
        max(elan.ms(e.end), elan.ms(e.onset) + 1) for e in want
    )


def test_eaf_marks_unmeasurable_stretches(result, tmp_path):
    rec = Recording.from_folder(result)
    table = rec.track.to_table()
    table["quality"] = table["quality"].astype(object)
    table["quality"][10:20] = "no_face"
    spans = elan.quality_spans(Track.from_table(table))
    assert "no_face" in {flag for _, _, flag in spans}
    path = elan.write_eaf(rec.events, tmp_path / "q.eaf", quality=spans)
    tier = ET.parse(path).getroot().find("TIER[@TIER_ID='not_measurable']")
    assert "no_face" in [v.text for v in tier.iter("ANNOTATION_VALUE")]
    assert len(elan.read_eaf(path)[0]) == len(rec.events)  # not read back as events


def test_foreign_or_broken_eaf_is_a_clear_error(tmp_path):
    (tmp_path / "a.eaf").write_text("<html/>")
    with pytest.raises(SpasmCvError, match="not an ELAN"):
        elan.read_eaf(tmp_path / "a.eaf")
    (tmp_path / "b.eaf").write_text("<ANNOTATION_DOCUMENT")
    with pytest.raises(SpasmCvError, match="cannot read"):
        elan.read_eaf(tmp_path / "b.eaf")


# ---------------------------------------------------------------------------- BIDS


def test_sidecar_describes_every_column(result):
    header, rows, sidecar = bids.read_events_files(result)
    assert bids.validate_events(header, rows, sidecar) == []
    assert header == list(EVENT_COLUMNS)
    for column in header:
        assert sidecar[column]["Description"]
    assert sidecar["onset"]["Units"] == sidecar["duration"]["Units"] == "s"


def test_validation_finds_what_is_wrong(result):
    header, rows, sidecar = bids.read_events_files(result)
    broken = {k: v for k, v in sidecar.items() if k != "confidence"}
    assert bids.validate_events(header, rows, broken) == [
        "column 'confidence' has no Description in the sidecar"
    ]
    levels = json.loads(json.dumps(sidecar))
    del levels["trial_type"]["Levels"]["blink"]
    problems = bids.validate_events(header, rows, levels)
    assert problems and all("trial_type='blink'" in p for p in problems)
    bad_rows = [dict(rows[0], onset="-1"), dict(rows[0], peak_closure="high")]
    assert len(bids.validate_events(header, bad_rows, sidecar)) == 2
    assert bids.validate_events(["duration", "onset"], [], {
        "duration": {"Description": "d", "Units": "s"},
        "onset": {"Description": "o", "Units": "s"},
    }) == ["first columns must be onset, duration (got ['duration', 'onset'])"]  # fmt: skip


def test_bids_export_names_files(result, tmp_path, capsys):
    out = tmp_path / "bids"
    args = ["export", str(result), "--format", "bids", "--out", str(out), "--subject", "07"]
    assert main([*args, "--session", "pre", "--task", "rest"]) == 0
    beh = out / "sub-07" / "ses-pre" / "beh"
    tsv = beh / "sub-07_ses-pre_task-rest_run-1_events.tsv"
    assert tsv.read_bytes() == (result / "events.tsv").read_bytes()
    sidecar = json.loads((beh / "sub-07_ses-pre_task-rest_run-1_events.json").read_text())
    assert set(EVENT_COLUMNS) <= set(sidecar) and sidecar["TaskName"] == "rest"
    capsys.readouterr()
    assert main([*args, "--task", "rest-1"]) == 2
    assert "letters and digits" in capsys.readouterr().err


# ---------------------------------------------------------------------------- CSV / JSON


def test_csv_export_has_one_row_per_event_and_the_headline(result, tmp_path):
    assert main(["export", str(result), "--format", "csv", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "events.csv", dtype={"counted": "boolean"})
    events = read_events(result)
    assert len(table) == len(events)
    episodes = table[table["trial_type"] == "spasm"]  # what episodes.csv held before 0.2
    spasms = [e for e in events if e.trial_type == "spasm"]
    assert list(episodes["onset"]) == pytest.approx([e.onset for e in spasms], abs=1e-4)
    assert list(episodes["offset"]) == pytest.approx([e.end for e in spasms], abs=2e-4)
    assert list(episodes["counted"]) == [e.involves_eye for e in spasms]
    assert not table.loc[table["trial_type"] != "spasm", "counted"].any()
    summary = json.loads((result / "summary.json").read_text())
    assert int(episodes["counted"].sum()) == summary["episodes"]["total"]["count"]
    if summary["recorded_at"]:
        assert episodes["clock_onset"].notna().all()
    with open(tmp_path / "recordings.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["episodes_per_hour"]) == pytest.approx(
        summary["episodes"]["total"]["per_hour"]
    )
    assert float(row["observed_s"]) == pytest.approx(summary["observed_s"])
    for side in ("right", "left"):
        want = summary["episodes"]["by_side_and_kind"][side]["tonic"]["count"]
        assert int(row[f"episodes_{side}_tonic_count"]) == want


def test_json_export(result, tmp_path):
    assert main(["export", str(result), "--format", "json", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.json")
    doc = json.loads(path.read_text())
    assert doc["summary"] == json.loads((result / "summary.json").read_text())
    assert [e["onset"] for e in doc["events"]] == [e.onset for e in read_events(result)]


def test_export_of_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--format", "csv"]) == 2
    assert "result folder not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------- Python API


def test_load_gives_dataframes(result):
    r = spasm_cv.load(result)
    summary = json.loads((result / "summary.json").read_text())
    assert r.summary == summary
    native = pd.read_csv(result / "events.tsv", sep="\t", na_values="n/a", keep_default_na=False)
    assert list(r.events.columns) == [
        *native.columns,
        "reviewed",
    ]  # the review's word: not reviewed
    assert set(r.events["reviewed"]) <= {"not reviewed", "n/a"}
    assert len(r.events) == len(native)
    assert r.events["onset"].tolist() == pytest.approx(native["onset"].tolist())
    assert r.events["kind"].isna().tolist() == native["kind"].isna().tolist()
    assert str(r.events["brow_raised"].dtype) == "boolean"
    assert len(r.episodes) == summary["episodes"]["total"]["count"]
    assert set(r.episodes["trial_type"]) <= {"spasm"}
    assert len(r.signals) == summary["frames"]
    assert {"quality", "closure_right", "closure_left"} <= set(r.signals.columns)
    assert r.signals.index.name == "time" and r.signals.index.is_monotonic_increasing
    assert r.signals.attrs["fps"] == summary["fps"]
    assert r.headline["episodes_count"] == summary["episodes"]["total"]["count"]
    assert "episodes" in repr(r)


def test_load_missing_or_damaged(tmp_path):
    with pytest.raises(SpasmCvError, match="not found"):
        spasm_cv.load(tmp_path / "nope")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "summary.json").write_text("{")
    with pytest.raises(SpasmCvError, match="corrupt summary"):
        spasm_cv.load(tmp_path / "x")


def test_tables_of_no_events():
    assert list(events_frame([]).columns) == list(EVENT_COLUMNS)
    empty = tables.events_table([])
    assert empty.empty and list(empty.columns) == list(tables.EVENTS_CSV_DTYPES)
