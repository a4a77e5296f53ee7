"""The NaN and inf policy (docs/guide.rst, "NaN and inf"), for every registry case.

- NaN in the prediction: the affected per-sample losses are NaN (exactly the samples the
  definition makes NaN: the reference's NaN pattern; for multi_margin the whole sample), so are
  the "sum" and "mean" values; never a crash.
- NaN anywhere in any float input (targets, weights too): a result or a ValueError, never a crash.
- +-inf in a prediction where the loss has a limit there: that limit (closed forms below).
"""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference
from fastloss._registry import CASES

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _parts(x, case):
    return tuple(x) if len(case.grad_args) > 1 and isinstance(x, tuple) else (x,)


def _nan_mask(x, case):
    return np.concatenate([np.isnan(np.asarray(p, dtype=np.float64)).ravel()
                           for p in _parts(x, case)])


def _nan_positions(case, args, kw, k, limit=6):
    """Flat positions in args[k] that the loss uses (a NaN there makes the reference's "sum"
    NaN: not an ignored row, a padded time step or an unmined anchor), at most ``limit``."""
    x = np.asarray(args[k])
    found = []
    for i in np.random.default_rng(0).permutation(x.size):
        a = list(args)
        xx = x.copy().reshape(-1)
        xx[i] = np.nan
        a[k] = xx.reshape(x.shape)
        red = "sum" if "sum" in case.reductions else case.reductions[0]
        ref = reference.multi_margin if case.loss is fl.multi_margin else case.reference
        v, _ = ref(*a, reduction=red, **kw)
        if case.loss is fl.multi_margin or np.isnan(sum(np.sum(p) for p in _parts(v, case))):
            found.append(int(i))
        if len(found) == limit:
            break
    return found


PARAMS = [pytest.param(c, k, id=f"{c.id}-arg{k}") for c in CASES for k in c.grad_args]


@pytest.mark.parametrize("case,k", PARAMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_nan_in_prediction_makes_the_affected_samples_nan(case, k, dtype, rng):
    args, kw = case.make(rng, dtype, case.shape, case.sample_weight)
    positions = _nan_positions(case, args, kw, k)
    assert positions, "no element of the prediction is used?"
    for i in positions:
        a = list(args)
        x = np.array(args[k]).reshape(-1)
        x[i] = np.nan
        a[k] = x.reshape(np.shape(args[k]))
        for red in case.reductions:
            value, grad = case.loss.value_and_grad(*a, reduction=red, **kw)
            if red != "none":
                assert np.isnan(sum(np.sum(p) for p in _parts(value, case))), (i, red)
                continue
            got = _nan_mask(value, case)
            if case.loss is fl.multi_margin:  # the whole sample (documented; torch drops it)
                ax = kw.get("axis", -1) % np.ndim(args[0])
                idx = np.unravel_index(i, np.shape(args[0]))
                sample = idx[:ax] + idx[ax + 1:]
                expected = np.zeros(np.shape(value), dtype=bool)
                expected[sample] = True
                expected = expected.ravel()
            else:
                ref_value, _ = case.reference(*a, reduction="none", **kw)
                expected = _nan_mask(ref_value, case)
                if case.loss is fl.kl_div:  # 0 * log 0 terms: NaN at the element itself (torch)
                    expected[i] = True
            np.testing.assert_array_equal(got, expected, err_msg=f"position {i}")
            assert got.any()
        # the gradient of an affected sample is NaN too (kl_div on log-probabilities: its
        # gradient -t does not depend on pred)
        if not (case.loss is fl.kl_div and kw.get("log_pred")):
            g = _parts(case.loss.grad(*a, reduction="sum" if "sum" in case.reductions
                                      else case.reductions[0], **kw), case)
            assert any(np.isnan(p).any() for p in g)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nan_in_any_float_input_never_crashes(case, rng):
    """NaN in each float argument and keyword array (targets, weights, sample_weight): every
    entry point and reduction returns or raises ValueError (e.g. a NaN where a probability is
    required)."""
    args, kw = case.make(rng, np.float64, case.shape, case.sample_weight)
    variants = []
    for j, a in enumerate(args):
        if np.asarray(a).dtype.kind == "f" and np.size(a):
            b = np.array(a, dtype=np.float64)
            b.reshape(-1)[0] = np.nan
            variants.append((args[:j] + (b,) + args[j + 1:] if isinstance(args, tuple)
                             else [*args[:j], b, *args[j + 1:]], kw))
    for name, v in kw.items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size:
            b = v.copy()
            b.reshape(-1)[0] = np.nan
            variants.append((args, {**kw, name: b}))
    for a, kw2 in variants:
        for red in case.reductions:
            for fn in (case.loss, case.loss.grad, case.loss.value_and_grad):
                try:
                    fn(*a, reduction=red, **kw2)
                except ValueError:
                    pass


def _vg(loss, *args, **kw):
    return loss.value_and_grad(*args, reduction="none", **kw)


INF = np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_infinite_logits_give_the_limit(dtype):
    """Closed-form limits at +-inf, per loss (README table)."""
    f = lambda *v: np.array(v, dtype=dtype)  # noqa: E731
    # binary losses on logits, hard targets: confident and right -> 0, confident and wrong -> inf
    x, t = f(INF, -INF, INF, -INF), f(1, 1, 0, 0)
    for loss, kw in [(fl.binary_cross_entropy_with_logits, {}),
                     (fl.binary_cross_entropy_with_logits, {"pos_weight": f(2.0)}),
                     (fl.focal, {}), (fl.focal, {"gamma": 0.0}), (fl.focal, {"alpha": 0.25})]:
        v, g = _vg(loss, x, t, **kw)
        np.testing.assert_array_equal(v, f(0, INF, INF, 0), err_msg=f"{loss.__name__} {kw}")
        assert np.all(np.isfinite(g)) and g[0] == 0 and g[3] == 0 and g[1] < 0 < g[2]
    v, g = _vg(fl.gan_generator, f(INF, -INF))
    np.testing.assert_array_equal(v, f(0, INF))
    np.testing.assert_array_equal(g, f(0, -1))
    v, g = _vg(fl.gan_generator, f(INF, -INF), saturating=True)
    np.testing.assert_array_equal(v, f(-INF, 0))
    np.testing.assert_array_equal(g, f(-1, 0))
    v, g = fl.gan_discriminator.value_and_grad(f(INF, -INF), f(-INF, INF), reduction="none")
    np.testing.assert_array_equal(v[0], f(0, INF))
    np.testing.assert_array_equal(v[1], f(0, INF))
    # margin losses: beyond the margin -> 0 with a zero gradient, on the wrong side -> inf
    for loss in (fl.hinge, fl.squared_hinge):
        v, g = _vg(loss, f(INF, -INF), f(1, 1))
        np.testing.assert_array_equal(v, f(0, INF))
        assert g[0] == 0 and g[1] < 0
    # regression losses: inf loss, the gradient's limit
    for loss, glim in [(fl.huber, 1.0), (fl.mae, 1.0), (fl.smooth_l1, 1.0), (fl.log_cosh, 1.0),
                       (fl.mse, INF)]:
        v, g = _vg(loss, f(INF, -INF), f(0.5, 0.5))
        np.testing.assert_array_equal(v, f(INF, INF), err_msg=loss.__name__)
        np.testing.assert_array_equal(g, f(glim, -glim), err_msg=loss.__name__)
    v, g = _vg(fl.msle, f(INF), f(0.5))
    assert v[0] == INF


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_minus_inf_logits_in_softmax_losses(dtype):
    """-inf logits have probability 0: cross-entropy equals the loss without that class (its
    gradient 0); -inf at the target class gives +inf. +inf is NaN (no limit: inf - inf), as
    torch."""
    logits = np.array([[1.0, -INF, 0.5, -0.25], [0.3, 0.2, -INF, 0.1]], dtype=dtype)
    y = np.array([0, 1])
    v, g = fl.cross_entropy.value_and_grad(logits, y, reduction="none")
    v0 = [fl.cross_entropy(np.delete(logits[r], j)[None], np.array([y[r] - (j < y[r])]),
                           reduction="sum") for r, j in ((0, 1), (1, 2))]
    np.testing.assert_allclose(v, v0, rtol=1e-6)
    assert g[0, 1] == 0 and g[1, 2] == 0 and np.all(np.isfinite(g))
    v = fl.cross_entropy(logits, np.array([1, 2]), reduction="none")
    np.testing.assert_array_equal(v, [INF, INF])
    assert np.isnan(fl.cross_entropy(np.array([[INF, 0.0]], dtype=dtype), np.array([0])))
    # soft targets with -inf where the target is 0, distillation, logsumexp/log_softmax
    soft = np.array([[0.7, 0.0, 0.2, 0.1]], dtype=dtype)
    v = fl.cross_entropy(logits[:1], soft, reduction="sum")
    assert np.isfinite(v)
    assert fl.logsumexp(np.array([-INF, -INF], dtype=dtype)) == -INF
    assert fl.logsumexp(np.array([INF, 0.0], dtype=dtype)) == INF
    np.testing.assert_array_equal(fl.softmax(np.array([-INF, 0.0], dtype=dtype)), [0, 1])
    # multi_margin: +inf at a wrong class -> inf, -inf at a wrong class drops its term
    s = np.array([[0.5, 0.1, -0.3]], dtype=dtype)
    v_inf = fl.multi_margin(np.array([[0.5, INF, -0.3]], dtype=dtype), np.array([0]), reduction="sum")
    v_drop = fl.multi_margin(np.array([[0.5, -INF, -0.3]], dtype=dtype), np.array([0]), reduction="sum")
    assert v_inf == INF
    expected = max(0.0, 1 - 0.5 + -0.3) / 3
    assert v_drop == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(fl.multi_margin(s, np.array([0])))
