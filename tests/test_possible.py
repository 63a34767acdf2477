"""The ``possible_spasm`` tier: listed and reviewable everywhere, counted only when asked.

The detector marks an accepted one-sided eye episode ``possible_spasm`` when it cannot be
sure of it (:func:`spasm_cv.events.decide.unsure`). These tests take the bundled sample's
result, mark some of its episodes possible, and follow them through every reader: the
summary counts, ``--count possible``, the report, ELAN and MNE.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from spasm_cv.errors import SpasmCvError
from spasm_cv.events.table import POSSIBLE
from spasm_cv.results.files import write_events
from spasm_cv.results.recording import Recording

pytestmark = pytest.mark.slow  # the bundled sample is landmarked once per session


def _marked(rec: Recording, every: int = 2) -> Recording:
    """``rec`` with every ``every``-th eye episode made a possible one, recounted."""
    n = iter(range(len(rec.events)))
    events = [
        dataclasses.replace(e, trial_type=POSSIBLE) if e.is_episode and next(n) % every == 0 else e
        for e in rec.events
    ]
    return dataclasses.replace(rec, events=events)._recounted(events)


@pytest.fixture()
def marked_folder(sample_result, tmp_path):
    """A copy of the sample's result folder whose events.tsv has possible episodes."""
    import shutil

    out = tmp_path / "marked.spasm-cv"
    shutil.copytree(sample_result, out)
    rec = _marked(Recording.from_folder(out))
    (out / "events.tsv").unlink()
    write_events(out / "events.tsv", rec.events)
    return out, rec


def test_possible_episodes_are_listed_but_not_counted(sample_result):
    rec = Recording.from_folder(sample_result)
    marked = _marked(rec)
    assert marked.possible and len(marked.episodes) + len(marked.possible) == len(rec.episodes)
    s = marked.summary
    assert s.episodes.total.count == len(marked.episodes)
    assert sum(r.count for r in s.possible.values()) == len(marked.possible)
    assert s.observed_s == rec.summary.observed_s
    assert s.to_dict()["possible"]["right"]["count"] == s.possible["right"].count
    # mouth-only events are a different thing: the eye's possible episodes are not among them
    assert not any(e.is_mouth_only for e in marked.possible)

    every = marked.counting_possible()
    assert len(every.episodes) == len(rec.episodes) and not every.possible
    assert every.summary.episodes.total.count == rec.summary.episodes.total.count
    assert every.summary.to_dict()["count"] == "possible"


def test_load_report_and_exports_follow_count(marked_folder, tmp_path):
    import spasm_cv
    from spasm_cv.cli import main

    folder, rec = marked_folder
    n_possible = len(rec.possible)
    sure, every = spasm_cv.load(folder), spasm_cv.load(folder, count="possible")
    assert len(sure.episodes) == len(rec.episodes)
    assert len(every.episodes) == len(rec.episodes) + n_possible
    assert (sure.events["trial_type"] == POSSIBLE).sum() == n_possible
    with pytest.raises(SpasmCvError, match="count must be one of"):
        spasm_cv.load(folder, count="all")

    assert main(["report", str(folder), "--out", str(tmp_path / "sure.html")]) == 0
    page = (tmp_path / "sure.html").read_text()
    assert f"{n_possible} possible one-sided episode" in page
    assert (
        main(["report", str(folder), "--count", "possible", "--out", str(tmp_path / "all.html")])
        == 0
    )
    page = (tmp_path / "all.html").read_text()
    assert "Possible episodes (those the detector could not be sure of) are counted" in page
    assert "possible one-sided episode" not in page

    # ELAN: a tier per side for possible episodes, read back as what they were
    from spasm_cv.export.elan import read_eaf

    assert main(["export", str(folder), "--format", "elan", "--out", str(tmp_path / "e")]) == 0
    (eaf,) = (tmp_path / "e").glob("*.eaf")
    tiers = {
        t.get("TIER_ID"): len(list(t.iter("ALIGNABLE_ANNOTATION")))
        for t in ET.parse(eaf).getroot().iter("TIER")
    }
    assert tiers["possible_right"] + tiers["possible_left"] == n_possible
    back, _ = read_eaf(eaf)
    assert sorted((round(e.onset, 3), e.trial_type) for e in back if e.is_one_sided) == sorted(
        (round(e.onset, 3), e.trial_type) for e in rec.events if e.is_one_sided
    )


def test_mne_tags_keep_possible_episodes_out_of_spasm(marked_folder):
    mne = pytest.importorskip("mne")
    from spasm_cv.export.annotations import to_mne_annotations

    folder, rec = marked_folder
    ann = to_mne_annotations(Recording.from_folder(folder))
    spasm = [d for d in ann.description if d.split("/")[0] == "spasm"]
    possible = [d for d in ann.description if d.split("/")[0] == POSSIBLE]
    assert len(possible) == len(rec.possible)
    assert len(spasm) == len(rec.episodes)  # mouth-only events are mouth_only/<side>
    assert isinstance(ann, mne.Annotations)
