"""The :class:`Loss` object: one callable per loss with ``.grad`` and ``.value_and_grad``.

A loss is written once, as an implementation function whose first parameter is a :class:`Call`
(what the caller asked for: the value, the gradient, ``out=`` buffers) followed by the loss's
public parameters::

    @loss
    def mse(call, pred, target, *, reduction="mean", sample_weight=None):
        ...
        return value, grad

:class:`Loss` builds three entry points with exactly the public parameters (``grad`` and
``value_and_grad`` add ``out``; losses declared with ``@loss(hessian=True)`` get a fourth,
``grad_hess``) and passes the :class:`Call` down explicitly: nothing about a
call is parked in global or thread-local state. Python itself binds the arguments, so a wrong
keyword is reported against the public name (``mse() got an unexpected keyword argument``), and
every ``ValueError``/``TypeError`` raised while checking arguments is prefixed with it.
"""

from __future__ import annotations

import inspect

import numpy as np


class Call:
    """What one call of a loss asks for: the value and/or the gradient, and where to write the
    gradient (``out``: a tuple with one array or None per differentiated input, or None).

    ``hess`` asks for the second derivatives too (``grad_hess``: the gradient and the Hessian's
    diagonal of the per-sample losses, ``out`` then holds ``(gradient, hessian)``), each at
    least ``hessian_floor`` before the sample weight (None: no floor)."""

    __slots__ = ("value", "grad", "out", "hess", "hessian_floor")

    def __init__(self, value: bool, grad: bool, out: tuple | None = None, hess: bool = False,
                 hessian_floor: float | None = None):
        self.value = value
        self.grad = grad
        self.out = out
        self.hess = hess
        self.hessian_floor = hessian_floor

    def grad_buffer(self, k: int, shape: tuple, dtype: np.dtype, result: np.dtype, *inputs,
                    direct: bool = True):
        """A flat buffer for gradient ``k`` (of ``shape``, computed in ``dtype``, returned in
        ``result``), or None when the gradient is not wanted.

        With ``out=`` the caller's array is checked here, before any kernel runs, and used
        directly when the kernel can write into it: ``direct`` (the kernel's layout is the
        gradient's layout), C-contiguous, aligned, the compute dtype, and sharing no memory with
        any of the kernel's ``inputs``. Otherwise a fresh array is returned and :class:`Loss`
        copies it into ``out`` at the end."""
        if not self.grad:
            return None
        o = self.out[k] if self.out is not None else None
        return _buffer(o, "gradient", shape, dtype, result, inputs, direct)

    def hess_buffer(self, shape: tuple, dtype: np.dtype, result: np.dtype, *inputs,
                    direct: bool = True):
        """A flat buffer for the second derivatives (``out[1]`` of ``grad_hess`` when given,
        under the rules of :meth:`grad_buffer`), or None when they are not wanted. ``inputs``
        should include the gradient buffer."""
        if not self.hess:
            return None
        o = self.out[1] if self.out is not None else None
        return _buffer(o, "Hessian", shape, dtype, result, inputs, direct)


def _buffer(o, what: str, shape: tuple, dtype: np.dtype, result: np.dtype, inputs: tuple,
            direct: bool):
    n = 1
    for s in shape:
        n *= s
    if o is not None:
        if o.shape != shape or o.dtype != result:
            raise ValueError(
                f"out must have the {what}'s shape {shape} and dtype {result}; got "
                f"{o.shape} and {o.dtype}"
            )
        if (direct and o.dtype == dtype and o.flags.c_contiguous and o.flags.aligned
                and o.dtype.isnative
                and not any(i is not None and np.may_share_memory(o, i) for i in inputs)):
            return o.reshape(-1)
    return np.empty(n, dtype=dtype)


VALUE = Call(True, False)
GRAD = Call(False, True)
VALUE_AND_GRAD = Call(True, True)


def loss_buffer(call: Call, code: int, n: int, dtype: np.dtype):
    """The per-sample loss buffer a kernel fills: only for the value with reduction 'none'."""
    return np.empty(n, dtype=dtype) if call.value and code == 0 else None


def finish_value(value: float, per_sample, code: int, shape: tuple, result: np.dtype):
    """The value to return: the per-sample array for reduction 'none', else a NumPy scalar."""
    if code == 0:
        a = per_sample.reshape(shape)
        return a if a.dtype == result else a.astype(result)
    return result.type(value)


def finish_grad(g: np.ndarray, shape: tuple, result: np.dtype) -> np.ndarray:
    a = g.reshape(shape)
    return a if a.dtype == result else a.astype(result)


# --------------------------------------------------------------------------------------------
# entry points


def _out_tuple(out, n_wrt: int) -> tuple | None:
    """``out`` checked and as a tuple of arrays (or None) with one entry per gradient."""
    if out is None:
        return None
    outs = out if isinstance(out, tuple) else (out,)
    if len(outs) != n_wrt:
        raise ValueError(
            f"out must be {'one array' if n_wrt == 1 else f'a tuple of {n_wrt} arrays'} (one "
            f"per gradient); got {len(outs)}"
        )
    for o in outs:
        if not isinstance(o, np.ndarray):
            raise TypeError(
                f"out must be a NumPy array{' (or a tuple of arrays)' if n_wrt > 1 else ''}, "
                f"got {type(o).__name__}"
            )
        if not o.flags.writeable:
            raise ValueError("out must be writeable")
    return outs


def _out_pair(out) -> tuple | None:
    """``out`` of ``grad_hess``: None or a pair of distinct writeable arrays."""
    if out is None:
        return None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(
            "out must be a pair (gradient, hessian) of NumPy arrays; got "
            f"{type(out).__name__}{f' of length {len(out)}' if isinstance(out, tuple) else ''}"
        )
    for o in out:
        if not isinstance(o, np.ndarray):
            raise TypeError(f"out must be a pair of NumPy arrays, got {type(o).__name__}")
        if not o.flags.writeable:
            raise ValueError("out must be writeable")
    if np.may_share_memory(out[0], out[1]):
        raise ValueError("out: the gradient and Hessian arrays must not share memory")
    return out


def _floor(value) -> float | None:
    """``hessian_floor``: None or a real number."""
    if value is None:
        return None
    from ._checks import real_param

    return real_param(value, "hessian_floor")


def _deliver(outs: tuple | None, grad):
    """The gradient(s) to return: the ``out`` arrays (filled) when given."""
    if outs is None:
        return grad
    grads = grad if isinstance(grad, tuple) else (grad,)
    for o, g in zip(outs, grads):
        if not np.may_share_memory(o, g):
            np.copyto(o, g)
    return outs if isinstance(grad, tuple) else outs[0]


# PyTorch / Keras / scikit-learn argument names and what fastloss calls them
_FOREIGN_NAMES = {
    "input": "the first argument", "y_pred": "the first argument",
    "y_true": "the second argument", "labels": "target", "dim": "axis",
    "size_average": "reduction", "reduce": "reduction", "weights": "sample_weight",
}


def _hint(e: TypeError, params: list) -> None:
    msg = str(e)
    for bad, meaning in _FOREIGN_NAMES.items():
        if f"argument '{bad}'" in msg:
            positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
            if meaning in ("reduction", "axis", "sample_weight", "target"):
                use = f"{meaning}="
            else:
                use = "/".join(f"{p}=" for p in positional[:2])
            e.args = (f"{msg} (fastloss uses {use}; positional order "
                      f"{', '.join(positional)})",)
            return


def _name_error(e: Exception, name: str, params: list, binding: bool) -> None:
    """Prefix ``e``'s message with the public function's name (once); hint at the fastloss
    names when a binding error came from a PyTorch/Keras keyword."""
    msg = str(e)
    if binding:
        if isinstance(e, TypeError):
            _hint(e, params)
        return
    if not msg.startswith(f"{name}"):
        e.args = (f"{name}(): {msg}",) + tuple(e.args[1:])


def _exact(name: str, qualname: str, params: list, body: str, namespace: dict,
           extra: str = ""):
    """A function with exactly ``params`` whose body is ``body`` (``{args}`` stands for the
    parameters passed on by name, then ``extra``), so that Python binds and reports arguments
    itself."""
    parts, forward, star = [], [], False
    for i, p in enumerate(params):
        default = ""
        if p.default is not p.empty:
            namespace[f"_d{i}"] = p.default
            default = f"=_d{i}"
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name + default)
        if p.name not in ("out", "hessian_floor"):  # these go into the Call
            forward.append(p.name if p.kind is p.POSITIONAL_OR_KEYWORD else f"{p.name}={p.name}")
    if extra:
        forward.append(extra)
    src = f"def {name}({', '.join(parts)}):\n{body.format(args=', '.join(forward))}\n"
    exec(src, namespace)  # noqa: S102 -- the source is built from a signature, not user input
    fn = namespace[name]
    fn.__qualname__ = qualname
    return fn


# Bodies of the three entry points; locals start with "_" so no parameter name can clash.
_VALUE_BODY = "    return _impl(_VALUE, {args})[0]"
_GRAD_BODY = """\
    _o = _outs(out, _n)
    return _deliver(_o, _impl(_GRAD if _o is None else _Call(False, True, _o), {args})[1])"""
_BOTH_BODY = """\
    _o = _outs(out, _n)
    _v, _g = _impl(_BOTH if _o is None else _Call(True, True, _o), {args})
    return _v, _deliver(_o, _g)"""
_GRAD_HESS_BODY = """\
    _o = _pair(out)
    _c = _Call(False, True, _o, True, _floor(hessian_floor))
    return _deliver(_o, _impl(_c, {args})[1])"""


def _guarded(exact, name: str, params: list):
    """``exact`` behind a wrapper that names the public function in argument errors. It exposes
    ``exact``'s signature (``__wrapped__``), so ``inspect``, ``help()`` and editors see the real
    parameters."""

    def entry(*args, **kwargs):
        try:
            return exact(*args, **kwargs)
        except (TypeError, ValueError) as e:
            # no frame below this one: the arguments did not bind to the signature
            _name_error(e, name, params, binding=e.__traceback__.tb_next is None)
            raise

    entry.__name__ = exact.__name__
    entry.__qualname__ = exact.__qualname__
    entry.__wrapped__ = exact
    return entry


class Loss:
    """A loss function with its fused gradient.

    ``loss(...)`` returns the value; ``loss.grad(...)`` the gradient of that value with respect
    to the prediction (for ``reduction="none"``: of the sum of the per-sample losses);
    ``loss.value_and_grad(...)`` both, from one kernel pass. ``grad`` and ``value_and_grad``
    take ``out=``: an array of the gradient's shape and dtype (a tuple for losses with several
    differentiated inputs) to write the gradient into; it is returned. Losses with a second
    derivative also have ``loss.grad_hess(...)``: the gradient and the Hessian's diagonal of the
    per-sample losses (what gradient boosting asks for), from one kernel pass.
    """

    def __init__(self, impl, *, wrt: tuple | None = None, hessian: bool = False):
        sig = inspect.signature(impl)
        params = list(sig.parameters.values())[1:]  # drop the Call
        name = impl.__name__
        self.__name__ = self.__qualname__ = name
        self.__module__ = "fastloss"
        self.__doc__ = impl.__doc__
        self.__signature__ = inspect.Signature(params)
        self.wrt = tuple(wrt) if wrt else (params[0].name,)
        self._impl = impl
        n_wrt = len(self.wrt)
        grad_params = params + [inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY,
                                                  default=None)]
        ns = {"_impl": impl, "_VALUE": VALUE, "_GRAD": GRAD, "_BOTH": VALUE_AND_GRAD,
              "_Call": Call, "_outs": _out_tuple, "_deliver": _deliver, "_n": n_wrt}
        exact_value = _exact(name, name, params, _VALUE_BODY, dict(ns))
        exact_grad = _exact("grad", f"{name}.grad", grad_params, _GRAD_BODY, dict(ns))
        exact_both = _exact("value_and_grad", f"{name}.value_and_grad", grad_params,
                            _BOTH_BODY, dict(ns))
        self._value = exact_value
        self._params = params
        self.grad = _guarded(exact_grad, name, grad_params)
        self.grad.__doc__ = (
            f"Gradient of :func:`fastloss.{name}` with respect to ``{self.wrt[0]}``"
            + (f" (a tuple: one array per {', '.join(self.wrt)})" if n_wrt > 1 else "")
            + ", of the reduced value (``reduction='none'``: of the sum of the per-sample "
            "losses). Same parameters as the loss, plus ``out``: an array of the gradient's "
            "shape and dtype to write it into (returned), which may be the prediction itself.")
        self.value_and_grad = _guarded(exact_both, name, grad_params)
        self.value_and_grad.__doc__ = (
            f"``(value, gradient)`` of :func:`fastloss.{name}` from one kernel pass; "
            "parameters and ``out`` as for ``grad``.")
        if hessian:
            self._add_grad_hess(impl, name, params, ns)

    def _add_grad_hess(self, impl, name: str, params: list, ns: dict) -> None:
        """``grad_hess``: the loss's parameters without ``reduction`` (the per-sample losses
        are differentiated), plus ``hessian_floor`` and ``out``."""
        names = [p.name for p in params]
        if "reduction" not in names or len(self.wrt) != 1:
            raise TypeError(f"{name}: grad_hess needs a 'reduction' parameter and one input")
        kw = inspect.Parameter.KEYWORD_ONLY
        gh_params = [p for p in params if p.name != "reduction"] + [
            inspect.Parameter("hessian_floor", kw, default=None),
            inspect.Parameter("out", kw, default=None)]
        ns = dict(ns, _pair=_out_pair, _floor=_floor)
        exact = _exact("grad_hess", f"{name}.grad_hess", gh_params, _GRAD_HESS_BODY, ns,
                       extra="reduction='none'")
        self.grad_hess = _guarded(exact, name, gh_params)
        self.grad_hess.__doc__ = (
            f"``(gradient, hessian)`` of the per-sample losses of :func:`fastloss.{name}` "
            f"with respect to ``{self.wrt[0]}``, from one kernel pass: each has "
            f"``{self.wrt[0]}``'s shape and dtype and is multiplied by ``sample_weight``; the "
            "Hessian is its diagonal (the second derivative of each sample's loss w.r.t. its "
            "own entries; where that is 0 or undefined the loss's documented convention). This "
            "is what gradient-boosting libraries take from a custom objective. Same parameters "
            "as the loss without ``reduction``, plus ``hessian_floor`` (None or a number: each "
            "second derivative is raised to at least this before the sample weight multiplies "
            "it, to keep Newton steps finite) and ``out``: a pair ``(g, h)`` of arrays to write "
            "into (returned).")

    def __call__(self, *args, **kwargs):
        try:
            return self._value(*args, **kwargs)
        except (TypeError, ValueError) as e:
            _name_error(e, self.__name__, self._params, binding=e.__traceback__.tb_next is None)
            raise

    def __reduce__(self):
        # pickled by name (dask and multiprocessing send losses to workers)
        return self.__name__

    def __repr__(self) -> str:
        return f"<fastloss loss {self.__name__}{self.__signature__}>"


def loss(impl=None, *, wrt: tuple | None = None, hessian: bool = False):
    """Decorator: ``@loss`` or ``@loss(wrt=("a", "b"))`` turns an implementation into a
    :class:`Loss` (``wrt`` names the differentiated inputs; the first parameter by default).
    ``hessian=True`` adds ``grad_hess``: the implementation then honours ``call.hess``."""
    if impl is None:
        return lambda f: Loss(f, wrt=wrt, hessian=hessian)
    return Loss(impl, wrt=wrt, hessian=hessian)
