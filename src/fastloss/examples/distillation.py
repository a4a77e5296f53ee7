"""Knowledge distillation: a wide teacher MLP, then a small student trained with
``fl.distillation`` at several temperatures, against the same student trained alone.

The data are three interleaved noisy spiral arms (3 classes in 2-d), where a small network
struggles. The teacher (2 -> 128 tanh -> 3) is trained first with ``fl.cross_entropy``; its
logits on the training set are then fixed. Each student (2 -> 8 tanh -> 3, the same
initialisation and batch order for all) is trained with

- ``fl.cross_entropy`` on the labels alone (the baseline), or
- ``fl.distillation(student_logits, teacher_logits, labels, temperature=T, alpha=0.5)``:
  half the cross-entropy with the labels, half ``T**2 * KL(softmax(teacher/T) ||
  softmax(student/T))``; a higher ``T`` exposes more of the teacher's "dark knowledge" (how
  it ranks the wrong classes).

The training objectives differ, so compare the students on test accuracy; the plot marks the
teacher's accuracy with a dashed line. Whether distillation helps on a toy problem depends on
the seed and the budget: the table reports what happened, not a promise.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Tuple

import numpy as np

import fastloss as fl

from ._common import DTYPE, MLP, accuracy, cli, print_table, save_plot, single_threaded_blas, train

N_CLASSES = 3
TEMPERATURES = (1.0, 2.0, 4.0, 8.0)
ALPHA = 0.5


def make_spirals(rng: np.random.Generator, n: int, noise: float = 0.25,
                 turns: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """``N_CLASSES`` spiral arms: radius ``r`` in [0.1, 2], angle ``2 pi (turns * r / 2 + k /
    N_CLASSES)`` for class ``k``, with Gaussian noise of standard deviation ``noise * r / 2``."""
    labels = rng.integers(0, N_CLASSES, n)
    r = rng.uniform(0.1, 2.0, n)
    angle = 2 * np.pi * (turns * r / 2 + labels / N_CLASSES)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    x += (noise * r / 2)[:, None] * rng.standard_normal((n, 2))
    return x.astype(DTYPE), labels


def ce_objective(logits: np.ndarray, y: np.ndarray, buf: np.ndarray) -> Any:
    return fl.cross_entropy.value_and_grad(logits, y, out=buf)


def main(epochs: int = 40, outdir: str = "fastloss-examples", plot: bool = True,
         seed: int = 0, verbose: bool = True, teacher_epochs: int | None = None) -> Dict[str, Any]:
    """Train the teacher (``teacher_epochs``, default ``epochs``), then one student per
    objective; return ``{"problem", "table", "history", "teacher_accuracy", "plot", ...}``
    where ``table[name]`` has the initial and final training objective and the test
    accuracy."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_spirals(rng, 1024)
    x_test, y_test = make_spirals(rng, 2048)

    def test_accuracy(m: MLP) -> float:
        return accuracy(np.argmax(m.forward(x_test), axis=1), y_test)

    # 1. the teacher
    teacher = MLP(2, 128, N_CLASSES, np.random.default_rng(seed + 1))
    with single_threaded_blas():
        teacher_hist = train(teacher, x_train, y_train, ce_objective,
                             epochs=teacher_epochs or epochs, batch_size=32, lr=1e-2,
                             seed=seed + 2, evaluate=test_accuracy)
    teacher_logits = teacher.forward(x_train)
    teacher_acc = teacher_hist["metric"][-1]

    # 2. the students: targets are (teacher logits, labels), cut into batches together
    def distill(temperature: float) -> Any:
        def objective(logits: np.ndarray, targets: Tuple[np.ndarray, np.ndarray],
                      buf: np.ndarray) -> Any:
            t_logits, y = targets
            return fl.distillation.value_and_grad(logits, t_logits, y, temperature=temperature,
                                                  alpha=ALPHA, out=buf)
        return objective

    runs: Dict[str, Tuple[Any, Any]] = {"student alone (CE)": (ce_objective, y_train)}
    for t in TEMPERATURES:
        runs[f"distilled T={t:g}"] = (distill(t), (teacher_logits, y_train))

    table: Dict[str, Dict[str, float]] = {}
    history = {}
    for name, (objective, targets) in runs.items():
        student = MLP(2, 8, N_CLASSES, np.random.default_rng(seed + 3))
        with single_threaded_blas():
            h = train(student, x_train, targets, objective, epochs=epochs, batch_size=32,
                      lr=1e-2, seed=seed + 4, evaluate=test_accuracy)
        history[name] = h
        table[name] = {"initial loss": h["loss"][0], "final loss": h["loss"][-1],
                       "test accuracy": h["metric"][-1]}

    if verbose:
        print_table(f"distillation (3 spirals): {epochs} epochs; teacher MLP 2-128-3 test "
                    f"accuracy {teacher_acc:.4f}; students MLP 2-8-3, alpha {ALPHA}; "
                    f"chance {1 / N_CLASSES:.2f}",
                    table, ["initial loss", "final loss", "test accuracy"])
    path = None
    if plot:
        path = save_plot(os.path.join(outdir, "distillation.png"),
                         "Distillation: 3 spirals, teacher MLP 2-128-3 -> student MLP 2-8-3",
                         history, "test accuracy", hline=(teacher_acc, "teacher"))
    return {"problem": "distillation", "metric": "test accuracy", "table": table,
            "history": history, "teacher_accuracy": teacher_acc,
            "teacher_history": teacher_hist, "chance": 1 / N_CLASSES, "plot": path}


if __name__ == "__main__":
    raise SystemExit(cli(main, __doc__))
