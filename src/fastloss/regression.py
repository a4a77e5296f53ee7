"""Regression losses: a real-valued prediction against a real-valued target, elementwise.

mse, mae, rmse, msle, huber, smooth_l1 and log_cosh. Kernels: ``csrc/regression.c``; reference:
:mod:`fastloss.reference`; tests: ``tests/test_regression.py``.
"""

from __future__ import annotations

from typing import Literal

from numpy.typing import ArrayLike

from . import _checks, _kernels
from ._elementwise import KERNEL, Inputs, run
from ._loss import Call, loss

__all__ = ["huber", "log_cosh", "mae", "mse", "msle", "rmse", "smooth_l1"]


def _plain(kernel: str):
    """The front door of a loss called as (pred, target, *, reduction, sample_weight)."""
    return (_kernels.door_plain, (KERNEL[kernel],))


@loss(fast=_plain("mse"))
def mse(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    Per element ``(pred - target)**2``; gradient w.r.t. ``pred``: ``2 (pred - target)``.
    ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)`` (``w = sample_weight``, 1 by
    default); ``pred`` and ``target`` must have the same shape.
    """
    return run(call, "mse", Inputs(pred, target, reduction, sample_weight))


@loss(fast=_plain("mae"))
def mae(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    """Mean absolute error, as ``torch.nn.functional.l1_loss``.

    Per element ``|pred - target|``; gradient ``sign(pred - target)`` with the subgradient 0
    where ``pred == target`` (torch's convention).
    """
    return run(call, "mae", Inputs(pred, target, reduction, sample_weight))


_RMSE_NONE = (
    "rmse has no reduction='none': the square root is taken of the reduced (summed or "
    "averaged) squared error, so there is no per-sample value whose sum or mean is the rmse; "
    "use reduction='mean' or 'sum' (per-element roots would be |pred - target|, which is "
    "fastloss.mae)"
)


@loss
def rmse(call: Call, pred: ArrayLike, target: ArrayLike, *,
         reduction: Literal["sum", "mean"] = "mean",
         sample_weight: ArrayLike | None = None):
    """Root mean squared error ``sqrt(mse)`` of the *reduced* squared error.

    ``"mean"``: ``sqrt(sum(w d**2) / sum(w))``; ``"sum"``: ``sqrt(sum(w d**2))`` (the weighted
    Euclidean norm of the residual), ``d = pred - target``. There is no ``"none"``: the square
    root is taken after the reduction, and per-element square roots would just be ``|d|`` (see
    ``mae``). Gradient ``d mse / d pred / (2 rmse)``; where the squared error is exactly 0 the
    square root is not differentiable and the gradient is defined as 0 (finite, the minimum-norm
    subgradient).
    """
    if isinstance(reduction, str) and reduction == "none":
        raise ValueError(_RMSE_NONE)
    return run(call, "rmse", Inputs(pred, target, reduction, sample_weight, ("sum", "mean")))


@loss
def msle(call: Call, pred: ArrayLike, target: ArrayLike, *,
         reduction: Literal["none", "sum", "mean"] = "mean",
         sample_weight: ArrayLike | None = None):
    """Mean squared logarithmic error: per element ``(log1p(pred) - log1p(target))**2``.

    Gradient ``2 (log1p(pred) - log1p(target)) / (1 + pred)``. Values ``<= -1`` in ``pred`` or
    ``target`` are a ``ValueError`` (Keras clips instead; we do not silently change the loss).
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad(inp.x <= -1, inp.x, "pred must be > -1 (log1p(pred) must be finite)")
    _checks.first_bad(inp.y <= -1, inp.y, "target must be > -1 (log1p(target) must be finite)")
    return run(call, "msle", inp)


@loss(fast=(_kernels.door_width, (KERNEL["huber"],)))
def huber(call: Call, pred: ArrayLike, target: ArrayLike, *, delta: float = 1.0,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    Per element, with ``d = pred - target``: ``0.5 * d**2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``. Gradient w.r.t. ``pred``: ``d`` clipped to
    ``[-delta, delta]``. ``delta > 0``. ``"mean"`` is the weighted mean
    ``sum(w * l) / sum(w)`` (``w = 1`` by default).
    """
    delta = _checks.real_param(delta, "delta", lo=0.0, lo_open=True)
    return run(call, "huber", Inputs(pred, target, reduction, sample_weight), delta=delta)


@loss(fast=(_kernels.door_width, (KERNEL["smooth_l1"],)))
def smooth_l1(call: Call, pred: ArrayLike, target: ArrayLike, *, beta: float = 1.0,
              reduction: Literal["none", "sum", "mean"] = "mean",
              sample_weight: ArrayLike | None = None):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    Per element, ``d = pred - target``: ``0.5 d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 beta``; gradient ``clip(d / beta, -1, 1)``. ``beta=0`` is the L1 loss (gradient
    ``sign(d)``, 0 at 0), as in torch. ``beta`` must be ``>= 0``.
    """
    beta = _checks.real_param(beta, "beta", lo=0.0)
    return run(call, "smooth_l1", Inputs(pred, target, reduction, sample_weight), beta=beta)


@loss(fast=_plain("log_cosh"))
def log_cosh(call: Call, pred: ArrayLike, target: ArrayLike, *,
             reduction: Literal["none", "sum", "mean"] = "mean",
             sample_weight: ArrayLike | None = None):
    """Log-cosh loss ``log(cosh(pred - target))``; gradient ``tanh(pred - target)``.

    Computed as ``|d| + log1p(exp(-2|d|)) - log 2`` for ``|d| >= 1`` (no overflow of ``cosh``
    for any ``d``) and ``log1p(2 sinh(d/2)**2)`` below (full relative accuracy near 0).
    """
    return run(call, "log_cosh", Inputs(pred, target, reduction, sample_weight))
