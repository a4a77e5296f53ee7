"""Row-wise (class-axis) functions: the multi-class hinge ``multi_margin``, knowledge
``distillation``, and the ``softmax`` / ``log_softmax`` / ``logsumexp`` utilities.

The kernels are in ``csrc/rowwise_impl.h``. Like ``_cross_entropy`` in ``_api.py``, every function
here moves the class axis last, makes the arrays C-contiguous and hands the kernel an (n, c)
problem; results are moved back.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from . import _kernels
from ._api import (
    _class_weights,
    _ERR_LABEL,
    Loss,
    _axis,
    _check,
    _class_axis_last,
    _compute_dtype,
    _empty,
    _empty_grad,
    _float_array,
    _labels,
    _Out,
    _real_array,
    _reduction_code,
    _sample_weight,
    _threads,
    _to_float,
)


def _temperature(value, name: str = "temperature") -> float:
    t = _to_float(value, name)
    if not (t > 0 and math.isfinite(t)):  # also rejects NaN
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return t


def _class_problem(x: np.ndarray, axis, name: str):
    """(axis index, number of classes, shape without the axis) of a class-axis argument."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the classes)")
    ax = _axis(axis, x.ndim)
    c = x.shape[ax]
    if c == 0:
        raise ValueError(f"{name} must have at least one class along axis={axis}; got shape {x.shape}")
    return ax, c, x.shape[:ax] + x.shape[ax + 1:]


def _class_axis_back(flat: np.ndarray, shape: tuple, ax: int) -> np.ndarray:
    """Inverse of _class_axis_last: a flat (n * c) result back to ``shape`` with the classes on
    ``ax`` (C-contiguous)."""
    c = shape[ax]
    g = flat.reshape(shape[:ax] + shape[ax + 1:] + (c,))
    if ax != len(shape) - 1:
        g = np.ascontiguousarray(np.moveaxis(g, -1, ax))
    return g


def _label_error(labels: np.ndarray, bad: int, c: int, name: str = "target") -> ValueError:
    return ValueError(
        f"{name} has class index {labels[bad]} at flat position {bad}; expected values in [0, {c})"
    )


# --------------------------------------------------------------------------------------------
# multi_margin


def _multi_margin(pred, target, *, p=1, margin=1.0, weight=None, axis=-1, reduction="mean",
                  sample_weight=None, _want=(True, False)):
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
    x = _float_array(pred, "pred")
    dt = _compute_dtype(x)
    code = _reduction_code(reduction)
    ax, c, sample_shape = _class_problem(x, axis, "pred")
    try:
        p_int = operator.index(p)
    except TypeError:
        p_int = None
    if p_int not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    margin = _to_float(margin, "margin")
    if not math.isfinite(margin):
        raise ValueError(f"margin must be finite, got {margin!r}")
    cw = _class_weights(weight, c)
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices; got dtype {t.dtype}")
    labels = _labels(t, sample_shape)
    xc = _class_axis_last(x, ax, dt).reshape(-1)
    n = xc.size // c
    sw = _sample_weight(sample_weight, sample_shape, dt)
    want_value, want_grad = _want
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, n * c, dt)
    rc, value, bad = _kernels.multi_margin(n, c, xc, labels, sw, cw, p_int, margin, code, loss,
                                           grad, _threads["n"])
    if rc == _ERR_LABEL:
        raise _label_error(labels, bad, c)
    _check(rc, bad)
    out = _Out(x.dtype)
    g = out.grad(_class_axis_back(grad, x.shape, ax), x.shape) if want_grad else None
    return (out.value(value, loss, code, sample_shape) if want_value else None, g)


# --------------------------------------------------------------------------------------------
# distillation


def _distillation(student_logits, teacher_logits, target, *, temperature=4.0, alpha=0.5,
                  axis=-1, reduction="mean", sample_weight=None, _want=(True, False)):
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
    zs = _float_array(student_logits, "student_logits")
    dt = _compute_dtype(zs)
    code = _reduction_code(reduction)
    ax, c, sample_shape = _class_problem(zs, axis, "student_logits")
    temperature = _temperature(temperature)
    alpha = _to_float(alpha, "alpha")
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    zt = np.asarray(teacher_logits)
    if zt.shape != zs.shape:
        raise ValueError(
            f"teacher_logits must have the student_logits' shape {zs.shape}; got {zt.shape}"
        )
    if zt.dtype.kind not in "buif":
        raise TypeError(f"teacher_logits must be real-valued, got dtype {zt.dtype}")
    t = np.asarray(target)
    labels = soft = None
    if t.dtype.kind in "iu":
        labels = _labels(t, sample_shape)
    elif t.dtype.kind == "f":
        if t.shape != zs.shape:
            raise ValueError(
                f"target of class probabilities must have the logits' shape {zs.shape}; got {t.shape}"
            )
        soft = _class_axis_last(t, ax, dt).reshape(-1)
    else:
        raise TypeError(
            f"target must hold integer class indices or floating class probabilities; got dtype {t.dtype}"
        )
    sc = _class_axis_last(zs, ax, dt).reshape(-1)
    tc = _class_axis_last(zt, ax, dt).reshape(-1)
    n = sc.size // c
    sw = _sample_weight(sample_weight, sample_shape, dt)
    want_value, want_grad = _want
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, n * c, dt)
    rc, value, bad = _kernels.distill(n, c, sc, tc, labels, soft, sw, temperature, alpha, code,
                                      loss, grad, _threads["n"])
    if rc == _ERR_LABEL:
        raise _label_error(labels, bad, c)
    _check(rc, bad)
    out = _Out(zs.dtype)
    g = out.grad(_class_axis_back(grad, zs.shape, ax), zs.shape) if want_grad else None
    return (out.value(value, loss, code, sample_shape) if want_value else None, g)


multi_margin = Loss(_multi_margin)
distillation = Loss(_distillation)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp: array functions, not losses


class RowFunction:
    """A function applied to every row along ``axis`` of an array, with its vector-Jacobian
    product.

    ``f(x, axis=-1, temperature=1.0)`` returns ``f(x / temperature)`` along ``axis`` (computing
    only the value); ``f.vjp(x, cotangent, axis=..., temperature=...)`` returns the gradient of
    ``sum(cotangent * f(x, ...))`` w.r.t. ``x`` -- what reverse-mode autodiff propagates through
    ``f``. float16 is computed in float32 and returned as float16; float32 and float64 stay as
    they are.
    """

    def __init__(self, name: str, doc: str):
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"<fastloss function {self.__name__}(x, *, axis=-1, temperature=1.0)>"

    # -- shared plumbing

    def _prepare(self, x, axis, temperature):
        a = _float_array(x, "x")
        dt = _compute_dtype(a)
        ax, c, rest = _class_problem(a, axis, "x")
        inv_t = 1.0 / _temperature(temperature)
        xc = _class_axis_last(a, ax, dt).reshape(-1)
        return a, dt, ax, c, rest, inv_t, xc

    @staticmethod
    def _cotangent(cotangent, shape: tuple, dt) -> np.ndarray:
        """The cotangent checked against the expected shape, in the compute dtype."""
        v = np.asarray(cotangent)
        if v.shape != shape:
            raise ValueError(f"cotangent must have shape {shape}; got {v.shape}")
        return _real_array(v, "cotangent", dt)


class _Softmax(RowFunction):
    def __init__(self, log: bool, name: str, doc: str):
        super().__init__(name, doc)
        self._log = log

    def __call__(self, x, *, axis=-1, temperature=1.0):
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        out = np.empty(xc.size, dtype=dt)
        rc, _, bad = _kernels.softmax(xc.size // c, c, xc, inv_t, self._log, out, _threads["n"])
        _check(rc, bad)
        return _class_axis_back(out, a.shape, ax).astype(a.dtype, copy=False)

    def vjp(self, x, cotangent, *, axis=-1, temperature=1.0):
        """Gradient of ``sum(cotangent * f(x, axis=axis, temperature=temperature))`` w.r.t.
        ``x``; ``cotangent`` has ``x``'s shape. With ``y = f(x)``, ``p = softmax(x / T)``:
        softmax: ``y * (v - sum(v * y, axis)) / T``; log_softmax: ``(v - p * sum(v, axis)) / T``.
        """
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        vc = _class_axis_last(self._cotangent(cotangent, a.shape, dt), ax, dt).reshape(-1)
        out = np.empty(xc.size, dtype=dt)
        rc, _, bad = _kernels.softmax_vjp(xc.size // c, c, xc, vc, inv_t, self._log, out,
                                          _threads["n"])
        _check(rc, bad)
        return _class_axis_back(out, a.shape, ax).astype(a.dtype, copy=False)


class _LogSumExp(RowFunction):
    def _run(self, x, axis, temperature, cotangent, want):
        a, dt, ax, c, rest, inv_t, xc = self._prepare(x, axis, temperature)
        vc = None
        if cotangent is not None:
            vc = self._cotangent(cotangent, rest, dt).reshape(-1)
        n = xc.size // c
        out = _empty(want[0], n, dt)
        grad = _empty_grad(want[1], n * c, dt)
        rc, _, bad = _kernels.logsumexp(n, c, xc, vc, inv_t, out, grad, _threads["n"])
        _check(rc, bad)
        value = out.reshape(rest).astype(a.dtype, copy=False)[()] if want[0] else None
        g = (_class_axis_back(grad, a.shape, ax).astype(a.dtype, copy=False)
             if want[1] else None)
        return value, g

    def __call__(self, x, *, axis=-1, temperature=1.0):
        return self._run(x, axis, temperature, None, (True, False))[0]

    def grad(self, x, *, axis=-1, temperature=1.0):
        """Gradient of ``sum(logsumexp(x, axis=axis, temperature=T))`` w.r.t. ``x``:
        ``softmax(x / T, axis) / T``."""
        return self._run(x, axis, temperature, None, (False, True))[1]

    def value_and_grad(self, x, *, axis=-1, temperature=1.0):
        """``(logsumexp(x, ...), logsumexp.grad(x, ...))`` from one kernel call."""
        return self._run(x, axis, temperature, None, (True, True))

    def vjp(self, x, cotangent, *, axis=-1, temperature=1.0):
        """Gradient of ``sum(cotangent * logsumexp(x, ...))`` w.r.t. ``x``; ``cotangent`` has
        the result's shape (``x``'s shape without ``axis``). Equals
        ``expand_dims(cotangent, axis) * softmax(x / T, axis) / T``."""
        return self._run(x, axis, temperature, cotangent, (False, True))[1]


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
