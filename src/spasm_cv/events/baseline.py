"""Causal rolling baselines (pure numpy/scipy).

A baseline at frame i uses only frames <= i. ``CausalQuantile`` keeps just enough history to
continue a series chunk by chunk, and the offline function is that class fed once, so a
streaming detector computes exactly what the offline detector computes. Missing samples
(NaN) are skipped: the window is the last ``window`` *measured* samples.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _rank(n: int, quantile: float) -> int:
    return int(np.floor(quantile * (n - 1)))


def _window_quantiles(v: np.ndarray, start: int, window: int, quantile: float) -> np.ndarray:
    """Quantile of ``v[max(0, i - window + 1) : i + 1]`` for each i in ``start..len(v)-1``."""
    out = np.empty(len(v) - start)
    i = start
    while i < min(window - 1, len(v)):  # growing window at the very start of the series
        k = _rank(i + 1, quantile)
        out[i - start] = np.partition(v[: i + 1], k)[k]
        i += 1
    if 0 < len(v) - i <= 4:  # a few new samples (streaming): selection beats a filter pass
        k = _rank(window, quantile)
        for j in range(i, len(v)):
            out[j - start] = np.partition(v[j - window + 1 : j + 1], k)[k]
    elif i < len(v):
        seg = v[i - window + 1 :]
        full = ndimage.rank_filter(
            seg,
            rank=_rank(window, quantile),
            size=window,
            mode="nearest",
            origin=(window - 1) // 2,  # shift scipy's centred window to end at each sample
        )
        out[i - start :] = full[window - 1 :]
    return out


class CausalQuantile:
    """Rolling lower-quantile of the last ``window`` finite samples, fed in chunks.

    Before the first finite sample the result is NaN; over the first ``window`` samples the
    window grows from one sample. The quantile is the order statistic of rank
    ``floor(quantile * (n - 1))`` of the n samples in the window. Frames with NaN take the
    value of the last finite sample before them.
    """

    def __init__(self, window: int, quantile: float):
        self.window = max(int(window), 1)
        self.quantile = quantile
        self._history = np.zeros(0)  # the last window - 1 finite samples
        self._last = np.nan

    def update(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        valid = np.flatnonzero(np.isfinite(x))
        combined = np.concatenate([self._history, x[valid]])
        q = _window_quantiles(combined, len(self._history), self.window, self.quantile)
        if valid.size == x.size:  # nothing missing: each frame has its own value
            out = q
        else:
            idx = np.searchsorted(valid, np.arange(x.size), side="right") - 1
            out = np.where(idx >= 0, q[np.maximum(idx, 0)] if q.size else np.nan, self._last)
        if valid.size:
            self._last = q[-1]
            keep = self.window - 1
            self._history = combined[-keep:] if keep > 0 else np.zeros(0)
        return out


def causal_quantile(x: np.ndarray, window: int, quantile: float) -> np.ndarray:
    """Offline form of :class:`CausalQuantile`: the whole series at once."""
    return CausalQuantile(window, quantile).update(x)
