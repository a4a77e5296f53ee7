"""Segmentation losses: per-class overlap between a predicted and a target mask.

dice. Kernels: ``csrc/segmentation.c``; reference: :mod:`fastloss.reference`; tests:
``tests/test_segmentation.py``.
"""

from __future__ import annotations

import math
from typing import Literal

from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["dice"]


@loss
def dice(call: Call, pred: ArrayLike, target: ArrayLike, *, axis: int = 1, smooth: float = 1.0,
         from_logits: bool = False, reduction: Literal["none", "sum", "mean"] = "mean",
         sample_weight: ArrayLike | None = None):
    """Soft Dice loss per sample and class.

    ``pred`` has the classes on ``axis``; every axis before it is a batch axis, every axis after
    it is summed over. Per sample n and class c:
    ``1 - (2 * sum(p * t) + smooth) / (sum(p) + sum(t) + smooth)``. ``target`` is one-hot/soft
    with ``pred``'s shape, or integer labels with ``pred``'s shape without ``axis``.
    ``from_logits=True`` applies a softmax over ``axis`` inside the kernel and the gradient is
    w.r.t. the logits. ``"none"`` returns shape ``pred.shape[:axis + 1]``; ``"mean"`` averages
    over samples and classes (weighted by ``sample_weight``, broadcastable to that shape).
    With ``smooth=0`` an empty prediction and target give 0/0 = NaN.
    """
    p = _checks.float_array(pred, "pred")
    dt = _checks.compute_dtype(p)
    result = _checks.result_dtype(p)
    code = _checks.reduction_code(reduction)
    if p.ndim == 0:
        raise ValueError("pred must have at least one dimension (the classes)")
    ax = _checks.axis(axis, p.ndim)
    smooth = _checks.real_param(smooth, "smooth", lo=0.0)
    from_logits = _checks.flag(from_logits, "from_logits")
    shape = p.shape
    c = shape[ax]
    o_n = math.prod(shape[:ax])
    inner = math.prod(shape[ax + 1:])
    if c == 0:
        raise ValueError("pred must have at least one class along axis")
    t = _checks.any_array(target, "target")
    target_soft = labels = None
    if t.dtype.kind in "iu":
        labels = _checks.labels(t, shape[:ax] + shape[ax + 1:])
    elif t.dtype.kind in "bf":
        _checks.same_shape(p, t)
        target_soft = _checks.kernel_array(t, dt)
    else:
        raise TypeError(f"target must be integer labels or a real array; got dtype {t.dtype}")
    pc = _checks.kernel_array(p, dt)
    out_shape = shape[:ax + 1]
    sw = _checks.sample_weight(sample_weight, out_shape, dt)
    loss_ = loss_buffer(call, code, o_n * c, dt)
    grad = call.grad_buffer(0, shape, dt, result, pc, target_soft, labels, sw)
    rc, value, bad = _kernels.dice(o_n, c, inner, pc, target_soft, labels, sw, smooth,
                                   from_logits, code, loss_, grad, _config.THREADS[0])
    if rc == _checks.ERR_LABEL:
        raise ValueError(
            f"target has class index {labels[bad]} at flat position {bad}; expected values in "
            f"[0, {c})"
        )
    _checks.check_status(rc, bad)
    return (finish_value(value, loss_, code, out_shape, result) if call.value else None,
            finish_grad(grad, shape, result) if call.grad else None)
