"""Focused tests of the Dice loss (fastloss.segmentation, csrc/segmentation.c)."""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dice_perfect_and_disjoint_closed_forms(dtype):
    labels = np.array([[[0, 1], [1, 2]]])  # (1, 2, 2), 3 classes
    onehot = np.moveaxis(np.eye(3)[labels], -1, 1).astype(dtype)  # (1, 3, 2, 2)
    # perfect prediction, smooth 0: dice = 1 - 2T/2T = 0 for every class
    np.testing.assert_allclose(fl.dice(onehot, labels, smooth=0.0, reduction="none"), 0.0, atol=1e-7)
    # disjoint prediction (class k predicted where class k-1 is): intersection 0, so the loss
    # is 1 - s / (P + T + s) with P the count of class k-1 and T that of class k
    wrong = np.roll(onehot, 1, axis=1)
    v = fl.dice(wrong, labels, smooth=1.0, reduction="none")
    counts = np.array([1, 2, 1])
    np.testing.assert_allclose(v[0], 1 - 1 / (counts + np.roll(counts, 1) + 1), rtol=1e-6)


def test_dice_logits_1e4_finite():
    x = np.zeros((2, 3, 4))
    x[:, 0] = 1e4
    x[:, 1] = -1e4
    v, g = fl.dice.value_and_grad(x, np.zeros((2, 4), dtype=int), from_logits=True)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    # softmax saturates to the true class: class 0 dice 1 - (8+1)/(8+1) = 0, classes 1, 2 empty
    assert v == pytest.approx(0.0, abs=1e-6)


def test_dice_validation():
    p = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"class index 3"):
        fl.dice(p, np.full((2, 4), 3))
    with pytest.raises(ValueError, match="smooth must be >= 0"):
        fl.dice(p, np.zeros((2, 4), dtype=int), smooth=-1.0)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        fl.dice(p, np.zeros((2, 5), dtype=int))
    with pytest.raises(ValueError, match="same shape"):
        fl.dice(p, np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3, 2\)"):
        fl.dice(p, np.zeros((2, 4), dtype=int), sample_weight=np.ones((3, 2)))


def test_dice_axis_and_none_shape():
    rng = np.random.default_rng(2)
    p = rng.uniform(size=(2, 3, 4, 5))
    t = rng.uniform(size=(2, 3, 4, 5))
    assert fl.dice(p, t, reduction="none").shape == (2, 3)
    assert fl.dice(p, t, axis=2, reduction="none").shape == (2, 3, 4)
    v, g = fl.dice.value_and_grad(p, t, axis=2)
    rv, rg = reference.dice(p, t, axis=2)
    assert v == pytest.approx(rv, rel=1e-12)
    np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-15)
