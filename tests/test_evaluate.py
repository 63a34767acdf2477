"""Tests of spasm_cv.evaluation: matching, metrics, files, folders and the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from spasm_cv.errors import SpasmCvError
from spasm_cv.evaluation import (
    Episodes,
    EvaluationParams,
    combine_results,
    evaluate_events,
    evaluate_files,
    evaluate_folders,
    match_episodes,
    read_event_table,
    read_truth,
)
from spasm_cv.evaluation.cli import add_parser, run

TRUTH_HEADER = (
    "onset",
    "duration",
    "side",
    "kind",
    "n_contractions",
    "peak_closure",
    "perceived_closure",
    "perceived_closure_other",
    "mouth",
    "clear",
)
EVENTS_HEADER = (
    "onset",
    "duration",
    "trial_type",
    "side",
    "kind",
    "regions",
    "n_contractions",
    "peak_closure",
    "closure_duration",
    "brow_raised",
    "mouth_cocontraction",
    "confidence",
)


def ep(*rows: tuple, clear: list[bool] | None = None, kind: list[str] | None = None):
    """Episodes from (onset, duration, side) tuples."""
    if not rows:
        return Episodes.empty()
    onset, duration, side = zip(*rows, strict=True)
    return Episodes(
        np.array(onset), np.array(duration), np.array(side, dtype=object), kind=kind, clear=clear
    )


def write_truth(path: Path, rows: list[dict], duration_s: float | None = None) -> Path:
    lines = ["\t".join(TRUTH_HEADER)]
    for r in rows:
        full = {
            "kind": "clonic",
            "n_contractions": "1",
            "peak_closure": "0.8",
            "perceived_closure": "0.7",
            "perceived_closure_other": "0.0",
            "mouth": "no",
            "clear": "yes",
            **r,
        }
        lines.append("\t".join(str(full[c]) for c in TRUTH_HEADER))
    path.write_text("\n".join(lines) + "\n")
    if duration_s is not None:
        path.with_suffix(".json").write_text(json.dumps({"duration_s": duration_s}))
    return path


def write_events(folder: Path, rows: list[dict], observed_s: float | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(EVENTS_HEADER)]
    for r in rows:
        full = {
            "trial_type": "spasm",
            "kind": "clonic",
            "regions": "eye",
            "n_contractions": "1",
            "peak_closure": "0.8",
            "closure_duration": "0.2",
            "brow_raised": "n/a",
            "mouth_cocontraction": "n/a",
            "confidence": "0.9",
            **r,
        }
        lines.append("\t".join(str(full[c]) for c in EVENTS_HEADER))
    path = folder / "events.tsv"
    path.write_text("\n".join(lines) + "\n")
    if observed_s is not None:
        (folder / "summary.json").write_text(json.dumps({"observed_s": observed_s}))
    return path


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spasm-cv")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["evaluate", *argv])


# --- matching and metrics on arrays -------------------------------------------------------


def test_perfect_match():
    truth = ep((10.0, 1.0, "left"), (20.0, 0.3, "left"), (30.0, 2.0, "right"))
    r = evaluate_events(truth, truth, observed_s=3600.0)
    assert (r.tp, r.fp, r.fn, r.splits, r.merges) == (3, 0, 0, 0, 0)
    assert r.precision == r.recall == r.f1 == r.side_accuracy == 1.0
    assert r.median_onset_error_s == 0.0 and r.median_abs_onset_error_s == 0.0
    assert r.false_per_hour == 0.0 and r.rate_error_per_hour == 0.0
    assert r.true_per_hour == r.predicted_per_hour == 3.0


def test_split_counts_against_precision():
    truth = ep((10.0, 1.0, "left"))
    pred = ep((10.1, 0.3, "left"), (10.6, 0.3, "left"))
    r = evaluate_events(truth, pred, observed_s=3600.0)
    assert (r.tp, r.fp, r.fn, r.splits) == (1, 1, 0, 1)
    assert r.precision == 0.5 and r.recall == 1.0
    assert r.f1 == pytest.approx(2 / 3)
    assert r.false_per_hour == 1.0


def test_merge_one_prediction_over_two_truth_episodes():
    truth = ep((10.0, 0.5, "left"), (11.0, 0.5, "left"))
    pred = ep((10.0, 1.5, "left"))
    r = evaluate_events(truth, pred)
    assert (r.tp, r.fp, r.fn, r.merges, r.splits) == (1, 0, 1, 1, 0)


def test_wrong_side_is_not_a_hit():
    truth = ep((10.0, 1.0, "left"))
    pred = ep((10.0, 1.0, "right"))
    r = evaluate_events(truth, pred)
    assert (r.tp, r.fp, r.fn) == (0, 1, 1)
    assert r.n_time_matched == 1 and r.side_accuracy == 0.0
    assert r.f1 == 0.0 and r.median_onset_error_s is None


def test_side_accuracy_ignores_side_in_matching():
    truth = ep((10.0, 1.0, "left"), (20.0, 1.0, "right"), (30.0, 1.0, "left"))
    pred = ep((10.0, 1.0, "left"), (20.0, 1.0, "left"), (50.0, 1.0, "left"))
    r = evaluate_events(truth, pred)
    assert r.tp == 1 and r.n_time_matched == 2 and r.side_accuracy == 0.5


def test_empty_predictions():
    truth = ep((10.0, 1.0, "left"), (20.0, 1.0, "right"))
    r = evaluate_events(truth, Episodes.empty(), observed_s=7200.0)
    assert (r.tp, r.fp, r.fn) == (0, 0, 2)
    assert r.precision is None and r.recall == 0.0 and r.f1 == 0.0
    assert r.side_accuracy is None
    assert r.false_per_hour == 0.0
    assert r.true_per_hour == 1.0 and r.predicted_per_hour == 0.0
    assert r.rate_error_per_hour == -1.0 and r.rate_relative_error == -1.0


def test_empty_truth_all_predictions_are_false_alarms():
    pred = ep((10.0, 1.0, "left"), (20.0, 1.0, "right"), (30.0, 1.0, "left"))
    r = evaluate_events(Episodes.empty(), pred, observed_s=1800.0)
    assert (r.tp, r.fp, r.fn) == (0, 3, 0)
    assert r.recall is None and r.precision == 0.0 and r.f1 == 0.0
    assert r.false_per_hour == pytest.approx(6.0)
    assert r.rate_error_per_hour == pytest.approx(6.0)
    assert r.rate_relative_error is None  # true rate is 0


def test_nothing_to_find_nothing_found_is_undefined():
    r = evaluate_events(Episodes.empty(), Episodes.empty(), observed_s=600.0)
    assert r.precision is None and r.recall is None and r.f1 is None
    assert r.false_per_hour == 0.0
    assert r.to_dict()["f1"] is None


def test_unknown_observed_time_leaves_rates_undefined():
    r = evaluate_events(ep((1.0, 1.0, "left")), ep((5.0, 1.0, "left")))
    assert r.false_per_hour is None and r.true_per_hour is None
    assert r.rate_error_per_hour is None
    assert r.rate_relative_error == 0.0  # 1 predicted vs 1 true, needs no denominator


@pytest.mark.parametrize(
    ("onset", "duration", "hit"),
    [
        (11.24, 0.5, True),  # starts 0.24 s after the truth ends
        (11.26, 0.5, False),  # 0.26 s after
        (9.26, 0.5, True),  # ends 0.24 s before the truth starts
        (9.24, 0.5, False),  # ends 0.26 s before
    ],
)
def test_tolerance_edge(onset, duration, hit):
    truth = ep((10.0, 1.0, "left"))
    pred = ep((onset, duration, "left"))
    r = evaluate_events(truth, pred, params=EvaluationParams(tolerance_s=0.25))
    assert r.tp == int(hit) and r.fp == int(not hit)
    r0 = evaluate_events(truth, pred, params=EvaluationParams(tolerance_s=0.0))
    assert r0.tp == 0


def test_optimal_assignment_beats_greedy():
    # The long prediction overlaps the first truth most; greedy would take it and leave the
    # short prediction nothing. The optimal matching pairs both.
    truth = ep((0.0, 1.0, "left"), (1.2, 1.0, "left"))
    pred = ep((0.0, 2.0, "left"), (0.1, 0.2, "left"))
    m = match_episodes(truth, pred, tolerance_s=0.0)
    assert len(m) == 2
    assert dict(zip(m.truth_index.tolist(), m.pred_index.tolist(), strict=True)) == {0: 1, 1: 0}


def test_overlap_breaks_ties():
    truth = ep((10.0, 1.0, "left"))
    pred = ep((9.0, 1.1, "left"), (10.2, 0.6, "left"))
    m = match_episodes(truth, pred, tolerance_s=0.25)
    assert m.pred_index.tolist() == [1] and m.splits == 1


def test_clear_subtle_kind_and_onset_error():
    truth = ep(
        (10.0, 1.0, "left"),
        (20.0, 1.0, "left"),
        (30.0, 3.0, "left"),
        (40.0, 0.2, "left"),
        clear=[True, True, False, False],
        kind=["clonic", "clonic", "tonic", "clonic"],
    )
    pred = ep((10.1, 1.0, "left"), (29.8, 3.0, "left"), (40.3, 0.2, "left"))
    r = evaluate_events(truth, pred)
    assert r.tp == 3
    assert (r.tp_clear, r.n_truth_clear, r.recall_clear) == (1, 2, 0.5)
    assert (r.tp_subtle, r.n_truth_subtle, r.recall_subtle) == (2, 2, 1.0)
    assert r.recall_by_kind == {"clonic": pytest.approx(2 / 3), "tonic": 1.0}
    assert r.median_onset_error_s == pytest.approx(0.1)
    assert r.median_abs_onset_error_s == pytest.approx(0.2)


def test_combine_results_is_micro_average():
    a = evaluate_events(ep((10.0, 1.0, "left")), ep((10.0, 1.0, "left")), observed_s=1800.0)
    b = evaluate_events(
        ep((10.0, 1.0, "left"), (20.0, 1.0, "left")), ep((50.0, 1.0, "left")), observed_s=1800.0
    )
    t = combine_results([a, b])
    assert (t.tp, t.fp, t.fn, t.n_truth, t.n_predicted) == (1, 1, 2, 3, 2)
    assert t.observed_s == 3600.0 and t.false_per_hour == 1.0
    assert t.recall == pytest.approx(1 / 3) and t.precision == 0.5
    assert combine_results([a, evaluate_events(ep(), ep())]).observed_s is None


def test_invalid_episodes_rejected():
    with pytest.raises(ValueError, match="side"):
        ep((1.0, 1.0, "up"))
    with pytest.raises(ValueError, match="duration"):
        ep((1.0, -1.0, "left"))
    with pytest.raises(ValueError):
        EvaluationParams(tolerance_s=-0.1)


# --- properties ---------------------------------------------------------------------------

episode_rows = st.lists(
    st.tuples(st.floats(0, 1000), st.floats(0, 10), st.sampled_from(["left", "right"])),
    min_size=1,
    max_size=15,
)


@settings(max_examples=examples(60), deadline=None)
@given(episode_rows, st.floats(0, 1))
def test_prediction_equal_to_truth_scores_one(rows, tol):
    truth = ep(*rows)
    r = evaluate_events(truth, truth, params=EvaluationParams(tolerance_s=tol))
    assert r.f1 == 1.0 and r.side_accuracy == 1.0 and r.splits == 0


@settings(max_examples=examples(60), deadline=None)
@given(episode_rows, st.floats(0, 1), st.floats(0.01, 100))
def test_prediction_shifted_past_tolerance_scores_zero(rows, tol, extra):
    truth = ep(*rows)
    shift = truth.offset.max() - truth.onset.min() + tol + extra
    pred = Episodes(truth.onset + shift, truth.duration, truth.side)
    r = evaluate_events(truth, pred, params=EvaluationParams(tolerance_s=tol))
    assert r.f1 == 0.0 and r.tp == 0 and r.n_time_matched == 0


# --- files ----------------------------------------------------------------------------------


def test_blinks_and_mouth_only_rows_ignored_by_default(tmp_path):
    truth = write_truth(
        tmp_path / "v.truth.tsv", [{"onset": 10, "duration": 1, "side": "left"}], duration_s=3600
    )
    events = write_events(
        tmp_path / "v",
        [
            {"onset": 5, "duration": 0.2, "trial_type": "blink", "side": "both", "regions": "eye"},
            {"onset": 10, "duration": 1, "side": "left", "regions": "eye+mouth"},
            {"onset": 30, "duration": 1, "side": "right", "regions": "mouth"},
        ],
    )
    v = evaluate_files(truth, events)
    assert (v.result.tp, v.result.fp, v.result.n_predicted) == (1, 0, 1)
    v_any = evaluate_files(truth, events.parent, EvaluationParams(regions="any"))
    assert (v_any.result.tp, v_any.result.fp, v_any.result.n_predicted) == (1, 1, 2)


def test_observed_time_precedence(tmp_path):
    truth = write_truth(tmp_path / "v.truth.tsv", [], duration_s=7200)
    rows = [{"onset": 1, "duration": 1, "side": "left"}]
    with_summary = write_events(tmp_path / "a", rows, observed_s=1800)
    without = write_events(tmp_path / "b", rows)
    v = evaluate_files(truth, with_summary)
    assert (v.observed_source, v.result.false_per_hour) == ("summary.json", 2.0)
    v = evaluate_files(truth, without, hours=4)
    assert (v.observed_source, v.result.false_per_hour) == ("truth sidecar", 0.5)
    truth.with_suffix(".json").unlink()
    v = evaluate_files(truth, without, hours=4)
    assert (v.observed_source, v.result.false_per_hour) == ("hours", 0.25)
    v = evaluate_files(truth, without)
    assert v.observed_source is None and v.result.false_per_hour is None


def test_truth_tolerant_columns(tmp_path):
    p = tmp_path / "t.truth.tsv"
    p.write_text("onset\tduration\tside\n1.5\t0.5\tLeft\n4\tn/a\tright\n")
    truth = read_truth(p)
    assert truth.onset.tolist() == [1.5, 4.0] and truth.duration.tolist() == [0.5, 0.0]
    assert truth.side.tolist() == ["left", "right"] and truth.clear.all()
    empty = tmp_path / "neg.truth.tsv"
    write_truth(empty, [])
    assert len(read_truth(empty)) == 0


def test_truth_clear_column(tmp_path):
    p = write_truth(
        tmp_path / "t.truth.tsv",
        [
            {"onset": 1, "duration": 1, "side": "left", "clear": "yes"},
            {"onset": 5, "duration": 1, "side": "left", "clear": "no"},
        ],
    )
    assert read_truth(p).clear.tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("onset\tside\n1\tleft\n", "missing columns: duration"),
        ("onset,duration,side\n1,1,left\n", "missing columns"),
        ("onset\tduration\tside\nabc\t1\tleft\n", "not a number"),
        ("onset\tduration\tside\n1\t1\n", "line 2"),
        ("onset\tduration\tside\n1\t1\tup\n", "side must be"),
        ("onset\tduration\tside\n1\t-1\tleft\n", "bad duration"),
        ("onset\tduration\tside\tclear\n1\t1\tleft\tmaybe\n", "clear must be"),
        ("", "empty file"),
    ],
)
def test_malformed_truth_raises(tmp_path, text, message):
    p = tmp_path / "bad.truth.tsv"
    p.write_text(text)
    with pytest.raises(SpasmCvError, match=message):
        read_truth(p)


def test_malformed_events_and_missing_files(tmp_path):
    bad = tmp_path / "r" / "events.tsv"
    bad.parent.mkdir()
    bad.write_text("onset\tduration\tside\n1\t1\tleft\n")
    with pytest.raises(SpasmCvError, match="trial_type"):
        read_event_table(bad)
    (tmp_path / "r" / "summary.json").write_text("{not json")
    bad.write_text("onset\tduration\ttrial_type\tside\n1\t1\tspasm\tleft\n")
    truth = write_truth(tmp_path / "v.truth.tsv", [])
    with pytest.raises(SpasmCvError, match="summary.json"):
        evaluate_files(truth, bad)
    with pytest.raises(SpasmCvError, match="not found"):
        evaluate_files(truth, tmp_path / "nowhere")
    with pytest.raises(SpasmCvError, match="not found"):
        evaluate_files(tmp_path / "none.truth.tsv", bad)


def test_blink_side_not_checked_but_spasm_side_is(tmp_path):
    p = write_events(
        tmp_path / "r",
        [
            {"onset": 1, "duration": 0.2, "trial_type": "blink", "side": "n/a"},
        ],
    )
    assert len(read_event_table(p).episodes()) == 0
    write_events(tmp_path / "r", [{"onset": 1, "duration": 0.2, "side": "n/a"}])
    with pytest.raises(SpasmCvError, match="side"):
        read_event_table(p)


# --- folders and CLI ------------------------------------------------------------------------


def make_folders(tmp_path: Path) -> tuple[Path, Path]:
    tdir, rdir = tmp_path / "truth", tmp_path / "results"
    tdir.mkdir()
    # a: perfect, 1 h observed
    write_truth(
        tdir / "a.truth.tsv",
        [
            {"onset": 10, "duration": 1, "side": "left"},
            {"onset": 20, "duration": 1, "side": "right"},
        ],
        duration_s=3600,
    )
    write_events(
        rdir / "a",
        [
            {"onset": 10, "duration": 1, "side": "left"},
            {"onset": 20, "duration": 1, "side": "right"},
        ],
        observed_s=3600,
    )
    # b: negative video with one false alarm and a blink, 1 h observed
    write_truth(tdir / "b.truth.tsv", [], duration_s=3600)
    write_events(
        rdir / "b",
        [
            {"onset": 5, "duration": 1, "side": "left"},
            {"onset": 9, "duration": 0.2, "trial_type": "blink", "side": "both"},
        ],
        observed_s=3600,
    )
    (rdir / "extra").mkdir()  # a result without truth is ignored
    return tdir, rdir


def test_evaluate_folders(tmp_path):
    tdir, rdir = make_folders(tmp_path)
    report = evaluate_folders(tdir, rdir)
    assert [v.name for v in report.videos] == ["a", "b"]
    t = report.total
    assert (t.tp, t.fp, t.fn, t.n_truth, t.n_predicted) == (2, 1, 0, 2, 3)
    assert t.observed_s == 7200.0 and t.false_per_hour == 0.5
    assert report.videos[1].result.recall is None


def test_cli_folder_mode_table_and_json(tmp_path, capsys):
    tdir, rdir = make_folders(tmp_path)
    out = tmp_path / "out" / "eval.json"
    out.parent.mkdir()
    code = run(parse(["--truth", str(tdir), "--events", str(rdir), "--json", str(out)]))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "TOTAL (micro)" in captured.out and "precision 0.667" in captured.out
    doc = json.loads(out.read_text())
    assert doc["params"] == {"tolerance_s": 0.25, "regions": "eye"}
    assert (doc["total"]["tp"], doc["total"]["fp"], doc["total"]["fn"]) == (2, 1, 0)
    assert doc["total"]["false_per_hour"] == 0.5
    assert [v["name"] for v in doc["videos"]] == ["a", "b"]
    assert doc["videos"][1]["recall"] is None

    code = run(parse(["--truth", str(tdir), "--events", str(rdir), "--format", "json"]))
    assert code == 0
    assert json.loads(capsys.readouterr().out) == doc


def test_cli_single_mode(tmp_path, capsys):
    tdir, rdir = make_folders(tmp_path)
    code = run(
        parse(
            [
                "--truth",
                str(tdir / "a.truth.tsv"),
                "--events",
                str(rdir / "a"),
                "--format",
                "json",
                "--tolerance",
                "0.1",
            ]
        )
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"]["f1"] == 1.0 and doc["params"]["tolerance_s"] == 0.1
    assert doc["videos"][0]["observed_source"] == "summary.json"


def test_cli_missing_result(tmp_path, capsys):
    tdir, rdir = make_folders(tmp_path)
    write_truth(
        tdir / "c.truth.tsv", [{"onset": 1, "duration": 1, "side": "left"}], duration_s=1800
    )
    code = run(parse(["--truth", str(tdir), "--events", str(rdir)]))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("spasm-cv: error: ") and "c" in err and err.count("\n") == 1

    code = run(
        parse(
            ["--truth", str(tdir), "--events", str(rdir), "--missing", "empty", "--format", "json"]
        )
    )
    captured = capsys.readouterr()
    assert code == 0 and "warning: no result for c" in captured.err
    doc = json.loads(captured.out)
    assert doc["videos"][2]["events"] is None and doc["total"]["fn"] == 1


def test_cli_bad_input_exit_2_without_traceback(tmp_path, capsys):
    tdir, rdir = make_folders(tmp_path)
    (rdir / "a" / "events.tsv").write_text("onset\tduration\n1\t1\n")
    code = run(parse(["--truth", str(tdir), "--events", str(rdir)]))
    err = capsys.readouterr().err
    assert code == 2 and "missing columns" in err and "Traceback" not in err
    code = run(parse(["--truth", str(tmp_path / "nope.truth.tsv"), "--events", str(rdir)]))
    assert code == 2 and "not found" in capsys.readouterr().err
    code = run(parse(["--truth", str(tdir), "--events", str(tdir / "a.truth.tsv")]))
    assert code == 2 and "must be a folder" in capsys.readouterr().err


def test_cli_rejects_negative_tolerance(capsys):
    with pytest.raises(SystemExit) as e:
        parse(["--truth", "x", "--events", "y", "--tolerance", "-1"])
    assert e.value.code == 2
