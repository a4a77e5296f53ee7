"""What every example shares: a one-hidden-layer MLP with hand-written backprop, Adam, the
mini-batch training loop, the results table and the plot.

Everything here is plain NumPy; the losses and their gradients come from fastloss, in the
examples themselves. The model computes in float32 (what fastloss returns for float32 input).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

DTYPE = np.float32

# objective(model_output, batch_targets, grad_buffer) -> (loss value, d loss / d model_output)
Objective = Callable[[np.ndarray, Any, np.ndarray], Tuple[float, np.ndarray]]


class MLP:
    """``x -> act(x @ W1 + b1) @ W2 + b2``: one hidden layer, tanh or ReLU.

    ``forward`` keeps what ``backward`` needs; ``backward(d_out)`` returns the gradients of the
    parameters (same order as ``params``) given the gradient of the loss w.r.t. the output.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator,
                 activation: str = "tanh"):
        gain = 1.0 if activation == "tanh" else 2.0  # Glorot-style for tanh, He for ReLU
        self.W1 = (rng.standard_normal((n_in, n_hidden)) * np.sqrt(gain / n_in)).astype(DTYPE)
        self.b1 = np.zeros(n_hidden, DTYPE)
        self.W2 = (rng.standard_normal((n_hidden, n_out)) * np.sqrt(1.0 / n_hidden)).astype(DTYPE)
        self.b2 = np.zeros(n_out, DTYPE)
        self.activation = activation
        self._x: Optional[np.ndarray] = None
        self._h: Optional[np.ndarray] = None

    @property
    def params(self) -> List[np.ndarray]:
        return [self.W1, self.b1, self.W2, self.b2]

    def forward(self, x: np.ndarray) -> np.ndarray:
        a = x @ self.W1 + self.b1
        h = np.tanh(a) if self.activation == "tanh" else np.maximum(a, 0)
        self._x, self._h = x, h
        return h @ self.W2 + self.b2

    def backward(self, d_out: np.ndarray) -> List[np.ndarray]:
        x, h = self._x, self._h
        assert x is not None and h is not None, "forward first"
        dW2 = h.T @ d_out
        db2 = d_out.sum(axis=0)
        dh = d_out @ self.W2.T
        da = dh * (1 - h * h) if self.activation == "tanh" else dh * (h > 0)
        dW1 = x.T @ da
        db1 = da.sum(axis=0)
        return [dW1, db1, dW2, db2]


class Adam:
    """Adam (Kingma & Ba 2015), updating the parameter arrays in place."""

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1e-2,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads: Sequence[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / c1) * m / (np.sqrt(v / c2) + self.eps)


def take(targets: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of the targets (an array, or a tuple of arrays such as (teacher, labels))."""
    if isinstance(targets, tuple):
        return tuple(t[idx] for t in targets)
    return targets[idx]


def train(model: MLP, x: np.ndarray, targets: Any, objective: Objective, *, epochs: int,
          batch_size: int, lr: float, seed: int,
          evaluate: Callable[[MLP], float]) -> Dict[str, List[float]]:
    """Mini-batch Adam on ``objective``. Returns the history: ``loss`` (the objective over the
    whole training set) and ``metric`` (``evaluate(model)``, on the test set), both at epoch 0
    (the initial model) and after each epoch.

    Only full batches are used (the last partial batch of an epoch is dropped), so the gradient
    buffer handed to the loss's ``value_and_grad(..., out=...)`` is allocated once.
    """
    rng = np.random.default_rng(seed)  # the same batch order for every loss
    opt = Adam(model.params, lr=lr)
    n = x.shape[0]
    n_out = model.b2.shape[0]
    grad_buf = np.empty((batch_size, n_out) if n_out > 1 else (batch_size,), DTYPE)
    full_buf = np.empty((n, n_out) if n_out > 1 else (n,), DTYPE)

    def output(xb: np.ndarray) -> np.ndarray:
        out = model.forward(xb)
        return out if n_out > 1 else out[:, 0]

    def epoch_loss() -> float:
        return float(objective(output(x), targets, full_buf)[0])

    history: Dict[str, List[float]] = {"loss": [epoch_loss()], "metric": [evaluate(model)]}
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            out = output(x[idx])
            _, d_out = objective(out, take(targets, idx), grad_buf)
            opt.step(model.backward(d_out if n_out > 1 else d_out[:, None]))
        history["loss"].append(epoch_loss())
        history["metric"].append(evaluate(model))
    return history


@contextlib.contextmanager
def single_threaded_blas() -> Any:
    """BLAS on one thread while the examples train (with threadpoolctl, when installed).

    Their matrices are tiny (64 x 32): a multi-threaded BLAS spends more time waking threads
    than multiplying, several times slower on a busy machine. fastloss itself keeps its own
    thread policy (inputs this small run on one thread anyway)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def accuracy(pred_labels: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(pred_labels == labels))


# ---------------------------------------------------------------------------------------------
# reporting


def print_table(title: str, rows: Dict[str, Dict[str, float]], columns: Sequence[str]) -> None:
    """One row per loss, one column per entry of ``columns``."""
    name_w = max(len("loss"), *(len(k) for k in rows)) + 2
    print(title)
    print(f"{'loss':<{name_w}}" + "".join(f"{c:>15}" for c in columns))
    for name, row in rows.items():
        cells = "".join(f"{row[c]:>15.4f}" if isinstance(row[c], float) else f"{row[c]:>15}"
                        for c in columns)
        print(f"{name:<{name_w}}{cells}")


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def save_plot(path: str, title: str, histories: Dict[str, Dict[str, List[float]]],
              metric_label: str, *, loss_log: bool = True, metric_log: bool = False,
              hline: Optional[Tuple[float, str]] = None,
              styles: Optional[Dict[str, str]] = None) -> Optional[str]:
    """Two panels, one line per loss: the training objective and the test metric per epoch
    (``styles``: a line style per loss name, default solid). Returns the path written, or None
    (with a message) when matplotlib is not installed."""
    if not have_matplotlib():
        print(f"matplotlib is not installed (pip install 'fastloss[examples]'): no plot {path}")
        return None
    # The object-oriented API with the Agg canvas: no pyplot, no GUI backend, no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_metric = fig.subplots(1, 2)
    for name, h in histories.items():
        epochs = np.arange(len(h["loss"]))
        style = (styles or {}).get(name, "-")
        ax_loss.plot(epochs, h["loss"], style, label=name)
        ax_metric.plot(epochs, h["metric"], style, label=name)
    if hline is not None:
        ax_metric.axhline(hline[0], color="k", linestyle="--", linewidth=1, label=hline[1])
    ax_loss.set_title("training objective (each loss on its own scale)")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    if loss_log:
        ax_loss.set_yscale("log")
    ax_metric.set_title(metric_label)
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel(metric_label)
    if metric_log:
        ax_metric.set_yscale("log")
    ax_metric.legend()
    ax_loss.grid(alpha=0.3)
    ax_metric.grid(alpha=0.3)
    fig.suptitle(title)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


# ---------------------------------------------------------------------------------------------
# command line of each example


def cli(main: Callable[..., Dict[str, Any]], doc: Optional[str],
        argv: Optional[Sequence[str]] = None) -> int:
    """``--epochs N --outdir DIR --no-plot --seed S`` for one example's ``main`` (``doc``: the
    module docstring, whose first paragraph is the description; the default epochs are
    ``main``'s)."""
    default_epochs = inspect.signature(main).parameters["epochs"].default
    parser = argparse.ArgumentParser(description=" ".join((doc or "").split("\n\n")[0].split()))
    parser.add_argument("--epochs", type=int, default=default_epochs,
                        help=f"training epochs per loss (default {default_epochs})")
    parser.add_argument("--outdir", default="fastloss-examples",
                        help="directory for the PNG (default ./fastloss-examples)")
    parser.add_argument("--no-plot", action="store_true", help="skip the plot")
    parser.add_argument("--seed", type=int, default=0, help="data and initialisation seed")
    opts = parser.parse_args(argv)
    if opts.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {opts.epochs}")
    t0 = time.perf_counter()
    result = main(epochs=opts.epochs, outdir=opts.outdir, plot=not opts.no_plot, seed=opts.seed)
    print(f"({time.perf_counter() - t0:.1f} s)")
    if result.get("plot"):
        print(f"plot: {result['plot']}")
    return 0
