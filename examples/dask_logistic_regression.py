"""
Logistic regression on a dataset bigger than a worker's memory
==============================================================

A multinomial logistic regression trained by SciPy's L-BFGS on a Zarr dataset that no worker of
the Dask cluster can hold: every loss and gradient comes from
:func:`fastloss.dask.cross_entropy.value_and_grad`, block by block, and the weight gradient is
``X.T @ G`` reduced across the workers. The same model trained in memory (NumPy and
:func:`fastloss.cross_entropy`) on a subsample is printed next to it.

What happens in one L-BFGS evaluation:

1. ``Z = X @ W + b`` per row block (a Dask matrix product, nothing moves);
2. ``fastloss.dask.cross_entropy.value_and_grad(Z, y, ignore_index=-1)``: one kernel pass per
   block; unlabelled rows (``y == -1``) are ignored, so the ``"mean"`` denominator is the
   number of labelled rows, counted from the labels alone before the kernels run;
3. ``X.T @ G`` and ``G.sum(0)``: per-block partial products, added in a tree; only
   ``features x classes`` numbers per block travel between workers.

Run it (``pip install ".[dask,examples]"``)::

    python examples/dask_logistic_regression.py                    # ~1 minute on 2 cores
    python examples/dask_logistic_regression.py --rows 20000000    # bigger
    python examples/dask_logistic_regression.py --address tcp://scheduler:8786   # a cluster

Options: ``--rows``, ``--features``, ``--classes``, ``--chunk-rows``, ``--workers``,
``--worker-memory``, ``--iterations``, ``--subsample``, ``--l2``, ``--outdir``, ``--no-plot``,
``--seed``, ``--address``. The dataset is written to a temporary directory and removed at the
end; the loss curve goes to ``<outdir>/dask_logistic_regression.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

# %%
# The data: a Gaussian design and labels drawn from a true softmax model, written to Zarr
# block by block by the workers (nothing is ever in one place).


def zarr_kwargs() -> dict:
    """Uncompressed chunks (random floats do not compress), in either zarr format."""
    import zarr

    major = int(zarr.__version__.split(".")[0])
    return {"compressors": None} if major >= 3 else {"compressor": None}


def make_dataset(path: str, rows: int, features: int, classes: int, chunk_rows: int,
                 seed: int, unlabelled: float = 0.05):
    """Write ``X`` (rows, features) float32 and ``y`` (rows,) int64 to the Zarr store ``path``
    (labels -1 for an ``unlabelled`` fraction of rows); returns the true (W, b)."""
    import dask.array as da

    r = np.random.default_rng(seed)
    w_true = (r.standard_normal((features, classes)) * 2 / np.sqrt(features)).astype(np.float32)
    b_true = r.standard_normal(classes).astype(np.float32)
    rng = da.random.default_rng(seed + 1)
    x = rng.standard_normal((rows, features), chunks=(chunk_rows, features), dtype=np.float32)
    noise = rng.gumbel(size=(rows, classes), chunks=(chunk_rows, classes))
    y = da.argmax(x @ w_true + b_true + noise, axis=1).astype(np.int64)  # Gumbel-max sampling
    y = da.where(rng.random(rows, chunks=chunk_rows) < unlabelled, -1, y)
    da.to_zarr(x, path, component="X", overwrite=True, **zarr_kwargs())
    da.to_zarr(y, path, component="y", overwrite=True, **zarr_kwargs())
    return w_true, b_true


# %%
# The objective: mean cross-entropy over the labelled rows plus an L2 penalty, its gradient
# w.r.t. (W, b) from the gradient of the logits.


def unpack(theta: np.ndarray, features: int, classes: int):
    w = theta[:features * classes].reshape(features, classes).astype(np.float32)
    return w, theta[features * classes:].astype(np.float32)


def dask_objective(x, y, features: int, classes: int, l2: float, history: list):
    import dask

    import fastloss.dask as fld

    def fun(theta):
        w, b = unpack(theta, features, classes)
        z = x @ w + b
        value, g = fld.cross_entropy.value_and_grad(z, y, ignore_index=-1)
        value, gw, gb = dask.compute(value, x.T @ g, g.sum(axis=0))
        loss = float(value) + 0.5 * l2 * float(np.sum(theta[:features * classes] ** 2))
        grad = np.concatenate([(np.asarray(gw, np.float64) + l2 * w).ravel(),
                               np.asarray(gb, np.float64)])
        history.append(loss)
        return loss, grad

    return fun


def memory_objective(x, y, features: int, classes: int, l2: float, history: list):
    import fastloss as fl

    def fun(theta):
        w, b = unpack(theta, features, classes)
        value, g = fl.cross_entropy.value_and_grad(x @ w + b, y, ignore_index=-1)
        loss = float(value) + 0.5 * l2 * float(np.sum(theta[:features * classes] ** 2))
        grad = np.concatenate([(x.T @ g + l2 * w).ravel().astype(np.float64),
                               g.sum(axis=0).astype(np.float64)])
        history.append(loss)
        return loss, grad

    return fun


def fit(fun, features: int, classes: int, iterations: int) -> np.ndarray:
    from scipy.optimize import minimize

    theta0 = np.zeros(features * classes + classes)
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": iterations, "maxfun": 2 * iterations, "gtol": 1e-6,
                            "ftol": 1e-8})
    return res.x


def evaluate(theta, x, y, features, classes) -> tuple:
    """(cross-entropy, accuracy) on labelled in-memory rows."""
    import fastloss as fl

    w, b = unpack(theta, features, classes)
    z = x @ w + b
    keep = y >= 0
    return float(fl.cross_entropy(z[keep], y[keep])), float(np.mean(z[keep].argmax(1) == y[keep]))


# %%
# Putting it together: a local cluster with a per-worker memory limit (or the scheduler at
# ``--address``), the dataset in a temporary Zarr store, both fits, the comparison and the plot.


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--classes", type=int, default=8)
    p.add_argument("--chunk-rows", type=int, default=125_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--worker-memory", default="256MiB")
    p.add_argument("--iterations", type=int, default=12)
    p.add_argument("--subsample", type=float, default=0.02,
                   help="fraction of the rows the in-memory model is trained on")
    p.add_argument("--l2", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outdir", default="fastloss-examples")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--address", default=None, help="an existing Dask scheduler to use")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)

    import dask.array as da
    import distributed
    from dask.utils import format_bytes, parse_bytes

    say = (lambda *m: None) if a.quiet else (lambda *m: print(*m, flush=True))
    if a.address:
        cluster, client = None, distributed.Client(a.address)
    else:
        cluster = distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1,
                                           processes=True, memory_limit=a.worker_memory,
                                           dashboard_address=":0", silence_logs=40)
        client = distributed.Client(cluster)
    try:
        with tempfile.TemporaryDirectory(prefix="fastloss-dask-") as tmp:
            path = os.path.join(tmp, "data.zarr")
            t0 = time.perf_counter()
            make_dataset(path, a.rows, a.features, a.classes, a.chunk_rows, a.seed)
            x = da.from_zarr(path, component="X")
            y = da.from_zarr(path, component="y")
            limit = parse_bytes(a.worker_memory) if not a.address else min(
                w["memory_limit"] for w in client.scheduler_info()["workers"].values())
            if client.dashboard_link and not a.quiet:
                say(f"dashboard: {client.dashboard_link}")
            say(f"dataset: X {x.shape} float32 = {format_bytes(x.nbytes)} in "
                f"{x.numblocks[0]} blocks on disk ({time.perf_counter() - t0:.1f} s to write); "
                f"worker memory limit {format_bytes(limit)} "
                f"({x.nbytes / limit:.1f}x)")

            # the model on all the data, through fastloss.dask
            t0 = time.perf_counter()
            history = []
            theta = fit(dask_objective(x, y, a.features, a.classes, a.l2, history),
                        a.features, a.classes, a.iterations)
            dask_seconds = time.perf_counter() - t0

            # the same model in memory on a subsample (every k-th row)
            step = max(1, round(1 / a.subsample))
            xs = np.asarray(x[::step].compute())
            ys = np.asarray(y[::step].compute())
            t0 = time.perf_counter()
            mem_history = []
            theta_mem = fit(memory_objective(xs, ys, a.features, a.classes, a.l2, mem_history),
                            a.features, a.classes, a.iterations)
            mem_seconds = time.perf_counter() - t0

        # held-out data from the same model
        test_x, test_y = test_set(a, 20_000)
        loss_d, acc_d = evaluate(theta, test_x, test_y, a.features, a.classes)
        loss_m, acc_m = evaluate(theta_mem, test_x, test_y, a.features, a.classes)
        rel = float(np.linalg.norm(theta - theta_mem) / np.linalg.norm(theta))
        say(f"{'':28s}{'train loss':>12s}{'test loss':>12s}{'test acc':>10s}{'evals':>7s}"
            f"{'seconds':>9s}")
        say(f"{'fastloss.dask, all rows':28s}{history[-1]:12.5f}{loss_d:12.5f}{acc_d:10.4f}"
            f"{len(history):7d}{dask_seconds:9.1f}")
        say(f"{f'in memory, {len(xs)} rows':28s}{mem_history[-1]:12.5f}{loss_m:12.5f}"
            f"{acc_m:10.4f}{len(mem_history):7d}{mem_seconds:9.1f}")
        say(f"relative difference of the parameters: {rel:.2e}")
        plot = None if a.no_plot else plot_history(history, mem_history, len(xs), a.outdir)
        if plot:
            say(f"loss curve: {plot}")
        return {"history": history, "memory_history": mem_history, "theta": theta,
                "theta_memory": theta_mem, "test": (loss_d, acc_d), "test_memory": (loss_m, acc_m),
                "parameter_difference": rel, "dataset_bytes": int(x.nbytes),
                "worker_memory": int(limit), "plot": plot}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def test_set(a, rows: int):
    """Held-out rows from the same true model (the generator's first two seeds)."""
    r = np.random.default_rng(a.seed)
    w_true = (r.standard_normal((a.features, a.classes)) * 2 / np.sqrt(a.features))
    b_true = r.standard_normal(a.classes)
    t = np.random.default_rng(a.seed + 12345)
    x = t.standard_normal((rows, a.features)).astype(np.float32)
    y = np.argmax(x @ w_true + b_true + t.gumbel(size=(rows, a.classes)), axis=1)
    return x, y


def plot_history(history, mem_history, mem_rows: int, outdir: str):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    os.makedirs(outdir, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history, label="fastloss.dask, all rows")
    ax.plot(mem_history, "--", label=f"in memory, {mem_rows} rows")
    ax.set_xlabel("L-BFGS evaluation")
    ax.set_ylabel("cross-entropy + L2")
    ax.set_title("Multinomial logistic regression")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(outdir, "dask_logistic_regression.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
    sys.exit(0)
