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
from ._config import show_config
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
    "ssd_multibox",
]
