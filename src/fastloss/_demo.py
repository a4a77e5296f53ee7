"""``python -m fastloss demo``: train the small example models of ``fastloss.examples`` (NumPy
MLPs whose losses and gradients all come from fastloss), print one table per problem and save
one plot per problem (loss and test accuracy / test MSE per epoch, one line per loss).

The plots need matplotlib (``pip install "fastloss[examples]"``); without it the tables are
still printed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from typing import Any, Dict, List, Optional, Sequence

from .examples import EXAMPLES
from .examples import _common


def run(names: Sequence[str] = EXAMPLES, *, epochs: Optional[int] = None,
        outdir: str = "fastloss-examples", plot: bool = True, seed: int = 0,
        verbose: bool = True) -> Dict[str, Dict[str, Any]]:
    """Run the named examples (each with its own default epochs unless ``epochs`` is given);
    return ``{name: result of its main()}``."""
    results = {}
    for name in names:
        module = importlib.import_module(f".examples.{name}", __package__)
        kwargs: Dict[str, Any] = {"outdir": outdir, "plot": plot, "seed": seed,
                                  "verbose": verbose}
        if epochs is not None:
            kwargs["epochs"] = epochs
        t0 = time.perf_counter()
        results[name] = module.main(**kwargs)
        if verbose:
            print(f"({name}: {time.perf_counter() - t0:.1f} s)")
            print()
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastloss demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per model for every example (default: each example's own, "
                             "30-40)")
    parser.add_argument("--outdir", default="fastloss-examples",
                        help="directory for the PNGs (default ./fastloss-examples)")
    parser.add_argument("--only", default=",".join(EXAMPLES),
                        help=f"comma-separated subset of {','.join(EXAMPLES)}")
    parser.add_argument("--no-plot", action="store_true", help="print the tables only")
    parser.add_argument("--seed", type=int, default=0, help="data and initialisation seed")
    opts = parser.parse_args(argv)
    names: List[str] = [n.strip() for n in opts.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXAMPLES]
    if unknown or not names:
        parser.error(f"--only: unknown example(s) {unknown}; choose from {', '.join(EXAMPLES)}")
    if opts.epochs is not None and opts.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {opts.epochs}")
    plot = not opts.no_plot
    if plot and not _common.have_matplotlib():
        print('matplotlib is not installed: tables only (pip install "fastloss[examples]" for '
              "the plots)\n")
        plot = False

    t0 = time.perf_counter()
    results = run(names, epochs=opts.epochs, outdir=opts.outdir, plot=plot, seed=opts.seed)
    plots = [r["plot"] for r in results.values() if r.get("plot")]
    print(f"demo: {len(results)} example(s) in {time.perf_counter() - t0:.1f} s")
    if plots:
        print(f"plots written to {os.path.abspath(opts.outdir)}:")
        for p in plots:
            print(f"  {os.path.abspath(p)}")
    return 0
