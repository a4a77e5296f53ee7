"""Benchmarks of ctc and ssd_multibox (value and gradient together) against the NumPy
reference and, for CTC, PyTorch CPU forward + backward (skipped when torch is missing).

    python -m pytest benchmarks/test_bench_ctc_ssd.py --benchmark-only

Not part of the default test run: ``python -m pytest`` collects only ``tests/`` (testpaths).
Shapes: CTC N=32, T=200, C=80, S=40 (every target S labels, every input T steps); SSD N=32,
A=8732 (SSD300's anchor count), C=21 (VOC), float32.
"""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=1)

CTC_SHAPE = dict(n=32, t=200, c=80, s=40)
SSD_SHAPE = dict(n=32, a=8732, c=21)


@pytest.fixture(scope="module")
def ctc_inputs():
    rng = np.random.default_rng(0)
    n, t, c, s = CTC_SHAPE["n"], CTC_SHAPE["t"], CTC_SHAPE["c"], CTC_SHAPE["s"]
    logits = rng.standard_normal((n, t, c)).astype(np.float32)
    targets = rng.integers(1, c, size=(n, s))
    return logits, targets, np.full(n, t), np.full(n, s)


@pytest.fixture(scope="module")
def ssd_inputs():
    rng = np.random.default_rng(0)
    n, a, c = SSD_SHAPE["n"], SSD_SHAPE["a"], SSD_SHAPE["c"]
    loc_pred = rng.standard_normal((n, a, 4)).astype(np.float32)
    loc_target = rng.standard_normal((n, a, 4)).astype(np.float32)
    conf = rng.standard_normal((n, a, c)).astype(np.float32)
    u = rng.random((n, a))
    labels = np.where(u < 0.05, rng.integers(1, c, size=(n, a)), np.where(u < 0.1, -1, 0))
    return loc_pred, loc_target, conf, labels


@pytest.mark.benchmark(group="ctc N=32 T=200 C=80 S=40 float32, value+grad")
def test_ctc_fastloss(benchmark, ctc_inputs):
    v, g = benchmark(fl.ctc.value_and_grad, *ctc_inputs)
    assert np.isfinite(v) and g.shape == ctc_inputs[0].shape


@pytest.mark.benchmark(group="ctc N=32 T=200 C=80 S=40 float32, value+grad")
def test_ctc_reference(benchmark, ctc_inputs):
    v, _ = benchmark(reference.ctc, *ctc_inputs)
    assert v == pytest.approx(float(fl.ctc(*ctc_inputs)), rel=1e-5)


@pytest.mark.benchmark(group="ctc N=32 T=200 C=80 S=40 float32, value+grad")
def test_ctc_torch(benchmark, ctc_inputs):
    torch = pytest.importorskip("torch")
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


@pytest.mark.benchmark(group="ssd_multibox N=32 A=8732 C=21 float32, value+grad")
def test_ssd_fastloss(benchmark, ssd_inputs):
    v, (gl, gc) = benchmark(fl.ssd_multibox.value_and_grad, *ssd_inputs)
    assert np.isfinite(v) and gc.shape == ssd_inputs[2].shape


@pytest.mark.benchmark(group="ssd_multibox N=32 A=8732 C=21 float32, value+grad")
def test_ssd_reference(benchmark, ssd_inputs):
    v, _ = benchmark(reference.ssd_multibox, *ssd_inputs)
    assert v == pytest.approx(float(fl.ssd_multibox(*ssd_inputs)), rel=1e-5)
