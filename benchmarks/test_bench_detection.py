"""ssd_multibox (value and gradient together) against the NumPy reference; no other library
has it as one loss. CTC and Dice are in test_bench_sequence_segmentation.py.

    python -m pytest benchmarks/test_bench_detection.py --benchmark-only

Not part of the default test run: ``python -m pytest`` collects only ``tests/`` (testpaths).
Shape: N=32, A=8732 (SSD300's anchor count), C=21 (VOC), float32.
"""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=1)

SSD_SHAPE = dict(n=32, a=8732, c=21)


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


@pytest.mark.benchmark(group="ssd_multibox N=32 A=8732 C=21 float32, value+grad")
def test_ssd_fastloss(benchmark, ssd_inputs):
    v, (gl, gc) = benchmark(fl.ssd_multibox.value_and_grad, *ssd_inputs)
    assert np.isfinite(v) and gc.shape == ssd_inputs[2].shape


@pytest.mark.benchmark(group="ssd_multibox N=32 A=8732 C=21 float32, value+grad")
def test_ssd_reference(benchmark, ssd_inputs):
    v, _ = benchmark(reference.ssd_multibox, *ssd_inputs)
    assert v == pytest.approx(float(fl.ssd_multibox(*ssd_inputs)), rel=1e-5)
