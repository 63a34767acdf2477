"""evaluation/reviewed.py: the detector against a reviewer, and two reviewers' agreement."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import package_env
from fsfaults import sim_result_with_episodes

from spasm_cv.evaluation.evaluate import evaluate_files
from spasm_cv.evaluation.reviewed import agreement, cohen_kappa
from spasm_cv.results.files import read_events
from spasm_cv.results.review import (
    REVIEW_FILE,
    Decision,
    append_decisions,
    decision_for,
    reviewable,
)


def test_kappa_of_known_tables():
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None  # chance agreement is certain
    # 20 items: 10 agree yes, 5 agree no, 5 differ (yes/no): p_o 0.75, p_e 0.5 -> 0.5
    a = ["y"] * 10 + ["n"] * 5 + ["y"] * 5
    b = ["y"] * 10 + ["n"] * 5 + ["n"] * 5
    p_e = (15 / 20) * (10 / 20) + (5 / 20) * (10 / 20)
    assert abs(cohen_kappa(a, b) - (0.75 - p_e) / (1 - p_e)) < 1e-12


@pytest.mark.slow  # runs the command line in a new process
def test_the_detector_against_a_reviewer_and_two_reviewers(tmp_path):
    folder = sim_result_with_episodes(tmp_path / "visit.spasm-cv")
    items = reviewable(read_events(folder))
    n = len(items)
    first = [decision_for(k, e, "accepted") for k, e in items[:-1]]
    first += [decision_for(*items[-1], "rejected"),
              Decision("a1", "added", 70.0, 0.4, "left", "twitch")]  # fmt: skip
    append_decisions(folder, first)
    one = tmp_path / "one.tsv"
    (folder / REVIEW_FILE).rename(one)
    second = [decision_for(k, e, "accepted") for k, e in items[:-2]]
    second += [decision_for(*items[-2], "unsure"), decision_for(*items[-1], "rejected")]
    append_decisions(folder, second)
    two = tmp_path / "two.tsv"
    (folder / REVIEW_FILE).rename(two)

    scored = evaluate_files(one, folder).result
    # truth: n-1 accepted + 1 added; predictions: the n decided; hits: the n-1 accepted
    assert (scored.n_truth, scored.n_predicted, scored.tp, scored.fp, scored.fn) == (
        n,
        n,
        n - 1,
        1,
        1,
    )
    r = agreement(one, two, folder)
    assert r.n == n and r.disagreements == [
        (items[-2][0], items[-2][1].onset, items[-2][1].side, "accepted", "unsure")
    ]
    assert r.added_only == [(1, 70.0, "left")]
    a = ["accepted"] * (n - 1) + ["rejected"]
    b = ["accepted"] * (n - 2) + ["unsure", "rejected"]
    assert r.kappa == cohen_kappa(a, b) and 0 < r.kappa < 1
    run = subprocess.run([sys.executable, "-m", "spasm_cv", "evaluate", "--reviews", str(one),
                          str(two), "--events", str(folder)], capture_output=True, text=True,
                         env=package_env())  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"Cohen's kappa {r.kappa:.3f}" in run.stdout and "added only by reviewer 1" in run.stdout
