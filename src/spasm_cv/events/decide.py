"""Is a candidate a one-sided spasm? A small learnt model over its features.

The model is a gradient-boosted ensemble of shallow decision trees over the features of
:mod:`spasm_cv.events.candidates`, fitted by ``benchmarks/train_detector.py`` on phantom
episodes and normal faces of the development people, and stored as plain JSON
(``models/episodes-*.json`` beside this module). Here it is only evaluated, in numpy: the
package needs no machine-learning library at run time. Its raw score goes through a
monotone calibration map fitted on people the trees had not seen, so ``probability`` reads
as the chance that such a candidate is a real one-sided episode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from spasm_cv.events.candidates import FEATURES

DEFAULT_MODEL = "episodes-1.json"


@dataclass(frozen=True)
class Tree:
    """One regression tree as flat arrays (node 0 is the root; leaves have ``left == -1``)."""

    feature: np.ndarray  # int, feature index tested at each node
    threshold: np.ndarray  # go left when x <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # leaf contribution to the raw score

    def predict(self, x: np.ndarray) -> np.ndarray:
        node = np.zeros(len(x), dtype=np.int64)
        rows = np.arange(len(x))
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                return self.value[node]
            f = self.feature[node[inner]]
            go_left = x[rows[inner], f] <= self.threshold[node[inner]]
            node[inner] = np.where(go_left, self.left[node[inner]], self.right[node[inner]])


@dataclass(frozen=True)
class EpisodeModel:
    """A boosted tree ensemble with its calibration map.

    ``probability(x)`` for a (n, len(FEATURES)) array gives calibrated probabilities (n,);
    ``threshold`` is the probability from which a candidate is reported; ``name`` and
    ``description`` say what it is and what it was trained on (summary.json records them).
    """

    name: str
    description: str
    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    threshold: float

    def raw_score(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        score = np.full(len(x), self.baseline)
        for tree in self.trees:
            score += tree.predict(x)
        return score

    def probability(self, x: np.ndarray) -> np.ndarray:
        s = self.raw_score(x)
        if self.calibration_x.size:
            return np.interp(s, self.calibration_x, self.calibration_y)
        return 1.0 / (1.0 + np.exp(-s))

    @classmethod
    def from_dict(cls, doc: dict) -> EpisodeModel:
        features = tuple(doc["features"])
        if features != FEATURES:
            raise ValueError(
                f"model {doc.get('name')!r} was trained on other features than this version "
                "computes; retrain it (benchmarks/train_detector.py)"
            )
        trees = tuple(
            Tree(
                np.asarray(t["feature"], dtype=np.int64),
                np.asarray(t["threshold"], dtype=np.float64),
                np.asarray(t["left"], dtype=np.int64),
                np.asarray(t["right"], dtype=np.int64),
                np.asarray(t["value"], dtype=np.float64),
            )
            for t in doc["trees"]
        )
        cal = doc.get("calibration") or {"x": [], "y": []}
        return cls(
            name=doc["name"],
            description=doc.get("description", ""),
            features=features,
            baseline=float(doc["baseline"]),
            trees=trees,
            calibration_x=np.asarray(cal["x"], dtype=np.float64),
            calibration_y=np.asarray(cal["y"], dtype=np.float64),
            threshold=float(doc["threshold"]),
        )

    def provenance(self) -> dict:
        """What summary.json records of the model: name, threshold, what it was fitted on."""
        return {"name": self.name, "threshold": self.threshold,
                "description": self.description}

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "features": list(self.features),
            "baseline": self.baseline,
            "threshold": self.threshold,
            "calibration": {"x": self.calibration_x.tolist(), "y": self.calibration_y.tolist()},
            "trees": [
                {
                    "feature": t.feature.tolist(),
                    "threshold": t.threshold.tolist(),
                    "left": t.left.tolist(),
                    "right": t.right.tolist(),
                    "value": t.value.tolist(),
                }
                for t in self.trees
            ],
        }


@lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL) -> EpisodeModel:
    """The packaged model ``name`` (cached)."""
    text = resources.files("spasm_cv.events").joinpath("models", name).read_text("utf-8")
    return EpisodeModel.from_dict(json.loads(text))
