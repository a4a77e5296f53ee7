"""Detection losses: box regression and classification over anchors.

ssd_multibox. Kernels: ``csrc/detection.c``; reference: :mod:`fastloss.reference`; tests:
``tests/test_detection.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["ssd_multibox"]


@loss(wrt=("loc_pred", "conf_logits"))
def ssd_multibox(call: Call, loc_pred: ArrayLike, loc_target: ArrayLike,
                 conf_logits: ArrayLike, labels: ArrayLike, *, neg_pos_ratio: float = 3,
                 beta: float = 1.0, reduction: Literal["none", "sum", "mean"] = "mean"):
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
    lp = _checks.float_array(loc_pred, "loc_pred")
    cf = _checks.float_array(conf_logits, "conf_logits")
    wide = max(lp.dtype.itemsize, cf.dtype.itemsize)
    dt = _checks.F64 if wide == 8 else _checks.F32
    result = np.dtype(f"f{wide}")
    code = _checks.reduction_code(reduction)
    if lp.ndim != 3 or lp.shape[2] != 4:
        raise ValueError(f"loc_pred must have shape (N, A, 4); got {lp.shape}")
    n, a, _ = lp.shape
    lt = _checks.any_array(loc_target, "loc_target")
    if lt.shape != lp.shape:
        raise ValueError(f"loc_target must have loc_pred's shape {lp.shape}; got {lt.shape}")
    if cf.ndim != 3 or cf.shape[:2] != (n, a):
        raise ValueError(f"conf_logits must have shape (N={n}, A={a}, C); got {cf.shape}")
    c = cf.shape[2]
    if c < 1:
        raise ValueError("conf_logits must have at least one class (the background)")
    y = _checks.int64_array(labels, "labels")
    if y.shape != (n, a):
        raise ValueError(f"labels must have shape (N={n}, A={a}); got {y.shape}")
    bad = (y < -1) | (y >= c)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"labels[{i}, {j}]={y[i, j]} is out of range: expected -1 (ignore), 0 (background) "
            f"or a class in [1, {c})")
    ratio = _checks.real_param(neg_pos_ratio, "neg_pos_ratio", lo=0.0)
    beta = _checks.real_param(beta, "beta", lo=0.0)
    lpc = _checks.kernel_array(lp, dt)
    ltc = _checks.real_array(lt, "loc_target", dt)
    cfc = _checks.kernel_array(cf, dt)
    yc = y.reshape(-1)
    loss_ = loss_buffer(call, code, n, dt)
    g_loc = call.grad_buffer(0, lp.shape, dt, result, lpc, ltc, cfc, yc)
    g_conf = call.grad_buffer(1, cf.shape, dt, result, lpc, ltc, cfc, yc, g_loc)
    rc, value, bad_i = _kernels.ssd(n, a, c, lpc, ltc, cfc, yc, ratio, beta, code, loss_, g_loc,
                                    g_conf, _config.THREADS[0])
    if rc == _checks.ERR_LABEL:
        raise ValueError(f"labels has {yc[bad_i]} at flat position {bad_i}")
    _checks.check_status(rc, bad_i)
    grads = None
    if call.grad:
        grads = (finish_grad(g_loc, lp.shape, result), finish_grad(g_conf, cf.shape, result))
    return (finish_value(value, loss_, code, (n,), result) if call.value else None, grads)
