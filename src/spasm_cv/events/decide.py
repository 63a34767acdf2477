"""Is a candidate a one-sided spasm, and how sure is that?

The decision is a rule on features of :mod:`spasm_cv.events.candidates`, with its thresholds
in :class:`~spasm_cv.events.params.DecisionParams`. A candidate is an episode when, at its
most closed one-sided moment, its eye is more closed than the other by at least
``min_excess`` plus ``asymmetry_factor`` times this person's usual difference between the
eyes (person-adaptive: learnt causally from their own face while neither eye closes, so a
noisy small face or a face that moves its eyes unevenly must show a larger difference),
that usual difference counting more while the head turns fast (``head_speed_weight``:
under motion blur the eyes' landmarks lag differently), and its one-sided frames exceed the
other eye by ``min_margin`` (median). In absolute size the other eye must narrow by at most
``candidate_drop_ratio`` as much in the candidate's one-sided frames, and by at most
``max_drop_ratio`` as much over its closed frames (median): smiles and squints narrow both
eyes alike, which is a larger share of a narrower eye. A lid that does not close on its own
and is barely held (``min_close_speed``, ``reopening_min_held_s``) is one eye reopening a
few frames after the other at the end of a blink, not a contraction.

``min_excess``, ``asymmetry_factor``, ``min_margin`` and ``head_speed_weight`` are the values
the person-held-out procedure chooses on everyone (``benchmarks/train_detector.py``); with
each fold's people held out of the choice it chose ``min_excess`` 0.08-0.1,
``asymmetry_factor`` 1.5-2 and ``head_speed_weight`` 0.005-0.01 (``benchmarks/person_heldout.py``,
README); a gradient-boosted model over all the features, fitted the same way, did not beat the rule
on held-out people (``--method boosted``), so the rule decides.

``confidence`` is a probability: a logistic score over the features, mapped through an
isotonic calibration [1]_ fitted on people the score had not been fitted on
(``benchmarks/train_detector.py``; stored as JSON beside this module, evaluated in plain
numpy).

References
----------
.. [1] Zadrozny B, Elkan C. Transforming classifier scores into accurate multiclass
   probability estimates. Proceedings of the 8th ACM SIGKDD International Conference on
   Knowledge Discovery and Data Mining (KDD 2002), 694-699.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Protocol

import numpy as np

from spasm_cv.events.candidates import FEATURES
from spasm_cv.events.params import DecisionParams

DEFAULT_MODEL = "confidence-3.json"


class Decider(Protocol):
    """What decides candidates: ``decide(x, params)`` for a (n, len(FEATURES)) array and the
    decision's parameters gives (accepted, confidence), both (n,). ``provenance()`` is what
    summary.json records."""

    name: str

    def decide(self, x: np.ndarray, params: DecisionParams) -> tuple[np.ndarray, np.ndarray]: ...

    def provenance(self) -> dict: ...


def accept(x: np.ndarray, params: DecisionParams) -> np.ndarray:
    """The decision rule over candidates' features (see the module docstring)."""
    x = np.atleast_2d(x)
    col = {f: x[:, i] for i, f in enumerate(FEATURES)}
    excess = col["peak_closure"] - col["other_closure"]
    usual = col["usual_asymmetry"] * (1.0 + params.head_speed_weight * col["head_speed_deg_s"])
    needed = params.min_excess + params.asymmetry_factor * usual
    only_reopens = (col["close_speed"] < params.min_close_speed) & (
        col["held_s"] < params.reopening_min_held_s
    )
    return (
        (excess >= needed)
        & (col["margin"] >= params.min_margin)
        & (col["typical_drop_ratio"] <= params.max_drop_ratio)
        & ~only_reopens
    )


def unsure(x: np.ndarray, params: DecisionParams) -> np.ndarray:
    """Candidates the detector cannot be sure of, whatever decided them: an accepted one of
    these is a ``possible_spasm`` (listed, not counted unless asked).

    Unsure where the other eye moved too (its closure's SD over the candidate at least
    ``max_other_sd``: in a one-sided contraction the other eye stays still, while speech, an
    expression, a turning head or jittering landmarks move both lids) or this eye is barely
    open (``baseline_iod`` under ``min_open_iod``: its closure is mostly noise).

    Examples
    --------
    >>> import numpy as np
    >>> from spasm_cv.events.candidates import FEATURES
    >>> x = np.zeros((2, len(FEATURES)))
    >>> x[:, FEATURES.index("baseline_iod")] = 0.1
    >>> x[1, FEATURES.index("other_sd")] = 0.2   # the other eye moved
    >>> unsure(x, DecisionParams()).tolist()
    [False, True]
    """
    x = np.atleast_2d(x)
    other_sd = x[:, FEATURES.index("other_sd")]
    open_iod = x[:, FEATURES.index("baseline_iod")]
    return (other_sd >= params.max_other_sd) | (open_iod < params.min_open_iod)


@dataclass(frozen=True)
class EpisodeRule:
    """The rule, with a calibrated logistic confidence.

    ``mean``/``scale`` standardise the features, ``weights``/``intercept`` make the logistic
    score, ``calibration_x``/``calibration_y`` map the score to a probability (isotonic,
    piecewise linear between the knots). ``description`` says what it was fitted on.
    """

    name: str
    description: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    calibration_x: np.ndarray
    calibration_y: np.ndarray

    def score(self, x: np.ndarray) -> np.ndarray:
        """The logistic score (log-odds before calibration) of each candidate."""
        z = (np.atleast_2d(np.asarray(x, dtype=np.float64)) - self.mean) / self.scale
        # row by row, in a fixed order: a matrix product's rounding depends on how many rows
        # come together, and the streaming detector scores other batches than the offline one
        return (z * self.weights).sum(axis=1) + self.intercept

    def confidence(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability that each candidate is a real one-sided contraction."""
        s = self.score(x)
        if self.calibration_x.size:
            return np.interp(s, self.calibration_x, self.calibration_y)
        return 1.0 / (1.0 + np.exp(-s))

    def decide(self, x: np.ndarray, params: DecisionParams) -> tuple[np.ndarray, np.ndarray]:
        return accept(x, params), self.confidence(x)

    def provenance(self) -> dict:
        """What summary.json records: the rule's name and what its confidence was fitted on."""
        return {"name": self.name, "description": self.description}

    @classmethod
    def from_dict(cls, doc: dict) -> EpisodeRule:
        features = tuple(doc["features"])
        if features != FEATURES:
            raise ValueError(
                f"confidence model {doc.get('name')!r} was fitted on other features than this "
                "version computes; refit it (benchmarks/train_detector.py)"
            )
        cal = doc.get("calibration") or {"x": [], "y": []}
        return cls(
            name=doc["name"],
            description=doc.get("description", ""),
            features=features,
            mean=np.asarray(doc["mean"], dtype=np.float64),
            scale=np.asarray(doc["scale"], dtype=np.float64),
            weights=np.asarray(doc["weights"], dtype=np.float64),
            intercept=float(doc["intercept"]),
            calibration_x=np.asarray(cal["x"], dtype=np.float64),
            calibration_y=np.asarray(cal["y"], dtype=np.float64),
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "intercept": self.intercept,
            "calibration": {"x": self.calibration_x.tolist(), "y": self.calibration_y.tolist()},
        }


@lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL) -> EpisodeRule:
    """The packaged rule with its confidence model ``name`` (cached)."""
    text = resources.files("spasm_cv.events").joinpath("models", name).read_text("utf-8")
    return EpisodeRule.from_dict(json.loads(text))
