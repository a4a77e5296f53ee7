"""Focused tests of the multi-class losses and the softmax functions (fastloss.multiclass,
csrc/multiclass.c): logits of 1e4, ignore_index, class axes, closed forms, torch and SciPy
agreement, validation."""

import warnings

import numpy as np
import pytest
import scipy.special as sp
from conftest import tol

import fastloss as fl
from fastloss import reference

DTYPES = [np.float32, np.float64]


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


def test_kl_div_log_probabilities_without_log_pred_are_refused_with_a_hint():
    """A port of torch's F.kl_div(log_q, p) that forgets log_pred=True gave NaN silently; the
    kernel now refuses a negative probability and names the flag."""
    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(5), size=3)
    t = rng.dirichlet(np.ones(5), size=3)
    with pytest.raises(ValueError, match=r"^kl_div\(\): pred must be >= 0 .*look like "
                                         r"log-probabilities: pass log_pred=True.*at flat index 0$"):
        fl.kl_div(np.log(q), t)
    with pytest.raises(ValueError, match=r"target must be >= 0 .*pass log_target=True.*found "
                                         r".* at flat index 0$"):
        fl.kl_div.grad(np.log(q), np.log(t), log_pred=True)
    # with the flags the same arrays are valid, and equal to the probability form
    v = fl.kl_div(np.log(q), np.log(t), log_pred=True, log_target=True)
    assert v == pytest.approx(fl.kl_div(q, t), rel=1e-12)


@pytest.mark.parametrize("log_pred,log_target", [(False, False), (False, True), (True, False)])
def test_kl_div_nan_passes_the_domain_check(log_pred, log_target):
    q = np.array([[0.2, 0.3, 0.5]])
    t = np.array([[0.1, 0.6, 0.3]])
    q = np.log(q) if log_pred else q
    t = np.log(t) if log_target else t
    q[0, 1] = np.nan
    v = fl.kl_div(q, t, log_pred=log_pred, log_target=log_target, reduction="none")
    assert np.isnan(v[0, 1]) and np.isfinite(v[0, [0, 2]]).all()


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


DTYPES = [np.float32, np.float64]


UTILS = {"softmax": (fl.softmax, sp.softmax), "log_softmax": (fl.log_softmax, sp.log_softmax),
         "logsumexp": (fl.logsumexp, sp.logsumexp)}


def _close(actual, expected, dtype, what=""):
    rtol, atol = tol(dtype)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol * scale, err_msg=what)


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(UTILS))
def test_utility_matches_scipy(name, dtype, axis, temperature, rng):
    ours, theirs = UTILS[name]
    x = (rng.standard_normal((4, 6, 5)) * 4).astype(dtype)
    got = ours(x, axis=axis, temperature=temperature)
    want = theirs(x.astype(np.float64) / temperature, axis=axis)
    assert got.dtype == dtype and got.shape == want.shape
    _close(got, want, dtype, name)


@pytest.mark.parametrize("name", list(UTILS))
def test_utility_float16_is_computed_in_float32(name, rng):
    ours, _ = UTILS[name]
    x = rng.standard_normal((7, 9)).astype(np.float16)
    got = ours(x, temperature=1.5)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, ours(x.astype(np.float32), temperature=1.5).astype(np.float16))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(UTILS))
def test_utility_logits_1e4(name, dtype):
    ours, theirs = UTILS[name]
    x = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, -1e4, 9999.0]],
                 dtype=dtype)
    got = ours(x)
    want = theirs(x.astype(np.float64), axis=-1)
    assert np.all(np.isfinite(got))
    _close(got, want, dtype, name)


def test_log_softmax_1e4_exact_in_float32():
    # log p = x - lse is formed in double, so nothing is lost to cancellation at 1e4
    got = fl.log_softmax(np.array([1e4, -1e4, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(got, np.array([0.0, -2e4, -1e4], dtype=np.float32))
    assert fl.logsumexp(np.array([1e4, 1e4], dtype=np.float32)) == np.float32(1e4 + np.log(2))


@pytest.mark.parametrize("name", list(UTILS))
def test_utility_inf_and_nan_rows_like_scipy(name):
    ours, theirs = UTILS[name]
    x = np.array([[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 1.0, 2.0],
                  [-np.inf, 0.0, 1.0], [-np.inf, -np.inf, 5.0]])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want = theirs(x, axis=-1)
    # NaN and +-inf positions must agree too (assert_allclose compares them exactly)
    np.testing.assert_allclose(ours(x), want, rtol=1e-14, atol=0)


def test_logsumexp_of_1d_is_a_scalar_and_keeps_dtype(rng):
    x = rng.standard_normal(11).astype(np.float32)
    v = fl.logsumexp(x)
    assert isinstance(v, np.float32)
    assert v == pytest.approx(sp.logsumexp(x.astype(np.float64)), rel=1e-6)
    assert fl.logsumexp(x[:, None], axis=0).shape == (1,)


def test_utility_empty_batch():
    x = np.zeros((0, 5))
    assert fl.softmax(x).shape == (0, 5)
    assert fl.log_softmax.vjp(x, x).shape == (0, 5)
    assert fl.logsumexp(x).shape == (0,)
    assert fl.logsumexp.grad(x).shape == (0, 5)


def test_utility_strided_input(rng):
    big = rng.standard_normal((10, 12))
    view = big[::-2, 1::3]
    for name, (ours, theirs) in UTILS.items():
        np.testing.assert_array_equal(ours(view, axis=0), ours(np.ascontiguousarray(view), axis=0))


@pytest.mark.parametrize("name", list(UTILS))
def test_utility_threads_do_not_change_bits(name, rng, threads):
    ours, _ = UTILS[name]
    x = rng.standard_normal((300, 400)).astype(np.float32)
    threads(1)
    one = ours(x, temperature=0.7)
    threads(2)
    np.testing.assert_array_equal(ours(x, temperature=0.7), one)


def _fd(f, x, rng, n=20, h=1e-6):
    """Central differences of the scalar f at n random positions of x: (indices, values)."""
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, size=min(n, flat.size), replace=False)
    out = []
    for i in idx:
        xp, xm = flat.copy(), flat.copy()
        xp[i] += h
        xm[i] -= h
        out.append((f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h))
    return idx, np.array(out)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_vjp_finite_differences(name, axis, rng):
    ours, theirs = UTILS[name]
    T = 1.7
    x = rng.standard_normal((5, 6)) * 2
    v = rng.standard_normal((5, 6))
    got = ours.vjp(x, v, axis=axis, temperature=T)
    assert got.shape == x.shape and got.dtype == np.float64
    idx, fd = _fd(lambda xx: float(np.sum(v * theirs(xx / T, axis=axis))), x, rng)
    np.testing.assert_allclose(got.reshape(-1)[idx], fd, rtol=1e-6, atol=1e-8)
    ref = reference.softmax_vjp(x, v, axis=axis, temperature=T, log=name == "log_softmax")
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_vjp_float32_matches_float64_reference(name, dtype, rng):
    ours, _ = UTILS[name]
    x = (rng.standard_normal((8, 10)) * 3).astype(dtype)
    v = rng.standard_normal((8, 10)).astype(dtype)
    got = ours.vjp(x, v, temperature=0.8)
    assert got.dtype == dtype
    _close(got, reference.softmax_vjp(x, v, temperature=0.8, log=name == "log_softmax"), dtype)


def test_vjp_closed_forms(rng):
    x = rng.standard_normal((6, 4)) * 3
    T = 2.0
    # softmax sums to 1 in every row, so a constant cotangent has a zero vjp
    np.testing.assert_allclose(fl.softmax.vjp(x, np.ones_like(x), temperature=T), 0, atol=1e-16)
    # with a one-hot cotangent, log_softmax's vjp is the negative cross-entropy gradient
    y = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[y]
    np.testing.assert_allclose(
        fl.log_softmax.vjp(x, onehot, temperature=T),
        -fl.cross_entropy.grad(x, y, temperature=T, reduction="sum"), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [-1, 0])
def test_logsumexp_grad_and_vjp(axis, rng):
    T = 0.6
    x = rng.standard_normal((5, 7)) * 2
    g = fl.logsumexp.grad(x, axis=axis, temperature=T)
    np.testing.assert_allclose(g, sp.softmax(x / T, axis=axis) / T, rtol=1e-13)
    idx, fd = _fd(lambda xx: float(np.sum(sp.logsumexp(xx / T, axis=axis))), x, rng)
    np.testing.assert_allclose(g.reshape(-1)[idx], fd, rtol=1e-6, atol=1e-8)
    v, g2 = fl.logsumexp.value_and_grad(x, axis=axis, temperature=T)
    np.testing.assert_array_equal(g2, g)
    np.testing.assert_array_equal(v, fl.logsumexp(x, axis=axis, temperature=T))
    cot = rng.standard_normal(v.shape)
    np.testing.assert_allclose(fl.logsumexp.vjp(x, cot, axis=axis, temperature=T),
                               np.expand_dims(cot, axis) * g, rtol=1e-13)


def test_logsumexp_grad_1e4_float32():
    x = np.array([[1e4, -1e4, 1e4]], dtype=np.float32)
    np.testing.assert_array_equal(fl.logsumexp.grad(x), np.array([[0.5, 0.0, 0.5]], np.float32))


def test_softmax_functions_have_vjp_not_grad():
    assert not hasattr(fl.softmax, "grad") and not hasattr(fl.log_softmax, "grad")
    assert callable(fl.softmax.vjp) and callable(fl.logsumexp.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_utilities_match_torch(dtype, rng):
    torch = pytest.importorskip("torch")
    T = 1.3
    x = (rng.standard_normal((6, 9)) * 3).astype(dtype)
    v = rng.standard_normal((6, 9)).astype(dtype)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    for ours, op in ((fl.softmax, torch.softmax), (fl.log_softmax, torch.log_softmax)):
        xt = torch.from_numpy(x).requires_grad_(True)
        y = op(xt / T, dim=0)
        (y * torch.from_numpy(v)).sum().backward()
        np.testing.assert_allclose(ours(x, axis=0, temperature=T), y.detach().numpy(),
                                   rtol=rtol, atol=rtol)
        np.testing.assert_allclose(ours.vjp(x, v, axis=0, temperature=T), xt.grad.numpy(),
                                   rtol=rtol, atol=rtol)
    xt = torch.from_numpy(x).requires_grad_(True)
    y = torch.logsumexp(xt / T, dim=1)
    y.sum().backward()
    np.testing.assert_allclose(fl.logsumexp(x, temperature=T), y.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(fl.logsumexp.grad(x, temperature=T), xt.grad.numpy(),
                               rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", list(UTILS))
def test_utility_validation(name):
    ours, _ = UTILS[name]
    x = np.ones((3, 4))
    with pytest.raises(TypeError, match="dtype int64"):
        ours(np.ones((3, 4), dtype=np.int64))
    for bad_t in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="temperature"):
            ours(x, temperature=bad_t)
    with pytest.raises(ValueError, match="axis=2"):
        ours(x, axis=2)
    with pytest.raises(ValueError, match="at least one class"):
        ours(np.ones((3, 0)))
    with pytest.raises(ValueError, match="at least one dimension"):
        ours(np.float64(1.0))
    with pytest.raises(ValueError, match=r"cotangent must have shape"):
        ours.vjp(x, np.ones((3, 5)))
    with pytest.raises(TypeError, match="cotangent"):
        ours.vjp(x, np.full(x.shape if name != "logsumexp" else (3,), "a"))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_logits_1e4(p, dtype, rng):
    x = (rng.choice([-1e4, 1e4], size=(6, 5)) + rng.standard_normal((6, 5))).astype(dtype)
    y = rng.integers(0, 5, size=6)
    for reduction in ("none", "mean"):
        v, g = fl.multi_margin.value_and_grad(x, y, p=p, reduction=reduction)
        rv, rg = reference.multi_margin(x, y, p=p, reduction=reduction)
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
        _close(v, rv, dtype)
        _close(g, rg, dtype)


def test_multi_margin_kink_matches_torch():
    """margin - x_y + x_i == 0 exactly: no loss and a zero (sub)gradient there, as in torch."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = np.array([[0.0, 1.0, 0.0, 0.5], [2.0, 1.0, 1.5, 0.0]])
    y = np.array([1, 0])
    for p in (1, 2):
        v, g = fl.multi_margin.value_and_grad(x, y, p=p, reduction="sum")
        xt = torch.from_numpy(x).requires_grad_(True)
        out = F.multi_margin_loss(xt, torch.from_numpy(y), p=p, reduction="sum")
        out.backward()
        assert v == pytest.approx(out.item(), rel=1e-15)
        np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-15)
        assert g[0, 0] == 0 and g[0, 2] == 0


def test_multi_margin_mean_ignores_class_weights_in_denominator(rng):
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 5, size=8)
    w = rng.uniform(0.1, 4.0, size=5)
    none = fl.multi_margin(x, y, weight=w, reduction="none")
    assert fl.multi_margin(x, y, weight=w) == pytest.approx(none.sum() / 8, rel=1e-14)
    sw = rng.uniform(0.5, 2.0, size=8)
    none_w = fl.multi_margin(x, y, weight=w, reduction="none", sample_weight=sw)
    np.testing.assert_allclose(none_w, sw * none, rtol=1e-14)
    assert fl.multi_margin(x, y, weight=w, sample_weight=sw) == pytest.approx(
        none_w.sum() / sw.sum(), rel=1e-14)


def test_multi_margin_closed_form():
    # one row, C = 3, y = 0, margin 1: z = [., 1 - 2 + 1.5, 1 - 2 - 3] = [., 0.5, -4]
    x = np.array([2.0, 1.5, -3.0])
    assert fl.multi_margin(x, np.int64(0)) == pytest.approx(0.5 / 3)
    assert fl.multi_margin(x, np.int64(0), p=2) == pytest.approx(0.25 / 3)
    np.testing.assert_allclose(fl.multi_margin.grad(x, np.int64(0), p=2), [-1 / 3, 1 / 3, 0])


def test_multi_margin_1d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = rng.standard_normal(6)
    assert fl.multi_margin(x, np.int64(4), margin=0.3) == pytest.approx(
        F.multi_margin_loss(torch.from_numpy(x), torch.tensor(4), margin=0.3).item(), rel=1e-14)


def test_multi_margin_nan_propagates():
    x = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]])
    v, g = fl.multi_margin.value_and_grad(x, np.array([1, 2]), reduction="none")
    assert np.isnan(v[0]) and np.isfinite(v[1])
    assert np.all(np.isnan(g[0])) and np.all(np.isfinite(g[1]))
    for p in (1, 2):  # also for p = 1, whose derivative would otherwise be a constant 1
        assert np.all(np.isnan(fl.multi_margin.grad(x[:1], np.array([2]), p=p)))


def test_multi_margin_validation():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match="class index 4 at flat position 1"):
        fl.multi_margin(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="class index -1"):
        fl.multi_margin(x, np.array([0, 1, -1]))
    with pytest.raises(TypeError, match="integer class indices"):
        fl.multi_margin(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        fl.multi_margin(x, np.array([0, 1]))
    for p in (0, 3):
        with pytest.raises(ValueError, match=r"multi_margin\(\): p must be in \[1, 2\]"):
            fl.multi_margin(x, np.array([0, 1, 2]), p=p)
    for p in (1.5, "1"):
        with pytest.raises(TypeError, match=r"multi_margin\(\): p must be an integer"):
            fl.multi_margin(x, np.array([0, 1, 2]), p=p)
    with pytest.raises(ValueError, match="margin"):
        fl.multi_margin(x, np.array([0, 1, 2]), margin=np.nan)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        fl.multi_margin(x, np.array([0, 1, 2]), weight=np.ones(3))
    with pytest.raises(ValueError, match="at least one class"):
        fl.multi_margin(np.zeros((3, 0)), np.array([0, 1, 2]))


def _torch_hinton(torch, s, t, y, T, alpha, soft=False):
    """The textbook few lines: batchmean KL at T times T^2, plus CE at T = 1."""
    import torch.nn.functional as F

    kl = F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1), log_target=True,
                  reduction="batchmean") * T * T
    return (1 - alpha) * kl + alpha * F.cross_entropy(s, y)


@pytest.mark.parametrize("soft", [False, True], ids=["labels", "probs"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_distillation_matches_torch_batchmean(dtype, soft, rng):
    torch = pytest.importorskip("torch")
    s = (rng.standard_normal((16, 10)) * 3).astype(dtype)
    t = (rng.standard_normal((16, 10)) * 3).astype(dtype)
    y = rng.dirichlet(np.ones(10), size=16).astype(dtype) if soft else rng.integers(0, 10, size=16)
    T, alpha = 4.0, 0.3
    st = torch.from_numpy(s).requires_grad_(True)
    want = _torch_hinton(torch, st, torch.from_numpy(t), torch.from_numpy(y), T, alpha)
    want.backward()
    v, g = fl.distillation.value_and_grad(s, t, y, temperature=T, alpha=alpha)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert v == pytest.approx(want.item(), rel=rtol)
    np.testing.assert_allclose(g, st.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


def test_distillation_kl_is_batchmean_not_elementwise_mean(rng):
    s, t = rng.standard_normal((6, 8)), rng.standard_normal((6, 8))
    y = rng.integers(0, 8, size=6)
    T = 2.0
    v = fl.distillation(s, t, y, temperature=T, alpha=0.0)
    p, log_q = sp.softmax(t / T, axis=1), sp.log_softmax(s / T, axis=1)
    kl_rows = np.sum(p * (np.log(p) - log_q), axis=1)
    assert v == pytest.approx(T * T * kl_rows.mean(), rel=1e-13)  # sum over classes, / rows
    assert v != pytest.approx(T * T * kl_rows.sum() / s.size, rel=1e-3)


def test_distillation_limits(rng):
    s = rng.standard_normal((7, 5)) * 2
    y = rng.integers(0, 5, size=7)
    # teacher == student and alpha = 0: KL = 0, gradient 0
    v, g = fl.distillation.value_and_grad(s, s, y, alpha=0.0, temperature=3.0)
    assert abs(v) < 1e-15 and np.max(np.abs(g)) < 1e-16
    # alpha = 1: plain cross-entropy at T = 1, whatever the temperature and teacher
    v, g = fl.distillation.value_and_grad(s, rng.standard_normal((7, 5)), y, alpha=1.0)
    cv, cg = fl.cross_entropy.value_and_grad(s, y)
    assert v == pytest.approx(cv, rel=1e-14)
    np.testing.assert_allclose(g, cg, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("T", [1.0, 4.0])
def test_distillation_logits_1e4(T, dtype, rng):
    s = (rng.choice([-1e4, 1e4, 0.0], size=(6, 5)) + rng.standard_normal((6, 5))).astype(dtype)
    t = (rng.choice([-1e4, 1e4, 0.0], size=(6, 5)) + rng.standard_normal((6, 5))).astype(dtype)
    y = rng.integers(0, 5, size=6)
    for reduction in ("none", "mean"):
        v, g = fl.distillation.value_and_grad(s, t, y, temperature=T, reduction=reduction)
        rv, rg = reference.distillation(s, t, y, temperature=T, reduction=reduction)
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
        # values reach ~1e4 * T; compare relative to the largest
        _close(v, rv, dtype)
        _close(g, rg, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_distillation_shifted_teacher_small_kl(dtype, rng):
    """softmax is shift-invariant: with teacher = student + 1e4 the KL is tiny (in float32 only
    the rounding of the shifted teacher remains), and the kernel gets it to within rounding of
    the KL's own size, not of the logits' size."""
    s = (rng.standard_normal((5, 8)) * 3).astype(dtype)
    t = s + dtype(1e4)
    y = np.zeros(5, np.int64)
    v, g = fl.distillation.value_and_grad(s, t, y, alpha=0.0, temperature=2.0, reduction="none")
    rv, rg = reference.distillation(s, t, y, alpha=0.0, temperature=2.0, reduction="none")
    atol = 1e-7 if dtype == np.float32 else 1e-13
    assert np.max(np.abs(rv)) < (1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(v, rv, rtol=0, atol=atol)
    np.testing.assert_allclose(g, rg, rtol=0, atol=atol)


def test_distillation_masked_teacher_classes(rng):
    """A teacher logit of -inf (a masked class, p = 0) contributes 0 * log 0 = 0."""
    s = rng.standard_normal((4, 6))
    t = rng.standard_normal((4, 6))
    t[:, 2] = -np.inf
    y = rng.integers(0, 6, size=4)
    v, g = fl.distillation.value_and_grad(s, t, y, reduction="none")
    rv, rg = reference.distillation(s, t, y, reduction="none")
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(v, rv, rtol=1e-12)
    np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-15)


def test_distillation_nan_propagates(rng):
    s, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    t[1, 0] = np.nan
    v, g = fl.distillation.value_and_grad(s, t, np.array([0, 1, 2]), reduction="none")
    assert np.isnan(v[1]) and np.all(np.isfinite(v[[0, 2]]))
    assert np.all(np.isnan(g[1])) and np.all(np.isfinite(g[[0, 2]]))


def test_distillation_weighted_mean(rng):
    s, t = rng.standard_normal((9, 4)), rng.standard_normal((9, 4))
    y = rng.integers(0, 4, size=9)
    sw = rng.uniform(0.2, 3.0, size=9)
    none = fl.distillation(s, t, y, reduction="none", sample_weight=sw)
    assert fl.distillation(s, t, y, sample_weight=sw) == pytest.approx(none.sum() / sw.sum(), rel=1e-13)
    assert fl.distillation(s, t, y, reduction="sum", sample_weight=sw) == pytest.approx(none.sum(), rel=1e-13)


def test_distillation_validation():
    s = np.zeros((3, 4))
    y = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"teacher_logits must have the student_logits' shape"):
        fl.distillation(s, np.zeros((3, 5)), y)
    with pytest.raises(TypeError, match="teacher_logits"):
        fl.distillation(s, np.full((3, 4), "x"), y)
    for a in (-0.1, 1.5, np.nan):
        with pytest.raises(ValueError, match="alpha"):
            fl.distillation(s, s, y, alpha=a)
    for T in (0.0, -2.0, np.inf):
        with pytest.raises(ValueError, match="temperature"):
            fl.distillation(s, s, y, temperature=T)
    with pytest.raises(ValueError, match="class index 7 at flat position 2"):
        fl.distillation(s, s, np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="class probabilities must have the logits' shape"):
        fl.distillation(s, s, np.ones((3, 5)) / 5)
    with pytest.raises(TypeError, match="target"):
        fl.distillation(s, s, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        fl.distillation(s, s, np.array([0, 1]))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("c", [2049, 4096, 9000])
def test_cross_entropy_long_rows(c, dtype, rng):
    """Rows of thousands of classes against the reference: the row's maximum at the start, in
    the middle, at the end, or rising all along the row; huge negative offsets; temperature,
    class and sample weights, ignored rows, every reduction; NaN rows."""
    n = 6
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    x[0, 3] += 40                      # maximum in the first chunk
    x[1, c // 2] += 40                 # in a middle chunk
    x[2, -1] += 40                     # in the last chunk
    x[3] += np.linspace(0, 30, c, dtype=dtype)  # rising all along the row
    x[4] -= 1e4                        # huge negative offsets
    y = rng.integers(0, c, n)
    y[5] = -100
    kws = [{}, {"temperature": 0.5, "weight": rng.uniform(0.5, 2, c),  # z / 0.5: exact
                "sample_weight": rng.uniform(0.5, 2, n)}]
    for kw in kws:
        for reduction in ("mean", "sum", "none"):
            v, g = fl.cross_entropy.value_and_grad(x, y, reduction=reduction, **kw)
            rv, rg = reference.cross_entropy(x, y, reduction=reduction, **kw)
            rtol, atol = tol(dtype)
            np.testing.assert_allclose(v, rv, rtol=rtol, atol=atol)
            np.testing.assert_allclose(g, rg, rtol=rtol, atol=rtol * np.abs(rg).max())
            assert fl.cross_entropy(x, y, reduction=reduction, **kw).tobytes() == \
                np.asarray(v).tobytes()  # the value alone has the same bits
    bad = x[:2].copy()
    bad[0, c - 7] = np.nan
    v = fl.cross_entropy(bad, y[:2], reduction="none")
    assert np.isnan(v[0]) and np.isfinite(v[1])
    assert np.isnan(fl.cross_entropy.grad(bad, y[:2])[0]).all()


# --------------------------------------------------------------------------- in-place gradients


def _ce_cases(rng, dtype):
    """(logits, target, kwargs) for every cross-entropy kernel path: flat few-class rows, vector
    rows, soft targets, classes on a middle axis; with and without smoothing and weights."""
    out = []
    for shape in [(300, 7), (300, 40), (5, 1000), (5, 5000)]:
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        y = rng.integers(0, shape[1], shape[0])
        y[::5] = -100
        out.append((x, y, {}))
        out.append((x, y, {"label_smoothing": 0.2, "temperature": 1.5,
                           "weight": rng.uniform(0.5, 2, shape[1])}))
        out.append((x, rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype),
                    {"label_smoothing": 0.1}))
    seg = (rng.standard_normal((3, 21, 17, 19)) * 2).astype(dtype)
    lab = rng.integers(0, 21, (3, 17, 19))
    out.append((seg, lab, {"axis": 1}))
    out.append((seg, lab, {"axis": 1, "label_smoothing": 0.1, "weight": rng.uniform(0.5, 2, 21)}))
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_cross_entropy_in_place_gradient_has_the_out_of_place_bits(dtype, rng):
    """out=logits writes the gradient over the logits in the kernel itself (every row reads
    what it needs before writing), with the bits of the out-of-place result."""
    for x, y, kw in _ce_cases(rng, dtype):
        v0, g0 = fl.cross_entropy.value_and_grad(x, y, **kw)
        xi = x.copy()
        v1, g1 = fl.cross_entropy.value_and_grad(xi, y, out=xi, **kw)
        assert g1 is xi and v1 == v0
        assert xi.tobytes() == g0.tobytes(), kw
        xi = x.copy()
        assert fl.cross_entropy.grad(xi, y, out=xi, **kw) is xi
        assert xi.tobytes() == g0.tobytes()


def test_cross_entropy_in_place_allocates_nothing_the_size_of_the_logits(rng):
    import tracemalloc

    x = rng.standard_normal((512, 2000)).astype(np.float32)
    y = rng.integers(0, 2000, 512)
    for kw in ({}, {"label_smoothing": 0.1}, {"axis": 0}):
        yy = y if "axis" not in kw else rng.integers(0, 512, 2000)
        fl.cross_entropy.grad(x, yy, out=x, **kw)  # warm: imports, caches
        tracemalloc.start()
        fl.cross_entropy.grad(x, yy, out=x, **kw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # axis=0: the classes on a leading axis go to the strided kernel, in place too
        assert peak < 0.01 * x.nbytes, (kw, peak)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_distillation_in_place_gradient(dtype, rng):
    """out=student_logits writes over the student's logits with the out-of-place bits."""
    for T in (1.0, 3.0):
        for soft in (False, True):
            s = (rng.standard_normal((70, 13)) * 2).astype(dtype)
            t = (rng.standard_normal((70, 13)) * 2).astype(dtype)
            y = rng.dirichlet(np.ones(13), 70).astype(dtype) if soft else rng.integers(0, 13, 70)
            v0, g0 = fl.distillation.value_and_grad(s, t, y, temperature=T)
            si = s.copy()
            v1, g1 = fl.distillation.value_and_grad(si, t, y, temperature=T, out=si)
            assert g1 is si and v1 == v0
            assert si.tobytes() == g0.tobytes()


def test_in_place_refuses_partial_overlap(rng):
    """Only out= that is exactly the logits' buffer runs in place; a shifted view of the same
    memory gets a fresh buffer and a copy, and the right answer."""
    buf = rng.standard_normal(10 * 8 + 8)
    x = buf[:80].reshape(10, 8)
    out = buf[8:88].reshape(10, 8)  # overlaps x, shifted by one row
    y = rng.integers(0, 8, 10)
    expected = fl.cross_entropy.grad(x.copy(), y)
    got = fl.cross_entropy.grad(x, y, out=out)
    assert got is out
    np.testing.assert_array_equal(out, expected)
