"""Binary classification: two concentric circles, one MLP per loss, compared on test accuracy.

No straight line separates an inner circle from an outer ring, so the network (2 -> 16 tanh
-> 1, one logit/score per point) has to bend its boundary into a closed curve. The same
initialisation and batch order are trained with

- ``fl.binary_cross_entropy_with_logits`` on targets in {0, 1} (a probabilistic loss: it keeps
  pushing confident points further, never exactly 0);
- ``fl.hinge`` (``max(0, 1 - t * score)``) and ``fl.squared_hinge`` (its square): margin losses
  that stop caring about a point once its score is beyond the margin. Both read {0, 1} targets
  as {-1, +1}, so the same label array serves all three losses.

A point is classified as the outer ring when the score is above 0.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Tuple

import numpy as np

import fastloss as fl

from ._common import DTYPE, MLP, accuracy, cli, print_table, save_plot, single_threaded_blas, train


def make_circles(rng: np.random.Generator, n: int, noise: float = 0.12,
                 inner: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Half the points on the unit circle (label 1), half on a circle of radius ``inner``
    (label 0), with Gaussian noise of standard deviation ``noise`` on both coordinates."""
    labels = rng.permutation(np.arange(n) % 2)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(labels == 1, 1.0, inner)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x += noise * rng.standard_normal((n, 2))
    return (2 * x).astype(DTYPE), labels.astype(DTYPE)  # scaled to unit-ish features


LOSSES = {
    "bce_with_logits": fl.binary_cross_entropy_with_logits,
    "hinge": fl.hinge,
    "squared_hinge": fl.squared_hinge,
}


def main(epochs: int = 40, outdir: str = "fastloss-examples", plot: bool = True,
         seed: int = 0, verbose: bool = True) -> Dict[str, Any]:
    """Train one model per loss; return ``{"problem", "table", "history", "plot", ...}`` where
    ``table[loss]`` has the initial and final training loss and the test accuracy."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_circles(rng, 1024)
    x_test, y_test = make_circles(rng, 2048)

    def test_accuracy(m: MLP) -> float:
        return accuracy(m.forward(x_test)[:, 0] > 0, y_test == 1)

    table: Dict[str, Dict[str, float]] = {}
    history = {}
    for name, loss in LOSSES.items():
        model = MLP(2, 16, 1, np.random.default_rng(seed + 1))

        def objective(out: np.ndarray, y: np.ndarray, buf: np.ndarray,
                      loss: fl.Loss = loss) -> Any:
            # value and d loss / d score from one kernel call, the gradient written into buf
            return loss.value_and_grad(out, y, out=buf)

        with single_threaded_blas():
            h = train(model, x_train, y_train, objective, epochs=epochs, batch_size=32, lr=1e-2,
                      seed=seed + 2, evaluate=test_accuracy)
        history[name] = h
        table[name] = {"initial loss": h["loss"][0], "final loss": h["loss"][-1],
                       "test accuracy": h["metric"][-1]}

    if verbose:
        print_table(f"binary (concentric circles): {epochs} epochs; chance accuracy 0.5",
                    table, ["initial loss", "final loss", "test accuracy"])
    path = None
    if plot:
        path = save_plot(os.path.join(outdir, "binary.png"),
                         "Binary: two concentric circles, MLP 2-16-1", history, "test accuracy")
    return {"problem": "binary", "metric": "test accuracy", "table": table, "history": history,
            "chance": 0.5, "plot": path}


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__))
