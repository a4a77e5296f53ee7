"""``loss.grad_hess``: the gradient and the Hessian's diagonal of the per-sample losses, for every
registry case that has one (``Case.grad_hess``, the NumPy reference): against the reference,
finite differences of the kernel's gradient, closed forms at +-1e4 margins, sample weights and
``hessian_floor``, ``out=``, thread counts (bit-identical), dtypes and layouts; and against
scikit-learn's private ``sklearn._loss`` losses, which boosting in scikit-learn runs on."""

import inspect

import numpy as np
import pytest

import fastloss as fl
from fastloss._registry import CASES

from conftest import tol

GH = [c for c in CASES if c.grad_hess is not None]
IDS = [c.id for c in GH]
DTYPES = [np.float32, np.float64]


def _make(case, rng, dtype, sw=False, shape=None):
    return case.make(rng, dtype, shape or case.shape, sw)


def _close(actual, expected, dtype, what):
    rtol, atol = tol(dtype)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol * scale, err_msg=what)


def test_every_loss_the_issue_lists_has_grad_hess_and_the_others_do_not():
    listed = {"mse", "mae", "huber", "smooth_l1", "log_cosh", "msle",
              "binary_cross_entropy_with_logits", "focal", "squared_hinge", "cross_entropy",
              "poisson", "gamma", "tweedie", "pinball", "poisson_nll", "gaussian_nll"}
    have = {name for name in fl.__all__
            if isinstance(getattr(fl, name), fl.Loss) and hasattr(getattr(fl, name), "grad_hess")}
    assert have == listed
    assert listed <= {c.loss.__name__ for c in GH}  # and every one is in the shared suite
    for loss in (fl.rmse, fl.hinge, fl.binary_cross_entropy, fl.kl_div, fl.dice, fl.ctc):
        assert not hasattr(loss, "grad_hess")


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_signature_is_the_loss_without_reduction(case):
    loss_params = list(inspect.signature(case.loss).parameters.values())
    gh_params = list(inspect.signature(case.loss.grad_hess).parameters.values())
    assert [(p.name, p.default, p.kind) for p in loss_params if p.name != "reduction"] == \
        [(p.name, p.default, p.kind) for p in gh_params[:-2]]
    assert [(p.name, p.default, p.kind) for p in gh_params[-2:]] == [
        ("hessian_floor", None, inspect.Parameter.KEYWORD_ONLY),
        ("out", None, inspect.Parameter.KEYWORD_ONLY)]
    assert case.loss.grad_hess.__doc__
    with pytest.raises(TypeError, match="reduction"):
        case.loss.grad_hess(*_make(case, np.random.default_rng(0), np.float64)[0],
                            reduction="sum")


@pytest.mark.parametrize("sw", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", GH, ids=IDS)
def test_matches_reference(case, dtype, sw, rng):
    args, kw = _make(case, rng, dtype, sw)
    g, h = case.loss.grad_hess(*args, **kw)
    rg, rh = case.grad_hess(*args, **kw)
    for a, r, what in ((g, rg, "gradient"), (h, rh, "hessian")):
        assert a.dtype == dtype and a.shape == np.shape(args[0]) and a.flags.c_contiguous
        _close(a, r, dtype, what)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", GH, ids=IDS)
def test_gradient_is_the_gradient_of_the_summed_losses(case, dtype, rng):
    """grad_hess's gradient is .grad with reduction 'none' (another instantiation of the same
    point function: equal to a few ulp)."""
    args, kw = _make(case, rng, dtype, sw=True)
    g, _ = case.loss.grad_hess(*args, **kw)
    g2 = case.loss.grad(*args, reduction="none", **kw)
    ulps = 8 * np.finfo(dtype).eps
    np.testing.assert_allclose(g, g2, rtol=ulps, atol=ulps * np.max(np.abs(g2), initial=0))


@pytest.mark.parametrize("case", [c for c in GH if c.hessian_fd],
                         ids=[c.id for c in GH if c.hessian_fd])
def test_hessian_is_the_derivative_of_the_gradient(case, rng):
    """Central differences of the kernel's per-sample gradient, element by element (float64):
    the Hessian's diagonal."""
    args, kw = _make(case, rng, np.float64, sw=True)
    g, h = case.loss.grad_hess(*args, **kw)
    x = np.array(args[0], dtype=np.float64)
    flat = x.reshape(-1)
    for i in rng.choice(flat.size, size=min(30, flat.size), replace=False):
        step = 1e-6 * max(abs(flat[i]), 0.1)
        xp, xm = flat.copy(), flat.copy()
        xp[i] += step
        xm[i] -= step
        gp = case.loss.grad_hess(xp.reshape(x.shape), *args[1:], **kw)[0].reshape(-1)[i]
        gm = case.loss.grad_hess(xm.reshape(x.shape), *args[1:], **kw)[0].reshape(-1)[i]
        fd = (gp - gm) / (2 * step)
        assert h.reshape(-1)[i] == pytest.approx(fd, rel=1e-5, abs=1e-7 * (1 + abs(g.reshape(-1)[i]))), \
            f"element {i}"


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_sample_weight_multiplies_and_the_floor_comes_first(case, rng):
    """grad_hess(w) = w * grad_hess(1); with hessian_floor f the Hessian is
    w * max(h, f): a sample of weight 0 keeps 0 (and so does an ignored cross-entropy row)."""
    args, kw = _make(case, rng, np.float64, sw=True)
    w = kw.pop("sample_weight")
    w = np.where(rng.random(w.shape) < 0.2, 0.0, w)
    g0, h0 = case.loss.grad_hess(*args, **kw)
    ax = kw.get("axis", -1) % g0.ndim
    wb = np.expand_dims(w, ax) if case.loss is fl.cross_entropy else w  # one weight per row
    g, h = case.loss.grad_hess(*args, sample_weight=w, **kw)
    np.testing.assert_allclose(g, wb * g0, rtol=1e-13, atol=0)  # a few ulp (order of products)
    np.testing.assert_allclose(h, wb * h0, rtol=1e-13, atol=0)
    floor = float(np.median(h0[h0 != 0])) if np.any(h0 != 0) else 0.5
    if not np.any(h0 < floor):  # a constant Hessian: a floor above it
        floor = float(np.max(h0)) + 1.0
    _, hf = case.loss.grad_hess(*args, sample_weight=w, hessian_floor=floor, **kw)
    expected = wb * np.maximum(h0, floor)
    t = np.asarray(args[1])
    if case.loss is fl.cross_entropy and t.dtype.kind in "iu":
        expected = np.where(np.expand_dims(t == kw.get("ignore_index", -100), ax), 0.0, expected)
    np.testing.assert_allclose(hf, expected, rtol=1e-13, atol=0)
    assert np.any(hf > wb * h0)  # the floor changed something
    rf = case.grad_hess(*args, sample_weight=w, hessian_floor=floor, **kw)[1]
    np.testing.assert_allclose(hf, rf, rtol=1e-10, atol=1e-12 * max(1.0, np.max(np.abs(rf))))


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_out_receives_both_and_is_validated(case, rng):
    args, kw = _make(case, rng, np.float32, sw=True)
    g, h = case.loss.grad_hess(*args, **kw)
    out = (np.full_like(g, np.nan), np.full_like(h, np.nan))
    got = case.loss.grad_hess(*args, out=out, **kw)
    assert got is out
    np.testing.assert_array_equal(out[0], g)
    np.testing.assert_array_equal(out[1], h)
    # non-contiguous out arrays are filled too
    big = np.full((2,) + g.shape, np.nan, dtype=g.dtype)
    strided = (big[0][..., ::-1], big[1][..., ::-1])
    case.loss.grad_hess(*args, out=strided, **kw)
    np.testing.assert_array_equal(strided[0], g)
    np.testing.assert_array_equal(strided[1], h)
    # the gradient may overwrite the prediction
    pred = np.array(args[0])
    got = case.loss.grad_hess(pred, *args[1:], out=(pred, np.empty_like(h)), **kw)
    np.testing.assert_array_equal(pred, g)
    with pytest.raises(ValueError, match="out must have the Hessian's shape"):
        case.loss.grad_hess(*args, out=(np.empty_like(g), np.empty(g.shape + (1,), g.dtype)),
                            **kw)
    with pytest.raises(ValueError, match="out must have the gradient's shape"):
        case.loss.grad_hess(*args, out=(np.empty(g.shape, np.float64), np.empty_like(h)), **kw)
    with pytest.raises(TypeError, match="pair"):
        case.loss.grad_hess(*args, out=np.empty_like(g), **kw)
    with pytest.raises(TypeError, match="pair"):
        case.loss.grad_hess(*args, out=(np.empty_like(g),), **kw)
    same = np.empty_like(g)
    with pytest.raises(ValueError, match="share memory"):
        case.loss.grad_hess(*args, out=(same, same), **kw)
    with pytest.raises(TypeError, match="hessian_floor"):
        case.loss.grad_hess(*args, hessian_floor="1", **kw)
    with pytest.raises(ValueError, match="hessian_floor"):
        case.loss.grad_hess(*args, hessian_floor=np.nan, **kw)


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_thread_count_does_not_change_bits(case, rng, threads):
    args, kw = _make(case, rng, np.float32, sw=True, shape=case.bench_shapes[1])
    results = []
    for n in (1, 2, 3):
        threads(n)
        results.append(case.loss.grad_hess(*args, hessian_floor=1e-3, **kw))
    for g, h in results[1:]:
        assert g.tobytes() == results[0][0].tobytes()
        assert h.tobytes() == results[0][1].tobytes()


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_strided_inputs_and_float16(case, rng):
    args, kw = _make(case, rng, np.float64, sw=True)
    strided = []
    for a in args:
        a = np.asarray(a)
        big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        strided.append(view)
    for a, b in zip(case.loss.grad_hess(*args, **kw), case.loss.grad_hess(*strided, **kw)):
        np.testing.assert_array_equal(a, b)
    args, kw = _make(case, rng, np.float32)
    half = [a.astype(np.float16) if a.dtype == np.float32 else a for a in args]
    single = [a.astype(np.float32) if a.dtype == np.float16 else a for a in half]
    for a16, a32 in zip(case.loss.grad_hess(*half, **kw), case.loss.grad_hess(*single, **kw)):
        assert a16.dtype == np.float16
        np.testing.assert_array_equal(a16, a32.astype(np.float16))


@pytest.mark.parametrize("case", GH, ids=IDS)
def test_nan_prediction_gives_nan_at_that_element(case, rng):
    args, kw = _make(case, rng, np.float64)
    x = np.array(args[0])
    x.reshape(-1)[3] = np.nan
    g, h = case.loss.grad_hess(x, *args[1:], **kw)
    if case.loss is fl.cross_entropy:  # the whole row (softmax over the classes)
        assert np.isnan(g).any() and np.isnan(h).any()
        return
    assert np.isnan(g.reshape(-1)[3]) and np.isnan(h.reshape(-1)[3])
    assert np.isnan(case.loss.grad_hess(x, *args[1:], hessian_floor=1.0, **kw)[1].reshape(-1)[3])
    others = np.arange(x.size) != 3
    assert np.isfinite(g.reshape(-1)[others]).all() and np.isfinite(h.reshape(-1)[others]).all()


# ----------------------------------------------------------------------------- closed forms

BIG = 1e4
INF = np.inf


def _f(dtype, *v):
    return np.array(v, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_logistic_and_focal_at_extreme_margins(dtype):
    """At +-1e4 the sigmoid saturates: the gradient's limits, a Hessian of exactly 0 (the true
    value, e^-1e4, underflows), finite everywhere."""
    x, t = _f(dtype, BIG, -BIG, BIG, -BIG), _f(dtype, 1, 1, 0, 0)
    g, h = fl.binary_cross_entropy_with_logits.grad_hess(x, t)
    np.testing.assert_array_equal(g, [0, -1, 1, 0])
    np.testing.assert_array_equal(h, [0, 0, 0, 0])
    g, h = fl.binary_cross_entropy_with_logits.grad_hess(x, t, pos_weight=_f(dtype, 3.0))
    np.testing.assert_array_equal(g, [0, -3, 1, 0])
    for gamma, alpha in ((2.0, 0.25), (0.0, None), (0.5, 0.9), (5.0, None)):
        a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
        g, h = fl.focal.grad_hess(x, t, gamma=gamma, alpha=alpha)
        # wrong and confident: d/dx of a_t softplus(-+x) times (1 - p_t)^gamma -> 1
        np.testing.assert_allclose(g, [0, -a_pos, a_neg, 0], rtol=1e-6)
        np.testing.assert_array_equal(h, [0, 0, 0, 0])
    # at moderate margins the focal Hessian is small but positive for the right class
    g, h = fl.focal.grad_hess(_f(dtype, 30.0), _f(dtype, 1.0), gamma=2.0)
    assert 0 <= h[0] < 1e-12 and np.isfinite(g[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_focal_gamma0_is_the_logistic_objective(dtype, rng):
    x = (rng.standard_normal(200) * 4).astype(dtype)
    t = rng.integers(0, 2, 200).astype(dtype)
    gf, hf = fl.focal.grad_hess(x, t, gamma=0.0)
    gb, hb = fl.binary_cross_entropy_with_logits.grad_hess(x, t)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(gf, gb, rtol=rtol, atol=rtol * 1e-3)
    np.testing.assert_allclose(hf, hb, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_regression_hessians_closed_forms(dtype):
    x, y = _f(dtype, BIG, -BIG, 0.3, -0.2), _f(dtype, 0.5, 0.5, 0.3, 0.0)
    for loss, kw, h_expected in [
        (fl.mse, {}, [2, 2, 2, 2]), (fl.mae, {}, [1, 1, 1, 1]),
        (fl.huber, {"delta": 0.2}, [0, 0, 1, 1]),  # |d| = 0.2 = delta: the quadratic side
        (fl.smooth_l1, {"beta": 0.5}, [0, 0, 2, 2]), (fl.smooth_l1, {"beta": 0.0}, [1, 1, 1, 1]),
        (fl.pinball, {"quantile": 0.3}, [1, 1, 1, 1]),
    ]:
        g, h = loss.grad_hess(x, y, **kw)
        np.testing.assert_array_equal(h, h_expected, err_msg=f"{loss.__name__} {kw}")
        assert np.all(np.isfinite(g))
    g, h = fl.log_cosh.grad_hess(x, y)
    np.testing.assert_array_equal(g[:2], [1, -1])
    np.testing.assert_array_equal(h[:2], [0, 0])
    assert h[2] == 1 and 0 < h[3] < 1
    g, h = fl.squared_hinge.grad_hess(_f(dtype, BIG, -BIG, 1.0), _f(dtype, 1, 1, 1))
    np.testing.assert_array_equal(g, _f(dtype, 0, -2 * (1 + BIG), 0))
    np.testing.assert_array_equal(h, [0, 2, 0])  # the kink t x = 1 takes the outer side
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    g, h = fl.msle.grad_hess(_f(dtype, BIG), _f(dtype, 0.5))
    a = np.log1p(BIG) - np.log1p(0.5)  # 2a / (1 + x) and 2 (1 - a) / (1 + x)^2
    np.testing.assert_allclose([g[0], h[0]], [2 * a / (1 + BIG), 2 * (1 - a) / (1 + BIG) ** 2],
                               rtol=rtol)
    g, h = fl.gaussian_nll.grad_hess(_f(dtype, BIG, -BIG), _f(dtype, 0, 0), 2.0)
    np.testing.assert_array_equal(g, [BIG / 2, -BIG / 2])
    np.testing.assert_array_equal(h, [0.5, 0.5])
    g, h = fl.poisson_nll.grad_hess(_f(dtype, BIG), _f(dtype, 3.0), log_input=False)
    xe = BIG + 1e-8  # eps is added to the rate
    np.testing.assert_allclose([g[0], h[0]], [1 - 3 / xe, 3 / xe**2], rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_deviances_at_extreme_margins(dtype):
    """mu = exp(x): 0 at x = -1e4 and inf at +1e4, so the limits are exact numbers or inf."""
    x, y = _f(dtype, -BIG, -BIG, BIG), _f(dtype, 0.0, 2.0, 2.0)
    v, g = fl.poisson.value_and_grad(x, y, reduction="none")
    g2, h = fl.poisson.grad_hess(x, y)
    np.testing.assert_array_equal(g2, _f(dtype, 0, -4, INF))
    np.testing.assert_array_equal(h, _f(dtype, 0, 0, INF))
    # 2 [y log(y / mu) - y + mu] = 2 [y (log y - x) - y]
    np.testing.assert_allclose(v[:2], [0, 2 * (2 * (np.log(2) + BIG) - 2)], rtol=1e-6)
    assert v[2] == INF
    g, h = fl.gamma.grad_hess(_f(dtype, BIG, -BIG), _f(dtype, 2.0, 2.0))
    np.testing.assert_array_equal(g, _f(dtype, 2, -INF))
    np.testing.assert_array_equal(h, _f(dtype, 0, INF))
    g, h = fl.tweedie.grad_hess(_f(dtype, BIG, -BIG, -BIG), _f(dtype, 2.0, 2.0, 0.0), power=1.5)
    np.testing.assert_array_equal(g, _f(dtype, INF, -INF, 0))
    np.testing.assert_array_equal(h, _f(dtype, INF, INF, 0))
    g, h = fl.poisson_nll.grad_hess(_f(dtype, -BIG), _f(dtype, 3.0))
    assert g[0] == -3 and h[0] == 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_deviances_are_zero_at_the_perfect_fit_to_full_precision(dtype):
    """The expm1 forms keep the digits where the textbook deviance cancels (each term ~ y log y,
    the sum ~ 0)."""
    y = np.array([0.5, 3.0, 1e3, 1e6])
    for loss, kw in [(fl.poisson, {}), (fl.gamma, {}), (fl.tweedie, {"power": 1.5}),
                     (fl.tweedie, {"power": 3.0})]:
        x = np.log(y).astype(dtype)
        r = np.log(y.astype(dtype).astype(np.float64)) - x.astype(np.float64)  # x's rounding
        v = loss(x, y.astype(dtype), reduction="none", **kw).astype(np.float64)
        # d ~ y^(2-p) r^2 near the fit, r the log-scale gap between exp(x) and y: x's rounding
        # (measured with NumPy's log, itself within an ulp) plus the kernel's exp, a few ulp.
        # The textbook form cancels terms of ~y log y and is off by ~eps y log y instead.
        p = {"poisson": 1.0, "gamma": 2.0}.get(loss.__name__, kw.get("power"))
        r_eff = np.abs(r) + 4 * np.finfo(dtype).eps
        assert np.all(v >= 0) and np.all(v <= 2 * y ** (2 - p) * r_eff**2), (loss.__name__, v)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_cross_entropy_at_extreme_logits(dtype):
    z = _f(dtype, [BIG, -BIG, 0.0], [BIG, -BIG, 0.0], [-BIG, -BIG, -BIG])
    g, h = fl.cross_entropy.grad_hess(z, np.array([0, 1, 2]))
    np.testing.assert_array_equal(g[:2], _f(dtype, [0, 0, 0], [1, -1, 0]))
    np.testing.assert_allclose(g[2], [1 / 3, 1 / 3, -2 / 3], rtol=1e-6)
    np.testing.assert_array_equal(h[:2], np.zeros((2, 3)))
    np.testing.assert_allclose(h[2], [2 / 9] * 3, rtol=1e-6)


def test_cross_entropy_hessian_is_the_diagonal_of_the_full_hessian(rng):
    """For one row, the full Hessian by finite differences of the gradient; its diagonal is what
    grad_hess returns (and the off-diagonal -B p_j p_k is what boosting drops)."""
    z = rng.standard_normal(5) * 2
    kw = {"weight": rng.uniform(0.5, 2, 5), "label_smoothing": 0.2, "temperature": 1.7}
    y = np.array([2])
    full = np.empty((5, 5))
    for k in range(5):
        e = np.zeros(5)
        e[k] = 1e-6
        full[:, k] = (fl.cross_entropy.grad(z[None] + e, y, reduction="sum", **kw)
                      - fl.cross_entropy.grad(z[None] - e, y, reduction="sum", **kw))[0] / 2e-6
    _, h = fl.cross_entropy.grad_hess(z[None], y, **kw)
    np.testing.assert_allclose(h[0], np.diag(full), rtol=1e-6)
    p = fl.softmax(z, temperature=1.7)
    b = full[0, 1] / (-p[0] * p[1])
    np.testing.assert_allclose(full, b * (np.diag(p) - np.outer(p, p)), rtol=1e-5, atol=1e-9)


def test_refusals_name_the_reason():
    x, t = np.array([0.2, 0.7]), np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="from_logits=True"):
        fl.focal.grad_hess(x, t, from_logits=False)
    with pytest.raises(ValueError, match="power must be <= 0 or >= 1"):
        fl.tweedie.grad_hess(x, t, power=0.5)
    with pytest.raises(ValueError, match="target must be > 0"):
        fl.gamma.grad_hess(x, t)


# ----------------------------------------------------------------------------- scikit-learn


def _sklearn_cases(rng, n=500):
    L = pytest.importorskip("sklearn._loss.loss")
    x = rng.normal(0, 1.0, n)
    y_pos = rng.gamma(2.0, np.exp(x + rng.normal(0, 0.5, n)) / 2)
    y_cnt = np.where(rng.random(n) < 0.2, 0.0, y_pos)
    y_real = rng.normal(0, 1.5, n)
    y01 = rng.integers(0, 2, n).astype(float)
    # (fastloss loss, its options, sklearn loss, y, factor: fastloss = factor * sklearn)
    return [
        (fl.mse, {}, L.HalfSquaredError(), y_real, 2.0),
        (fl.mae, {}, L.AbsoluteError(), y_real, 1.0),
        (fl.huber, {"delta": 0.8}, L.HuberLoss(delta=0.8), y_real, 1.0),
        (fl.pinball, {"quantile": 0.8}, L.PinballLoss(quantile=0.8), y_real, 1.0),
        (fl.poisson, {}, L.HalfPoissonLoss(), y_cnt, 2.0),
        (fl.gamma, {}, L.HalfGammaLoss(), y_pos, 2.0),
        (fl.tweedie, {"power": 1.5}, L.HalfTweedieLoss(power=1.5), y_cnt, 2.0),
        (fl.tweedie, {"power": 1.2}, L.HalfTweedieLoss(power=1.2), y_cnt, 2.0),
        (fl.tweedie, {"power": 1.0}, L.HalfTweedieLoss(power=1.0), y_cnt, 2.0),
        (fl.tweedie, {"power": 2.0}, L.HalfTweedieLoss(power=2.0), y_pos, 2.0),
        (fl.tweedie, {"power": 3.0}, L.HalfTweedieLoss(power=3.0), y_pos, 2.0),
        (fl.tweedie, {"power": 0.0}, L.HalfTweedieLoss(power=0.0), y_real, 2.0),
        (fl.binary_cross_entropy_with_logits, {}, L.HalfBinomialLoss(), y01, 1.0),
    ], x


def test_grad_hess_matches_sklearn_loss_to_1e12(rng):
    """scikit-learn's gradient_hessian (float64) for every loss it shares with fastloss, with
    its "half" conventions: fastloss's deviances and squared error are the full ones (twice
    sklearn's Half* losses), the others are the same. Also the values: sklearn's loss plus its
    constant_to_optimal_zero is the half deviance."""
    cases, x = _sklearn_cases(rng)
    w = rng.uniform(0.2, 2.0, x.size)
    for loss, kw, sk, y, factor in cases:
        name = f"{loss.__name__} {kw}"
        sg, sh = sk.gradient_hessian(y, x, sample_weight=w)
        g, h = loss.grad_hess(x, y, sample_weight=w, **kw)
        if loss in (fl.mae, fl.pinball):  # the subgradient at y == x differs (never hit here)
            assert not np.any(y == x)
        np.testing.assert_allclose(g, factor * sg, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(h, factor * sh, rtol=1e-12, atol=1e-12, err_msg=name)
        v = loss(x, y, reduction="none", **kw)
        sv = sk.loss(y, x) + sk.constant_to_optimal_zero(y)
        np.testing.assert_allclose(v, factor * sv, rtol=1e-11, atol=1e-12, err_msg=name)


def test_cross_entropy_grad_hess_matches_sklearn_multinomial(rng):
    L = pytest.importorskip("sklearn._loss.loss")
    n, k = 400, 10
    z = rng.normal(0, 2, (n, k))
    y = rng.integers(0, k, n)
    w = rng.uniform(0.2, 2.0, n)
    sg, sh = L.HalfMultinomialLoss(n_classes=k).gradient_hessian(y.astype(float), z,
                                                                sample_weight=w)
    g, h = fl.cross_entropy.grad_hess(z, y, sample_weight=w)
    np.testing.assert_allclose(g, sg, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, sh, rtol=1e-12, atol=1e-14)
