"""Focused tests of the regression losses (fastloss.regression, csrc/regression.c): closed
forms, extremes, torch's conventions at kinks, validation."""

import math

import numpy as np
import pytest

import fastloss as fl

DTYPES = [np.float32, np.float64]


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


def test_mae_subgradient_is_zero_where_pred_equals_target():
    x = np.array([1.0, 2.0, -3.0, 0.5])
    g = fl.mae.grad(x, np.array([1.0, 1.0, -3.0, 1.0]), reduction="sum")
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, -1.0])


def test_mse_mae_closed_form_with_weights():
    x, y, w = np.array([1.0, 3.0]), np.array([0.0, 1.0]), np.array([1.0, 3.0])
    assert fl.mse(x, y, sample_weight=w) == pytest.approx((1 * 1 + 3 * 4) / 4, rel=1e-15)
    assert fl.mae(x, y, sample_weight=w) == pytest.approx((1 * 1 + 3 * 2) / 4, rel=1e-15)
    np.testing.assert_allclose(fl.mse.grad(x, y, sample_weight=w), [2 * 1 * 1 / 4, 2 * 3 * 2 / 4])


def test_rmse_has_no_none_reduction():
    with pytest.raises(ValueError, match="square root.*reduced"):
        fl.rmse(np.ones(3), np.zeros(3), reduction="none")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmse_is_root_of_mse_and_its_gradient(dtype):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(50).astype(dtype), rng.standard_normal(50).astype(dtype)
    w = rng.uniform(0.5, 2, 50)
    for reduction in ("sum", "mean"):
        m, dm = fl.mse.value_and_grad(x, y, reduction=reduction, sample_weight=w)
        r, dr = fl.rmse.value_and_grad(x, y, reduction=reduction, sample_weight=w)
        assert r.dtype == dtype and dr.dtype == dtype
        rtol = 1e-6 if dtype == np.float32 else 1e-14
        assert float(r) == pytest.approx(math.sqrt(float(m)), rel=rtol)
        np.testing.assert_allclose(dr, dm / (2 * float(r)), rtol=rtol * 10)


def test_rmse_gradient_is_zero_not_nan_at_a_perfect_fit():
    x = np.array([0.25, -1.0, 3.0])
    r, g = fl.rmse.value_and_grad(x, x.copy())
    assert r == 0.0
    np.testing.assert_array_equal(g, np.zeros(3))


def test_rmse_nan_propagates():
    r, g = fl.rmse.value_and_grad(np.array([np.nan, 1.0]), np.zeros(2))
    assert np.isnan(r) and np.isnan(g).all()


def test_msle_closed_form():
    x, y = np.array([np.e - 1, 0.0]), np.array([0.0, np.e**2 - 1])
    v, g = fl.msle.value_and_grad(x, y, reduction="none")
    np.testing.assert_allclose(v, [1.0, 4.0], rtol=1e-14)
    np.testing.assert_allclose(g, [2 * 1 / np.e, 2 * -2 / 1.0], rtol=1e-14)


@pytest.mark.parametrize("which", ["pred", "target"])
@pytest.mark.parametrize("bad", [-1.0, -2.5, -np.inf])
def test_msle_rejects_values_at_or_below_minus_one(which, bad):
    a = np.array([0.0, 1.0, bad, 2.0])
    args = (a, np.zeros(4)) if which == "pred" else (np.zeros(4), a)
    with pytest.raises(ValueError, match=rf"msle\(\): {which} must be > -1.*flat index 2"):
        fl.msle(*args)


def test_msle_nan_is_not_an_error_and_propagates():
    v = fl.msle(np.array([np.nan, 1.0]), np.zeros(2), reduction="none")
    assert np.isnan(v[0]) and np.isfinite(v[1])


def test_smooth_l1_beta0_is_l1_with_torch_gradient():
    x, y = np.array([0.0, 1.5, -2.0, 3.0]), np.array([0.0, 0.5, 1.0, 3.0])
    v0, g0 = fl.smooth_l1.value_and_grad(x, y, beta=0.0, reduction="sum")
    v1, g1 = fl.mae.value_and_grad(x, y, reduction="sum")
    assert v0 == v1
    np.testing.assert_array_equal(g0, g1)
    np.testing.assert_array_equal(g0, [0.0, 1.0, -1.0, 0.0])


def test_smooth_l1_at_and_around_beta():
    beta = 0.5
    d = np.array([0.25, 0.5, 0.75, -0.5])
    v, g = fl.smooth_l1.value_and_grad(d, np.zeros(4), beta=beta, reduction="none")
    np.testing.assert_allclose(v, [0.5 * 0.0625 / beta, 0.25, 0.5, 0.25], rtol=1e-15)
    np.testing.assert_allclose(g, [0.5, 1.0, 1.0, -1.0], rtol=1e-15)


def _torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    return torch, F


def test_smooth_l1_matches_torch_at_zero_and_beta():
    torch, F = _torch()
    x = np.array([0.0, 0.5, -0.5, 0.3, 2.0])
    for beta in (0.0, 0.5, 1.0):
        t = torch.tensor(x, requires_grad=True)
        out = F.smooth_l1_loss(t, torch.zeros(5, dtype=torch.float64), beta=beta, reduction="sum")
        out.backward()
        v, g = fl.smooth_l1.value_and_grad(x, np.zeros(5), beta=beta, reduction="sum")
        assert v == pytest.approx(out.item(), rel=1e-15)
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-15)


@pytest.mark.parametrize("beta", [-0.1, float("nan")])
def test_smooth_l1_rejects_negative_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        fl.smooth_l1(np.ones(2), np.zeros(2), beta=beta)


F64 = np.float64


@pytest.mark.parametrize("dtype,big", [(np.float64, [700.0, 710.0, 800.0, 1e4, 1e300]),
                                       (np.float32, [80.0, 89.0, 100.0, 1e4, 1e30])])
def test_log_cosh_does_not_overflow(dtype, big):
    d = np.array(big + [-b for b in big], dtype=dtype)
    v, g = fl.log_cosh.value_and_grad(d, np.zeros_like(d), reduction="none")
    assert np.isfinite(v).all()
    rtol = 2.5e-7 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(v, np.abs(d.astype(F64)) - math.log(2), rtol=rtol)
    np.testing.assert_array_equal(g, np.sign(d))


# log(cosh(d)) to 20 digits, computed with mpmath at 50 digits (mp.dps = 50).
LOG_COSH_MPMATH = [
    (1e-8, 4.9999999999999999167e-17), (1e-4, 4.9999999916666666889e-9),
    (0.1, 0.0049916888216465302677), (0.5, 0.12011450695827752463),
    (0.9, 0.35983042996612882518), (1.0, 0.43378083048302718703),
    (1.1, 0.5119361392087506081), (3.0, 2.3093285045777851401),
    (30.0, 29.306852819440054691),
]


@pytest.mark.parametrize("d,expected", LOG_COSH_MPMATH)
def test_log_cosh_relative_accuracy(d, expected):
    """Both branches (|d| < 1: log1p(2 sinh(d/2)^2), else |d| + log1p(exp(-2|d|)) - log 2) keep
    a few ulps of relative accuracy, including near 0 where log cosh d ~ d^2 / 2."""
    v = fl.log_cosh(np.array([d, -d]), np.zeros(2), reduction="none")
    np.testing.assert_allclose(v, [expected, expected], rtol=8 * 2.2e-16)
    v32 = fl.log_cosh(np.array([d], dtype=np.float32), np.zeros(1, np.float32), reduction="none")
    assert float(v32[0]) == pytest.approx(expected, rel=8 * 1.2e-7)
    np.testing.assert_allclose(fl.log_cosh.grad(np.array([d]), np.zeros(1), reduction="sum"),
                               [math.tanh(d)], rtol=1e-15)


# ---------------------------------------------- domains (issue 12), checked in the kernel's pass


@pytest.mark.parametrize("loss,kw,bad,rule", [
    (fl.poisson, {}, -1.0, r"target must be >= 0 \(counts\)"),
    (fl.gamma, {}, 0.0, r"target must be > 0"),
    (fl.tweedie, {"power": 1.5}, -0.5, r"target must be >= 0 for power=1\.5"),
    (fl.tweedie, {"power": 3.0}, 0.0, r"target must be > 0 for power=3"),
])
def test_deviance_target_outside_the_domain_is_refused(loss, kw, bad, rule):
    """scikit-learn's deviances refuse these too (mean_tweedie_deviance); NaN passes and
    gives NaN. grad_hess (boosting) checks the same rule."""
    x = np.zeros(3)
    y = np.array([1.0, 2.0, bad])
    name = loss.__name__
    with pytest.raises(ValueError, match=rf"^{name}\(\): {rule}; found {bad!r} at flat index 2$"):
        loss(x, y, **kw)
    with pytest.raises(ValueError, match=rf"^{name}\(\): {rule}"):
        loss.grad_hess(x.astype(np.float32), y.astype(np.float32), **kw)
    v = loss(x, np.array([1.0, np.nan, 1.0]), reduction="none", **kw)
    assert np.isnan(v[1]) and np.isfinite(v[[0, 2]]).all()


def test_tweedie_power_0_takes_any_target():
    v = fl.tweedie(np.zeros(2), np.array([-3.0, 0.0]), power=0.0, reduction="none")
    np.testing.assert_allclose(v, [16.0, 1.0])  # (y - exp(0))^2


def test_poisson_nll_negative_rate_is_refused_without_log_input():
    """torch gives NaN (log of a negative rate); a log-rate passed without log_input=True is the
    usual cause, which the message names."""
    x = np.array([0.5, -0.2, 1.0])
    with pytest.raises(ValueError, match=r"^poisson_nll\(\): with log_input=False, pred must be "
                                         r">= 0 .*log_input=True\); found -0\.2 at flat index 1$"):
        fl.poisson_nll(x, np.ones(3), log_input=False)
    assert np.isfinite(fl.poisson_nll(x, np.ones(3)))  # log-rates may be negative


def test_msle_domain_error_index_across_blocks_and_threads(threads):
    n = 5 * 8192
    x = np.ones(n, np.float32)
    x[4 * 8192 + 3] = -1.5
    for n_threads in (1, 2):
        threads(n_threads)
        with pytest.raises(ValueError, match=rf"pred must be > -1.*found -1\.5 at flat index "
                                             rf"{4 * 8192 + 3}$"):
            fl.msle.value_and_grad(x, np.zeros(n, np.float32))
