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
    r"""SSD multibox loss (Liu et al. 2016): smooth-L1 box regression plus cross-entropy with hard
    negative mining.

    .. math::

        L_n = \sum_{a \in P_n} \sum_{k=1}^{4} \operatorname{smooth\_l1}_\beta(l_{nak} - g_{nak})
            + \sum_{a \in P_n \cup H_n} \bigl(\operatorname{lse}(c_{na}) - c_{n a y_{na}}\bigr),

    per image :math:`n`, with :math:`l` = ``loc_pred``, :math:`g` = ``loc_target``,
    :math:`c` = ``conf_logits``, :math:`y` = ``labels``, :math:`P_n` the positive anchors
    (label ``>= 1``) and :math:`H_n` the hardest negatives: the
    :math:`\min(\lfloor r |P_n| \rfloor, \#\text{negatives})` anchors of label 0 with the
    largest background loss :math:`-\log p_0`, :math:`r` = ``neg_pos_ratio``. ``"mean"`` divides
    :math:`\sum_n L_n` by the number of positive anchors in the batch (the paper's normalisation).

    Parameters
    ----------
    loc_pred : array_like of float, shape (N, A, 4)
        Predicted box offsets per anchor: float16 (computed in float32), float32 or float64.
    loc_target : array_like, shape (N, A, 4)
        Encoded target offsets, real-valued.
    conf_logits : array_like of float, shape (N, A, C)
        Class logits per anchor, class 0 the background. Mixed float dtypes of ``loc_pred`` and
        ``conf_logits`` promote to the wider one.
    labels : array_like of int, shape (N, A)
        0 background, ``1 .. C-1`` an object class (a positive anchor), -1 ignored (never
        counted).
    neg_pos_ratio : float, default 3
        :math:`r \ge 0`: negatives kept per positive, per image.
    beta : float, default 1.0
        The smooth-L1 transition point (torch's ``beta``; 0 is L1), summed over the 4
        coordinates of each positive anchor.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"``: the per-image losses :math:`L_n` (N,), unnormalised; ``"sum"``: their sum;
        ``"mean"``: the sum divided by the number of positive anchors in the batch.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of the promoted dtype. ``"none"``: an array of shape
        ``(N,)``.
    grad : tuple of ndarray
        ``ssd_multibox.grad(...)`` returns ``(d_loc_pred, d_conf_logits)`` and
        ``ssd_multibox.value_and_grad(...)`` returns ``(loss, (d_loc_pred, d_conf_logits))``
        from one kernel call: the gradients of the returned value (for ``"none"``: of the sum of
        the losses) with respect to ``loc_pred`` and ``conf_logits``. Both take the same arguments
        plus ``out=``: a tuple of two arrays of those shapes and the promoted dtype that receive
        the gradients and are returned.

    Raises
    ------
    TypeError
        ``loc_pred`` or ``conf_logits`` is not a float16, float32 or float64 array; ``labels`` is
        not integer; an option has the wrong type.
    ValueError
        An array of the wrong shape; a label outside ``-1 .. C-1``; ``neg_pos_ratio < 0`` or
        ``beta < 0``; an unknown ``reduction``.

    See Also
    --------
    smooth_l1 : The localisation term.
    cross_entropy : The confidence term.

    Notes
    -----
    Neither torch, Keras, scikit-learn nor optax ships this loss (torchvision's SSD model
    computes it inline). Negatives are ranked by their background loss (NaN counts as the
    largest), ties going to the lower anchor index: a deterministic choice, made by selection
    (quickselect, expected :math:`O(A)` per image) rather than a sort. An image without
    positives keeps no negatives; with no positive anchor in the whole batch every reduction is 0
    and both gradients are 0.

    Examples
    --------
    One image, two anchors: a positive (label 1) with a box offset 0.5 away, and a negative:

    >>> import numpy as np
    >>> import fastloss as fl
    >>> loc_pred = np.zeros((1, 2, 4))
    >>> loc_target = np.array([[[0.5, 0.0, 0.0, 0.0], [9.0, 9.0, 9.0, 9.0]]])
    >>> conf = np.zeros((1, 2, 2))
    >>> labels = np.array([[1, 0]])
    >>> args = (loc_pred, loc_target, conf, labels)
    >>> print(f"{fl.ssd_multibox(*args):.6f}")  # 0.5 * 0.5**2 + log 2 + log 2, one positive
    1.511294
    >>> d_loc, d_conf = fl.ssd_multibox.grad(*args)
    >>> print(d_loc[0, 0], d_conf[0])
    [-0.5  0.   0.   0. ] [[ 0.5 -0.5]
     [-0.5  0.5]]
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
