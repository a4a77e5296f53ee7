"""Typed use of the public API: `mypy --strict` must pass on this file (tests/test_typing.py
checks it), and it runs as a plain script whose assertions check that the declared types are the
runtime ones."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

import fastloss as fl


def train_step(loss: fl.Loss, pred: NDArray[np.float32], target: NDArray[np.float32],
               lr: float = 0.1) -> tuple[float, NDArray[np.float32]]:
    """One gradient-descent step with any loss: the value and gradient come from one call."""
    value, grad = loss.value_and_grad(pred, target, reduction="mean")
    return float(value), (pred - lr * grad).astype(np.float32)


def main() -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((8, 4), dtype=np.float32)
    labels = rng.integers(0, 4, size=8)

    value: np.floating[Any] = fl.cross_entropy(logits, labels, label_smoothing=0.1)
    per_sample: NDArray[np.floating[Any]] = fl.cross_entropy(logits, labels, reduction="none")
    grad: NDArray[np.floating[Any]] = fl.cross_entropy.grad(logits, labels)
    assert isinstance(value, np.floating) and value.dtype == np.float32
    assert isinstance(per_sample, np.ndarray) and per_sample.shape == (8,)
    assert grad.shape == logits.shape

    pred = rng.standard_normal(16, dtype=np.float32)
    target = rng.standard_normal(16, dtype=np.float32)
    losses: dict[str, fl.Loss] = {"huber": fl.huber, "hinge": fl.hinge}
    step_value, new_pred = train_step(losses["huber"], pred, target)
    assert new_pred.dtype == np.float32 and step_value >= 0.0

    reduction: Literal["sum", "mean"] = "sum"  # a reduced value: a NumPy scalar
    summed: np.floating[Any] = fl.huber(pred, target, reduction=reduction, delta=0.5)
    assert np.ndim(summed) == 0

    buf = np.empty_like(logits)
    v2, g2 = fl.cross_entropy.value_and_grad(logits, labels, out=buf)  # reuses buf
    assert g2 is buf and float(v2) > 0.0
    fake = rng.standard_normal(5)
    gen: np.floating[Any] = fl.gan_generator(fake)  # a single-input loss
    d_real, d_fake = fl.gan_discriminator.grad(rng.standard_normal(3), fake)
    assert d_real.shape == (3,) and d_fake.shape == (5,) and np.isfinite(gen)
    probs: NDArray[np.floating[Any]] = fl.softmax(logits, axis=-1)
    lse_grad: NDArray[np.floating[Any]] = fl.logsumexp.grad(logits)
    assert probs.shape == lse_grad.shape == logits.shape

    config: dict[str, Any] = fl.show_config(print_out=False)
    assert isinstance(config["openmp"], bool)
    fl.set_num_threads(2)
    threads: int = fl.get_num_threads()
    assert threads == (2 if config["openmp"] else 1)
    fl.set_num_threads(None)
    version: str = fl.__version__
    assert version == config["fastloss"]


if __name__ == "__main__":
    main()
