"""Properties shared by every elementwise loss (the fastloss._elementwise call path): NaN
propagation, shape errors, empty inputs, in-place gradients."""

import numpy as np
import pytest

import fastloss as fl
from fastloss import binary, regression
from fastloss._registry import CASES

ALL_EW = [fl.mse, fl.mae, fl.msle, fl.smooth_l1, fl.log_cosh, fl.binary_cross_entropy,
          fl.binary_cross_entropy_with_logits, fl.squared_hinge, fl.focal]


def _valid_inputs(loss):
    if loss is fl.binary_cross_entropy or loss is fl.msle:
        return np.array([0.25, 0.5, 0.75]), np.array([0.0, 1.0, 0.5])
    if loss is fl.squared_hinge:
        return np.array([0.25, 0.5, 0.75]), np.array([1.0, -1.0, 1.0])
    return np.array([0.25, -0.5, 0.75]), np.array([0.0, 1.0, 1.0])


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_nan_prediction_gives_nan(loss):
    x, t = _valid_inputs(loss)
    x[1] = np.nan
    reduction = "sum" if loss is fl.rmse else "none"
    v, g = loss.value_and_grad(x, t, reduction=reduction)
    assert np.isnan(v).any()
    assert np.isnan(g[1])
    if loss is not fl.rmse:
        assert np.isfinite(v[[0, 2]]).all() and np.isfinite(g[[0, 2]]).all()


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_shape_mismatch_is_a_value_error(loss):
    x, t = _valid_inputs(loss)
    with pytest.raises(ValueError, match="same shape"):
        loss(x, t[:2])


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_empty_input(loss):
    x = np.zeros(0)
    assert loss(x, x, reduction="sum") == 0.0
    assert loss.grad(x, x, reduction="sum").shape == (0,)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(loss(x, x, reduction="mean"))  # 0 / 0, as torch


# ------------------------------------------------- in-place gradients: out= the prediction itself

EW_LOSSES = {getattr(fl, n) for n in regression.__all__ + binary.__all__} | {fl.kl_div}
EW_CASES = [c for c in CASES if c.loss in EW_LOSSES]
_UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _in_place_args(case, args, dtype):
    """args with every differentiated input replaced by a fresh C-contiguous copy in dtype, and
    the out= that is those copies."""
    a = list(args)
    preds = [np.array(args[k], dtype=dtype, order="C") for k in case.grad_args]
    for k, p in zip(case.grad_args, preds):
        a[k] = p
    return a, (preds[0] if len(preds) == 1 else tuple(preds))


def _assert_same_bits(got, ref):
    for g, r in zip(got if isinstance(got, tuple) else (got,),
                    ref if isinstance(ref, tuple) else (ref,)):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_array_equal(g.view(_UINT[g.dtype]), r.view(_UINT[r.dtype]))


@pytest.mark.parametrize("sw", [False, True], ids=["", "sw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", EW_CASES, ids=[c.id for c in EW_CASES])
def test_in_place_gradient_has_the_out_of_place_bits(case, dtype, sw, rng):
    """grad(x, ..., out=x) and value_and_grad(..., out=x) overwrite x with exactly the gradient
    the out-of-place call returns, for every reduction."""
    if sw and not case.sample_weight:
        pytest.skip("the loss takes no sample_weight")
    args, kw = case.make(rng, dtype, case.shape, sw)
    for red in case.reductions:
        v_ref, g_ref = case.loss.value_and_grad(*args, reduction=red, **kw)
        a, out = _in_place_args(case, args, dtype)
        g = case.loss.grad(*a, reduction=red, out=out, **kw)
        assert g is out
        _assert_same_bits(g, g_ref)
        a, out = _in_place_args(case, args, dtype)
        v, g = case.loss.value_and_grad(*a, reduction=red, out=out, **kw)
        assert g is out
        _assert_same_bits(g, g_ref)
        np.testing.assert_array_equal(np.asarray(v, dtype=np.float64).ravel() if red != "none"
                                      or len(case.grad_args) == 1 else np.concatenate(v),
                                      np.asarray(v_ref, dtype=np.float64).ravel()
                                      if red != "none" or len(case.grad_args) == 1
                                      else np.concatenate(v_ref))


def _peak_bytes(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("case", EW_CASES, ids=[c.id for c in EW_CASES])
def test_in_place_gradient_allocates_no_array_of_the_input_size(case, rng):
    """No temporary of the prediction's size (800 KB here: below the buffer cache's 4 MiB, so a
    fresh result array would be a traced NumPy allocation, as the out-of-place call shows)."""
    args, kw = case.make(rng, np.float64, (100, 1000), False)
    args = [np.asarray(a, dtype=np.float64) for a in args]  # int targets would be converted
    red = "mean" if "mean" in case.reductions else case.reductions[0]
    a, out = _in_place_args(case, args, np.float64)
    size = a[case.grad_args[0]].nbytes
    assert _peak_bytes(lambda: case.loss.grad(*args, reduction=red, **kw)) >= size
    assert _peak_bytes(lambda: case.loss.grad(*a, reduction=red, out=out, **kw)) < size / 8
    a, out = _in_place_args(case, args, np.float64)
    assert _peak_bytes(lambda: case.loss.value_and_grad(*a, reduction=red, out=out, **kw)) \
        < size / 8


def test_out_overlapping_the_prediction_partly_is_not_used_in_place():
    """Only the very buffer is written in place; a shifted view of it gets a fresh gradient
    that is then copied (the result is the out-of-place one)."""
    x = np.linspace(-1, 1, 11)
    t = np.linspace(1, -1, 11)
    ref = fl.mse.grad(x[:10], t[:10])
    buf = x.copy()
    g = fl.mse.grad(buf[:10], t[:10], out=buf[1:])
    np.testing.assert_array_equal(g, ref)
    assert g.base is buf
