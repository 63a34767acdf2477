"""Runs of True in frame masks: hysteresis, run lists, dilation, merging (pure numpy/scipy).

Not to be confused with :mod:`spasm_cv.video.segments` (the tracker's restart grid).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def regions(mask: np.ndarray) -> np.ndarray:
    """Runs of True in a 1-D mask as an (n, 2) int array of [start, stop) frame indices."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return edges.reshape(-1, 2)


def hysteresis(x: np.ndarray, on: float, off: float) -> np.ndarray:
    """Frames in runs of ``x >= off`` that reach ``x >= on`` somewhere (NaN counts as low)."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=-np.inf)
    return seeded_runs(x >= off, x >= on)


def seeded_runs(low: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Runs of True in ``low`` that contain at least one True of ``seed``."""
    labels, n = ndimage.label(low)
    if n == 0:
        return np.asarray(low, dtype=bool)
    hit = np.zeros(n + 1, dtype=bool)
    hit[np.unique(labels[seed & low])] = True
    hit[0] = False
    return hit[labels]


def dilate(mask: np.ndarray, frames: int) -> np.ndarray:
    """Grow True runs by ``frames`` on each side."""
    if frames <= 0:
        return np.asarray(mask, dtype=bool)
    return ndimage.binary_dilation(mask, structure=np.ones(2 * frames + 1, dtype=bool))


def merge_close(runs: np.ndarray, max_gap: int) -> list[list[int]]:
    """Group sorted [start, stop) runs whose gaps are < ``max_gap`` frames; lists of run indices."""
    groups: list[list[int]] = []
    for i, (start, _) in enumerate(runs):
        if groups and start - runs[groups[-1][-1]][1] < max_gap:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
