#!/usr/bin/env python
"""Measure fastloss's accuracy against a high-precision reference; print Markdown tables.

    python tools/accuracy.py              # every registry case + summation up to 1e8 elements
    python tools/accuracy.py --max-n 1e7  # smaller summation sweep (1e8 float32 is 400 MB/input)

The exact values come from fastloss.reference (plain NumPy) evaluated in np.longdouble (x86-64:
80-bit extended, 64-bit significand, eps 1.1e-19, exponent range to 1e4932, so exp(1e4) does not
overflow): its error is ~1000x below float64's and does not enter the figures. A spot check
against mpmath at 50 digits (softmax cross-entropy, log-sum-exp and BCE-with-logits rows, with
logits up to +-1e4) confirms that. Inputs are rounded to the dtype under test first, so the
figures measure the kernels' error only, not the input rounding.

Error measures (the worst over 4 random seeds):
- value: max over the "none" per-sample losses and the "sum" and "mean" values of
  |got - exact| / max(|exact|, tiny) (tiny = the dtype's smallest normal number, so a result
  that underflows to 0 is not an error);
- gradient: normwise, max|got - exact| / max|exact| over the gradient of the "sum" (the "mean"
  for rmse) -- componentwise relative errors of gradients are meaningless where an entry is
  the difference of two nearly equal probabilities.
"ordinary" inputs are the registry's generators; "extreme" are logits scaled to +-1e4
(classification, GAN, CTC, SSD confidences, margins), probabilities set to exactly 0, 1 and
1e-45 (a float32 denormal; float64 too), regression residuals of +-1e4.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import fastloss as fl
from fastloss import reference
from fastloss._registry import CASES

LD = np.longdouble


def _parts(x, case):
    return tuple(x) if len(case.grad_args) > 1 and isinstance(x, tuple) else (x,)


def exact(case, args, reduction, kw):
    """The reference evaluated in long double."""
    saved = reference._f64
    reference._f64 = lambda x: np.asarray(x, dtype=LD)
    try:
        with np.errstate(all="ignore"):
            return case.reference(*args, reduction=reduction, **kw)
    finally:
        reference._f64 = saved


def rel_err(got, ex, dtype):
    got = np.asarray(got, dtype=LD).ravel()
    ex = np.asarray(ex, dtype=LD).ravel()
    if got.size == 0:
        return 0.0
    big = LD(np.finfo(dtype).max)
    # equal, both NaN, or an exact value beyond the dtype's range that overflowed to +-inf
    same = (got == ex) | (np.isnan(got) & np.isnan(ex)) | \
        ((np.abs(ex) > big) & np.isinf(got) & (np.sign(got) == np.sign(ex)))
    tiny = LD(np.finfo(dtype).tiny)
    with np.errstate(all="ignore"):
        err = np.abs(got - ex) / np.maximum(np.abs(ex), tiny)
    err = np.where(same, 0, err)
    return float(np.max(np.where(np.isnan(err), np.inf, err)))


def norm_err(got, ex, dtype):
    got = np.asarray(got, dtype=LD)
    ex = np.asarray(ex, dtype=LD)
    if got.size == 0:
        return 0.0
    big = LD(np.finfo(dtype).max)
    same = (got == ex) | (np.isnan(got) & np.isnan(ex)) | \
        ((np.abs(ex) > big) & np.isinf(got) & (np.sign(got) == np.sign(ex)))
    with np.errstate(all="ignore"):
        d = np.where(same, 0, np.abs(got - ex))
        scale = np.max(np.where(np.abs(ex) <= big, np.abs(ex), 0))
        e = np.max(np.where(np.isnan(d), np.inf, d))
        return float(e / scale) if scale > 0 else float(e)


# ----------------------------------------------------------------------------- extreme inputs

_LOGITS = {"cross_entropy", "distillation", "binary_cross_entropy_with_logits", "gan_generator",
           "gan_discriminator", "ctc", "multi_margin"}
_PROBS = {"binary_cross_entropy", "kl_div-probs", "dice", "focal-probs"}
_REGRESSION = {"huber", "mse", "mae", "rmse", "smooth_l1", "log_cosh", "hinge", "squared_hinge"}


def extreme(case, args, kw, rng):
    """args with logits scaled to about +-1e4, probabilities at 0, 1 and 1e-45, or residuals of
    +-1e4; None where the case has no extreme regime of that kind."""
    name = case.loss.__name__
    a = list(args)

    def scale_logits(x):
        x = np.asarray(x, dtype=np.float64)
        return x * (1e4 / max(1e-300, float(np.max(np.abs(x)))))

    if case.id in _PROBS or (name == "focal" and kw.get("from_logits") is False):
        p = np.array(a[0], dtype=np.float64)
        u = rng.random(p.shape)
        p = np.where(u < 0.1, 0.0, np.where(u < 0.2, 1.0, np.where(u < 0.3, 1e-45, p)))
        a[0] = p
        return a
    if name in _LOGITS or (name == "focal") or case.id.startswith("dice-") \
            or case.id == "kl_div-logtarget" or case.id == "kl_div":
        a[0] = scale_logits(a[0])
        if name in ("distillation", "gan_discriminator"):
            a[1] = scale_logits(a[1])
        return a
    if name == "ssd_multibox":
        a[2] = scale_logits(a[2])
        a[0] = np.asarray(a[0]) * 1e4
        return a
    if name in _REGRESSION:
        a[0] = np.asarray(a[0], dtype=np.float64) * 1e4
        return a
    if name == "msle":
        p = np.array(a[0], dtype=np.float64)
        u = rng.random(p.shape)
        a[0] = np.where(u < 0.2, -1 + 1e-6, np.where(u < 0.4, 1e6, p))
        return a
    return None


def _cast(args, dtype):
    return [np.asarray(x).astype(dtype) if isinstance(x, np.ndarray) and x.dtype.kind == "f"
            else x for x in args]


def measure(case, dtype, kind, seeds=4):
    """(value error, gradient error) worst over seeds, or None where not applicable."""
    verr = gerr = 0.0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        args, kw = case.make(rng, np.float64, case.bench_shapes[0], case.sample_weight)
        if kind == "extreme":
            args = extreme(case, args, kw, rng)
            if args is None:
                return None
        args = _cast(args, dtype)  # the inputs as the kernel sees them
        kw = {k: (v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
              for k, v in kw.items()}
        for red in case.reductions:
            if red == "batchmean":
                continue
            try:
                with np.errstate(all="ignore"):
                    v, g = case.loss.value_and_grad(*args, reduction=red, **kw)
            except ValueError as e:
                return f"ValueError: {e}"[:40]
            ev, eg = exact(case, args, red, kw)
            for p, q in zip(_parts(v, case), _parts(ev, case)):
                verr = max(verr, rel_err(p, q, dtype))
            if red == ("mean" if case.id == "rmse" else "sum"):
                for p, q in zip(_parts(g, case), _parts(eg, case)):
                    gerr = max(gerr, norm_err(p, q, dtype))
    return verr, gerr


def fmt(x, dtype):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "**inf/NaN**"
    ulps = x / np.finfo(dtype).eps
    return f"{x:.1e}" if ulps >= 1000 else f"{x:.1e} ({ulps:.2g} ε)"


def accuracy_table(out):
    out("| case | inputs | float32 value | float32 gradient | float64 value | float64 gradient |")
    out("|---|---|---|---|---|---|")
    worst = {}
    for case in CASES:
        for kind in ("ordinary", "extreme"):
            cells = []
            for dtype in (np.float32, np.float64):
                m = measure(case, dtype, kind)
                if m is None or isinstance(m, str):
                    cells += [fmt(m, dtype), "—" if m is None else ""]
                    continue
                cells += [fmt(m[0], dtype), fmt(m[1], dtype)]
                w = worst.setdefault((np.dtype(dtype).name, kind), [0.0, 0.0, "", ""])
                if m[0] > w[0]:
                    w[0], w[2] = m[0], case.id
                if m[1] > w[1]:
                    w[1], w[3] = m[1], case.id
            if cells[0] == "—" and cells[2] == "—":
                continue
            out(f"| `{case.id}` | {kind} | " + " | ".join(cells) + " |")
    return worst


# ----------------------------------------------------------------------------- summation


def _exact_mean_sq(p, t, chunk=10**7):
    """sum((p - t)**2) exactly enough (float64 chunks, then fsum): rel. error ~1e-16."""
    parts = []
    for i in range(0, p.size, chunk):
        d = p[i:i + chunk].astype(np.float64) - t[i:i + chunk].astype(np.float64)
        parts.append(float(np.dot(d, d)))
    return math.fsum(parts)


def summation_error(n, dtype=np.float32, seed=0):
    """Relative error of mse(..., "mean") and ("sum") over n elements against the exact sum."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n, dtype=np.float32).astype(dtype) + np.asarray(1, dtype)
    t = rng.standard_normal(n, dtype=np.float32).astype(dtype)
    total = _exact_mean_sq(p, t)
    mean = fl.mse(p, t, reduction="mean")
    s = fl.mse(p, t, reduction="sum")
    # the naive float32 accumulation, for comparison: NumPy's pairwise sum is already good, a
    # running float32 sum (np.cumsum) is what a naive kernel would do
    naive = float(np.cumsum((p - t) ** 2, dtype=np.float32)[-1]) if n <= 10**7 else float("nan")
    return (abs(float(mean) - total / n) / (total / n), abs(float(s) - total) / total,
            abs(naive - total) / total)


def summation_table(out, max_n):
    out("| n | mse `\"mean\"` rel. error (float32) | mse `\"sum\"` rel. error (float32) | "
        "running float32 sum, for comparison |")
    out("|---|---|---|---|")
    results = {}
    n = 10**4
    while n <= max_n:
        em, es, naive = summation_error(n)
        results[n] = em
        nv = "—" if math.isnan(naive) else f"{naive:.1e}"
        out(f"| {n:.0e} | {em:.1e} | {es:.1e} | {nv} |")
        n *= 10
    return results


# ----------------------------------------------------------------------------- mpmath check


def mpmath_check():
    """Max relative difference between the long double reference and mpmath (50 digits)."""
    import mpmath as mp

    mp.mp.dps = 50

    def mpf(x):  # a long double to mpmath without going through a (possibly underflowing) float
        return mp.mpf(np.format_float_scientific(x, precision=25, unique=False))

    rng = np.random.default_rng(0)
    worst = 0.0
    for scale in (3.0, 1e4):
        z = rng.standard_normal((8, 6)) * scale
        y = rng.integers(0, 6, size=8)
        case = next(c for c in CASES if c.id == "cross_entropy")
        v, _ = exact(case, [z, y], "none", {})
        for i in range(8):
            lse = mp.log(mp.fsum(mp.exp(mp.mpf(float(x))) for x in z[i]))
            e = lse - mp.mpf(float(z[i, y[i]]))
            worst = max(worst, float(abs((mpf(v[i]) - e) / e)) if e != 0 else 0.0)
        x = rng.standard_normal(50) * scale
        t = rng.integers(0, 2, size=50).astype(np.float64)
        case = next(c for c in CASES if c.id == "binary_cross_entropy_with_logits")
        v, _ = exact(case, [x, t], "none", {})
        for i in range(50):
            xi = mp.mpf(float(x[i]))
            e = mp.log1p(mp.exp(-xi)) if t[i] == 1 else mp.log1p(mp.exp(xi))
            if e > mp.mpf("1e-4900"):  # below that the long double underflows to 0 (so would any)
                worst = max(worst, float(abs((mpf(v[i]) - e) / e)))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-n", type=float, default=1e8,
                    help="largest summation size (default 1e8: 400 MB per float32 input)")
    args = ap.parse_args(argv)
    out = print
    t0 = time.time()
    ref = mpmath_check()
    out(f"Reference check: long double reference vs mpmath (50 digits): max rel. diff {ref:.1e}\n")
    worst = accuracy_table(out)
    out("")
    out("Worst case per dtype and input kind (value / gradient):\n")
    for (dt, kind), (v, g, cv, cg) in sorted(worst.items()):
        out(f"- {dt}, {kind}: value {v:.1e} (`{cv}`), gradient {g:.1e} (`{cg}`)")
    out("")
    sums = summation_table(out, int(args.max_n))
    out(f"\n({time.time() - t0:.0f} s; fastloss {fl.__version__}, numpy {np.__version__}, "
        f"long double eps {np.finfo(LD).eps:.1e})")
    bad = [n for n, e in sums.items() if e > 1e-6]
    if bad:
        out(f"FAIL: float32 mean beyond 1e-6 relative at n = {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
