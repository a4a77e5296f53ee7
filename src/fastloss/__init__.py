"""fastloss: fused, numerically stable loss functions and their gradients for NumPy.

Each loss is a callable: ``fastloss.huber(pred, target)`` gives the value,
``fastloss.huber.grad(...)`` the gradient w.r.t. the prediction and
``fastloss.huber.value_and_grad(...)`` both from one pass of a C kernel.
"""

from ._api import (
    Loss,
    cross_entropy,
    dice,
    get_num_threads,
    hinge,
    huber,
    kl_div,
    set_num_threads,
)
from ._catalogue import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    focal,
    gan_discriminator,
    gan_generator,
    log_cosh,
    mae,
    mse,
    msle,
    rmse,
    smooth_l1,
    squared_hinge,
)
from ._config import show_config
from ._rowwise import distillation, log_softmax, logsumexp, multi_margin, softmax
from ._sequence import ctc, ssd_multibox

__version__ = "0.1.0"

__all__ = [
    "Loss",
    "cross_entropy",
    "ctc",
    "dice",
    "get_num_threads",
    "hinge",
    "huber",
    "kl_div",
    "set_num_threads",
    "show_config",
    # regression / binary catalogue
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "focal",
    "gan_discriminator",
    "gan_generator",
    "log_cosh",
    "mae",
    "mse",
    "msle",
    "rmse",
    "smooth_l1",
    "squared_hinge",
    # row-wise functions
    "distillation",
    "log_softmax",
    "logsumexp",
    "multi_margin",
    "softmax",
    "ssd_multibox",
]
