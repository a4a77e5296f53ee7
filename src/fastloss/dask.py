"""Every fastloss loss over Dask arrays: lazy, block by block, deterministic.

``fastloss.dask`` has the same names and signatures as :mod:`fastloss` (the signatures are
taken from the in-memory objects, so they cannot drift); the arrays may be Dask arrays or
anything NumPy accepts (NumPy inputs are wrapped with ``da.from_array``)::

    import fastloss.dask as fld
    value, grad = fld.cross_entropy.value_and_grad(logits, labels)   # lazy
    value, grad_norm = dask.compute(value, (grad ** 2).sum() ** 0.5)

Each loss ``fld.<name>`` is a :class:`DaskLoss`: ``fld.mse(...)`` is the value, a lazy 0-d Dask
array (for ``reduction="none"`` a lazy per-sample array chunked like the prediction);
``fld.mse.grad(...)`` the gradient, a Dask array chunked like the prediction;
``fld.mse.value_and_grad(...)`` both, from **one kernel pass per block** when they are computed
together (``dask.compute(value, grad)``; computing them one after the other runs the graph
twice, as for any Dask collection). A loss whose in-memory object has ``grad_hess`` gets
``fld.<name>.grad_hess`` mapped the same way. ``softmax``, ``log_softmax`` and ``logsumexp``
are row functions (:class:`DaskRowFunction`) mapped over the blocks.

**How a loss is evaluated.** Every block calls the public in-memory loss once
(``fastloss.<name>.value_and_grad`` with ``reduction="sum"`` or ``"none"``) and returns its
partial sums and its gradient block. The partial sums are combined by a tree reduction that is
*exact* (non-overlapping partials, as :func:`math.fsum`), so the combined value is the correctly
rounded sum of the block partials whatever the tree's shape or the order in which blocks finish.
``"mean"`` denominators (the sum of ``sample_weight``; the class-weighted count of non-ignored
labels for ``cross_entropy``; the batch size for ``kl_div``'s ``"batchmean"``; the positive
anchors for ``ssd_multibox``; ...) come from the labels and weights alone, never from an extra
pass over the predictions. For a gradient they are computed first, in a small graph of their own
that reads a clone of the labels/weights (so no block waits in memory for them), and every
kernel task receives the global scale: the gradient blocks leave the kernel already scaled and
can be consumed (by a matrix product, a norm, a store to Zarr) as they are produced. Memory
therefore stays at a few blocks per worker however large the array. (Class-axis losses and dice
take the scale through their per-sample weights, so no pass over the gradient is added; the
value returned by ``value_and_grad`` is then the sum of scaled partials and may differ from the
value alone in the last bit.)

**Chunking rules.**

- **Elementwise losses** (mse, mae, rmse, msle, huber, smooth_l1, log_cosh, the binary losses,
  kl_div, gan_generator, gan_discriminator): any chunking. ``target``, ``sample_weight``,
  ``weight`` and ``pos_weight`` are rechunked to the prediction's chunks (broadcast axes stay
  one chunk of length 1, so a ``(C,)`` weight is not materialised).
- **Class-axis losses** (cross_entropy, multi_margin, distillation) and the row functions: the
  class axis (``axis``) must be one chunk. A prediction chunked along it is rechunked
  (``{axis: -1}``) with a :class:`dask.array.PerformanceWarning`; chunk the classes whole
  yourself to avoid the shuffle. Every other axis may be chunked freely.
- **dice**: the class axis must be one chunk (rechunked with a warning, as above); the batch
  axes before it chunk freely; chunked spatial axes (after it) make a two-phase graph: per-block
  per-(sample, class) sums of ``p*t``, ``p`` and ``t`` are combined, then each block's gradient
  is formed from the combined sums (a second read of the prediction).
- **ctc and ssd_multibox** chunk along the batch only: the other axes are rechunked whole with
  a warning. Concatenated 1-D ``ctc`` targets go whole to every block (they are small); padded
  ``(N, S)`` targets chunk with the batch.
- **rmse**'s gradient depends on the global value, so ``rmse.grad`` reads the data twice (the
  value from a clone of the inputs, then the scaled mse gradient per block).

**Determinism.** For a given chunking, values and gradients are bit-identical across runs,
thread counts, worker counts and schedulers (threaded, processes, ``distributed``): each block's
kernel is itself deterministic for any thread count, the work inside a block never depends on
where it runs, and the partial sums are combined exactly (so neither the reduction tree's shape
nor the order in which blocks finish matters). Across chunkings the results agree with the
in-memory call to a few units in the last place: the tests hold them to 1e-12 relative in
float64 and 1e-6 in float32. (Two things differ from one in-memory call: each block's float32
sum is rounded to float32 by the public loss before the exact combination, and a kernel may
round an element in its vectorised body and in its scalar tail differently, so moving a block
boundary can move the last bit of some elements.)

**What moves between workers.** Only the partial sums (a few floats per block), the denominators
and scale factors (one float each), and the gradient blocks to wherever the caller consumes
them. Predictions stay where they are produced; labels and weights are read twice when a
``"mean"`` gradient needs their total (once for the denominator, once by the kernel). See the
scale-out guide (``docs/scale_out.rst``)."""

from __future__ import annotations

import inspect
import math
import operator
import sys
import warnings

import dask.array as da
import numpy as np
from dask.array.core import PerformanceWarning
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph, MaterializedLayer

import fastloss as _fl

__all__ = [
    "DaskLoss",
    "DaskRowFunction",
    # regression
    "gamma", "gaussian_nll", "huber", "log_cosh", "mae", "mse", "msle", "pinball", "poisson",
    "poisson_nll", "rmse", "smooth_l1", "tweedie",
    # binary
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "focal", "gan_discriminator",
    "gan_generator", "hinge", "squared_hinge",
    # multiclass
    "cross_entropy", "distillation", "kl_div", "log_softmax", "logsumexp", "multi_margin",
    "softmax",
    # segmentation, sequence, detection
    "dice", "ctc", "ssd_multibox",
]

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

# Tree reductions combine this many children per task; the result does not depend on it (the
# combination is exact), only the number of tasks does.
SPLIT_EVERY = 32

# Scheduler priority of the denominator subgraphs (the clones of labels and weights and their
# sums): the kernels wait for them, so whatever feeds a kernel must not be loaded before them.
# ``distributed`` honours it; the local schedulers order by the graph alone.
DENOMINATOR_PRIORITY = 100


# ============================================================================================
# exact sums: Shewchuk's non-overlapping partials (the algorithm of math.fsum), so combining
# block partials in any grouping gives the correctly rounded total


def _grow(parts: list, x: float) -> float:
    """Add finite ``x`` to the non-overlapping partials ``parts`` (in place); returns the
    non-finite overflow (an infinity) if the exact sum left the double range, else 0.0."""
    i = 0
    for y in parts:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        if math.isinf(hi):
            return hi
        lo = y - (hi - x)
        if lo:
            parts[i] = lo
            i += 1
        x = hi
    parts[i:] = [x]
    return 0.0


def _combine(children: list, final: bool):
    """A tree node: children are leaves (tuples of floats, one per component) or nodes (lists
    of ``(partials, special)`` per component). ``special`` collects infinities and NaNs, whose
    sum is order-independent. The root (``final``) returns a tuple of correctly rounded
    floats."""
    acc = None
    for ch in children:
        if acc is None:
            acc = [([], 0.0) for _ in range(len(ch))]
        items = ch if isinstance(ch, list) else [([float(v)], 0.0) for v in ch]
        for k, (parts, special) in enumerate(items):
            mine, sp = acc[k]
            sp = sp + special
            for p in parts:
                if math.isfinite(p):
                    sp = sp + _grow(mine, p)
                else:
                    sp = sp + p
            acc[k] = (mine, sp)
    if not final:
        return acc
    return tuple(sp if (sp != 0.0 or math.isnan(sp)) else math.fsum(parts)
                 for parts, sp in acc)


def _scale(denominator: float, factor: float = 1.0) -> float:
    """``1 / (denominator * factor)`` in double as the C kernels compute it (inf for 0)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return float(np.float64(1.0) / (np.float64(denominator) * np.float64(factor)))


def _product(a: float, b: float) -> float:
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.float64(a) * np.float64(b))


# ============================================================================================
# arguments


class _Call:
    """One call of a fastloss.dask function: its name, the in-memory object, the method asked
    for ('value', 'grad', 'value_and_grad', 'grad_hess', 'vjp') and the bound arguments."""

    def __init__(self, name: str, fl_obj, method: str, args: dict):
        self.name = name
        self.fl = fl_obj
        self.method = method
        self.args = args

    def msg(self, text: str) -> str:
        return f"fastloss.dask.{self.name}(): {text}"

    def value_error(self, text: str) -> ValueError:
        return ValueError(self.msg(text))

    def probe(self, replace: dict, method: str | None = None) -> None:
        """Run the in-memory function on tiny stand-ins for the arrays (``replace``) with the
        caller's options, so that every option is validated eagerly with the in-memory
        messages (reduction, delta, axis, class weights' shape, dtypes, ...)."""
        kw = dict(self.args)
        kw.update(replace)
        m = method or ("value" if self.method in ("grad", "value_and_grad") else self.method)
        fn = self.fl if m == "value" else getattr(self.fl, m)
        try:
            fn(**kw)
        except (TypeError, ValueError) as e:
            raise type(e)(self.msg(_strip(e, self.fl.__name__))) from None


def _strip(e: Exception, name: str) -> str:
    msg = str(e)
    prefix = f"{name}(): "
    return msg.removeprefix(prefix)


def _host(c: _Call, v, name: str):
    """An argument as a Dask array of NumPy blocks with known chunks, or as a NumPy array."""
    if isinstance(v, da.Array):
        if any(math.isnan(s) for s in v.shape):
            raise c.value_error(
                f"{name} has unknown chunk sizes (NaN); call {name}.compute_chunk_sizes() or "
                "give the chunks explicitly first")
        meta = getattr(v, "_meta", None)
        if meta is not None and (not isinstance(meta, np.ndarray)
                                 or isinstance(meta, np.ma.MaskedArray)):
            raise TypeError(c.msg(
                f"{name} must be a Dask array of NumPy blocks; got blocks of type "
                f"{type(meta).__module__}.{type(meta).__name__}"))
        return v
    if isinstance(v, np.ma.MaskedArray):
        raise TypeError(c.msg(
            f"{name} is a masked array; fastloss does not read masks. Pass the data "
            "(np.ma.getdata) and give the masked entries sample_weight=0, or drop them"))
    if hasattr(v, "__dask_graph__"):
        raise TypeError(c.msg(
            f"{name} must be a Dask array or array-like; got a {type(v).__name__} collection"))
    try:
        return np.asarray(v)
    except (TypeError, ValueError) as e:
        raise c.value_error(f"{name} cannot be read as a rectangular array: {e}") from None


def _prediction(c: _Call, name: str, whole: tuple = (), why: str = "", v=None):
    """The array that sets the block grid, as a Dask array whose ``whole`` axes are one chunk:
    NumPy input is chunked that way; a Dask array chunked along them is rechunked with a
    PerformanceWarning."""
    x = _host(c, c.args[name] if v is None else v, name)
    whole = tuple(sorted({a for a in whole if a < x.ndim}))
    if isinstance(x, np.ndarray):
        chunks = tuple(-1 if k in whole else "auto" for k in range(x.ndim))
        return da.from_array(x, chunks=chunks)
    split = [a for a in whole if len(x.chunks[a]) > 1]
    if split:
        warnings.warn(PerformanceWarning(c.msg(
            f"{name} is chunked along axis {', '.join(map(str, split))} "
            f"({', '.join(str(len(x.chunks[a])) for a in split)} chunks), but {why} must be "
            f"one chunk; rechunking it (a shuffle between workers). Chunk it with "
            f"{{{', '.join(f'{a}: -1' for a in split)}}} to avoid this.")),
            stacklevel=_caller_level())
        x = x.rechunk({a: -1 for a in split})
    return x


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this module."""
    f, level = sys._getframe(1), 1
    while f is not None and f.f_globals.get("__name__") == __name__:
        f, level = f.f_back, level + 1
    return level


def _compute_dtype(dt: np.dtype) -> np.dtype:
    return _F64 if dt.itemsize == 8 else _F32


def _result_dtype(dt: np.dtype) -> np.dtype:
    return _F16 if dt.itemsize == 2 else _compute_dtype(dt)


def _axis(c: _Call, value, ndim: int) -> int:
    """``axis`` normalised (the probe has already checked it)."""
    return operator.index(value) % ndim


class _Grid:
    """The blocks of the array that sets the grid, in C order."""

    def __init__(self, chunks: tuple):
        self.chunks = chunks
        self.numblocks = tuple(len(ch) for ch in chunks)
        self.blocks = list(np.ndindex(*self.numblocks))
        self.starts = [np.concatenate(([0], np.cumsum(ch))).astype(int).tolist()
                       for ch in chunks]

    def shape(self, b: tuple) -> tuple:
        return tuple(self.chunks[k][i] for k, i in enumerate(b))


class _Operand:
    """An argument aligned with the grid: ``key(b)`` is its block for grid block ``b``.
    ``lazy``: the blocks are computed (or read) on demand, as opposed to slices of an array
    already in memory."""

    def __init__(self, arr, index, lazy: bool = True):
        self.arr = arr
        self._index = index
        self.lazy = lazy

    def key(self, b: tuple) -> tuple:
        return (self.arr.name,) + tuple(b[a] if a is not None else 0 for a in self._index)

    def cloned(self, seed) -> _Operand:
        if not self.lazy:
            return self
        return _Operand(_clone(self.arr, seed), self._index)


def _clone(arr: da.Array, seed) -> da.Array:
    """A copy of ``arr`` whose graph has new keys, so that it is computed (read) a second time
    instead of its blocks being held in memory for a second consumer.

    ``dask.graph_manipulation.clone`` would do this, but corrupts graphs made of the new task
    objects (dask/dask#12455), so the keys are renamed here with the task objects' own
    ``substitute``. Persisted arrays (their blocks are already in memory) and any graph this
    cannot rename are returned as they are: the results are the same, only memory differs."""
    try:
        from distributed import futures_of
    except ImportError:  # pragma: no cover - distributed is part of the dask extra
        futures_of = None
    try:
        if futures_of is not None and futures_of(arr):
            return arr
        from dask._task_spec import convert_legacy_graph

        dsk = convert_legacy_graph(dict(arr.__dask_graph__()))
        suffix = "-again-" + tokenize(arr.name, seed)

        def renamed(k):
            return (k[0] + suffix,) + k[1:] if isinstance(k, tuple) else k + suffix

        subs = {k: renamed(k) for k in dsk}
        graph = {subs[k]: node.substitute(subs, key=subs[k]) for k, node in dsk.items()}
        name = arr.name + suffix
        layer = MaterializedLayer(graph, annotations={"priority": DENOMINATOR_PRIORITY})
        return da.Array(HighLevelGraph({name: layer}, {name: set()}), name, arr.chunks,
                        meta=arr._meta)
    except Exception:  # noqa: BLE001 - an optimisation only; never fail a call because of it
        return arr


def _align(c: _Call, g: _Grid, v, name: str, tshape: tuple, axes: tuple, what: str):
    """``v`` (broadcastable to ``tshape``, whose axis j runs along grid axis ``axes[j]``, or is
    whole where ``axes[j]`` is None) as an :class:`_Operand`, or None for None. Broadcast axes
    stay length-1 chunks, so each block reads a compact slice."""
    if v is None:
        return None
    arr = _host(c, v, name)
    if arr.dtype.kind not in "buif":
        raise TypeError(c.msg(f"{name} must be real-valued, got dtype {arr.dtype}"))
    nd = len(tshape)
    if arr.ndim > nd:
        raise c.value_error(f"{name} of shape {arr.shape} cannot be broadcast to {what} {tshape}")
    shp = (1,) * (nd - arr.ndim) + tuple(arr.shape)
    index, chunks = [], []
    for j in range(nd):
        if shp[j] != tshape[j] and shp[j] != 1:
            raise c.value_error(
                f"{name} of shape {arr.shape} cannot be broadcast to {what} {tshape}")
        sliced = shp[j] == tshape[j] and tshape[j] != 1 and axes[j] is not None
        index.append(axes[j] if sliced else None)
        chunks.append(g.chunks[axes[j]] if sliced else (shp[j],))
    chunks = tuple(chunks)
    lazy = not isinstance(arr, np.ndarray)
    if not lazy:
        arr = da.from_array(arr.reshape(shp), chunks=chunks)
    else:
        if arr.ndim < nd:
            arr = arr[(None,) * (nd - arr.ndim)]
        if arr.chunks != chunks:
            arr = arr.rechunk(chunks)
    return _Operand(arr, tuple(index), lazy)


def _global(c: _Call, v, name: str):
    """A small argument every block reads whole (class weights, concatenated targets): NumPy
    stays a literal of the graph; a Dask array becomes one chunk. Returns (operand or None,
    literal or None)."""
    if v is None:
        return None, None
    arr = _host(c, v, name)
    if isinstance(arr, np.ndarray):
        return None, arr
    arr = arr.rechunk(-1) if arr.ndim else arr
    return _Operand(arr, (None,) * arr.ndim), None


# ============================================================================================
# graphs


class _Graph:
    """The tasks of one call, in one layer that depends on the input collections; outputs are
    layers of their own on top of it."""

    def __init__(self, c: _Call, *parts):
        self.c = c
        self.token = tokenize(c.name, c.method, *parts)
        self.layer = f"fastloss-{c.name}-{self.token}"
        self.tasks: dict = {}
        self.early: dict = {}  # the denominator tasks, in a layer of their own (a priority)
        self.inputs: list = []
        self._hlg = None
        self.seed = 0

    def key(self, what: str, *idx) -> tuple:
        # internal names end with what they hold; output names end with the token
        return (f"{self.layer}-{what}",) + tuple(idx)

    def use(self, *ops) -> None:
        for op in ops:
            if op is not None:
                self.inputs.append(op.arr if isinstance(op, _Operand) else op)

    def add(self, key: tuple, task, early: bool = False) -> tuple:
        if self._hlg is not None:
            raise RuntimeError("fastloss.dask: a task was added after the outputs were built")
        (self.early if early else self.tasks)[key] = task
        return key

    def clone(self, *ops):
        """Clones of the operands (for a denominator or first-phase graph that must not hold the
        original blocks in memory until the second phase reads them)."""
        self.seed += 1
        out = []
        for op in ops:
            if op is None:
                out.append(None)
                continue
            cl = op.cloned((self.token, self.seed))
            self.use(cl)
            out.append(cl)
        return out

    def tree(self, what: str, leaves: list, early: bool = False) -> tuple:
        """Exact tree sum of the leaf tasks' tuples; the root's key (a tuple of floats)."""
        keys, level = list(leaves), 0
        while True:
            groups = [keys[i:i + SPLIT_EVERY] for i in range(0, len(keys), SPLIT_EVERY)]
            final = len(groups) == 1
            keys = [self.add(self.key(f"{what}-{level}", j), (_combine, list(grp), final), early)
                    for j, grp in enumerate(groups)]
            if final:
                return keys[0]
            level += 1

    def output(self, what: str, tasks: dict, chunks: tuple, dtype: np.dtype) -> da.Array:
        """A Dask array whose block ``idx`` is ``tasks[idx]``."""
        if self._hlg is None:
            hlg = HighLevelGraph.from_collections(self.layer, self.tasks,
                                                  dependencies=self.inputs)
            if self.early:
                first = self.layer + "-denominators"
                layers = dict(hlg.layers)
                deps = dict(hlg.dependencies)
                layers[first] = MaterializedLayer(
                    self.early, annotations={"priority": DENOMINATOR_PRIORITY})
                deps[first] = set(deps[self.layer])
                deps[self.layer] = deps[self.layer] | {first}
                hlg = HighLevelGraph(layers, deps)
            self._hlg = hlg
        name = f"fastloss-{self.c.name}-{what}-{self.token}"
        dsk = {(name,) + tuple(idx): t for idx, t in tasks.items()}
        hlg = HighLevelGraph({**self._hlg.layers, name: dsk},
                             {**self._hlg.dependencies, name: {self.layer}})
        return da.Array(hlg, name, chunks, meta=np.empty((0,) * len(chunks), dtype))

    def scalar(self, what: str, task, dtype: np.dtype) -> da.Array:
        return self.output(what, {(): task}, (), dtype)


def _pick(t, i):
    return t[i]


# ============================================================================================
# block functions (module level: they travel to worker processes by reference)


class _Cfg:
    """What every block of one call shares: the in-memory function, the caller's options, the
    names of the block arrays (in the order the task passes them) and the dtypes."""

    __slots__ = ("name", "fl", "names", "options", "reduction", "first", "result", "extra")

    def __init__(self, name, fl_obj, names, options, reduction, first, result, **extra):
        self.name = name
        self.fl = fl_obj
        self.names = tuple(names)
        self.options = dict(options)
        self.reduction = reduction
        self.first = first
        self.result = result
        self.extra = extra

    def __getstate__(self):
        return {s: getattr(self, s) for s in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)

    def kwargs(self, blocks) -> dict:
        kw = dict(self.options)
        for n, b in zip(self.names, blocks):
            if isinstance(b, np.ndarray) and b.dtype == _F16 and n in self.extra.get(
                    "upcast", (self.first,)):
                b = b.astype(_F32)  # computed in float32 anyway; keeps block sums out of float16
            kw[n] = b
        return kw


def _invoke(cfg: _Cfg, idx: tuple, method: str, kw: dict, fl_obj=None):
    obj = cfg.fl if fl_obj is None else fl_obj
    fn = obj if method == "value" else getattr(obj, method)
    try:
        return fn(**kw)
    except (TypeError, ValueError) as e:
        raise type(e)(
            f"fastloss.dask.{cfg.name}(): in block {tuple(idx)} (positions are within the "
            f"block): {_strip(e, obj.__name__)}") from e


def _scaled(g: np.ndarray, scale, result: np.dtype) -> np.ndarray:
    """The gradient block times the global scale, rounded as the kernels round it
    (``(dtype) scale * g``), in the result dtype."""
    if scale is not None and scale != 1.0:
        with np.errstate(invalid="ignore", over="ignore"):
            g *= g.dtype.type(scale)
    return g.astype(result, copy=False)


def _as(a, result: np.dtype):
    return np.asarray(a).astype(result, copy=False)


def _weight_total(w, shape: tuple, dtype: np.dtype) -> float:
    """Sum of ``w`` broadcast to ``shape`` (``w`` a compact block: broadcast axes of length 1),
    in double after rounding ``w`` to the compute dtype, as the kernels do."""
    n = math.prod(shape)
    if w is None:
        return float(n)
    a = np.asarray(w).astype(dtype, copy=False)
    if a.size == 0 or n == 0:
        return 0.0
    return float(np.sum(a, dtype=np.float64)) * float(n // a.size)


def _value_parts(cfg: _Cfg, idx, kw: dict, denominator):
    """The value of one block: its per-element losses ('none'), or its partial sums - the loss
    sum and, when ``cfg.extra['weights']``, the block's share of the 'mean' denominator,
    ``denominator(kw)``."""
    none = cfg.reduction == "none"
    kw["reduction"] = "none" if none else "sum"
    v = _invoke(cfg, idx, "value", kw)
    if none:
        return _as(v, cfg.result)
    if cfg.extra.get("weights"):
        return float(v), denominator(kw)
    return (float(v),)


def _ew_block(cfg: _Cfg, idx, want: str, scale, *blocks):
    """One elementwise-family block: ``want`` is 'value', 'grad', 'value_and_grad' or
    'grad_hess'. Values: the per-element array ('none') or the tuple of partial sums (the loss
    sum, and the weight total when ``cfg.extra['weights']``)."""
    kw = cfg.kwargs(blocks)
    none = cfg.reduction == "none"
    if want == "value":
        return _value_parts(cfg, idx, kw, lambda kw: _weight_total(
            kw.get("sample_weight"), np.shape(kw[cfg.first]),
            _compute_dtype(kw[cfg.first].dtype)))
    if want == "grad_hess" and not cfg.extra.get("hess_reduces"):
        g, h = _invoke(cfg, idx, "grad_hess", kw)
        return g.astype(cfg.result, copy=False), h.astype(cfg.result, copy=False)
    kw["reduction"] = "none" if none else "sum"
    if want == "grad":
        return _scaled(_invoke(cfg, idx, "grad", kw), scale, cfg.result)
    if want == "grad_hess":
        g, h = _invoke(cfg, idx, "grad_hess", kw)
        return _scaled(g, scale, cfg.result), _scaled(h, scale, cfg.result)
    v, g = _invoke(cfg, idx, "value_and_grad", kw)
    return (_as(v, cfg.result) if none else (float(v),)), _scaled(g, scale, cfg.result)


def _weights_leaf(w, shape: tuple, dtype: np.dtype) -> tuple:
    return (_weight_total(w, shape, dtype),)


def _value_sum(root, result):
    return result.type(root[0])


def _value_mean(root, factor, result):
    """``S * (1 / (W * factor))`` from the root ``(S, W)``."""
    return result.type(_product(root[0], _scale(root[1], factor)))


def _value_static_mean(root, denominator, factor, result):
    return result.type(_product(root[0], _scale(denominator, factor)))


def _value_times(root, scale, result):
    return result.type(_product(root[0], scale))


def _scale_of(root, factor):
    return _scale(root[0], factor)


# ============================================================================================
# the elementwise family


def _elementwise(c: _Call, *, pred=None, same=None, factors=(), batchmean=False):
    """Losses computed element by element: any chunking."""
    params = list(inspect.signature(c.fl).parameters.values())
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    pred = pred or positional[0]
    same = tuple(positional[1:]) if same is None else tuple(same)
    a = c.args
    x = _prediction(c, pred)
    hosts = {s: _host(c, a[s], s) for s in same}
    one = (1,) * x.ndim  # the prediction's number of axes (kl_div checks its axis)
    probe = {pred: np.full(one, 0.5, x.dtype), "sample_weight": None}
    probe.update({s: np.ones(one, hosts[s].dtype) for s in same})
    # optional factors probe as None, required ones (gaussian_nll's var) as ones
    required = {p.name for p in params if p.default is p.empty}
    probe.update({f: (np.ones(one, x.dtype) if f in required else None) for f in factors})
    c.probe(probe)
    for s in same:
        if hosts[s].shape != x.shape:
            raise c.value_error(
                f"{pred} and {s} must have the same shape; got {x.shape} and {hosts[s].shape}")
    g = _Grid(x.chunks)
    axes = tuple(range(x.ndim))
    ops = {s: _align(c, g, hosts[s], s, x.shape, axes, "the prediction's shape") for s in same}
    for f in factors:
        ops[f] = _align(c, g, a[f], f, x.shape, axes, "the prediction's shape")
    sw = _align(c, g, a["sample_weight"], "sample_weight", x.shape, axes,
                "the per-sample loss shape")
    reduction = a["reduction"]
    result = _result_dtype(x.dtype)
    cd = _compute_dtype(x.dtype)
    present = [n for n in list(same) + list(factors) if ops[n] is not None]
    names = [pred] + present + (["sample_weight"] if sw is not None else [])
    opts = {k: v for k, v in a.items() if k not in names}
    mean = reduction in ("mean", "batchmean")
    factor = (x.shape[0] / x.size if (reduction == "batchmean" and x.size) else 1.0) \
        if batchmean and x.ndim else 1.0
    gr = _Graph(c, x, *[ops[n].arr for n in present], sw.arr if sw else None, opts)
    gr.use(x, *[ops[n] for n in present], sw)
    cfg = _Cfg(c.name, c.fl, names, opts, reduction, pred, result,
               weights=mean and sw is not None,
               hess_reduces="reduction" in _method_params(c.fl, "grad_hess"))

    def keys(b):
        return [(x.name,) + b] + [ops[n].key(b) for n in present] + ([sw.key(b)] if sw else [])

    denominators = None
    if mean:
        denominators = float(x.size) if sw is None else (
            _weight_denominator(gr, g, sw, cd) if c.method != "value" else None)
    return _map_loss(c, gr, g, cfg, keys, x.chunks, result, reduction, factor, denominators)


def _gaussian_nll(c: _Call):
    """gaussian_nll: ``var`` broadcasts like an elementwise factor once torch's "one variance
    per row" shape (``pred``'s shape without its last axis) has its trailing axis back."""
    x, v = c.args["pred"], c.args["var"]
    if np.ndim(x) >= 1 and np.ndim(v) == np.ndim(x) - 1 and np.shape(v) == np.shape(x)[:-1]:
        c.args["var"] = v[..., None]
    return _elementwise(c, same=("target",), factors=("var",))


def _method_params(obj, method: str) -> tuple:
    fn = getattr(obj, method, None)
    if fn is None:
        return ()
    return tuple(inspect.signature(fn).parameters)


def _weight_denominator(gr: _Graph, g: _Grid, sw: _Operand, cd: np.dtype):
    """Key of the total of ``sw`` broadcast over the grid, computed from a clone of it."""
    (swc,) = gr.clone(sw)
    leaves = [gr.add(gr.key("weights", *b), (_weights_leaf, swc.key(b), g.shape(b), cd), True)
              for b in g.blocks]
    return gr.tree("weights-sum", leaves, early=True)


def _map_loss(c, gr, g, cfg, keys, chunks, result, reduction, factor, denominators,
              block_fn=_ew_block, value_chunks=None, value_index=None):
    """The graph of a loss evaluated block by block with ``block_fn(cfg, b, method, scale,
    *blocks)``; ``keys(b)`` lists the keys of grid block ``b``'s arguments.

    For a ``"mean"`` gradient, ``denominators`` is the denominator (a float, known from the
    shapes) or the key of the root of its tree (computed before the kernels, from clones of
    the labels and weights); the kernels receive ``1 / (denominator * factor)`` (``factor``:
    kl_div's batchmean). For the value alone the blocks return their own denominator shares
    (``cfg.extra['weights']``) or the denominator is the float. ``value_index`` maps a grid
    block to its block of the per-sample values (``"none"``)."""
    method = c.method
    none = reduction == "none"
    mean = reduction in ("mean", "batchmean")
    value_chunks = chunks if value_chunks is None else value_chunks
    vi = value_index or (lambda b: b)
    blocks = g.blocks
    scale = None  # what each gradient block is multiplied by (None: 1)
    if method != "value" and mean and not (method == "grad_hess"
                                           and not cfg.extra.get("hess_reduces")):
        if isinstance(denominators, tuple):
            scale = gr.add(gr.key("scale"), (_scale_of, denominators, factor), True)
        else:
            scale = _scale(denominators, factor)
    ks = {b: gr.add(gr.key("kernel", *b), (block_fn, cfg, b, method, scale, *keys(b)))
          for b in blocks}

    if method == "value":
        if none:
            return gr.output("value", {vi(b): ks[b] for b in blocks}, value_chunks, result)
        root = gr.tree("sum", [ks[b] for b in blocks])
        if not mean:
            task = (_value_sum, root, result)
        elif cfg.extra.get("weights"):
            task = (_value_mean, root, factor, result)
        else:
            task = (_value_static_mean, root, denominators, factor, result)
        return gr.scalar("value", task, result)
    if method == "grad":
        return gr.output("grad", dict(ks), chunks, result)
    if method == "grad_hess":
        return tuple(gr.output(f"grad-hess{i}", {b: (_pick, ks[b], i) for b in blocks}, chunks,
                               result) for i in range(2))
    # value_and_grad: split each kernel's (value, grad) where it was computed
    if not none:
        root = gr.tree("sum", [gr.add(gr.key("part", *b), (_pick, ks[b], 0)) for b in blocks])
    grad = gr.output("grad", {b: (_pick, ks[b], 1) for b in blocks}, chunks, result)
    if none:
        return gr.output("value", {vi(b): (_pick, ks[b], 0) for b in blocks}, value_chunks,
                         result), grad
    if not mean or cfg.extra.get("prescaled"):
        task = (_value_sum, root, result)  # prescaled: the blocks already divided
    else:
        task = (_value_times, root, scale, result)
    return gr.scalar("value", task, result), grad


# ============================================================================================
# rmse: the gradient needs the global value


def _rmse(c: _Call):
    a = c.args
    x = _prediction(c, "pred")
    t = _host(c, a["target"], "target")
    c.probe({"pred": np.full((1,) * x.ndim, 0.5, x.dtype),
             "target": np.ones((1,) * x.ndim, t.dtype), "sample_weight": None})
    if t.shape != x.shape:
        raise c.value_error(f"pred and target must have the same shape; got {x.shape} and "
                            f"{t.shape}")
    g = _Grid(x.chunks)
    axes = tuple(range(x.ndim))
    tt = _align(c, g, t, "target", x.shape, axes, "the prediction's shape")
    sw = _align(c, g, a["sample_weight"], "sample_weight", x.shape, axes,
                "the per-sample loss shape")
    reduction = a["reduction"]
    result = _result_dtype(x.dtype)
    names = ["pred", "target"] + (["sample_weight"] if sw else [])
    mean = reduction == "mean"
    opts = {"reduction": "sum"}
    gr = _Graph(c, x, tt.arr, sw.arr if sw else None, reduction)
    xo = _Operand(x, axes, isinstance(a["pred"], da.Array))
    gr.use(xo, tt, sw)
    cfg = _Cfg(c.name, _fl.mse, names, opts, "sum", "pred", result, weights=mean)

    def value_graph(ops, early=False):
        leaves = [gr.add(gr.key("sq", *b), (_ew_block, cfg, b, "value", None,
                                            *[o.key(b) for o in ops if o is not None]), early)
                  for b in g.blocks]
        return gr.tree("sq-sum", leaves, early)

    if c.method == "value":
        root = value_graph([xo, tt, sw])
        return gr.scalar("value", (_rmse_value, root, mean, result), result)
    # the value from a clone of the inputs, then the mse gradient per block, scaled
    root = value_graph(gr.clone(xo, tt, sw), early=True)
    factor = gr.add(gr.key("factor"), (_rmse_factor, root, mean), True)
    ks = {b: gr.add(gr.key("grad", *b), (_ew_block, cfg, b, "grad", factor,
                                         *[o.key(b) for o in (xo, tt, sw) if o is not None]))
          for b in g.blocks}
    grad = gr.output("grad", ks, x.chunks, result)
    if c.method == "grad":
        return grad
    return gr.scalar("value", (_rmse_value, root, mean, result), result), grad


def _rmse_m(root, mean: bool) -> float:
    return _product(root[0], _scale(root[1])) if mean else root[0]


def _rmse_value(root, mean, result):
    return result.type(math.sqrt(_rmse_m(root, mean)) if _rmse_m(root, mean) >= 0 else math.nan)


def _rmse_factor(root, mean) -> float:
    """d rmse / d (sum-reduced mse gradient): (1 / W) * (0.5 / r), 0 where the error is 0."""
    m = _rmse_m(root, mean)
    if m == 0.0:
        return 0.0
    half_over_r = 0.5 / math.sqrt(m) if m > 0 else math.nan
    return _product(_scale(root[1]) if mean else 1.0, half_over_r)


# ============================================================================================
# gan_discriminator: two independent inputs, each reduced on its own


def _gan_block(cfg: _Cfg, idx, want: str, scale, x, sw=None):
    part = cfg.extra["part"]
    if x.dtype == _F16:
        x = x.astype(_F32)
    empty = np.empty(0, x.dtype)
    pair = (x, empty) if part == 0 else (empty, x)
    weights = None if sw is None else ((sw, None) if part == 0 else (None, sw))
    none = cfg.reduction == "none"
    kw = {"real_logits": pair[0], "fake_logits": pair[1], "sample_weight": weights,
          "reduction": "none" if none else "sum"}
    if want == "value":
        v = _invoke(cfg, idx, "value", kw)
        if none:
            return _as(v[part], cfg.result)
        parts = (float(v),)
        if cfg.extra.get("weights"):
            parts += (_weight_total(sw, x.shape, _compute_dtype(x.dtype)),)
        return parts
    v, gg = _invoke(cfg, idx, "value_and_grad", kw)
    grad = _scaled(gg[part], scale, cfg.result)
    if want == "grad":
        return grad
    return (_as(v[part], cfg.result) if none else (float(v),)), grad


def _gan_discriminator(c: _Call):
    a = c.args
    xs = [_prediction(c, "real_logits"), _prediction(c, "fake_logits")]
    c.probe({"real_logits": np.zeros(1, xs[0].dtype), "fake_logits": np.zeros(1, xs[1].dtype),
             "sample_weight": None})
    sws = a["sample_weight"]
    if sws is None:
        sws = (None, None)
    elif not (isinstance(sws, (tuple, list)) and len(sws) == 2):
        raise c.value_error(
            "sample_weight must be None or a pair (real_weight, fake_weight); got "
            f"{type(sws).__name__}")
    reduction = a["reduction"]
    mean = reduction == "mean"
    result = _result_dtype(xs[0].dtype)
    gr = _Graph(c, *xs, *sws, reduction)
    parts_out = []
    flat = []
    for part, (x, w) in enumerate(zip(xs, sws)):
        g = _Grid(x.chunks)
        axes = tuple(range(x.ndim))
        sw = _align(c, g, w, "sample_weight", x.shape, axes,
                    f"the {('real', 'fake')[part]} per-sample loss shape")
        gr.use(x, sw)
        cfg = _Cfg(c.name, c.fl, ["x"] + (["sw"] if sw else []), {}, reduction, "x", result,
                   part=part, weights=mean and sw is not None)
        cd = _compute_dtype(x.dtype)
        scale = None
        if mean and c.method != "value":
            if sw is None:
                scale = _scale(float(x.size))
            else:
                root = _weight_denominator(gr, g, sw, cd)
                scale = gr.add(gr.key(f"scale{part}"), (_scale_of, root, 1.0), True)
        ks = {b: gr.add(gr.key(f"kernel{part}", *b),
                        (_gan_block, cfg, b, c.method, scale, (x.name,) + b,
                         *([sw.key(b)] if sw else [])))
              for b in g.blocks}
        if reduction != "none" and c.method != "grad":
            if c.method == "value":
                leaves, how, den = list(ks.values()), ("weights" if sw is not None else
                                                        "static"), float(x.size)
            else:
                leaves = [gr.add(gr.key(f"part{part}", *b), (_pick, k, 0)) for b, k in ks.items()]
                how, den = "scaled", scale
            flat += [gr.tree(f"sum{part}", leaves), how, den]
        parts_out.append((x, ks))
    grads, values = [], []
    for part, (x, ks) in enumerate(parts_out):
        if c.method != "value":
            grads.append(gr.output(f"grad{part}", {b: (_pick, k, 1) if c.method != "grad" else k
                                                   for b, k in ks.items()}, x.chunks, result))
        if reduction == "none" and c.method != "grad":
            values.append(gr.output(f"value{part}", {b: (_pick, k, 0) if c.method != "value"
                                                     else k for b, k in ks.items()},
                                    x.chunks, result))
    if c.method == "grad":
        return tuple(grads)
    if reduction == "none":
        value = tuple(values)
    else:
        value = gr.scalar("value", (_gan_value, reduction, result, *flat), result)
    return value if c.method == "value" else (value, tuple(grads))


def _gan_value(reduction, result, *flat):
    """The sum of the two parts' values; ``flat`` holds (root, how, denominator or scale) per
    part."""
    total = 0.0
    for k in range(0, len(flat), 3):
        root, how, den = flat[k:k + 3]
        if reduction == "sum":
            part = root[0]
        elif how == "scaled":
            part = _product(root[0], den)
        elif how == "weights":  # the blocks returned their weight totals
            part = _product(root[0], _scale(root[1]))
        else:
            part = _product(root[0], _scale(den))
        total += part
    return result.type(total)


# ============================================================================================
# class-axis losses: cross_entropy, multi_margin, distillation


def _rows_den(cfg: _Cfg, labels, sw, cw, shape) -> float:
    """The block's share of the 'mean' denominator: the class-weighted count of non-ignored
    labels times the sample weights (cross_entropy with labels), or the weight total."""
    cd = cfg.extra["compute"]
    if labels is None or not cfg.extra.get("class_weighted"):
        return _weight_total(sw, shape, cd)
    y = np.asarray(labels).reshape(-1)
    c = cfg.extra["classes"]
    # labels out of range count for nothing here; the kernel task reports them
    valid = (y != cfg.extra["ignore"]) & (y >= 0) & (y < c)
    if cw is None:
        w = valid.astype(np.float64)
    else:
        w = np.where(valid, np.asarray(cw, np.float64).reshape(-1)[np.clip(y, 0, c - 1)], 0.0)
    if sw is not None:
        s = np.broadcast_to(np.asarray(sw).astype(cd, copy=False), shape).astype(np.float64)
        w = w * s.reshape(-1)
    return float(np.sum(w))


def _rows_den_leaf(cfg: _Cfg, shape, labels, sw, cw):
    return (_rows_den(cfg, labels, sw, cw, shape),)


def _rows_block(cfg: _Cfg, idx, want: str, scale, *blocks):
    """One block of a class-axis loss. For a 'mean' gradient the global scale goes into the
    sample weights (per sample, so no pass over the gradient)."""
    kw = cfg.kwargs(blocks)
    none = cfg.reduction == "none"
    if want == "value":
        return _value_parts(cfg, idx, kw, lambda kw: _rows_den(
            cfg, kw["target"] if cfg.extra["int_target"] else None, kw.get("sample_weight"),
            kw.get(cfg.extra["cw_name"]) if cfg.extra["cw_name"] else None,
            _drop_axis(kw[cfg.first].shape, cfg.extra["axis"])))
    if want == "grad_hess" and not cfg.extra.get("hess_reduces"):
        return tuple(o.astype(cfg.result, copy=False)
                     for o in _invoke(cfg, idx, "grad_hess", kw))
    block_reduction = "none" if none else "sum"
    if cfg.reduction == "mean":
        if math.isfinite(scale):
            sw = kw.get("sample_weight")
            kw["sample_weight"] = scale if sw is None else np.multiply(
                np.asarray(sw, np.float64), scale)
        else:  # a zero (or non-finite) global denominator: the in-memory semantics per block
            block_reduction = "mean"
    kw["reduction"] = block_reduction
    out = _invoke(cfg, idx, want, kw)
    if want == "grad":
        return out.astype(cfg.result, copy=False)
    if want == "grad_hess":
        return tuple(o.astype(cfg.result, copy=False) for o in out)
    v, g = out
    return (_as(v, cfg.result) if none else (float(v),)), g.astype(cfg.result, copy=False)


def _rows(c: _Call, *, first, same=(), class_weight=None, ignore=False):
    """Losses over a class axis: the classes must be one chunk."""
    a = c.args
    x0 = _host(c, a[first], first)
    hosts = {s: _host(c, a[s], s) for s in same}
    t = _host(c, a["target"], "target")
    pshape, lshape = _class_probe(x0, a["axis"])
    probe = {first: np.zeros(pshape, x0.dtype), "sample_weight": None}
    probe.update({s: np.zeros(pshape, hosts[s].dtype) for s in same})
    cw_op, cw_lit = (None, None)
    if class_weight:
        cw_op, cw_lit = _global(c, a[class_weight], class_weight)
        if cw_op is not None:
            probe[class_weight] = np.ones(cw_op.arr.shape, cw_op.arr.dtype)
    int_target = t.dtype.kind in "iu"
    if int_target:
        probe["target"] = np.zeros(lshape, t.dtype)
    else:
        probe["target"] = np.full(pshape, 1.0 / max(1, math.prod(pshape)), t.dtype) \
            if t.dtype.kind == "f" else np.zeros(pshape, t.dtype)
    c.probe(probe)
    ax = _axis(c, a["axis"], x0.ndim)
    x = _prediction(c, first, (ax,), "the class axis", v=x0)
    sample_shape = x.shape[:ax] + x.shape[ax + 1:]
    for s in same:
        if hosts[s].shape != x.shape:
            raise c.value_error(f"{s} must have the {first}' shape {x.shape}; got "
                                f"{hosts[s].shape}")
    g = _Grid(x.chunks)
    axes_all = tuple(range(x.ndim))
    sample_axes = tuple(k for k in range(x.ndim) if k != ax)
    ops = {s: _align(c, g, hosts[s], s, x.shape, axes_all, "the logits' shape") for s in same}
    if int_target:
        if t.shape != sample_shape:
            raise c.value_error(
                f"target of class indices must have shape {sample_shape} (the prediction's "
                f"shape without the class axis); got {t.shape}")
        ops["target"] = _align_labels(c, g, t, "target", sample_shape, sample_axes)
    else:
        if t.shape != x.shape:
            raise c.value_error(f"target of class probabilities must have the logits' shape "
                                f"{x.shape}; got {t.shape}")
        ops["target"] = _align(c, g, t, "target", x.shape, axes_all, "the logits' shape")
    sw = _align(c, g, a["sample_weight"], "sample_weight", sample_shape, sample_axes,
                "the per-sample loss shape")
    reduction = a["reduction"]
    mean = reduction == "mean"
    result = _result_dtype(x.dtype)
    cd = _compute_dtype(x.dtype)
    names = [first] + list(same) + ["target"] + (["sample_weight"] if sw else []) + \
        ([class_weight] if cw_op is not None else [])
    opts = {k: v for k, v in a.items() if k not in names}
    if cw_lit is not None:
        opts[class_weight] = cw_lit
    class_weighted = bool(ignore and int_target)
    extra = dict(compute=cd, axis=ax, int_target=int_target, class_weighted=class_weighted,
                 classes=x.shape[ax], cw_name=class_weight,
                 ignore=operator.index(a["ignore_index"]) if ignore else None,
                 weights=mean and (sw is not None or class_weighted),
                 upcast=(first,) + tuple(same), prescaled=True,
                 hess_reduces="reduction" in _method_params(c.fl, "grad_hess"))
    cfg = _Cfg(c.name, c.fl, names, opts, reduction, first, result, **extra)
    gr = _Graph(c, x, *[o.arr for o in ops.values()], sw.arr if sw else None,
                cw_op.arr if cw_op else None, opts)
    order = [ops[s] for s in same] + [ops["target"]]
    gr.use(x, *order, sw, cw_op)

    def keys(b):
        return [(x.name,) + b] + [o.key(b) for o in order] + ([sw.key(b)] if sw else []) + \
            ([cw_op.key(b)] if cw_op else [])

    denominators = None
    if mean:
        if not (sw is not None or class_weighted):
            denominators = float(math.prod(sample_shape))
        elif c.method != "value":
            # from clones of the labels and weights: the kernels wait for one float
            lab_c, sw_c = gr.clone(ops["target"] if class_weighted else None, sw)
            leaves = [gr.add(gr.key("den", *b),
                             (_rows_den_leaf, cfg, _drop_axis(g.shape(b), ax),
                              lab_c.key(b) if lab_c else None, sw_c.key(b) if sw_c else None,
                              cw_op.key(b) if cw_op else cw_lit), True)
                      for b in g.blocks]
            denominators = gr.tree("den-sum", leaves, early=True)
    value_chunks = x.chunks[:ax] + x.chunks[ax + 1:]
    return _map_loss(c, gr, g, cfg, keys, x.chunks, result, reduction, 1.0, denominators,
                     block_fn=_rows_block, value_chunks=value_chunks,
                     value_index=lambda b: _drop_axis(b, ax))


def _class_probe(x, axis) -> tuple:
    """Shapes for the probe of a class-axis function: one sample with all the classes (so that
    class weights are checked against C), and the same without the class axis (labels). With an
    invalid ``axis`` any shapes do: the probe reports the axis."""
    try:
        ax = operator.index(axis)
    except TypeError:
        ax = None
    if x.ndim == 0 or ax is None or not -x.ndim <= ax < x.ndim:
        return (1,) * x.ndim, (1,) * max(x.ndim - 1, 0)
    ax %= x.ndim
    pshape = tuple(x.shape[k] if k == ax else 1 for k in range(x.ndim))
    return pshape, pshape[:ax] + pshape[ax + 1:]


def _drop_axis(shape, ax):
    return tuple(shape[:ax]) + tuple(shape[ax + 1:])


def _align_labels(c, g, t, name, shape, axes):
    """Integer labels of exactly ``shape`` aligned with the grid."""
    if t.dtype.kind not in "iu":
        raise TypeError(c.msg(f"{name} must hold integer class indices; got dtype {t.dtype}"))
    lazy = not isinstance(t, np.ndarray)
    chunks = tuple(g.chunks[k] for k in axes)
    arr = t.rechunk(chunks) if lazy else da.from_array(t, chunks=chunks)
    return _Operand(arr, axes, lazy)


# ============================================================================================
# dice: per-(sample, class) sums over the spatial axes


def _dice_block(cfg: _Cfg, idx, want, scale, *blocks):
    kw = cfg.kwargs(blocks)
    none = cfg.reduction == "none"
    x = kw["pred"]
    out_shape = x.shape[:cfg.extra["axis"] + 1]
    if want == "value":
        kw["reduction"] = "none" if none else "sum"
        v = _invoke(cfg, idx, "value", kw)
        if none:
            return _as(v, cfg.result)
        parts = (float(v),)
        if cfg.extra.get("weights"):
            parts += (_weight_total(kw.get("sample_weight"), out_shape, cfg.extra["compute"]),)
        return parts
    block_reduction = "none" if none else "sum"
    if cfg.reduction == "mean":
        if math.isfinite(scale):
            sw = kw.get("sample_weight")
            kw["sample_weight"] = scale if sw is None else np.multiply(
                np.asarray(sw, np.float64), scale)
        else:
            block_reduction = "mean"
    kw["reduction"] = block_reduction
    out = _invoke(cfg, idx, "value_and_grad" if want == "value_and_grad" else want, kw)
    if want == "grad":
        return out.astype(cfg.result, copy=False)
    v, g = out
    return (_as(v, cfg.result) if none else (float(v),)), g.astype(cfg.result, copy=False)


def _dice_probabilities(cfg: _Cfg, idx, x):
    """The block's probabilities in float64 (softmax over the class axis for logits)."""
    z = np.asarray(x, np.float64)
    if cfg.extra["from_logits"]:
        return _invoke(cfg, idx, "value", {"x": z, "axis": cfg.extra["axis"]}, _fl.softmax)
    return z


def _dice_target(cfg: _Cfg, idx, t, shape):
    """The block's target in float64 at the prediction's shape (one-hot for labels)."""
    ax = cfg.extra["axis"]
    c = shape[ax]
    t = np.asarray(t)
    if t.dtype.kind in "iu":
        bad = (t < 0) | (t >= c)
        if bad.any():
            i = int(np.argmax(bad.reshape(-1)))
            raise ValueError(
                f"fastloss.dask.{cfg.name}(): in block {tuple(idx)} (positions are within the "
                f"block): target has class index {t.reshape(-1)[i]} at flat position {i}; "
                f"expected values in [0, {c})")
        classes = np.arange(c).reshape((c,) + (1,) * (len(shape) - ax - 1))
        return (np.expand_dims(t, ax) == classes).astype(np.float64)
    return np.asarray(t, np.float64)


def _dice_sums(cfg: _Cfg, idx, x, t):
    """Per-(sample, class) sums of p*t, p and t over the block's spatial extent: (3, ..., C)."""
    p = _dice_probabilities(cfg, idx, x)
    tt = _dice_target(cfg, idx, t, p.shape)
    axes = tuple(range(cfg.extra["axis"] + 1, p.ndim))
    return np.stack([np.sum(p * tt, axis=axes), np.sum(p, axis=axes), np.sum(tt, axis=axes)])


def _dice_add(parts):
    """The sums of one batch block, added over its spatial blocks in block order."""
    total = np.array(parts[0], np.float64, copy=True)
    for p in parts[1:]:
        total += p
    return total


def _dice_loss(sums, smooth):
    inter, sp, st = sums
    return 1.0 - (2.0 * inter + smooth) / (sp + st + smooth)


def _dice_weights(w, shape, cd):
    if w is None:
        return np.ones(shape)
    return np.broadcast_to(np.asarray(w).astype(cd, copy=False).astype(np.float64), shape)


def _dice_value_leaf(sums, smooth, w, cd):
    loss = _dice_loss(sums, smooth)
    ww = _dice_weights(w, loss.shape, cd)
    return (float(np.sum(ww * loss)), float(np.sum(ww)))


def _dice_value_none(sums, smooth, w, cd, result):
    loss = _dice_loss(sums, smooth)
    return (_dice_weights(w, loss.shape, cd) * loss).astype(result)


def _dice_grad(cfg: _Cfg, idx, scale, x, t, sums, w):
    """The block's gradient from the combined sums of its samples:
    d loss_nc / d p_v = coef_nc (num_nc / den_nc**2 - 2 t_v / den_nc), coef = w_nc * scale,
    then through the softmax for logits."""
    smooth = cfg.extra["smooth"]
    inter, sp, st = sums
    num = 2.0 * inter + smooth
    den = sp + st + smooth
    coef = _dice_weights(w, num.shape, cfg.extra["compute"])
    if scale is not None:
        coef = coef * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        a = coef * num / den**2
        b = -2.0 * coef / den
    expand = (...,) + (None,) * (x.ndim - cfg.extra["axis"] - 1)
    p = _dice_probabilities(cfg, idx, x)
    tt = _dice_target(cfg, idx, t, p.shape)
    gp = a[expand] + b[expand] * tt
    if cfg.extra["from_logits"]:
        gp = p * (gp - np.sum(p * gp, axis=cfg.extra["axis"], keepdims=True))
    return gp.astype(cfg.result)


def _dice(c: _Call):
    a = c.args
    x0 = _host(c, a["pred"], "pred")
    t = _host(c, a["target"], "target")
    pshape, lshape = _class_probe(x0, a["axis"])
    tprobe = np.zeros(lshape if t.dtype.kind in "iu" else pshape, t.dtype)
    c.probe({"pred": np.full(pshape, 0.5, x0.dtype), "target": tprobe, "sample_weight": None})
    ax = _axis(c, a["axis"], x0.ndim)
    x = _prediction(c, "pred", (ax,), "the class axis", v=x0)
    g = _Grid(x.chunks)
    axes_all = tuple(range(x.ndim))
    if t.dtype.kind in "iu":
        lshape = x.shape[:ax] + x.shape[ax + 1:]
        if t.shape != lshape:
            raise c.value_error(f"target of class indices must have shape {lshape}; got "
                                f"{t.shape}")
        tt = _align_labels(c, g, t, "target", lshape, tuple(k for k in axes_all if k != ax))
    else:
        if t.shape != x.shape:
            raise c.value_error(f"pred and target must have the same shape; got {x.shape} and "
                                f"{t.shape}")
        tt = _align(c, g, t, "target", x.shape, axes_all, "the prediction's shape")
    out_shape = x.shape[:ax + 1]
    sw = _align(c, g, a["sample_weight"], "sample_weight", out_shape, tuple(range(ax + 1)),
                "the per-(sample, class) loss shape")
    reduction = a["reduction"]
    mean = reduction == "mean"
    result = _result_dtype(x.dtype)
    cd = _compute_dtype(x.dtype)
    smooth = float(a["smooth"])
    names = ["pred", "target"] + (["sample_weight"] if sw else [])
    opts = {k: v for k, v in a.items() if k not in names}
    spatial_split = any(len(x.chunks[k]) > 1 for k in range(ax + 1, x.ndim))
    cfg = _Cfg(c.name, c.fl, names, opts, reduction, "pred", result, axis=ax, compute=cd,
               weights=mean and sw is not None, smooth=smooth,
               from_logits=bool(a["from_logits"]), prescaled=True)
    gr = _Graph(c, x, tt.arr, sw.arr if sw else None, opts, spatial_split)
    xo = _Operand(x, axes_all, isinstance(a["pred"], da.Array))
    gr.use(xo, tt, sw)
    static_den = float(math.prod(out_shape))

    if not spatial_split:
        def keys(b):
            return [xo.key(b), tt.key(b)] + ([sw.key(b)] if sw else [])
        den = None
        if mean:
            if sw is None:
                den = static_den
            elif c.method != "value":
                (swc,) = gr.clone(sw)
                leaves = [gr.add(gr.key("den", *b), (_weights_leaf, swc.key(b),
                                                     g.shape(b)[:ax + 1], cd), True)
                          for b in g.blocks]
                den = gr.tree("den-sum", leaves, early=True)
        return _map_loss(c, gr, g, cfg, keys, x.chunks, result, reduction, 1.0, den,
                         block_fn=_dice_block, value_chunks=x.chunks[:ax + 1],
                         value_index=lambda b: b[:ax + 1])

    # two phases: per-block sums, combined per batch block; then the gradient per block
    batch_blocks = list(np.ndindex(*g.numblocks[:ax + 1]))
    spatial_blocks = list(np.ndindex(*g.numblocks[ax + 1:]))

    def phase_one(xop, top, early=False):
        sums = {}
        for bb in batch_blocks:
            parts = [gr.add(gr.key(f"sums{gr.seed}", *(bb + sb)),
                            (_dice_sums, cfg, bb + sb, xop.key(bb + sb), top.key(bb + sb)), early)
                     for sb in spatial_blocks]
            sums[bb] = gr.add(gr.key(f"sums-total{gr.seed}", *bb), (_dice_add, parts), early)
        return sums

    def weight_key(swop, bb):
        return swop.key(bb + (0,) * len(spatial_blocks[0])) if swop else None

    if c.method == "value":
        sums = phase_one(xo, tt)
        if reduction == "none":
            return gr.output("value", {bb: (_dice_value_none, sums[bb], smooth,
                                            weight_key(sw, bb), cd, result)
                                       for bb in batch_blocks}, x.chunks[:ax + 1], result)
        leaves = [gr.add(gr.key("leaf", *bb), (_dice_value_leaf, sums[bb], smooth,
                                               weight_key(sw, bb), cd)) for bb in batch_blocks]
        root = gr.tree("sum", leaves)
        return gr.scalar("value", (_value_mean, root, 1.0, result) if mean
                         else (_value_sum, root, result), result)
    xc, tc, swc = gr.clone(xo, tt, sw)
    sums = phase_one(xc, tc, early=True)
    scale = None
    root = None
    if reduction != "none":
        leaves = [gr.add(gr.key("leaf", *bb), (_dice_value_leaf, sums[bb], smooth,
                                               weight_key(swc, bb), cd), True)
                  for bb in batch_blocks]
        root = gr.tree("sum", leaves, early=True)
        if mean:
            scale = gr.add(gr.key("scale"), (_pick_scale, root), True)
    grads = {b: (_dice_grad, cfg, b, scale, xo.key(b), tt.key(b), sums[b[:ax + 1]],
                 sw.key(b) if sw else None) for b in g.blocks}
    grad = gr.output("grad", grads, x.chunks, result)
    if c.method == "grad":
        return grad
    if reduction == "none":
        value = gr.output("value", {bb: (_dice_value_none, sums[bb], smooth, weight_key(swc, bb),
                                         cd, result) for bb in batch_blocks},
                          x.chunks[:ax + 1], result)
    else:
        value = gr.scalar("value", (_value_mean, root, 1.0, result) if mean
                          else (_value_sum, root, result), result)
    return value, grad


def _pick_scale(root):
    return _scale(root[1])


# ============================================================================================
# ctc and ssd_multibox: batch chunks only


def _ctc_block(cfg: _Cfg, idx, want, scale, x, targets, il, tl, span=None):
    if x.dtype == _F16:
        x = x.astype(_F32)
    if span is not None:  # concatenated targets: this block's labels
        start, stop = span
        tl_all = np.asarray(tl)
        ends = np.concatenate(([0], np.cumsum(tl_all, dtype=np.int64)))
        if ends[-1] != np.shape(targets)[0]:
            raise ValueError(
                f"fastloss.dask.{cfg.name}(): concatenated targets must have "
                f"sum(target_lengths)={int(ends[-1])} labels; got {np.shape(targets)[0]}")
        targets = np.asarray(targets)[ends[start]:ends[stop]]
        tl = tl_all[start:stop]
    n = x.shape[0]
    kw = dict(cfg.options, logits=x, targets=targets, input_lengths=il, target_lengths=tl)
    none = cfg.reduction == "none"
    mean = cfg.reduction == "mean"
    kw["reduction"] = "none" if none else ("mean" if mean else "sum")
    if mean and n == 0:  # an empty block adds nothing (its own mean would be 0/0)
        parts = (0.0,)
        g = np.zeros(x.shape, cfg.result)
        return parts if want == "value" else (g if want == "grad" else (parts, g))
    if want == "value":
        v = _invoke(cfg, idx, "value", kw)
        if none:
            return _as(v, cfg.result)
        return (_product(float(v), n) if mean else float(v),)
    v, g = _invoke(cfg, idx, "value_and_grad", kw)
    g = _scaled(g, scale, cfg.result)
    if want == "grad":
        return g
    return (_as(v, cfg.result) if none else
            ((_product(float(v), n) if mean else float(v)),)), g


def _ctc(c: _Call):
    a = c.args
    x0 = _host(c, a["logits"], "logits")
    tg = _host(c, a["targets"], "targets")
    il = _host(c, a["input_lengths"], "input_lengths")
    tl = _host(c, a["target_lengths"], "target_lengths")
    if x0.ndim != 3:
        raise c.value_error(f"logits must have shape (N, T, C); got shape {x0.shape}")
    n, _, ncls = x0.shape
    c.probe({"logits": np.zeros((1, 1, ncls), x0.dtype), "targets": np.ones((1, 1), tg.dtype),
             "input_lengths": np.zeros(1, il.dtype), "target_lengths": np.zeros(1, tl.dtype)})
    x = _prediction(c, "logits", (1, 2), "the time and class axes", v=x0)
    for name, v in (("input_lengths", il), ("target_lengths", tl)):
        if v.shape != (n,):
            raise c.value_error(f"{name} must have shape ({n},) (one length per sample); got "
                                f"{v.shape}")
        if v.dtype.kind not in "iu":
            raise TypeError(c.msg(f"{name} must hold integers, got dtype {v.dtype}"))
    g = _Grid(x.chunks)
    ilo = _align_labels(c, g, il, "input_lengths", (n,), (0,))
    concat = tg.ndim == 1
    if tg.ndim == 2:
        if tg.shape[0] != n:
            raise c.value_error(f"padded targets must have shape (N={n}, S); got {tg.shape}")
        tgo = _labels_rows(c, g, tg)
        tlo = _align_labels(c, g, tl, "target_lengths", (n,), (0,))
        tg_lit = tl_lit = None
    elif concat:
        tgo, tg_lit = _global(c, tg, "targets")
        tlo, tl_lit = _global(c, tl, "target_lengths")
    else:
        raise c.value_error(
            f"targets must be padded (N, S) or concatenated 1-D; got shape {tg.shape}")
    reduction = a["reduction"]
    result = _result_dtype(x.dtype)
    opts = {k: v for k, v in a.items()
            if k not in ("logits", "targets", "input_lengths", "target_lengths")}
    cfg = _Cfg(c.name, c.fl, [], opts, reduction, "logits", result)
    gr = _Graph(c, x, tgo.arr if tgo else tg_lit, ilo.arr, tlo.arr if tlo else tl_lit, opts)
    gr.use(x, tgo, ilo, tlo)
    mean = reduction == "mean"

    def keys(b):
        ks = [(x.name,) + b, tgo.key(b) if tgo else tg_lit, ilo.key(b),
              tlo.key(b) if tlo else tl_lit]
        if concat:
            s = g.starts[0]
            ks.append((s[b[0]], s[b[0] + 1]))
        return ks

    method = c.method
    blocks = g.blocks
    ks = {}
    for b in blocks:
        scale = (_product(g.chunks[0][b[0]], _scale(n)) if (mean and method != "value")
                 else None)
        ks[b] = gr.add(gr.key("kernel", *b), (_ctc_block, cfg, b, method, scale, *keys(b)))
    vchunks = (x.chunks[0],)
    if method == "value":
        if reduction == "none":
            return gr.output("value", {b[:1]: k for b, k in ks.items()}, vchunks, result)
        root = gr.tree("sum", list(ks.values()))
        return gr.scalar("value", (_value_static_mean, root, float(n), 1.0, result) if mean
                         else (_value_sum, root, result), result)
    if method == "grad":
        return gr.output("grad", ks, x.chunks, result)
    if reduction != "none":
        parts = [gr.add(gr.key("part", *b), (_pick, k, 0)) for b, k in ks.items()]
        root = gr.tree("sum", parts)
    grad = gr.output("grad", {b: (_pick, k, 1) for b, k in ks.items()}, x.chunks, result)
    if reduction == "none":
        value = gr.output("value", {b[:1]: (_pick, k, 0) for b, k in ks.items()}, vchunks,
                          result)
    else:
        value = gr.scalar("value", (_value_static_mean, root, float(n), 1.0, result) if mean
                          else (_value_sum, root, result), result)
    return value, grad


def _labels_rows(c, g, tg):
    """Padded (N, S) targets chunked with the batch, S whole."""
    if tg.dtype.kind not in "iu":
        raise TypeError(c.msg(f"targets must hold integers, got dtype {tg.dtype}"))
    chunks = (g.chunks[0], (tg.shape[1],))
    lazy = not isinstance(tg, np.ndarray)
    arr = tg.rechunk(chunks) if lazy else da.from_array(tg, chunks=chunks)
    return _Operand(arr, (0, None), lazy)


def _ssd_block(cfg: _Cfg, idx, want, scale, lp, lt, cf, y):
    if lp.dtype == _F16:
        lp = lp.astype(_F32)
    if cf.dtype == _F16:
        cf = cf.astype(_F32)
    kw = dict(cfg.options, loc_pred=lp, loc_target=lt, conf_logits=cf, labels=y)
    none = cfg.reduction == "none"
    kw["reduction"] = "none" if none else "sum"
    if want == "value":
        v = _invoke(cfg, idx, "value", kw)
        if none:
            return _as(v, cfg.result)
        return (float(v), float(np.count_nonzero(np.asarray(y) > 0)))
    v, (gl, gc) = _invoke(cfg, idx, "value_and_grad", kw)
    grads = (_scaled(gl, scale, cfg.result), _scaled(gc, scale, cfg.result))
    if want == "grad":
        return grads
    return (_as(v, cfg.result) if none else (float(v),)), grads


def _positives_leaf(y):
    return (float(np.count_nonzero(np.asarray(y) > 0)),)


def _ssd_scale(root):
    """1 / (positive anchors); 0 when there are none (every reduction is 0 then)."""
    return 0.0 if root[0] == 0 else _scale(root[0])


def _ssd_value(root, result):
    return result.type(0.0 if root[1] == 0 else _product(root[0], _scale(root[1])))


def _ssd_multibox(c: _Call):
    a = c.args
    lp0 = _host(c, a["loc_pred"], "loc_pred")
    lt = _host(c, a["loc_target"], "loc_target")
    cf0 = _host(c, a["conf_logits"], "conf_logits")
    y = _host(c, a["labels"], "labels")
    ncls = cf0.shape[2] if cf0.ndim == 3 else 1
    c.probe({"loc_pred": np.zeros((1, 1, 4), lp0.dtype),
             "loc_target": np.zeros((1, 1, 4), lt.dtype),
             "conf_logits": np.zeros((1, 1, ncls), cf0.dtype),
             "labels": np.zeros((1, 1), y.dtype)})
    if lp0.ndim != 3 or lp0.shape[2] != 4:
        raise c.value_error(f"loc_pred must have shape (N, A, 4); got {lp0.shape}")
    n, na, _ = lp0.shape
    if lt.shape != lp0.shape:
        raise c.value_error(f"loc_target must have loc_pred's shape {lp0.shape}; got {lt.shape}")
    if cf0.ndim != 3 or cf0.shape[:2] != (n, na):
        raise c.value_error(f"conf_logits must have shape (N={n}, A={na}, C); got {cf0.shape}")
    if y.shape != (n, na):
        raise c.value_error(f"labels must have shape (N={n}, A={na}); got {y.shape}")
    lp = _prediction(c, "loc_pred", (1, 2), "the anchor and box axes", v=lp0)
    g = _Grid(lp.chunks)
    cf = _prediction(c, "conf_logits", (1, 2), "the anchor and class axes", v=cf0)
    if cf.chunks[0] != lp.chunks[0]:
        cf = cf.rechunk({0: lp.chunks[0]})
    cfo = _Operand(cf, (0, None, None))
    lto = _align(c, g, lt, "loc_target", lp.shape, (0, 1, 2), "loc_pred's shape")
    if y.dtype.kind not in "iu":
        raise TypeError(c.msg(f"labels must hold integers, got dtype {y.dtype}"))
    yo = _labels_rows(c, g, y)
    reduction = a["reduction"]
    wide = max(lp.dtype.itemsize, cf.dtype.itemsize)
    result = _result_dtype(np.dtype(f"f{wide}"))
    opts = {k: v for k, v in a.items()
            if k not in ("loc_pred", "loc_target", "conf_logits", "labels")}
    cfg = _Cfg(c.name, c.fl, [], opts, reduction, "loc_pred", result)
    gr = _Graph(c, lp, lto.arr, cf, yo.arr, opts)
    lpo = _Operand(lp, (0, 1, 2))
    gr.use(lpo, lto, cfo, yo)
    mean = reduction == "mean"
    method = c.method
    scale = None
    if mean and method != "value":
        (yc,) = gr.clone(yo)
        leaves = [gr.add(gr.key("pos", *b), (_positives_leaf, yc.key(b)), True)
                  for b in g.blocks]
        scale = gr.add(gr.key("scale"), (_ssd_scale, gr.tree("pos-sum", leaves, early=True)),
                       True)
    ks = {b: gr.add(gr.key("kernel", *b), (_ssd_block, cfg, b, method, scale, lpo.key(b),
                                           lto.key(b), cfo.key(b), yo.key(b)))
          for b in g.blocks}
    vchunks = (lp.chunks[0],)
    if method == "value":
        if reduction == "none":
            return gr.output("value", {b[:1]: k for b, k in ks.items()}, vchunks, result)
        root = gr.tree("sum", list(ks.values()))
        return gr.scalar("value", (_ssd_value, root, result) if mean
                         else (_value_sum, root, result), result)
    if method == "grad":
        gk = ks
    else:
        gk = {b: gr.add(gr.key("grads", *b), (_pick, k, 1)) for b, k in ks.items()}
        if reduction != "none":
            parts = [gr.add(gr.key("part", *b), (_pick, k, 0)) for b, k in ks.items()]
            root = gr.tree("sum", parts)
    grads = (gr.output("grad0", {b: (_pick, k, 0) for b, k in gk.items()}, lp.chunks, result),
             gr.output("grad1", {b: (_pick, k, 1) for b, k in gk.items()}, cf.chunks, result))
    if method == "grad":
        return grads
    if reduction == "none":
        value = gr.output("value", {b[:1]: (_pick, k, 0) for b, k in ks.items()}, vchunks,
                          result)
    else:
        value = gr.scalar("value", (_value_times, root, scale, result) if mean
                          else (_value_sum, root, result), result)
    return value, grads


# ============================================================================================
# row functions: softmax, log_softmax, logsumexp


def _row_block(fn, name, idx, method, opts, x, v=None):
    if x.dtype == _F16:
        x = x.astype(_F32)
        result = _F16
    else:
        result = x.dtype
    cfg = _Cfg(name, fn, [], {}, None, "x", result)
    kw = dict(opts, x=x)
    if v is not None:
        kw["cotangent"] = v
    out = _invoke(cfg, idx, method, kw)
    if isinstance(out, tuple):
        return tuple(_as(o, result) for o in out)
    return _as(out, result)


class DaskRowFunction:
    """A fastloss row function (``softmax``, ``log_softmax``, ``logsumexp``) mapped over the
    blocks of a Dask array whose class axis is one chunk (a prediction chunked along it is
    rechunked with a :class:`dask.array.PerformanceWarning`).

    ``f(x, axis=-1, temperature=1.0)`` returns a lazy Dask array (``logsumexp``: ``x``'s shape
    without ``axis``); ``f.vjp(x, cotangent, ...)`` the vector-Jacobian product;
    ``logsumexp.grad`` and ``logsumexp.value_and_grad`` as in memory (one kernel call per block).

    See Also
    --------
    DaskLoss : the losses over Dask arrays.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import fastloss.dask as fld
    >>> x = da.from_array(np.log(np.array([[1.0, 3.0], [2.0, 2.0]])), chunks=(1, 2))
    >>> fld.softmax(x).compute()
    array([[0.25, 0.75],
           [0.5 , 0.5 ]])
    """

    def __init__(self, fl_obj):
        self._fl = fl_obj
        self.__name__ = self.__qualname__ = fl_obj.__name__
        self.__module__ = __name__
        self.__signature__ = inspect.signature(fl_obj.__call__)
        self.__doc__ = (f"``fastloss.{fl_obj.__name__}`` mapped over the blocks of a Dask "
                        f"array (the class axis in one chunk).\n\n{fl_obj.__doc__}")
        self.vjp = self._entry("vjp")
        if hasattr(fl_obj, "value_and_grad"):
            self.grad = self._entry("grad")
            self.value_and_grad = self._entry("value_and_grad")

    def __repr__(self) -> str:
        return f"<fastloss.dask function {self.__name__}{self.__signature__}>"

    def __reduce__(self):
        return self.__name__

    def _entry(self, method):
        sig = inspect.signature(getattr(self._fl, method))

        def entry(*args, **kwargs):
            return self._run(method, sig, args, kwargs)

        entry.__name__ = method
        entry.__qualname__ = f"{self.__name__}.{method}"
        entry.__signature__ = sig
        entry.__doc__ = getattr(self._fl, method).__doc__
        return entry

    def __call__(self, *args, **kwargs):
        return self._run("value", self.__signature__, args, kwargs)

    def _run(self, method, sig, args, kwargs):
        c = _bind(self.__name__, self._fl, method, sig, args, kwargs)
        a = c.args
        x0 = _host(c, a["x"], "x")
        v0 = _host(c, a["cotangent"], "cotangent") if "cotangent" in a else None
        probe = {"x": np.zeros((1,) * x0.ndim, x0.dtype)}
        if v0 is not None:
            lse = self.__name__ == "logsumexp"
            probe["cotangent"] = np.zeros(() if lse and x0.ndim <= 1 else
                                          (1,) * (x0.ndim - (1 if lse else 0)), v0.dtype)
        c.probe(probe, method=method)
        ax = _axis(c, a["axis"], x0.ndim)
        x = _prediction(c, "x", (ax,), "the class axis", v=x0)
        g = _Grid(x.chunks)
        opts = {k: val for k, val in a.items() if k not in ("x", "cotangent")}
        lse = self.__name__ == "logsumexp"
        reduced_chunks = x.chunks[:ax] + x.chunks[ax + 1:]
        vo = None
        if v0 is not None:
            if lse:
                shape = x.shape[:ax] + x.shape[ax + 1:]
                if v0.shape != shape:
                    raise c.value_error(f"cotangent must have shape {shape}; got {v0.shape}")
                vo = _align(c, g, v0, "cotangent", shape,
                            tuple(k for k in range(x.ndim) if k != ax), "the result's shape")
            else:
                if v0.shape != x.shape:
                    raise c.value_error(f"cotangent must have shape {x.shape}; got {v0.shape}")
                vo = _align(c, g, v0, "cotangent", x.shape, tuple(range(x.ndim)),
                            "x's shape")
        gr = _Graph(c, x, vo.arr if vo else None, opts)
        gr.use(x, vo)
        result = _result_dtype(x.dtype)
        ks = {b: gr.add(gr.key("block", *b),
                        (_row_block, self._fl, self.__name__, b, method, opts, (x.name,) + b,
                         *([vo.key(b)] if vo else [])))
              for b in g.blocks}
        if method == "value_and_grad":
            value = gr.output("value", {_drop_axis(b, ax): (_pick, k, 0) for b, k in ks.items()},
                              reduced_chunks, result)
            grad = gr.output("grad", {b: (_pick, k, 1) for b, k in ks.items()}, x.chunks, result)
            return value, grad
        if method == "value" and lse:
            return gr.output("value", {_drop_axis(b, ax): k for b, k in ks.items()},
                             reduced_chunks, result)
        return gr.output(method, ks, x.chunks, result)


# ============================================================================================
# the public objects


def _bind(name, fl_obj, method, sig, args, kwargs) -> _Call:
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"fastloss.dask.{name}{'' if method == 'value' else '.' + method}(): "
                        f"{e}") from None
    bound.apply_defaults()
    a = dict(bound.arguments)
    out = a.pop("out", None)
    if out is not None:
        raise TypeError(
            f"fastloss.dask.{name}(): out= is not supported: the gradient is a lazy Dask array; "
            "write it where you want with dask.array.store or .to_zarr")
    return _Call(name, fl_obj, method, a)


class DaskLoss:
    """A fastloss loss evaluated block by block over Dask arrays.

    ``fastloss.dask.<name>`` takes the same arguments as ``fastloss.<name>`` (Dask arrays or
    anything NumPy reads) and returns lazy results:

    - ``loss(...)``: the value, a 0-d Dask array (``reduction="none"``: the per-sample losses,
      chunked like the prediction);
    - ``loss.grad(...)``: the gradient, chunked like the prediction (a tuple for losses with
      several differentiated inputs);
    - ``loss.value_and_grad(...)``: both from one kernel pass per block when computed together
      (``dask.compute(value, grad)``).

    ``grad`` and ``value_and_grad`` keep the in-memory signature's ``out`` parameter for
    compatibility but refuse anything other than None (the results are lazy; use
    :func:`dask.array.store` or ``.to_zarr`` to write a gradient). When the in-memory loss has
    ``grad_hess``, ``loss.grad_hess(...)`` maps it the same way.

    Attributes
    ----------
    rule : str
        The chunking rule of the loss's family.
    grad, value_and_grad : callable
        As described above, with the in-memory signatures.

    Raises
    ------
    TypeError, ValueError
        When the graph is built, for anything the shapes, dtypes and options show (with the
        in-memory loss's message, prefixed ``fastloss.dask.<name>():``); at compute time, for
        data errors (labels out of range, probabilities outside [0, 1]), naming the block.

    See Also
    --------
    fastloss.Loss : the in-memory loss object.
    DaskRowFunction : softmax, log_softmax and logsumexp over Dask arrays.

    Notes
    -----
    The chunking rules of each family, how ``"mean"`` denominators are computed and the
    determinism guarantee are in the :mod:`fastloss.dask` module docstring and the scale-out
    guide.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import fastloss.dask as fld
    >>> pred = da.from_array(np.array([0.5, 1.0, 2.0, 4.0]), chunks=2)
    >>> target = da.from_array(np.array([1.0, 1.0, 2.0, 2.0]), chunks=2)
    >>> value, grad = fld.mse.value_and_grad(pred, target)
    >>> float(value.compute())
    1.0625
    >>> grad.compute()
    array([-0.25,  0.  ,  0.  ,  1.  ])
    >>> grad.chunks
    ((2, 2),)
    """

    def __init__(self, fl_obj, build, rule: str, **config):
        name = fl_obj.__name__
        self.__name__ = self.__qualname__ = name
        self.__module__ = __name__
        self._fl = fl_obj
        self._build = build
        self._config = config
        self.rule = rule
        self.__signature__ = inspect.signature(fl_obj)
        memory_doc = inspect.cleandoc(fl_obj.__doc__ or "")
        self.__doc__ = (f"``fastloss.{name}`` over Dask arrays (:class:`DaskLoss`). Chunking: "
                        f"{rule}.\n\nThe in-memory loss:\n\n{memory_doc}")
        self.grad = self._entry("grad")
        self.value_and_grad = self._entry("value_and_grad")
        if hasattr(fl_obj, "grad_hess"):
            self.grad_hess = self._entry("grad_hess")

    def _entry(self, method):
        sig = inspect.signature(getattr(self._fl, method))

        def entry(*args, **kwargs):
            return self._run(method, sig, args, kwargs)

        entry.__name__ = method
        entry.__qualname__ = f"{self.__name__}.{method}"
        entry.__signature__ = sig
        entry.__doc__ = (f"``fastloss.{self.__name__}.{method}`` over Dask arrays; see "
                         f":class:`DaskLoss`.")
        return entry

    def __call__(self, *args, **kwargs):
        return self._run("value", self.__signature__, args, kwargs)

    def _run(self, method, sig, args, kwargs):
        c = _bind(self.__name__, self._fl, method, sig, args, kwargs)
        return self._build(c, **self._config)

    def __reduce__(self):
        return self.__name__

    def __repr__(self) -> str:
        return f"<fastloss.dask loss {self.__name__}{self.__signature__}>"


_ANY = "any chunking"
_CLASS = "the class axis in one chunk, any chunking elsewhere"
_BATCH = "along the batch only"

_TABLE = {
    # regression
    "mse": (_elementwise, _ANY, {}),
    "mae": (_elementwise, _ANY, {}),
    "rmse": (_rmse, _ANY + " (the gradient reads the data twice)", {}),
    "msle": (_elementwise, _ANY, {}),
    "huber": (_elementwise, _ANY, {}),
    "smooth_l1": (_elementwise, _ANY, {}),
    "log_cosh": (_elementwise, _ANY, {}),
    "poisson": (_elementwise, _ANY, {}),
    "gamma": (_elementwise, _ANY, {}),
    "tweedie": (_elementwise, _ANY, {}),
    "pinball": (_elementwise, _ANY, {}),
    "poisson_nll": (_elementwise, _ANY, {}),
    "gaussian_nll": (_gaussian_nll, _ANY + " (var: pred's shape or broadcastable to it)", {}),
    # binary
    "binary_cross_entropy": (_elementwise, _ANY, {"factors": ("weight",)}),
    "binary_cross_entropy_with_logits": (_elementwise, _ANY,
                                         {"factors": ("weight", "pos_weight")}),
    "focal": (_elementwise, _ANY, {}),
    "hinge": (_elementwise, _ANY, {}),
    "squared_hinge": (_elementwise, _ANY, {}),
    "gan_generator": (_elementwise, _ANY, {}),
    "gan_discriminator": (_gan_discriminator, _ANY + " (each input its own)", {}),
    # multiclass
    "kl_div": (_elementwise, _ANY, {"batchmean": True}),
    "cross_entropy": (_rows, _CLASS, {"first": "logits", "class_weight": "weight",
                                      "ignore": True}),
    "multi_margin": (_rows, _CLASS, {"first": "pred", "class_weight": "weight"}),
    "distillation": (_rows, _CLASS, {"first": "student_logits", "same": ("teacher_logits",)}),
    # segmentation, sequence, detection
    "dice": (_dice, _CLASS + " (chunked spatial axes: a two-phase graph)", {}),
    "ctc": (_ctc, _BATCH, {}),
    "ssd_multibox": (_ssd_multibox, _BATCH, {}),
}

def _make(name: str) -> DaskLoss:
    build, rule, config = _TABLE[name]
    return DaskLoss(getattr(_fl, name), build, rule, **config)


mse = _make("mse")
mae = _make("mae")
rmse = _make("rmse")
msle = _make("msle")
huber = _make("huber")
smooth_l1 = _make("smooth_l1")
log_cosh = _make("log_cosh")
poisson = _make("poisson")
gamma = _make("gamma")
tweedie = _make("tweedie")
pinball = _make("pinball")
poisson_nll = _make("poisson_nll")
gaussian_nll = _make("gaussian_nll")
binary_cross_entropy = _make("binary_cross_entropy")
binary_cross_entropy_with_logits = _make("binary_cross_entropy_with_logits")
focal = _make("focal")
hinge = _make("hinge")
squared_hinge = _make("squared_hinge")
gan_generator = _make("gan_generator")
gan_discriminator = _make("gan_discriminator")
kl_div = _make("kl_div")
cross_entropy = _make("cross_entropy")
multi_margin = _make("multi_margin")
distillation = _make("distillation")
dice = _make("dice")
ctc = _make("ctc")
ssd_multibox = _make("ssd_multibox")

softmax = DaskRowFunction(_fl.softmax)
log_softmax = DaskRowFunction(_fl.log_softmax)
logsumexp = DaskRowFunction(_fl.logsumexp)
