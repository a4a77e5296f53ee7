"""fastloss: fused, numerically stable loss functions and their gradients for NumPy.

Each loss is a callable: ``fastloss.huber(pred, target)`` gives the value,
``fastloss.huber.grad(...)`` the gradient w.r.t. the prediction and
``fastloss.huber.value_and_grad(...)`` both from one pass of a C kernel. The losses live in one
module per family (:mod:`fastloss.regression`, :mod:`fastloss.binary`,
:mod:`fastloss.multiclass`, :mod:`fastloss.segmentation`, :mod:`fastloss.sequence`,
:mod:`fastloss.detection`) and are all importable from here; :mod:`fastloss.reference` holds
the plain NumPy version of each.
"""

from . import reference
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
