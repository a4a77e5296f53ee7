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
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

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


@loss(hessian=True)
def cross_entropy(call: Call, logits: ArrayLike, target: ArrayLike, *, axis: int = -1,
                  weight: ArrayLike | None = None, ignore_index: int = -100,
                  label_smoothing: float = 0.0, temperature: float = 1.0,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``.

    ``logits`` has the classes on ``axis``. An integer ``target`` holds class indices (the
    logits' shape without ``axis``; values in ``[0, C)`` or ``ignore_index``); a floating
    ``target`` of the logits' shape holds class probabilities. ``weight`` (C,) rescales
    classes; ``label_smoothing`` mixes the target with the uniform distribution;
    ``temperature`` T divides the logits (the gradient includes the 1/T). ``"mean"`` divides by
    the summed class weights of the non-ignored targets, as torch does (label smoothing
    included). ``sample_weight`` (broadcastable to the per-sample shape) multiplies each sample
    and enters the ``"mean"`` denominators. Gradient w.r.t. ``logits``.

    ``grad_hess``: the gradient of each sample's loss and the diagonal of its Hessian w.r.t. the
    logits, ``B p_k (1 - p_k) / T**2`` with ``B = (1 - eps) w_y + (eps / C) sum(w)`` (integer
    targets; ``sum_k w_k t'_k`` for probabilities): the true diagonal of ``B (diag(p) - p p^T)``,
    scaled as the gradient is (class weight, label smoothing, temperature, sample weight; 0
    for ignored targets). XGBoost's ``multi:softprob`` uses twice this and LightGBM's
    ``multiclass`` ``C / (C - 1)`` times it; :mod:`fastloss.boosting` applies those factors.
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
            grad = call.grad_buffer(0, z.shape, dt, result, zc, labels, sw, cw)
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
                                direct=ax == z.ndim - 1)
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
                                direct=ax == z.ndim - 1)
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
    """Kullback-Leibler divergence KL(target || pred), pointwise ``t * (log t - log q)``.

    ``log_pred`` / ``log_target`` say the arrays hold log-probabilities. With ``log_pred=True``
    the result equals ``torch.nn.functional.kl_div(pred, target, log_target=log_target,
    reduction=...)``: ``"none"`` gives the pointwise terms (``pred``'s shape), ``"sum"`` their
    sum, ``"mean"`` their mean over all elements, ``"batchmean"`` their sum divided by
    ``pred.shape[0]``. ``0 * log 0 = 0``. ``axis`` names the class axis (checked; the pointwise
    form does not otherwise depend on it). Gradient w.r.t. ``pred`` as given (``-t`` for
    log-probabilities, ``-t / q`` for probabilities). ``sample_weight`` multiplies the pointwise
    terms and the means divide by its total instead of the element count.
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
    return run(call, kernel, inp, denom_scale=denom_scale)


# --------------------------------------------------------------------------------------------
# multi-margin


@loss
def multi_margin(call: Call, pred: ArrayLike, target: ArrayLike, *, p: int = 1,
                 margin: float = 1.0, weight: ArrayLike | None = None, axis: int = -1,
                 reduction: Literal["none", "sum", "mean"] = "mean",
                 sample_weight: ArrayLike | None = None):
    """Multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    ``pred`` holds scores with the classes on ``axis``; ``target`` integer class indices in
    ``[0, C)`` (``pred``'s shape without ``axis``). Per sample with target ``y``:
    ``w_y / C * sum_{i != y} max(0, margin - x_y + x_i) ** p``, ``p`` in {1, 2}. ``weight``
    (C,) is per class and applied through the target class, as torch does. ``"mean"`` divides
    by the number of samples (with ``sample_weight``: by its total), *not* by the summed class
    weights (torch's convention here, unlike ``cross_entropy``). Gradient w.r.t. ``pred``;
    where ``margin - x_y + x_i == 0`` exactly (the kink) it is taken as 0, as in torch. A NaN
    score makes the sample's loss and gradient NaN (torch would drop the NaN term).
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
    """Knowledge-distillation loss (Hinton et al. 2015).

    Per sample: ``(1 - alpha) * T**2 * KL(softmax(teacher / T) || softmax(student / T))
    + alpha * CE(student, target)``, the KL summed over the classes (``axis``) and the
    cross-entropy at temperature 1. ``target`` holds integer class indices (the logits' shape
    without ``axis``, values in ``[0, C)``) or class probabilities (the logits' shape).
    ``"none"`` gives the per-sample losses, ``"sum"`` their sum, ``"mean"`` their mean over the
    samples (weighted by ``sample_weight``) -- so the KL part is torch's
    ``kl_div(..., reduction="batchmean")``, not a mean over elements. The gradient is w.r.t. the
    student logits only: ``(1 - alpha) * T * (q - p) + alpha * (softmax(student) - t)`` per
    sample, with ``q``, ``p`` the student and teacher softmaxes at ``T``.
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
                            direct=ax == zs.ndim - 1)
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
            if not str(e).startswith(self.__name__):
                e.args = (f"{self.__name__}(): {e}",) + tuple(e.args[1:])
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
        """Gradient of ``sum(cotangent * f(x, axis=axis, temperature=temperature))`` w.r.t.
        ``x``; ``cotangent`` has ``x``'s shape. With ``y = f(x)``, ``p = softmax(x / T)``:
        softmax: ``y * (v - sum(v * y, axis)) / T``; log_softmax: ``(v - p * sum(v, axis)) / T``.
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
        """Gradient of ``sum(logsumexp(x, axis=axis, temperature=T))`` w.r.t. ``x``:
        ``softmax(x / T, axis) / T``."""
        return self._named(self._run, x, axis, temperature, None, (False, True))[1]

    def value_and_grad(self, x: ArrayLike, *, axis: int = -1, temperature: float = 1.0):
        """``(logsumexp(x, ...), logsumexp.grad(x, ...))`` from one kernel call."""
        return self._named(self._run, x, axis, temperature, None, (True, True))

    def vjp(self, x: ArrayLike, cotangent: ArrayLike, *, axis: int = -1,
            temperature: float = 1.0):
        """Gradient of ``sum(cotangent * logsumexp(x, ...))`` w.r.t. ``x``; ``cotangent`` has
        the result's shape (``x``'s shape without ``axis``). Equals
        ``expand_dims(cotangent, axis) * softmax(x / T, axis) / T``."""
        return self._named(self._run, x, axis, temperature, cotangent, (False, True))[1]


softmax = _Softmax(False, "softmax", """Softmax along ``axis`` of ``x / temperature``, as
``scipy.special.softmax(x / temperature, axis=axis)`` (``torch.softmax``): computed with the row
maximum subtracted, so no overflow for any finite input; a row with ``+inf`` (or only
``-inf``) gives NaN, as in SciPy. ``softmax.vjp(x, cotangent, ...)`` gives the vector-Jacobian
product.""")

log_softmax = _Softmax(True, "log_softmax", """Log-softmax along ``axis`` of
``x / temperature``, as ``scipy.special.log_softmax(x / temperature, axis=axis)``
(``torch.log_softmax``): ``x/T - logsumexp(x/T)``, exact at logits of +-1e4 in float32 too.
``log_softmax.vjp(x, cotangent, ...)`` gives the vector-Jacobian product.""")

logsumexp = _LogSumExp("logsumexp", """``log(sum(exp(x / temperature)))`` along ``axis``, as
``scipy.special.logsumexp(x / temperature, axis=axis)`` (``torch.logsumexp``); the result has
``x``'s shape without ``axis`` (a NumPy scalar for 1-d ``x``). A row with ``+inf`` gives
``+inf``, an all ``-inf`` row ``-inf``, as in SciPy. ``logsumexp.grad(x, ...)`` is the gradient
of the sum of the results, ``softmax(x / T) / T``; ``logsumexp.vjp(x, cotangent, ...)`` weights
each row by ``cotangent``.""")
