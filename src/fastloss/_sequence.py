"""Sequence and detection losses: CTC and the SSD multibox loss.

Same conventions as :mod:`fastloss._api` (validation here, numerics in ``csrc/ctc.c`` and
``csrc/ssd.c``), with two differences spelled out in the docstrings: these losses take several
integer arguments (lengths, labels) and no ``sample_weight``, and ``ssd_multibox`` has two
differentiable inputs, so its ``.grad`` returns a tuple ``(d_loc_pred, d_conf_logits)``.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from . import _kernels
from ._api import (
    _ERR_LABEL,
    Loss,
    _check,
    _compute_dtype,
    _empty,
    _empty_grad,
    _float_array,
    _Out,
    _real_array,
    _reduction_code,
    _threads,
    _to_float,
)

# --------------------------------------------------------------------------------------------
# CTC


def _int_array(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.size == 0 and a.dtype.kind == "f":  # np.asarray([]) is float64
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    return a


def _lengths(x, n: int, name: str) -> np.ndarray:
    a = _int_array(x, name)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one length per sample); got {a.shape}")
    if a.dtype == np.uint64 and n and a.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds {a.max()}, which is too large")
    a = np.ascontiguousarray(a, dtype=np.int64)
    if n and a.min() < 0:
        i = int(np.argmin(a))
        raise ValueError(f"{name} must be >= 0; got {a[i]} for sample {i}")
    return a


def _ctc(logits, targets, input_lengths, target_lengths, *, blank=0, reduction="mean",
         zero_infinity=False, _want=(True, False)):
    """Connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss`` applied
    to ``log_softmax(logits, -1).transpose(0, 1)``.

    Parameters
    ----------
    logits : (N, T, C) float array
        Unnormalised scores, batch first; the log-softmax over C is fused into the kernel and
        the gradient is w.r.t. ``logits``.
    targets : (N, S) padded or 1-D concatenated integer array
        Labels in ``[0, C)`` other than ``blank``. Padded: sample i uses
        ``targets[i, :target_lengths[i]]`` (the rest is ignored). Concatenated: the samples'
        targets one after another, ``len(targets) == sum(target_lengths)``. Repeated labels
        need a blank between them in the alignment, so a target needs at least
        ``L + (number of repeats)`` time steps.
    input_lengths, target_lengths : (N,) integers
        ``0 <= input_lengths[i] <= T``; ``0 <= target_lengths[i] <= S`` (padded).
    blank : int in ``[0, C)``
    reduction : "mean" | "sum" | "none"
        ``"none"``: the per-sample losses ``-log p(target | input)``; ``"sum"``: their sum;
        ``"mean"``: each loss divided by its target length (clamped to >= 1), averaged over
        the batch (PyTorch 2.x).
    zero_infinity : bool
        Report the infinite loss of an impossible alignment (a target too long for its input)
        as 0. Either way that sample's gradient is 0 (PyTorch gives NaN without
        ``zero_infinity``); time steps ``t >= input_lengths[i]`` get gradient 0.
    """
    z = _float_array(logits, "logits")
    dt = _compute_dtype(z)
    code = _reduction_code(reduction)
    if z.ndim != 3:
        raise ValueError(f"logits must have shape (N, T, C); got shape {z.shape}")
    n, t_max, c = z.shape
    if c == 0:
        raise ValueError("logits must have at least one class (C >= 1, the blank)")
    try:
        blank = operator.index(blank)
    except TypeError:
        raise TypeError(f"blank must be an integer, got {blank!r}") from None
    if not 0 <= blank < c:
        raise ValueError(f"blank={blank} is out of range for C={c} classes")
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    if n and il.max() > t_max:
        i = int(np.argmax(il))
        raise ValueError(f"input_lengths[{i}]={il[i]} exceeds the number of time steps T={t_max}")
    tg = _int_array(targets, "targets")
    if tg.ndim == 2:
        if tg.shape[0] != n:
            raise ValueError(f"padded targets must have shape (N={n}, S); got {tg.shape}")
        s = tg.shape[1]
        if n and tl.max() > s:
            i = int(np.argmax(tl))
            raise ValueError(
                f"target_lengths[{i}]={tl[i]} exceeds the padded target length S={s}")
        used = np.arange(s)[None, :] < tl[:, None]
        offsets = np.arange(n, dtype=np.int64) * s
        where = np.argwhere(used)
        values = tg[used]
    elif tg.ndim == 1:
        total = int(tl.sum())
        if total != tg.shape[0]:
            raise ValueError(
                f"concatenated targets must have sum(target_lengths)={total} labels; "
                f"got {tg.shape[0]}")
        offsets = np.concatenate(([0], np.cumsum(tl)[:-1])).astype(np.int64)
        where = None
        values = tg
    else:
        raise ValueError(
            f"targets must be padded (N, S) or concatenated 1-D; got shape {tg.shape}")
    bad = (values < 0) | (values >= c) | (values == blank)
    if bad.any():
        j = int(np.argmax(bad))
        at = f"targets[{where[j][0]}, {where[j][1]}]" if where is not None else f"targets[{j}]"
        raise ValueError(
            f"{at}={values[j]} is not a valid label: expected values in [0, {c}) other than "
            f"blank={blank}")
    flat = np.ascontiguousarray(tg, dtype=np.int64).reshape(-1)
    if flat.size == 0:
        flat = np.zeros(1, dtype=np.int64)  # nothing is read; keeps the pointer valid
    zc = np.ascontiguousarray(z, dtype=dt).reshape(-1)
    want_value, want_grad = _want
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, zc.size, dt)
    rc, value, bad_i = _kernels.ctc(n, t_max, c, zc, flat, offsets, il, tl, blank, code,
                                    bool(zero_infinity), loss, grad, _threads["n"])
    _check(rc, bad_i, "ctc: invalid lengths or labels (kernel check, item {bad})")
    out = _Out(z.dtype)
    return (out.value(value, loss, code, (n,)) if want_value else None,
            out.grad(grad, z.shape) if want_grad else None)


# --------------------------------------------------------------------------------------------
# SSD multibox


def _finite_nonneg(value, name: str) -> float:
    v = _to_float(value, name)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _ssd_multibox(loc_pred, loc_target, conf_logits, labels, *, neg_pos_ratio=3, beta=1.0,
                  reduction="mean", _want=(True, False)):
    """SSD multibox loss (Liu et al. 2016): smooth-L1 localisation over the positive anchors
    plus softmax cross-entropy over the positives and the hardest negatives.

    Parameters
    ----------
    loc_pred, loc_target : (N, A, 4) arrays
        Predicted and encoded target box offsets per anchor.
    conf_logits : (N, A, C) float array
        Class logits per anchor, class 0 the background.
    labels : (N, A) integers
        0 background, ``1 .. C-1`` an object class (a positive anchor), -1 ignored.
    neg_pos_ratio : number >= 0
        Per image, the negatives (label 0) with the largest background loss
        ``-log p(background)`` are kept, at most ``floor(neg_pos_ratio * positives)`` of them;
        ties go to the lower anchor index. Found by selection in O(A), not by a sort.
    beta : number >= 0
        Smooth-L1 transition point (``torch.nn.functional.smooth_l1_loss``'s ``beta``; 0 is
        L1), summed over the 4 coordinates of each positive anchor.
    reduction : "mean" | "sum" | "none"
        ``"none"``: per-image losses ``loc + conf`` (N,), unnormalised; ``"sum"``: their sum;
        ``"mean"``: the sum divided by the number of positive anchors in the batch (the SSD
        paper's normalisation). With no positive anchor at all, every reduction is 0 and the
        gradient is 0.

    Returns the value; ``.grad`` returns ``(d_loc_pred, d_conf_logits)`` and
    ``.value_and_grad`` returns ``(value, (d_loc_pred, d_conf_logits))``.
    """
    lp = _float_array(loc_pred, "loc_pred")
    cf = _float_array(conf_logits, "conf_logits")
    result = np.result_type(lp.dtype, cf.dtype)
    dt = _compute_dtype(np.empty(0, dtype=result))
    code = _reduction_code(reduction)
    if lp.ndim != 3 or lp.shape[2] != 4:
        raise ValueError(f"loc_pred must have shape (N, A, 4); got {lp.shape}")
    n, a, _ = lp.shape
    lt = np.asarray(loc_target)
    if lt.shape != lp.shape:
        raise ValueError(f"loc_target must have loc_pred's shape {lp.shape}; got {lt.shape}")
    if cf.ndim != 3 or cf.shape[:2] != (n, a):
        raise ValueError(f"conf_logits must have shape (N={n}, A={a}, C); got {cf.shape}")
    c = cf.shape[2]
    if c < 1:
        raise ValueError("conf_logits must have at least one class (the background)")
    y = _int_array(labels, "labels")
    if y.shape != (n, a):
        raise ValueError(f"labels must have shape (N={n}, A={a}); got {y.shape}")
    bad = (y < -1) | (y >= c)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"labels[{i}, {j}]={y[i, j]} is out of range: expected -1 (ignore), 0 (background) "
            f"or a class in [1, {c})")
    ratio = _finite_nonneg(neg_pos_ratio, "neg_pos_ratio")
    beta = _finite_nonneg(beta, "beta")
    lpc = np.ascontiguousarray(lp, dtype=dt).reshape(-1)
    ltc = _real_array(lt, "loc_target", dt).reshape(-1)
    cfc = np.ascontiguousarray(cf, dtype=dt).reshape(-1)
    yc = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
    want_value, want_grad = _want
    loss = _empty(want_value and code == 0, n, dt)
    g_loc = _empty_grad(want_grad, lpc.size, dt)
    g_conf = _empty_grad(want_grad, cfc.size, dt)
    rc, value, bad_i = _kernels.ssd(n, a, c, lpc, ltc, cfc, yc, ratio, beta, code, loss, g_loc,
                                    g_conf, _threads["n"])
    if rc == _ERR_LABEL:
        raise ValueError(f"labels has {yc[bad_i]} at flat position {bad_i}")
    _check(rc, bad_i)
    out = _Out(result)
    grads = None
    if want_grad:
        grads = (out.grad(g_loc, lp.shape), out.grad(g_conf, cf.shape))
    return (out.value(value, loss, code, (n,)) if want_value else None, grads)


ctc = Loss(_ctc)
ssd_multibox = Loss(_ssd_multibox)
