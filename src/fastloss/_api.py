"""The public loss objects: argument validation, layout, reduction bookkeeping, docstrings.

Every loss is a :class:`Loss`: calling it gives the value, ``.grad`` the gradient of that value
with respect to the prediction, ``.value_and_grad`` both from one kernel call. The numeric work
happens in the C kernels (``csrc/``) through ``fastloss._kernels``; this module only checks the
arguments, puts arrays into the C-contiguous layout the kernels expect and shapes the results.
"""

from __future__ import annotations

import inspect
import math
import operator
import threading

import numpy as np

from . import _kernels

_REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}
_FL_MEAN = 2
_ERR_LABEL, _ERR_NOMEM, _ERR_TARGET = -1, -2, -3

_C_INT_MAX = 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_threads = {"n": 0}  # 0: the OpenMP default (OMP_NUM_THREADS, threadpoolctl)


def set_num_threads(n: int | None) -> None:
    """Set the number of threads every kernel may use; ``None`` or 0 restores the OpenMP default
    (which follows ``OMP_NUM_THREADS`` and ``threadpoolctl``). Inputs too small to gain from
    threads always run on one. Results are bit-identical for any setting."""
    if n is None:
        n = 0
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"set_num_threads: n must be >= 0 or None, got {n}")
    if n > _C_INT_MAX:  # the kernels take a C int
        raise ValueError(f"set_num_threads: n must be at most {_C_INT_MAX}, got {n}")
    _threads["n"] = n


def get_num_threads() -> int:
    """The number of threads a large kernel call will use now."""
    return _threads["n"] or _kernels.default_threads()


# --------------------------------------------------------------------------------------------
# Validation helpers


_F32 = np.dtype(np.float32)


def _float_array(x, name: str) -> np.ndarray:
    """The prediction-like argument as an array; float16/32/64 only."""
    a = x if type(x) is np.ndarray else np.asarray(x)
    if a.dtype.char not in "efd":  # float16, float32, float64 (dtype.char is the cheap test)
        raise TypeError(
            f"{name} must be a float16, float32 or float64 array, got dtype {a.dtype}"
        )
    return a


def _compute_dtype(a: np.ndarray) -> np.dtype:
    """float16 is computed in float32; float32 and float64 as given."""
    return _F32 if a.dtype.char == "e" else a.dtype


def _real_array(x, name: str, dtype: np.dtype) -> np.ndarray:
    """A real-valued (bool, integer or float) argument converted to the compute dtype."""
    a = np.asarray(x)
    if a.dtype.kind not in "buif":
        raise TypeError(f"{name} must be a real-valued array, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=dtype)


def _reduction_code(reduction, allowed=("none", "sum", "mean")) -> int:
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}; got {reduction!r}")
    return _REDUCTIONS.get(reduction, _FL_MEAN)


def _same_shape(a: np.ndarray, b: np.ndarray, names=("pred", "target")) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {a.shape} and {b.shape}"
        )


def _broadcast_real(x, name: str, shape: tuple, target: str):
    """``(x as an array, x broadcast to shape)`` for a real-valued argument; ``target`` names
    the shape in the error message."""
    a = np.asarray(x)
    if a.dtype.kind not in "buif":
        raise TypeError(f"{name} must be real-valued, got dtype {a.dtype}")
    try:
        return a, np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {a.shape} cannot be broadcast to {target} {shape}"
        ) from None


def _sample_weight(sw, shape: tuple, dtype: np.dtype):
    """sample_weight broadcast to the per-sample loss shape, contiguous and flat, or None."""
    if sw is None:
        return None
    _, w = _broadcast_real(sw, "sample_weight", shape, "the per-sample loss shape")
    return np.ascontiguousarray(w, dtype=dtype).reshape(-1)


def _class_weights(weight, c: int):
    """Per-class weights as a contiguous float64 (C,) array, or None."""
    if weight is None:
        return None
    cw = np.asarray(weight)
    if cw.dtype.kind not in "buif":
        raise TypeError(f"weight must be real-valued, got dtype {cw.dtype}")
    if cw.shape != (c,):
        raise ValueError(f"weight must have shape ({c},) (one per class), got {cw.shape}")
    return np.ascontiguousarray(cw, dtype=np.float64)


def _axis(axis, ndim: int, name: str = "axis") -> int:
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {axis!r}") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array with {ndim} dimensions")
    return ax % ndim


def _to_float(value, name: str) -> float:
    """float(value), with a number too large for a double (10**400) a ValueError naming the
    argument instead of an OverflowError; non-numbers stay a TypeError or ValueError."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large for a double: {value!r}") from None


def _nonneg(value, name: str, strict: bool = False) -> float:
    v = _to_float(value, name)
    if not (v > 0 if strict else v >= 0):  # also rejects NaN
        raise ValueError(f"{name} must be {'> 0' if strict else '>= 0'}, got {value!r}")
    return v


def _check(rc: int, bad: int, what: str = "") -> None:
    if rc == 0:
        return
    if rc == _ERR_NOMEM:
        raise MemoryError("fastloss: out of memory in kernel")
    raise ValueError(what.format(bad=bad))


class _Out:
    """Result arrays of one call in the compute dtype, cast back to the input dtype at the end
    (float16 inputs are computed in float32)."""

    def __init__(self, result_dtype: np.dtype):
        self.result_dtype = result_dtype

    def value(self, value: float, per_sample, code: int, shape: tuple):
        if code == 0:
            return _cast(per_sample.reshape(shape), self.result_dtype)
        return self.result_dtype.type(value)

    def grad(self, g, shape: tuple):
        return _cast(g.reshape(shape), self.result_dtype)


def _cast(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return a if a.dtype == dtype else a.astype(dtype)


def _empty(want: bool, n: int, dtype) -> np.ndarray | None:
    return np.empty(n, dtype=dtype) if want else None


# out= arrays of the call in progress on this thread, consumed in order by _empty_grad
_grad_out = threading.local()


def _empty_grad(want: bool, n: int, dtype) -> np.ndarray | None:
    """A flat gradient buffer: the caller's ``out=`` array itself when the kernel can write into
    it (C-contiguous, writeable, the compute dtype, ``n`` elements, no overlap with an input),
    so large calls skip the page faults of a fresh allocation; otherwise a new array (which
    Loss copies into ``out`` at the end)."""
    if not want:
        return None
    pending = _grad_out.__dict__.get("pending")
    if pending:
        out = pending.pop(0)
        if (out is not None and out.dtype == dtype and out.size == n
                and out.flags.c_contiguous and out.flags.writeable):
            return out.reshape(-1)
    return np.empty(n, dtype=dtype)


# --------------------------------------------------------------------------------------------
# The loss object


class Loss:
    """A loss function with its fused gradient.

    ``loss(...)`` returns the value, ``loss.grad(...)`` the gradient of that value with respect
    to the first argument (for ``reduction="none"``: of the sum of the per-sample losses),
    ``loss.value_and_grad(...)`` both from a single kernel pass.
    """

    def __init__(self, impl):
        self._impl = impl
        self.__name__ = impl.__name__.lstrip("_")
        self.__qualname__ = self.__name__
        self.__doc__ = impl.__doc__
        params = [p for p in inspect.signature(impl).parameters.values() if p.name != "_want"]
        self.__signature__ = inspect.Signature(params)

    def __call__(self, *args, **kwargs):
        return self._impl(*args, _want=(True, False), **kwargs)[0]

    def grad(self, *args, out=None, **kwargs):
        """Gradient of the loss with respect to the prediction (same shape and dtype).

        ``out``: an array of the gradient's shape and dtype to write it into (a tuple of arrays
        for losses with several gradients); it is returned. Reusing one buffer across calls
        avoids the page faults of a fresh allocation, which dominate at large sizes. ``out``
        may be the prediction itself (an in-place gradient): the kernel then writes a
        temporary and copies it over."""
        return self._call(args, kwargs, (False, True), out)[1]

    def value_and_grad(self, *args, out=None, **kwargs):
        """``(value, gradient)`` from one kernel call; ``out`` as for :meth:`grad`."""
        return self._call(args, kwargs, (True, True), out)

    def _call(self, args, kwargs, want, out):
        if out is None:
            return self._impl(*args, _want=want, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            if not isinstance(o, np.ndarray):
                raise TypeError(f"out must be a NumPy array (a tuple of arrays for losses with "
                                f"several gradients), got {type(o).__name__}")
            if not o.flags.writeable:
                raise ValueError("out must be writeable")
        if not isinstance(out, tuple) and args:
            expected = np.asarray(args[0])
            if o.shape != expected.shape or o.dtype != expected.dtype:
                raise ValueError(f"out must have the prediction's shape {expected.shape} and dtype "
                                 f"{expected.dtype}; got {o.shape} and {o.dtype}")
        inputs = [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
        _grad_out.pending = [None if any(np.may_share_memory(o, a) for a in inputs) else o
                             for o in outs]
        try:
            value, grad = self._impl(*args, _want=want, **kwargs)
        finally:
            _grad_out.pending = None
        grads = grad if isinstance(grad, tuple) else (grad,)
        if len(grads) != len(outs):
            raise ValueError(f"out: {self.__name__} returns {len(grads)} gradient array(s), "
                             f"got {len(outs)}")
        for o, g in zip(outs, grads):
            if o.shape != g.shape or o.dtype != g.dtype:
                raise ValueError(f"out must have shape {g.shape} and dtype {g.dtype}; got "
                                 f"{o.shape} and {o.dtype}")
            if not np.may_share_memory(o, g):
                np.copyto(o, g)
        return value, out

    def __repr__(self) -> str:
        return f"<fastloss loss {self.__name__}{self.__signature__}>"


# --------------------------------------------------------------------------------------------
# Elementwise losses


def _elementwise(kernel, pred, target, *, reduction, sample_weight, want, delta=0.0,
                 allowed=("none", "sum", "mean"), denom_scale=1.0, names=("pred", "target"),
                 validate_target=None):
    p = _float_array(pred, names[0])
    dt = _compute_dtype(p)
    code = _reduction_code(reduction, allowed)
    t = np.asarray(target)
    _same_shape(p, t, names)
    tc = _real_array(t, names[1], dt).reshape(-1)
    if validate_target is not None:
        validate_target(tc)
    pc = np.ascontiguousarray(p, dtype=dt).reshape(-1)
    sw = _sample_weight(sample_weight, p.shape, dt)
    n = pc.size
    want_value, want_grad = want
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, n, dt)
    rc, value, bad = _kernels.elementwise(kernel, pc, tc, sw, delta, code, denom_scale, loss, grad,
                                          _threads["n"])
    _check(rc, bad)
    out = _Out(p.dtype)
    return (out.value(value, loss, code, p.shape) if want_value else None,
            out.grad(grad, p.shape) if want_grad else None)


def _huber(pred, target, *, delta=1.0, reduction="mean", sample_weight=None, _want=(True, False)):
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    Per element, with ``d = pred - target``: ``0.5 * d**2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``. Gradient w.r.t. ``pred``: ``d`` clipped to
    ``[-delta, delta]``.

    Parameters
    ----------
    pred, target : arrays of the same shape (float16/32/64 ``pred``; ``target`` real-valued).
    delta : float > 0
    reduction : "mean" | "sum" | "none"
        ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)`` (``w = 1`` by default).
    sample_weight : array broadcastable to ``pred.shape``, optional
    """
    delta = _nonneg(delta, "delta", strict=True)
    return _elementwise("huber", pred, target, reduction=reduction, sample_weight=sample_weight,
                        want=_want, delta=delta)


def _hinge_targets(t: np.ndarray) -> None:
    rc, _, bad = _kernels.check_binary_targets(t)
    if rc != 0:
        raise ValueError(
            "hinge target must hold only {-1, 1} or only {0, 1} (0 is read as -1); "
            f"found {t[bad].item()!r} at flat index {bad}"
        )


def _hinge(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Binary hinge loss ``max(0, 1 - t * pred)``.

    ``target`` holds ``{-1, 1}``, or ``{0, 1}`` with 0 read as -1; anything else (including a mix
    of -1 and 0) is a ``ValueError``. Gradient w.r.t. ``pred``: ``-t`` where ``t * pred < 1``,
    else 0 (the subgradient at the kink ``t * pred == 1`` is taken as 0).
    ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)``.
    """
    return _elementwise("hinge", pred, target, reduction=reduction, sample_weight=sample_weight,
                        want=_want, validate_target=_hinge_targets)


def _kl_div(pred, target, *, axis=-1, log_pred=False, log_target=False, reduction="batchmean",
            sample_weight=None, _want=(True, False)):
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
    p = _float_array(pred, "pred")
    if p.ndim == 0:
        raise ValueError("kl_div needs pred with at least one dimension")
    _axis(axis, p.ndim)
    allowed = ("none", "sum", "mean", "batchmean")
    _reduction_code(reduction, allowed)
    denom_scale = p.shape[0] / p.size if (reduction == "batchmean" and p.size) else 1.0
    kernel = "kl_" + ("logq" if log_pred else "q") + "_" + ("logt" if log_target else "t")
    return _elementwise(kernel, p, target, reduction=reduction, sample_weight=sample_weight,
                        want=_want, allowed=allowed, denom_scale=denom_scale)


# --------------------------------------------------------------------------------------------
# Softmax cross-entropy


def _class_axis_last(x: np.ndarray, axis: int, dtype) -> np.ndarray:
    """x with the class axis moved last, C-contiguous (copies only when needed)."""
    if axis != x.ndim - 1:
        x = np.moveaxis(x, axis, -1)
    if x.dtype == dtype and x.flags.c_contiguous:  # the common case, without a NumPy call
        return x
    return np.ascontiguousarray(x, dtype=dtype)


def _check_labels(rc: int, bad: int, labels: np.ndarray, c: int, ignore: int) -> None:
    if rc == _ERR_LABEL:
        raise ValueError(
            f"target has class index {labels[bad]} at flat position {bad}; expected values in "
            f"[0, {c}) or ignore_index={ignore}"
        )
    _check(rc, bad)


def _labels(target, expected_shape: tuple, name: str = "target") -> np.ndarray:
    t = np.asarray(target)
    if t.shape != expected_shape:
        raise ValueError(
            f"{name} of class indices must have shape {expected_shape} (the prediction's shape "
            f"without the class axis); got {t.shape}"
        )
    if t.dtype != np.int64 or not t.flags.c_contiguous:
        t = np.ascontiguousarray(t, dtype=np.int64)
    return t.reshape(-1)


def _cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100,
                   label_smoothing=0.0, temperature=1.0, reduction="mean", sample_weight=None,
                   _want=(True, False)):
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``.

    ``logits`` has the classes on ``axis``. An integer ``target`` holds class indices (the
    logits' shape without ``axis``; values in ``[0, C)`` or ``ignore_index``); a floating
    ``target`` of the logits' shape holds class probabilities. ``weight`` (C,) rescales
    classes; ``label_smoothing`` mixes the target with the uniform distribution;
    ``temperature`` T divides the logits (the gradient includes the 1/T). ``"mean"`` divides by
    the summed class weights of the non-ignored targets, as torch does (label smoothing
    included).
    ``sample_weight`` (broadcastable to the per-sample shape) multiplies each sample and enters
    the ``"mean"`` denominators. Gradient w.r.t. ``logits``.
    """
    z = _float_array(logits, "logits")
    dt = _compute_dtype(z)
    code = _reduction_code(reduction)
    if z.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes)")
    ax = _axis(axis, z.ndim)
    c = z.shape[ax]
    if c == 0:
        raise ValueError("logits must have at least one class along axis")
    eps = _to_float(label_smoothing, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    inv_t = 1.0 / _nonneg(temperature, "temperature", strict=True)
    sample_shape = z.shape[:ax] + z.shape[ax + 1:]
    cw = _class_weights(weight, c)
    t = np.asarray(target)
    want_value, want_grad = _want
    inner = math.prod(z.shape[ax + 1:])
    if t.dtype.kind in "iu" and inner > 1:
        # classes on a middle axis (segmentation): a kernel that reads them with a stride, so
        # neither the logits nor the gradient are transposed
        zc = z if (z.dtype == dt and z.flags.c_contiguous) else np.ascontiguousarray(z, dtype=dt)
        zc = zc.reshape(-1)
        n = zc.size // c
        sw = _sample_weight(sample_weight, sample_shape, dt)
        loss = _empty(want_value and code == 0, n, dt)
        grad = _empty_grad(want_grad, n * c, dt)
        ignore = operator.index(ignore_index)
        labels = _labels(t, sample_shape)
        rc, value, bad = _kernels.ce_index_strided(n // inner, c, inner, zc, labels, sw, cw,
                                                   ignore, eps, inv_t, code, loss, grad,
                                                   _threads["n"])
        _check_labels(rc, bad, labels, c, ignore)
        out = _Out(z.dtype)
        return (out.value(value, loss, code, sample_shape) if want_value else None,
                out.grad(grad, z.shape) if want_grad else None)
    zc = _class_axis_last(z, ax, dt).reshape(-1)
    n = zc.size // c
    sw = _sample_weight(sample_weight, sample_shape, dt)
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, n * c, dt)
    if t.dtype.kind in "iu":
        ignore = operator.index(ignore_index)
        if not _INT64_MIN <= ignore <= _INT64_MAX:
            raise ValueError(f"ignore_index must fit in int64, got {ignore}")
        labels = _labels(t, sample_shape)
        rc, value, bad = _kernels.ce_index(n, c, zc, labels, sw, cw, ignore, eps, inv_t, code,
                                           loss, grad, _threads["n"])
        _check_labels(rc, bad, labels, c, ignore)
    elif t.dtype.kind == "f":
        if t.shape != z.shape:
            raise ValueError(
                f"target of class probabilities must have the logits' shape {z.shape}; got {t.shape}"
            )
        tc = _class_axis_last(t, ax, dt).reshape(-1)
        rc, value, bad = _kernels.ce_prob(n, c, zc, tc, sw, cw, eps, inv_t, code, loss, grad,
                                          _threads["n"])
        _check(rc, bad)
    else:
        raise TypeError(
            f"target must hold integer class indices or floating class probabilities; got dtype {t.dtype}"
        )
    g = None
    if want_grad:
        if ax == z.ndim - 1:
            g = grad.reshape(z.shape)
        else:
            g = grad.reshape(sample_shape + (c,))
            g = np.ascontiguousarray(np.moveaxis(g, -1, ax))
        g = _cast(g, z.dtype)
    return (_Out(z.dtype).value(value, loss, code, sample_shape) if want_value else None, g)


# --------------------------------------------------------------------------------------------
# Dice


def _dice(pred, target, *, axis=1, smooth=1.0, from_logits=False, reduction="mean",
          sample_weight=None, _want=(True, False)):
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
    p = _float_array(pred, "pred")
    dt = _compute_dtype(p)
    code = _reduction_code(reduction)
    if p.ndim == 0:
        raise ValueError("pred must have at least one dimension (the classes)")
    ax = _axis(axis, p.ndim)
    smooth = _nonneg(smooth, "smooth")
    shape = p.shape
    c = shape[ax]
    o_n = math.prod(shape[:ax])
    inner = math.prod(shape[ax + 1:])
    if c == 0:
        raise ValueError("pred must have at least one class along axis")
    t = np.asarray(target)
    target_soft = labels = None
    if t.dtype.kind in "iu":
        labels = _labels(t, shape[:ax] + shape[ax + 1:])
    elif t.dtype.kind in "bf":
        _same_shape(p, t)
        target_soft = np.ascontiguousarray(t, dtype=dt).reshape(-1)
    else:
        raise TypeError(f"target must be integer labels or a real array; got dtype {t.dtype}")
    pc = np.ascontiguousarray(p, dtype=dt).reshape(-1)
    out_shape = shape[:ax + 1]
    sw = _sample_weight(sample_weight, out_shape, dt)
    want_value, want_grad = _want
    loss = _empty(want_value and code == 0, o_n * c, dt)
    grad = _empty_grad(want_grad, pc.size, dt)
    rc, value, bad = _kernels.dice(o_n, c, inner, pc, target_soft, labels, sw, smooth,
                                   bool(from_logits), code, loss, grad, _threads["n"])
    if rc == _ERR_LABEL:
        raise ValueError(
            f"target has class index {labels[bad]} at flat position {bad}; expected values in [0, {c})"
        )
    _check(rc, bad)
    out = _Out(p.dtype)
    return (out.value(value, loss, code, out_shape) if want_value else None,
            out.grad(grad, shape) if want_grad else None)


cross_entropy = Loss(_cross_entropy)
huber = Loss(_huber)
dice = Loss(_dice)
kl_div = Loss(_kl_div)
hinge = Loss(_hinge)
