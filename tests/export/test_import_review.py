"""export --format elan, edited with pympi as a reviewer would in ELAN, then import-review."""

from __future__ import annotations

import subprocess
import sys

import pympi
import pytest
from conftest import package_env
from fsfaults import sim_result_with_episodes

from spasm_cv.errors import SpasmCvError
from spasm_cv.export.elan_review import review_decisions
from spasm_cv.results.files import read_events
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import events_sha256, latest, read_review, reviewable


def spasm_cv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spasm_cv", *args], capture_output=True,
                          text=True, env=package_env())  # fmt: skip


@pytest.fixture
def exported(tmp_path):
    folder = sim_result_with_episodes(tmp_path / "visit.spasm-cv")
    run = spasm_cv("export", str(folder), "--format", "elan", "--out", str(tmp_path / "elan"))
    assert run.returncode == 0, run.stderr
    (eaf,) = (tmp_path / "elan").glob("*.eaf")
    return folder, eaf


@pytest.mark.slow  # runs the command line in a new process
def test_elan_round_trip_marks_exactly_what_was_edited(exported, tmp_path):
    folder, eaf = exported
    items = reviewable(read_events(folder))
    assert len(items) >= 4
    doc = pympi.Elan.Eaf(str(eaf))
    # the kind and the regions come with controlled vocabularies (they survive editing)
    assert {"spasm-cv-kind", "spasm-cv-regions", "spasm-cv-review"} <= set(
        doc.controlled_vocabularies
    )
    assert doc.get_parameters_for_tier("spasm_right_regions")["PARENT_REF"] == "spasm_right"
    gone_key, gone = next((k, e) for k, e in items if e.side == "right")
    mid = int(round((gone.onset + gone.duration / 2) * 1000))
    doc.remove_annotation("spasm_right", mid)  # the reviewer deletes one detection ...
    doc.add_annotation("spasm_left", 72_000, 72_400, "twitch")  # ... and adds a missed one
    edited = tmp_path / "edited.eaf"
    doc.to_file(str(edited))

    run = spasm_cv("import-review", str(folder), str(edited), "--reviewer", "dr-a")
    assert run.returncode == 0, run.stderr
    assert "1 added, 1 rejected" in run.stdout
    last = latest(read_review(folder))
    assert {k: d.decision for k, d in last.items()} == {gone_key: "rejected", "a1": "added"}
    added = last["a1"]
    assert (added.side, added.kind, added.onset, added.duration) == ("left", "twitch", 72.0, 0.4)
    assert added.reviewer == "dr-a"
    # counted: everything else is not reviewed (listed, not counted), the added one counts
    reviewed = Recording.from_folder(folder).reviewed()
    assert [(e.onset, e.side) for e in reviewed.episodes] == [(72.0, "left")]


def test_a_side_moved_or_a_pick_on_the_review_tier_is_read(exported, tmp_path):
    folder, eaf = exported
    items = reviewable(read_events(folder))
    doc = pympi.Elan.Eaf(str(eaf))
    (k1, e1), (k2, e2) = items[0], items[1]
    # e1: moved to the other side's tier (same times, same kind)
    other = "left" if e1.side == "right" else "right"
    start, end = int(round(e1.onset * 1000)), int(round(e1.end * 1000))
    mid = (start + end) // 2
    doc.remove_annotation(f"spasm_{e1.side}", mid)
    doc.add_annotation(f"spasm_{other}", start, end, e1.kind)
    # e2: picked "unsure" on its review tier
    mid2 = int(round((e2.onset + e2.duration / 2) * 1000))
    doc.remove_ref_annotation(f"spasm_{e2.side}_review", mid2)
    doc.add_ref_annotation(f"spasm_{e2.side}_review", f"spasm_{e2.side}", mid2, "unsure")
    edited = tmp_path / "edited.eaf"
    doc.to_file(str(edited))
    decisions = review_decisions(edited, read_events(folder), events_sha256(folder))
    said = {d.event: d for d in decisions}
    # the moved annotation lost its details (ELAN does not move dependents across tiers):
    # the detection reads as deleted, the new annotation as added on the other side
    assert said[k1].decision == "rejected"
    assert any(d.decision == "added" and d.side == other and abs(d.onset - e1.onset) < 1e-3
               for d in decisions)  # fmt: skip
    assert said[k2].decision == "unsure"
    assert set(said) - {k1, k2} <= {d.event for d in decisions if d.decision == "added"}


@pytest.mark.slow  # runs the command line in a new process
def test_an_eaf_of_another_events_file_is_refused(exported, tmp_path):
    folder, eaf = exported
    other = sim_result_with_episodes(tmp_path / "other.spasm-cv", seconds=70.0)
    with pytest.raises(SpasmCvError, match="different events.tsv"):
        review_decisions(eaf, read_events(other), events_sha256(other))
    run = spasm_cv("import-review", str(other), str(eaf))
    assert run.returncode != 0 and "different events.tsv" in run.stderr
    assert "Traceback" not in run.stderr and not (other / "review.tsv").exists()
