"""One benchmark per (registry case, size, dtype, mode, peer); see conftest.py.

Peers: ``fastloss`` (``loss(...)`` for "value", ``loss.value_and_grad(...)`` for "value+grad"),
``numpy-ref`` (``fastloss.reference``, value and gradient; "value+grad" groups only), ``torch``
(forward under no_grad; forward + backward of the reduced value, on ``torch.from_numpy``
tensors, ``torch.set_num_threads`` = fastloss's thread count) and ``sklearn`` (``sklearn._loss``
per-sample ``loss`` / ``loss_gradient`` where it has the loss). Missing optional packages skip
their benchmarks.
"""

from __future__ import annotations

import math
import time

import pytest

pytest.importorskip("pytest_benchmark")

import fastloss  # noqa: E402
from fastloss import _bench  # noqa: E402


def _rounds(probe: float, budget: float):
    """(rounds, iterations, warm-up rounds) for a call that took ``probe`` seconds once."""
    iterations = 1 if probe >= 1e-4 else math.ceil(1e-4 / max(probe, 1e-7))
    per_round = probe * iterations
    if probe > 0.5:  # slow calls (references, peers on large inputs): a single timed round
        return 1, 1, 0
    rounds = max(3, min(200, int(budget / per_round)))
    return rounds, iterations, (1 if per_round < 0.05 else 0)


def test_loss(benchmark, bench_param, inputs, record, request):
    p = bench_param
    benchmark.group = p.group
    if p.peer == "torch" and _bench._torch()[0] is None:
        pytest.skip("torch is not installed")
    if p.peer == "sklearn" and _bench._sklearn_loss() is None:
        pytest.skip("scikit-learn is not installed")
    args, kw = inputs(p)
    threads = fastloss.get_num_threads()
    fn = _bench.peer(p.case, args, kw, p.mode, p.peer, threads)
    assert fn is not None, f"peer {p.peer} unavailable for {p.id}"
    t0 = time.perf_counter()
    fn()  # also the warm-up of slow calls
    probe = time.perf_counter() - t0
    rounds, iterations, warmup = _rounds(probe, request.config.getoption("--fl-budget"))
    benchmark.pedantic(fn, rounds=rounds, iterations=iterations, warmup_rounds=warmup)

    nbytes = _bench.min_bytes(args, kw, p.mode, p.case.grad_args)
    benchmark.extra_info.update(case=p.case.id, size=p.size, shape=list(p.shape), dtype=p.dtype,
                                mode=p.mode, peer=p.peer, threads=threads, min_bytes=nbytes)
    stats = getattr(benchmark, "stats", None)  # None under --benchmark-disable
    if stats is not None:
        median = stats.stats.median
        benchmark.extra_info["GB/s"] = round(nbytes / median / 1e9, 3)
        record(p, median, nbytes)
