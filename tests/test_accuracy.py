"""Reductions are accurate: float32 losses accumulate in double, so the mean over n elements
stays within ~1e-6 relative of the exact mean however large n is (a running float32 sum would
drift by ~n * eps). The full accuracy report is tools/accuracy.py."""

import math

import numpy as np
import pytest

import fastloss as fl


def _exact_sum_sq(p, t, chunk=10**7):
    parts = []
    for i in range(0, p.size, chunk):
        d = p[i:i + chunk].astype(np.float64) - t[i:i + chunk].astype(np.float64)
        parts.append(float(np.dot(d, d)))
    return math.fsum(parts)


def _check(n):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(n, dtype=np.float32) + np.float32(1)
    t = rng.standard_normal(n, dtype=np.float32)
    total = _exact_sum_sq(p, t)
    assert abs(float(fl.mse(p, t)) - total / n) <= 1e-6 * total / n
    assert abs(float(fl.mse(p, t, reduction="sum")) - total) <= 1e-6 * total
    w = np.full(n, 0.5, dtype=np.float32)
    assert abs(float(fl.huber(p, t, delta=1e30, sample_weight=w, reduction="sum")) - total / 4) \
        <= 1e-6 * total / 4  # huber with a huge delta is d^2 / 2


def test_float32_mean_over_a_million_elements():
    _check(10**6)


@pytest.mark.slow
def test_float32_mean_over_1e8_elements():
    """1e8 float32 elements: 400 MB per input."""
    _check(10**8)
