"""results/review.py: review.tsv (decisions beside the detector's events) and reviewed counts."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import package_env
from fsfaults import sim_result_with_episodes

import spasm_cv
from spasm_cv.errors import SpasmCvError
from spasm_cv.results.files import EVENTS_FILE
from spasm_cv.results.recording import Recording
from spasm_cv.results.review import (
    REVIEW_COLUMNS,
    REVIEW_FILE,
    Decision,
    append_decisions,
    decision_for,
    read_review,
    reviewable,
)


def result_with_episodes(folder: Path) -> Path:
    return sim_result_with_episodes(folder)


@pytest.fixture
def folder(tmp_path) -> Path:
    out = result_with_episodes(tmp_path / "visit.spasm-cv")
    assert len(reviewable(Recording.from_folder(out).events)) >= 5
    return out


def test_decisions_are_appended_and_the_last_one_wins(folder):
    rec = Recording.from_folder(folder)
    (k1, e1), (k2, e2), (k3, e3) = reviewable(rec.events)[:3]
    append_decisions(folder, [decision_for(k1, e1, "rejected"), decision_for(k2, e2, "unsure")])
    before = (folder / REVIEW_FILE).read_bytes()
    append_decisions(folder, [decision_for(k1, e1, "accepted", note="on second look")])
    assert (folder / REVIEW_FILE).read_bytes().startswith(before)  # nothing rewritten
    rows = list(csv.DictReader((folder / REVIEW_FILE).read_text().splitlines(), delimiter="\t"))
    assert tuple(rows[0]) == REVIEW_COLUMNS and len(rows) == 3
    assert [d.decision for d in read_review(folder)] == ["rejected", "unsure", "accepted"]
    assert stat.S_IMODE(os.stat(folder / REVIEW_FILE).st_mode) == 0o600
    reviewed = rec.reviewed()
    tally = reviewed.summary.extra["reviewed"]
    assert (tally["accepted"], tally["rejected"], tally["unsure"]) == (1, 0, 1)
    assert len(reviewed.episodes) == 1 and reviewed.episodes[0].onset == e1.onset


def test_the_reviewed_count_is_accepted_plus_added(folder):
    rec = Recording.from_folder(folder)
    items = reviewable(rec.events)
    decisions = [decision_for(k, e, "accepted") for k, e in items[:3]]
    decisions.append(decision_for(*items[3], "rejected"))
    decisions.append(decision_for(*items[4], "accepted", corrected_side="left"
                                  if items[4][1].side == "right" else "right"))  # fmt: skip
    decisions.append(Decision("a1", "added", 70.0, 0.4, "left", "twitch"))
    append_decisions(folder, decisions)
    reviewed = rec.counted("reviewed")
    ep = reviewed.summary.episodes
    assert ep.total.count == 5  # 4 accepted + 1 added: counted by hand
    assert ep.by_side["left"].count == sum(
        d.final_side == "left" for d in decisions if d.decision in ("accepted", "added")
    )
    assert reviewed.summary.observed_s == rec.summary.observed_s  # the same denominator
    assert reviewed.summary.extra["reviewed"]["not_reviewed"] == len(items) - 5
    assert "rejected" not in {e.trial_type for e in reviewed.events}
    assert len(reviewed.possible) == len(items) - 5  # not reviewed: listed, not counted
    # the detector's file is as it was made
    assert Recording.from_folder(folder).events == rec.events


def test_load_has_a_reviewed_column(folder):
    items = reviewable(Recording.from_folder(folder).events)
    append_decisions(
        folder,
        [decision_for(*items[0], "rejected"), Decision("a1", "added", 70.0, 0.4, "left", "twitch")],
    )
    result = spasm_cv.load(folder)
    labels = result.events["reviewed"].tolist()
    assert labels.count("rejected") == 1 and labels.count("not reviewed") == len(items) - 1
    assert set(labels) == {"rejected", "not reviewed", "n/a"}
    confirmed = spasm_cv.load(folder, count="reviewed")
    assert confirmed.events["reviewed"].tolist().count("added") == 1
    assert len(confirmed.episodes) == 1  # the added one: nothing else was accepted


@pytest.mark.slow  # runs the command line in a new process
def test_a_review_of_another_events_file_is_refused(folder, tmp_path):
    items = reviewable(Recording.from_folder(folder).events)
    append_decisions(folder, [decision_for(*items[0], "accepted")])
    other = result_with_episodes(tmp_path / "other.spasm-cv")
    (other / EVENTS_FILE).write_text((other / EVENTS_FILE).read_text() + "\n")  # re-analysed
    (other / REVIEW_FILE).write_bytes((folder / REVIEW_FILE).read_bytes())
    with pytest.raises(SpasmCvError, match="different events.tsv") as err:
        Recording.from_folder(other).reviewed()
    assert "\n" not in str(err.value)
    with pytest.raises(SpasmCvError, match="different events.tsv"):
        append_decisions(other, [decision_for(*items[0], "rejected")])
    # what does not count by review is not stopped by a stale one: it is simply no review
    assert Recording.from_folder(other).headline()["review_confirmed"] is None
    assert set(spasm_cv.load(other).events["reviewed"]) <= {"not reviewed", "n/a"}
    cli = subprocess.run([sys.executable, "-m", "spasm_cv", "report", str(other), "--reviewed",
                          "--out", str(tmp_path / "r.html")], capture_output=True, text=True,
                         env=package_env())  # fmt: skip
    assert cli.returncode != 0 and "different events.tsv" in cli.stderr
    assert "Traceback" not in cli.stderr and not (tmp_path / "r.html").exists()


def test_review_file_is_never_written_through_a_link(folder, tmp_path):
    target = tmp_path / "elsewhere.tsv"
    target.write_text("mine\n")
    (folder / REVIEW_FILE).symlink_to(target)
    items = reviewable(Recording.from_folder(folder).events)
    with pytest.raises(SpasmCvError):
        append_decisions(folder, [decision_for(*items[0], "accepted")])
    assert target.read_text() == "mine\n"


@pytest.mark.parametrize("cell, value", [
    ("decision", "maybe"), ("side", "both"), ("onset", "-1"), ("events_sha256", "x"),
    ("note", "a\ttab"),
])  # fmt: skip
def test_a_damaged_review_row_is_one_line(folder, cell, value):
    items = reviewable(Recording.from_folder(folder).events)
    append_decisions(folder, [decision_for(*items[0], "accepted")])
    path = folder / REVIEW_FILE
    rows = list(csv.reader(path.read_text().splitlines(), delimiter="\t"))
    rows[1][REVIEW_COLUMNS.index(cell)] = value
    with open(path, "w", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(rows)
    with pytest.raises(SpasmCvError) as err:
        read_review(folder)
    assert "\n" not in str(err.value) and REVIEW_FILE in str(err.value)


@pytest.mark.slow  # runs the command line in a new process
def test_report_says_what_review_confirmed(folder, tmp_path):
    items = reviewable(Recording.from_folder(folder).events)
    append_decisions(folder, [decision_for(k, e, "accepted") for k, e in items[:3]]
                     + [Decision("a1", "added", 70.0, 0.4, "left", "twitch")])  # fmt: skip
    out = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "spasm_cv", "report", str(folder), "--reviewed",
                          "--out", str(out)], capture_output=True, text=True,
                         env=package_env())  # fmt: skip
    assert run.returncode == 0, run.stderr
    page = out.read_text()
    n = len(items)
    assert f"confirmed by review: 3 of {n} detected, 1 added" in page
    assert 'data-key="episodes.total.count" data-scale="1">4<' in page  # 3 accepted + 1 added


def test_batch_row_and_recordings_csv_carry_both_counts(folder, tmp_path):
    from spasm_cv.batch.engines import VideoOutcome
    from spasm_cv.batch.table import outcome_row

    items = reviewable(Recording.from_folder(folder).events)
    append_decisions(folder, [decision_for(*items[0], "accepted"),
                              decision_for(*items[1], "rejected"),
                              Decision("a1", "added", 70.0, 0.4, "left", "twitch")])  # fmt: skip
    rec = Recording.from_folder(folder)
    row = outcome_row(VideoOutcome("visit", "/videos/visit.mp4", str(folder), "ok",
                                   summary=rec.summary))  # fmt: skip
    assert (row["episodes"], row["review_detected"], row["review_confirmed"]) == (
        len(rec.episodes),
        len(items),
        2,
    )
    headline = rec.headline()  # a row of export --format csv's recordings.csv
    assert (headline["episodes_count"], headline["review_confirmed"]) == (len(rec.episodes), 2)
    assert rec.reviewed().headline()["episodes_count"] == 2
