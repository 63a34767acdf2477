"""The bundled sample: `spasm-cv analyze` with no argument, scored against its truth."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SAMPLE_TRUTH, SAMPLE_VIDEO, package_env

pytestmark = pytest.mark.slow


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "spasm_cv", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600, env=package_env(),
    )


@pytest.fixture(scope="module")
def sample_result(tmp_path_factory):
    assert SAMPLE_VIDEO.is_file() and SAMPLE_TRUTH.is_file()
    cwd = tmp_path_factory.mktemp("sample")
    proc = run(cwd=cwd)  # `spasm-cv` alone: analyse the bundled sample
    assert proc.returncode == 0, proc.stderr
    return cwd / "sample_phantom.spasm-cv", proc


def test_default_analysis_runs_on_the_sample(sample_result):
    out, proc = sample_result
    assert "sample_phantom.mp4" in proc.stdout and "one-sided episodes" in proc.stdout
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["input"]["name"] == "sample_phantom.mp4"
    assert summary["affected_side"] == "right"


def test_sample_episodes_match_their_truth(sample_result, tmp_path):
    out, _ = sample_result
    report = tmp_path / "eval.json"
    proc = run("evaluate", "--truth", SAMPLE_TRUTH, "--events", out, "--json", report,
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    total = json.loads(report.read_text())["total"]
    assert total["n_truth"] == 8
    assert total["f1"] >= 0.9 and total["side_accuracy"] == 1.0
    assert total["false_per_hour"] * total["observed_s"] / 3600 <= 1  # at most one false episode
