"""pytest-benchmark suite over the bench's workloads (fastloss._peers.WORKLOADS): fastloss (plain
and out=) and every installed peer, grouped by workload so that pytest-benchmark prints them
side by side.

    python -m pytest benchmarks/ --benchmark-only --fl-group quick
    python -m pytest benchmarks/ --benchmark-only --fl-losses cross_entropy,huber

`python -m fastloss bench` times the same workloads interleaved and checks the targets.
"""

from __future__ import annotations

import re

import pytest

from fastloss import _bench


def pytest_addoption(parser):
    group = parser.getgroup("fastloss benchmarks")
    group.addoption("--fl-losses", default="",
                    help="comma-separated loss or workload names (default: all)")
    group.addoption("--fl-group", default="all", choices=("all", "quick", "main"),
                    help="a predefined set of workloads")
    group.addoption("--fl-threads", type=int, default=None,
                    help="threads for fastloss and every peer (default: fastloss's setting)")


def _workloads(config):
    names = [n.strip() for n in re.split(r",(?![^()]*\))", config.getoption("--fl-losses"))
             if n.strip()]
    group = config.getoption("--fl-group")
    try:
        return _bench.select(names, () if group == "all" else (group,))
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None


def pytest_generate_tests(metafunc):
    if "workload_peer" in metafunc.fixturenames:
        params = [(w, p) for w in _workloads(metafunc.config)
                  for p in ("fastloss", "fastloss out=", *w.peers)]
        metafunc.parametrize("workload_peer", params, ids=[f"{w.name}-{p}" for w, p in params])
