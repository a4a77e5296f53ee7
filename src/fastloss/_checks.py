"""Argument conversion and validation, in one place.

Every public function turns its arguments into what the kernels read through these helpers:
prediction-like arrays become native-endian, aligned, C-contiguous arrays in the compute dtype
(float32 for float16/float32 input, float64 for float64), integer arguments become int64 after
a range check on the original values, scalar options are checked for type and range. Errors are
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong value) and name the
argument; :class:`fastloss._loss.Loss` prefixes the public function's name.
"""

from __future__ import annotations

import math
import operator

import numpy as np

REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}
ALL_REDUCTIONS = ("none", "sum", "mean")
FL_NONE, FL_SUM, FL_MEAN = 0, 1, 2

# Kernel status codes (csrc/parallel.h)
ERR_LABEL, ERR_NOMEM, ERR_TARGET, ERR_ARG, ERR_PRED = -1, -2, -3, -4, -5

C_INT_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
_F16 = np.dtype(np.float16)


# --------------------------------------------------------------------------------------------
# arrays


def _as_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)``, refusing masked arrays (their mask would be silently ignored) and
    ragged nested sequences, with messages that name the argument."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; fastloss does not read masks. Pass the data "
            f"(np.ma.getdata) and give the masked entries sample_weight=0, or drop them"
        )
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} cannot be read as a rectangular array: {e}") from None


def float_array(x, name: str) -> np.ndarray:
    """A prediction-like argument as an array of float16, float32 or float64 (any byte order)."""
    a = x if type(x) is np.ndarray else _as_array(x, name)
    if a.dtype.kind != "f" or a.dtype.itemsize not in (2, 4, 8):
        raise TypeError(
            f"{name} must be a float16, float32 or float64 array, got dtype {a.dtype}"
        )
    return a


def compute_dtype(a: np.ndarray) -> np.dtype:
    """The native dtype a kernel computes in: float64 for float64 input, float32 otherwise."""
    return F64 if a.dtype.itemsize == 8 else F32


def result_dtype(a: np.ndarray) -> np.dtype:
    """The dtype results are returned in: the input's, in native byte order."""
    return _F16 if a.dtype.itemsize == 2 else compute_dtype(a)


def kernel_array(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``a`` flattened in the layout the kernels read: C-contiguous, aligned, native ``dtype``
    (copies only when needed)."""
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned and a.dtype.isnative:
        return a.reshape(-1)
    return np.require(a, dtype, ("C", "A")).reshape(-1)


def real_array(x, name: str, dtype: np.dtype) -> np.ndarray:
    """A real-valued (bool, integer or float) argument in the kernel layout of ``dtype``."""
    a = x if type(x) is np.ndarray else _as_array(x, name)
    if a.dtype.kind not in "buif":
        raise TypeError(f"{name} must be a real-valued array, got dtype {a.dtype}")
    return kernel_array(a, dtype)


def any_array(x, name: str) -> np.ndarray:
    """An argument as an array of any dtype (for dispatch on its kind)."""
    return x if type(x) is np.ndarray else _as_array(x, name)


def same_shape(a: np.ndarray, b: np.ndarray, names=("pred", "target")) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {a.shape} and {b.shape}"
        )


def int64_array(x, name: str) -> np.ndarray:
    """An integer argument (labels, lengths) as a C-contiguous int64 array, its values checked
    against the int64 range *before* the cast (a uint64 above 2**63 - 1 would wrap)."""
    a = any_array(x, name)
    if a.size == 0 and a.dtype.kind == "f":  # np.asarray([]) is float64
        a = a.astype(I64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size:
        big = a > np.uint64(INT64_MAX)
        if big.any():
            i = int(np.argmax(big.reshape(-1)))
            raise ValueError(
                f"{name} holds {a.reshape(-1)[i]} at flat index {i}, outside the int64 range"
            )
    if a.dtype == I64 and a.flags.c_contiguous and a.flags.aligned and a.dtype.isnative:
        return a
    return np.require(a, I64, ("C", "A"))


def labels(x, expected_shape: tuple, name: str = "target") -> np.ndarray:
    """Class indices of the given shape, as a flat int64 array."""
    t = int64_array(x, name)
    if t.shape != expected_shape:
        raise ValueError(
            f"{name} of class indices must have shape {expected_shape} (the prediction's shape "
            f"without the class axis); got {t.shape}"
        )
    return t.reshape(-1)


def broadcast_real(x, name: str, shape: tuple, target: str):
    """``(x as an array, x broadcast to shape)`` for a real-valued argument; ``target`` names
    the shape in the error message."""
    a = _as_array(x, name)
    if a.dtype.kind not in "buif":
        raise TypeError(f"{name} must be real-valued, got dtype {a.dtype}")
    try:
        return a, np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {a.shape} cannot be broadcast to {target} {shape}"
        ) from None


def sample_weight(sw, shape: tuple, dtype: np.dtype):
    """``sample_weight`` broadcast to the per-sample loss shape, in the kernel layout, or None."""
    if sw is None:
        return None
    _, w = broadcast_real(sw, "sample_weight", shape, "the per-sample loss shape")
    return kernel_array(w, dtype)


def class_weights(weight, c: int):
    """Per-class weights as a contiguous float64 (C,) array, or None."""
    if weight is None:
        return None
    cw = _as_array(weight, "weight")
    if cw.dtype.kind not in "buif":
        raise TypeError(f"weight must be real-valued, got dtype {cw.dtype}")
    if cw.shape != (c,):
        raise ValueError(f"weight must have shape ({c},) (one per class), got {cw.shape}")
    return kernel_array(cw, F64)


def factor(arr, shape: tuple, dtype: np.dtype, name: str):
    """A per-element factor broadcastable to ``shape`` as the compact pattern the kernels read:
    ``(values, length, inner)`` with element ``i`` reading ``values[(i // inner) % length]``.

    When the axes along which the broadcast operand varies form one run of ``shape`` (a scalar,
    ``(C,)`` against ``(..., C)``, ``(N, 1)``, ``(1, C, 1, 1)``, ...) only those values are
    copied; other patterns are materialised at ``shape``. ``None`` gives ``(None, 1, 1)``."""
    if arr is None:
        return None, 1, 1
    a, b = broadcast_real(arr, name, shape, "the prediction's shape")
    if b.size == 0:
        return None, 1, 1
    lead = len(shape) - a.ndim
    varying = [k for k in range(len(shape))
               if shape[k] > 1 and k >= lead and a.shape[k - lead] > 1]
    if not varying:
        return kernel_array(b.reshape(-1)[:1], dtype), 1, 1
    i0, i1 = varying[0], varying[-1] + 1
    if all(shape[k] == 1 or k in varying for k in range(i0, i1)):
        idx = tuple(slice(None) if i0 <= k < i1 else 0 for k in range(len(shape)))
        values = kernel_array(np.ascontiguousarray(b[idx]), dtype)
        return values, values.size, math.prod(shape[i1:])
    values = kernel_array(np.ascontiguousarray(b), dtype)
    return values, values.size, 1


def first_bad(mask: np.ndarray, values: np.ndarray, what: str) -> None:
    """ValueError naming the first flat index where ``mask`` holds."""
    if mask.any():
        i = int(np.argmax(mask))
        raise ValueError(f"{what}; found {values[i].item()!r} at flat index {i}")


# --------------------------------------------------------------------------------------------
# the class axis


def axis(value, ndim: int, name: str = "axis") -> int:
    try:
        ax = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={value} is out of range for an array with {ndim} dimensions")
    return ax % ndim


def class_problem(x: np.ndarray, axis_value, name: str):
    """(axis index, number of classes, shape without the axis) of a class-axis argument."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the classes)")
    ax = axis(axis_value, x.ndim)
    c = x.shape[ax]
    if c == 0:
        raise ValueError(
            f"{name} must have at least one class along axis={axis_value}; got shape {x.shape}"
        )
    return ax, c, x.shape[:ax] + x.shape[ax + 1:]


def class_axis_last(x: np.ndarray, ax: int, dtype: np.dtype) -> np.ndarray:
    """``x`` with the class axis moved last, flattened in the kernel layout (copies only when
    needed)."""
    if ax != x.ndim - 1:
        x = np.moveaxis(x, ax, -1)
    return kernel_array(x, dtype)


def class_axis_back(flat: np.ndarray, shape: tuple, ax: int) -> np.ndarray:
    """Inverse of :func:`class_axis_last`: a flat (n * c) result back to ``shape`` with the
    classes on ``ax`` (C-contiguous)."""
    c = shape[ax]
    g = flat.reshape(shape[:ax] + shape[ax + 1:] + (c,))
    if ax != len(shape) - 1:
        g = np.ascontiguousarray(np.moveaxis(g, -1, ax))
    return g


# --------------------------------------------------------------------------------------------
# scalars


def reduction_code(reduction, allowed=ALL_REDUCTIONS) -> int:
    """The kernel code of ``reduction``; ``"batchmean"`` maps to 'mean' (the caller scales)."""
    if not isinstance(reduction, str):  # np.str_ is a str
        raise TypeError(
            f"reduction must be one of {', '.join(map(repr, allowed))} (a string); got "
            f"{type(reduction).__name__} {reduction!r}"
        )
    if reduction not in allowed:
        raise ValueError(
            f"reduction must be one of {', '.join(map(repr, allowed))}; got {reduction!r}"
        )
    return REDUCTIONS.get(reduction, FL_MEAN)


def real_param(value, name: str, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """A scalar option as a finite float in ``[lo, hi]`` (open ends where asked).

    Infinite and NaN values are refused for every option of every loss: the kernels compute
    with finite parameters only, and a limit (delta -> inf, temperature -> 0, ...) is a
    different loss that deserves to be asked for by name."""
    v = value
    if isinstance(v, np.ndarray):
        if v.ndim != 0:
            raise TypeError(f"{name} must be a real number, got an array of shape {v.shape}")
        v = v[()]
    if isinstance(v, (str, bytes, complex, np.complexfloating)) or v is None:
        raise TypeError(f"{name} must be a real number, got {type(v).__name__} {v!r}")
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"{name} is too large for a double: {value!r}") from None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__} {v!r}") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo is not None and (f <= lo if lo_open else f < lo):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    if hi is not None and (f >= hi if hi_open else f > hi):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi:g}, got {value!r}")
    return f


def int_param(value, name: str, *, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int:
    """An integer option (a Python or NumPy integer, not a float or bool-like string) in
    ``[lo, hi]``."""
    try:
        i = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if not lo <= i <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {i}")
    return i


def flag(value, name: str) -> bool:
    """A boolean option: True/False, NumPy booleans, or 0/1."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


# --------------------------------------------------------------------------------------------
# kernel status


def check_status(rc: int, bad: int, what: str = "") -> None:
    """Raise for a kernel's error code; ``what`` may format ``{bad}`` (the offending index)."""
    if rc == 0:
        return
    if rc == ERR_NOMEM:
        raise MemoryError("fastloss: out of memory in kernel")
    raise ValueError(what.format(bad=bad) if what else f"invalid input (kernel status {rc})")
