"""``python -m fastloss``: check every registered loss against the NumPy reference on synthetic
data, then time a few workloads against the installed peers (the bench's rules, fewer rounds).

    python -m fastloss            self-check and timing table
    python -m fastloss --quick    smaller inputs, fewer repeats
    python -m fastloss --version  the installed version
    python -m fastloss bench      compare with PyTorch, JAX, scikit-learn and NumPy
                                  (python -m fastloss bench --help for its options)
    python -m fastloss demo       train the example models, print their tables and save
                                  their plots (python -m fastloss demo --help)
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import __version__, get_num_threads, show_config
from ._registry import CASES


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


def timings(quick: bool) -> None:
    """fastloss against whatever peers are installed (hand-vectorised NumPy always), by the
    bench's rules: interleaved medians, the same threads for all, the fastest peer per row, and
    no ratios when the machine is busy. ``python -m fastloss bench`` runs the full set."""
    from . import _bench

    print()
    workloads = _bench.select(groups=("quick" if quick else "main",))
    _bench.report(workloads, get_num_threads(), rounds=3 if quick else 5, budget=1.0,
                  markdown=False, scaling=False, inplace=False, unmeasured_targets=False)


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
    timings(opts.quick)
    print()
    print("self-check:", "all losses match the reference" if ok else "FAILURES (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
