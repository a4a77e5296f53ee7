"""fastloss.dask: the cost of the Dask path against in-memory fastloss, and scaling over workers.

Two tables, printed as markdown:

1. **Overhead** on one machine, at a size that fits in memory: ``fastloss.<loss>.value_and_grad``
   on NumPy arrays against ``fastloss.dask.<loss>.value_and_grad`` on the same arrays wrapped in
   Dask arrays of ``--chunk-mib`` chunks, computed with the threaded scheduler. Two Dask
   columns: ``dask.compute(value, grad)`` (the gradient assembled into one NumPy array, as a
   drop-in replacement returns it) and ``dask.persist(value, grad)`` (the gradient left in
   blocks, as a pipeline that consumes it block by block sees it). Target: ratio <= 1.3 with
   64 MiB chunks.
2. **Scaling** on a ``distributed.LocalCluster`` of 1, then 2 worker processes (one thread
   each): the inputs are generated and persisted on the workers first, then the loss and the
   gradient's norm are computed (only a few numbers come back); time per evaluation and
   speedup over one worker.

Run (the lead measures on a quiet machine; ~3 minutes at the defaults)::

    python benchmarks/bench_dask.py                         # full size: 1 GiB inputs
    python benchmarks/bench_dask.py --size-mib 16 --cluster-size-mib 16 --repeat 2  # smoke

Options: ``--size-mib`` (prediction size for the overhead table), ``--chunk-mib``,
``--cluster-size-mib``, ``--max-workers``, ``--repeat``, ``--losses``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

MIB = 2**20
CLASSES = 64


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_interleaved(fns: list, repeat: int) -> list[float]:
    """The best time of each function over ``repeat`` rounds of one call each: the machine's
    memory bandwidth drifts by tens of percent within minutes, and every function should see
    the same drift."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for t, fn in zip(times, fns):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
    return [min(t) for t in times]


def make_inputs(loss: str, size_mib: float, rng):
    """NumPy arguments of ``loss`` whose prediction takes ``size_mib`` (float32)."""
    n = max(1, int(size_mib * MIB / 4))
    if loss == "cross_entropy":
        rows = max(1, n // CLASSES)
        return ((rng.standard_normal((rows, CLASSES), dtype=np.float32),
                 rng.integers(0, CLASSES, rows)), {})
    if loss == "mse":
        return ((rng.standard_normal(n, dtype=np.float32),
                 rng.standard_normal(n, dtype=np.float32)), {})
    if loss == "binary_cross_entropy_with_logits":
        return ((rng.standard_normal(n, dtype=np.float32),
                 (rng.random(n) > 0.5).astype(np.float32)), {})
    raise ValueError(f"no inputs for {loss}")


def to_dask(args, chunk_mib: float):
    import dask.array as da

    x = args[0]
    rows = max(1, int(chunk_mib * MIB / (x.itemsize * int(np.prod(x.shape[1:])))))
    return tuple(da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in args)


def overhead_table(losses, size_mib, chunk_mib, repeat) -> list[str]:
    import dask

    import fastloss as fl
    import fastloss.dask as fld

    rng = np.random.default_rng(0)
    lines = ["| loss | prediction | chunks | in memory (s) | dask compute (s) | ratio "
             "| dask persist (s) | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for loss in losses:
        args, kw = make_inputs(loss, size_mib, rng)
        dargs = to_dask(args, chunk_mib)
        def in_memory():
            getattr(fl, loss).value_and_grad(*args, **kw)

        def computed():
            dask.compute(*getattr(fld, loss).value_and_grad(*dargs, **kw), scheduler="threads")

        def persisted():
            dask.persist(*getattr(fld, loss).value_and_grad(*dargs, **kw), scheduler="threads")

        mem, t_c, t_p = best_interleaved([in_memory, computed, persisted], repeat)
        shape = "x".join(map(str, args[0].shape))
        lines.append(f"| {loss} | {shape} float32 ({args[0].nbytes / MIB:.0f} MiB) | "
                     f"{dargs[0].numblocks[0]} x {chunk_mib:g} MiB | {mem:.3f} | {t_c:.3f} | "
                     f"{t_c / mem:.2f} | {t_p:.3f} | {t_p / mem:.2f} |")
    return lines


def scaling_table(size_mib, max_workers, repeat, chunk_mib) -> list[str]:
    import dask.array as da
    import distributed

    import fastloss.dask as fld

    rows = max(1, int(size_mib * MIB / 4 / CLASSES))
    chunk_rows = max(1, int(chunk_mib * MIB / 4 / CLASSES))
    lines = ["| workers | logits | evaluation (s) | speedup |", "|---|---|---|---|"]
    base = None
    for workers in range(1, max_workers + 1):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=40,
                                      memory_limit=0) as cluster, \
                distributed.Client(cluster) as client:
            rng = da.random.default_rng(1)
            z = rng.standard_normal((rows, CLASSES), chunks=(chunk_rows, CLASSES),
                                    dtype=np.float32)
            y = rng.integers(0, CLASSES, rows, chunks=chunk_rows)
            z, y = client.persist([z, y])
            distributed.wait([z, y])

            def evaluate():
                v, g = fld.cross_entropy.value_and_grad(z, y)
                client.compute([v, (g * g).sum(dtype=np.float64)], sync=True)

            evaluate()  # warm the workers (imports, first allocations)
            t = best_of(evaluate, repeat)
        base = base or t
        lines.append(f"| {workers} | {rows}x{CLASSES} float32 ({rows * CLASSES * 4 / MIB:.0f} MiB,"
                     f" {z.numblocks[0]} blocks) | {t:.3f} | {base / t:.2f} |")
    return lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-mib", type=float, default=1024)
    p.add_argument("--chunk-mib", type=float, default=64)
    p.add_argument("--cluster-size-mib", type=float, default=1024)
    p.add_argument("--max-workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--losses", default="cross_entropy,mse,binary_cross_entropy_with_logits")
    a = p.parse_args(argv)

    import dask

    import fastloss as fl

    print(f"fastloss {fl.__version__}, dask {dask.__version__}, numpy {np.__version__}, "
          f"{platform.machine()} with {os.cpu_count()} CPUs, fastloss threads "
          f"{fl.get_num_threads()}\n")
    print("### Overhead: threaded scheduler against in-memory fastloss (interleaved, best of "
          f"{a.repeat})\n")
    print("\n".join(overhead_table(a.losses.split(","), a.size_mib, a.chunk_mib, a.repeat)))
    print(f"\n### Scaling: cross_entropy value and gradient norm on a LocalCluster (best of "
          f"{a.repeat})\n")
    print("\n".join(scaling_table(a.cluster_size_mib, a.max_workers, a.repeat, a.chunk_mib)))


if __name__ == "__main__":
    main()
