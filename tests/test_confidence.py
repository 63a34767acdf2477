"""Filtering by confidence: ``load(min_confidence=)``, ``report --min-confidence``."""

from __future__ import annotations

import dataclasses

import pytest

from spasm_cv.results.recording import Recording

pytestmark = pytest.mark.slow  # the bundled sample is landmarked once per session


def _with_confidences(rec: Recording, values: list[float]) -> Recording:
    """The recording with its one-sided events' confidences set to ``values`` in turn."""
    it = iter(values * len(rec.events))
    events = [
        dataclasses.replace(e, confidence=next(it)) if e.trial_type == "spasm" else e
        for e in rec.events
    ]
    return dataclasses.replace(rec, events=events)


def test_min_confidence_keeps_sure_events_and_recounts(sample_run):
    rec = _with_confidences(Recording.from_folder(sample_run.analysis.out_dir), [0.95, 0.5])
    n = len(rec.episodes)
    sure = rec.with_min_confidence(0.8)
    assert len(sure.episodes) == (n + 1) // 2 and all(e.confidence >= 0.8 for e in sure.episodes)
    assert sure.summary.episodes.total.count == len(sure.episodes)
    assert sure.summary.observed_s == rec.summary.observed_s  # same denominator
    assert [e for e in sure.events if e.trial_type == "blink"] == [
        e for e in rec.events if e.trial_type == "blink"
    ]
    assert sure.summary.to_dict()["min_confidence"] == 0.8
    with pytest.raises(Exception, match="within 0-1"):
        rec.with_min_confidence(1.5)


def test_load_and_report_filter_by_confidence(sample_run, tmp_path, capsys):
    import spasm_cv
    from spasm_cv.cli import main

    everything = spasm_cv.load(sample_run.analysis.out_dir)
    sure = spasm_cv.load(sample_run.analysis.out_dir, min_confidence=1.0)
    spasms = everything.events[everything.events["trial_type"] == "spasm"]
    assert len(sure.episodes) == int((spasms["confidence"] >= 1.0).sum())
    assert (
        main(
            [
                "report",
                str(sample_run.analysis.out_dir),
                "--min-confidence",
                "0.8",
                "--out",
                str(tmp_path / "r.html"),
            ]
        )
        == 0
    )
    assert (
        "Only one-sided events with confidence ≥ 0.8 are counted"
        in (tmp_path / "r.html").read_text()
    )
    with pytest.raises(SystemExit) as stop:  # argparse: a usage error, one line
        main(
            [
                "report",
                str(sample_run.analysis.out_dir),
                "--min-confidence",
                "2",
                "--out",
                str(tmp_path / "bad.html"),
            ]
        )
    assert stop.value.code == 2 and "0-1" in capsys.readouterr().err
