"""Focused tests for the five core losses: extreme inputs, closed forms, torch-specific
semantics and every validation error."""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

DTYPES = [np.float32, np.float64]


# ------------------------------------------------------------------------ cross-entropy


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_logits_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = np.array([0, 1, 2])
    loss, grad = fl.cross_entropy.value_and_grad(z, y, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    # closed forms: the right class dominates -> 0; the wrong one -> lse - x_1 = 2e4;
    # a constant row -> log 3
    np.testing.assert_allclose(loss, [0.0, 2e4, np.log(3)], rtol=1e-6)
    np.testing.assert_allclose(grad[0], [0, 0, 0], atol=1e-30)
    np.testing.assert_allclose(grad[1], [1, -1, 0], atol=1e-30)
    np.testing.assert_allclose(grad[2], np.array([1, 1, -2]) / 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_soft_targets_extremes(dtype):
    z = np.array([[1e4, -1e4, -np.inf], [0.0, 0.0, 0.0]], dtype=dtype)
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)
    loss, grad = fl.cross_entropy.value_and_grad(z, t, reduction="none")
    # 0 * log p = 0 even where log p = -inf (a -inf logit with no target mass)
    np.testing.assert_allclose(loss, [0.0, np.log(3)], rtol=1e-6, atol=0)
    assert np.all(np.isfinite(grad))


def test_cross_entropy_nan_stays_in_its_row():
    z = np.zeros((3, 4))
    z[1, 2] = np.nan
    loss, grad = fl.cross_entropy.value_and_grad(z, np.array([0, 1, 2]), reduction="none")
    assert np.isnan(loss[1]) and np.all(np.isnan(grad[1]))
    assert np.isfinite(loss[[0, 2]]).all() and np.isfinite(grad[[0, 2]]).all()
    assert np.isnan(fl.cross_entropy(z, np.array([0, 1, 2])))


def test_cross_entropy_unbatched_and_axis0():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(5)
    v, g = fl.cross_entropy.value_and_grad(z, np.array(3))
    rv, rg = reference.cross_entropy(z, np.array(3))
    assert v == pytest.approx(rv, rel=1e-12)
    np.testing.assert_allclose(g, rg, rtol=1e-12)
    z2 = rng.standard_normal((5, 7))  # classes on axis 0
    y = rng.integers(0, 5, size=7)
    v0, g0 = fl.cross_entropy.value_and_grad(z2, y, axis=0)
    v1, g1 = fl.cross_entropy.value_and_grad(z2.T.copy(), y)
    assert v0 == pytest.approx(v1, rel=1e-14)
    np.testing.assert_allclose(g0, g1.T, rtol=1e-14)
    assert g0.flags.c_contiguous


def test_cross_entropy_all_ignored_matches_torch():
    torch = pytest.importorskip("torch")
    z = np.random.default_rng(0).standard_normal((4, 3))
    y = np.full(4, -100)
    v, g = fl.cross_entropy.value_and_grad(z, y)
    zt = torch.tensor(z, requires_grad=True)
    out = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
    out.backward()
    assert np.isnan(v) and np.isnan(out.item())
    assert fl.cross_entropy(z, y, reduction="sum") == 0.0
    np.testing.assert_array_equal(fl.cross_entropy.grad(z, y, reduction="sum"), 0.0)


def test_cross_entropy_custom_ignore_index_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z = rng.standard_normal((20, 6))
    y = rng.integers(0, 6, size=20)
    w = rng.uniform(0.1, 2, size=6)
    for ignore in (2, 5):
        v, g = fl.cross_entropy.value_and_grad(z, y, ignore_index=ignore, weight=w,
                                               label_smoothing=0.3)
        zt = torch.tensor(z, requires_grad=True)
        out = torch.nn.functional.cross_entropy(zt, torch.tensor(y), ignore_index=ignore,
                                                weight=torch.tensor(w), label_smoothing=0.3)
        out.backward()
        assert v == pytest.approx(out.item(), rel=1e-12)
        np.testing.assert_allclose(g, zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kwargs,target,match", [
    ({}, np.array([0, 5, 1]), r"class index 5 .* \[0, 5\)"),
    ({}, np.array([0, -1, 1]), r"class index -1"),
    ({}, np.array([0, 1]), r"shape \(3,\)"),
    ({}, np.zeros((3, 4)), r"probabilities must have the logits' shape"),
    ({}, np.array([True, False, True]), r"dtype bool"),
    ({"weight": np.ones(4)}, np.array([0, 1, 2]), r"weight must have shape \(5,\)"),
    ({"label_smoothing": 1.5}, np.array([0, 1, 2]), r"label_smoothing"),
    ({"temperature": 0.0}, np.array([0, 1, 2]), r"temperature"),
    ({"temperature": -1.0}, np.array([0, 1, 2]), r"temperature"),
    ({"axis": 2}, np.array([0, 1, 2]), r"axis=2 is out of range"),
])
def test_cross_entropy_validation(kwargs, target, match):
    z = np.zeros((3, 5))
    with pytest.raises((ValueError, TypeError), match=match):
        fl.cross_entropy(z, target, **kwargs)


def test_cross_entropy_zero_classes_and_empty_batch():
    with pytest.raises(ValueError, match="at least one class"):
        fl.cross_entropy(np.zeros((3, 0)), np.zeros(3, dtype=int))
    z = np.zeros((0, 4))
    y = np.zeros(0, dtype=int)
    assert fl.cross_entropy(z, y, reduction="sum") == 0.0
    assert fl.cross_entropy(z, y, reduction="none").shape == (0,)
    assert fl.cross_entropy.grad(z, y).shape == (0, 4)


# ------------------------------------------------------------------------ huber


@pytest.mark.parametrize("dtype", DTYPES)
def test_huber_huge_and_tiny_delta_closed_forms(dtype):
    rng = np.random.default_rng(1)
    p = rng.standard_normal(50).astype(dtype)
    t = rng.standard_normal(50).astype(dtype)
    d = p.astype(np.float64) - t.astype(np.float64)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    # delta far above every |d|: pure 0.5 d^2, gradient d
    v, g = fl.huber.value_and_grad(p, t, delta=1e30, reduction="sum")
    assert v == pytest.approx(np.sum(0.5 * d**2), rel=rtol)
    np.testing.assert_allclose(g, d, rtol=rtol)
    # delta far below every |d|: delta*|d| (the -delta^2/2 vanishes), gradient delta*sign(d)
    v, g = fl.huber.value_and_grad(p, t, delta=1e-20, reduction="sum")
    assert v == pytest.approx(1e-20 * np.sum(np.abs(d)), rel=rtol)
    np.testing.assert_allclose(g, 1e-20 * np.sign(d), rtol=rtol)


def test_huber_validation():
    with pytest.raises(ValueError, match="delta must be > 0"):
        fl.huber(np.zeros(3), np.zeros(3), delta=0.0)
    with pytest.raises(ValueError, match="delta"):
        fl.huber(np.zeros(3), np.zeros(3), delta=-1.0)
    with pytest.raises(ValueError, match=r"same shape; got \(3,\) and \(4,\)"):
        fl.huber(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="target must be a real-valued"):
        fl.huber(np.zeros(3), np.array(["a", "b", "c"]))


def test_huber_nan_propagates():
    v, g = fl.huber.value_and_grad(np.array([0.0, np.nan, 3.0]), np.zeros(3), reduction="none")
    assert np.isnan(v[1]) and np.isnan(g[1])
    assert np.isfinite(v[[0, 2]]).all() and np.isfinite(g[[0, 2]]).all()


# ------------------------------------------------------------------------ hinge


def test_hinge_subgradient_zero_at_kink():
    pred = np.array([1.0, -1.0, 0.5, 2.0])
    v, g = fl.hinge.value_and_grad(pred, np.array([1, 0, 1, 0]), reduction="none")
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, -1.0, 1.0])


@pytest.mark.parametrize("target,match", [
    (np.array([1, 2, -1]), r"found 2"),
    (np.array([1.0, 0.5, 0.0]), r"found 0.5"),
    (np.array([1, 0, -1]), r"only \{-1, 1\} or only \{0, 1\}"),
    (np.array([-1, 1, 0]), r"flat index 2"),
])
def test_hinge_target_validation(target, match):
    with pytest.raises(ValueError, match=match):
        fl.hinge(np.zeros(3), target)


# ------------------------------------------------------------------------ kl_div


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_div_probabilities_exactly_zero_and_one(dtype):
    q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype)
    t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    v, g = fl.kl_div.value_and_grad(q, t, reduction="none")
    np.testing.assert_allclose(v, [[0, 0, 0], [0, np.log(2), 0]], rtol=1e-6)
    np.testing.assert_allclose(g, [[-1, 0, 0], [0, -2, 0]], rtol=1e-6)
    # identical distributions: KL = 0 exactly
    assert fl.kl_div(q, q) == 0.0


def test_kl_div_matches_torch_on_zeros_in_target():
    torch = pytest.importorskip("torch")
    logq = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    t = np.array([[0.0, 0.4, 0.6], [1.0, 0.0, 0.0]])
    for reduction in ("none", "sum", "mean", "batchmean"):
        v = fl.kl_div(logq, t, log_pred=True, reduction=reduction)
        ref = torch.nn.functional.kl_div(torch.tensor(logq), torch.tensor(t), reduction=reduction)
        np.testing.assert_allclose(v, ref.numpy(), rtol=1e-12)


def test_kl_div_validation():
    with pytest.raises(ValueError, match="reduction"):
        fl.kl_div(np.ones((2, 2)), np.ones((2, 2)), reduction="average")
    with pytest.raises(ValueError, match="same shape"):
        fl.kl_div(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis"):
        fl.kl_div(np.ones((2, 2)), np.ones((2, 2)), axis=3)


# ------------------------------------------------------------------------ dice


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


# ------------------------------------------------------------------------ threads


def test_thread_setting(threads):
    threads(3)
    assert fl.get_num_threads() == 3
    threads(None)
    assert fl.get_num_threads() >= 1
    with pytest.raises(ValueError, match="n must be >= 0"):
        fl.set_num_threads(-2)
    with pytest.raises(TypeError):
        fl.set_num_threads(1.5)


def test_loss_objects_have_signatures_and_docs():
    import inspect

    for loss in (fl.cross_entropy, fl.huber, fl.dice, fl.kl_div, fl.hinge):
        sig = inspect.signature(loss)
        assert "reduction" in sig.parameters and "_want" not in sig.parameters
        assert loss.__doc__ and len(loss.__doc__) > 100


@pytest.mark.parametrize("c", [1, 5, 31, 32, 40, 257])
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_both_kernel_paths_match_reference(c, dtype):
    """Few classes take the flat small-C path, many the per-row vector path (softmax_ce_impl.h);
    both against the reference with every option on, including ignored rows and a NaN row."""
    rng = np.random.default_rng(c)
    n = 300  # more rows than one flat chunk holds for small c
    z = (rng.standard_normal((n, c)) * 4).astype(dtype)
    y = rng.integers(0, c, size=n)
    y[::7] = -100
    kw = dict(weight=rng.uniform(0.5, 2, size=c), label_smoothing=0.2, temperature=1.7,
              sample_weight=rng.uniform(0.5, 2, size=n))
    rtol = 1e-11 if dtype == np.float64 else 2e-5
    for reduction in ("none", "sum", "mean"):
        v, g = fl.cross_entropy.value_and_grad(z, y, reduction=reduction, **kw)
        rv, rg = reference.cross_entropy(z, y, reduction=reduction, **kw)
        np.testing.assert_allclose(v, rv, rtol=rtol, atol=rtol)
        # c = 1: the exact gradient is 0 and the kernel leaves rounding of one term (~1/n)
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=rtol * (np.abs(rg).max() + 1.0))
    z[3, 0] = np.nan
    v = fl.cross_entropy(z, y, reduction="none")
    assert np.isnan(v[3]) and np.isfinite(np.delete(v, 3)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_classes_on_a_middle_axis(dtype):
    """(N, C, H, W) logits take the strided kernel; every option against the reference and
    against the same data with the classes moved last (the row kernel)."""
    rng = np.random.default_rng(11)
    n, c, h, w = 3, 6, 17, 40  # inner = 680: several chunks, the last one partial
    z = (rng.standard_normal((n, c, h, w)) * 3).astype(dtype)
    y = rng.integers(0, c, size=(n, h, w))
    y[:, ::5, ::3] = 7  # ignore_index below
    kw = dict(axis=1, weight=rng.uniform(0.5, 2, size=c), label_smoothing=0.15, temperature=0.8,
              ignore_index=7, sample_weight=rng.uniform(0.5, 2, size=(n, h, w)))
    rtol = 1e-11 if dtype == np.float64 else 3e-5
    for reduction in ("none", "sum", "mean"):
        v, g = fl.cross_entropy.value_and_grad(z, y, reduction=reduction, **kw)
        rv, rg = reference.cross_entropy(z, y, reduction=reduction, **kw)
        np.testing.assert_allclose(v, rv, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=rtol * np.abs(rg).max())
        zl = np.ascontiguousarray(np.moveaxis(z, 1, -1))
        v2, g2 = fl.cross_entropy.value_and_grad(zl, y, reduction=reduction,
                                                 **dict(kw, axis=-1))
        np.testing.assert_allclose(v, v2, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(g, np.moveaxis(g2, -1, 1), rtol=rtol, atol=rtol)
    z[1, 2, 3, 4] = np.nan
    v, g = fl.cross_entropy.value_and_grad(z, y, reduction="none", **kw)
    assert np.isnan(v[1, 3, 4]) == (y[1, 3, 4] != 7)
    assert np.isfinite(np.delete(v.reshape(-1), np.ravel_multi_index((1, 3, 4), v.shape))).all()
    with pytest.raises(ValueError, match="class index 9"):
        fl.cross_entropy(z, np.full((n, h, w), 9), axis=1)
