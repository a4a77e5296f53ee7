"""Binary-classification losses: one score (a logit or a probability) per element against a
binary or soft target.

binary_cross_entropy, binary_cross_entropy_with_logits, hinge, squared_hinge, focal and the GAN
losses gan_generator and gan_discriminator. Kernels: ``csrc/binary.c``; reference:
:mod:`fastloss.reference`; tests: ``tests/test_binary.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._elementwise import DOOR_RULES, KERNEL, Inputs, run
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "focal",
           "gan_discriminator", "gan_generator", "hinge", "squared_hinge"]

# The domain rules the kernels check (csrc/binary_impl.h), as (pred rule, target rule): the
# error message is the rule, then the offending value and its flat index.
_UNIT_TARGET = "target must be in [0, 1] (the probability of the positive class)"
_BCE_RULES = (("pred must be in [0, 1] (probabilities; use binary_cross_entropy_with_logits "
               "for logits)"), _UNIT_TARGET)
_LOGIT_RULES = (None, (_UNIT_TARGET + "; a target outside [0, 1] often means the arguments came "
                       "in Keras/scikit-learn order (y_true, y_pred): fastloss takes (pred, "
                       "target), the logits first"))
_FOCAL_RULES = (None, _UNIT_TARGET)
_FOCAL_PROBS_RULES = ("with from_logits=False, pred must be in [0, 1] (probabilities)",
                      _UNIT_TARGET)
_HINGE_RULES = (None, "target must hold only {-1, 1} or only {0, 1} (0 is read as -1)")
DOOR_RULES.update(bce_logits=_LOGIT_RULES, hinge=_HINGE_RULES, squared_hinge=_HINGE_RULES)


@loss
def binary_cross_entropy(call: Call, pred: ArrayLike, target: ArrayLike, *,
                         weight: ArrayLike | None = None,
                         reduction: Literal["none", "sum", "mean"] = "mean",
                         sample_weight: ArrayLike | None = None):
    r"""Binary cross-entropy on probabilities, with torch's clamped logarithms.

    .. math::

        \ell_i = -v_i \bigl[y_i \max(\log p_i, -100) + (1 - y_i) \max(\log(1 - p_i), -100)\bigr],

        \frac{\partial \ell_i}{\partial p_i}
            = v_i \frac{p_i - y_i}{\max\bigl(p_i (1 - p_i), 10^{-12}\bigr)},

    with :math:`p` = ``pred``, :math:`y` = ``target`` and :math:`v` = ``weight``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Predicted probabilities in ``[0, 1]``, any shape: float16 (computed in float32), float32
        or float64, any strides or byte order. Results have this dtype.
    target : array_like
        Targets of ``pred``'s shape, real-valued; hard (0 or 1) or soft (in ``[0, 1]``).
    weight : array_like, optional
        torch's elementwise rescaling weight :math:`v`, broadcastable to ``pred``'s shape. It
        multiplies the loss but does not enter the ``"mean"`` denominator (unlike
        ``sample_weight``).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``binary_cross_entropy.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``binary_cross_entropy.value_and_grad(...)`` (one kernel pass): the gradient of the
        returned value with respect to ``pred`` (for ``"none"``: of the sum of the per-element
        losses), of ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an
        array of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target``, ``weight`` or
        ``sample_weight`` is not real-valued; ``reduction`` is not a string.
    ValueError
        A value of ``pred`` or ``target`` outside ``[0, 1]`` (NaN passes; the message gives the
        first one and its flat index); ``pred`` and ``target`` differ in shape; ``weight`` or
        ``sample_weight`` does not broadcast to ``pred``'s shape; an unknown ``reduction``.

    See Also
    --------
    binary_cross_entropy_with_logits : The same loss on logits: stable, no clamping needed.
    focal : Down-weights the well-classified elements.
    torch.nn.functional.binary_cross_entropy : Same value, gradient (clamps included), ``weight``
        and defaults; no ``sample_weight``.
    keras.losses.BinaryCrossentropy : ``(y_true, y_pred)`` order; Keras clips the probabilities
        to ``[1e-7, 1 - 1e-7]`` instead of clamping the logarithms at -100 (the values differ
        near 0 and 1) and averages over the last axis first.
    sklearn.metrics.log_loss : ``(y_true, y_proba)`` order; clips probabilities to the dtype's
        machine epsilon; the same weighted mean otherwise.
    optax.losses.sigmoid_binary_cross_entropy : Takes logits (see
        ``binary_cross_entropy_with_logits``).

    Notes
    -----
    Probabilities of exactly 0 and 1 are valid: each logarithm is clamped at -100, as torch
    does, so the loss is finite (at most 100 per element). The gradient is the unclamped
    derivative with its denominator clamped at ``1e-12`` (torch's convention), so it is large but
    finite there, e.g. :math:`-10^{12}` at :math:`p = 0, y = 1`. Prefer
    :func:`binary_cross_entropy_with_logits` when logits are available.

    Domain: ``pred`` and ``target`` must both lie in ``[0, 1]``, checked by the kernel in its
    one pass (a NaN passes and gives NaN). torch refuses a ``pred`` outside ``[0, 1]`` too, but
    computes a number for any ``target``: a target of 2 gives a plausible 0.693 at
    :math:`p = 0.5`, which is never what was meant; fastloss refuses it.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.9, 0.2])
    >>> target = np.array([1.0, 0.0])
    >>> print(f"{fl.binary_cross_entropy(pred, target):.6f}")  # -(log 0.9 + log 0.8) / 2
    0.164252
    >>> print(np.round(fl.binary_cross_entropy.grad(pred, target), 6))
    [-0.555556  0.625   ]
    >>> print(f"{fl.binary_cross_entropy(pred, target, weight=[2.0, 1.0]):.6f}")  # still / 2
    0.216932
    >>> print(fl.binary_cross_entropy(np.array([0.0]), np.array([1.0])))  # log clamped at -100
    100.0
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    fa = _checks.factor(weight, inp.shape, inp.dtype, "weight")
    return run(call, "bce", inp, factors=(fa, (None, 1, 1)), domain=_BCE_RULES)


@loss(fast=(_kernels.door_bce_logits, ()), hessian=True)
def binary_cross_entropy_with_logits(call: Call, pred: ArrayLike, target: ArrayLike, *,
                                     pos_weight: ArrayLike | None = None,
                                     weight: ArrayLike | None = None,
                                     label_smoothing: float = 0.0,
                                     reduction: Literal["none", "sum", "mean"] = "mean",
                                     sample_weight: ArrayLike | None = None):
    r"""Binary cross-entropy on logits: the sigmoid fused into the loss, stable for any logit.

    .. math::

        \ell_i = v_i \bigl[P_i\, y'_i \operatorname{softplus}(-x_i)
            + (1 - y'_i) \operatorname{softplus}(x_i)\bigr], \qquad
        \frac{\partial \ell_i}{\partial x_i} = v_i \bigl[(1 - y'_i)\,\sigma(x_i)
            - P_i\, y'_i\, \sigma(-x_i)\bigr],

    with :math:`x` = ``pred``, :math:`\sigma` the logistic sigmoid,
    :math:`\operatorname{softplus}(x) = \log(1 + e^x) = -\log\sigma(-x)`,
    :math:`y' = y (1 - \varepsilon) + \varepsilon / 2` (``label_smoothing`` :math:`\varepsilon`,
    Keras's form), :math:`P` = ``pos_weight`` and :math:`v` = ``weight``; reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Logits, any shape: float16 (computed in float32), float32 or float64, any strides or byte
        order. Results have this dtype.
    target : array_like
        Targets of ``pred``'s shape, real-valued; hard (0 or 1) or soft (in ``[0, 1]``).
    pos_weight : array_like, optional
        Weight :math:`P` of the positive term, broadcast against ``pred`` like torch's: a ``(C,)``
        vector runs along the last axis (one weight per class of a multi-label problem).
    weight : array_like, optional
        torch's elementwise rescaling weight :math:`v`, broadcastable to ``pred``'s shape.
        Neither ``weight`` nor ``pos_weight`` enters the ``"mean"`` denominator.
    label_smoothing : float, default 0.0
        :math:`\varepsilon` in ``[0, 1]``: the target is replaced by
        :math:`y (1 - \varepsilon) + \varepsilon / 2`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``binary_cross_entropy_with_logits.grad(...)``, and with the loss as
        ``(loss, grad)`` by ``binary_cross_entropy_with_logits.value_and_grad(...)`` (one kernel
        pass): the gradient of the returned value with respect to the logits (for ``"none"``: of
        the sum of the per-element losses), of ``pred``'s shape and dtype. Both take the same
        arguments plus ``out=``: an array of that shape and dtype that receives the gradient and
        is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target``, ``pos_weight``,
        ``weight`` or ``sample_weight`` is not real-valued; ``label_smoothing`` is not a real
        number; ``reduction`` is not a string.
    ValueError
        A ``target`` outside ``[0, 1]`` (NaN passes; the message gives the first one and its
        flat index); ``label_smoothing`` outside ``[0, 1]``; ``pred`` and ``target`` differ in
        shape; a weight that does not broadcast to ``pred``'s shape; an unknown ``reduction``.

    See Also
    --------
    binary_cross_entropy : The same loss on probabilities.
    focal : Adds the focusing factor :math:`(1 - p_t)^\gamma`.
    torch.nn.functional.binary_cross_entropy_with_logits : Same value, gradient, ``weight``,
        ``pos_weight`` and defaults; torch has no label smoothing here (smooth the targets
        first); no ``sample_weight``.
    keras.losses.BinaryCrossentropy : ``BinaryCrossentropy(from_logits=True,
        label_smoothing=eps)``; ``(y_true, y_pred)`` order; averages over the last axis first;
        no ``pos_weight``.
    optax.losses.sigmoid_binary_cross_entropy : The per-element losses (``reduction="none"``),
        ``(logits, labels)``.
    sklearn.metrics.log_loss : Takes probabilities, not logits.

    Notes
    -----
    The loss is computed from :math:`\operatorname{softplus}(\pm x) = \max(\pm x, 0) +
    \operatorname{log1p}(e^{-|x|})`: no overflow and no cancellation at any logit (``1e4``
    included). With hard targets, :math:`x = +\infty, y = 1` and :math:`x = -\infty, y = 0`
    give 0 with a zero gradient; the wrong side gives ``+inf`` with gradient :math:`\mp 1`
    (times the weights). NaN gives NaN for that element.

    ``grad_hess``: Hessian ``w [(1 - t) + P t] s(x) s(-x)`` (with ``t`` smoothed), the logistic
    objective's ``p (1 - p)`` for ``P = w = 1``; positive, and 0 only where ``s(x) s(-x)``
    underflows (``|x|`` beyond ~745 in float64, ~104 in float32).

    Domain: ``target`` must lie in ``[0, 1]``, checked by the kernel in its one pass (a NaN
    passes and gives NaN). torch computes a number for any target: 2 or -1 gives a negative or
    arbitrary loss, and so does a call with the arguments in Keras / scikit-learn order
    (``y_true`` first) whenever a logit falls outside ``[0, 1]``. fastloss refuses such a
    target, and the message suggests the argument order.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> logits = np.array([2.0, -1.0])
    >>> target = np.array([1.0, 0.0])
    >>> print(f"{fl.binary_cross_entropy_with_logits(logits, target):.6f}")
    0.220095
    >>> print(np.round(fl.binary_cross_entropy_with_logits.grad(logits, target), 6))
    [-0.059601  0.134471]
    >>> print(f"{fl.binary_cross_entropy_with_logits(logits, target, pos_weight=[3.0]):.6f}")
    0.347023
    >>> print(f"{fl.binary_cross_entropy_with_logits(logits, target, label_smoothing=0.2):.6f}")
    0.370095
    >>> print(fl.binary_cross_entropy_with_logits(np.array([1e4]), np.array([0.0])))
    10000.0
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    eps = _checks.real_param(label_smoothing, "label_smoothing", lo=0.0, hi=1.0)
    fa = _checks.factor(weight, inp.shape, inp.dtype, "weight")
    fb = _checks.factor(pos_weight, inp.shape, inp.dtype, "pos_weight")
    return run(call, "bce_logits", inp, factors=(fa, fb), label_smoothing=eps,
               domain=_LOGIT_RULES)


@loss(fast=(_kernels.door_plain, (KERNEL["hinge"],)))
def hinge(call: Call, pred: ArrayLike, target: ArrayLike, *,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    r"""Binary hinge loss ``max(0, 1 - target * pred)`` for targets in {-1, 1} (or {0, 1}).

    .. math::

        \ell_i = \max(0, 1 - t_i x_i), \qquad
        \frac{\partial \ell_i}{\partial x_i} = \begin{cases} -t_i & t_i x_i < 1 \\
            0 & \text{otherwise} \end{cases},

    with :math:`x` = ``pred`` (scores) and :math:`t` = ``target``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Scores (decision values), any shape: float16 (computed in float32), float32 or float64,
        any strides or byte order. Results have this dtype.
    target : array_like
        Labels of ``pred``'s shape: only {-1, 1}, or only {0, 1} with 0 read as -1 (any real
        dtype).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``hinge.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``hinge.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of ``pred``'s
        shape and dtype. Both take the same arguments plus ``out=``: an array of that shape and
        dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``target`` holds anything but only {-1, 1} or only {0, 1} (a mix of -1 and 0 included);
        ``pred`` and ``target`` differ in shape; an unknown ``reduction``; ``sample_weight`` does
        not broadcast to ``pred``'s shape.

    See Also
    --------
    squared_hinge : The square of this loss, differentiable at the kink.
    multi_margin : The multi-class hinge loss.
    keras.losses.Hinge : ``(y_true, y_pred)`` order; also reads {0, 1} labels as {-1, 1}, but
        silently uses other values as given; averages over the last axis first.
    sklearn.metrics.hinge_loss : ``(y_true, pred_decision)``; the same weighted mean for binary
        labels (mapped to {-1, 1}).
    optax.losses.hinge_loss : The per-element losses (``reduction="none"``) for targets in
        {-1, 1}.
    torch.nn.functional.hinge_embedding_loss : A different loss (margin on distances); torch has
        no binary hinge loss.

    Notes
    -----
    At the kink :math:`t_i x_i = 1` the subgradient is taken as 0. Beyond the margin,
    :math:`x = \pm\infty` on the right side gives 0 with a zero gradient, on the wrong side
    ``+inf``. NaN in ``pred`` or ``target`` gives NaN for that element.

    Domain: ``target`` must hold only {-1, 1} or only {0, 1}, checked by the kernel in its one
    pass (a NaN passes and gives NaN). Keras reads any other value as given (a target of 0.5
    scales the margin) and a mix of -1 and 0 as three classes; fastloss refuses both.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> scores = np.array([0.5, -2.0, 1.0])
    >>> labels = np.array([1, 1, 0])  # {0, 1}: 0 is read as -1
    >>> print(fl.hinge(scores, labels, reduction="none"))
    [0.5 3.  2. ]
    >>> print(np.round(fl.hinge.grad(scores, labels), 6))
    [-0.333333 -0.333333  0.333333]
    >>> print(fl.hinge.grad(np.array([1.0]), np.array([1.0])))  # at the kink: 0
    [0.]
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    return run(call, "hinge", inp, domain=_HINGE_RULES)


@loss(fast=(_kernels.door_plain, (KERNEL["squared_hinge"],)), hessian=True)
def squared_hinge(call: Call, pred: ArrayLike, target: ArrayLike, *,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    r"""Squared hinge loss ``max(0, 1 - target * pred)**2`` for targets in {-1, 1} (or {0, 1}).

    .. math::

        \ell_i = \max(0, 1 - t_i x_i)^2, \qquad
        \frac{\partial \ell_i}{\partial x_i} = -2 t_i \max(0, 1 - t_i x_i),

    with :math:`x` = ``pred`` (scores) and :math:`t` = ``target``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Scores, any shape: float16 (computed in float32), float32 or float64, any strides or byte
        order. Results have this dtype.
    target : array_like
        Labels of ``pred``'s shape: only {-1, 1}, or only {0, 1} with 0 read as -1 (as
        :func:`hinge`).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``squared_hinge.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``squared_hinge.value_and_grad(...)`` (one kernel pass): the gradient of the returned
        value with respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``target`` holds anything but only {-1, 1} or only {0, 1}; ``pred`` and ``target``
        differ in shape; an unknown ``reduction``; ``sample_weight`` does not broadcast to
        ``pred``'s shape.

    See Also
    --------
    hinge : The unsquared loss.
    keras.losses.SquaredHinge : ``(y_true, y_pred)`` order; also reads {0, 1} labels as {-1, 1};
        averages over the last axis first.

    Notes
    -----
    The gradient is continuous at the kink. :math:`x = \pm\infty` gives 0 (zero gradient) on the
    right side of the margin and ``+inf`` on the wrong side; NaN (in ``pred`` or ``target``)
    gives NaN for that element. Targets are checked as :func:`hinge`'s, in the kernel's pass.

    ``grad_hess``: Hessian 2 where ``t * pred < 1`` and 0 beyond; at the kink
    ``t * pred == 1``, where the second derivative jumps, 0 (the side where the gradient is 0).
    Pass ``hessian_floor`` to keep samples beyond the margin from giving zero-Hessian leaves.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> scores = np.array([0.5, -2.0, 1.0])
    >>> labels = np.array([1.0, 1.0, -1.0])
    >>> print(f"{fl.squared_hinge(scores, labels):.6f}")  # (0.25 + 9 + 4) / 3
    4.416667
    >>> print(np.round(fl.squared_hinge.grad(scores, labels), 6))
    [-0.333333 -2.        1.333333]
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    return run(call, "squared_hinge", inp, domain=_HINGE_RULES)


@loss(hessian=True)
def focal(call: Call, pred: ArrayLike, target: ArrayLike, *, gamma: float = 2.0,
          alpha: float | None = None, from_logits: bool = True,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    r"""Binary focal loss (Lin et al. 2017): cross-entropy down-weighted where it is already small.

    .. math::

        \ell_i = -\bigl[y_i\, a\, (1 - p_i)^\gamma \log p_i
            + (1 - y_i)(1 - a)\, p_i^\gamma \log(1 - p_i)\bigr],

    with :math:`p = \sigma(x)` for logits (``from_logits=True``) or :math:`p = x` for
    probabilities, :math:`x` = ``pred``, :math:`y` = ``target`` in ``[0, 1]``, :math:`\gamma` =
    ``gamma`` and :math:`a` = ``alpha`` (both factors 1 when ``alpha`` is None). For hard targets
    this is :math:`-\alpha_t (1 - p_t)^\gamma \log p_t`. Reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``; the gradient is with respect to ``pred`` as given (logits or
    probabilities).

    Parameters
    ----------
    pred : array_like of float
        Logits (default) or probabilities in ``[0, 1]`` (``from_logits=False``), any shape:
        float16 (computed in float32), float32 or float64, any strides or byte order. Results
        have this dtype.
    target : array_like
        Targets of ``pred``'s shape in ``[0, 1]``: hard (0 or 1) or soft.
    gamma : float, default 2.0
        Focusing exponent :math:`\gamma \ge 0`; ``gamma=0`` with ``alpha=None`` is the binary
        cross-entropy.
    alpha : float or None, default None
        Weight :math:`a \in [0, 1]` of the positive term (:math:`1 - a` for the negative one);
        None: no weighting.
    from_logits : bool, default True
        Whether ``pred`` holds logits (the sigmoid is fused into the kernel) or probabilities.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``focal.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``focal.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` as given (for ``"none"``: of the sum of the per-element losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``gamma`` or ``alpha`` is not a real number; ``from_logits`` is not a
        boolean; ``reduction`` is not a string.
    ValueError
        ``gamma < 0``; ``alpha`` outside ``[0, 1]``; ``target`` outside ``[0, 1]``; with
        ``from_logits=False``, ``pred`` outside ``[0, 1]``; ``pred`` and ``target`` differ in
        shape; an unknown ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    binary_cross_entropy_with_logits : ``gamma=0, alpha=None``.
    torchvision.ops.sigmoid_focal_loss : The same value and gradient for hard targets. Its
        defaults differ: ``alpha=0.25`` (here None; torchvision's ``alpha=-1`` means none) and
        ``reduction="none"`` (here ``"mean"``). On soft targets torchvision multiplies the soft
        cross-entropy by :math:`(1 - p_t)^\gamma` with :math:`p_t = p y + (1 - p)(1 - y)`; fastloss
        applies the per-class form above. The two agree on {0, 1}.
    keras.losses.BinaryFocalCrossentropy : ``(y_true, y_pred)`` order; probabilities by default
        (``from_logits=False``); class balancing off unless ``apply_class_balancing=True``; soft
        targets as torchvision; probabilities clipped to ``[1e-7, 1 - 1e-7]``.
    optax.losses.sigmoid_focal_loss : Logits, ``alpha=None, gamma=2.0`` as here; per-element
        values (``reduction="none"``); soft targets as torchvision.

    Notes
    -----
    Logits are handled in log space (:math:`\log p = -\operatorname{softplus}(-x)`), stable at
    :math:`|x| = 10^4` for any ``gamma`` and ``alpha``. Probabilities are used as given: a term
    whose target coefficient is 0 is dropped (so :math:`p = 0, y = 0` gives 0, not
    :math:`0 \cdot \log 0`), and a target class with probability 0 gives an infinite loss. With
    hard targets and logits, :math:`x = \pm\infty` on the right side gives 0 with a zero gradient
    and on the wrong side ``+inf``; soft targets at infinite logits give ``+inf``.

    ``grad_hess`` (logits only, ``from_logits=True``): the analytic second derivative w.r.t.
    the logit, with ``q = 1 - p``, ``A = -log p``, ``B = -log q``:
    ``t a q**gamma [p q (1 + 2 gamma) + gamma p A (gamma p - q)] + (1 - t)(1 - a) p**gamma
    [p q (1 + 2 gamma) + gamma q B (gamma q - p)]``, computed in log space like the loss (finite
    at any logit, 0 in the limits). For ``gamma > 0`` it is negative for confidently wrong
    samples (``gamma=2``: a positive with a logit below about -2.8): the focal loss is not
    convex. Pass ``hessian_floor`` (e.g. 1e-6) when boosting with it.

    Domain: ``target`` must lie in ``[0, 1]``, and with ``from_logits=False`` ``pred`` too,
    checked by the kernel in its one pass (a NaN passes and gives NaN). torchvision's
    ``sigmoid_focal_loss`` computes a number for any target (a negative or meaningless loss
    outside ``[0, 1]``); fastloss refuses it.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> logits = np.array([2.0, -1.0])
    >>> target = np.array([1.0, 0.0])
    >>> print(f"{fl.focal(logits, target):.6f}")  # gamma=2, no alpha
    0.012231
    >>> print(f"{fl.focal(logits, target, alpha=0.25):.6f}")  # torchvision's defaults
    0.008722
    >>> print(np.round(fl.focal.grad(logits, target, alpha=0.25), 6))
    [-0.000609  0.019718]
    >>> print(f"{fl.focal(logits, target, gamma=0.0):.6f}")  # = binary_cross_entropy_with_logits
    0.220095

    Soft targets use the per-class form (torchvision would give 0.281732 here):

    >>> print(f"{fl.focal(np.array([2.0]), np.array([0.5])):.6f}")
    0.825941
    """
    gamma = _checks.real_param(gamma, "gamma", lo=0.0)
    a = -1.0 if alpha is None else _checks.real_param(alpha, "alpha", lo=0.0, hi=1.0)
    from_logits = _checks.flag(from_logits, "from_logits")
    inp = Inputs(pred, target, reduction, sample_weight)
    if call.hess and not from_logits:
        raise ValueError(
            "grad_hess needs from_logits=True: the Hessian is taken w.r.t. the logit (the margin "
            "gradient boosting works on)")
    if from_logits:  # gamma = 2: the kernel compiled for it (products, not exponentials)
        return run(call, "focal_g2" if gamma == 2.0 else "focal", inp, gamma=gamma, alpha=a,
                   from_logits=True, domain=_FOCAL_RULES)
    return run(call, "focal_probs", inp, gamma=gamma, alpha=a, from_logits=False,
               domain=_FOCAL_PROBS_RULES)


@loss
def gan_generator(call: Call, fake_logits: ArrayLike, *, saturating: bool = False,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    r"""GAN generator loss on the discriminator's logits for generated samples.

    .. math::

        \text{non-saturating:}\quad \ell_i = -\log\sigma(x_i) = \operatorname{softplus}(-x_i),
        \qquad \frac{\partial \ell_i}{\partial x_i} = -\sigma(-x_i),

        \text{saturating:}\quad \ell_i = \log(1 - \sigma(x_i)) = -\operatorname{softplus}(x_i),
        \qquad \frac{\partial \ell_i}{\partial x_i} = -\sigma(x_i),

    with :math:`x` = ``fake_logits`` (the discriminator's logits for generated samples), reduced
    to :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i`
    (``"sum"``), :math:`w` = ``sample_weight``. The non-saturating form is Goodfellow et al.
    (2014)'s practical choice; the saturating one is the minimax objective.

    Parameters
    ----------
    fake_logits : array_like of float
        The discriminator's logits for generated samples, any shape: float16 (computed in
        float32), float32 or float64, any strides or byte order. Results have this dtype.
    saturating : bool, default False
        Use the minimax form :math:`\log(1 - \sigma(x))` instead of :math:`-\log\sigma(x)`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``fake_logits``'s shape.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``fake_logits``'s dtype. ``"none"``: an array of
        its shape.
    grad : ndarray
        Returned by ``gan_generator.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``gan_generator.value_and_grad(...)`` (one kernel pass): the gradient of the returned
        value with respect to ``fake_logits`` (for ``"none"``: of the sum of the per-element
        losses), of its shape and dtype. Both take the same arguments plus ``out=``: an array of
        that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``fake_logits`` is not a float16, float32 or float64 array; ``saturating`` is not a
        boolean; ``sample_weight`` is not real-valued; ``reduction`` is not a string.
    ValueError
        An unknown ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    gan_discriminator : The discriminator's side.
    binary_cross_entropy_with_logits : The non-saturating loss is its value at target 1.
    torch.nn.functional.binary_cross_entropy_with_logits : ``bce_with_logits(x, ones)`` is the
        non-saturating loss; ``-bce_with_logits(x, zeros)`` the saturating one.

    Notes
    -----
    Stable for any logit (softplus form). :math:`x = +\infty` gives 0 (gradient 0) and
    :math:`x = -\infty` gives ``+inf`` (gradient -1); saturating: ``-inf`` and 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> fake = np.array([0.0, 2.0])
    >>> print(f"{fl.gan_generator(fake):.6f}")  # (log 2 + softplus(-2)) / 2
    0.410038
    >>> print(np.round(fl.gan_generator.grad(fake), 6))  # -sigmoid(-x) / 2
    [-0.25     -0.059601]
    >>> print(f"{fl.gan_generator(fake, saturating=True):.6f}")
    -1.410038
    """
    saturating = _checks.flag(saturating, "saturating")
    inp = Inputs(fake_logits, None, reduction, sample_weight, names=("fake_logits", ""))
    return run(call, "gan_generator", inp, saturating=saturating)


@loss(wrt=("real_logits", "fake_logits"))
def gan_discriminator(call: Call, real_logits: ArrayLike, fake_logits: ArrayLike, *,
                      reduction: Literal["none", "sum", "mean"] = "mean",
                      sample_weight: tuple[ArrayLike | None, ArrayLike | None] | None = None):
    r"""GAN discriminator loss ``BCE(real, 1) + BCE(fake, 0)`` on logits.

    .. math::

        L = R\bigl(\operatorname{softplus}(-r)\bigr) + R\bigl(\operatorname{softplus}(f)\bigr),
        \qquad \frac{\partial \ell}{\partial r_i} = -\sigma(-r_i), \quad
        \frac{\partial \ell}{\partial f_j} = \sigma(f_j),

    with :math:`r` = ``real_logits``, :math:`f` = ``fake_logits`` and :math:`R` the reduction,
    applied to each part on its own (``"mean"``: the mean of the real part plus the mean of the
    fake part, each weighted by its ``sample_weight``; ``"sum"``: the sum of both).

    Parameters
    ----------
    real_logits : array_like of float
        The discriminator's logits for real samples, any shape: float16 (computed in float32),
        float32 or float64. Results have this dtype.
    fake_logits : array_like of float
        Its logits for generated samples, any shape (it may differ from ``real_logits``'s), of the
        same float dtype.
    reduction : {"mean", "sum", "none"}, default "mean"
        Applied to each part separately, then added; ``"none"`` returns the pair of per-sample
        arrays.
    sample_weight : tuple of two array_like or None, optional
        None, or a pair ``(real_weight, fake_weight)`` (either may be None), each broadcastable to
        its part's shape.

    Returns
    -------
    loss : numpy scalar or tuple of ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of the logits' dtype. ``"none"``: the tuple
        ``(real_losses, fake_losses)``.
    grad : tuple of ndarray
        Returned by ``gan_discriminator.grad(...)`` as ``(d_real, d_fake)``, and as
        ``(loss, (d_real, d_fake))`` by ``gan_discriminator.value_and_grad(...)`` (one kernel
        call): the gradients with respect to ``real_logits`` and ``fake_logits``, scaled by the
        reduction. Both take the same arguments plus ``out=``: a tuple of two arrays (the
        gradients' shapes and dtype) that receive them and are returned.

    Raises
    ------
    TypeError
        A logits array is not float16, float32 or float64, or the two differ in dtype; a weight
        is not real-valued; ``reduction`` is not a string.
    ValueError
        ``sample_weight`` is not None or a pair, or a weight does not broadcast to its part; an
        unknown ``reduction``; ``out`` is not a pair of arrays of the right shapes.

    See Also
    --------
    gan_generator : The generator's side.
    torch.nn.functional.binary_cross_entropy_with_logits : ``bce(real, ones) + bce(fake, zeros)``
        is the same value for ``"mean"`` and ``"sum"``.

    Notes
    -----
    Stable for any logit. Infinite logits give the limits of each part (0 with a zero gradient
    on the right side, ``+inf`` on the wrong side).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> real = np.array([2.0])
    >>> fake = np.array([0.0, -1.0])
    >>> print(f"{fl.gan_discriminator(real, fake):.6f}")  # softplus(-2) + mean(log 2, softplus(-1))
    0.630132
    >>> d_real, d_fake = fl.gan_discriminator.grad(real, fake)
    >>> print(np.round(d_real, 6), np.round(d_fake, 6))
    [-0.119203] [0.25     0.134471]
    >>> real_losses, fake_losses = fl.gan_discriminator(real, fake, reduction="none")
    >>> print(real_losses.shape, fake_losses.shape)
    (1,) (2,)
    """
    r = _checks.float_array(real_logits, "real_logits")
    f = _checks.float_array(fake_logits, "fake_logits")
    if r.dtype.itemsize != f.dtype.itemsize:
        raise TypeError(
            f"real_logits and fake_logits must have the same dtype; got {r.dtype} and {f.dtype}"
        )
    dt = _checks.compute_dtype(r)
    result = _checks.result_dtype(r)
    code = _checks.reduction_code(reduction)
    if sample_weight is None:
        sw_r = sw_f = None
    elif isinstance(sample_weight, (tuple, list)) and len(sample_weight) == 2:
        sw_r = _checks.sample_weight(sample_weight[0], r.shape, dt)
        sw_f = _checks.sample_weight(sample_weight[1], f.shape, dt)
    else:
        raise ValueError(
            "sample_weight must be None or a pair (real_weight, fake_weight); got "
            f"{type(sample_weight).__name__} of shape {np.shape(sample_weight)}"
        )
    xr = _checks.kernel_array(r, dt)
    xf = _checks.kernel_array(f, dt)
    loss_r = loss_buffer(call, code, xr.size, dt)
    loss_f = loss_buffer(call, code, xf.size, dt)
    grad_r = call.grad_buffer(0, r.shape, dt, result, xr, xf, sw_r, sw_f, inplace=xr)
    grad_f = call.grad_buffer(1, f.shape, dt, result, xr, xf, sw_r, sw_f, grad_r, inplace=xf)
    rc, value, bad = _kernels.gan_discriminator(xr, xf, sw_r, sw_f, code, loss_r, loss_f,
                                                grad_r, grad_f, _config.THREADS[0])
    _checks.check_status(rc, bad)
    v = None
    if call.value:
        if code == 0:
            v = (finish_value(value, loss_r, code, r.shape, result),
                 finish_value(value, loss_f, code, f.shape, result))
        else:
            v = result.type(value)
    g = None
    if call.grad:
        g = (finish_grad(grad_r, r.shape, result), finish_grad(grad_f, f.shape, result))
    return v, g
