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
    r"""Soft Dice loss per sample and class, optionally with the softmax fused.

    .. math::

        \ell_{nc} = 1 - \frac{2 \sum_j p_{ncj} t_{ncj} + s}{\sum_j p_{ncj} + \sum_j t_{ncj} + s},

        \frac{\partial \ell_{nc}}{\partial p_{ncj}} = -\frac{2 t_{ncj}}{D_{nc}}
            + \frac{N_{nc}}{D_{nc}^2},

    for sample :math:`n` (every axis before ``axis``), class :math:`c` (on ``axis``) and
    :math:`j` running over every axis after it; :math:`p` = ``pred`` (or its softmax over
    ``axis`` with ``from_logits=True``, the gradient then taken through the softmax),
    :math:`t` = ``target`` (one-hot for labels), :math:`s` = ``smooth``, :math:`N` and :math:`D`
    the numerator and denominator. ``"mean"`` is :math:`\sum w_{nc} \ell_{nc} / \sum w_{nc}`
    over samples and classes, ``"sum"`` :math:`\sum w_{nc} \ell_{nc}`, :math:`w` =
    ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Probabilities (or logits with ``from_logits=True``) with the classes on ``axis``, e.g.
        ``(N, C, H, W)``: float16 (computed in float32), float32 or float64, any strides or byte
        order. Results have this dtype.
    target : array_like
        One-hot or soft masks of ``pred``'s shape (bool or float), or integer labels in
        ``[0, C)`` of ``pred``'s shape without ``axis``.
    axis : int, default 1
        The class axis: axes before it index samples, axes after it are summed over.
    smooth : float, default 1.0
        :math:`s \ge 0`, added to numerator and denominator.
    from_logits : bool, default False
        Apply a softmax over ``axis`` inside the kernel; the gradient is then with respect to the
        logits.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean over samples and classes; ``"sum"``; ``"none"``: the
        per-(sample, class) losses, of shape ``pred.shape[:axis + 1]``.
    sample_weight : array_like, optional
        Weights :math:`w`, broadcastable to ``pred.shape[:axis + 1]``.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of shape
        ``pred.shape[:axis + 1]``.
    grad : ndarray
        Returned by ``dice.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``dice.value_and_grad(...)``: the gradient of the returned value with respect to
        ``pred`` (probabilities or logits, as given; for ``"none"``: of the sum of the losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` is neither integer, bool
        nor float; ``smooth`` is not a real number; ``from_logits`` is not a boolean.
    ValueError
        ``pred`` is 0-d or has no class; ``axis`` out of range; ``smooth < 0``; ``target`` of the
        wrong shape; a label outside ``[0, C)``; with ``from_logits=False`` a probability outside
        ``[0, 1]`` (checked in the kernel's first pass; NaN passes through); an unknown
        ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    cross_entropy : With ``axis=1``, the pixel-wise loss often added to Dice.
    keras.losses.Dice : ``(y_true, y_pred)`` order; no ``smooth`` (a ``1e-7`` in the
        denominator) and, with its default ``axis=None``, one ratio over the whole batch and all
        classes.
    optax.losses.dice_loss : Classes on the last axis, softmax applied by default; its
        ``smooth=s`` adds :math:`s` to the intersection and :math:`s` to the half-sum, so it equals
        fastloss's ``smooth=2 * s``; it reduces over classes and keeps the batch axis.

    Notes
    -----
    The per-(sample, class) sums are needed before any gradient entry, so the kernel reads the
    input twice. With ``smooth=0`` an empty prediction and target give 0/0 = NaN. NaN in a
    prediction makes its (sample, class) pair NaN (with ``from_logits``: every class of the
    sample). Without ``from_logits``, probabilities outside ``[0, 1]`` are a ``ValueError``
    (PyTorch-style composite code would return a number - e.g. -0.47 for "probabilities" of 3 -
    which usually means logits were passed without ``from_logits=True``).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> probs = np.array([[[0.8, 0.1],     # class 0 at two pixels
    ...                    [0.2, 0.9]]])   # class 1; shape (N=1, C=2, 2)
    >>> labels = np.array([[0, 1]])        # shape (N=1, 2)
    >>> print(np.round(fl.dice(probs, labels, reduction="none"), 6))  # 1 - 2.6/2.9, 1 - 2.8/3.1
    [[0.103448 0.096774]]
    >>> print(f"{fl.dice(probs, labels):.6f}")
    0.100111
    >>> print(np.round(fl.dice.grad(probs, labels), 6))
    [[[-0.19025   0.154578]
      [ 0.145682 -0.176899]]]
    >>> print(f"{fl.dice(np.zeros((1, 2, 2)), labels, from_logits=True):.6f}")  # softmax: 0.5
    0.333333
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
    if rc == _checks.ERR_PRED:
        raise ValueError(
            f"pred must hold probabilities in [0, 1] (from_logits=False); found "
            f"{pc[bad].item()!r} at flat index {bad}. Pass from_logits=True if pred holds "
            "logits (the softmax over the class axis is then applied inside the kernel)"
        )
    _checks.check_status(rc, bad)
    return (finish_value(value, loss_, code, out_shape, result) if call.value else None,
            finish_grad(grad, shape, result) if call.grad else None)
