"""Multi-class classification: overlapping Gaussian blobs, one MLP per loss, test accuracy.

Five classes in 2-d, their centres on a circle, overlapping enough that no classifier gets
everything right. The same network (2 -> 32 tanh -> 5 logits), initialisation and batch
order are trained with

- ``fl.cross_entropy`` on integer labels;
- ``fl.cross_entropy`` on one-hot float targets: the same loss written with class
  probabilities, so its curves should lie on top of the labels' (a check, not a contest);
- ``fl.kl_div`` between label-smoothed one-hot targets (0.9 on the class, the rest spread over
  the others) and the model's ``fl.log_softmax`` output, backpropagated with
  ``fl.log_softmax.vjp``. (With plain one-hot targets the KL divergence *is* the
  cross-entropy, the target's entropy being 0; smoothing makes it a different objective whose
  minimum is 0.)
- ``fl.multi_margin``: the multi-class hinge, a margin loss rather than a probabilistic one.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Tuple

import numpy as np

import fastloss as fl

from ._common import DTYPE, MLP, accuracy, cli, print_table, save_plot, single_threaded_blas, train

N_CLASSES = 5
SMOOTHING = 0.1


def make_blobs(rng: np.random.Generator, n: int, n_classes: int = N_CLASSES,
               radius: float = 2.0, std: float = 0.9) -> Tuple[np.ndarray, np.ndarray]:
    """``n`` points, class ``k`` drawn from N(centre_k, std^2 I), the centres evenly spaced on a
    circle of radius ``radius``."""
    labels = rng.integers(0, n_classes, n)
    angle = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centres[labels] + std * rng.standard_normal((n, 2))
    return x.astype(DTYPE), labels


def kl_objective(logits: np.ndarray, soft: np.ndarray, buf: np.ndarray) -> Tuple[Any, np.ndarray]:
    """KL(soft || softmax(logits)), "batchmean", and its gradient w.r.t. the logits.

    Why log-softmax outputs with ``log_pred=True`` rather than softmax outputs with
    ``log_pred=False``: the gradient w.r.t. log q is ``-t / N``, bounded, and
    ``log_softmax.vjp`` turns it into ``(softmax(logits) - t) / N``. Given probabilities q
    instead, the gradient is ``-t / q``, which explodes where the model puts (nearly) zero
    probability on a target class -- in float32 q can underflow to exactly 0 and the chain rule
    through softmax then computes inf * 0 = NaN. Same maths, but the log form trains cleanly.
    """
    log_q = fl.log_softmax(logits)
    value, g_log_q = fl.kl_div.value_and_grad(log_q, soft, log_pred=True, out=buf)
    return value, fl.log_softmax.vjp(logits, g_log_q)


def objectives() -> Dict[str, Tuple[Callable[..., Any], str]]:
    """name -> (objective(logits, targets, buf) -> (value, d/d logits), which targets)."""
    return {
        "cross_entropy (labels)": (
            lambda z, y, buf: fl.cross_entropy.value_and_grad(z, y, out=buf), "labels"),
        "cross_entropy (one-hot)": (
            lambda z, t, buf: fl.cross_entropy.value_and_grad(z, t, out=buf), "one-hot"),
        f"kl_div (smoothed {SMOOTHING})": (kl_objective, "smoothed"),
        "multi_margin": (
            lambda z, y, buf: fl.multi_margin.value_and_grad(z, y, out=buf), "labels"),
    }


def main(epochs: int = 30, outdir: str = "fastloss-examples", plot: bool = True,
         seed: int = 0, verbose: bool = True) -> Dict[str, Any]:
    """Train one model per loss; return ``{"problem", "table", "history", "plot", ...}`` where
    ``table[loss]`` has the initial and final training loss and the test accuracy."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_blobs(rng, 1024)
    x_test, y_test = make_blobs(rng, 2048)
    one_hot = np.eye(N_CLASSES, dtype=DTYPE)[y_train]
    smoothed = (one_hot * (1 - SMOOTHING)
                + (1 - one_hot) * SMOOTHING / (N_CLASSES - 1)).astype(DTYPE)
    targets = {"labels": y_train, "one-hot": one_hot, "smoothed": smoothed}

    def test_accuracy(m: MLP) -> float:
        return accuracy(np.argmax(m.forward(x_test), axis=1), y_test)

    table: Dict[str, Dict[str, float]] = {}
    history = {}
    for name, (objective, which) in objectives().items():
        model = MLP(2, 32, N_CLASSES, np.random.default_rng(seed + 1))
        with single_threaded_blas():
            h = train(model, x_train, targets[which], objective, epochs=epochs, batch_size=64,
                      lr=1e-3, seed=seed + 2, evaluate=test_accuracy)
        history[name] = h
        table[name] = {"initial loss": h["loss"][0], "final loss": h["loss"][-1],
                       "test accuracy": h["metric"][-1]}

    if verbose:
        print_table(f"multi-class ({N_CLASSES} Gaussian blobs): {epochs} epochs; "
                    f"chance accuracy {1 / N_CLASSES:.2f}",
                    table, ["initial loss", "final loss", "test accuracy"])
    path = None
    if plot:
        path = save_plot(os.path.join(outdir, "multiclass.png"),
                         f"Multi-class: {N_CLASSES} Gaussian blobs, MLP 2-32-{N_CLASSES}",
                         history, "test accuracy",
                         styles={"cross_entropy (one-hot)": "--"})  # on top of the labels' line
    return {"problem": "multiclass", "metric": "test accuracy", "table": table,
            "history": history, "chance": 1 / N_CLASSES, "plot": path}


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__))
