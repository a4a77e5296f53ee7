"""fastloss.dask: every loss over Dask arrays against the in-memory fastloss call.

- Values and gradients of every loss family (float32 and float64, every reduction, sample and
  class weights, ignore_index, soft targets, class axes in the middle, spatial Dice chunks,
  padded and concatenated CTC targets) agree with ``fastloss.<name>`` on the same NumPy data for
  several chunkings, uneven last chunks included (1e-12 relative in float64, 1e-6 in float32).
- Determinism: for a given chunking the bits are the same across runs, fastloss thread counts,
  Dask schedulers (synchronous, threaded with 1 and 4 threads, processes) and a real
  ``distributed.LocalCluster`` (two worker processes with a memory limit).
- On the cluster: a loss and gradient over arrays several times larger than one worker's
  memory limit, generated lazily, reduced to small numbers (value, gradient norm) and checked
  against the same loss written in plain Dask; nothing is spilled to disk.
- Errors name the function and the argument; chunked class axes warn and rechunk.

Small arrays everywhere but the cluster tests (~40 s for the file on two busy cores).
"""

from __future__ import annotations

import inspect
import math
import pickle
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from dask.array.core import PerformanceWarning

import fastloss as fl
import fastloss.dask as fld

# ============================================================================================
# cases: (id, loss name, make(rng, dtype) -> (args, kwargs), prediction chunkings, reductions)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


N, C = 23, 6
ROW_CHUNKS = [(N, C), (10, C), (4, C), (1, C)]  # one block, uneven (10, 10, 3), many, single rows
ANY_CHUNKS = [(N, C), (10, 4), (5, 6), (3, 1)]  # elementwise: the class axis may be chunked too
RED3 = ("none", "sum", "mean")


def _reg(rng, dt, **kw):
    p = rng.standard_normal((N, C)).astype(dt)
    t = rng.standard_normal((N, C)).astype(dt)
    return (p, t), kw


def _reg_sw(rng, dt, **kw):
    (p, t), _ = _reg(rng, dt)
    return (p, t), dict(kw, sample_weight=rng.random((N, 1)) + 0.1)


def _msle(rng, dt):
    return (rng.random((N, C)).astype(dt) * 3, rng.random((N, C)).astype(dt) * 3), \
        {"sample_weight": rng.random(C)}


def _counts(rng, dt, **kw):
    """Log-link margins and non-negative targets (exact zeros too) for the deviances."""
    p = (rng.standard_normal((N, C)) * 0.5).astype(dt)
    t = np.where(rng.random((N, C)) < 0.2, 0.0, rng.gamma(2.0, 1.0, (N, C))).astype(dt)
    return (p, t), dict(kw, sample_weight=rng.random((N, 1)) + 0.1)


def _positive(rng, dt, **kw):
    (p, t), kw = _counts(rng, dt, **kw)
    return (p, t + 0.1), kw


def _gaussian_nll(rng, dt, per_row=False):
    (p, t), _ = _reg(rng, dt)
    var = rng.uniform(0.5, 2.0, (N,) if per_row else (N, C)).astype(dt)
    return (p, t, var), {"full": True}


def _bce(rng, dt):
    p = rng.uniform(0.01, 0.99, (N, C)).astype(dt)
    return (p, rng.random((N, C)).astype(dt)), {"weight": rng.random(C) + 0.5,
                                                 "sample_weight": rng.random((N, 1))}


def _bce_logits(rng, dt):
    x = (3 * rng.standard_normal((N, C))).astype(dt)
    t = (rng.random((N, C)) > 0.5).astype(dt)
    return (x, t), {"pos_weight": rng.random(C) + 0.5, "weight": rng.random((N, 1)) + 0.5,
                    "label_smoothing": 0.1}


def _focal(rng, dt, from_logits=True):
    x = (3 * rng.standard_normal((N, C))).astype(dt)
    if not from_logits:
        x = _softmax(x).astype(dt)
    t = (rng.random((N, C)) > 0.7).astype(dt)
    return (x, t), {"gamma": 1.5, "alpha": 0.25, "from_logits": from_logits}


def _hinge(rng, dt):
    t = np.where(rng.random((N, C)) > 0.5, 1.0, -1.0).astype(dt)
    return (rng.standard_normal((N, C)).astype(dt), t), {"sample_weight": rng.random((N, C))}


def _gan_gen(rng, dt, saturating=False):
    return ((2 * rng.standard_normal((N, C))).astype(dt),), {"saturating": saturating}


def _gan_disc(rng, dt):
    r = rng.standard_normal((N, C)).astype(dt)
    f = rng.standard_normal((N, C)).astype(dt)
    return (r, f), {"sample_weight": (rng.random((N, 1)), None)}


def _kl(rng, dt):
    q = _softmax(rng.standard_normal((N, C)))
    t = _softmax(rng.standard_normal((N, C)))
    return (np.log(q).astype(dt), t.astype(dt)), {"log_pred": True, "axis": 1}


def _kl_probs(rng, dt):
    q = _softmax(rng.standard_normal((N, C)))
    t = _softmax(rng.standard_normal((N, C)))
    t[0, 0] = 0.0
    return (q.astype(dt), np.log(np.where(t > 0, t, 1e-30)).astype(dt)), \
        {"log_target": True, "sample_weight": rng.random((N, 1))}


def _labels(rng, n=N, c=C, ignore=None):
    y = rng.integers(0, c, n)
    if ignore is not None:
        y[rng.random(n) < 0.25] = ignore
    return y


def _ce(rng, dt):
    z = (3 * rng.standard_normal((N, C))).astype(dt)
    return (z, _labels(rng, ignore=-100)), {"weight": rng.random(C) + 0.2,
                                            "label_smoothing": 0.1, "temperature": 1.5,
                                            "sample_weight": rng.random(N) + 0.1}


def _ce_ignore(rng, dt):
    z = (3 * rng.standard_normal((N, C))).astype(dt)
    return (z, _labels(rng, ignore=2)), {"ignore_index": 2}


def _ce_soft(rng, dt):
    z = (3 * rng.standard_normal((N, C))).astype(dt)
    t = _softmax(rng.standard_normal((N, C))).astype(dt)
    return (z, t), {"weight": rng.random(C) + 0.2, "sample_weight": rng.random(N)}


def _ce_middle(rng, dt):
    # classes on a middle axis (segmentation layout): (batch, C, H)
    z = rng.standard_normal((5, C, 7)).astype(dt)
    y = rng.integers(0, C, (5, 7))
    y[0, :3] = -100
    return (z, y), {"axis": 1, "weight": rng.random(C) + 0.2,
                    "sample_weight": rng.random((5, 1))}


def _mm(rng, dt):
    return ((2 * rng.standard_normal((N, C))).astype(dt), _labels(rng)), \
        {"p": 2, "margin": 0.7, "weight": rng.random(C) + 0.2, "sample_weight": rng.random(N)}


def _distill(rng, dt):
    s = (2 * rng.standard_normal((N, C))).astype(dt)
    t = (2 * rng.standard_normal((N, C))).astype(dt)
    return (s, t, _labels(rng)), {"temperature": 3.0, "alpha": 0.3}


def _distill_soft(rng, dt):
    s = (2 * rng.standard_normal((N, C))).astype(dt)
    t = (2 * rng.standard_normal((N, C))).astype(dt)
    y = _softmax(rng.standard_normal((N, C))).astype(dt)
    return (s, t, y), {"sample_weight": rng.random(N)}


DICE_SHAPE = (4, 3, 10, 12)


def _dice(rng, dt):
    p = _softmax(rng.standard_normal(DICE_SHAPE), axis=1).astype(dt)
    y = rng.integers(0, 3, (4, 10, 12))
    return (p, y), {"smooth": 0.5, "sample_weight": rng.random((4, 1)) + 0.1}


def _dice_logits(rng, dt):
    z = (2 * rng.standard_normal(DICE_SHAPE)).astype(dt)
    t = _softmax(rng.standard_normal(DICE_SHAPE), axis=1).astype(dt)
    return (z, t), {"from_logits": True, "sample_weight": rng.random((4, 3))}


DICE_CHUNKS = [DICE_SHAPE, (3, 3, 10, 12), (2, 3, 5, 7), (1, 3, 10, 5)]


def _ctc(rng, dt, concatenated=False):
    n, t, c, s = 7, 12, 5, 4
    z = rng.standard_normal((n, t, c)).astype(dt)
    tl = rng.integers(0, s + 1, n)
    il = rng.integers(s * 2, t + 1, n)
    il[3] = 1  # impossible alignment for a long target: inf loss, zero gradient
    tl[3] = 3
    targets = rng.integers(1, c, (n, s))
    if concatenated:
        targets = np.concatenate([targets[i, :tl[i]] for i in range(n)])
    return (z, targets, il, tl), {"zero_infinity": True, "blank": 0}


CTC_CHUNKS = [(7, 12, 5), (3, 12, 5), (2, 12, 5), (1, 12, 5)]


def _ssd(rng, dt):
    n, a, c = 5, 20, 4
    lp = rng.standard_normal((n, a, 4)).astype(dt)
    lt = rng.standard_normal((n, a, 4)).astype(dt)
    cf = rng.standard_normal((n, a, c)).astype(dt)
    y = rng.integers(0, c, (n, a))
    y[rng.random((n, a)) < 0.6] = 0
    y[rng.random((n, a)) < 0.1] = -1
    y[2] = 0  # an image without positives
    return (lp, lt, cf, y), {"neg_pos_ratio": 2, "beta": 0.5}


SSD_CHUNKS = [(5, 20, 4), (2, 20, 4), (1, 20, 4)]


CASES = [
    ("mse", "mse", _reg, ANY_CHUNKS, RED3),
    ("mse-sw", "mse", _reg_sw, ANY_CHUNKS, RED3),
    ("mae-sw", "mae", _reg_sw, ANY_CHUNKS, RED3),
    ("rmse", "rmse", _reg, ANY_CHUNKS, ("sum", "mean")),
    ("rmse-sw", "rmse", _reg_sw, ANY_CHUNKS, ("sum", "mean")),
    ("msle", "msle", _msle, ANY_CHUNKS, RED3),
    ("huber", "huber", lambda r, d: _reg_sw(r, d, delta=0.7), ANY_CHUNKS, RED3),
    ("smooth_l1", "smooth_l1", lambda r, d: _reg(r, d, beta=0.5), ANY_CHUNKS, RED3),
    ("log_cosh", "log_cosh", _reg_sw, ANY_CHUNKS, RED3),
    ("poisson", "poisson", _counts, ANY_CHUNKS, RED3),
    ("gamma", "gamma", _positive, ANY_CHUNKS, RED3),
    ("tweedie", "tweedie", lambda r, d: _counts(r, d, power=1.4), ANY_CHUNKS, RED3),
    ("pinball", "pinball", lambda r, d: _reg_sw(r, d, quantile=0.8), ANY_CHUNKS, RED3),
    ("poisson_nll", "poisson_nll", _counts, ANY_CHUNKS, RED3),
    ("gaussian_nll", "gaussian_nll", _gaussian_nll, ANY_CHUNKS, RED3),
    ("gaussian_nll-per-row", "gaussian_nll", lambda r, d: _gaussian_nll(r, d, True),
     ANY_CHUNKS, RED3),
    ("bce", "binary_cross_entropy", _bce, ANY_CHUNKS, RED3),
    ("bce_logits", "binary_cross_entropy_with_logits", _bce_logits, ANY_CHUNKS, RED3),
    ("focal", "focal", _focal, ANY_CHUNKS, RED3),
    ("focal-probs", "focal", lambda r, d: _focal(r, d, False), ANY_CHUNKS, RED3),
    ("hinge", "hinge", _hinge, ANY_CHUNKS, RED3),
    ("squared_hinge", "squared_hinge", _hinge, ANY_CHUNKS, RED3),
    ("gan_generator", "gan_generator", _gan_gen, ANY_CHUNKS, RED3),
    ("gan_generator-sat", "gan_generator", lambda r, d: _gan_gen(r, d, True), ANY_CHUNKS,
     RED3),
    ("gan_discriminator", "gan_discriminator", _gan_disc, ANY_CHUNKS, RED3),
    ("kl_div", "kl_div", _kl, ANY_CHUNKS, RED3 + ("batchmean",)),
    ("kl_div-probs", "kl_div", _kl_probs, ANY_CHUNKS, RED3 + ("batchmean",)),
    ("cross_entropy", "cross_entropy", _ce, ROW_CHUNKS, RED3),
    ("cross_entropy-ignore", "cross_entropy", _ce_ignore, ROW_CHUNKS, RED3),
    ("cross_entropy-soft", "cross_entropy", _ce_soft, ROW_CHUNKS, RED3),
    ("cross_entropy-axis1", "cross_entropy", _ce_middle,
     [(5, C, 7), (2, C, 7), (2, C, 3), (1, C, 1)], RED3),
    ("multi_margin", "multi_margin", _mm, ROW_CHUNKS, RED3),
    ("distillation", "distillation", _distill, ROW_CHUNKS, RED3),
    ("distillation-soft", "distillation", _distill_soft, ROW_CHUNKS, RED3),
    ("dice", "dice", _dice, DICE_CHUNKS, RED3),
    ("dice-logits", "dice", _dice_logits, DICE_CHUNKS, RED3),
    ("ctc", "ctc", _ctc, CTC_CHUNKS, RED3),
    ("ctc-concatenated", "ctc", lambda r, d: _ctc(r, d, True), CTC_CHUNKS, RED3),
    ("ssd_multibox", "ssd_multibox", _ssd, SSD_CHUNKS, RED3),
]

# arguments that are predictions (they set or follow the block grid) per loss
PREDICTIONS = {"gan_discriminator": (0, 1), "ssd_multibox": (0, 2), "distillation": (0, 1)}


def _to_dask(name, args, kwargs, chunks, variant: int):
    """Dask versions of the NumPy arguments: the prediction(s) with ``chunks``; the other arrays
    alternate between NumPy (variant 0), Dask with their own chunking of 4 per axis (variant 1,
    so they must be rechunked) and Dask with one chunk (variant 2)."""
    def other(a):
        if not isinstance(a, np.ndarray) or a.ndim == 0 or variant % 3 == 0:
            return a
        return da.from_array(a, chunks=4 if variant % 3 == 1 else -1)

    preds = PREDICTIONS.get(name, (0,))
    out = tuple(da.from_array(a, chunks=tuple(min(c, s) for c, s in zip(chunks, a.shape)))
                if i in preds else other(a) for i, a in enumerate(args))
    kw = {k: tuple(None if x is None else other(x) for x in v) if isinstance(v, tuple)
          else other(v) for k, v in kwargs.items()}
    return out, kw


def _tolerances(dtype):
    return (1e-12, 1e-12) if np.dtype(dtype) == np.float64 else (1e-6, 1e-6)


def _assert_close(got, ref, dtype, what):
    if isinstance(ref, tuple):
        assert isinstance(got, tuple) and len(got) == len(ref), what
        for i, (g, r) in enumerate(zip(got, ref)):
            _assert_close(g, r, dtype, f"{what}[{i}]")
        return
    g, r = np.asarray(got), np.asarray(ref)
    assert g.shape == r.shape, (what, g.shape, r.shape)
    assert g.dtype == r.dtype, (what, g.dtype, r.dtype)
    rtol, scale = _tolerances(dtype)
    finite = np.isfinite(r)
    np.testing.assert_array_equal(np.isfinite(g), finite, err_msg=what)
    # relative per element, with an absolute floor relative to the array's largest entry
    # (entries that cancel to ~0 carry the rounding of the large ones)
    atol = scale * (np.max(np.abs(r[finite])) if finite.any() else 0.0)
    np.testing.assert_allclose(g[finite], r[finite], rtol=rtol, atol=atol, err_msg=what)


def _reference(name, method, args, kwargs):
    f = getattr(fl, name)
    return (f if method == "value" else getattr(f, method))(*args, **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_in_memory(case, dtype):
    """value, grad and value_and_grad of every reduction, for every chunking, computed in one
    dask.compute per chunking, against the in-memory call."""
    cid, name, make, chunkings, reductions = case
    rng = np.random.default_rng(abs(hash(cid)) % 2**32)
    args, kwargs = make(rng, dtype)
    f = getattr(fld, name)
    for variant, chunks in enumerate(chunkings):
        dargs, dkw = _to_dask(name, args, kwargs, chunks, variant)
        lazy, refs = [], []
        for red in reductions:
            for method in ("value", "grad", "value_and_grad"):
                fn = f if method == "value" else getattr(f, method)
                lazy.append(fn(*dargs, **dkw, reduction=red))
                refs.append((red, method, _reference(name, method, args,
                                                     dict(kwargs, reduction=red))))
        got = dask.compute(*lazy, scheduler="sync")
        for res, (red, method, ref) in zip(got, refs):
            _assert_close(res, ref, dtype, f"{cid} {red} {method} chunks={chunks}")


@pytest.mark.parametrize("name", ["mse", "cross_entropy", "dice"])
def test_gradient_chunked_like_prediction(name):
    rng = np.random.default_rng(0)
    case = next(c for c in CASES if c[1] == name)
    args, kwargs = case[2](rng, np.float64)
    chunks = case[3][1]
    dargs, dkw = _to_dask(name, args, kwargs, chunks, 1)
    value, grad = getattr(fld, name).value_and_grad(*dargs, **dkw)
    assert grad.chunks == dargs[0].chunks
    assert value.shape == () and value.dtype == np.float64
    none = getattr(fld, name)(*dargs, **dict(dkw, reduction="none"))
    assert none.shape == getattr(fl, name)(*args, **dict(kwargs, reduction="none")).shape


# ============================================================================================
# more inputs: NumPy, float16, empty, spatially chunked dice and its direct formula


def test_numpy_inputs_are_accepted():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((50, 4))
    y = rng.integers(0, 4, 50)
    v, g = fld.cross_entropy.value_and_grad(z, y, weight=[1.0, 2.0, 1.0, 0.5])
    assert isinstance(v, da.Array) and isinstance(g, da.Array)
    rv, rg = fl.cross_entropy.value_and_grad(z, y, weight=[1.0, 2.0, 1.0, 0.5])
    v, g = dask.compute(v, g)
    assert v == rv and np.array_equal(g, rg)
    p = rng.standard_normal(30).tolist()
    assert fld.mse(p, p).compute() == 0.0


def test_float16_is_computed_in_float32_and_returned_in_float16():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 5)).astype(np.float16)
    t = rng.standard_normal((40, 5)).astype(np.float16)
    for red in RED3:
        ref_v, ref_g = fl.huber.value_and_grad(x, t, reduction=red)
        v, g = dask.compute(*fld.huber.value_and_grad(da.from_array(x, chunks=(7, 5)), t,
                                                      reduction=red))
        assert g.dtype == np.float16 and np.asarray(v).dtype == np.float16
        np.testing.assert_allclose(np.asarray(v, np.float64), np.asarray(ref_v, np.float64),
                                   rtol=1e-3)
        np.testing.assert_allclose(g.astype(np.float64), ref_g.astype(np.float64), rtol=1e-3,
                                   atol=1e-6)
    z = rng.standard_normal((40, 5)).astype(np.float16)
    y = rng.integers(0, 5, 40)
    v = fld.cross_entropy(da.from_array(z, chunks=(9, 5)), y).compute()
    assert np.asarray(v).dtype == np.float16
    np.testing.assert_allclose(float(v), float(fl.cross_entropy(z, y)), rtol=1e-3)


def test_empty_arrays():
    e = da.zeros((0, 3), chunks=(5, 3))
    v, g = dask.compute(*fld.mse.value_and_grad(e, e, reduction="sum"))
    assert v == 0.0 and g.shape == (0, 3)
    with np.errstate(invalid="ignore"):
        assert math.isnan(fld.mse(e, e).compute()) == math.isnan(fl.mse(np.zeros((0, 3)),
                                                                         np.zeros((0, 3))))


def test_dice_spatial_chunks_take_the_two_phase_graph_and_match_the_reference():
    """Spatially chunked Dice forms the gradient from combined per-(sample, class) sums in NumPy;
    check it against fastloss.dice.grad and against the NumPy reference (a formula written
    independently)."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 4, 9, 8))
    y = rng.integers(0, 4, (3, 9, 8))
    for from_logits in (False, True):
        p = z if from_logits else _softmax(z, axis=1)
        d = da.from_array(p, chunks=(2, 4, 4, 3))
        v, g = dask.compute(*fld.dice.value_and_grad(d, y, from_logits=from_logits, smooth=0.3))
        ref_v, ref_g = fl.reference.dice(p, y, from_logits=from_logits, smooth=0.3)
        np.testing.assert_allclose(v, ref_v, rtol=1e-12)
        np.testing.assert_allclose(g, ref_g, rtol=1e-10, atol=1e-15)
    graph = dict(fld.dice.grad(d, y).__dask_graph__())
    assert any("sums" in k[0] for k in graph if isinstance(k, tuple))


# ============================================================================================
# row functions


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_functions(dtype):
    rng = np.random.default_rng(4)
    x = (3 * rng.standard_normal((11, 5, 6))).astype(dtype)
    v = rng.standard_normal((11, 5, 6)).astype(dtype)
    w = rng.standard_normal((11, 6)).astype(dtype)
    dx = da.from_array(x, chunks=(4, 5, 4))
    kw = {"axis": 1, "temperature": 1.7}
    with pytest.warns(PerformanceWarning, match="class axis"):
        fld.softmax(da.from_array(x, chunks=(4, 2, 4)), **kw)
    lazy = [fld.softmax(dx, **kw), fld.log_softmax(dx, **kw),
            fld.softmax.vjp(dx, v, **kw), fld.log_softmax.vjp(dx, da.from_array(v, chunks=3),
                                                              **kw),
            fld.logsumexp(dx, **kw), fld.logsumexp.grad(dx, **kw),
            fld.logsumexp.value_and_grad(dx, **kw), fld.logsumexp.vjp(dx, w, **kw)]
    refs = [fl.softmax(x, **kw), fl.log_softmax(x, **kw), fl.softmax.vjp(x, v, **kw),
            fl.log_softmax.vjp(x, v, **kw), fl.logsumexp(x, **kw), fl.logsumexp.grad(x, **kw),
            fl.logsumexp.value_and_grad(x, **kw), fl.logsumexp.vjp(x, w, **kw)]
    got = dask.compute(*lazy, scheduler="sync")
    for i, (g, r) in enumerate(zip(got, refs)):
        _assert_close(g, r, dtype, f"row function {i}")
    assert lazy[0].chunks == ((4, 4, 3), (5,), (4, 2))


# ============================================================================================
# determinism


def _determinism_graphs(rng, chunks):
    p = da.from_array(rng.standard_normal((1000, 12)), chunks=chunks)
    t = da.from_array(rng.standard_normal((1000, 12)), chunks=(300, 12))
    sw = rng.random((1000, 1))
    z = da.from_array(rng.standard_normal((1000, 12)).astype(np.float32), chunks=chunks)
    y = rng.integers(0, 12, 1000)
    y[::7] = -100
    dz = da.from_array(rng.standard_normal((6, 3, 20, 20)), chunks=(2, 3, 7, 20))
    dy = rng.integers(0, 3, (6, 20, 20))
    return [fld.mse.value_and_grad(p, t, sample_weight=sw),
            fld.cross_entropy.value_and_grad(z, y, weight=np.linspace(0.5, 2, 12),
                                             label_smoothing=0.05),
            fld.dice.value_and_grad(dz, dy, from_logits=True),
            fld.huber(p, t, reduction="sum")]


def _flat(results):
    out = []
    for r in results:
        if isinstance(r, tuple):
            out.extend(_flat(r))
        else:
            out.append(np.asarray(r))
    return out


def _same_bits(a, b):
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


MEMORY_LIMIT = 300 * 2**20  # per worker; a worker process takes ~100 MiB before any data


@pytest.fixture(scope="module")
def cluster():
    """A real two-process cluster with a per-worker memory limit (module-scoped)."""
    with dask.config.set({"distributed.worker.daemon": False,
                          "distributed.admin.tick.limit": "30s"}):
        cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      memory_limit=MEMORY_LIMIT, dashboard_address=":0",
                                      silence_logs=40)
        client = distributed.Client(cl, set_as_default=False)  # other tests stay local
        try:
            yield client
        finally:
            client.close()
            cl.close()


def test_bit_identical_across_schedulers_threads_and_runs(threads):
    rng = np.random.default_rng(5)
    graphs = _determinism_graphs(rng, (170, 12))
    base = dask.compute(*graphs, scheduler="sync")
    _same_bits(base, dask.compute(*graphs, scheduler="sync"))
    for workers in (1, 4):
        _same_bits(base, dask.compute(*graphs, scheduler="threads", num_workers=workers))
    threads(1)
    _same_bits(base, dask.compute(*graphs, scheduler="threads"))
    threads(None)
    with dask.config.set(scheduler="processes", num_workers=2):
        _same_bits(base, dask.compute(*graphs))


@pytest.mark.slow  # a LocalCluster of processes: run by `pytest -m slow` (and CI)
def test_bit_identical_on_the_cluster(cluster):
    rng = np.random.default_rng(5)
    graphs = _determinism_graphs(rng, (170, 12))
    base = dask.compute(*graphs, scheduler="sync")
    _same_bits(base, cluster.compute(list(graphs), sync=True))
    _same_bits(base, cluster.compute(list(graphs), sync=True))


@pytest.mark.slow  # a LocalCluster of processes: run by `pytest -m slow` (and CI)
def test_every_family_on_the_cluster(cluster):
    """Every case of the table (all losses, their options) evaluated on the two-process cluster
    in one compute: the same values as in memory, and the same bits as the synchronous
    scheduler."""
    lazy, refs, sync = [], [], []
    for cid, name, make, chunkings, reductions in CASES:
        rng = np.random.default_rng(abs(hash(cid)) % 2**32)
        args, kwargs = make(rng, np.float64)
        red = "mean" if "mean" in reductions else reductions[-1]
        dargs, dkw = _to_dask(name, args, kwargs, chunkings[2], 1)
        lazy.append(getattr(fld, name).value_and_grad(*dargs, **dkw, reduction=red))
        refs.append((cid, _reference(name, "value_and_grad", args, dict(kwargs, reduction=red))))
    got = cluster.compute(lazy, sync=True)
    sync = dask.compute(*lazy, scheduler="sync")
    for res, (cid, ref), local in zip(got, refs, sync):
        _assert_close(tuple(res), ref, np.float64, f"{cid} on the cluster")
        _same_bits([tuple(res)], [local])


def test_non_finite_values_propagate_as_in_memory():
    rng = np.random.default_rng(9)
    z = rng.standard_normal((4, 6, 3))
    il, tl = np.array([6, 1, 6, 6]), np.array([1, 3, 2, 0])  # sample 1 cannot be aligned
    for red in RED3:
        ref = fl.ctc.value_and_grad(z, np.ones((4, 3), int), il, tl, reduction=red)
        got = dask.compute(*fld.ctc.value_and_grad(da.from_array(z, chunks=(2, 6, 3)),
                                                   np.ones((4, 3), int), il, tl, reduction=red),
                           scheduler="sync")
        np.testing.assert_array_equal(got[0], ref[0])  # inf where in memory
        np.testing.assert_allclose(got[1], ref[1], rtol=1e-12)
    x = rng.standard_normal((5, 3))
    y = np.full(5, -100)  # every label ignored: 'mean' is 0/0 as in torch, gradient 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_v, ref_g = fl.cross_entropy.value_and_grad(x, y)
        v, g = dask.compute(*fld.cross_entropy.value_and_grad(da.from_array(x, chunks=(2, 3)),
                                                              y), scheduler="sync")
    assert np.isnan(ref_v) and np.isnan(v)
    np.testing.assert_array_equal(g, ref_g)


def test_kernels_wait_for_the_denominator_not_the_other_way_round():
    """With data-dependent denominators every kernel task depends on one scale task, which
    depends on clones of the labels (new keys), never on a kernel or on the logits."""
    z = da.from_array(np.zeros((12, 3)), chunks=(4, 3))
    y = da.from_array(np.zeros(12, int), chunks=4)
    g = fld.cross_entropy.grad(z, y, ignore_index=1)
    graph = dict(g.__dask_graph__())
    deps = {k: set(t.dependencies) for k, t in
            dask._task_spec.convert_legacy_graph(graph).items()}
    kernels = [k for k in graph if isinstance(k, tuple) and k[0].endswith("-kernel")]
    scales = {d for k in kernels for d in deps[k] if d[0].endswith("-scale")}
    assert len(kernels) == 3 and len(scales) == 1

    def ancestors(key, seen=None):
        seen = set() if seen is None else seen
        for d in deps.get(key, ()):
            if d not in seen:
                seen.add(d)
                ancestors(d, seen)
        return seen

    up = ancestors(next(iter(scales)))
    assert not any(k[0].endswith("-kernel") for k in up)
    assert not any(k[0] == z.name for k in up if isinstance(k, tuple))
    assert not any(k[0] == y.name for k in up if isinstance(k, tuple))  # a clone, new keys
    assert any("-again-" in k[0] for k in up if isinstance(k, tuple))
    assert len(dict(fld.mse.grad(z, z).__dask_graph__())) < len(graph)  # static: no subgraph


def test_value_agrees_across_chunkings_and_tree_shapes(monkeypatch):
    """Different chunkings agree closely; the tree's fan-in does not change a bit."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((400, 8))
    t = rng.standard_normal((400, 8))
    ref = fl.log_cosh(x, t)
    vals = [fld.log_cosh(da.from_array(x, chunks=(c, 8)), t).compute(scheduler="sync")
            for c in (400, 100, 7, 1)]
    np.testing.assert_allclose(vals, ref, rtol=1e-14)
    chunked = da.from_array(x, chunks=(7, 8))
    monkeypatch.setattr(fld, "SPLIT_EVERY", 2)
    narrow = fld.log_cosh(chunked, t).compute(scheduler="sync")
    monkeypatch.setattr(fld, "SPLIT_EVERY", 1000)
    wide = fld.log_cosh(chunked, t).compute(scheduler="sync")
    assert narrow.tobytes() == wide.tobytes() == vals[2].tobytes()


# ============================================================================================
# bigger than a worker's memory


def _disk_writes(client) -> dict:
    """Cumulative number of spills to disk per worker (and its memory limit)."""
    def writes(dask_worker):
        return (dask_worker.data.cumulative_metrics.get(("disk-write", "count"), 0),
                dask_worker.memory_manager.memory_limit)
    return client.run(writes)


def _ce_block_sum(z, y):
    return np.array([fl.cross_entropy(z, y[:, 0], label_smoothing=0.1, reduction="sum")])


@pytest.mark.slow  # a LocalCluster of processes: run by `pytest -m slow` (and CI)
def test_bigger_than_worker_memory(cluster):
    """Loss and gradient over lazily generated logits of 1.02 GB float32, 3.4 times one
    worker's 300 MiB limit: cross_entropy with ignored labels (its denominator graph reads a
    clone of the labels) and mse with sample weights (a clone of the weights). The gradients
    are reduced on the cluster to small numbers. Checked against peers that Dask itself reduces:
    the in-memory loss per block summed by ``da.sum`` over the count of valid labels, and mse
    written in plain Dask. No worker spills to disk or restarts."""
    before = _disk_writes(cluster)
    assert all(limit == MEMORY_LIMIT for _, limit in before.values())
    f64 = np.float64
    n, c, rows = 8_000_000, 32, 31_250  # 4 MB blocks
    rng = da.random.default_rng(42)
    z = rng.random((n, c), chunks=(rows, c), dtype=np.float32) * 8 - 4
    assert z.nbytes > 3 * MEMORY_LIMIT
    y = rng.integers(0, c, n, chunks=rows)
    y = da.where(y == 0, -100, y)  # ~1/32 ignored
    ce_v, ce_g = fld.cross_entropy.value_and_grad(z, y, label_smoothing=0.1)
    peer = da.map_blocks(_ce_block_sum, z, y[:, None], drop_axis=1, dtype=f64,
                         chunks=((1,) * z.numblocks[0],)).sum() / \
        (y != -100).sum()
    value, row_sums, sq, peer_value = cluster.compute(
        [ce_v, abs(ce_g.sum(axis=1, dtype=f64)).max(), (ce_g * ce_g).sum(dtype=f64), peer],
        sync=True)
    np.testing.assert_allclose(value, peer_value, rtol=1e-6)
    assert row_sums < 1e-12  # softmax gradient rows sum to 0
    # |p - t|^2 <= 2 per valid row, scaled by 1 / n_valid^2, and n_valid > 0.9 n here
    assert 0 < sq < 2.0 / (0.9 * n)
    assert ce_g.chunks == z.chunks

    t = z[:, ::-1]  # a target at no extra generation cost
    sw = rng.random((n, 1), chunks=(rows, 1)) + 0.5
    mse_v, mse_g = fld.mse.value_and_grad(z, t, sample_weight=sw)
    d = z - t
    den = sw.sum() * c
    got = cluster.compute([mse_v, (mse_g * mse_g).sum(dtype=f64),
                           (sw * d * d).sum() / den, ((2 * sw * d) ** 2).sum() / den**2],
                          sync=True)
    np.testing.assert_allclose(got[0], got[2], rtol=1e-6)
    np.testing.assert_allclose(got[1], got[3], rtol=1e-5)
    after = _disk_writes(cluster)
    assert set(after) == set(before)  # no worker restarted
    assert all(after[w][0] == before[w][0] for w in after), (before, after)  # nothing spilled


# ============================================================================================
# errors and warnings


def test_errors_name_the_function_and_argument():
    x = da.zeros((10, 3), chunks=5)
    with pytest.raises(ValueError, match=r"fastloss\.dask\.mse\(\): reduction must be one of"):
        fld.mse(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"fastloss\.dask\.mse\(\): pred and target must have "
                                         r"the same shape"):
        fld.mse(x, da.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"fastloss\.dask\.mse\(\): sample_weight of shape "
                                         r"\(4,\) cannot be broadcast"):
        fld.mse(x, x, sample_weight=np.ones(4))
    with pytest.raises(TypeError, match=r"fastloss\.dask\.mse\(\): pred must be a float16"):
        fld.mse(da.zeros((4,), dtype=int), np.zeros(4))
    with pytest.raises(TypeError, match=r"fastloss\.dask\.huber\(\): .*unexpected keyword"):
        fld.huber(x, x, size_average=True)
    with pytest.raises(ValueError, match=r"fastloss\.dask\.huber\(\): delta must be > 0"):
        fld.huber.grad(x, x, delta=-1)
    with pytest.raises(ValueError, match=r"fastloss\.dask\.rmse\(\): rmse has no "
                                         r"reduction='none'"):
        fld.rmse(x, x, reduction="none")
    with pytest.raises(ValueError, match=r"cross_entropy\(\): weight must have shape \(3,\)"):
        fld.cross_entropy(x, np.zeros(10, int), weight=np.ones(4))
    with pytest.raises(ValueError, match=r"cross_entropy\(\): target of class indices must "
                                         r"have shape \(10,\)"):
        fld.cross_entropy(x, np.zeros(9, int))
    with pytest.raises(ValueError, match=r"kl_div\(\): axis=2 is out of range"):
        fld.kl_div(x, x, axis=2)
    with pytest.raises(ValueError, match=r"cross_entropy\(\): axis=2 is out of range"):
        fld.cross_entropy(x, np.zeros(10, int), axis=2)
    with pytest.raises(ValueError, match=r"ctc\(\): logits must have shape \(N, T, C\)"):
        fld.ctc(x, np.zeros((10, 2), int), np.ones(10, int), np.ones(10, int))
    with pytest.raises(ValueError, match=r"ssd_multibox\(\): labels must have shape"):
        fld.ssd_multibox(da.zeros((2, 5, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 3)),
                         np.zeros((2, 4), int))
    with pytest.raises(TypeError, match=r"fastloss\.dask\.mse\(\): out= is not supported"):
        fld.mse.grad(x, x, out=np.zeros((10, 3)))
    with pytest.raises(TypeError, match=r"fastloss\.dask\.mse\(\): pred is a masked array"):
        fld.mse(np.ma.masked_array(np.zeros(3)), np.zeros(3))
    unknown = x[x[:, 0] > 0]
    with pytest.raises(ValueError, match=r"fastloss\.dask\.mse\(\): pred has unknown chunk "
                                         r"sizes.*compute_chunk_sizes"):
        fld.mse(unknown, unknown)
    with pytest.raises(ValueError, match=r"gan_discriminator\(\): sample_weight must be None "
                                         r"or a pair"):
        fld.gan_discriminator(x, x, sample_weight=np.ones(3))


def test_data_errors_surface_at_compute_time_with_the_block():
    z = da.from_array(np.zeros((10, 3)), chunks=(4, 3))
    y = np.zeros(10, int)
    y[6] = 5
    lazy = fld.cross_entropy(z, y)
    with pytest.raises(ValueError, match=r"fastloss\.dask\.cross_entropy\(\): in block \(1, 0\) "
                                         r".*class index 5 at flat position 2"):
        lazy.compute(scheduler="sync")
    p = da.from_array(np.array([0.5, 0.5, 0.5, 0.5, 1.5, 0.5]), chunks=3)
    with pytest.raises(ValueError, match=r"binary_cross_entropy\(\): in block \(1,\).*pred must "
                                         r"be in \[0, 1\].*found 1.5 at flat index 1"):
        fld.binary_cross_entropy.grad(p, np.zeros(6)).compute(scheduler="sync")
    dz = da.zeros((2, 3, 4, 4), chunks=(1, 3, 2, 4))
    dy = np.zeros((2, 4, 4), int)
    dy[1, 3, 0] = 7
    with pytest.raises(ValueError, match=r"dice\(\): in block .*class index 7"):
        fld.dice.grad(dz, dy).compute(scheduler="sync")


def test_class_axis_chunks_warn_and_rechunk():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((30, 8))
    y = rng.integers(0, 8, 30)
    dz = da.from_array(z, chunks=(10, 3))
    with pytest.warns(PerformanceWarning, match=r"cross_entropy\(\): logits is chunked along "
                                                r"axis 1 \(3 chunks\).*\{1: -1\}") as rec:
        v, g = fld.cross_entropy.value_and_grad(dz, y)
    assert rec[0].filename == __file__  # points at the caller
    assert g.chunks == ((10, 10, 10), (8,))
    ref_v, ref_g = fl.cross_entropy.value_and_grad(z, y)
    v, g = dask.compute(v, g)
    # the value is an exact sum of the blocks' partials, in memory a running sum: an ulp apart
    assert v == pytest.approx(ref_v, rel=1e-15, abs=0) and np.array_equal(g, ref_g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fld.cross_entropy(da.from_array(z, chunks=(10, 8)), y)  # no warning when whole
    with pytest.warns(PerformanceWarning, match=r"ctc\(\): logits is chunked along axis 1"):
        fld.ctc(da.zeros((4, 6, 3), chunks=(2, 3, 3)), np.ones((4, 1), int), np.full(4, 6),
                np.ones(4, int))


# ============================================================================================
# the API


LOSSES = [n for n in fl.__all__ if isinstance(getattr(fl, n), fl.Loss)]
ROW_FUNCTIONS = ["softmax", "log_softmax", "logsumexp"]


def test_every_public_loss_and_row_function_is_covered():
    assert set(LOSSES) | set(ROW_FUNCTIONS) <= set(fld.__all__)
    assert {c[1] for c in CASES} == set(LOSSES)  # and tested here


@pytest.mark.parametrize("name", LOSSES)
def test_signatures_are_the_in_memory_ones(name):
    f, g = getattr(fld, name), getattr(fl, name)
    assert inspect.signature(f) == inspect.signature(g)
    assert inspect.signature(f.grad) == inspect.signature(g.grad)
    assert inspect.signature(f.value_and_grad) == inspect.signature(g.value_and_grad)
    assert pickle.loads(pickle.dumps(f)) is f
    assert f.__doc__ and g.__doc__.splitlines()[0].strip() in f.__doc__
    assert f.rule


def test_row_function_signatures():
    for name in ROW_FUNCTIONS:
        f, g = getattr(fld, name), getattr(fl, name)
        assert inspect.signature(f) == inspect.signature(g.__call__)
        assert inspect.signature(f.vjp) == inspect.signature(g.vjp)
    assert inspect.signature(fld.logsumexp.grad) == inspect.signature(fl.logsumexp.grad)


def test_docstring_examples():
    import doctest

    res = doctest.testmod(fld, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 4 and res.failed == 0


def test_grad_hess_is_mapped_when_the_loss_has_one():
    """A stand-in in-memory loss with ``grad_hess`` (the boosting branch adds it to fastloss
    losses): the Dask object exposes it; with a ``reduction`` it is scaled like the gradient,
    without one it is a plain map over the blocks."""

    class WithHess:
        __name__ = "mse"
        __signature__ = inspect.signature(fl.mse)
        __doc__ = fl.mse.__doc__

        def __call__(self, *a, **k):
            return fl.mse(*a, **k)

        grad = fl.mse.grad
        value_and_grad = fl.mse.value_and_grad

        def grad_hess(self, pred, target, *, reduction="mean", sample_weight=None):
            g = fl.mse.grad(pred, target, reduction=reduction, sample_weight=sample_weight)
            w = 1.0 if sample_weight is None else np.broadcast_to(sample_weight, np.shape(pred))
            h = 2.0 * w * np.ones(np.shape(pred))
            if reduction == "mean":
                h = h / (np.sum(w * np.ones(np.shape(pred))))
            return g, h

    obj = fld.DaskLoss(WithHess(), fld._elementwise, "any chunking")
    rng = np.random.default_rng(8)
    x, t, w = rng.standard_normal((9, 2)), rng.standard_normal((9, 2)), rng.random((9, 1))
    g, h = dask.compute(*obj.grad_hess(da.from_array(x, chunks=(4, 1)), t, sample_weight=w),
                        scheduler="sync")
    ref_g, ref_h = WithHess().grad_hess(x, t, sample_weight=w)
    np.testing.assert_allclose(g, ref_g, rtol=1e-13)
    np.testing.assert_allclose(h, ref_h, rtol=1e-13)
    assert not hasattr(fld.mse, "grad_hess") or hasattr(fl.mse, "grad_hess")


# ============================================================================================
# the gallery example


@pytest.mark.slow  # a LocalCluster of processes: run by `pytest -m slow` (and CI)
def test_logistic_regression_example_learns_and_agrees(tmp_path):
    """examples/dask_logistic_regression.py at a tiny size on a one-worker cluster: the loss
    falls, the held-out accuracy is far above chance, and with the in-memory model trained on
    the same rows (subsample 1) the two fits agree."""
    pytest.importorskip("zarr")
    pytest.importorskip("scipy")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "dask_logistic_regression.py"
    spec = importlib.util.spec_from_file_location("dask_logistic_regression", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    res = example.main(["--rows", "30000", "--features", "6", "--classes", "3",
                        "--chunk-rows", "7000", "--workers", "1", "--worker-memory", "400MiB",
                        "--iterations", "10", "--subsample", "1", "--outdir", str(tmp_path),
                        "--quiet"])
    h, hm = res["history"], res["memory_history"]
    assert h[-1] < 0.7 * h[0]
    acc = res["test"][1]
    assert acc > 0.6  # chance: 1/3
    np.testing.assert_allclose(h[-1], hm[-1], rtol=1e-5)
    assert res["parameter_difference"] < 1e-3
    np.testing.assert_allclose(res["test"], res["test_memory"], rtol=1e-3)
    if res["plot"] is not None:
        assert Path(res["plot"]).stat().st_size > 10_000
