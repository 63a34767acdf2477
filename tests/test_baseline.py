import numpy as np
import pytest

from spasm_cv.events.baseline import CausalQuantile, causal_quantile


def brute_force(x, window, q):
    out, seen = np.full(len(x), np.nan), []
    for i, v in enumerate(x):
        if np.isfinite(v):
            seen.append(v)
        if seen:
            w = np.sort(seen[-window:])
            out[i] = w[int(np.floor(q * (len(w) - 1)))]
    return out


@pytest.mark.parametrize("window", [1, 2, 5, 10, 11, 64])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.8, 1.0])
def test_causal_quantile_matches_brute_force(window, q):
    rng = np.random.default_rng(window)
    x = rng.random(400)
    x[rng.random(400) < 0.25] = np.nan
    x[:3] = np.nan
    np.testing.assert_array_equal(causal_quantile(x, window, q), brute_force(x, window, q))


@pytest.mark.parametrize("chunks", [[1] * 300, [7] * 43, [1, 2, 50, 3, 200, 44]])
def test_chunked_equals_offline(chunks):
    rng = np.random.default_rng(3)
    x = rng.random(sum(chunks))
    x[rng.random(len(x)) < 0.2] = np.nan
    cq, parts, i = CausalQuantile(30, 0.8), [], 0
    for c in chunks:
        parts.append(cq.update(x[i : i + c]))
        i += c
    np.testing.assert_array_equal(np.concatenate(parts), causal_quantile(x, 30, 0.8))


def test_baseline_is_causal():
    x = np.ones(100)
    y = x.copy()
    y[60:] = 5.0  # the future must not change the past
    np.testing.assert_array_equal(
        causal_quantile(x, 20, 0.8)[:60], causal_quantile(y, 20, 0.8)[:60]
    )
