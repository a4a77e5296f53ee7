"""Multi-class losses and functions over a class axis.

cross_entropy, multi_margin, kl_div and distillation, and the array functions softmax,
log_softmax and logsumexp (with their vector-Jacobian products). Kernels: ``csrc/multiclass.c``;
reference: :mod:`fastloss.reference`; tests: ``tests/test_multiclass.py``.

Every function here takes the class axis as ``axis``; arrays are handed to the kernels with the
classes last and C-contiguous (a copy only when they are not), except integer-label
cross-entropy with the classes on a middle axis, which a strided kernel reads in place.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._elementwise import Inputs, run
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer, name_error

__all__ = ["cross_entropy", "distillation", "kl_div", "log_softmax", "logsumexp",
           "multi_margin", "softmax"]


def _label_error(labels: np.ndarray, bad: int, c: int, ignore: int | None = None):
    extra = f" or ignore_index={ignore}" if ignore is not None else ""
    return ValueError(
        f"target has class index {labels[bad]} at flat position {bad}; expected values in "
        f"[0, {c}){extra}"
    )


def _temperature(value) -> float:
    return _checks.real_param(value, "temperature", lo=0.0, lo_open=True)


# --------------------------------------------------------------------------------------------
# cross-entropy


@loss(fast=(_kernels.door_cross_entropy, ()), hessian=True)
def cross_entropy(call: Call, logits: ArrayLike, target: ArrayLike, *, axis: int = -1,
                  weight: ArrayLike | None = None, ignore_index: int = -100,
                  label_smoothing: float = 0.0, temperature: float = 1.0,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    r"""Softmax cross-entropy with class-index or class-probability targets.

    For class indices :math:`y_n` (with ``ignore_index`` rows left out), per sample :math:`n`:

    .. math::

        \ell_n = s_n \Bigl[(1 - \varepsilon)\, v_{y_n} \bigl(\operatorname{lse}(z_n) - z_{n y_n}\bigr)
            + \frac{\varepsilon}{C} \sum_k v_k \bigl(\operatorname{lse}(z_n) - z_{nk}\bigr)\Bigr],
        \qquad L_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_n s_n v_{y_n}},

    and for class probabilities :math:`t_n`, with :math:`t' = (1 - \varepsilon) t + \varepsilon / C`:

    .. math::

        \ell_n = -s_n \sum_k v_k\, t'_{nk} \log \operatorname{softmax}(z_n)_k, \qquad
        L_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_n s_n},

    where :math:`z = \text{logits} / T` along the class axis, :math:`\operatorname{lse}` is the
    log-sum-exp over the :math:`C` classes, :math:`v` = ``weight``, :math:`\varepsilon` =
    ``label_smoothing``, :math:`s` = ``sample_weight`` and :math:`T` = ``temperature``;
    ``"sum"`` is :math:`\sum_n \ell_n`. The gradient with respect to the logits is
    :math:`\bigl(\textstyle\sum_k v_k t'_{nk}\bigr) \operatorname{softmax}(z_n) - v \odot t'_n`
    times :math:`s_n / T` (and the ``"mean"`` scale), with :math:`t'` the smoothed one-hot vector
    for class indices.

    Parameters
    ----------
    logits : array_like of float
        Unnormalised scores with the classes on ``axis``, any other shape: float16 (computed in
        float32), float32 or float64, any strides or byte order. Results have this dtype.
    target : array_like
        Integer class indices of ``logits``' shape without ``axis``, each in ``[0, C)`` or equal
        to ``ignore_index``; or floating class probabilities of ``logits``' shape.
    axis : int, default -1
        The class axis of ``logits`` (``axis=1`` for torch's ``(N, C, ...)`` layout; a middle
        class axis is read in place, without a transpose).
    weight : array_like, optional
        Per-class weights :math:`v`, shape ``(C,)``.
    ignore_index : int, default -100
        A class index whose samples contribute nothing (loss, gradient, ``"mean"`` denominator);
        for class indices only.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`: the target is mixed with the uniform distribution.
    temperature : float, default 1.0
        :math:`T > 0`: the logits are divided by it; the gradient includes the :math:`1/T`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: divided by the summed class weights of the non-ignored targets times their
        sample weights (torch's denominator, label smoothing included; for probabilities: by the
        total sample weight); ``"sum"``; ``"none"``: the per-sample losses.
    sample_weight : array_like, optional
        Per-sample weights :math:`s`, broadcastable to ``logits``' shape without ``axis``; they
        multiply each sample's loss and gradient and enter the ``"mean"`` denominator.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``logits``' dtype. ``"none"``: the per-sample
        losses, an array of ``logits``' shape without ``axis``.
    grad : ndarray
        Returned by ``cross_entropy.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``cross_entropy.value_and_grad(...)`` (one kernel pass): the gradient of the returned
        value with respect to ``logits`` (for ``"none"``: of the sum of the per-sample losses),
        of ``logits``' shape and dtype. Both take the same arguments plus ``out=``: an array of
        that shape and dtype that receives the gradient and is returned (``out=logits``
        overwrites the logits in place).

    Raises
    ------
    TypeError
        ``logits`` is not a float16, float32 or float64 array; ``target`` is neither integer nor
        floating; ``weight`` or ``sample_weight`` is not real-valued; an option has the wrong
        type.
    ValueError
        A class index outside ``[0, C)`` other than ``ignore_index`` (the message gives it and
        its position); ``target`` of the wrong shape; ``weight`` not of shape ``(C,)``;
        ``axis`` out of range or an empty class axis; ``label_smoothing`` outside ``[0, 1]``;
        ``temperature <= 0``; an unknown ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    log_softmax : The normalised log-probabilities themselves.
    distillation : Cross-entropy plus a softened KL term to a teacher.
    torch.nn.functional.cross_entropy : Same value, gradient, ``weight``, ``ignore_index``,
        ``label_smoothing`` and defaults, with the classes at dim 1 (here ``axis=-1`` by default:
        pass ``axis=1`` for torch's layout); temperature ``T`` is ``cross_entropy(logits / T,
        ...)`` there; no ``sample_weight``.
    keras.losses.SparseCategoricalCrossentropy : Class indices, ``(y_true, y_pred)`` order,
        probabilities by default (pass ``from_logits=True``); ``ignore_class`` plays the part of
        ``ignore_index``; no label smoothing for indices; with ``sample_weight`` its default
        reduction divides by the number of samples.
    keras.losses.CategoricalCrossentropy : Class probabilities (one-hot), with the same label
        smoothing; ``from_logits=False`` by default.
    sklearn.metrics.log_loss : Takes probabilities (apply :func:`softmax` first), clipped to the
        machine epsilon; the same weighted mean.
    optax.losses.softmax_cross_entropy_with_integer_labels : The per-sample losses
        (``reduction="none"``) for class indices; ``optax.losses.softmax_cross_entropy`` for
        probabilities.

    Notes
    -----
    The log-sum-exp subtracts the row maximum: no overflow at logits of :math:`\pm 10^4` or
    beyond, in float32 too. A NaN logit makes its whole row NaN (loss and gradient), except in
    rows whose target is ``ignore_index``, which are skipped entirely (as torch). A ``-inf``
    logit is a class of probability 0 with a zero gradient; ``-inf`` at the target class gives
    ``+inf``; ``+inf`` gives NaN (:math:`\infty - \infty`). A ``"mean"`` over no sample, or over
    ignored ones only, is NaN (0/0, as torch). The per-sample value of a confident, correct
    sample is a difference of two large numbers and loses relative accuracy (as in torch).

    ``grad_hess``: the gradient of each sample's loss and the diagonal of its Hessian w.r.t. the
    logits, ``B p_k (1 - p_k) / T**2`` with ``B = (1 - eps) w_y + (eps / C) sum(w)`` (integer
    targets; ``sum_k w_k t'_k`` for probabilities): the true diagonal of ``B (diag(p) - p p^T)``,
    scaled as the gradient is (class weight, label smoothing, temperature, sample weight; 0
    for ignored targets). XGBoost's ``multi:softprob`` uses twice this and LightGBM's
    ``multiclass`` ``C / (C - 1)`` times it; :mod:`fastloss.boosting` applies those factors.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> logits = np.array([[2.0, 1.0, 0.0],
    ...                    [0.0, 0.0, 0.0]])
    >>> labels = np.array([0, 2])
    >>> print(f"{fl.cross_entropy(logits, labels):.6f}")  # (0.407606 + log 3) / 2
    0.753109
    >>> print(np.round(fl.cross_entropy(logits, labels, reduction="none"), 6))
    [0.407606 1.098612]
    >>> print(np.round(fl.cross_entropy.grad(logits, labels), 6))  # (softmax - onehot) / 2
    [[-0.16738   0.122364  0.045015]
     [ 0.166667  0.166667 -0.333333]]
    >>> print(f"{fl.cross_entropy(logits, np.array([0, -100])):.6f}")  # second row ignored
    0.407606
    >>> print(f"{fl.cross_entropy(logits, labels, label_smoothing=0.1):.6f}")
    0.803109
    >>> print(f"{fl.cross_entropy(logits, labels, weight=[1.0, 1.0, 3.0]):.6f}")
    0.925861

    Class probabilities give the same value for one-hot rows; float32 stays float32:

    >>> onehot = np.eye(3, dtype=np.float32)[labels]
    >>> value = fl.cross_entropy(logits.astype(np.float32), onehot)
    >>> print(value.dtype, f"{value:.5f}")
    float32 0.75311
    """
    z = _checks.float_array(logits, "logits")
    dt = _checks.compute_dtype(z)
    result = _checks.result_dtype(z)
    code = _checks.reduction_code(reduction)
    ax, c, sample_shape = _checks.class_problem(z, axis, "logits")
    eps = _checks.real_param(label_smoothing, "label_smoothing", lo=0.0, hi=1.0)
    inv_t = 1.0 / _temperature(temperature)
    cw = _checks.class_weights(weight, c)
    t = _checks.any_array(target, "target")
    threads = _config.THREADS[0]
    inner = math.prod(z.shape[ax + 1:])
    if t.dtype.kind in "iu":
        ignore = _checks.int_param(ignore_index, "ignore_index")
        labels = _checks.labels(t, sample_shape)
        sw = _checks.sample_weight(sample_weight, sample_shape, dt)
        if inner > 1:
            # classes on a middle axis (segmentation): a kernel that reads them with a stride,
            # so neither the logits nor the gradient are transposed
            zc = _checks.kernel_array(z, dt)
            n = zc.size // c
            loss_ = loss_buffer(call, code, n, dt)
            grad = call.grad_buffer(0, z.shape, dt, result, zc, labels, sw, cw, inplace=zc)
            hess = call.hess_buffer(z.shape, dt, result, zc, labels, sw, cw, grad)
            rc, value, bad = _kernels.ce_index_strided(n // inner, c, inner, zc, labels, sw, cw,
                                                       ignore, eps, inv_t, code, loss_, grad,
                                                       threads, hess, call.hessian_floor)
            if rc == _checks.ERR_LABEL:
                raise _label_error(labels, bad, c, ignore)
            _checks.check_status(rc, bad)
            g = finish_grad(grad, z.shape, result) if call.grad else None
            if call.hess:
                g = (g, finish_grad(hess, z.shape, result))
            return (finish_value(value, loss_, code, sample_shape, result) if call.value else None,
                    g)
        zc = _checks.class_axis_last(z, ax, dt)
        n = zc.size // c
        loss_ = loss_buffer(call, code, n, dt)
        grad = call.grad_buffer(0, z.shape, dt, result, zc, labels, sw, cw,
                                direct=ax == z.ndim - 1, inplace=zc)
        hess = call.hess_buffer(z.shape, dt, result, zc, labels, sw, cw, grad,
                                direct=ax == z.ndim - 1)
        rc, value, bad = _kernels.ce_index(n, c, zc, labels, sw, cw, ignore, eps, inv_t, code,
                                           loss_, grad, threads, hess, call.hessian_floor)
        if rc == _checks.ERR_LABEL:
            raise _label_error(labels, bad, c, ignore)
        _checks.check_status(rc, bad)
    elif t.dtype.kind == "f":
        if t.shape != z.shape:
            raise ValueError(
                f"target of class probabilities must have the logits' shape {z.shape}; got {t.shape}"
            )
        zc = _checks.class_axis_last(z, ax, dt)
        tc = _checks.class_axis_last(t, ax, dt)
        n = zc.size // c
        sw = _checks.sample_weight(sample_weight, sample_shape, dt)
        loss_ = loss_buffer(call, code, n, dt)
        grad = call.grad_buffer(0, z.shape, dt, result, zc, tc, sw, cw,
                                direct=ax == z.ndim - 1, inplace=zc)
        hess = call.hess_buffer(z.shape, dt, result, zc, tc, sw, cw, grad,
                                direct=ax == z.ndim - 1)
        rc, value, bad = _kernels.ce_prob(n, c, zc, tc, sw, cw, eps, inv_t, code, loss_, grad,
                                          threads, hess, call.hessian_floor)
        _checks.check_status(rc, bad)
    else:
        raise TypeError(
            "target must hold integer class indices or floating class probabilities; got "
            f"dtype {t.dtype}"
        )
    g = None
    if call.grad:
        g = finish_grad(_checks.class_axis_back(grad, z.shape, ax), z.shape, result)
        if call.hess:
            g = (g, finish_grad(_checks.class_axis_back(hess, z.shape, ax), z.shape, result))
    return (finish_value(value, loss_, code, sample_shape, result) if call.value else None, g)


# --------------------------------------------------------------------------------------------
# KL divergence


@loss
def kl_div(call: Call, pred: ArrayLike, target: ArrayLike, *, axis: int = -1,
           log_pred: bool = False, log_target: bool = False,
           reduction: Literal["none", "sum", "mean", "batchmean"] = "batchmean",
           sample_weight: ArrayLike | None = None):
    r"""Kullback-Leibler divergence KL(target || pred), pointwise ``t * (log t - log q)``.

    .. math::

        \ell_i = t_i (\log t_i - \log q_i), \quad 0 \log 0 = 0, \qquad
        \frac{\partial \ell_i}{\partial x_i} = \begin{cases}
            -t_i & x = \log q \ (\texttt{log\_pred=True}) \\
            -t_i / q_i & x = q \ (\texttt{log\_pred=False})
        \end{cases},

    with :math:`x` = ``pred`` (:math:`q` or :math:`\log q`) and ``target`` holding :math:`t` or
    :math:`\log t` (``log_target``). ``"sum"`` is :math:`\sum_i w_i \ell_i`; ``"mean"`` divides
    it by :math:`\sum_i w_i` (the element count without weights); ``"batchmean"`` divides it by
    ``pred.shape[0]`` (with weights: by :math:`\sum_i w_i \cdot` ``pred.shape[0] / pred.size``),
    which is the KL divergence per sample for rows of distributions.

    Parameters
    ----------
    pred : array_like of float
        The approximating distribution :math:`q` (``log_pred=False``) or its logarithm
        (``log_pred=True``), at least 1-d: float16 (computed in float32), float32 or float64, any
        strides or byte order. Results have this dtype.
    target : array_like
        The reference distribution :math:`t` (or :math:`\log t` with ``log_target=True``), real
        valued, of ``pred``'s shape.
    axis : int, default -1
        The class axis (checked against ``pred``'s dimensions; the pointwise terms do not
        otherwise depend on it).
    log_pred : bool, default False
        ``pred`` holds log-probabilities (torch's convention for ``kl_div``'s input).
    log_target : bool, default False
        ``target`` holds log-probabilities.
    reduction : {"batchmean", "sum", "mean", "none"}, default "batchmean"
        As above; ``"none"`` returns the weighted pointwise terms (``pred``'s shape).
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; they multiply the
        pointwise terms, and the means divide by their total instead of the element count.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"batchmean"``, ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an
        array of ``pred``'s shape.
    grad : ndarray
        Returned by ``kl_div.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``kl_div.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` as given (for ``"none"``: of the sum of the pointwise terms), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``log_pred``/``log_target`` is not a boolean; ``reduction`` is not a
        string.
    ValueError
        A negative probability (``pred`` with ``log_pred=False``, ``target`` with
        ``log_target=False``; the message gives the first one, its flat index and the flag to
        pass); ``pred`` is 0-d; ``axis`` out of range; ``pred`` and ``target`` differ in shape;
        an unknown ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    cross_entropy : KL divergence plus the (constant) entropy of the target, on logits.
    distillation : A temperature-softened KL term to a teacher plus cross-entropy.
    torch.nn.functional.kl_div : Equal to ``kl_div(pred, target, log_pred=True, ...)``: torch's
        input is always log-probabilities (fastloss's default ``log_pred=False`` takes
        probabilities). torch's default reduction is the element mean ``"mean"`` (with a
        warning); fastloss defaults to ``"batchmean"``, the mathematically meaningful one.
    keras.losses.KLDivergence : ``(y_true, y_pred)`` on probabilities; clips both to
        ``[1e-7, 1]``, sums over the last axis and averages over the batch (``"batchmean"`` for
        2-d inputs, without the clipping).
    optax.losses.kl_divergence : ``(log_predictions, targets)``: the per-row sums over ``axis``;
        ``optax.losses.kl_divergence_with_log_targets`` for log targets.
    scipy.special.rel_entr : The pointwise terms ``t log(t / q)`` on probabilities.

    Notes
    -----
    Targets of 0 contribute 0 (:math:`0 \log 0 = 0`), with a zero gradient, except that a NaN
    ``pred`` there still gives NaN (:math:`0 \cdot \text{NaN}`, as torch), and so does an infinite
    ``pred`` (:math:`0 \cdot \infty`). With ``log_pred=True`` the gradient :math:`-t` does not
    depend on ``pred``. When :math:`q \approx t` the pointwise terms cancel and lose relative
    accuracy; their sums do not.

    Domain: probabilities must be >= 0 (``pred`` unless ``log_pred=True``, ``target`` unless
    ``log_target=True``), checked by the kernel in its one pass (a NaN passes and gives NaN).
    torch's ``kl_div`` takes log-probabilities as its input and computes NaN for a negative
    probability target without a word; here a negative value most often means
    log-probabilities passed without the flag (a port of ``F.kl_div(log_q, p)`` that forgot
    ``log_pred=True``), and the error says so.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> q = np.array([[0.25, 0.75]])
    >>> t = np.array([[0.5, 0.5]])
    >>> print(f"{fl.kl_div(np.log(q), t, log_pred=True):.6f}")  # = torch kl_div(..., "batchmean")
    0.143841
    >>> print(np.round(fl.kl_div(q, t, reduction="none"), 6))
    [[ 0.346574 -0.202733]]
    >>> print(np.round(fl.kl_div.grad(q, t), 6))  # -t / q
    [[-2.       -0.666667]]
    >>> print(fl.kl_div.grad(np.log(q), t, log_pred=True))  # -t
    [[-0.5 -0.5]]
    """
    log_pred = _checks.flag(log_pred, "log_pred")
    log_target = _checks.flag(log_target, "log_target")
    inp = Inputs(pred, target, reduction, sample_weight,
                 ("none", "sum", "mean", "batchmean"))
    if len(inp.shape) == 0:
        raise ValueError("pred must have at least one dimension")
    _checks.axis(axis, len(inp.shape))
    size = inp.x.size
    denom_scale = inp.shape[0] / size if (reduction == "batchmean" and size) else 1.0
    kernel = "kl_" + ("logq" if log_pred else "q") + "_" + ("logt" if log_target else "t")
    return run(call, kernel, inp, denom_scale=denom_scale, domain=_KL_RULES)


# The probabilities kl_div's kernels check (csrc/multiclass_impl.h): (pred rule, target rule)
_KL_RULES = (
    ("pred must be >= 0 (probabilities, with log_pred=False); negative values look like "
     "log-probabilities: pass log_pred=True (torch.nn.functional.kl_div(input, target) takes "
     "log-probabilities: kl_div(input, target, log_pred=True) is its equal)"),
    ("target must be >= 0 (probabilities, with log_target=False); negative values look like "
     "log-probabilities: pass log_target=True"))


# --------------------------------------------------------------------------------------------
# multi-margin


@loss
def multi_margin(call: Call, pred: ArrayLike, target: ArrayLike, *, p: int = 1,
                 margin: float = 1.0, weight: ArrayLike | None = None, axis: int = -1,
                 reduction: Literal["none", "sum", "mean"] = "mean",
                 sample_weight: ArrayLike | None = None):
    r"""Multi-class hinge loss over a class axis, as torch's ``multi_margin_loss``.

    .. math::

        \ell_n = \frac{v_{y_n}}{C} \sum_{i \ne y_n} \max\bigl(0,\ m - x_{n y_n} + x_{ni}\bigr)^p,

    with :math:`x` = ``pred`` (scores, :math:`C` classes on ``axis``), :math:`y` = ``target``,
    :math:`m` = ``margin``, :math:`p \in \{1, 2\}` and :math:`v` = ``weight`` (taken at the target
    class). ``"mean"`` is :math:`\sum_n s_n \ell_n / \sum_n s_n` (over samples, not over class
    weights), ``"sum"`` :math:`\sum_n s_n \ell_n`, :math:`s` = ``sample_weight``. The gradient
    is :math:`\frac{v_{y_n}}{C} p\, z_{ni}^{p-1}` at each :math:`x_{ni}` with
    :math:`z_{ni} = m - x_{n y_n} + x_{ni} > 0`, and minus their sum at :math:`x_{n y_n}`.

    Parameters
    ----------
    pred : array_like of float
        Scores with the classes on ``axis``: float16 (computed in float32), float32 or float64,
        any strides or byte order. Results have this dtype.
    target : array_like of int
        Class indices in ``[0, C)``, of ``pred``'s shape without ``axis``.
    p : {1, 2}, default 1
        The exponent of each hinge term.
    margin : float, default 1.0
        The margin :math:`m`.
    weight : array_like, optional
        Per-class weights :math:`v`, shape ``(C,)``, applied through the target class.
    axis : int, default -1
        The class axis of ``pred``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean over samples; ``"sum"``; ``"none"``: the per-sample losses.
    sample_weight : array_like, optional
        Per-sample weights :math:`s`, broadcastable to ``pred``'s shape without ``axis``.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: the per-sample
        losses, of ``pred``'s shape without ``axis``.
    grad : ndarray
        Returned by ``multi_margin.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``multi_margin.value_and_grad(...)`` (one kernel pass): the gradient of the returned
        value with respect to ``pred`` (for ``"none"``: of the sum of the per-sample losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` is not integer; ``p`` is
        not an integer; ``margin`` is not a real number; ``weight`` or ``sample_weight`` is not
        real-valued.
    ValueError
        A class index outside ``[0, C)``; ``target`` of the wrong shape; ``p`` not 1 or 2;
        ``weight`` not of shape ``(C,)``; ``axis`` out of range; an unknown ``reduction``;
        ``sample_weight`` does not broadcast.

    See Also
    --------
    hinge : The binary hinge loss.
    cross_entropy : The softmax loss over the same scores.
    torch.nn.functional.multi_margin_loss : Same value, gradient and defaults with the classes at
        dim 1 of a 2-d input (here ``axis=-1``); no ``sample_weight``. Its ``"mean"`` also
        divides by the number of samples.
    keras.losses.CategoricalHinge : A different loss: one term, the largest wrong-class score,
        :math:`\max(0, 1 + \max_{i \ne y} x_i - x_y)`, on one-hot targets.
    optax.losses.multiclass_hinge_loss : Also the largest-violation (Crammer-Singer) form.
    sklearn.metrics.hinge_loss : With more than two labels, also the Crammer-Singer form.

    Notes
    -----
    At the kink :math:`z_{ni} = 0` the subgradient is taken as 0 (as torch). A NaN score makes
    its sample's loss and gradient NaN (torch drops the NaN term instead). ``+inf`` at a wrong
    class gives ``+inf``; ``-inf`` at a wrong class drops that term; :math:`\pm\infty` at the
    target class gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> scores = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> target = np.array([3])
    >>> print(f"{fl.multi_margin(scores, target):.6f}")  # (0.3 + 0.4 + 0.6) / 4
    0.325000
    >>> print(fl.multi_margin.grad(scores, target))
    [[ 0.25  0.25  0.25 -0.75]]
    >>> print(f"{fl.multi_margin(scores, target, p=2):.6f}")  # (0.09 + 0.16 + 0.36) / 4
    0.152500
    """
    x = _checks.float_array(pred, "pred")
    dt = _checks.compute_dtype(x)
    result = _checks.result_dtype(x)
    code = _checks.reduction_code(reduction)
    ax, c, sample_shape = _checks.class_problem(x, axis, "pred")
    p_int = _checks.int_param(p, "p", lo=1, hi=2)
    margin = _checks.real_param(margin, "margin")
    cw = _checks.class_weights(weight, c)
    t = _checks.any_array(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices; got dtype {t.dtype}")
    labels = _checks.labels(t, sample_shape)
    xc = _checks.class_axis_last(x, ax, dt)
    n = xc.size // c
    sw = _checks.sample_weight(sample_weight, sample_shape, dt)
    loss_ = loss_buffer(call, code, n, dt)
    grad = call.grad_buffer(0, x.shape, dt, result, xc, labels, sw, cw, direct=ax == x.ndim - 1)
    rc, value, bad = _kernels.multi_margin(n, c, xc, labels, sw, cw, p_int, margin, code, loss_,
                                           grad, _config.THREADS[0])
    if rc == _checks.ERR_LABEL:
        raise _label_error(labels, bad, c)
    _checks.check_status(rc, bad)
    g = None
    if call.grad:
        g = finish_grad(_checks.class_axis_back(grad, x.shape, ax), x.shape, result)
    return (finish_value(value, loss_, code, sample_shape, result) if call.value else None, g)


# --------------------------------------------------------------------------------------------
# distillation


@loss
def distillation(call: Call, student_logits: ArrayLike, teacher_logits: ArrayLike,
                 target: ArrayLike, *, temperature: float = 4.0, alpha: float = 0.5,
                 axis: int = -1, reduction: Literal["none", "sum", "mean"] = "mean",
                 sample_weight: ArrayLike | None = None):
    r"""Knowledge distillation (Hinton et al. 2015): softened KL to a teacher plus cross-entropy.

    .. math::

        \ell_n = (1 - \alpha)\, T^2\, \mathrm{KL}\bigl(\operatorname{softmax}(t_n / T)
            \,\|\, \operatorname{softmax}(s_n / T)\bigr) + \alpha\, \mathrm{CE}(s_n, y_n),

        \frac{\partial \ell_n}{\partial s_n} = (1 - \alpha)\, T\, (q_n - p_n)
            + \alpha \bigl(\operatorname{softmax}(s_n) - y_n\bigr),

    with :math:`s` = ``student_logits``, :math:`t` = ``teacher_logits``, :math:`q_n, p_n` the
    student's and teacher's softmax at temperature :math:`T`, the KL summed over the classes
    (``axis``) and the cross-entropy at temperature 1 against ``target`` :math:`y` (one-hot for
    class indices; for probabilities the gradient's second term is
    :math:`(\sum_k y_{nk}) \operatorname{softmax}(s_n) - y_n`). ``"mean"`` is
    :math:`\sum_n w_n \ell_n / \sum_n w_n` over samples, ``"sum"`` :math:`\sum_n w_n \ell_n`,
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    student_logits : array_like of float
        The student's logits, classes on ``axis``: float16 (computed in float32), float32 or
        float64, any strides or byte order. Results have this dtype.
    teacher_logits : array_like
        The teacher's logits, real-valued, of ``student_logits``' shape. No gradient flows to
        them.
    target : array_like
        Integer class indices (``student_logits``' shape without ``axis``, values in
        ``[0, C)``) or floating class probabilities (``student_logits``' shape).
    temperature : float, default 4.0
        :math:`T > 0`, the softening temperature of the KL term.
    alpha : float, default 0.5
        :math:`\alpha \in [0, 1]`, the weight of the cross-entropy term.
    axis : int, default -1
        The class axis.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean over samples (so the KL part is torch's ``"batchmean"``,
        not a mean over elements); ``"sum"``; ``"none"``: the per-sample losses.
    sample_weight : array_like, optional
        Per-sample weights :math:`w`, broadcastable to the logits' shape without ``axis``.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``student_logits``' dtype. ``"none"``: the
        per-sample losses, of the logits' shape without ``axis``.
    grad : ndarray
        Returned by ``distillation.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``distillation.value_and_grad(...)`` (one kernel pass): the gradient of the returned
        value with respect to ``student_logits`` only (for ``"none"``: of the sum of the
        per-sample losses), of their shape and dtype. Both take the same arguments plus
        ``out=``: an array of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``student_logits`` is not a float16, float32 or float64 array; ``teacher_logits`` is not
        real-valued; ``target`` is neither integer nor floating; an option has the wrong type.
    ValueError
        ``teacher_logits`` or ``target`` of the wrong shape; a class index outside ``[0, C)``;
        ``temperature <= 0``; ``alpha`` outside ``[0, 1]``; ``axis`` out of range; an unknown
        ``reduction``; ``sample_weight`` does not broadcast.

    See Also
    --------
    kl_div : The KL term alone.
    cross_entropy : The hard-label term alone.
    torch.nn.functional.kl_div : The torch equivalent is ``(1 - alpha) * T**2 *
        kl_div(log_softmax(s / T, 1), log_softmax(t / T, 1), log_target=True,
        reduction="batchmean") + alpha * cross_entropy(s, y)`` (classes at dim 1); fastloss
        computes both softmaxes, the KL and the CE from one read of each row.

    Notes
    -----
    Neither Keras nor scikit-learn nor optax has a built-in distillation loss. The KL term uses
    :math:`0 \log 0 = 0` for teacher probabilities of 0. Stable at logits of :math:`\pm 10^4`
    (log-sum-exp with the row maximum subtracted). NaN in a row makes that sample NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> student = np.array([[1.0, 0.0]])
    >>> teacher = np.array([[0.0, 1.0]])
    >>> labels = np.array([0])
    >>> v = fl.distillation(student, teacher, labels, temperature=1.0, alpha=0.5)
    >>> print(f"{v:.6f}")  # 0.5 * KL + 0.5 * CE = 0.5 * 0.462117 + 0.5 * 0.313262
    0.387689
    >>> g = fl.distillation.grad(student, teacher, labels, temperature=1.0, alpha=0.5)
    >>> print(np.round(g, 6))
    [[ 0.096588 -0.096588]]
    >>> print(f"{fl.distillation(student, teacher, labels):.6f}")  # default T=4, alpha=0.5
    0.405337
    """
    zs = _checks.float_array(student_logits, "student_logits")
    dt = _checks.compute_dtype(zs)
    result = _checks.result_dtype(zs)
    code = _checks.reduction_code(reduction)
    ax, c, sample_shape = _checks.class_problem(zs, axis, "student_logits")
    temperature = _temperature(temperature)
    alpha = _checks.real_param(alpha, "alpha", lo=0.0, hi=1.0)
    zt = _checks.any_array(teacher_logits, "teacher_logits")
    if zt.shape != zs.shape:
        raise ValueError(
            f"teacher_logits must have the student_logits' shape {zs.shape}; got {zt.shape}"
        )
    if zt.dtype.kind not in "buif":
        raise TypeError(f"teacher_logits must be real-valued, got dtype {zt.dtype}")
    t = _checks.any_array(target, "target")
    labels = soft = None
    if t.dtype.kind in "iu":
        labels = _checks.labels(t, sample_shape)
    elif t.dtype.kind == "f":
        if t.shape != zs.shape:
            raise ValueError(
                f"target of class probabilities must have the logits' shape {zs.shape}; got {t.shape}"
            )
        soft = _checks.class_axis_last(t, ax, dt)
    else:
        raise TypeError(
            "target must hold integer class indices or floating class probabilities; got "
            f"dtype {t.dtype}"
        )
    sc = _checks.class_axis_last(zs, ax, dt)
    tc = _checks.class_axis_last(zt, ax, dt)
    n = sc.size // c
    sw = _checks.sample_weight(sample_weight, sample_shape, dt)
    loss_ = loss_buffer(call, code, n, dt)
    grad = call.grad_buffer(0, zs.shape, dt, result, sc, tc, labels, soft, sw,
                            direct=ax == zs.ndim - 1, inplace=sc)
    rc, value, bad = _kernels.distill(n, c, sc, tc, labels, soft, sw, temperature, alpha, code,
                                      loss_, grad, _config.THREADS[0])
    if rc == _checks.ERR_LABEL:
        raise _label_error(labels, bad, c)
    _checks.check_status(rc, bad)
    g = None
    if call.grad:
        g = finish_grad(_checks.class_axis_back(grad, zs.shape, ax), zs.shape, result)
    return (finish_value(value, loss_, code, sample_shape, result) if call.value else None, g)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp: array functions, not losses


class RowFunction:
    """A function applied along ``axis`` of an array, with its vector-Jacobian product.

    ``f(x, axis=-1, temperature=1.0)`` returns ``f(x / temperature)`` along ``axis``;
    ``f.vjp(x, cotangent, axis=..., temperature=...)`` returns the gradient of
    ``sum(cotangent * f(x, ...))`` w.r.t. ``x`` -- what reverse-mode autodiff propagates through
    ``f``. float16 is computed in float32 and returned as float16; float32 and float64 stay as
    they are.
    """

    def __init__(self, name: str, doc: str):
        self.__name__ = self.__qualname__ = name
        self.__module__ = "fastloss"
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"<fastloss function {self.__name__}(x, *, axis=-1, temperature=1.0)>"

    def __reduce__(self):
        return self.__name__

    def _prepare(self, x, axis, temperature):
        a = _checks.float_array(x, "x")
        dt = _checks.compute_dtype(a)
        ax, c, rest = _checks.class_problem(a, axis, "x")
        inv_t = 1.0 / _temperature(temperature)
        xc = _checks.class_axis_last(a, ax, dt)
        return a, dt, ax, c, rest, inv_t, xc

    @staticmethod
    def _cotangent(cotangent, shape: tuple, dt) -> np.ndarray:
        v = _checks.any_array(cotangent, "cotangent")
        if v.shape != shape:
            raise ValueError(f"cotangent must have shape {shape}; got {v.shape}")
        return v

    def _named(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (TypeError, ValueError) as e:
            name_error(e, self.__name__)
            raise


class _Softmax(RowFunction):
    def __init__(self, log: bool, name: str, doc: str):
        super().__init__(name, doc)
        self._log = log

    def __call__(self, x: ArrayLike, *, axis: int = -1, temperature: float = 1.0):
        return self._named(self._value, x, axis, temperature)

    def _value(self, x, axis, temperature):
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        out = np.empty(xc.size, dtype=dt)
        rc, _, bad = _kernels.softmax(xc.size // c, c, xc, inv_t, self._log, out,
                                      _config.THREADS[0])
        _checks.check_status(rc, bad)
        return finish_grad(_checks.class_axis_back(out, a.shape, ax), a.shape,
                           _checks.result_dtype(a))

    def vjp(self, x: ArrayLike, cotangent: ArrayLike, *, axis: int = -1,
            temperature: float = 1.0):
        r"""Vector-Jacobian product: the gradient of ``sum(cotangent * f(x))`` w.r.t. ``x``.

        This method is ``softmax.vjp`` and ``log_softmax.vjp`` (``f`` is the function it belongs
        to). With :math:`y = f(x)`, :math:`p = \operatorname{softmax}(x / T)` along ``axis`` and
        :math:`v` = ``cotangent``:

        .. math::

            \text{softmax:}\quad y \odot \Bigl(v - \sum_{\text{axis}} v \odot y\Bigr) \Big/ T,
            \qquad
            \text{log-softmax:}\quad \Bigl(v - p \sum_{\text{axis}} v\Bigr) \Big/ T.

        This is what reverse-mode differentiation passes back through ``f``, computed without
        forming the Jacobian.

        Parameters
        ----------
        x : array_like of float
            The input of ``f``, as for the function.
        cotangent : array_like
            :math:`v`, real-valued, of ``x``'s shape: the gradient of the downstream quantity with
            respect to ``f(x)``.
        axis : int, default -1
            The axis ``f`` normalises along.
        temperature : float, default 1.0
            :math:`T > 0`.

        Returns
        -------
        ndarray
            The gradient with respect to ``x``, of ``x``'s shape and dtype.

        Raises
        ------
        TypeError
            As the function; ``cotangent`` is not real-valued.
        ValueError
            As the function; ``cotangent`` does not have ``x``'s shape.

        See Also
        --------
        torch.autograd.grad : ``grad(f(x), x, cotangent)`` on a tensor that requires grad.
        jax.vjp : ``jax.vjp(f, x)[1](cotangent)``.

        Examples
        --------
        >>> import numpy as np
        >>> import fastloss as fl
        >>> x = np.array([1.0, 2.0, 3.0])
        >>> print(np.round(fl.softmax.vjp(x, np.array([1.0, 0.0, 0.0])), 6))  # d softmax(x)[0] / dx
        [ 0.081925 -0.022033 -0.059892]
        >>> print(np.round(fl.log_softmax.vjp(x, np.array([0.0, 0.0, 1.0])), 6))  # e_2 - softmax(x)
        [-0.090031 -0.244728  0.334759]
        """
        return self._named(self._vjp, x, cotangent, axis, temperature)

    def _vjp(self, x, cotangent, axis, temperature):
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        v = self._cotangent(cotangent, a.shape, dt)
        if v.dtype.kind not in "buif":
            raise TypeError(f"cotangent must be real-valued, got dtype {v.dtype}")
        vc = _checks.class_axis_last(v, ax, dt)
        out = np.empty(xc.size, dtype=dt)
        rc, _, bad = _kernels.softmax_vjp(xc.size // c, c, xc, vc, inv_t, self._log, out,
                                          _config.THREADS[0])
        _checks.check_status(rc, bad)
        return finish_grad(_checks.class_axis_back(out, a.shape, ax), a.shape,
                           _checks.result_dtype(a))


class _LogSumExp(RowFunction):
    def _run(self, x, axis, temperature, cotangent, want):
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        vc = None
        if cotangent is not None:
            v = self._cotangent(cotangent, rest, dt)
            vc = _checks.real_array(v, "cotangent", dt)
        n = xc.size // c
        out = np.empty(n, dtype=dt) if want[0] else None
        grad = np.empty(n * c, dtype=dt) if want[1] else None
        rc, _, bad = _kernels.logsumexp(n, c, xc, vc, inv_t, out, grad, _config.THREADS[0])
        _checks.check_status(rc, bad)
        result = _checks.result_dtype(a)
        value = finish_grad(out, rest, result)[()] if want[0] else None
        g = (finish_grad(_checks.class_axis_back(grad, a.shape, ax), a.shape, result)
             if want[1] else None)
        return value, g

    def __call__(self, x: ArrayLike, *, axis: int = -1, temperature: float = 1.0):
        return self._named(self._run, x, axis, temperature, None, (True, False))[0]

    def grad(self, x: ArrayLike, *, axis: int = -1, temperature: float = 1.0):
        r"""Gradient of ``sum(logsumexp(x, axis=axis, temperature=T))`` with respect to ``x``.

        .. math::

            \frac{\partial}{\partial x} \sum \operatorname{lse}(x)
                = \operatorname{softmax}(x / T) / T
            \quad \text{along the axis.}

        Parameters
        ----------
        x : array_like of float
            As for :func:`logsumexp`.
        axis : int, default -1
            The reduced axis.
        temperature : float, default 1.0
            :math:`T > 0`.

        Returns
        -------
        ndarray
            Of ``x``'s shape and dtype.

        See Also
        --------
        logsumexp.vjp : Weights each slice by a cotangent instead of 1.

        Examples
        --------
        >>> import numpy as np
        >>> import fastloss as fl
        >>> print(np.round(fl.logsumexp.grad(np.array([1.0, 2.0, 3.0]), temperature=2.0), 6))
        [0.093162 0.153598 0.25324 ]
        """
        return self._named(self._run, x, axis, temperature, None, (False, True))[1]

    def value_and_grad(self, x: ArrayLike, *, axis: int = -1, temperature: float = 1.0):
        r"""``(logsumexp(x, ...), logsumexp.grad(x, ...))`` from one kernel call.

        Parameters
        ----------
        x : array_like of float
            As for :func:`logsumexp`.
        axis : int, default -1
            The reduced axis.
        temperature : float, default 1.0
            :math:`T > 0`.

        Returns
        -------
        value : numpy scalar or ndarray
            ``x``'s shape without ``axis``.
        grad : ndarray
            ``softmax(x / T) / T`` along ``axis``, of ``x``'s shape.

        Examples
        --------
        >>> import numpy as np
        >>> import fastloss as fl
        >>> value, grad = fl.logsumexp.value_and_grad(np.array([0.0, 0.0]))
        >>> print(f"{value:.6f}", grad)  # log 2
        0.693147 [0.5 0.5]
        """
        return self._named(self._run, x, axis, temperature, None, (True, True))

    def vjp(self, x: ArrayLike, cotangent: ArrayLike, *, axis: int = -1,
            temperature: float = 1.0):
        r"""Gradient of ``sum(cotangent * logsumexp(x, ...))`` with respect to ``x``.

        .. math::

            v\, \operatorname{softmax}(x / T) / T, \quad v \text{ broadcast along the axis,}

        with :math:`v` = ``cotangent``, which has the result's shape (``x``'s shape without
        ``axis``): ``expand_dims(cotangent, axis) * softmax(x / T, axis) / T``.

        Parameters
        ----------
        x : array_like of float
            As for :func:`logsumexp`.
        cotangent : array_like
            Real-valued, of ``x``'s shape without ``axis``.
        axis : int, default -1
            The reduced axis.
        temperature : float, default 1.0
            :math:`T > 0`.

        Returns
        -------
        ndarray
            Of ``x``'s shape and dtype.

        Raises
        ------
        ValueError
            ``cotangent`` does not have the result's shape (and the errors of :func:`logsumexp`).

        Examples
        --------
        >>> import numpy as np
        >>> import fastloss as fl
        >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        >>> print(np.round(fl.logsumexp.vjp(x, np.array([1.0, 2.0])), 6))
        [[0.090031 0.244728 0.665241]
         [0.666667 0.666667 0.666667]]
        """
        return self._named(self._run, x, axis, temperature, cotangent, (False, True))[1]


softmax = _Softmax(False, "softmax", r"""Softmax along ``axis`` of ``x / temperature``.

.. math::

    \operatorname{softmax}(x)_k = \frac{e^{x_k / T - m}}{\sum_j e^{x_j / T - m}}, \qquad
    m = \max_j x_j / T,

over the entries :math:`x_j` along ``axis``, :math:`T` = ``temperature``. An array function,
not a loss: a call computes the value only (there is no ``.grad``);
``softmax.vjp(x, cotangent, ...)`` gives the vector-Jacobian product for backpropagation.

Parameters
----------
x : array_like of float
    Scores, at least 1-d: float16 (computed in float32, returned as float16), float32 or
    float64, any strides or byte order.
axis : int, default -1
    The axis to normalise along.
temperature : float, default 1.0
    :math:`T > 0`; ``x`` is divided by it.

Returns
-------
ndarray
    The probabilities, of ``x``'s shape and dtype; each slice along ``axis`` sums to 1.

Raises
------
TypeError
    ``x`` is not a float16, float32 or float64 array; ``axis`` is not an integer;
    ``temperature`` is not a real number.
ValueError
    ``x`` is 0-d or empty along ``axis``; ``axis`` is out of range; ``temperature <= 0`` or
    not finite. Messages start with ``softmax():``.

See Also
--------
log_softmax : Its logarithm, computed without a ``log`` of small numbers.
logsumexp : The normaliser.
scipy.special.softmax : ``scipy.special.softmax(x / T, axis=axis)`` is the same, non-finite
    rows included; SciPy's ``axis`` defaults to None (the whole array).
torch.softmax : ``torch.softmax(x / T, dim)``; ``dim`` has no default.
keras.ops.softmax : ``keras.ops.softmax(x / T, axis=-1)``.
jax.nn.softmax : ``jax.nn.softmax(x / T, axis=-1)``, the function optax builds on.

Notes
-----
The maximum along ``axis`` is subtracted first: no overflow for any finite input. A ``-inf``
entry has probability 0; a slice holding ``+inf``, or only ``-inf``, gives NaN (as SciPy).

Examples
--------
>>> import numpy as np
>>> import fastloss as fl
>>> x = np.array([1.0, 2.0, 3.0])
>>> print(np.round(fl.softmax(x), 6))
[0.090031 0.244728 0.665241]
>>> print(fl.softmax(np.array([-np.inf, 0.0])))
[0. 1.]
>>> print(np.round(fl.softmax(np.array([[1.0, 2.0], [0.0, 0.0]]), axis=0), 6))
[[0.731059 0.880797]
 [0.268941 0.119203]]
""")

log_softmax = _Softmax(True, "log_softmax", r"""Log-softmax along ``axis`` of ``x / temperature``.

.. math::

    \operatorname{log\_softmax}(x)_k = \frac{x_k}{T} - \log \sum_j e^{x_j / T},

over the entries :math:`x_j` along ``axis``, :math:`T` = ``temperature``, with the maximum
subtracted inside the log-sum-exp. An array function, not a loss: a call computes the value
only (there is no ``.grad``); ``log_softmax.vjp(x, cotangent, ...)`` gives the
vector-Jacobian product for backpropagation.

Parameters
----------
x : array_like of float
    Scores, at least 1-d: float16 (computed in float32, returned as float16), float32 or
    float64, any strides or byte order.
axis : int, default -1
    The axis to normalise along.
temperature : float, default 1.0
    :math:`T > 0`; ``x`` is divided by it.

Returns
-------
ndarray
    The log-probabilities, of ``x``'s shape and dtype.

Raises
------
TypeError
    ``x`` is not a float16, float32 or float64 array; ``axis`` is not an integer;
    ``temperature`` is not a real number.
ValueError
    ``x`` is 0-d or empty along ``axis``; ``axis`` is out of range; ``temperature <= 0`` or
    not finite. Messages start with ``log_softmax():``.

See Also
--------
softmax : Its exponential.
cross_entropy : The negative log-softmax at the target class, with its gradient fused.
scipy.special.log_softmax : ``scipy.special.log_softmax(x / T, axis=axis)`` is the same;
    SciPy's ``axis`` defaults to None (the whole array).
torch.log_softmax : ``torch.log_softmax(x / T, dim)``.
keras.ops.log_softmax : ``keras.ops.log_softmax(x / T, axis=-1)``.
jax.nn.log_softmax : ``jax.nn.log_softmax(x / T, axis=-1)``.

Notes
-----
Exact at logits of :math:`\pm 10^4` in float32 too (no ``log`` of an underflowed
probability). Non-finite slices follow SciPy: ``+inf`` in a slice gives NaN.

Examples
--------
>>> import numpy as np
>>> import fastloss as fl
>>> x = np.array([1.0, 2.0, 3.0])
>>> print(np.round(fl.log_softmax(x), 6))
[-2.407606 -1.407606 -0.407606]
>>> print(fl.log_softmax(np.array([1e4, 0.0], dtype=np.float32)))
[     0. -10000.]
""")

logsumexp = _LogSumExp("logsumexp", r"""``log(sum(exp(x / T)))`` along ``axis``, without overflow.

.. math::

    \operatorname{lse}(x) = m + \log \sum_j e^{x_j / T - m}, \qquad m = \max_j x_j / T,
    \qquad \frac{\partial \operatorname{lse}}{\partial x_k} =
    \frac{\operatorname{softmax}(x / T)_k}{T},

over the entries :math:`x_j` along ``axis``, :math:`T` = ``temperature``. An array
function, not a loss: ``logsumexp.grad(x, ...)`` is the gradient of the *sum* of the results,
``logsumexp.value_and_grad(x, ...)`` gives both from one kernel call, and
``logsumexp.vjp(x, cotangent, ...)`` weights each slice's gradient by ``cotangent``.

Parameters
----------
x : array_like of float
    Scores, at least 1-d: float16 (computed in float32, returned as float16), float32 or
    float64, any strides or byte order.
axis : int, default -1
    The axis to reduce.
temperature : float, default 1.0
    :math:`T > 0`; ``x`` is divided by it.

Returns
-------
numpy scalar or ndarray
    ``x``'s shape without ``axis``, of ``x``'s dtype (a NumPy scalar for 1-d ``x``).
    ``logsumexp.grad`` returns an array of ``x``'s shape, ``logsumexp.value_and_grad`` the
    pair ``(value, grad)``; neither takes ``out=``.

Raises
------
TypeError
    ``x`` is not a float16, float32 or float64 array; ``axis`` is not an integer;
    ``temperature`` is not a real number.
ValueError
    ``x`` is 0-d or empty along ``axis``; ``axis`` is out of range; ``temperature <= 0`` or
    not finite. Messages start with ``logsumexp():``.

See Also
--------
softmax : Its gradient (times ``T``).
scipy.special.logsumexp : ``scipy.special.logsumexp(x / T, axis=axis)`` is the same,
    non-finite rows included; SciPy's ``axis`` defaults to None (the whole array).
torch.logsumexp : ``torch.logsumexp(x / T, dim)``.
keras.ops.logsumexp : ``keras.ops.logsumexp(x / T, axis=-1)``; Keras's ``axis`` defaults to
    None.
jax.nn.logsumexp : ``jax.nn.logsumexp(x / T, axis=-1)`` (``jax.scipy.special.logsumexp``).

Notes
-----
A slice holding ``+inf`` gives ``+inf``; a slice of only ``-inf`` gives ``-inf`` (as SciPy).

Examples
--------
>>> import numpy as np
>>> import fastloss as fl
>>> x = np.array([1.0, 2.0, 3.0])
>>> print(f"{fl.logsumexp(x):.6f}")
3.407606
>>> print(f"{fl.logsumexp(x, temperature=2.0):.6f}")  # log(e**0.5 + e**1 + e**1.5)
2.180270
>>> print(np.round(fl.logsumexp(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])), 6))
[3.407606 1.098612]
>>> value, grad = fl.logsumexp.value_and_grad(x)
>>> print(np.round(grad, 6))  # softmax(x)
[0.090031 0.244728 0.665241]
>>> print(fl.logsumexp(np.array([-np.inf, -np.inf])))
-inf
""")
