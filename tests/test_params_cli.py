"""Parameters without Python (``--params FILE.toml``, ``--set``), ``--json``, closed stdout."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from conftest import REPO, SAMPLE_TRUTH, package_env, shared_video

from spasm_cv.cli import main
from spasm_cv.events.params import DetectionParams
from spasm_cv.results.params import build_params, params_from_args, read_params_file

COMMANDS = ("analyze", "batch", "monitor")


def test_params_file_and_settings_build_detection_params(tmp_path):
    f = tmp_path / "strict.toml"
    f.write_text("# stricter\nclosure_on = 0.4\nmerge_gap_s = 1  # an int is fine\n")
    p = params_from_args(f, ["min_unilateral_s=0.2", "closure_on=0.45"])
    assert p == dataclasses.replace(
        DetectionParams(), closure_on=0.45, merge_gap_s=1.0, min_unilateral_s=0.2
    )
    (tmp_path / "table.toml").write_text("[detection]\nclosure_on = 0.4\n")
    assert read_params_file(tmp_path / "table.toml") == {"closure_on": 0.4}
    assert params_from_args(None, []) == DetectionParams()


def test_every_field_is_accepted_by_name():
    """New DetectionParams fields need no change: every field is settable generically."""
    for f in dataclasses.fields(DetectionParams):
        value = getattr(DetectionParams(), f.name)
        assert getattr(build_params({f.name: value}), f.name) == value


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
    args = {"analyze": ["analyze", "nothing.mp4"], "batch": ["batch", str(tmp_path), "--out",
            str(tmp_path / "o")], "monitor": ["monitor", "--headless", "--source", "x.mp4"]}
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
    assert summary["params"]["merge_gap_s"] == DetectionParams().merge_gap_s

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
    assert again["params"]["closure_on"] == DetectionParams().closure_on
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
