"""The shared suite: every registered loss variant x dtype x reduction x sample_weight against the
NumPy reference, finite differences, PyTorch (when installed), thread counts and layouts."""

import numpy as np
import pytest

from fastloss._registry import CASES

from conftest import tol

DTYPES = [np.float32, np.float64]
IDS = [c.id for c in CASES]


def _cases_with_reductions():
    for c in CASES:
        for r in c.reductions:
            yield pytest.param(c, r, id=f"{c.id}-{r}")


def _make(case, rng, dtype, sw=False, shape=None):
    return case.make(rng, dtype, shape or case.shape, sw)


def _parts(x, case):
    """The arrays of a value or gradient: one, or one per argument when the loss
    differentiates several (len(case.grad_args) > 1 gives tuples)."""
    return tuple(x) if len(case.grad_args) > 1 and isinstance(x, tuple) else (x,)


def _assert_close(actual, expected, dtype, what):
    rtol, atol = tol(dtype)
    scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol * scale, err_msg=what)


@pytest.mark.parametrize("sw", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case,reduction", list(_cases_with_reductions()))
def test_matches_reference(case, reduction, dtype, sw, rng):
    if sw and not case.sample_weight:
        pytest.skip("the loss takes no sample_weight")
    args, kw = _make(case, rng, dtype, sw)
    value, grad = case.loss.value_and_grad(*args, reduction=reduction, **kw)
    ref_value, ref_grad = case.reference(*args, reduction=reduction, **kw)
    grads, ref_grads = _parts(grad, case), _parts(ref_grad, case)
    assert len(grads) == len(ref_grads) == len(case.grad_args)
    for k, g, rg in zip(case.grad_args, grads, ref_grads):
        assert g.dtype == dtype and g.shape == np.shape(args[k])
        _assert_close(g, rg, dtype, f"gradient {k}")
    values, ref_values = _parts(value, case), _parts(ref_value, case)
    assert len(values) == len(ref_values)
    for v, rv in zip(values, ref_values):
        if reduction == "none":
            assert v.dtype == dtype and v.shape == np.shape(rv)
        else:
            assert np.ndim(v) == 0 and v.dtype == dtype
        _assert_close(v, rv, dtype, "value")
    # the three entry points agree to a few ulp (each is one specialisation of the kernel loop,
    # which the compiler may vectorise differently: vector exp/log differ from scalar by ~1 ulp)
    ulps = 8 * np.finfo(dtype).eps
    pairs = list(zip(_parts(case.loss(*args, reduction=reduction, **kw), case), values))
    pairs += list(zip(_parts(case.loss.grad(*args, reduction=reduction, **kw), case), grads))
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=ulps, atol=ulps * np.max(np.abs(b), initial=0))


@pytest.mark.parametrize("case,reduction", list(_cases_with_reductions()))
def test_grad_finite_differences(case, reduction, rng):
    """The kernel's gradient against central differences of the reference value (float64)."""
    args, kw = _make(case, rng, np.float64, sw=True)
    grads = _parts(case.loss.grad(*args, reduction=reduction, **kw), case)
    for k, grad in zip(case.grad_args, grads):
        x = np.array(args[k], dtype=np.float64)

        def f(xv):
            v, _ = case.reference(*args[:k], xv, *args[k + 1:], reduction=reduction, **kw)
            return float(sum(np.sum(p) for p in _parts(v, case)))

        flat = x.reshape(-1)
        idx = rng.choice(flat.size, size=min(25, flat.size), replace=False)
        for i in idx:
            h = 1e-5 * max(abs(flat[i]), 0.1)
            xp, xm = flat.copy(), flat.copy()
            xp[i] += h
            xm[i] -= h
            fd = (f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h)
            assert grad.reshape(-1)[i] == pytest.approx(fd, rel=1e-5, abs=1e-7), \
                f"argument {k}, element {i}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case,reduction", [p for p in _cases_with_reductions()
                                            if p.values[0].torch is not None])
def test_matches_torch(case, reduction, dtype, rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    args, kw = _make(case, rng, dtype)
    value, grad = case.loss.value_and_grad(*args, reduction=reduction, **kw)
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in args]
    for k in case.grad_args:
        tensors[k].requires_grad_(True)
    tkw = {k: (torch.from_numpy(np.asarray(v, dtype=dtype)) if isinstance(v, np.ndarray) else v)
           for k, v in kw.items()}
    out = case.torch(F, *tensors, reduction=reduction, **tkw)
    outs = out if isinstance(out, tuple) else (out,)
    sum(o.sum() for o in outs).backward()
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    if len(case.grad_args) > 1 and isinstance(value, tuple):
        values = _parts(value, case)
    else:
        values, outs = (value,), (sum(outs),)
    for v, o in zip(values, outs):
        np.testing.assert_allclose(v, o.detach().numpy(), rtol=rtol, atol=rtol)
    for g, k in zip(_parts(grad, case), case.grad_args):
        np.testing.assert_allclose(g, tensors[k].grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_thread_count_does_not_change_bits(case, rng, threads):
    shape = case.bench_shapes[1]
    args, kw = _make(case, rng, np.float32, sw=True, shape=shape)
    results = []
    for n in (1, 2, 3):
        threads(n)
        for reduction in ("sum", "mean"):
            v, g = case.loss.value_and_grad(*args, reduction=reduction, **kw)
            results.append((n, reduction, v, g))
    for n, reduction, v, g in results[2:]:
        v1, g1 = results[0 if reduction == "sum" else 1][2:]
        assert v.tobytes() == v1.tobytes(), (n, reduction)
        for a, b in zip(_parts(g, case), _parts(g1, case)):
            assert a.tobytes() == b.tobytes(), (n, reduction)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_strided_inputs(case, rng):
    """Views with negative and non-unit strides give the results of their contiguous copies."""
    args, kw = _make(case, rng, np.float64, sw=True)
    strided = []
    for a in args:
        a = np.asarray(a)
        big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a[::-1] if a.ndim else a
        strided.append(view[::-1] if a.ndim else view)
    for a, s in zip(args, strided):
        np.testing.assert_array_equal(a, s)
    assert not strided[0].flags.c_contiguous
    v1, g1 = case.loss.value_and_grad(*args, **kw)
    v2, g2 = case.loss.value_and_grad(*strided, **kw)
    np.testing.assert_array_equal(v1, v2)
    for a, b in zip(_parts(g1, case), _parts(g2, case)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float16_is_computed_in_float32(case, rng):
    args, kw = _make(case, rng, np.float32)
    half = [a.astype(np.float16) if a.dtype == np.float32 else a for a in args]
    single = [a.astype(np.float32) if a.dtype == np.float16 else a for a in half]
    reduction = "none" if "none" in case.reductions else case.reductions[0]
    v16, g16 = case.loss.value_and_grad(*half, reduction=reduction, **kw)
    v32, g32 = case.loss.value_and_grad(*single, reduction=reduction, **kw)
    for a16, a32 in zip(_parts(v16, case) + _parts(g16, case), _parts(v32, case) + _parts(g32, case)):
        assert a16.dtype == np.float16
        np.testing.assert_array_equal(a16, a32.astype(np.float16))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("bad", [np.int32, np.complex128, object])
def test_non_float_prediction_is_a_type_error(case, bad, rng):
    args, kw = _make(case, rng, np.float64)
    with pytest.raises(TypeError, match="dtype"):
        case.loss(np.asarray(args[0]).astype(bad), *args[1:], **kw)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unknown_reduction(case, rng):
    args, kw = _make(case, rng, np.float64)
    with pytest.raises(ValueError, match="reduction"):
        case.loss(*args, reduction="average", **kw)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_weight_shape_mismatch(case, rng):
    if not case.sample_weight:
        pytest.skip("the loss takes no sample_weight")
    args, kw = _make(case, rng, np.float64)
    with pytest.raises(ValueError, match="sample_weight"):
        case.loss(*args, sample_weight=np.ones(np.size(args[0]) + 1), **kw)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sum_is_sum_of_none_and_weights_scale(case, rng):
    """Closed-form relations between reductions: sum = sum of 'none'; doubling every sample
    weight doubles 'sum' and leaves 'mean' unchanged."""
    if "none" not in case.reductions:
        pytest.skip("no per-sample form (e.g. rmse: the root of the reduced value)")
    args, kw = _make(case, rng, np.float64, sw=True)
    none = case.loss(*args, reduction="none", **kw)
    total = case.loss(*args, reduction="sum", **kw)
    assert total == pytest.approx(sum(np.sum(p) for p in _parts(none, case)), rel=1e-12)
    if not case.sample_weight:
        return
    sw = kw["sample_weight"]
    kw2 = dict(kw, sample_weight=tuple(2 * w for w in sw) if isinstance(sw, tuple) else 2 * sw)
    assert case.loss(*args, reduction="sum", **kw2) == pytest.approx(2 * total, rel=1e-12)
    assert case.loss(*args, reduction="mean", **kw2) == pytest.approx(
        case.loss(*args, reduction="mean", **kw), rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_out_receives_the_gradient(case, rng):
    args, kw = _make(case, rng, np.float32)
    v, g = case.loss.value_and_grad(*args, **kw)
    outs = tuple(np.full_like(p, np.nan) for p in _parts(g, case))
    out = outs if len(outs) > 1 else outs[0]
    v2, g2 = case.loss.value_and_grad(*args, out=out, **kw)
    assert g2 is out
    np.testing.assert_array_equal(v2, v)
    for a, b in zip(_parts(g2, case), _parts(g, case)):
        np.testing.assert_array_equal(a, b)
    assert case.loss.grad(*args, out=out, **kw) is out


@pytest.mark.parametrize("case", [c for c in CASES if len(c.grad_args) == 1],
                         ids=[c.id for c in CASES if len(c.grad_args) == 1])
def test_out_may_be_the_prediction_and_is_validated(case, rng):
    args, kw = _make(case, rng, np.float64)
    g = case.loss.grad(*args, **kw)
    pred = np.array(args[0])
    got = case.loss.grad(pred, *args[1:], out=pred, **kw)  # in-place gradient
    assert got is pred
    np.testing.assert_array_equal(pred, g)
    with pytest.raises(ValueError, match="out must have"):
        case.loss.grad(*args, out=np.empty(g.shape + (1,)), **kw)
    with pytest.raises(ValueError, match="out must have"):
        case.loss.grad(*args, out=np.empty(g.shape, dtype=np.float32), **kw)
    with pytest.raises(TypeError, match="out must be a NumPy array"):
        case.loss.grad(*args, out=[0.0] * g.size, **kw)
