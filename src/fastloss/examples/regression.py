"""Regression: one MLP per loss on a noisy, non-linear, positive target, compared on test MSE.

The target is ``y = exp(g(x) / 2 + 0.15 * noise)`` with ``g`` a linear function of 8 features
plus ``sin`` and product terms: positive (so MSLE applies), skewed, with multiplicative noise.
The same network (8 -> 32 tanh -> 1), initialisation and batch order are trained with

- ``fl.mse``: fits the conditional mean, what test MSE measures;
- ``fl.msle``: the squared error of ``log1p``, which suits this multiplicative structure (it
  tends to come out best on test MSE here); the network's output goes through a softplus so the
  prediction stays positive (``fl.msle`` rejects predictions <= -1);
- ``fl.mae``: fits the conditional median, below the mean for this right-skewed noise;
- ``fl.huber`` (delta 0.5): quadratic near 0, linear in the tails.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Tuple

import numpy as np

import fastloss as fl

from ._common import DTYPE, MLP, cli, print_table, save_plot, single_threaded_blas, train

N_FEATURES = 8


def make_data(rng: np.random.Generator, n: int) -> Tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, N_FEATURES))
    w = np.linspace(1.0, -0.6, N_FEATURES)
    g = x @ w / np.linalg.norm(w) + 0.5 * np.sin(2 * x[:, 0]) + 0.3 * x[:, 1] * x[:, 2]
    y = np.exp(0.5 * g + 0.15 * rng.standard_normal(n))
    return x.astype(DTYPE), y.astype(DTYPE)


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, z).astype(z.dtype, copy=False)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * (1 + np.tanh(0.5 * z))).astype(z.dtype, copy=False)


def objectives() -> Dict[str, Tuple[Callable[..., Any], Callable[[np.ndarray], np.ndarray]]]:
    """name -> (objective(out, y, buf) -> (value, d/d out), prediction from the network out)."""

    def plain(loss: fl.Loss, **kw: Any) -> Callable[..., Any]:
        # The gradient is written into `buf` (allocated once by the training loop).
        return lambda out, y, buf: loss.value_and_grad(out, y, out=buf, **kw)

    def msle(out: np.ndarray, y: np.ndarray, buf: np.ndarray) -> Tuple[Any, np.ndarray]:
        value, g = fl.msle.value_and_grad(softplus(out), y, out=buf)
        g *= sigmoid(out)  # chain rule through pred = softplus(out)
        return value, g

    identity = lambda out: out  # noqa: E731
    return {
        "mse": (plain(fl.mse), identity),
        "msle": (msle, softplus),
        "mae": (plain(fl.mae), identity),
        "huber(0.5)": (plain(fl.huber, delta=0.5), identity),
    }


def main(epochs: int = 40, outdir: str = "fastloss-examples", plot: bool = True,
         seed: int = 0, verbose: bool = True) -> Dict[str, Any]:
    """Train one model per loss; return ``{"problem", "table", "history", "plot", ...}`` where
    ``table[loss]`` has the initial and final training loss and the test MSE / MAE."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_data(rng, 2048)
    x_test, y_test = make_data(rng, 2048)
    target_var = float(np.var(y_test))

    table: Dict[str, Dict[str, float]] = {}
    history = {}
    for name, (objective, predict) in objectives().items():
        model = MLP(N_FEATURES, 32, 1, np.random.default_rng(seed + 1))

        def test_mse(m: MLP) -> float:
            pred = predict(m.forward(x_test)[:, 0])
            return float(np.mean((pred - y_test) ** 2))

        with single_threaded_blas():
            h = train(model, x_train, y_train, objective, epochs=epochs, batch_size=64,
                      lr=1e-2, seed=seed + 2, evaluate=test_mse)
        pred = predict(model.forward(x_test)[:, 0])
        history[name] = h
        table[name] = {"initial loss": h["loss"][0], "final loss": h["loss"][-1],
                       "test MSE": h["metric"][-1],
                       "test MAE": float(np.mean(np.abs(pred - y_test)))}

    if verbose:
        print_table(f"regression: {epochs} epochs; var(y_test) = {target_var:.4f} "
                    "(the test MSE of predicting the mean)",
                    table, ["initial loss", "final loss", "test MSE", "test MAE"])
    path = None
    if plot:
        path = save_plot(os.path.join(outdir, "regression.png"),
                         "Regression (8 features, positive skewed target): MLP 8-32-1",
                         history, "test MSE", metric_log=True,
                         hline=(target_var, "var(y_test)"))
    return {"problem": "regression", "metric": "test MSE", "table": table, "history": history,
            "target_var": target_var, "plot": path}


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__))
