"""Small models trained with fastloss: plain NumPy MLPs (one hidden layer, hand-written
backprop) whose every loss and loss gradient comes from fastloss.

Each module has ``main(epochs=..., outdir=..., plot=True, seed=0, verbose=True) -> dict``: it
generates its data with a fixed seed, trains one model per loss, prints a table, saves a PNG
(when matplotlib is installed: ``pip install "fastloss[examples]"``) and returns the table
(``result["table"][loss_name]``), the per-epoch history and the plot's path.

- ``regression``: MSE, MSLE, MAE and Huber on a noisy non-linear positive target (test MSE);
- ``binary``: two concentric circles with BCE-with-logits, hinge, squared hinge (accuracy);
- ``multiclass``: Gaussian blobs with cross-entropy (labels, one-hot), KL divergence on
  log-softmax outputs and the multi-class hinge (accuracy);
- ``distillation``: a wide teacher, then a small student with ``fl.distillation`` at several
  temperatures vs the student trained alone (accuracy).

``python -m fastloss demo`` runs them all; ``python -m fastloss.examples.regression --help``
(or ``python examples/regression.py`` in the source tree) runs one.
"""

EXAMPLES = ("regression", "binary", "multiclass", "distillation")

__all__ = ["EXAMPLES"]
