"""``python -m fastloss``: check every registered loss against the NumPy reference on synthetic
data and time the fused kernel against that reference.

    python -m fastloss            self-check and timing table
    python -m fastloss --quick    smaller inputs, fewer repeats
    python -m fastloss --version  the installed version
    python -m fastloss bench      compare with NumPy, PyTorch and scikit-learn
                                  (python -m fastloss bench --help for its options)
    python -m fastloss demo       train the example models, print their tables and save
                                  their plots (python -m fastloss demo --help)
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__, show_config
from ._registry import CASES


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up: first-touch page faults, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:8.1f} us"
    if s < 1:
        return f"{s * 1e3:8.2f} ms"
    return f"{s:8.2f} s "


def self_check(rng) -> bool:
    """Every case, both dtypes, every reduction, with sample weights: value and gradient within
    tolerance of the float64 reference."""
    ok = True
    print(f"{'self-check':<40} {'dtype':>7} {'max rel err value':>18} {'max rel err grad':>17}  status")
    for case in CASES:
        for dtype, rtol in ((np.float32, 1e-4), (np.float64, 1e-9)):
            worst_v = worst_g = 0.0
            for reduction in case.reductions:
                for sw in (False, True):
                    args, kw = case.make(rng, dtype, case.shape, sw)
                    v, g = case.loss.value_and_grad(*args, reduction=reduction, **kw)
                    rv, rg = case.reference(*args, reduction=reduction, **kw)
                    worst_v = max(worst_v, _rel_err(v, rv))
                    worst_g = max(worst_g, _rel_err(g, rg))
            good = worst_v < rtol and worst_g < rtol
            ok &= good
            print(f"{case.id:<40} {np.dtype(dtype).name:>7} {worst_v:18.2e} {worst_g:17.2e}  "
                  f"{'ok' if good else 'FAIL'}")
    return ok


def _flat(x) -> np.ndarray:
    """A value or gradient as one float64 vector (tuples: one part per differentiated input)."""
    if isinstance(x, tuple):
        return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in x])
    return np.asarray(x, dtype=np.float64)


def _rel_err(actual, expected) -> float:
    actual, expected = _flat(actual), _flat(expected)
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-30)
    return float(np.max(np.abs(actual - expected))) / scale if expected.size else 0.0


def timings(rng, quick: bool) -> None:
    """value+grad, float32, 'mean': the fused kernel vs the NumPy reference."""
    print()
    print(f"{'timing (float32, value+grad, mean)':<40} {'shape':>18} {'fastloss':>11} "
          f"{'numpy ref':>11} {'speed-up':>9}")
    size_index = 0 if quick else 1
    for case in CASES:
        shape = case.bench_shapes[size_index]
        args, kw = case.make(rng, np.float32, shape, False)
        repeats = 5 if quick else 15
        t_fast = _median_time(lambda: case.loss.value_and_grad(*args, **kw), repeats)
        t_ref = _median_time(lambda: case.reference(*args, **kw), max(3, repeats // 3))
        print(f"{case.id:<40} {str(shape):>18} {_fmt_time(t_fast):>11} {_fmt_time(t_ref):>11} "
              f"{t_ref / t_fast:8.1f}x")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from ._bench import main as bench_main

        return bench_main(argv[1:])
    if argv[:1] == ["demo"]:
        from ._demo import main as demo_main

        return demo_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m fastloss", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small inputs, few repeats")
    parser.add_argument("--version", action="version", version=f"fastloss {__version__}")
    opts = parser.parse_args(argv)
    show_config()
    print()
    rng = np.random.default_rng(0)
    ok = self_check(rng)
    timings(rng, opts.quick)
    print()
    print("self-check:", "all losses match the reference" if ok else "FAILURES (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
