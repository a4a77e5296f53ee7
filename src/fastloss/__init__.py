"""fastloss: fused, numerically stable loss functions and their gradients for NumPy.

Each loss is a callable: ``fastloss.huber(pred, target)`` gives the value,
``fastloss.huber.grad(...)`` the gradient w.r.t. the prediction and
``fastloss.huber.value_and_grad(...)`` both from one pass of a C kernel. The losses live in one
module per family (:mod:`fastloss.regression`, :mod:`fastloss.binary`,
:mod:`fastloss.multiclass`, :mod:`fastloss.segmentation`, :mod:`fastloss.sequence`,
:mod:`fastloss.detection`) and are all importable from here; :mod:`fastloss.reference` holds
the plain NumPy version of each.
"""

import os as _os


def _load_kernels_with_short_spin() -> None:
    """Load the kernels' OpenMP runtime with a short spin-wait. libgomp's idle workers spin
    for about 10 ms after each parallel region by default; next to another library's own
    OpenMP runtime (XGBoost, LightGBM, PyTorch and scikit-learn wheels each bundle one) that
    spinning takes the CPUs its threads need: an XGBoost training loop calling a fastloss
    objective ran 1.8x slower on 2 cores. libgomp reads GOMP_SPINCOUNT once, when it is
    loaded, so it is set only around this import and only when the user has set neither it
    nor OMP_WAIT_POLICY; the variables other libraries see afterwards are unchanged."""
    env = _os.environ
    if "GOMP_SPINCOUNT" in env or "OMP_WAIT_POLICY" in env:
        from . import _kernels  # noqa: F401
        return
    env["GOMP_SPINCOUNT"] = "10000"  # libgomp default 300000; back-to-back calls still hit it
    try:
        from . import _kernels  # noqa: F401
    finally:
        del env["GOMP_SPINCOUNT"]


_load_kernels_with_short_spin()

from . import reference  # noqa: E402
from ._config import get_num_threads, set_buffer_cache, set_num_threads, show_config
from ._loss import Loss
from .binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    focal,
    gan_discriminator,
    gan_generator,
    hinge,
    squared_hinge,
)
from .detection import ssd_multibox
from .multiclass import (
    cross_entropy,
    distillation,
    kl_div,
    log_softmax,
    logsumexp,
    multi_margin,
    softmax,
)
from .regression import (
    gamma,
    gaussian_nll,
    huber,
    log_cosh,
    mae,
    mse,
    msle,
    pinball,
    poisson,
    poisson_nll,
    rmse,
    smooth_l1,
    tweedie,
)
from .segmentation import dice
from .sequence import ctc

__version__ = "0.1.0"

__all__ = [
    "Loss",
    "get_num_threads",
    "reference",
    "set_buffer_cache",
    "set_num_threads",
    "show_config",
    # regression
    "gamma",
    "gaussian_nll",
    "huber",
    "log_cosh",
    "mae",
    "mse",
    "msle",
    "pinball",
    "poisson",
    "poisson_nll",
    "rmse",
    "smooth_l1",
    "tweedie",
    # binary
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "focal",
    "gan_discriminator",
    "gan_generator",
    "hinge",
    "squared_hinge",
    # multiclass
    "cross_entropy",
    "distillation",
    "kl_div",
    "log_softmax",
    "logsumexp",
    "multi_margin",
    "softmax",
    # segmentation, sequence, detection
    "dice",
    "ctc",
    "ssd_multibox",
]
