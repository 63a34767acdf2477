"""Score predicted spasm episodes against known truth: matching (no I/O).

Everything here works on arrays and small dataclasses; times are in seconds. Reading the
files lives in :mod:`spasm_cv.evaluation.tables`.

Matching
--------
A predicted episode ``[p_on, p_off]`` may match a truth episode ``[t_on, t_off]`` when the two
closed intervals overlap after widening the truth episode by ``tolerance_s`` on each side::

    p_on <= t_off + tolerance_s  and  p_off >= t_on - tolerance_s

For hits the sides must be equal as well. Among the pairs allowed, a one-to-one assignment
(``scipy.optimize.linear_sum_assignment``) first maximises the number of pairs, then the total
overlap in seconds (widened truth against prediction). Each truth episode matches at most one
prediction and vice versa. An unmatched prediction that could have matched a truth episode
(already taken by another prediction) is a *split*; an unmatched truth episode that could have
matched a prediction (already taken) is a *merge*.

Metrics: :mod:`spasm_cv.evaluation.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

RegionScope = Literal["eye", "any"]
# sides an episode may have: the patient's (events.table.SIDES) or both; in message order
EPISODE_SIDES = ("left", "right", "both")


@dataclass(frozen=True)
class EvaluationParams:
    """Parameters of the evaluation.

    Parameters
    ----------
    tolerance_s : float
        Seconds by which each truth episode is widened on both sides before testing overlap.
    regions : {"eye", "any"}
        Which predicted ``spasm`` rows count as episodes: ``"eye"`` those whose ``regions``
        include ``eye`` (mouth-only rows are not episodes), ``"any"`` every spasm row.
    """

    tolerance_s: float = 0.25
    regions: RegionScope = "eye"

    def __post_init__(self) -> None:
        if not np.isfinite(self.tolerance_s) or self.tolerance_s < 0:
            raise ValueError(f"tolerance_s must be a finite number >= 0, got {self.tolerance_s}")
        if self.regions not in ("eye", "any"):
            raise ValueError(f"regions must be 'eye' or 'any', got {self.regions!r}")


@dataclass(frozen=True)
class Episodes:
    """A set of episodes (truth or predicted) as parallel arrays.

    Parameters
    ----------
    onset : array of float, shape (n,)
        Start, seconds.
    duration : array of float, shape (n,)
        Length, seconds (>= 0).
    side : array of str, shape (n,)
        ``left``, ``right`` or ``both`` (the patient's anatomical side).
    kind : array of str, shape (n,), optional
        Episode kind (e.g. from the phantom generator); ``"n/a"`` when unknown.
    clear : array of bool, shape (n,), optional
        Truth only: True where the episode is clearly visible; default all True.
    """

    onset: np.ndarray
    duration: np.ndarray
    side: np.ndarray
    kind: np.ndarray | None = None
    clear: np.ndarray | None = None

    def __post_init__(self) -> None:
        onset = np.asarray(self.onset, dtype=float).reshape(-1)
        n = onset.size
        duration = np.asarray(self.duration, dtype=float).reshape(-1)
        side = np.asarray(self.side, dtype=object).reshape(-1)
        kind = np.full(n, "n/a", dtype=object) if self.kind is None else self.kind
        kind = np.asarray(kind, dtype=object).reshape(-1)
        clear = np.ones(n, dtype=bool) if self.clear is None else self.clear
        clear = np.asarray(clear, dtype=bool).reshape(-1)
        for name, arr in (("duration", duration), ("side", side), ("kind", kind), ("clear", clear)):
            if arr.size != n:
                raise ValueError(f"{name} has {arr.size} values, onset has {n}")
        if not (np.all(np.isfinite(onset)) and np.all(np.isfinite(duration))):
            raise ValueError("onset and duration must be finite")
        if np.any(duration < 0):
            raise ValueError("duration must be >= 0")
        bad = sorted({str(s) for s in side} - set(EPISODE_SIDES))
        if bad:
            raise ValueError(
                f"side must be one of {', '.join(EPISODE_SIDES)}, got {', '.join(bad)}"
            )
        for name, arr in (
            ("onset", onset),
            ("duration", duration),
            ("side", side),
            ("kind", kind),
            ("clear", clear),
        ):
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.onset.size)

    @property
    def offset(self) -> np.ndarray:
        """End of each episode, seconds."""
        return self.onset + self.duration

    @classmethod
    def empty(cls) -> Episodes:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))

    def subset(self, mask: np.ndarray) -> Episodes:
        """The episodes where ``mask`` (bool or index array) selects."""
        return Episodes(
            self.onset[mask],
            self.duration[mask],
            self.side[mask],
            self.kind[mask],
            self.clear[mask],
        )


@dataclass(frozen=True)
class Matching:
    """A one-to-one matching of truth to predicted episodes.

    ``truth_index[k]`` is matched to ``pred_index[k]``; ``eligible`` (n_truth, n_pred) tells
    which pairs were allowed to match.
    """

    truth_index: np.ndarray
    pred_index: np.ndarray
    eligible: np.ndarray

    def __len__(self) -> int:
        return int(self.truth_index.size)

    @property
    def splits(self) -> int:
        """Unmatched predictions that could have matched an (already matched) truth episode."""
        free = np.ones(self.eligible.shape[1], dtype=bool)
        free[self.pred_index] = False
        return int(np.sum(free & self.eligible.any(axis=0)))

    @property
    def merges(self) -> int:
        """Unmatched truth episodes that could have matched an (already matched) prediction."""
        free = np.ones(self.eligible.shape[0], dtype=bool)
        free[self.truth_index] = False
        return int(np.sum(free & self.eligible.any(axis=1)))


def spasm_mask(
    trial_type: Sequence[str], regions: Sequence[str], scope: RegionScope = "eye"
) -> np.ndarray:
    """Which rows of an events table are predicted episodes.

    Parameters
    ----------
    trial_type, regions : sequences of str
        Columns of ``events.tsv``; ``regions`` is ``eye``, ``mouth``, ``eye+mouth`` or
        ``n/a``.
    scope : {"eye", "any"}
        ``"eye"``: spasm rows whose regions include ``eye`` or are unknown (``n/a``);
        ``"any"``: every spasm row.

    Returns
    -------
    mask : array of bool
    """
    is_spasm = np.array([str(t).strip().lower() == "spasm" for t in trial_type], dtype=bool)
    if scope == "any":
        return is_spasm
    has_eye = np.array(
        [
            r in ("n/a", "") or "eye" in r.split("+")
            for r in (str(x).strip().lower() for x in regions)
        ],
        dtype=bool,
    )
    return is_spasm & has_eye.reshape(is_spasm.shape)


def eligible_pairs(
    truth: Episodes, predicted: Episodes, tolerance_s: float, use_side: bool = True
) -> np.ndarray:
    """Boolean matrix (n_truth, n_pred): pairs close enough in time (and same side) to match."""
    t_on = truth.onset[:, None] - tolerance_s
    t_off = truth.offset[:, None] + tolerance_s
    ok = (predicted.onset[None, :] <= t_off) & (predicted.offset[None, :] >= t_on)
    if use_side:
        ok &= truth.side[:, None] == predicted.side[None, :]
    return ok


def overlap_s(truth: Episodes, predicted: Episodes, tolerance_s: float) -> np.ndarray:
    """Overlap in seconds (n_truth, n_pred) of each widened truth episode and prediction."""
    lo = np.maximum(truth.onset[:, None] - tolerance_s, predicted.onset[None, :])
    hi = np.minimum(truth.offset[:, None] + tolerance_s, predicted.offset[None, :])
    return np.clip(hi - lo, 0.0, None)


def _assign(
    eligible: np.ndarray, overlap: np.ndarray, prefer: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-cardinality assignment on ``eligible``; ties broken first by the number of
    ``prefer`` pairs (same side, when matching ignores side), then by the largest overlap."""
    n = min(eligible.shape)
    if prefer is None:
        prefer = np.zeros(eligible.shape)
    scale = max(float(overlap[eligible].max()), 1e-12) * (n + 1)
    # A pair is worth 1 plus a bonus; all bonuses together stay below 1, so one more pair
    # always wins, and one more preferred pair beats any overlap gain.
    bonus = (prefer.astype(float) + overlap / scale) / (2.0 * (n + 1))
    weight = np.where(eligible, 1.0 + bonus, 0.0)
    from scipy.optimize import linear_sum_assignment  # imported on use: 0.6 s

    rows, cols = linear_sum_assignment(weight, maximize=True)
    keep = eligible[rows, cols]
    return rows[keep], cols[keep]


def match_episodes(
    truth: Episodes, predicted: Episodes, tolerance_s: float = 0.25, use_side: bool = True
) -> Matching:
    """Match predicted to truth episodes one-to-one by time overlap.

    Parameters
    ----------
    truth, predicted : Episodes
    tolerance_s : float
        Widening of each truth episode on both sides, seconds.
    use_side : bool
        If True a pair must also have the same side.

    Returns
    -------
    Matching
        Maximum number of pairs, ties broken by the largest total overlap (see module notes).
    """
    eligible = eligible_pairs(truth, predicted, tolerance_s, use_side)
    t_idx: list[np.ndarray] = []
    p_idx: list[np.ndarray] = []
    if eligible.any():
        overlap = overlap_s(truth, predicted, tolerance_s)
        # Solve each connected group of pairs on its own (sparse in time, small problems).
        for rows, cols in _components(eligible):
            same = truth.side[rows][:, None] == predicted.side[cols][None, :]
            r, c = _assign(
                eligible[np.ix_(rows, cols)],
                overlap[np.ix_(rows, cols)],
                None if use_side else same,
            )
            t_idx.append(rows[r])
            p_idx.append(cols[c])
    ti = np.concatenate(t_idx) if t_idx else np.zeros(0, dtype=int)
    pi = np.concatenate(p_idx) if p_idx else np.zeros(0, dtype=int)
    order = np.argsort(ti, kind="stable")
    return Matching(ti[order].astype(int), pi[order].astype(int), eligible)


def _components(eligible: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components (truth rows, prediction columns) of the bipartite graph."""
    n_t, n_p = eligible.shape
    parent = np.arange(n_t + n_p)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for t, p in zip(*np.nonzero(eligible), strict=True):
        a, b = find(int(t)), find(n_t + int(p))
        if a != b:
            parent[b] = a
    roots = np.array([find(i) for i in range(n_t + n_p)])
    out = []
    for root in np.unique(roots):
        members = np.nonzero(roots == root)[0]
        rows, cols = members[members < n_t], members[members >= n_t] - n_t
        if rows.size and cols.size:
            out.append((rows, cols))
    return out
