"""Fitting the episode model (shared by ``train_detector.py`` and ``person_heldout.py``).

Needs scikit-learn (``pip install ".[train]"``); the package itself only evaluates the
exported trees (:mod:`spasm_cv.events.decide`).

- :func:`candidate_table`: every candidate of a recording, its features and whether it is
  one of the truth episodes (same side, overlapping within the evaluation's tolerance).
- :func:`fit_model`: gradient-boosted shallow trees with monotone constraints where the sign
  is known (more closure of this eye, less of the other: more likely), calibrated on people
  left out of the trees' fit (isotonic, person-wise cross-fitting), and a threshold chosen on
  those same left-out predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spasm_cv.evaluation.match import Episodes, match_episodes
from spasm_cv.evaluation.persons import assign_folds
from spasm_cv.events.activity import compute_activity
from spasm_cv.events.candidates import FEATURES, candidate_features, find_candidates
from spasm_cv.events.decide import EpisodeModel, Tree
from spasm_cv.events.detect import nominal_fps
from spasm_cv.events.episodes import bilateral_mask
from spasm_cv.events.params import DetectionParams

# +1: the probability may only rise with the feature; -1: only fall; 0: free.
MONOTONE = {
    "peak_closure": 1,
    "other_closure": -1,
    "margin": 1,
    "peak_drop": 1,
    "other_drop_ratio": -1,
    "asymmetry_z": 1,
    "head_motion_deg": -1,
    "head_speed_deg_s": -1,
    "one_sided_share": 1,
    "cheeks_up": -1,
    "brows_down": -1,
    "smile": -1,
    "mouth_pull": 1,
}

HYPER = dict(max_depth=3, learning_rate=0.05, max_iter=200, l2_regularization=1.0,
             min_samples_leaf=10)
TOLERANCE_S = 0.25


@dataclass
class CandidateTable:
    """Candidates of one recording: features (n, len(FEATURES)), labels, sides and times."""

    x: np.ndarray
    y: np.ndarray
    side: np.ndarray
    onset: np.ndarray
    offset: np.ndarray


def candidate_table(signals, truth: Episodes, params: DetectionParams | None = None
                    ) -> CandidateTable:
    params = params or DetectionParams()
    fps = nominal_fps(signals)
    activity = compute_activity(signals.time, signals.columns, fps, params)
    cands = find_candidates(activity, bilateral_mask(activity, params), fps, params)
    n = len(cands)
    x = (np.stack([candidate_features(activity, c, fps, params) for c in cands]) if n
         else np.zeros((0, len(FEATURES))))
    t = activity.time
    onset = np.array([t[c.start] for c in cands], dtype=float)
    offset = np.array([t[c.stop - 1] + 1.0 / fps for c in cands], dtype=float)
    side = np.array([c.side for c in cands], dtype=object)
    y = np.zeros(n, dtype=bool)
    if n and len(truth):
        m = match_episodes(truth, Episodes(onset, offset - onset, side), TOLERANCE_S)
        y[m.pred_index] = True
    return CandidateTable(x, y, side, onset, offset)


def _hgb(seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    cst = [MONOTONE.get(f, 0) for f in FEATURES]
    return HistGradientBoostingClassifier(monotonic_cst=cst, random_state=seed, **HYPER)


def export_trees(clf) -> tuple[float, tuple[Tree, ...]]:
    """The fitted HistGradientBoostingClassifier as (baseline raw score, trees)."""
    trees = []
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(Tree(
            feature=nodes["feature_idx"].astype(np.int64),
            threshold=nodes["num_threshold"].astype(np.float64),
            left=np.where(leaf, -1, nodes["left"].astype(np.int64)),
            right=np.where(leaf, -1, nodes["right"].astype(np.int64)),
            value=nodes["value"].astype(np.float64),
        ))
    return float(np.ravel(clf._baseline_prediction)[0]), tuple(trees)


def _raw_model(x, y, seed: int = 0) -> EpisodeModel:
    clf = _hgb(seed).fit(x, y)
    baseline, trees = export_trees(clf)
    model = EpisodeModel("uncalibrated", "", FEATURES, baseline, trees, np.zeros(0),
                         np.zeros(0), 0.5)
    check = clf.decision_function(x[:50])
    if not np.allclose(model.raw_score(x[:50]), check, atol=1e-6):
        raise RuntimeError("exported trees do not reproduce scikit-learn's scores")
    return model


def out_of_person_scores(x, y, groups, n_folds: int = 4, seed: int = 0) -> np.ndarray:
    """Raw scores of every row from trees fitted without that row's person."""
    folds = assign_folds(list(groups), min(n_folds, len(set(groups))), seed)
    fold = np.array([folds[g] for g in groups])
    scores = np.zeros(len(y))
    for k in np.unique(fold):
        tr, te = fold != k, fold == k
        scores[te] = _raw_model(x[tr], y[tr], seed).raw_score(x[te])
    return scores


def isotonic_map(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
    return np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)


def choose_threshold(prob: np.ndarray, tables: Sequence[tuple[CandidateTable, int]],
                     hours: float, max_false_per_hour: float = 2.0) -> float:
    """The lowest probability threshold (so the highest recall) whose false candidates per
    hour stay within ``max_false_per_hour``; ``tables`` pairs each table with its offset into
    ``prob``; truth episodes are counted by the positive labels."""
    y = np.concatenate([t.y for t, _ in tables])
    best = 0.95
    for thr in np.arange(0.95, 0.2, -0.05):
        false = np.count_nonzero((prob >= thr) & ~y)
        if false / max(hours, 1e-9) <= max_false_per_hour:
            best = float(thr)
    return round(best, 2)


def fit_model(tables: Sequence[CandidateTable], groups: Sequence[str], hours: float,
              name: str, description: str, seed: int = 0) -> EpisodeModel:
    """Trees on every table, calibrated and thresholded on out-of-person predictions.

    ``groups``: the person of each table; ``hours``: the observed hours of the tables'
    recordings (for the false-episode budget of the threshold).
    """
    x = np.concatenate([t.x for t in tables])
    y = np.concatenate([t.y for t in tables])
    g = np.concatenate([[p] * len(t.y) for t, p in zip(tables, groups, strict=True)])
    oof = out_of_person_scores(x, y, g, seed=seed)
    cal_x, cal_y = isotonic_map(oof, y)
    prob = np.interp(oof, cal_x, cal_y)
    offsets = np.cumsum([0] + [len(t.y) for t in tables])[:-1]
    threshold = choose_threshold(prob, list(zip(tables, offsets, strict=True)), hours)
    raw = _raw_model(x, y, seed)
    return EpisodeModel(name, description, FEATURES, raw.baseline, raw.trees, cal_x, cal_y,
                        threshold)
