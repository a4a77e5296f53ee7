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
from typing import Any

import numpy as np

from . import _kernels


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
                    direct: bool = True, inplace: np.ndarray | None = None):
        """A flat buffer for gradient ``k`` (of ``shape``, computed in ``dtype``, returned in
        ``result``), or None when the gradient is not wanted.

        With ``out=`` the caller's array is checked here, before any kernel runs, and used
        directly when the kernel can write into it: ``direct`` (the kernel's layout is the
        gradient's layout), C-contiguous, aligned, the compute dtype, and sharing no memory with
        any of the kernel's ``inputs`` - except ``inplace``, the one input the kernel may
        overwrite element for element, when ``out`` is exactly its buffer (an in-place
        gradient). Otherwise a fresh array is returned and :class:`Loss` copies it into ``out``
        at the end."""
        if not self.grad:
            return None
        o = self.out[k] if self.out is not None else None
        return _buffer(o, "gradient", shape, dtype, result, inputs, direct, inplace)

    def hess_buffer(self, shape: tuple, dtype: np.dtype, result: np.dtype, *inputs,
                    direct: bool = True):
        """A flat buffer for the second derivatives (``out[1]`` of ``grad_hess`` when given,
        under the rules of :meth:`grad_buffer`), or None when they are not wanted. ``inputs``
        should include the gradient buffer."""
        if not self.hess:
            return None
        o = self.out[1] if self.out is not None else None
        return _buffer(o, "Hessian", shape, dtype, result, inputs, direct)


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.nbytes == b.nbytes)


def _buffer(o, what: str, shape: tuple, dtype: np.dtype, result: np.dtype, inputs: tuple,
            direct: bool, inplace=None):
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
                and not any(i is not None and np.may_share_memory(o, i)
                            and not (i is inplace and _same_buffer(o, i)) for i in inputs)):
            return o.reshape(-1)
    return _kernels.result_array(n, dtype)


VALUE = Call(True, False)
GRAD = Call(False, True)
VALUE_AND_GRAD = Call(True, True)


def loss_buffer(call: Call, code: int, n: int, dtype: np.dtype):
    """The per-sample loss buffer a kernel fills: only for the value with reduction 'none'."""
    return _kernels.result_array(n, dtype) if call.value and code == 0 else None


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


_MISSING = object()  # the default of required parameters in the generated entry points


def binding_error(qualname: str, params: list, given: dict, extra: tuple, unexpected: dict):
    """The TypeError Python would raise for arguments that do not bind - an unknown keyword
    first, with a hint when it is a PyTorch, Keras or scikit-learn name."""
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    if unexpected:
        bad = next(iter(unexpected))
        msg = f"{qualname}() got an unexpected keyword argument '{bad}'"
        meaning = _FOREIGN_NAMES.get(bad)
        if meaning is not None:
            if meaning in ("reduction", "axis", "sample_weight", "target"):
                use = f"{meaning}="
            else:
                use = "/".join(f"{p}=" for p in positional[:2])
            msg += f" (fastloss uses {use}; positional order {', '.join(positional)})"
        return TypeError(msg)
    missing = [name for name, value in given.items() if value is _MISSING]
    if missing:
        names = " and ".join(", ".join(f"'{m}'" for m in missing).rsplit(", ", 1))
        s = "s" if len(missing) > 1 else ""
        return TypeError(f"{qualname}() missing {len(missing)} required positional argument{s}: "
                         f"{names}")
    n = len(positional)
    return TypeError(f"{qualname}() takes {n} positional argument{'s' if n != 1 else ''} but "
                     f"{n + len(extra)} were given")


def name_error(e: Exception, name: str) -> None:
    """Prefix ``e``'s message with the public function's name, once."""
    msg = str(e)
    if not msg.startswith(name):
        e.args = (f"{name}(): {msg}",) + tuple(e.args[1:])


# The body shared by the entry points: the front door first (a Cython function that runs the
# common small call and returns None for anything else), then the general path. Locals start
# with "_" so that no parameter name can clash.
_BODY = """\
def {name}({params}, **_unexpected):
    if _extra or _unexpected{required}:
        raise _binding_error({qualname!r}, _params, {{{given}}}, _extra, _unexpected)
    try:
{door}{general}
    except (TypeError, ValueError) as _e:
        _name_error(_e, {loss!r})
        raise
"""
_DOOR = """\
        _r = _fast({lead}{mode}, {out}, {pargs})
        if _r is not None:
            return _r
"""
_GENERAL = {
    "value": "        return _impl(_VALUE, {args})[0]",
    "grad": """\
        _o = _outs(out, _n)
        return _deliver(_o, _impl(_GRAD if _o is None else _Call(False, True, _o), {args})[1])""",
    "value_and_grad": """\
        _o = _outs(out, _n)
        _v, _g = _impl(_BOTH if _o is None else _Call(True, True, _o), {args})
        return _v, _deliver(_o, _g)""",
    # the per-sample losses are differentiated: reduction "none" (gradients not scaled)
    "grad_hess": """\
        _o = _pair(out)
        _c = _Call(False, True, _o, True, _floor(hessian_floor))
        return _deliver(_o, _impl(_c, {args}, reduction="none")[1])""",
}
_MODES = {"value": 0, "grad": 1, "value_and_grad": 2}


def _entry(kind: str, loss: str, params: list, namespace: dict, fast):
    """An entry point taking exactly ``params``, whose ``__signature__`` shows them. Required
    parameters get a sentinel default and extra positional or keyword arguments are collected,
    so that one cheap test finds any binding problem and reports it as Python would, plus a
    hint for foreign keyword names (``input=`` is the PyTorch name of ``logits``)."""
    parts, forward, positional, required, star = [], [], [], [], False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*_extra")
            star = True
        if p.default is p.empty:
            parts.append(f"{p.name}=_MISSING")
            required.append(p.name)
        else:
            namespace[f"_d{i}"] = p.default
            parts.append(f"{p.name}=_d{i}")
        if p.name not in ("out", "hessian_floor"):  # these go into the Call
            forward.append(p.name if p.kind is p.POSITIONAL_OR_KEYWORD else f"{p.name}={p.name}")
            positional.append(p.name)
    if not star:
        parts.append("*_extra")
    qualname = loss if kind == "value" else f"{loss}.{kind}"
    door = ""
    if fast is not None and kind != "grad_hess":
        fn, lead = fast
        namespace["_fast"] = fn
        names = []
        for j, value in enumerate(lead):
            namespace[f"_lead{j}"] = value
            names.append(f"_lead{j}, ")
        door = _DOOR.format(lead="".join(names), mode=_MODES[kind],
                            out="None" if kind == "value" else "out",
                            pargs=", ".join(positional))
    namespace["_MISSING"] = _MISSING
    namespace["_params"] = params
    src = _BODY.format(name=kind, params=", ".join(parts), qualname=qualname, loss=loss,
                       required="".join(f" or {r} is _MISSING" for r in required),
                       given=", ".join(f"{r!r}: {r}" for r in required),
                       door=door, general=_GENERAL[kind].format(args=", ".join(forward)))
    exec(src, namespace)  # noqa: S102 -- the source is built from a signature, not user input
    fn = namespace[kind]
    fn.__name__ = loss if kind == "value" else kind
    fn.__qualname__ = qualname
    fn.__signature__ = inspect.Signature(params)
    fn.__annotations__ = {p.name: p.annotation for p in params if p.annotation is not p.empty}
    return fn


class Loss:
    r"""A loss function with its fused gradient: one callable object per loss.

    ``loss(*args, **kwargs)`` returns the value; ``loss.grad(*args, **kwargs, out=None)`` the
    gradient of that value with respect to the differentiated input(s) (``wrt``; for
    ``reduction="none"``: of the sum of the per-sample losses); ``loss.value_and_grad(...)``
    both, from one kernel pass. All three have exactly the loss's public signature (``grad`` and
    ``value_and_grad`` add ``out``), which ``inspect.signature``, ``help()`` and editors show.
    Every loss in fastloss is a ``Loss``, made by decorating an implementation with
    ``fastloss._loss.loss``; the implementation receives a :class:`fastloss._loss.Call` (value
    and/or gradient wanted, ``out`` buffers) as its first argument, explicitly, never through
    global state.

    Parameters
    ----------
    impl : callable
        ``impl(call, *args, **kwargs) -> (value, grad)``: the implementation. Its parameters after
        ``call`` are the loss's public parameters; its docstring becomes the loss's.
    wrt : tuple of str, optional
        The names of the differentiated inputs; the first parameter by default. With several,
        ``grad`` returns a tuple with one gradient per name and ``out`` must be a tuple.
    fast : tuple, optional
        ``(door, lead)``: a front-door function of ``fastloss._kernels`` and its leading
        arguments, called first as ``door(*lead, mode, out, <the loss's parameters>)``; it runs
        the common small call in Cython and returns None for anything else.
    hessian : bool, default False
        Add ``grad_hess``: the gradient and the Hessian's diagonal of the per-sample losses
        (what gradient boosting takes); the implementation then honours ``call.hess``.

    Returns
    -------
    value : numpy scalar or ndarray
        What calling the loss returns: a NumPy scalar of the prediction's dtype for a reducing
        ``reduction``, the per-sample array for ``reduction="none"``.
    grad : ndarray or tuple of ndarray
        What ``.grad`` returns: the gradient, of the differentiated input's shape and dtype. With
        ``out=`` the gradient is written into ``out`` (an array of that shape and dtype; a tuple
        of arrays for several inputs), which is returned; ``out`` may be the input itself (an
        in-place update).
    value_and_grad : tuple
        What ``.value_and_grad`` returns: ``(value, grad)`` from one kernel pass.

    Raises
    ------
    TypeError
        The arguments do not bind to the signature (a PyTorch or Keras keyword such as
        ``input=`` or ``y_true=`` gets a hint naming the fastloss parameter), an argument has the
        wrong type, or ``out`` is not an array (or tuple of arrays).
    ValueError
        An argument has the wrong value; ``out`` has the wrong shape, dtype or count, or is
        read-only. Messages start with the loss's name, e.g. ``huber():``, and name the
        argument.

    See Also
    --------
    set_num_threads : The thread count every kernel call uses.
    torch.autograd.grad : What ``.grad`` replaces for these losses: no graph, no tensors.
    jax.value_and_grad : The functional transformation ``.value_and_grad`` corresponds to.

    Notes
    -----
    Each loss is an instance of its own ``Loss`` subclass, whose ``__call__`` is the loss's
    generated entry point itself: no extra Python frame per call.

    Examples
    --------
    >>> import inspect
    >>> import numpy as np
    >>> import fastloss as fl
    >>> isinstance(fl.huber, fl.Loss)
    True
    >>> list(inspect.signature(fl.huber.grad).parameters)
    ['pred', 'target', 'delta', 'reduction', 'sample_weight', 'out']
    >>> pred, target = np.array([0.5, -3.0]), np.zeros(2)
    >>> buf = np.empty(2)
    >>> value, grad = fl.huber.value_and_grad(pred, target, out=buf)
    >>> grad is buf
    True
    >>> print(f"{value:.4f}", buf)
    1.3125 [ 0.25 -0.5 ]
    >>> fl.huber(input=pred, target=target)
    Traceback (most recent call last):
        ...
    TypeError: huber() got an unexpected keyword argument 'input' ...
    """

    # built per loss with the loss's exact signature (the .pyi stubs type each loss precisely)
    grad: Any
    value_and_grad: Any
    wrt: tuple[str, ...]

    def __init__(self, impl: Any, *, wrt: tuple[str, ...] | None = None,
                 fast: tuple | None = None, hessian: bool = False) -> None:
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
        out_type = "NDArray[Any] | None" if n_wrt == 1 else "tuple | None"
        grad_params = params + [inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY,
                                                  default=None, annotation=out_type)]
        ns = {"_impl": impl, "_VALUE": VALUE, "_GRAD": GRAD, "_BOTH": VALUE_AND_GRAD,
              "_Call": Call, "_outs": _out_tuple, "_deliver": _deliver, "_n": n_wrt,
              "_binding_error": binding_error, "_name_error": name_error,
              "_pair": _out_pair, "_floor": _floor}
        value = _entry("value", name, params, dict(ns), fast)
        self.__class__ = type(f"{name}_loss", (Loss,), {"__call__": staticmethod(value),
                                                         "__module__": __name__})
        self.grad = _entry("grad", name, grad_params, dict(ns), fast)
        self.grad.__doc__ = (
            f"Gradient of :func:`fastloss.{name}` with respect to ``{self.wrt[0]}``"
            + (f" (a tuple: one array per {', '.join(self.wrt)})" if n_wrt > 1 else "")
            + ", of the reduced value (``reduction='none'``: of the sum of the per-sample "
            "losses). Same parameters as the loss, plus ``out``: an array of the gradient's "
            "shape and dtype to write it into (returned), which may be the prediction itself.")
        self.value_and_grad = _entry("value_and_grad", name, grad_params, dict(ns), fast)
        self.value_and_grad.__doc__ = (
            f"``(value, gradient)`` of :func:`fastloss.{name}` from one kernel pass; "
            "parameters and ``out`` as for ``grad``.")
        if hessian:
            self._add_grad_hess(name, params, ns)

    def _add_grad_hess(self, name: str, params: list, ns: dict) -> None:
        """``grad_hess``: the loss's parameters without ``reduction`` (the per-sample losses
        are differentiated), plus ``hessian_floor`` and ``out``."""
        if "reduction" not in [p.name for p in params] or len(self.wrt) != 1:
            raise TypeError(f"{name}: grad_hess needs a 'reduction' parameter and one input")
        kw = inspect.Parameter.KEYWORD_ONLY
        gh_params = [p for p in params if p.name != "reduction"] + [
            inspect.Parameter("hessian_floor", kw, default=None, annotation="float | None"),
            inspect.Parameter("out", kw, default=None,
                              annotation="tuple[NDArray[Any], NDArray[Any]] | None")]
        self.grad_hess = _entry("grad_hess", name, gh_params, dict(ns), None)
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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # replaced per loss in __init__
        raise NotImplementedError

    def __reduce__(self) -> str:
        # pickled by name (dask and multiprocessing send losses to workers)
        return self.__name__

    def __repr__(self) -> str:
        return f"<fastloss loss {self.__name__}{self.__signature__}>"


def loss(impl: Any = None, *, wrt: tuple[str, ...] | None = None,
         fast: tuple | None = None, hessian: bool = False) -> Any:
    """Decorator: ``@loss`` or ``@loss(wrt=("a", "b"), fast=(door, lead))`` turns an
    implementation into a :class:`Loss`. ``wrt`` names the differentiated inputs (the first
    parameter by default); ``fast`` is a front-door function of fastloss._kernels with its
    leading arguments, called as ``door(*lead, mode, out, <the loss's parameters>)``;
    ``hessian=True`` adds ``grad_hess``: the implementation then honours ``call.hess``."""
    if impl is None:
        return lambda f: Loss(f, wrt=wrt, fast=fast, hessian=hessian)
    return Loss(impl, wrt=wrt, fast=fast, hessian=hessian)
