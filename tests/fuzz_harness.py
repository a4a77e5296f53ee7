"""A fuzz harness for the public API, driven by hypothesis (used by tests/test_fuzz.py and
tools/fuzz.py).

Each example starts from a valid call of one registered loss variant (``_registry.CASES``) or one
of the row-wise functions (softmax, log_softmax, logsumexp and their ``.vjp``) and mutates it:
arguments replaced by arbitrary arrays (bool, integer, float16/32/64, complex, object, strings;
any shape including 0-size; NaN, inf, huge and out-of-range values; byte-swapped, masked,
memoryview, read-only and unaligned storage), wrong-shape or wrong-dtype
``out=`` arrays (pairs for ``grad_hess``), keywords set to arbitrary values (``hessian_floor``
too), unknown keywords, other reductions. The
contract: every call returns a result or raises ``ValueError`` or ``TypeError``; anything else
(another exception, a crash, a hang) is a bug.
"""

from __future__ import annotations

import inspect

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss as fl
from fastloss._registry import CASES

ALLOWED = (ValueError, TypeError)

DTYPES = [np.bool_, np.int8, np.int32, np.int64, np.uint8, np.uint64, np.float16, np.float32,
          np.float64, np.complex64, np.complex128]

SPECIAL_FLOATS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300, 1e-45, 5e-324, 1e4, -1e4,
                  0.5, 1.0, -1.0, 2.0, 100.0, -100.0]
SPECIAL_INTS = [-(2**63), 2**63 - 1, -101, -100, -1, 0, 1, 2, 3, 7, 1000, 2**31, 2**62]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(SPECIAL_FLOATS),
    st.sampled_from(SPECIAL_INTS), st.text(max_size=5), st.complex_numbers(),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64, np.int64(-1), np.float32(np.nan)]),
    st.just(()), st.just([]), st.just([1, 2]), st.just(object()),
)

ROWWISE = [fl.softmax, fl.log_softmax, fl.logsumexp]


def _arbitrary_array(draw):
    kind = draw(st.integers(0, 9))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    if kind == 0:  # object arrays: numbers, None, strings
        elems = draw(st.lists(st.one_of(st.none(), st.floats(), st.integers(), st.text(max_size=2)),
                              min_size=0, max_size=6))
        a = np.empty(len(elems), dtype=object)
        a[:] = elems
        return a
    if kind == 1:
        return np.array(draw(st.lists(st.text(max_size=3), max_size=4)), dtype=str)
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    return draw(hnp.arrays(dtype, shape))


def _storage_variant(draw, a: np.ndarray):
    """The same values in another storage: byte-swapped, masked, a memoryview, read-only,
    unaligned (a view into a byte buffer at an odd offset)."""
    op = draw(st.integers(0, 4))
    if op == 0 and a.dtype.kind in "biufc":
        return a.astype(a.dtype.newbyteorder())
    if op == 1:
        mask = draw(hnp.arrays(np.bool_, a.shape)) if a.size else False
        return np.ma.masked_array(a, mask=mask)
    if op == 2 and a.dtype.kind in "biuf" and a.ndim:
        return memoryview(np.ascontiguousarray(a))
    if op == 3:
        b = a.copy()
        b.flags.writeable = False
        return b
    if a.dtype.kind in "biuf" and a.ndim and a.itemsize > 1:
        raw = np.empty(a.nbytes + 1, dtype=np.uint8)
        b = raw[1:].view(a.dtype).reshape(a.shape)
        b[...] = a
        return b
    return a


def _mutate_array(draw, a):
    """A variant of a valid argument: recast, reshaped, sliced, transposed, with special values,
    or the same values in another storage (byte order, mask, memoryview, read-only, unaligned)."""
    a = np.asarray(a)
    op = draw(st.integers(0, 8))
    if op == 8:
        return _storage_variant(draw, a)
    if op == 0:
        if a.dtype.kind not in "biufc":
            return a
        with np.errstate(all="ignore"):
            return a.astype(draw(st.sampled_from(DTYPES)), copy=True)
    if op == 1 and a.size:  # special values at random places
        b = a.astype(np.float64) if a.dtype.kind in "fc" else a.copy()
        if b.dtype.kind not in "fiu":
            return b
        flat = b.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, flat.size - 1))
            if b.dtype.kind == "f":
                flat[i] = draw(st.sampled_from(SPECIAL_FLOATS))
            else:
                v = draw(st.sampled_from(SPECIAL_INTS))
                info = np.iinfo(b.dtype)
                flat[i] = min(max(v, info.min), info.max)
        with np.errstate(all="ignore"):
            return b.astype(a.dtype)
    if op == 2 and a.ndim:  # drop or add a dimension / element
        if draw(st.booleans()):
            return a[..., : max(0, a.shape[-1] - draw(st.integers(1, 2)))]
        return a[..., None]
    if op == 3 and a.ndim >= 2:
        return a.swapaxes(0, -1)
    if op == 4:
        return a.reshape(-1)
    if op == 5 and a.ndim:
        return a[::-1]
    if op == 6:
        return a.tolist()
    return a[()] if a.ndim == 0 else a.reshape((1,) + a.shape)


def _value(draw, valid):
    """An argument: the valid one, a mutation of it, an arbitrary array or scalar."""
    choice = draw(st.integers(2, 9))
    if choice <= 7 and isinstance(valid, np.ndarray):
        return _mutate_array(draw, valid)
    if choice == 8:
        return _arbitrary_array(draw)
    return draw(SCALARS)


def _kw_value(draw, name, valid):
    if name == "reduction":
        return draw(st.sampled_from(["none", "sum", "mean", "batchmean", "average", "", None, 1,
                                     "MEAN"]))
    if valid is not None and not isinstance(valid, np.ndarray) and draw(st.booleans()):
        return valid
    if isinstance(valid, np.ndarray) and draw(st.integers(0, 2)) == 0:
        return _mutate_array(draw, valid)
    if draw(st.booleans()):
        return _arbitrary_array(draw)
    return draw(SCALARS)


def _small_shape(draw, shape):
    """The case's default shape with some dimensions changed (0, 1 or small)."""
    return tuple(d if draw(st.integers(0, 2)) else draw(st.integers(0, 4)) for d in shape)


def _base_call(draw, case):
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sw = case.sample_weight and draw(st.booleans())
    shape = _small_shape(draw, case.shape) if draw(st.booleans()) else case.shape
    try:
        args, kw = case.make(rng, dtype, shape, sw)
    except Exception:  # noqa: BLE001 - the generator itself cannot make that shape (e.g. 0 classes)
        args, kw = case.make(rng, dtype, case.shape, sw)
    return list(args), dict(kw)


def _out(draw, case, args):
    """An out= value: right, wrong shape/dtype, non-array, the prediction itself, a tuple."""
    choice = draw(st.integers(0, 5))
    ref = [np.asarray(args[k]) if k < len(args) and isinstance(args[k], np.ndarray)
           else np.zeros(3) for k in case.grad_args]
    if choice == 0:
        outs = [np.empty_like(r) for r in ref]
    elif choice == 1:
        outs = [np.empty(r.shape, dtype=draw(st.sampled_from(DTYPES))) for r in ref]
    elif choice == 2:
        outs = [np.empty(_small_shape(draw, r.shape) + ((1,) if draw(st.booleans()) else ()))
                for r in ref]
    elif choice == 3:
        return args[0] if args else None  # in-place (no arguments left: no out=)
    elif choice == 4:
        o = np.empty_like(ref[0])
        o.flags.writeable = False
        outs = [o] * len(ref)
    else:
        return draw(SCALARS)
    if draw(st.integers(0, 4)) == 0:  # the wrong number of arrays
        outs = outs[:-1] if len(outs) > 1 else outs * 2
    return tuple(outs) if len(outs) > 1 else outs[0]


@st.composite
def loss_calls(draw):
    """(description, thunk): one call of the public API on possibly bad input."""
    if draw(st.integers(0, 5)) == 0:
        return draw(rowwise_calls())
    case = draw(st.sampled_from(CASES))
    args, kw = _base_call(draw, case)
    if "reduction" not in kw and draw(st.booleans()):
        kw["reduction"] = draw(st.sampled_from(case.reductions))
    params = [p for p in inspect.signature(case.loss).parameters.values()
              if p.kind == p.KEYWORD_ONLY]
    # a few mutations (none in about one call in five, so valid calls on odd shapes and values
    # run too): a positional argument, a keyword, the arity, an unknown keyword
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))):
        what = draw(st.integers(0, 19))
        if what < 10 and args:
            i = draw(st.integers(0, len(args) - 1))
            args[i] = _value(draw, args[i])
        elif what < 18 and params:
            p = draw(st.sampled_from(params))
            kw[p.name] = _kw_value(draw, p.name, kw.get(p.name, p.default))
        elif what == 18:
            args = args[:-1] if draw(st.booleans()) else args + args[-1:]
        else:
            kw["no_such_keyword"] = 1
    methods = ["call", "grad", "value_and_grad"]
    if hasattr(case.loss, "grad_hess"):
        methods.append("grad_hess")
    method = draw(st.sampled_from(methods))
    fn = case.loss if method == "call" else getattr(case.loss, method)
    if method == "grad_hess":  # no reduction (mostly), a floor, a pair of out arrays
        if draw(st.integers(0, 5)):
            kw.pop("reduction", None)
        if draw(st.booleans()):
            kw["hessian_floor"] = _kw_value(draw, "hessian_floor", 1e-3)
        if draw(st.integers(0, 3)) == 0:
            kw["out"] = (_out(draw, case, args) if draw(st.integers(0, 3)) == 0
                         else (_out(draw, case, args), _out(draw, case, args)))
    elif method != "call" and draw(st.integers(0, 3)) == 0:
        kw["out"] = _out(draw, case, args)
    desc = f"{case.id}.{method}"
    if draw(st.integers(0, 19)) == 0:  # with an arbitrary thread count set (and reset)
        n = draw(st.one_of(st.integers(-3, 8), SCALARS))

        def with_threads():
            try:
                fl.set_num_threads(n)
                return fn(*args, **kw)
            finally:
                fl.set_num_threads(None)
        return f"set_num_threads({n!r}) + {desc}", with_threads
    return desc, lambda: fn(*args, **kw)


@st.composite
def rowwise_calls(draw):
    f = draw(st.sampled_from(ROWWISE))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape).astype(dtype)
    x = _value(draw, x)
    kw = {}
    if draw(st.booleans()):
        kw["axis"] = draw(st.one_of(st.integers(-5, 5), SCALARS))
    if draw(st.booleans()):
        kw["temperature"] = draw(st.one_of(st.sampled_from(SPECIAL_FLOATS), SCALARS))
    method = draw(st.sampled_from(["call", "vjp"] + (["grad", "value_and_grad"]
                                                     if f is fl.logsumexp else [])))
    if method == "vjp":
        cot = np.asarray(x if isinstance(x, np.ndarray) else np.zeros(3))
        if f is fl.logsumexp and cot.ndim:
            ax = kw.get("axis", -1)
            try:
                cot = cot.sum(axis=ax)
            except Exception:  # noqa: BLE001 - the axis is arbitrary; keep the cotangent as is
                pass
        cot = _value(draw, cot)
        return f"{f.__name__}.vjp", lambda: f.vjp(x, cot, **kw)
    fn = f if method == "call" else getattr(f, method)
    return f"{f.__name__}.{method}", lambda: fn(x, **kw)


def check_call(desc, thunk):
    """Run one call; return None when it behaved (result or ValueError/TypeError), else an
    error message."""
    try:
        thunk()
    except ALLOWED:
        return None
    except Exception as e:  # noqa: BLE001 - the point: anything else is a finding
        return f"{desc}: {type(e).__name__}: {e}"
    return None


def run_for(seconds: float, batch: int = 500, seed: int | None = None, max_findings: int = 50):
    """Fuzz for about ``seconds``: batches of ``batch`` hypothesis examples until the time is up.
    Returns ``(iterations, findings)``, findings a list of distinct messages (first of each
    kind). Random (not derandomised) unless ``seed`` is given."""
    import time
    import warnings

    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hyp_seed

    count = [0]
    findings: dict = {}
    deadline = time.monotonic() + seconds

    @settings(max_examples=batch, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(loss_calls())
    def one(call):
        if time.monotonic() > deadline or len(findings) >= max_findings:
            return
        count[0] += 1
        msg = check_call(*call)
        if msg is not None:
            findings.setdefault(msg.split(":", 2)[:2].__repr__(), msg)

    k = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        while time.monotonic() < deadline and len(findings) < max_findings:
            fn = hyp_seed(seed + k)(one) if seed is not None else one
            fn()
            k += 1
    return count[0], list(findings.values())
