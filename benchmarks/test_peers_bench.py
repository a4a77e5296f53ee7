"""One benchmark per (workload, peer); see conftest.py. Missing peers skip."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import fastloss  # noqa: E402
from fastloss import _bench  # noqa: E402

_inputs = {}  # one workload's arrays at a time; tests are ordered by workload


def _make(w):
    if w.name not in _inputs:
        _inputs.clear()
        args, kw = w.make(np.random.default_rng(0), np.float32, w.shape)
        _inputs[w.name] = (args, {"reduction": "mean", **kw})
    return _inputs[w.name]


def test_workload(benchmark, workload_peer, request):
    w, peer = workload_peer
    benchmark.group = f"{w.name} float32 value+grad"
    args, kw = _make(w)
    threads = request.config.getoption("--fl-threads") or fastloss.get_num_threads()
    fastloss.set_num_threads(threads)
    calls = {**_bench.fastloss_calls(w, args, kw), **_bench.peer_calls(w, args, kw, threads,
                                                                         (peer,))}
    if peer not in calls:
        pytest.skip(f"{peer} is not installed")
    fn = calls[peer]
    t0 = time.perf_counter()
    fn()  # warm-up (JAX compiles here)
    probe = time.perf_counter() - t0
    iterations = 1 if probe >= 1e-4 else math.ceil(1e-4 / max(probe, 1e-7))
    rounds = 1 if probe > 1.0 else max(3, min(100, int(0.5 / (probe * iterations))))
    benchmark.pedantic(fn, rounds=rounds, iterations=iterations, warmup_rounds=1)
    benchmark.extra_info.update(workload=w.name, peer=peer, threads=threads)
