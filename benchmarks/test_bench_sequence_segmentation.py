"""CTC and Dice from logits, value and gradient together,
float32, against PyTorch CPU written as a user writes it and the NumPy reference:

* CTC, (N, T, C) = (32, 200, 80), S = 40 labels per sample:
  ``F.ctc_loss(logits.log_softmax(-1).transpose(0, 1), ...)`` then ``.backward()``;
* Dice from logits, (16, 4, 256, 256), integer labels or one-hot targets: ``softmax(dim=1)``,
  the soft Dice per sample and class with sums over H and W, mean, ``.backward()`` (labels go
  through ``F.one_hot``, as a user would write it).

    python -m pytest benchmarks/test_bench_sequence_segmentation.py --benchmark-only
    python -m pytest benchmarks/test_bench_sequence_segmentation.py --benchmark-only \
        --fl-sizes small          # tiny shapes: a smoke run

Every peer runs with fastloss's thread count (``torch.set_num_threads``); each group is one
workload, so pytest-benchmark prints the peers side by side. On a shared machine compare the
ratios within one run, not the absolute times. The NumPy reference of CTC loops over samples
and steps in Python: it is timed for one round only.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

import fastloss as fl
from fastloss import reference

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=1)

FULL = {"ctc": (32, 200, 80, 40), "dice": (16, 4, 256, 256)}
SMALL = {"ctc": (4, 30, 12, 6), "dice": (2, 4, 32, 32)}


@pytest.fixture(scope="module")
def shapes(request):
    sizes = request.config.getoption("--fl-sizes", default="large")
    return FULL if "large" in sizes.split(",") else SMALL


@pytest.fixture(scope="module")
def ctc_inputs(shapes):
    n, t, c, s = shapes["ctc"]
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((n, t, c)).astype(np.float32)
    targets = rng.integers(1, c, size=(n, s))
    return logits, targets, np.full(n, t), np.full(n, s)


@pytest.fixture(scope="module", params=["labels", "onehot"])
def dice_inputs(shapes, request):
    n, c, h, w = shapes["dice"]
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((n, c, h, w)).astype(np.float32)
    labels = rng.integers(0, c, size=(n, h, w))
    if request.param == "labels":
        return request.param, logits, labels
    onehot = np.ascontiguousarray(np.moveaxis(np.eye(c, dtype=np.float32)[labels], -1, 1))
    return request.param, logits, onehot


def _torch(threads=True):
    torch = pytest.importorskip("torch")
    if threads:
        torch.set_num_threads(max(1, fl.get_num_threads()))
    return torch


def _group(benchmark, name, shape):
    benchmark.group = f"{name} {shape} float32 value+grad, {fl.get_num_threads()} threads"


# ------------------------------------------------------------------------------------- CTC


def test_ctc_fastloss(benchmark, ctc_inputs, shapes):
    _group(benchmark, "ctc", shapes["ctc"])
    v, g = benchmark(fl.ctc.value_and_grad, *ctc_inputs)
    rv, rg = reference.ctc(*ctc_inputs)
    assert v == pytest.approx(rv, rel=1e-5)
    np.testing.assert_allclose(g, rg, atol=1e-6)


def test_ctc_torch(benchmark, ctc_inputs, shapes):
    torch = _torch()
    _group(benchmark, "ctc", shapes["ctc"])
    logits, targets, il, tl = ctc_inputs
    x = torch.from_numpy(logits)
    tt, ti, tlen = (torch.from_numpy(np.asarray(a, dtype=np.int64)) for a in (targets, il, tl))

    def run():
        xg = x.detach().requires_grad_(True)
        loss = torch.nn.functional.ctc_loss(xg.log_softmax(-1).transpose(0, 1), tt, ti, tlen)
        loss.backward()
        return loss.item(), xg.grad

    v, _ = benchmark(run)
    assert v == pytest.approx(float(fl.ctc(*ctc_inputs)), rel=1e-5)


def test_ctc_reference(benchmark, ctc_inputs, shapes):
    _group(benchmark, "ctc", shapes["ctc"])
    v, _ = benchmark.pedantic(reference.ctc, args=ctc_inputs, rounds=1, iterations=1)
    assert v == pytest.approx(float(fl.ctc(*ctc_inputs)), rel=1e-5)


# ------------------------------------------------------------------------ Dice from logits


def test_dice_fastloss(benchmark, dice_inputs, shapes):
    kind, logits, target = dice_inputs
    _group(benchmark, f"dice-logits-{kind}", shapes["dice"])
    v, g = benchmark(fl.dice.value_and_grad, logits, target, from_logits=True)
    rv, rg = reference.dice(logits, target, from_logits=True)
    assert v == pytest.approx(rv, rel=1e-5)
    np.testing.assert_allclose(g, rg, atol=1e-6 * np.max(np.abs(rg)))


def test_dice_torch(benchmark, dice_inputs, shapes):
    torch = _torch()
    kind, logits, target = dice_inputs
    _group(benchmark, f"dice-logits-{kind}", shapes["dice"])
    c = logits.shape[1]
    x = torch.from_numpy(logits)
    t = torch.from_numpy(target)

    def run():
        xg = x.detach().requires_grad_(True)
        p = xg.softmax(1)
        tt = (torch.nn.functional.one_hot(t, c).permute(0, 3, 1, 2).to(p.dtype)
              if kind == "labels" else t)
        inter = (p * tt).sum((2, 3))
        den = p.sum((2, 3)) + tt.sum((2, 3))
        loss = (1 - (2 * inter + 1.0) / (den + 1.0)).mean()
        loss.backward()
        return loss.item(), xg.grad

    v, _ = benchmark(run)
    assert v == pytest.approx(float(fl.dice(logits, target, from_logits=True)), rel=1e-5)


def test_dice_reference(benchmark, dice_inputs, shapes):
    kind, logits, target = dice_inputs
    _group(benchmark, f"dice-logits-{kind}", shapes["dice"])
    v, _ = benchmark.pedantic(reference.dice, args=(logits, target),
                              kwargs={"from_logits": True}, rounds=3, iterations=1)
    assert v == pytest.approx(float(fl.dice(logits, target, from_logits=True)), rel=1e-5)
