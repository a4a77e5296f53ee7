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


# ---------------------------------------------------------------- kernel paths (chunks, threads)
# The kernel works on chunks of positions (a multiple of 16 whose length depends on C: 1024 for
# C <= 8, fewer for more classes) and, with a gradient, either runs whole samples per thread or
# shares every sample's chunks among the threads; these pin each path against the reference
# and PyTorch.

def _dice_inputs(rng, shape, kind, dtype):
    n, c = shape[:2]
    x = rng.standard_normal(shape) * 3
    labels = rng.integers(0, c, size=(n, *shape[2:]))
    if kind == "labels":
        t = labels
    elif kind == "onehot":
        t = np.moveaxis(np.eye(c)[labels], -1, 1).astype(dtype)
    else:
        t = np.moveaxis(rng.dirichlet(np.ones(c) * 0.5, size=(n, *shape[2:])), -1, 1)
        t = t.astype(dtype)
    return x.astype(dtype), t


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("kind", ["labels", "onehot", "soft"])
@pytest.mark.parametrize("shape", [(3, 1, 5, 7), (2, 2, 33, 31), (3, 3, 37, 41), (2, 17, 13, 11),
                                   (1, 4, 1031), (5, 5, 16)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES)
def test_dice_chunked_paths_match_reference(shape, kind, from_logits, dtype, rng):
    x, t = _dice_inputs(rng, shape, kind, dtype)
    if not from_logits:
        x = np.exp(reference.log_softmax(x.astype(np.float64), axis=1)).astype(dtype)
    sw = rng.uniform(0.5, 2.0, size=shape[:2])
    for reduction in ("mean", "none"):
        v, g = fl.dice.value_and_grad(x, t, from_logits=from_logits, reduction=reduction,
                                      sample_weight=sw, smooth=0.7)
        rv, rg = reference.dice(x, t, from_logits=from_logits, reduction=reduction,
                                sample_weight=sw, smooth=0.7)
        rtol, atol = (1e-12, 1e-15) if dtype == np.float64 else (2e-5, 1e-6)
        np.testing.assert_allclose(v, rv, rtol=rtol, atol=atol)
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=atol * np.max(np.abs(rg)))
        # the value alone (no gradient to park the softmax in) has the same bits
        v_only = fl.dice(x, t, from_logits=from_logits, reduction=reduction, sample_weight=sw,
                         smooth=0.7)
        np.testing.assert_array_equal(v_only, v)


@pytest.mark.parametrize("kind", ["labels", "onehot", "soft"])
@pytest.mark.parametrize("shape", [(2, 3, 37, 29), (4, 17, 9, 23)], ids=lambda s: "x".join(map(str, s)))
def test_dice_from_logits_matches_torch(shape, kind, rng):
    torch = pytest.importorskip("torch")
    x, t = _dice_inputs(rng, shape, kind, np.float64)
    c = shape[1]
    v, g = fl.dice.value_and_grad(x, t, from_logits=True, smooth=1.0)
    xt = torch.from_numpy(x).requires_grad_(True)
    tt = torch.from_numpy(t)
    if kind == "labels":
        tt = torch.nn.functional.one_hot(tt, c).movedim(-1, 1).to(xt.dtype)
    p = xt.softmax(1)
    inter = (p * tt).sum((2, 3))
    den = p.sum((2, 3)) + tt.sum((2, 3))
    loss = (1 - (2 * inter + 1.0) / (den + 1.0)).mean()
    loss.backward()
    assert v == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("n", [1, 3, 4, 9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dice_threads_bit_identical(n, dtype, rng, threads):
    """Whole samples per thread (n a multiple of the thread count) and chunks shared among
    threads (n = 1, 3 with 2 threads) give the bits of the serial run; 300x300 positions are
    enough work for threads to start."""
    x, t = _dice_inputs(rng, (n, 3, 300, 300), "labels", dtype)
    probs = fl.softmax(x, axis=1)  # from_logits=False needs probabilities
    out = []
    for nt in (1, 2, 3):
        threads(nt)
        out.append([fl.dice.value_and_grad(x, t, from_logits=True, reduction="none"),
                    fl.dice.value_and_grad(probs, t, from_logits=False, reduction="none"),
                    fl.dice(x, t, from_logits=True)])
    for other in out[1:]:
        for a, b in zip(other[:2], out[0][:2]):
            assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
        assert other[2] == out[0][2]


@pytest.mark.parametrize("from_logits", [True, False])
def test_dice_bad_label_in_a_later_sample_is_reported_first(from_logits, rng):
    """The labels are range-checked while the first pass reads them; the error names the
    first bad position in the whole batch whichever thread met which."""
    x = rng.standard_normal((6, 3, 40, 40))
    labels = rng.integers(0, 3, size=(6, 40, 40))
    labels[4, 7, 9] = 3
    labels[5, 0, 0] = -1
    with pytest.raises(ValueError, match=rf"class index 3 at flat position {4 * 1600 + 7 * 40 + 9}"):
        fl.dice.value_and_grad(x, labels, from_logits=from_logits)
    with pytest.raises(ValueError, match="class index 3"):
        fl.dice(x, labels, from_logits=from_logits)


def test_dice_logits_nan_and_extremes_per_position(rng):
    """A NaN logit poisons only its sample's losses; +-1e4 logits stay finite."""
    x = rng.standard_normal((3, 4, 8, 8))
    x[1, 2, 3, 3] = np.nan
    x[2, :, 0, 0] = [1e4, -1e4, 0.0, 1e4]
    labels = rng.integers(0, 4, size=(3, 8, 8))
    v, g = fl.dice.value_and_grad(x, labels, from_logits=True, reduction="none")
    assert np.all(np.isnan(v[1]))
    assert np.all(np.isfinite(v[[0, 2]])) and np.all(np.isfinite(g[[0, 2]]))
    rv, rg = reference.dice(x[[0, 2]], labels[[0, 2]], from_logits=True, reduction="none")
    np.testing.assert_allclose(v[[0, 2]], rv, rtol=1e-12)
    np.testing.assert_allclose(g[[0, 2]], rg, rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels", [False, True], ids=["soft", "labels"])
def test_dice_probabilities_outside_0_1_are_refused(dtype, labels):
    """dice on "probabilities" of 3.0 used to return -0.47: the values are checked in the
    kernel's first pass, with a hint at from_logits; NaN still passes through."""
    p = np.full((2, 3, 4, 5), 0.25, dtype=dtype)
    p[1, 2, 3, 1] = 3.0
    t = (np.random.default_rng(0).integers(0, 3, (2, 4, 5)) if labels
         else np.full(p.shape, 1 / 3, dtype=dtype))
    flat = np.ravel_multi_index((1, 2, 3, 1), p.shape)
    with pytest.raises(ValueError, match=rf"^dice\(\): pred must hold probabilities in \[0, 1\] "
                                         rf"\(from_logits=False\); found 3.0 at flat index "
                                         rf"{flat}\. Pass from_logits=True"):
        fl.dice.value_and_grad(p, t)
    p[1, 2, 3, 1] = -1e-6
    with pytest.raises(ValueError, match="pred must hold probabilities"):
        fl.dice(p, t)
    p[1, 2, 3, 1] = np.nan
    v = fl.dice(p, t, reduction="none")
    assert np.isnan(v[1, 2]) and np.isfinite(np.delete(v.ravel(), 1 * 3 + 2)).all()
    p[1, 2, 3, 1] = 40.0
    assert np.isfinite(fl.dice(p * 12.0, t, from_logits=True))  # logits: any value
