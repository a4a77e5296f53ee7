"""``python -m fastloss bench``: time every registered loss against its peers.

For each selected registry case, size (the case's ``bench_shapes``: small, medium, large) and
dtype, this times with ``time.perf_counter`` (a warm-up call first, then the median of repeats):

- fastloss ``value_and_grad`` (one fused kernel call),
- the NumPy reference (``fastloss.reference``: value and gradient, float64, whole-array ops),
- PyTorch CPU forward + backward of the reduced value (when torch is importable and the case
  has a torch peer), with ``torch.set_num_threads`` set to fastloss's thread count,
- scikit-learn's private ``sklearn._loss`` ``loss_gradient`` where it has the loss (per-sample
  losses and gradients, no reduction scaling; the Huber delta is passed explicitly),

and prints a comparison table with the ratios ``peer / fastloss`` and fastloss's effective
throughput: the minimal bytes a value+grad call must move (every input array read once, the
gradient written once) divided by its median time, next to the machine's memory bandwidth
measured here with NumPy (a copy into a preallocated array, and a plain read). A "targets"
section checks the performance goals of the issue. The same peers (``peers()``) drive the
pytest-benchmark suite in ``benchmarks/``.

    python -m fastloss bench --sizes small,medium --losses cross_entropy,huber --markdown
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _config
from ._registry import CASES

SIZES = ("small", "medium", "large")
DTYPES = {"float32": np.float32, "float64": np.float64}
PEERS = ("fastloss", "fastloss-out", "numpy-ref", "torch", "sklearn")
MODES = ("value", "value+grad")
SEED = 0


# --------------------------------------------------------------------------------------------
# Inputs


def reduction_for(case) -> str:
    """The reduction every peer is timed with: ``"mean"`` where the case has it."""
    return "mean" if "mean" in case.reductions else case.reductions[-1]


def make_inputs(case, size: str, dtype, seed: int = SEED):
    """``(args, kwargs)`` of ``case`` at ``size`` (small/medium/large) in ``dtype``, without
    sample weights, with the benchmark reduction in ``kwargs``."""
    shape = case.bench_shapes[SIZES.index(size)]
    args, kw = case.make(np.random.default_rng(seed), dtype, shape, False)
    return args, {**kw, "reduction": reduction_for(case)}


def _arrays(args, kw):
    return [a for a in (*args, *kw.values()) if isinstance(a, np.ndarray)]


def min_bytes(args, kw, mode: str = "value+grad", grad_args=(0,)) -> int:
    """The fewest bytes a call must move: every input array read once, plus (value+grad) each
    gradient, of its input's size, written once."""
    n = sum(a.nbytes for a in _arrays(args, kw))
    if mode == "value+grad":
        n += sum(np.asarray(args[k]).nbytes for k in grad_args)
    return n


def select_cases(names=None):
    """Registry cases selected by ``names`` (all when empty), in registry order: a name equal to
    a case id selects that case; otherwise it is a glob over case ids (``"cross_entropy*"``
    selects every cross-entropy variant) or a loss name (all cases of that loss)."""
    if not names:
        return list(CASES)
    ids = {c.id for c in CASES}
    chosen, unknown = set(), []
    for name in names:
        hit = {name} if name in ids else (
            {c.id for c in CASES if fnmatch.fnmatchcase(c.id, name) or c.loss.__name__ == name})
        if not hit:
            unknown.append(name)
        chosen |= hit
    if unknown:
        raise ValueError(f"unknown loss(es) {', '.join(unknown)}; known case ids: "
                         f"{', '.join(c.id for c in CASES)}")
    return [c for c in CASES if c.id in chosen]


# --------------------------------------------------------------------------------------------
# Peers


def _torch():
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None, None
    return torch, F


def _sklearn_loss():
    try:
        from sklearn._loss import loss as sk_loss
    except ImportError:
        return None
    return sk_loss


def torch_peer(case, args, kw, mode: str, threads: int):
    """PyTorch CPU on the same memory (``torch.from_numpy``): forward under ``no_grad`` for
    "value", forward + backward of the reduced value for "value+grad". ``None`` when torch is
    missing or the case has no torch peer."""
    torch, F = _torch()
    if torch is None or case.torch is None:
        return None
    torch.set_num_threads(max(1, threads))
    # F.kl_div(reduction="mean") warns about its semantics at every first call site
    warnings.filterwarnings("ignore", message=".*'mean' divides the total loss", category=UserWarning)
    dtype = np.asarray(args[0]).dtype

    def tensor(v):
        if not isinstance(v, np.ndarray):
            return v
        if v.dtype.kind == "f" and v.dtype != dtype:
            v = v.astype(dtype)  # torch wants class weights etc. in the logits' dtype
        return torch.from_numpy(np.ascontiguousarray(v))

    tensors = [tensor(a) for a in args]
    tkw = {k: tensor(v) for k, v in kw.items()}

    if mode == "value":
        def run():
            with torch.no_grad():
                return case.torch(F, *tensors, **tkw)
        return run

    for k in case.grad_args:
        tensors[k] = tensors[k].detach().requires_grad_(True)
    leaves = [tensors[k] for k in case.grad_args]

    def run():
        for leaf in leaves:
            leaf.grad = None  # a fresh gradient each call, as fastloss returns a fresh array
        out = case.torch(F, *tensors, **tkw)
        (out if out.ndim == 0 else out.sum()).backward()
        grads = tuple(leaf.grad for leaf in leaves)
        return out.detach(), grads if len(grads) > 1 else grads[0]
    return run


# sklearn._loss class for each fastloss loss it has; its losses are per sample (no reduction)
SKLEARN_LOSSES = {"cross_entropy": "HalfMultinomialLoss", "huber": "HuberLoss",
                  "mse": "HalfSquaredError",
                  "binary_cross_entropy_with_logits": "HalfBinomialLoss"}


def sklearn_spec(case, args, kw):
    """``(sklearn._loss class name, constructor kwargs)`` when scikit-learn has this case's loss
    with this case's options, else ``None``. ``HalfMultinomialLoss``: cross-entropy with integer
    labels and the classes last; ``HuberLoss``: delta passed explicitly (sklearn's estimators
    set it from a quantile of the residuals); ``HalfSquaredError``: mse (half the squared
    error); ``HalfBinomialLoss``: bce_with_logits."""
    name = case.loss.__name__
    if name not in SKLEARN_LOSSES or len(args) != 2:
        return None
    pred, target = (np.asarray(a) for a in args)
    extra = {k for k in kw if k not in ("reduction", "sample_weight")}
    if name == "cross_entropy":
        if extra or pred.ndim != 2 or target.dtype.kind not in "iu":
            return None
        return SKLEARN_LOSSES[name], {"n_classes": pred.shape[1]}
    if target.shape != pred.shape:
        return None
    if name == "huber" and extra <= {"delta"}:
        return SKLEARN_LOSSES[name], {"delta": float(kw.get("delta", 1.0))}
    if not extra:
        return SKLEARN_LOSSES[name], {}
    return None


def sklearn_peer(case, args, kw, mode: str, threads: int):
    """scikit-learn's ``sklearn._loss`` (see ``sklearn_spec``) on the same data: its losses and
    gradients are per sample (no mean scaling of the gradient); the reduced value is the mean
    of the per-sample losses. ``None`` where sklearn is missing or lacks the loss."""
    spec = sklearn_spec(case, args, kw)
    sk = _sklearn_loss() if spec else None
    if sk is None:
        return None
    cls, ctor = spec
    obj = getattr(sk, cls)(**ctor)
    pred = np.ascontiguousarray(args[0])
    raw = pred if cls == "HalfMultinomialLoss" else pred.reshape(-1)
    y = np.ascontiguousarray(args[1], dtype=pred.dtype).reshape(-1)
    n_threads = max(1, threads)
    if mode == "value":
        return lambda: obj.loss(y, raw, None, None, n_threads).mean()

    def run():
        loss, grad = obj.loss_gradient(y, raw, None, None, None, n_threads)
        return loss.mean(), grad
    return run


def peer(case, args, kw, mode: str, name: str, threads: int | None = None):
    """A zero-argument callable running peer ``name`` (one of ``PEERS``) on this case in
    ``mode``, or ``None`` where that peer is unavailable. The NumPy reference always computes
    value and gradient, so it is a peer of "value+grad" only."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if threads is None:
        threads = _config.get_num_threads()
    if name == "fastloss":
        if mode == "value":
            return lambda: case.loss(*args, **kw)
        return lambda: case.loss.value_and_grad(*args, **kw)
    if name == "fastloss-out":  # the gradient written into one reused buffer (out=)
        if mode == "value":
            return None
        out = case.loss.value_and_grad(*args, **kw)[1]
        return lambda: case.loss.value_and_grad(*args, out=out, **kw)
    if name == "numpy-ref":
        return (lambda: case.reference(*args, **kw)) if mode == "value+grad" else None
    if name == "torch":
        return torch_peer(case, args, kw, mode, threads)
    if name == "sklearn":
        return sklearn_peer(case, args, kw, mode, threads)
    raise ValueError(f"peer must be one of {PEERS}, got {name!r}")


def peers(case, args, kw, mode: str = "value+grad", threads: int | None = None) -> dict:
    """``{peer name: callable}`` for every peer available for this case and mode."""
    out = {name: peer(case, args, kw, mode, name, threads) for name in PEERS}
    return {k: v for k, v in out.items() if v is not None}


# --------------------------------------------------------------------------------------------
# Timing


def time_call(fn, repeats: int, budget: float = 2.0) -> float:
    """Median seconds per call of ``fn``: one warm-up call, then ``repeats`` timed samples,
    fewer when a call is so slow that they would exceed ``budget`` seconds (at least one). A
    warm-up call that alone takes longer than ``budget`` is the only one (its time is returned):
    this keeps the NumPy reference at large sizes to a single call. Calls faster than 0.2 ms
    are looped within a sample to be above the timer's noise."""
    t0 = time.perf_counter()
    fn()
    warm = time.perf_counter() - t0
    if warm > budget:
        return warm
    inner = 1 if warm >= 2e-4 else int(np.ceil(2e-4 / max(warm, 1e-7)))
    repeats = max(1, min(repeats, int(budget / max(warm * inner, 1e-9))))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return float(np.median(samples))


def measure_bandwidth(mib: int = 512, repeats: int = 5) -> dict:
    """The machine's memory bandwidth seen by NumPy, in GB/s (1e9 bytes/s): ``copy`` is
    ``np.copyto`` of a ``mib`` MiB float32 array into a preallocated (already touched) one,
    counted as read + write; ``read`` is ``arr.sum()``. Medians of ``repeats``."""
    n = max(1, mib * 2**20 // 4)
    src = np.ones(n, dtype=np.float32)
    dst = np.zeros_like(src)
    copy_t = time_call(lambda: np.copyto(dst, src), repeats, budget=60)
    read_t = time_call(src.sum, repeats, budget=60)
    return {"mib": mib, "copy": 2 * src.nbytes / copy_t / 1e9, "read": src.nbytes / read_t / 1e9}


# --------------------------------------------------------------------------------------------
# The comparison


@dataclass
class Row:
    case: str
    loss: str
    size: str
    shape: tuple
    dtype: str
    bytes: int  # minimal bytes moved by a value+grad call
    times: dict = field(default_factory=dict)  # peer -> median seconds (value+grad)
    errors: dict = field(default_factory=dict)  # peer -> message
    t1: float | None = None  # fastloss value+grad, 1 thread (thread scaling, large float32)
    t2: float | None = None  # the same with 2 threads

    @property
    def gbs(self) -> float | None:
        """Throughput of fastloss writing into a reused buffer (out=), else of plain calls."""
        t = self.times.get("fastloss-out") or self.times.get("fastloss")
        return self.bytes / t / 1e9 if t else None

    def ratio(self, peer: str, base: str = "fastloss") -> float | None:
        t, f = self.times.get(peer), self.times.get(base)
        return t / f if t and f else None


def run(cases, sizes, dtypes, repeats: int, threads: int, budget: float = 2.0,
        scaling: bool = False, log=None):
    """Time value+grad of every (case, size, dtype) against its peers; a list of ``Row``. With
    ``scaling``, large float32 rows also time fastloss with 1 and with 2 threads (``Row.t1``,
    ``Row.t2``) on the same inputs."""
    rows = []
    for case in cases:
        for size in sizes:
            for dname in dtypes:
                args, kw = make_inputs(case, size, DTYPES[dname])
                row = Row(case.id, case.loss.__name__, size, np.asarray(args[0]).shape, dname,
                          min_bytes(args, kw, grad_args=case.grad_args))
                for name, fn in peers(case, args, kw, "value+grad", threads).items():
                    try:
                        row.times[name] = time_call(fn, repeats, budget)
                    except Exception as e:  # a peer that cannot run this case
                        row.errors[name] = f"{type(e).__name__}: {e}"
                if scaling and size == "large" and dname == "float32":
                    row.t1, row.t2 = _thread_scaling(case, args, kw, repeats, budget)
                rows.append(row)
                if log:
                    log(row)
                del args, kw
    return rows


def _thread_scaling(case, args, kw, repeats: int, budget: float):
    """fastloss value+grad seconds with 1 and with 2 threads."""
    saved = _config.THREADS[0]
    ts = []
    try:
        for n in (1, 2):
            _config.set_num_threads(n)
            ts.append(time_call(lambda: case.loss.value_and_grad(*args, **kw), repeats, budget))
    finally:
        _config.THREADS[0] = saved
    return ts


# --------------------------------------------------------------------------------------------
# Output


def fmt_time(s) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _fmt_ratio(r) -> str:
    return "—" if r is None else f"{r:.1f}x"


COLUMNS = ("loss", "shape", "dtype", "fastloss v+g", "fl out=", "NumPy ref", "torch f+b",
           "sklearn", "ref/fl", "torch/fl", "torch/out", "skl/fl", "GB/s", "% bw")


def table_cells(rows, bandwidth: float | None) -> list:
    cells = []
    for r in rows:
        g = r.gbs
        cells.append([
            r.case, str(tuple(r.shape)), r.dtype,
            fmt_time(r.times.get("fastloss")), fmt_time(r.times.get("fastloss-out")),
            fmt_time(r.times.get("numpy-ref")),
            fmt_time(r.times.get("torch")), fmt_time(r.times.get("sklearn")),
            _fmt_ratio(r.ratio("numpy-ref")), _fmt_ratio(r.ratio("torch")),
            _fmt_ratio(r.ratio("torch", "fastloss-out")), _fmt_ratio(r.ratio("sklearn")),
            "—" if g is None else f"{g:.1f}",
            "—" if g is None or not bandwidth else f"{100 * g / bandwidth:.0f}%",
        ])
    return cells


def format_table(rows, bandwidth: float | None, markdown: bool = False) -> str:
    cells = table_cells(rows, bandwidth)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |",
                 "|" + "|".join(["---"] * 3 + ["---:"] * (len(COLUMNS) - 3)) + "|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(COLUMNS)]

    def line(values):
        return "  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()
    return "\n".join([line(COLUMNS), line(["-" * w for w in widths])] + [line(c) for c in cells])


def _find(rows, names, shape, dtype="float32"):
    """The row of the first case named ``names`` (its id, else its loss name) at ``shape``."""
    for key in ("case", "loss"):
        for name in names:
            for r in rows:
                if getattr(r, key) == name and tuple(r.shape) == tuple(shape) and r.dtype == dtype:
                    return r
    return None


def _status(ok) -> str:
    return "MET" if ok else "NOT MET"


def targets(rows, bandwidth: float | None, scaling_measured: bool = True) -> list:
    """The performance goals of the issue, as (description, measured, status) lines."""
    out = []

    def vs_torch(what, names, shape, min_ratio, min_bw=None):
        r = _find(rows, names, shape)
        if r is None or r.ratio("torch") is None:
            if r is None:
                why = "not measured"
            elif "torch" in r.errors:
                why = "torch failed"
            else:
                why = "torch not installed" if _torch()[0] is None else "no torch peer"
            out.append((what, why, "—"))
            return
        pct = 100 * r.gbs / bandwidth if bandwidth else None
        ratio, how = r.ratio("torch"), "plain call"
        if r.ratio("torch", "fastloss-out") is not None:
            ratio, how = r.ratio("torch", "fastloss-out"), "out= buffer"
        ok = ratio >= min_ratio and (min_bw is None or (pct is not None and pct >= min_bw))
        got = f"{ratio:.1f}x torch ({how}; plain call {r.ratio('torch'):.1f}x)"
        if min_bw is not None:
            got += f", {r.gbs:.1f} GB/s = {pct:.0f}% bw" if pct is not None else ", bw unknown"
        out.append((what, got, _status(ok)))

    vs_torch("cross_entropy v+g f32 (4096, 32000): >= 8x torch f+b, >= 60% bw",
             ["cross_entropy"], (4096, 32000), 8, 60)
    vs_torch("cross_entropy v+g f32 (4096, 1000): >= 3x torch f+b",
             ["cross_entropy"], (4096, 1000), 3)
    vs_torch("cross_entropy v+g f32 (64, 10): >= 5x torch f+b per call",
             ["cross_entropy"], (64, 10), 5)
    for name in ("huber", "mse", "binary_cross_entropy_with_logits"):
        if any(c.loss.__name__ == name for c in CASES):
            vs_torch(f"{name} v+g f32 1e7: >= 2x torch f+b, >= 70% bw",
                     [name], (10_000_000,), 2, 70)
        else:
            out.append((f"{name} v+g f32 1e7", "loss not in the registry", "—"))

    large = [r for r in rows if r.size == "large"]
    if not large:
        out.append(("every loss >= 10x NumPy reference at the large size", "not measured", "—"))
    for r in large:
        ratio = r.ratio("numpy-ref")
        out.append((f"{r.case} {r.dtype} large: >= 10x NumPy reference",
                    "not measured" if ratio is None else f"{ratio:.1f}x",
                    "—" if ratio is None else _status(ratio >= 10)))
    scaled = [r for r in rows if r.t1 and r.t2]
    if not scaled:
        out.append(("2 threads vs 1 (large, f32 v+g): >= 1.6x",
                    "not measured" if scaling_measured else "skipped (one CPU)", "—"))
    for r in scaled:
        out.append((f"{r.case} large f32: 2 threads vs 1 >= 1.6x", f"{r.t1 / r.t2:.2f}x",
                    _status(r.t1 / r.t2 >= 1.6)))
    return out


def plot(rows, bandwidth: dict | None, path: str) -> str | None:
    """Throughput (GB/s) vs bytes moved, per loss, for fastloss; ``None`` if matplotlib is
    missing, else the path written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(11, 6))
    colors = plt.get_cmap("tab20").colors
    styles = {"float32": ("-", "o"), "float64": ("--", "s")}
    handles = []
    for i, cid in enumerate(dict.fromkeys(r.case for r in rows)):
        color = colors[i % len(colors)]
        for dname, (ls, marker) in styles.items():
            pts = sorted((r.bytes, r.gbs) for r in rows
                         if r.case == cid and r.dtype == dname and r.gbs)
            if pts:
                ax.plot(*zip(*pts), ls=ls, marker=marker, color=color, markersize=4)
        handles.append(Line2D([], [], color=color, marker="o", label=cid))
    handles += [Line2D([], [], color="gray", ls=ls, marker=m, label=d)
                for d, (ls, m) in styles.items()]
    if bandwidth:
        handles.append(ax.axhline(bandwidth["copy"], color="k", lw=1.5,
                                  label=f"NumPy copy (read+write) {bandwidth['copy']:.1f} GB/s"))
        handles.append(ax.axhline(bandwidth["read"], color="gray", lw=1, ls=":",
                                  label=f"NumPy read (sum) {bandwidth['read']:.1f} GB/s"))
    ax.set_xscale("log")
    ax.set_xlabel("minimal bytes moved per value+grad call (inputs read + gradient written)")
    ax.set_ylabel("effective throughput (GB/s)")
    ax.set_title(f"fastloss value+grad throughput ({_config.get_num_threads()} threads)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _csv(value: str) -> list:
    return [v.strip() for v in value.split(",") if v.strip()]


def _versions(threads: int) -> str:
    torch, _ = _torch()
    sk = _sklearn_loss()
    parts = [f"threads {threads}", f"numpy {np.__version__}"]
    parts.append(f"torch {torch.__version__}" if torch else "torch: not installed (skipped)")
    if sk is not None:
        import sklearn
        parts.append(f"scikit-learn {sklearn.__version__}")
    else:
        parts.append("scikit-learn: not installed (skipped)")
    return ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastloss bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated subset of small,medium,large (default: all)")
    parser.add_argument("--dtypes", default="float32,float64",
                        help="comma-separated subset of float32,float64 (default: both)")
    parser.add_argument("--losses", default="",
                        help="comma-separated case ids, globs over them ('cross_entropy*') or "
                             "loss names (default: every case)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for fastloss, torch and sklearn (default: fastloss's)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per measurement")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="seconds per measurement; slow peers get fewer repeats (>= 1)")
    parser.add_argument("--bandwidth-mib", type=int, default=512,
                        help="array size for the bandwidth measurement (default 512 MiB)")
    parser.add_argument("--plot", default="fastloss-bench.png", metavar="PATH",
                        help="throughput plot (needs matplotlib; default fastloss-bench.png)")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    opts = parser.parse_args(argv)

    sizes, dtypes = _csv(opts.sizes), _csv(opts.dtypes)
    bad = [s for s in sizes if s not in SIZES] + [d for d in dtypes if d not in DTYPES]
    if bad or not sizes or not dtypes:
        parser.error(f"unknown or missing size/dtype: {', '.join(bad) or '(empty)'}")
    if opts.repeats < 1:
        parser.error("--repeats must be >= 1")
    try:
        cases = select_cases(_csv(opts.losses))
    except ValueError as e:
        parser.error(str(e))
    if opts.threads is not None and opts.threads < 1:
        parser.error("--threads must be >= 1")
    saved = _config.THREADS[0]
    try:
        if opts.threads is not None:
            _config.set_num_threads(opts.threads)
        return _report(opts, sizes, dtypes, cases)
    finally:
        _config.THREADS[0] = saved


def _report(opts, sizes, dtypes, cases) -> int:
    threads = _config.get_num_threads()

    load = ", load average %.2f %.2f %.2f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"fastloss bench: {_versions(threads)}, CPUs {os.cpu_count()}{load}")
    bw = measure_bandwidth(opts.bandwidth_mib)
    print(f"measured bandwidth ({bw['mib']} MiB float32): copy (read+write) {bw['copy']:.1f} GB/s, "
          f"read (sum) {bw['read']:.1f} GB/s")
    print("times: median per value+grad call; ratios: peer time / fastloss time; GB/s: inputs "
          "read once + gradient written once / fastloss time; % bw: of the copy bandwidth")
    print("sklearn: sklearn._loss per-sample loss_gradient (no mean scaling of the gradient)")
    print(flush=True)

    scaling = (os.cpu_count() or 1) >= 2
    rows = run(cases, sizes, dtypes, opts.repeats, threads, opts.budget, scaling,
               log=lambda r: print(f"  measured {r.case} {r.shape} {r.dtype}", file=sys.stderr,
                                   flush=True))
    print(format_table(rows, bw["copy"], opts.markdown))
    errors = [(r, p, m) for r in rows for p, m in r.errors.items()]
    for r, p, m in errors:
        print(f"note: {p} failed on {r.case} {r.shape} {r.dtype}: {m}")

    print()
    print("targets (float32 unless stated):")
    tg = targets(rows, bw["copy"], scaling)
    width = max(len(t[0]) for t in tg)
    for what, got, status in tg:
        print(f"  {what:<{width}}  {got:>32}  {status}")

    if not opts.no_plot:
        path = plot(rows, bw, opts.plot)
        print()
        print(f"plot: {path}" if path else "plot: skipped (matplotlib is not installed)")
    return 0
