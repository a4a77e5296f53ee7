"""Sequence losses: alignments between an input sequence and a shorter label sequence.

ctc. Kernels: ``csrc/sequence.c``; reference: :mod:`fastloss.reference`; tests:
``tests/test_sequence.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["ctc"]


def _lengths(x, n: int, name: str) -> np.ndarray:
    a = _checks.int64_array(x, name)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one length per sample); got {a.shape}")
    if n and a.min() < 0:
        i = int(np.argmin(a))
        raise ValueError(f"{name} must be >= 0; got {a[i]} for sample {i}")
    return a


@loss
def ctc(call: Call, logits: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, blank: int = 0,
        reduction: Literal["none", "sum", "mean"] = "mean", zero_infinity: bool = False):
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
    z = _checks.float_array(logits, "logits")
    dt = _checks.compute_dtype(z)
    result = _checks.result_dtype(z)
    code = _checks.reduction_code(reduction)
    zero_infinity = _checks.flag(zero_infinity, "zero_infinity")
    if z.ndim != 3:
        raise ValueError(f"logits must have shape (N, T, C); got shape {z.shape}")
    n, t_max, c = z.shape
    if c == 0:
        raise ValueError("logits must have at least one class (C >= 1, the blank)")
    blank = _checks.int_param(blank, "blank")
    if not 0 <= blank < c:
        raise ValueError(f"blank={blank} is out of range for C={c} classes")
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    if n and il.max() > t_max:
        i = int(np.argmax(il))
        raise ValueError(f"input_lengths[{i}]={il[i]} exceeds the number of time steps T={t_max}")
    tg = _checks.int64_array(targets, "targets")
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
        total = int(tl.sum(dtype=object)) if n else 0  # exact: no int64 wrap-around
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
    flat = tg.reshape(-1)
    zc = _checks.kernel_array(z, dt)
    loss_ = loss_buffer(call, code, n, dt)
    grad = call.grad_buffer(0, z.shape, dt, result, zc)
    rc, value, bad_i = _kernels.ctc(n, t_max, c, zc, flat, offsets, il, tl, blank, code,
                                    zero_infinity, loss_, grad, _config.THREADS[0])
    _checks.check_status(rc, bad_i, "invalid lengths or labels (kernel check, item {bad})")
    return (finish_value(value, loss_, code, (n,), result) if call.value else None,
            finish_grad(grad, z.shape, result) if call.grad else None)
