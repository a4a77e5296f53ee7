"""Gradient boosting with fastloss objectives: timings side by side, in one run.

1. Whole training time with the library's built-in objective, a hand-written NumPy objective
   and the fastloss objective (:mod:`fastloss.boosting`), for XGBoost and LightGBM:
   logistic (200 000 x 20, 30 rounds) and 10-class softmax (100 000 x 20, 20 rounds). The
   built-in and fastloss runs are set up to train the same model (``base_score=0``,
   ``boost_from_average=False``); the table gives the largest margin difference from the NumPy
   objective (the same maths: rounding only) and from the built-in (XGBoost's logistic in
   float32 rounds differently, which can flip a near-tied split).
2. One objective evaluation at 1 000 000 rows (softmax: x 10 classes), float64 (what LightGBM
   hands over) and float32 (XGBoost): ``grad_hess`` against the finite-difference focal recipe
   (three loss evaluations, as popular focal-loss-for-boosting recipes do) and against
   hand-written NumPy logistic and softmax objectives, and the softmax through the adapter.

Every number is the best of ``--repeat`` runs; fastloss, XGBoost and LightGBM use ``--threads``
threads (NumPy is single-threaded). Prints two markdown tables.

    python benchmarks/bench_boosting.py                   # the sizes above (a few minutes)
    python benchmarks/bench_boosting.py --scale 0.02 --repeat 1   # a smoke run (seconds)

Needs the boosting extra: ``pip install ".[boosting]"``.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np

import fastloss as fl
from fastloss.boosting import lightgbm_objective, xgboost_objective

# ------------------------------------------------------------------------- NumPy objectives
# What people write by hand (XGBoost's custom_softmax demo, the usual logistic recipe).


def numpy_logistic(preds, labels):
    p = 1.0 / (1.0 + np.exp(-preds))
    return p - labels, p * (1.0 - p)


def numpy_softmax(preds, labels, hess_factor):
    e = np.exp(preds - preds.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(len(labels)), labels.astype(np.int64)] -= 1.0
    return grad, hess_factor * p * (1.0 - p)


def focal_fd(preds, labels, gamma=2.0, alpha=0.25, h=1e-4):
    """The finite-difference recipe: central differences of the focal loss for the gradient
    and the second difference for the Hessian (three evaluations of the loss)."""

    def loss(x):
        p = 1.0 / (1.0 + np.exp(-x))
        pt = labels * p + (1 - labels) * (1 - p)
        at = labels * alpha + (1 - labels) * (1 - alpha)
        return -at * (1 - pt) ** gamma * np.log(np.clip(pt, 1e-15, 1.0))

    lo, mid, hi = loss(preds - h), loss(preds), loss(preds + h)
    return (hi - lo) / (2 * h), (hi - 2 * mid + lo) / (h * h)


# ----------------------------------------------------------------------------------- helpers


def best(fn, repeat):
    """Best wall time of ``repeat`` calls (and the last result)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def data(kind, n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal((d, k if kind == "softmax" else 1))
    z = X @ w + rng.standard_normal((n, w.shape[1]))
    y = z.argmax(axis=1) if kind == "softmax" else (z[:, 0] > 0.5)
    return X, y.astype(np.float32)


def fmt_s(t, ref):
    return f"{t:.3f} s ({t / ref:.2f}x)" if ref else f"{t:.3f} s"


# ---------------------------------------------------------------------------------- training


def train_xgboost(kind, X, y, k, rounds, threads, repeat):
    import xgboost as xgb

    dtrain = xgb.DMatrix(X, label=y)
    params = {"tree_method": "hist", "max_depth": 6, "eta": 0.3, "nthread": threads,
              "base_score": 0.0}
    if kind == "softmax":
        params["num_class"] = k
        builtin, loss = "multi:softprob", fl.cross_entropy

        def hand(p, d):
            return numpy_softmax(p, d.get_label(), 2.0)
    else:
        builtin, loss = "binary:logitraw", fl.binary_cross_entropy_with_logits

        def hand(p, d):
            return numpy_logistic(p, d.get_label())

    runs = {"built-in": lambda: xgb.train({**params, "objective": builtin}, dtrain, rounds),
            "NumPy": lambda: xgb.train(params, dtrain, rounds, obj=hand),
            "fastloss": lambda: xgb.train(params, dtrain, rounds, obj=xgboost_objective(loss))}
    times, margins = {}, {}
    for name, run in runs.items():
        times[name], booster = best(run, repeat)
        margins[name] = booster.predict(dtrain, output_margin=True)
    return times, margins


def train_lightgbm(kind, X, y, k, rounds, threads, repeat):
    import lightgbm as lgb

    params = {"num_leaves": 63, "learning_rate": 0.3, "num_threads": threads, "verbose": -1,
              "force_col_wise": True}
    if kind == "softmax":
        params["num_class"] = k
        builtin, loss = "multiclass", fl.cross_entropy

        def hand(p, d):
            return numpy_softmax(p, d.get_label(), k / (k - 1))
    else:
        builtin, loss = "binary", fl.binary_cross_entropy_with_logits

        def hand(p, d):
            return numpy_logistic(p, d.get_label())

    def train(objective, extra=None):
        ds = lgb.Dataset(X, label=y, free_raw_data=False)
        return lgb.train({**params, "objective": objective, **(extra or {})}, ds, rounds)

    runs = {"built-in": lambda: train(builtin, {"boost_from_average": False}),
            "NumPy": lambda: train(hand),
            "fastloss": lambda: train(lightgbm_objective(loss))}
    times, margins = {}, {}
    for name, run in runs.items():
        times[name], booster = best(run, repeat)
        margins[name] = booster.predict(X, raw_score=True)
    return times, margins


# ------------------------------------------------------------------------------ objectives


def _objective_rows(n, k, repeat, rng, dtype):
    rows = []
    x = (rng.standard_normal(n) * 2).astype(dtype)
    y = (rng.random(n) < 0.1).astype(dtype)
    z = (rng.standard_normal((n, k)) * 2).astype(dtype)
    yk = rng.integers(0, k, n).astype(dtype)
    yi = yk.astype(np.int64)
    lgb_layout = dtype == np.float64
    obj = (lightgbm_objective if lgb_layout else xgboost_objective)(fl.cross_entropy)
    via = "lightgbm_objective" if lgb_layout else "xgboost_objective"
    factor = k / (k - 1) if lgb_layout else 2.0
    zf = np.asfortranarray(z) if lgb_layout else z  # LightGBM's layout
    o1 = (np.empty_like(x), np.empty_like(x))
    ok = (np.empty_like(z), np.empty_like(z))
    cases = [
        ("focal (gamma 2, alpha 0.25)", "finite differences", lambda: focal_fd(x, y),
         "`fl.focal.grad_hess`",
         lambda out=None: fl.focal.grad_hess(x, y, gamma=2.0, alpha=0.25, out=out), o1),
        ("logistic", "NumPy", lambda: numpy_logistic(x, y),
         "`fl.binary_cross_entropy_with_logits.grad_hess`",
         lambda out=None: fl.binary_cross_entropy_with_logits.grad_hess(x, y, out=out), o1),
        (f"softmax, {k} classes", "NumPy", lambda: numpy_softmax(z, yk, factor),
         "`fl.cross_entropy.grad_hess`",
         lambda out=None: fl.cross_entropy.grad_hess(z, yi, out=out), ok),
        (f"softmax, {k} classes", "NumPy", lambda: numpy_softmax(zf, yk, factor),
         f"`{via}(fl.cross_entropy)`: float labels, its {factor:.3g}x Hessian",
         lambda out=None: obj(yk, zf, None) if lgb_layout else obj(yk, zf), None),
    ]
    for name, base_name, base, ours_name, ours, out in cases:
        tb, _ = best(base, repeat)
        if out is None:  # the adapter: reuses its own buffers
            tn, to = float("nan"), best(ours, repeat)[0]
        else:
            tn, to = best(ours, repeat)[0], best(lambda o=out, f=ours: f(o), repeat)[0]
        rows.append((name, np.dtype(dtype).name, base_name, tb, ours_name, tn, to))
    return rows


def objective_timings(n, k, repeat, rng):
    """Rows (objective, dtype, baseline name, baseline time, fastloss name, time with new
    arrays, time writing into reused out= arrays). float64 is what LightGBM hands an objective
    (and the usual NumPy recipe), float32 what XGBoost does."""
    rows = []
    for dtype in (np.float64, np.float32):
        rows += _objective_rows(n, k, repeat, rng, dtype)
    return rows


# ------------------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every row count")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--libraries", default="xgboost,lightgbm")
    a = ap.parse_args(argv)
    fl.set_num_threads(a.threads)
    libs = [s for s in a.libraries.split(",") if s]
    tasks = [("logistic", int(200_000 * a.scale), 20, 2, 30),
             ("softmax", int(100_000 * a.scale), 20, 10, 20)]
    versions = [f"fastloss {fl.__version__}", f"numpy {np.__version__}"]
    for lib in libs:
        mod = __import__(lib)
        versions.append(f"{lib} {mod.__version__}")
    print(f"{platform.processor() or platform.machine()}, {a.threads} threads, best of "
          f"{a.repeat}; {', '.join(versions)}\n")

    print("| library | task | built-in | NumPy objective | fastloss objective "
          "| max \\|margin diff\\| fastloss vs NumPy objective | vs built-in |")
    print("|---|---|---|---|---|---|---|")
    for lib in libs:
        train = train_xgboost if lib == "xgboost" else train_lightgbm
        for kind, n, d, k, rounds in tasks:
            X, y = data(kind, n, d, k)
            times, margins = train(kind, X, y, k, rounds, a.threads, a.repeat)
            ref = times["built-in"]
            diff = float(np.max(np.abs(margins["fastloss"] - margins["built-in"])))
            # the same objective written in NumPy: the models should agree to rounding; the
            # built-in may differ where float32 rounding flips a near-tied split
            diff_np = float(np.max(np.abs(margins["fastloss"] - margins["NumPy"])))
            shape = f"{n:,} x {d}" + (f" x {k} classes" if kind == "softmax" else "")
            print(f"| {lib} | {kind}, {shape}, {rounds} rounds | {ref:.3f} s "
                  f"| {fmt_s(times['NumPy'], ref)} | {fmt_s(times['fastloss'], ref)} "
                  f"| {diff_np:.1e} | {diff:.1e} |")

    n_obj = int(1_000_000 * a.scale)
    print(f"\nOne objective evaluation (gradient + Hessian), {n_obj:,} rows:\n")
    print("| objective | dtype | baseline | baseline | fastloss | fastloss, new arrays "
          "| fastloss, out= reused | speed-up (new / reused) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, dtype, base_name, tb, ours_name, tn, to in objective_timings(
            n_obj, 10, a.repeat, np.random.default_rng(1)):
        new = "-" if math.isnan(tn) else f"{tn * 1e3:.2f} ms"
        ratio = ("" if math.isnan(tn) else f"{tb / tn:.1f}x / ") + f"{tb / to:.1f}x"
        print(f"| {name} | {dtype} | {base_name} | {tb * 1e3:.2f} ms | {ours_name} | {new} "
              f"| {to * 1e3:.2f} ms | {ratio} |")


if __name__ == "__main__":
    main()
