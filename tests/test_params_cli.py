"""Parameters without Python (``--params FILE.toml``, ``--set``), ``--json``, closed stdout."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pytest
from conftest import REPO, SAMPLE_TRUTH, package_env, shared_video

from spasm_cv.cli import main
from spasm_cv.events.params import DetectionParams
from spasm_cv.results.params import (
    RecordedParams,
    build_params,
    params_from_args,
    read_params_file,
)
from spasm_cv.results.summary import Summary

COMMANDS = ("analyze", "batch", "monitor")


def test_params_file_and_settings_build_detection_params(tmp_path):
    f = tmp_path / "strict.toml"
    f.write_text("# stricter\nclosure_on = 0.4\nmerge_gap_s = 1  # an int is fine\n")
    p = params_from_args(f, ["min_unilateral_s=0.2", "closure_on=0.45"])
    assert p == DetectionParams().with_values(
        closure_on=0.45, merge_gap_s=1.0, min_unilateral_s=0.2
    )
    (tmp_path / "table.toml").write_text("[detection]\nclosure_on = 0.4\n")
    assert read_params_file(tmp_path / "table.toml") == {"closure_on": 0.4}
    assert params_from_args(None, []) == DetectionParams()


def test_every_field_is_accepted_by_name():
    """New DetectionParams fields need no change: every field is settable generically."""
    for name, group in DetectionParams.flat_fields().items():
        value = DetectionParams().to_dict()[name] + 0.001  # within every range
        params = build_params({name: value})
        assert getattr(getattr(params, group), name) == value
        assert params.to_dict() == {**DetectionParams().to_dict(), name: value}


# the flat order of summary.json's params (that of the one flat DetectionParams before the
# groups): existing result folders and byte-identical outputs depend on it
FLAT_ORDER = [
    "baseline_window_s",
    "warmup_s",
    "occlusion_texture_ratio",
    "occlusion_window_s",
    "baseline_quantile",
    "closure_on",
    "closure_off",
    "min_asymmetry",
    "other_open_ratio",
    "blink_sync_s",
    "min_unilateral_s",
    "merge_gap_s",
    "tonic_min_s",
    "contraction_prominence",
    "blink_min_closure",
    "blink_max_s",
    "mouth_on",
    "mouth_only_on",
    "mouth_only_ratio",
    "mouth_only_min_s",
    "brow_on",
    "max_yaw_deg",
    "max_pitch_deg",
    "candidate_on",
    "candidate_off",
    "candidate_asymmetry",
    "candidate_drop_ratio",
    "context_s",
    "min_excess",
    "asymmetry_factor",
    "min_margin",
    "head_speed_weight",
    "min_close_speed",
    "reopening_min_held_s",
    "max_drop_ratio",
    "max_other_sd",
    "min_open_iod",
    "talking_lip_sd",
    "smiling_iod",
    "head_moving_deg",
    "min_asymmetry_scale",
    "asymmetry_history_s",
    "unknown_asymmetry",
]


def test_every_flat_name_belongs_to_exactly_one_stage():
    from spasm_cv.events import params as module

    groups = [f.name for f in dataclasses.fields(DetectionParams)]
    assert groups == ["activity", "candidates", "decide", "episodes", "context"]
    owners: dict[str, list[str]] = {}
    for g in groups:
        for f in dataclasses.fields(getattr(DetectionParams(), g)):
            owners.setdefault(f.name, []).append(g)
    assert {n: gs for n, gs in owners.items() if len(gs) != 1} == {}
    assert DetectionParams.flat_fields() == {n: gs[0] for n, gs in owners.items()}
    assert list(DetectionParams.flat_fields()) == list(module._RANGES)  # each has a range
    # the groups' docstrings document each of their fields
    for g in groups:
        group = type(getattr(DetectionParams(), g))
        documented = group.__doc__.split("Parameters\n    ----------\n", 1)[1]
        for f in dataclasses.fields(group):
            assert f"{f.name}" in documented, f"{group.__name__}.{f.name} not documented"


def test_the_flat_mapping_round_trips_in_summary_order():
    defaults = DetectionParams()
    flat = defaults.to_dict()
    assert list(flat) == FLAT_ORDER
    assert all(isinstance(v, float) and math.isfinite(v) for v in flat.values())
    assert DetectionParams.from_dict(flat) == defaults
    changed = {name: value * 0.5 for name, value in flat.items()}
    changed["closure_off"], changed["candidate_off"] = 0.05, 0.05
    params = DetectionParams.from_dict(changed)
    assert params.to_dict() == changed and list(params.to_dict()) == FLAT_ORDER
    assert defaults.with_values(**changed) == params
    assert params.episodes.closure_on == 0.15 and params.decide.min_excess == 0.04
    # a group is an ordinary frozen dataclass: replace works within it
    assert dataclasses.replace(
        defaults, decide=dataclasses.replace(defaults.decide, min_excess=0.2)
    ) == defaults.with_values(min_excess=0.2)
    with pytest.raises(ValueError, match="unknown detection parameter 'closure'"):
        defaults.with_values(closure=0.4)
    with pytest.raises(ValueError, match="closure_on must be within"):
        DetectionParams.from_dict({"closure_on": 2.0})
    with pytest.raises(ValueError, match="closure_on must be within"):  # a group checks itself
        dataclasses.replace(defaults.episodes, closure_on=2.0)
    with pytest.raises(TypeError, match="episodes must be a EpisodeParams"):
        DetectionParams(episodes=defaults.decide)


def test_summary_params_are_typed_and_written_as_read():
    """summary.json's params: typed, and written back exactly as read (key order, values
    and parameters of other versions included)."""
    recorded = RecordedParams.of(DetectionParams().with_values(closure_on=0.4))
    assert recorded.to_dict() == DetectionParams().with_values(closure_on=0.4).to_dict()
    assert list(recorded) == FLAT_ORDER and recorded.missing == [] and recorded.unknown == {}
    assert recorded.detection_params().episodes.closure_on == 0.4
    older = {"closure_on": 0.4, "merge_gap_s": 1.0, "from_newer_version": 3.0}
    other = RecordedParams(older)
    assert other.to_dict() == older and list(other.to_dict()) == list(older)
    assert other.unknown == {"from_newer_version": 3.0}
    assert "min_excess" in other.missing and "closure_on" not in other.missing
    assert other.detection_params() == DetectionParams().with_values(
        closure_on=0.4, merge_gap_s=1.0
    )
    texts = other.texts()
    assert texts["closure_on"] == "0.4" and texts["min_excess"] == "?"
    assert list(texts)[:3] == list(older)
    assert other == older and other != recorded  # compares as the mapping it is


def test_summary_json_params_pass_through():
    from spasm_cv.events.detect import detect
    from spasm_cv.events.simulate import simulate_signals

    signals, _ = simulate_signals(5.0, seed=1)
    params = DetectionParams().with_values(closure_on=0.4)
    summary = Summary.of_analysis(signals, detect(signals, params), {"name": "x"})
    assert summary.params == RecordedParams.of(params)
    doc = summary.to_dict()
    assert json.dumps(doc["params"]) == json.dumps(params.to_dict())
    for recorded in ({"merge_gap_s": 1.0, "closure_on": 0.4, "newer": 1.0}, {}):
        read = Summary.from_dict({**doc, "params": recorded})
        assert isinstance(read.params, RecordedParams)
        assert json.dumps(read.to_dict()["params"]) == json.dumps(recorded)
        assert json.dumps(read.to_dict()) == json.dumps({**doc, "params": recorded})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("closure_onn=0.4", "unknown detection parameter 'closure_onn' in --set (did you mean "
                            "closure_on?)"),
        ("closure_on=1.5", "closure_on must be within [1e-09, 1], got 1.5"),
        ("closure_on=high", "closure_on must be a number, got 'high'"),
        ("closure_on=true", "closure_on must be a number, got True"),
        ("closure_off=0.5", "closure_off (0.5) must not exceed closure_on (0.3)"),
        ("closure_on", "--set needs name=value"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", COMMANDS)
def test_bad_parameters_are_one_line_errors(command, setting, message, tmp_path, capsys):
    args = {
        "analyze": ["analyze", "nothing.mp4"],
        "batch": ["batch", str(tmp_path), "--out", str(tmp_path / "o")],
        "monitor": ["monitor", "--headless", "--source", "x.mp4"],
    }
    assert main([*args[command], "--set", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spasm-cv: error: ") and err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # checked before anything is done


def test_bad_parameter_files_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("closure_on = \n")
    (tmp_path / "extra.toml").write_text("[detection]\nclosure_on = 0.4\n[other]\nx = 1\n")
    for name, message in (("bad.toml", "is not valid TOML"),
                          ("missing.toml", "parameter file not found"),
                          ("extra.toml", "unknown detection parameter 'other'")):  # fmt: skip
        assert main(["analyze", "x.mp4", "--params", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("spasm-cv: error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow  # MediaPipe
def test_parameters_are_recorded_and_json_is_printed(tmp_path, capsys):
    video = shared_video("c2_wink_man_frontal_cv.mp4")
    (tmp_path / "p.toml").write_text("closure_on = 0.35\n")
    out = tmp_path / "r"
    args = ["analyze", str(video), "--out", str(out), "--jobs", "1", "--json"]
    assert main([*args, "--params", str(tmp_path / "p.toml"), "--set", "tonic_min_s=2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((out / "summary.json").read_text())
    assert printed == summary
    assert summary["params"]["closure_on"] == 0.35 and summary["params"]["tonic_min_s"] == 2.0
    assert summary["params"]["merge_gap_s"] == DetectionParams().candidates.merge_gap_s

    # batch: --json on stdout; a result made with other parameters is made again
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / video.name).symlink_to(video)
    batch = ["batch", str(videos), "--out", str(tmp_path / "b"), "--jobs", "1", "--json"]
    assert main([*batch, "--set", "closure_on=0.35"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["videos"]
    assert row["status"] == "ok" and row["summary"]["params"]["closure_on"] == 0.35
    first = row["summary"]["processing"]
    assert main([*batch, "--set", "closure_on=0.35"]) == 0  # same parameters: skipped
    assert json.loads(capsys.readouterr().out)["videos"][0]["summary"]["processing"] == first
    assert main(batch) == 0  # the defaults now: analysed again
    again = json.loads(capsys.readouterr().out)["videos"][0]["summary"]
    assert again["params"]["closure_on"] == DetectionParams().episodes.closure_on
    assert again["processing"] != first


# ------------------------------------------------------------------- closed stdout


def _closed_stdout(*args: str, cwd=None) -> tuple[int, str]:
    """Run ``spasm-cv ARGS`` with its stdout's reader gone (as ``| head -0``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "spasm_cv", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=package_env(), cwd=cwd,
    )  # fmt: skip
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def test_evaluate_into_a_closed_pipe_ends_quietly(sample_result):
    code, err = _closed_stdout("evaluate", "--truth", str(SAMPLE_TRUTH), "--events",
                               str(sample_result))  # fmt: skip
    assert err == "" and code == 141


def test_head_of_evaluate_ends_quietly(sample_result):
    """The shell pipeline of the issue: ``spasm-cv evaluate ... | head -1``."""
    cmd = (f"{sys.executable} -m spasm_cv evaluate --truth {SAMPLE_TRUTH} --events "
           f"{sample_result} | head -1")  # fmt: skip
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                          env=package_env(), timeout=120)  # fmt: skip
    assert proc.stderr == "" and proc.stdout.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),  # argparse output (the other subcommands' --help go the same way)
        ("export", "--help"),
        ("export", "--format", "json", "--out", "{tmp}"),
        ("export", "--format", "csv", "--out", "{tmp}"),
        ("export", "--format", "bids", "--out", "{tmp}/bids"),
        ("report", "--out", "{tmp}/r.html"),
    ],
    ids=lambda a: "_".join(a[:3]).replace("-", ""),
)  # fmt: skip
def test_every_command_ends_quietly_into_a_closed_pipe(args, sample_result, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    if args[0] in ("export", "report") and "--help" not in args:
        args.insert(1, str(sample_result))
    code, err = _closed_stdout(*args, cwd=REPO)
    assert err == "", err
    assert code in (0, 141)
