"""The bundled sample: `spasm-cv` with no video analyses it; its episodes match its truth."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SAMPLE_TRUTH, package_env


def test_default_analysis_runs_on_the_sample(sample_run):
    out = sample_run.analysis.out_dir
    assert out.name == "sample_phantom.spasm-cv"  # the default folder, in the working folder
    assert "sample_phantom.mp4" in sample_run.stdout
    assert "one-sided episodes" in sample_run.stdout
    assert "Traceback" not in sample_run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["input"]["name"] == "sample_phantom.mp4"
    assert summary["affected_side"] == "right"


def test_sample_episodes_match_their_truth(sample_result, tmp_path):
    report = tmp_path / "eval.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spasm_cv", "evaluate", "--truth", str(SAMPLE_TRUTH),
         "--events", str(sample_result), "--json", str(report)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, env=package_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    total = json.loads(report.read_text())["total"]
    assert total["n_truth"] == 8
    assert total["f1"] >= 0.9 and total["side_accuracy"] == 1.0
    assert total["false_per_hour"] * total["observed_s"] / 3600 <= 1  # at most one false episode
