"""pytest-benchmark suite over the loss registry: every case x size x dtype x mode x peer.

    python -m pytest benchmarks/ --benchmark-only
    python -m pytest benchmarks/ --benchmark-only --fl-losses huber --fl-sizes small,medium

Each benchmark's group is one (loss case, size, dtype, mode), so pytest-benchmark prints the
peers (fastloss, the NumPy reference, PyTorch CPU, scikit-learn) side by side. At the end, the
large sizes are listed with their effective throughput (minimal bytes moved / median time)
next to the memory bandwidth measured with NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

from fastloss import _bench
from fastloss._registry import CASES


def pytest_addoption(parser):
    group = parser.getgroup("fastloss benchmarks")
    group.addoption("--fl-losses", default="",
                    help="comma-separated case ids, globs over them ('cross_entropy*') or loss "
                         "names (default: all)")
    group.addoption("--fl-sizes", default=",".join(_bench.SIZES),
                    help="comma-separated subset of small,medium,large (default: all)")
    group.addoption("--fl-dtypes", default=",".join(_bench.DTYPES),
                    help="comma-separated subset of float32,float64 (default: both)")
    group.addoption("--fl-modes", default=",".join(_bench.MODES),
                    help="comma-separated subset of value,value+grad (default: both)")
    group.addoption("--fl-budget", type=float, default=0.25,
                    help="seconds of timed rounds per benchmark (slow calls get fewer rounds)")
    group.addoption("--fl-ref-large", action="store_true",
                    help=f"also time the NumPy reference at large sizes above "
                         f"{REF_MAX_ELEMENTS:,} elements (single round; can take minutes)")
    group.addoption("--fl-bandwidth-mib", type=int, default=512,
                    help="array size of the bandwidth measurement (default 512 MiB)")


# The NumPy reference (float64 whole-array temporaries) takes tens of seconds on the largest
# inputs; it is left out above this many prediction elements unless --fl-ref-large is given.
REF_MAX_ELEMENTS = 1 << 24

_SHORT = {"float32": "f32", "float64": "f64", "value": "value", "value+grad": "vg"}


class Param:
    def __init__(self, case, size, dtype, mode, peer):
        self.case, self.size, self.dtype, self.mode, self.peer = case, size, dtype, mode, peer
        self.shape = case.bench_shapes[_bench.SIZES.index(size)]

    @property
    def id(self):
        return f"{self.case.id}-{self.size}-{_SHORT[self.dtype]}-{_SHORT[self.mode]}-{self.peer}"

    @property
    def group(self):
        return f"{self.case.id} {self.size} {self.shape} {self.dtype} {self.mode}"


def _csv(config, name):
    return [v.strip() for v in config.getoption(name).split(",") if v.strip()]


def _params(config):
    try:
        cases = _bench.select_cases(_csv(config, "--fl-losses"))
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    sizes, dtypes, modes = (_csv(config, o) for o in ("--fl-sizes", "--fl-dtypes", "--fl-modes"))
    for what, got, known in (("size", sizes, _bench.SIZES), ("dtype", dtypes, _bench.DTYPES),
                             ("mode", modes, _bench.MODES)):
        bad = [g for g in got if g not in known]
        if bad:
            raise pytest.UsageError(f"unknown {what}(s) {bad}; known: {list(known)}")
    ref_large = config.getoption("--fl-ref-large")
    out = []
    for case in cases:
        # which peers this case has: decided on the case's small test shape, cheaply
        args, kw = case.make(np.random.default_rng(0), np.float32, case.shape, False)
        has_sklearn = _bench.sklearn_spec(case, args, kw) is not None
        for size in sizes:
            shape = case.bench_shapes[_bench.SIZES.index(size)]
            for dtype in dtypes:
                for mode in modes:
                    for peer in _bench.PEERS:
                        if peer == "numpy-ref" and (mode != "value+grad" or (
                                size == "large" and np.prod(shape) > REF_MAX_ELEMENTS
                                and not ref_large)):
                            continue
                        if peer == "torch" and case.torch is None:
                            continue
                        if peer == "sklearn" and not has_sklearn:
                            continue
                        out.append(Param(case, size, dtype, mode, peer))
    return out


def pytest_generate_tests(metafunc):
    if "bench_param" in metafunc.fixturenames:
        params = _params(metafunc.config)
        metafunc.parametrize("bench_param", params, ids=[p.id for p in params])


_records = []  # (Param, median seconds, minimal bytes)
_inputs = {}  # one (case, size, dtype) of inputs at a time; tests are ordered to reuse it


@pytest.fixture
def inputs():
    def get(p):
        key = (p.case.id, p.size, p.dtype)
        if key not in _inputs:
            _inputs.clear()  # free the previous arrays before making the next ones
            _inputs[key] = _bench.make_inputs(p.case, p.size, _bench.DTYPES[p.dtype])
        return _inputs[key]
    return get


@pytest.fixture
def record():
    return lambda *r: _records.append(r)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    _inputs.clear()
    large = [r for r in _records if r[0].size == "large"]
    if not large:
        return
    bw = _bench.measure_bandwidth(config.getoption("--fl-bandwidth-mib"))
    tr = terminalreporter
    tr.section("fastloss: effective throughput at the large sizes")
    tr.write_line(f"measured bandwidth ({bw['mib']} MiB float32, NumPy): copy (read+write) "
                  f"{bw['copy']:.1f} GB/s, read (sum) {bw['read']:.1f} GB/s")
    tr.write_line("GB/s = (input arrays read once + gradient written once (value+grad)) / median")
    width = max(len(p.group) for p, _, _ in large)
    tr.write_line(f"{'group':<{width}}  {'peer':<9}  {'median':>10}  {'GB/s':>7}  {'% copy bw':>9}")
    for p, median, nbytes in large:
        gbs = nbytes / median / 1e9
        tr.write_line(f"{p.group:<{width}}  {p.peer:<9}  {_bench.fmt_time(median):>10}  "
                      f"{gbs:7.2f}  {100 * gbs / bw['copy']:8.0f}%")
