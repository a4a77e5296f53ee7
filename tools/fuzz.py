#!/usr/bin/env python
"""Fuzz fastloss's public API for a bounded time and report the iteration count.

    python tools/fuzz.py --seconds 300 [--seed N]

Drives every registered loss variant and the row-wise functions with arbitrary arrays, dtypes,
shapes, label values, lengths, keyword values and out= arrays (tests/fuzz_harness.py, hypothesis).
Every call must return or raise ValueError/TypeError; anything else is printed as a finding and
the exit status is 1. A hard crash (segfault) kills the process: run it under the sanitizer
build (tools/check_sanitizers.sh) to see where.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import fuzz_harness  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default random)")
    ap.add_argument("--batch", type=int, default=500, help="hypothesis examples per batch")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    iterations, findings = fuzz_harness.run_for(args.seconds, batch=args.batch, seed=args.seed)
    elapsed = time.monotonic() - t0
    for f in findings:
        print("FINDING:", f)
    print(f"fuzz: {iterations} iterations in {elapsed:.0f} s ({iterations / elapsed:.0f}/s), "
          f"{len(findings)} distinct findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
