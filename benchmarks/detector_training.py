"""Fitting what the detector learns (shared by ``train_detector.py`` and
``person_heldout.py``). Needs scikit-learn (``pip install ".[train]"``); the package only
evaluates what is fitted here, in numpy (:mod:`spasm_cv.events.decide`).

- :func:`candidate_table`: every candidate of a recording, its features and whether it is
  one of the truth episodes (same side, overlapping within the evaluation's tolerance).
- :func:`fit_confidence`: the episode rule's confidence: a logistic score over the features,
  calibrated (isotonic) on people the score was not fitted on (person-wise cross-fitting),
  over the candidates the rule accepts.
- :class:`BoostedDecider`: the learned alternative the rule was compared with (gradient-boosted
  shallow trees, monotone where the sign is known, threshold with the best F1 on left-out
  people); ``person_heldout.py --method boosted`` scores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spasm_cv.evaluation.match import Episodes, match_episodes
from spasm_cv.evaluation.persons import assign_folds
from spasm_cv.events.activity import compute_activity
from spasm_cv.events.candidates import FEATURES, candidate_features, find_candidates
from spasm_cv.events.decide import EpisodeRule, accept, unsure
from spasm_cv.events.detect import nominal_fps
from spasm_cv.events.episodes import bilateral_mask
from spasm_cv.events.params import DecisionParams, DetectionParams

TOLERANCE_S = 0.25
# +1: the probability may only rise with the feature; -1: only fall; 0: free.
MONOTONE = {
    "peak_closure": 1,
    "other_closure": -1,
    "margin": 1,
    "peak_drop": 1,
    "other_drop_ratio": -1,
    "asymmetry_z": 1,
    "one_sided_share": 1,
    "head_motion_deg": -1,
    "head_speed_deg_s": -1,
    "smile": -1,
    "mouth_pull": 1,
    "cheeks_up": -1,
    "brows_down": -1,
}
HYPER = dict(
    max_depth=3, learning_rate=0.05, max_iter=200, l2_regularization=1.0, min_samples_leaf=10
)
NEGATIVE_WEIGHT = 3.0  # a false episode costs more than a missed one


@dataclass
class CandidateTable:
    """Candidates of one recording: features (n, len(FEATURES)), labels, sides and times."""

    x: np.ndarray
    y: np.ndarray
    side: np.ndarray
    onset: np.ndarray
    offset: np.ndarray


def candidate_table(
    signals, truth: Episodes, params: DetectionParams | None = None
) -> CandidateTable:
    params = params or DetectionParams()
    fps = nominal_fps(signals)
    activity = compute_activity(signals.time, signals.columns, fps, params)
    cands = find_candidates(
        activity, bilateral_mask(activity, params.episodes), fps, params.candidates
    )
    n = len(cands)
    x = (
        np.stack([candidate_features(activity, c, fps, params) for c in cands])
        if n
        else np.zeros((0, len(FEATURES)))
    )
    t = activity.time
    onset = np.array([t[c.start] for c in cands], dtype=float)
    offset = np.array([t[c.stop - 1] + 1.0 / fps for c in cands], dtype=float)
    side = np.array([c.side for c in cands], dtype=object)
    y = np.zeros(n, dtype=bool)
    if n and len(truth):
        m = match_episodes(truth, Episodes(onset, offset - onset, side), TOLERANCE_S)
        y[m.pred_index] = True
    return CandidateTable(x, y, side, onset, offset)


def _stack(tables: Sequence[CandidateTable], groups: Sequence[str]):
    x = np.concatenate([t.x for t in tables])
    y = np.concatenate([t.y for t in tables])
    g = np.concatenate([[p] * len(t.y) for t, p in zip(tables, groups, strict=True)])
    return x, y, g


def _folds(groups: np.ndarray, n_folds: int = 4, seed: int = 0) -> np.ndarray:
    folds = assign_folds(list(groups), min(n_folds, len(set(groups))), seed)
    return np.array([folds[p] for p in groups])


def _isotonic(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
    return np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)


def _logistic(x: np.ndarray, y: np.ndarray, name: str = "", description: str = "") -> EpisodeRule:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    clf = LogisticRegression(C=0.5, max_iter=5000).fit((x - mean) / scale, y)
    return EpisodeRule(
        name,
        description,
        FEATURES,
        mean,
        scale,
        clf.coef_[0].astype(float),
        float(clf.intercept_[0]),
        np.zeros(0),
        np.zeros(0),
    )


def fit_confidence(
    tables: Sequence[CandidateTable],
    groups: Sequence[str],
    name: str,
    description: str,
    params: DetectionParams | None = None,
) -> EpisodeRule:
    """The rule's confidence model, fitted on every candidate of ``tables`` (``groups``: the
    person of each table) and calibrated on left-out people's accepted candidates."""
    params = params or DetectionParams()
    x, y, g = _stack(tables, groups)
    fold = _folds(g)
    scores = np.zeros(len(y))
    for k in np.unique(fold):
        tr, te = fold != k, fold == k
        scores[te] = _logistic(x[tr], y[tr]).score(x[te])
    taken = accept(x, params.decide)
    cal_x, cal_y = _isotonic(scores[taken], y[taken])
    fitted = _logistic(x, y, name, description)
    return EpisodeRule(
        name,
        description,
        FEATURES,
        fitted.mean,
        fitted.scale,
        fitted.weights,
        fitted.intercept,
        cal_x,
        cal_y,
    )


@dataclass
class BoostedDecider:
    """Gradient-boosted trees deciding on their own (the alternative to the rule)."""

    name: str
    clf: object
    threshold: float

    def decide(self, x: np.ndarray, params: DecisionParams):
        p = self.clf.predict_proba(np.atleast_2d(x))[:, 1]
        return p >= self.threshold, p

    def provenance(self) -> dict:
        return {"name": self.name}


def _boosted(x, y, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    cst = [MONOTONE.get(f, 0) for f in FEATURES]
    clf = HistGradientBoostingClassifier(monotonic_cst=cst, random_state=seed, **HYPER)
    return clf.fit(x, y, sample_weight=np.where(y, 1.0, NEGATIVE_WEIGHT))


def fit_boosted(
    tables: Sequence[CandidateTable], groups: Sequence[str], name: str
) -> BoostedDecider:
    """Trees on every table, with the threshold of best F1 on left-out people's
    predictions."""
    x, y, g = _stack(tables, groups)
    fold = _folds(g)
    prob = np.zeros(len(y))
    for k in np.unique(fold):
        tr, te = fold != k, fold == k
        prob[te] = _boosted(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    best, best_f1 = 0.5, -1.0
    for thr in np.arange(0.99, 0.2, -0.01):
        tp = np.count_nonzero((prob >= thr) & y)
        fp = np.count_nonzero((prob >= thr) & ~y)
        f1 = 2 * tp / max(tp + fp + np.count_nonzero(y), 1)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(thr), f1
    return BoostedDecider(name, _boosted(x, y), round(best, 2))


# The rule's thresholds searched when they are chosen on training people only.
# head_speed_weight is positive: measured without labels on the normal faces, the eyes'
# difference in frames where neither closes is 1.1-1.35x as large while the head turns at
# 10-90 deg/s as when it is still (head_speed_noise.py); how much more to ask for is chosen
# like the rest.
RULE_GRID = {
    "min_excess": (0.0, 0.05, 0.08, 0.10, 0.12, 0.15),
    "asymmetry_factor": (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0),
    "min_margin": (0.10, 0.15),
    "head_speed_weight": (0.0025, 0.005, 0.01, 0.02),
}
MAX_FALSE_PER_HOUR = 2.0


def choose_rule(
    tables: Sequence[CandidateTable],
    groups: Sequence[str],
    scored: Sequence[bool],
    hours: float,
    params: DetectionParams | None = None,
) -> DetectionParams:
    """The rule's thresholds with the best F1 over the candidates of ``tables`` among those
    keeping false candidates within ``MAX_FALSE_PER_HOUR`` of ``hours`` (else the fewest
    false ones). What counts is what the rule accepts and is sure of (a possible episode,
    :func:`~spasm_cv.events.decide.unsure`, is not counted). ``scored``: which tables count
    (training phantoms only add candidates to fit on, they are not scored, as in the
    evaluation); ties go to the stricter setting."""
    from itertools import product

    params = params or DetectionParams()
    x, y, _ = _stack(tables, groups)
    keep = np.concatenate([np.full(len(t.y), bool(s)) for t, s in zip(tables, scored, strict=True)])
    n_pos = int(np.count_nonzero(y & keep))
    keep = keep & ~unsure(x, params.decide)  # the possible tier does not depend on the grid
    best, best_key = params, None
    names = list(RULE_GRID)
    for values in product(*(RULE_GRID[n] for n in names)):
        p = params.with_values(**dict(zip(names, values, strict=True)))
        a = accept(x, p.decide) & keep
        tp, fp = int(np.count_nonzero(a & y)), int(np.count_nonzero(a & ~y))
        within = fp / max(hours, 1e-9) <= MAX_FALSE_PER_HOUR
        f1 = 2 * tp / max(tp + fp + n_pos, 1)
        key = (within, f1 if within else -fp, values)
        if best_key is None or key > best_key:
            best, best_key = p, key
    return best
