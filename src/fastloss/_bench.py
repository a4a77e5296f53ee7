"""``python -m fastloss bench``: fastloss against the fastest peer a user would pick.

Every workload (fastloss._peers.WORKLOADS: a loss at one shape, float32, value and gradient of
the mean) is timed for fastloss (a plain call, and ``out=`` reusing one gradient buffer) and
each installed peer - PyTorch written as a user writes it, JAX ``jit(value_and_grad)`` with the
inputs on the device, scikit-learn's ``sklearn._loss`` with ``n_threads``, hand-vectorised
NumPy - side by side in one process, with the same thread count for all:

- calls are interleaved (one call of each peer per round, medians over rounds) so that drift
  in the machine's speed affects every peer alike; small workloads are also timed in a hot
  loop, as a training loop calls them;
- every row gives the fastest peer and fastloss's ratio to it (plain and ``out=``);
- memory-bound rows give GB/s (inputs read once + gradient written once, over the time) and
  its share of the copy bandwidth: a copy of the row's prediction with every thread, timed in
  the same interleaved rounds (the start-up probe, on arrays at least 4x the last-level cache,
  is printed too); a row whose data fits in that cache says so, since a share above 100 %
  then only means the data was cache-resident;
- the targets of the performance issue are checked (MET / NOT MET);
- a busy machine (other processes' CPU time, before and during the timings) is reported, and
  ratios are withheld rather than printed misleadingly.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import _config, _kernels
from ._peers import WORKLOADS, Workload

PEER_NAMES = ("torch", "jax", "sklearn", "numpy")
COPY = "copy"  # a memory-bound row's bound: stream_copy of its prediction, same rounds


# --------------------------------------------------------------------------------------------
# the machine


def last_level_cache() -> int:
    """Bytes of the largest CPU cache (sysfs on Linux; 32 MiB when it cannot be read)."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in os.listdir(base):
            try:
                with open(f"{base}/{entry}/size") as f:
                    text = f.read().strip()
            except OSError:
                continue
            unit = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
            best = max(best, int(text.rstrip("KMG")) * unit)
    except OSError:
        pass
    return best or 32 * 2**20


def bandwidth(threads: int, repeats: int = 5) -> dict:
    """Copy (read + write) and read bandwidth in GB/s, every thread, warm buffers, arrays of
    at least 4x the last-level cache (and 256 MiB)."""
    nbytes = max(4 * last_level_cache(), 256 * 2**20)
    n = nbytes // 4
    src = np.ones(n, dtype=np.float32)
    dst = np.zeros(n, dtype=np.float32)  # touched: no page faults in the timed copies
    copies, reads = [], []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        _kernels.stream_copy(src, dst, threads)
        t1 = time.perf_counter()
        _kernels.stream_sum(src, threads)
        t2 = time.perf_counter()
        copies.append(t1 - t0)
        reads.append(t2 - t1)
    copy_t, read_t = np.median(copies[1:]), np.median(reads[1:])
    return {"bytes": 4 * n, "copy": 2 * 4 * n / copy_t / 1e9, "read": 4 * n / read_t / 1e9,
            "llc": last_level_cache()}


class OtherCPU:
    """CPU time spent by other processes since this object was made: the machine's busy time
    (``/proc/stat``) less this process's own (``os.times``: every thread of it, the peers'
    thread pools included). A load average cannot tell the two apart - a 2-thread benchmark
    alone shows a load of 2 - so it would call every run busy."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat", encoding="ascii") as f:
                ticks = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        t = os.times()
        return busy, t.user + t.system + t.children_user + t.children_system, time.monotonic()

    def cpus(self) -> float | None:
        """Other processes' average CPU use since the start, in CPUs (1.0: one CPU kept busy),
        or None where ``/proc/stat`` is not available."""
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return None
        other = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(0.0, other / (end[2] - self.start[2]))


def busy_reason(monitor: OtherCPU, cpus: int) -> str | None:
    """Why timings would be unreliable (other processes kept a fifth of the CPUs busy over the
    monitor's span), or None."""
    used = monitor.cpus()
    if used is not None and used > 0.2 * cpus:
        return f"other processes used {used:.2f} of {cpus} CPUs"
    return None


def quiet_check(cpus: int, seconds: float = 1.0) -> str | None:
    """busy_reason over ``seconds`` of this process sleeping, before any timing."""
    monitor = OtherCPU()
    time.sleep(seconds)
    return busy_reason(monitor, cpus)


# --------------------------------------------------------------------------------------------
# timing


def time_interleaved(calls: dict, rounds: int, budget: float) -> dict:
    """``{name: [seconds per call, one per round]}``: each round calls every function once
    (after one warm-up call each, which also compiles JAX). A function whose warm-up took more
    than ``budget`` gets at most 2 rounds."""
    warm = {}
    for name, fn in calls.items():
        t0 = time.perf_counter()
        fn()
        warm[name] = time.perf_counter() - t0
    times = {name: [] for name in calls}
    names = list(calls)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if warm[name] > budget and len(times[name]) >= 2:
                continue
            t0 = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def time_hot(calls: dict, min_loop: float = 0.05, repeats: int = 5) -> dict:
    """``{name: [seconds per call in each repeat]}`` of a hot loop: each repeat runs a function
    back to back for at least ``min_loop`` seconds, as a training loop calls it; repeats are
    interleaved across functions."""
    loops = {}
    for name, fn in calls.items():
        fn()
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        loops[name] = max(1, int(min_loop / one))
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            k = loops[name]
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            times[name].append((time.perf_counter() - t0) / k)
    return times


def fastloss_calls(w: Workload, args, kw) -> dict:
    """fastloss's plain call and its ``out=`` call (one reused gradient buffer)."""
    calls = {"fastloss": lambda: w.loss.value_and_grad(*args, **kw)}
    buf = np.empty_like(args[0])
    calls["fastloss out="] = lambda: w.loss.value_and_grad(*args, out=buf, **kw)
    return calls


def peer_calls(w: Workload, args, kw, threads: int, wanted=PEER_NAMES) -> dict:
    out = {}
    for name in wanted:
        factory = w.peers.get(name)
        fn = factory(args, kw, threads) if factory else None
        if fn is not None:
            out[name] = fn
    return out


@dataclass
class Row:
    workload: str
    mode: str  # "interleaved" or "hot loop"
    times: dict = field(default_factory=dict)  # name -> list of seconds
    nbytes: int = 0  # inputs read once + gradient written once
    memory_bound: bool = False
    copy_bytes: int = 0  # read + written by the copy timed alongside (times[COPY])

    def median(self, name):
        t = self.times.get(name)
        return float(np.median(t)) if t else None

    def fastest_peer(self):
        peers = [(self.median(p), p) for p in PEER_NAMES if self.times.get(p)]
        return min(peers) if peers else (None, None)

    def ratio(self, name="fastloss"):
        t_peer, _ = self.fastest_peer()
        t = self.median(name)
        return t_peer / t if t_peer and t else None

    def gbs(self):
        t = self.median("fastloss out=") or self.median("fastloss")
        return self.nbytes / t / 1e9 if t else None

    def copy_gbs(self, bw: dict | None):
        """The copy bandwidth this row is measured against: the copy timed in its own rounds,
        else the start-up probe's."""
        t = self.median(COPY)
        if t and self.copy_bytes:
            return self.copy_bytes / t / 1e9
        return bw["copy"] if bw else None


def measure(w: Workload, threads: int, rounds: int, budget: float, wanted=PEER_NAMES,
            seed: int = 0) -> list:
    """The rows of one workload: interleaved, plus a hot loop for small workloads."""
    args, kw = w.make(np.random.default_rng(seed), np.float32, w.shape)
    kw = {"reduction": "mean", **kw}
    calls = {**fastloss_calls(w, args, kw), **peer_calls(w, args, kw, threads, wanted)}
    if w.memory_bound:
        # The bound is a copy of the prediction timed in the same rounds: the memory bandwidth
        # a shared machine gives drifts by tens of percent within minutes, so a bound taken
        # once at start-up would be compared with rows measured in other conditions.
        src = np.ascontiguousarray(args[0], dtype=np.float32)
        dst = np.ones_like(src)  # touched: no page faults in the timed copies
        calls[COPY] = lambda: _kernels.stream_copy(src, dst, threads)
    nbytes = sum(a.nbytes for a in args if isinstance(a, np.ndarray)) + args[0].nbytes
    rows = [Row(w.name, "interleaved", time_interleaved(calls, rounds, budget), nbytes,
                w.memory_bound)]
    if w.memory_bound:
        rows[0].copy_bytes = 2 * src.nbytes
        del calls[COPY]
    if w.spread:  # steady latency of plain calls: 7 in a row
        rows[0].times["fastloss"] = [_time_once(calls["fastloss"]) for _ in range(7)]
    if w.hot:
        rows.append(Row(w.name, "hot loop", time_hot(calls), nbytes, False))
    return rows


def _time_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def thread_scaling(w: Workload, threads: int, rounds: int = 5) -> tuple | None:
    """fastloss seconds with 1 thread and with ``threads`` (interleaved), or None."""
    if threads < 2:
        return None
    args, kw = w.make(np.random.default_rng(0), np.float32, w.shape)
    saved = _config.THREADS[0]

    def with_threads(n):
        def run():
            _config.set_num_threads(n)
            try:
                return w.loss.value_and_grad(*args, **kw)
            finally:
                _config.set_num_threads(saved)
        return run
    t = time_interleaved({"1": with_threads(1), "n": with_threads(threads)}, rounds, 10.0)
    return float(np.median(t["1"])), float(np.median(t["n"]))


def inplace_peak(shape=(8192, 32000)) -> dict:
    """Peak memory NumPy allocates during ``cross_entropy.grad(x, y, out=x)``, as a share of
    ``x`` (tracemalloc sees every NumPy allocation)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    y = rng.integers(0, shape[1], size=shape[0])
    from . import multiclass

    multiclass.cross_entropy.grad(x[:2], y[:2], out=x[:2])  # imports, caches
    tracemalloc.start()
    multiclass.cross_entropy.grad(x, y, out=x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"shape": shape, "peak": peak, "share": peak / x.nbytes}


# --------------------------------------------------------------------------------------------
# output


def fmt_time(s) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _ratio(r, busy) -> str:
    if r is None:
        return "—"
    return "busy" if busy else f"{r:.1f}x"


COLUMNS = ("workload (float32, value+grad)", "fastloss", "out=", "torch", "jax", "sklearn",
           "numpy", "fastest peer", "plain vs it", "out= vs it", "GB/s", "% copy bw")


def table(rows, bw: dict | None, busy: bool, markdown: bool = False) -> str:
    cells = []
    for r in rows:
        t_peer, peer = r.fastest_peer()
        g = r.gbs() if r.memory_bound else None
        pct = "—"
        if g is not None and r.copy_gbs(bw):
            pct = f"{100 * g / r.copy_gbs(bw):.0f}%"
            if bw and r.nbytes < bw["llc"]:
                pct += " (in cache)"
        name = r.workload + (" hot loop" if r.mode == "hot loop" else "")
        cells.append([name, fmt_time(r.median("fastloss")), fmt_time(r.median("fastloss out=")),
                      *(fmt_time(r.median(p)) for p in PEER_NAMES),
                      f"{peer} {fmt_time(t_peer)}" if peer else "—",
                      _ratio(r.ratio("fastloss"), busy), _ratio(r.ratio("fastloss out="), busy),
                      "—" if g is None else f"{g:.1f}", pct])
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * (len(COLUMNS) - 1)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(COLUMNS)]
    fmt = lambda vals: "  ".join(v.ljust(w) if i == 0 else v.rjust(w)  # noqa: E731
                                 for i, (v, w) in enumerate(zip(vals, widths)))
    return "\n".join([fmt(COLUMNS), fmt(["-" * w for w in widths])] + [fmt(c) for c in cells])


def _find(rows, workload, mode="interleaved"):
    return next((r for r in rows if r.workload == workload and r.mode == mode), None)


def targets(rows, bw: dict | None, inplace: dict | None) -> list:
    """The issue's targets as ``(target, measured, MET / NOT MET / —)``."""
    out = []

    def vs_peer(label, workload, need, mode="interleaved", use="fastloss"):
        r = _find(rows, workload, mode)
        if r is None or r.ratio(use) is None:
            out.append((label, "not measured (no peer installed or not selected)", "—"))
            return None
        got = r.ratio(use)
        t_peer, peer = r.fastest_peer()
        out.append((label, f"{got:.2f}x {peer}", "MET" if got >= need else "NOT MET"))
        return got

    def vs_bound(label, workload, need_pct):
        r = _find(rows, workload)
        if r is None or not bw or r.gbs() is None:
            out.append((label, "not measured", "—"))
            return
        pct = 100 * r.gbs() / r.copy_gbs(bw)
        out.append((label, f"{pct:.0f}% of {r.copy_gbs(bw):.1f} GB/s",
                    "MET" if pct >= need_pct else "NOT MET"))

    for use in ("fastloss", "fastloss out="):
        vs_peer(f"cross_entropy (64, 10) hot loop, {use}: >= 3x the fastest peer",
                "cross_entropy (64, 10)", 3, "hot loop", use)
    for name in ("mse (1000,)", "huber (1000,)", "binary_cross_entropy_with_logits (1000,)"):
        vs_peer(f"{name} hot loop: >= 3x the fastest peer", name, 3, "hot loop")
    vs_peer("cross_entropy (4096, 1000): >= 4x the fastest peer", "cross_entropy (4096, 1000)", 4)
    vs_peer("cross_entropy (4096, 32000) plain: >= 6x", "cross_entropy (4096, 32000)", 6)
    vs_peer("cross_entropy (4096, 32000) out=: >= 8x", "cross_entropy (4096, 32000)", 8,
            use="fastloss out=")
    vs_bound("cross_entropy (4096, 32000): >= 80% of the copy bound",
             "cross_entropy (4096, 32000)", 80)
    for name in ("mse", "mae", "huber", "hinge"):
        vs_bound(f"{name} 1e8 out=: >= 85% of the copy bound", f"{name} 1e8", 85)
    for name in ("huber 1e7", "mse 1e7"):
        vs_peer(f"{name} plain: >= 2.5x the fastest peer", name, 2.5)
        r = _find(rows, name)
        if r is not None and len(r.times.get("fastloss", [])) >= 7:
            t = r.times["fastloss"]
            spread = max(t) / min(t)
            out.append((f"{name} plain, 7 calls: max <= 1.5x min",
                        f"min {fmt_time(min(t))} / median {fmt_time(np.median(t))} / "
                        f"max {fmt_time(max(t))} ({spread:.2f}x)",
                        "MET" if spread <= 1.5 else "NOT MET"))
    for name in ("binary_cross_entropy_with_logits 1e7", "focal 1e7", "log_cosh 1e7",
                 "kl_div (4096, 1000)", "distillation (4096, 1000)",
                 "multi_margin (4096, 1000)", "dice (16, 4, 256, 256)"):
        vs_peer(f"{name}: >= 3x the fastest peer", name, 3)
    vs_peer("ctc (32, 200, 80), S = 40: >= 2x PyTorch", "ctc (32, 200, 80)", 2)
    if inplace is None:
        out.append(("cross_entropy.grad(x, y, out=x): peak extra memory <= 1% of x",
                    "not measured", "—"))
    else:
        out.append((f"cross_entropy.grad(x, y, out=x) {inplace['shape']}: peak extra memory "
                    "<= 1% of x", f"{inplace['peak'] / 2**20:.1f} MiB = "
                    f"{100 * inplace['share']:.2f}%", "MET" if inplace["share"] <= 0.01
                    else "NOT MET"))
    return out


def select(names=(), groups=()) -> list:
    """Workloads by loss name (every shape of that loss), by exact workload name, or by group;
    all of them when nothing is given."""
    if not names and not groups:
        return list(WORKLOADS)
    chosen = [w for w in WORKLOADS
              if w.loss.__name__ in names or w.name in names or set(groups) & set(w.groups)]
    known = {w.loss.__name__ for w in WORKLOADS} | {w.name for w in WORKLOADS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown loss or workload {', '.join(unknown)}; losses with "
                         f"workloads: {', '.join(sorted({w.loss.__name__ for w in WORKLOADS}))}")
    return chosen


def _versions() -> str:
    from . import __version__, _peers

    parts = [f"fastloss {__version__}", f"numpy {np.__version__}"]
    for name, mod in (("torch", _peers.torch_module()), ("jax", _peers.jax_module())):
        parts.append(f"{name} {mod.__version__}" if mod else f"{name}: not installed")
    try:
        import sklearn
        parts.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        parts.append("scikit-learn: not installed")
    return ", ".join(parts)


def report(workloads, threads: int, rounds: int, budget: float, markdown: bool, *,
           wanted=PEER_NAMES, scaling: bool = True, inplace: bool = True,
           unmeasured_targets: bool = True, out=None) -> list:
    """Measure and print (to ``out``, default stdout); returns the rows."""
    out = out or sys.stdout
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    busy_before = quiet_check(cpus)
    monitor = OtherCPU()
    print(f"{_versions()}; {threads} threads for every peer, {cpus} CPUs available", file=out)
    bw = None
    if any(w.memory_bound for w in workloads):
        bw = bandwidth(threads)
        print(f"copy bandwidth {bw['copy']:.1f} GB/s (read + write), read {bw['read']:.1f} GB/s: "
              f"{threads} threads, {bw['bytes'] / 2**20:.0f} MiB arrays, last-level cache "
              f"{bw['llc'] / 2**20:.0f} MiB", file=out)
    rows = []
    for w in workloads:
        print(f"  timing {w.name}", file=sys.stderr, flush=True)
        rows += measure(w, threads, rounds, budget, wanted)
    busy = busy_before or busy_reason(monitor, cpus)
    print(file=out)
    print(table(rows, bw, bool(busy), markdown), file=out)
    if bw:
        print("% copy bw: the row's GB/s over that of a copy of its prediction (every thread), "
              "timed in the same rounds", file=out)
    spread = [r for r in rows if len(r.times.get("fastloss", [])) >= 7 and r.mode == "interleaved"]
    for r in spread:
        t = r.times["fastloss"]
        print(f"{r.workload}, 7 plain calls in a row: min {fmt_time(min(t))}, median "
              f"{fmt_time(np.median(t))}, max {fmt_time(max(t))}", file=out)
    if scaling and threads > 1:
        for w in workloads:
            if w.name in ("cross_entropy (4096, 1000)", "binary_cross_entropy_with_logits 1e7",
                          "dice (16, 4, 256, 256)"):
                t1, tn = thread_scaling(w, threads)
                print(f"{w.name}: 1 thread {fmt_time(t1)}, {threads} threads {fmt_time(tn)}: "
                      f"{t1 / tn:.2f}x", file=out)
    ip = inplace_peak() if inplace else None
    print(file=out)
    if busy:
        print(f"machine busy ({busy}): ratios withheld, timings unreliable; rerun on a quiet "
              "machine", file=out)
    else:
        lines = targets(rows, bw, ip)
        if not unmeasured_targets:  # a subset of the workloads: only the targets it measured
            lines = [t for t in lines if t[2] != "—"]
        if lines:
            print("targets:", file=out)
            width = max(len(t[0]) for t in lines)
            for what, got, status in lines:
                print(f"  {what:<{width}}  {got:<40}  {status}", file=out)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastloss bench",
        description="Time fastloss against PyTorch, JAX, scikit-learn and hand-vectorised "
                    "NumPy (whichever are installed) on float32 value+gradient workloads, "
                    "side by side with the same thread count, and check the performance "
                    "targets.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--losses", default="", metavar="NAMES",
                        help="comma-separated loss names (every workload of that loss, e.g. "
                             "cross_entropy) or workload names; empty: all")
    parser.add_argument("--group", choices=("all", "quick", "main"), default="all",
                        help="a predefined set of workloads (quick: small shapes only)")
    parser.add_argument("--peers", default=",".join(PEER_NAMES),
                        help="comma-separated peers to time")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for fastloss and every peer; fewer than the CPUs pins "
                             "the process to that many CPUs (default: all CPUs)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds per workload")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="seconds: a call slower than this gets only 2 rounds")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    opts = parser.parse_args(argv)
    # commas inside a shape "(4096, 1000)" do not separate names
    names = [n.strip() for n in re.split(r",(?![^()]*\))", opts.losses) if n.strip()]
    wanted = tuple(p.strip() for p in opts.peers.split(",") if p.strip())
    if set(wanted) - set(PEER_NAMES):
        parser.error(f"unknown peers {sorted(set(wanted) - set(PEER_NAMES))}")
    try:
        workloads = select(names, () if opts.group == "all" else (opts.group,))
    except ValueError as e:
        parser.error(str(e))
    if opts.rounds < 1:
        parser.error("--rounds must be >= 1")
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    threads = opts.threads or (len(cpus) if cpus else _config.get_num_threads())
    if threads < 1:
        parser.error("--threads must be >= 1")
    if cpus and threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])  # every peer then sees `threads` CPUs
    saved = _config.THREADS[0]
    _config.set_num_threads(threads)
    try:
        report(workloads, threads, opts.rounds, opts.budget, opts.markdown, wanted=wanted)
    finally:
        _config.set_num_threads(saved)
    return 0
