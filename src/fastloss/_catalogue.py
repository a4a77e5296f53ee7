"""Regression and binary-classification losses of the catalogue: mse, mae, rmse, msle,
smooth_l1, log_cosh, binary_cross_entropy(_with_logits), squared_hinge, focal and the two GAN
losses. Kernels in ``csrc/regression_binary.c``; the helpers and conventions are ``_api``'s."""

from __future__ import annotations

import math

import numpy as np

from . import _kernels
from ._api import (
    _broadcast_real,
    Loss,
    _check,
    _compute_dtype,
    _empty,
    _empty_grad,
    _float_array,
    _hinge_targets,
    _nonneg,
    _Out,
    _real_array,
    _reduction_code,
    _same_shape,
    _sample_weight,
    _threads,
    _to_float,
)

_ALL = ("none", "sum", "mean")


# --------------------------------------------------------------------------------------------
# helpers


def _first_bad(mask: np.ndarray, values: np.ndarray, what: str) -> None:
    """ValueError naming the first flat index where ``mask`` holds."""
    if mask.any():
        i = int(np.argmax(mask))
        raise ValueError(f"{what}; found {values[i].item()!r} at flat index {i}")


def _factor(arr, shape: tuple, dtype, name: str):
    """A per-element factor broadcastable to ``shape`` as the compact pattern the kernels read:
    ``(values, length, inner)`` with element ``i`` reading ``values[(i // inner) % length]``.

    When the axes along which the broadcast operand varies form one run of ``shape`` (a scalar,
    ``(C,)`` against ``(..., C)``, ``(N, 1)``, ``(1, C, 1, 1)``, ...) only those values are
    copied; other patterns are materialised at ``shape``. ``None`` gives ``(None, 1, 1)``."""
    if arr is None:
        return None, 1, 1
    a, b = _broadcast_real(arr, name, shape, "the prediction's shape")
    if b.size == 0:
        return None, 1, 1
    lead = len(shape) - a.ndim
    varying = [k for k in range(len(shape))
               if shape[k] > 1 and k >= lead and a.shape[k - lead] > 1]
    if not varying:
        return np.ascontiguousarray(b.reshape(-1)[:1], dtype=dtype), 1, 1
    i0, i1 = varying[0], varying[-1] + 1
    if all(shape[k] == 1 or k in varying for k in range(i0, i1)):
        idx = tuple(slice(None) if i0 <= k < i1 else 0 for k in range(len(shape)))
        values = np.ascontiguousarray(b[idx], dtype=dtype).reshape(-1)
        return values, values.size, math.prod(shape[i1:])
    values = np.ascontiguousarray(b, dtype=dtype).reshape(-1)
    return values, values.size, 1


def _prepare(pred, target, reduction, sample_weight, allowed=_ALL, names=("pred", "target")):
    p = _float_array(pred, names[0])
    dt = _compute_dtype(p)
    code = _reduction_code(reduction, allowed)
    t = np.asarray(target)
    _same_shape(p, t, names)
    tc = _real_array(t, names[1], dt).reshape(-1)
    pc = np.ascontiguousarray(p, dtype=dt).reshape(-1)
    sw = _sample_weight(sample_weight, p.shape, dt)
    return p, dt, code, pc, tc, sw


def _run(kernel, p, dt, code, pc, tc, sw, want, params=None, factors=None):
    """One kernel call; returns (value, grad) shaped like the prediction."""
    n = pc.size
    want_value, want_grad = want
    loss = _empty(want_value and code == 0, n, dt)
    grad = _empty_grad(want_grad, n, dt)
    params = params or {}
    if factors is None:
        rc, value, bad = _kernels.rb_elementwise(kernel, pc, tc, sw, params, code, 1.0, loss,
                                                 grad, _threads["n"])
    else:
        (a, a_len, a_inner), (b, b_len, b_inner) = factors
        rc, value, bad = _kernels.rb_factors(kernel, pc, tc, sw, a, a_len, a_inner, b, b_len,
                                             b_inner, params, code, loss, grad, _threads["n"])
    _check(rc, bad)
    out = _Out(p.dtype)
    return (out.value(value, loss, code, p.shape) if want_value else None,
            out.grad(grad, p.shape) if want_grad else None)


def _simple(kernel, pred, target, reduction, sample_weight, want, params=None, allowed=_ALL,
            check=None):
    p, dt, code, pc, tc, sw = _prepare(pred, target, reduction, sample_weight, allowed)
    if check is not None:
        check(pc, tc)
    return _run(kernel, p, dt, code, pc, tc, sw, want, params)


# --------------------------------------------------------------------------------------------
# regression


def _mse(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    Per element ``(pred - target)**2``; gradient w.r.t. ``pred``: ``2 (pred - target)``.
    ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)`` (``w = sample_weight``, 1 by
    default); ``pred`` and ``target`` must have the same shape.
    """
    return _simple("mse", pred, target, reduction, sample_weight, _want)


def _mae(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Mean absolute error, as ``torch.nn.functional.l1_loss``.

    Per element ``|pred - target|``; gradient ``sign(pred - target)`` with the subgradient 0
    where ``pred == target`` (torch's convention).
    """
    return _simple("mae", pred, target, reduction, sample_weight, _want)


def _rmse(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Root mean squared error ``sqrt(mse)`` of the *reduced* squared error.

    ``"mean"``: ``sqrt(sum(w d**2) / sum(w))``; ``"sum"``: ``sqrt(sum(w d**2))`` (the weighted
    Euclidean norm of the residual), ``d = pred - target``. There is no ``"none"``: the square
    root is taken after the reduction, and per-element square roots would just be ``|d|`` (see
    ``mae``). Gradient ``d mse / d pred / (2 rmse)``; where the squared error is exactly 0 the
    square root is not differentiable and the gradient is defined as 0 (finite, the minimum-norm
    subgradient).
    """
    if reduction == "none":
        raise ValueError(
            "rmse has no reduction='none': the square root is taken of the reduced (summed or "
            "averaged) squared error, so there is no per-sample value whose sum or mean is the "
            "rmse; use reduction='mean' or 'sum' (per-element roots would be |pred - target|, "
            "which is fastloss.mae)"
        )
    return _simple("rmse", pred, target, reduction, sample_weight, _want,
                   allowed=("sum", "mean"))


def _msle_check(pc, tc):
    _first_bad(pc <= -1, pc, "msle needs pred > -1 (log1p(pred) must be finite)")
    _first_bad(tc <= -1, tc, "msle needs target > -1 (log1p(target) must be finite)")


def _msle(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Mean squared logarithmic error: per element ``(log1p(pred) - log1p(target))**2``.

    Gradient ``2 (log1p(pred) - log1p(target)) / (1 + pred)``. Values ``<= -1`` in ``pred`` or
    ``target`` are a ``ValueError`` (Keras clips instead; we do not silently change the loss).
    """
    return _simple("msle", pred, target, reduction, sample_weight, _want, check=_msle_check)


def _smooth_l1(pred, target, *, beta=1.0, reduction="mean", sample_weight=None,
               _want=(True, False)):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    Per element, ``d = pred - target``: ``0.5 d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 beta``; gradient ``clip(d / beta, -1, 1)``. ``beta=0`` is the L1 loss (gradient
    ``sign(d)``, 0 at 0), as in torch. ``beta`` must be ``>= 0``.
    """
    beta = _nonneg(beta, "beta")
    return _simple("smooth_l1", pred, target, reduction, sample_weight, _want, {"beta": beta})


def _log_cosh(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Log-cosh loss ``log(cosh(pred - target))``; gradient ``tanh(pred - target)``.

    Computed as ``|d| + log1p(exp(-2|d|)) - log 2`` for ``|d| >= 1`` (no overflow of ``cosh``
    for any ``d``) and ``log1p(2 sinh(d/2)**2)`` below (full relative accuracy near 0).
    """
    return _simple("log_cosh", pred, target, reduction, sample_weight, _want)


# --------------------------------------------------------------------------------------------
# binary


def _binary_cross_entropy(pred, target, *, weight=None, reduction="mean", sample_weight=None,
                          _want=(True, False)):
    """Binary cross-entropy on probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    Per element ``-w [t log p + (1 - t) log(1 - p)]`` with each log clamped at ``-100`` as torch
    does (so ``p`` of exactly 0 or 1 gives a finite loss). ``pred`` must lie in ``[0, 1]``
    (``ValueError`` otherwise); ``target`` may be soft. ``weight`` is torch's elementwise
    rescaling weight, broadcastable to ``pred``: it multiplies the loss but does not enter the
    ``"mean"`` denominator (unlike ``sample_weight``). Gradient w.r.t. ``pred`` with torch's
    convention: ``w (p - t) / max(p (1 - p), 1e-12)`` (the unclamped derivative, with the
    denominator clamped; e.g. ``-1e12`` at ``p = 0, t = 1``).
    """
    p, dt, code, pc, tc, sw = _prepare(pred, target, reduction, sample_weight)
    _first_bad((pc < 0) | (pc > 1), pc, "binary_cross_entropy needs pred in [0, 1] "
               "(probabilities; use binary_cross_entropy_with_logits for logits)")
    fa = _factor(weight, p.shape, dt, "weight")
    return _run("bce", p, dt, code, pc, tc, sw, _want, factors=(fa, (None, 1, 1)))


def _binary_cross_entropy_with_logits(pred, target, *, pos_weight=None, weight=None,
                                      label_smoothing=0.0, reduction="mean", sample_weight=None,
                                      _want=(True, False)):
    """Binary cross-entropy on logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Per element, with ``s`` the logistic sigmoid and ``P = pos_weight``:
    ``-w [P t log s(x) + (1 - t) log(1 - s(x))]``, computed as
    ``w [P t softplus(-x) + (1 - t) softplus(x)]`` (stable for any logit, no cancellation).
    ``pos_weight`` broadcasts against ``pred`` like torch's (a ``(C,)`` vector runs along the
    last axis); ``weight`` is torch's elementwise weight (neither enters the ``"mean"``
    denominator). ``label_smoothing`` ``eps`` in ``[0, 1]`` replaces ``t`` by
    ``t (1 - eps) + eps / 2`` (Keras). Gradient ``w [(1 - t) s(x) - P t s(-x)]``.
    """
    p, dt, code, pc, tc, sw = _prepare(pred, target, reduction, sample_weight)
    eps = _to_float(label_smoothing, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    fa = _factor(weight, p.shape, dt, "weight")
    fb = _factor(pos_weight, p.shape, dt, "pos_weight")
    return _run("bce_logits", p, dt, code, pc, tc, sw, _want, {"label_smoothing": eps},
                factors=(fa, fb))


def _squared_hinge(pred, target, *, reduction="mean", sample_weight=None, _want=(True, False)):
    """Squared hinge loss ``max(0, 1 - t * pred)**2`` (Keras ``squared_hinge``).

    ``target`` holds ``{-1, 1}``, or ``{0, 1}`` with 0 read as -1 (as ``hinge``); anything else
    is a ``ValueError``. Gradient ``-2 t max(0, 1 - t * pred)`` (continuous at the kink).
    """
    return _simple("squared_hinge", pred, target, reduction, sample_weight, _want,
                   check=lambda pc, tc: _hinge_targets(tc))


def _focal(pred, target, *, gamma=2.0, alpha=None, from_logits=True, reduction="mean",
           sample_weight=None, _want=(True, False)):
    """Binary focal loss (Lin et al. 2017), as ``torchvision.ops.sigmoid_focal_loss``.

    With ``p = sigmoid(pred)`` (``from_logits=True``) or ``p = pred`` (probabilities) and
    ``target`` ``t`` in ``[0, 1]``:
    ``-[t a (1 - p)**gamma log p + (1 - t) (1 - a) p**gamma log(1 - p)]``, ``a = alpha``
    (no weighting, both factors 1, when ``alpha`` is None). For hard targets this is
    ``-alpha_t (1 - p_t)**gamma log p_t``; for soft targets it is the per-class general form
    above (torchvision instead multiplies the soft cross-entropy by ``(1 - p_t)**gamma`` with a
    soft ``p_t``; the two agree on {0, 1}). Logits are handled in log space (stable at
    ``|x| = 1e4``); probabilities are used as given (a target class with probability 0 gives an
    infinite loss). ``gamma >= 0``; ``alpha`` in ``[0, 1]`` or None. ``gamma=0, alpha=None`` is
    the binary cross-entropy. Gradient w.r.t. ``pred`` (logits or probabilities as given).
    """
    gamma = _nonneg(gamma, "gamma")
    a = -1.0
    if alpha is not None:
        a = _to_float(alpha, "alpha")
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alpha must be in [0, 1] or None, got {alpha!r}")

    def check(pc, tc):
        _first_bad((tc < 0) | (tc > 1), tc, "focal needs target in [0, 1]")
        if not from_logits:
            _first_bad((pc < 0) | (pc > 1), pc,
                       "focal with from_logits=False needs pred in [0, 1] (probabilities)")

    return _simple("focal" if from_logits else "focal_probs", pred, target, reduction,
                   sample_weight, _want,
                   {"gamma": gamma, "alpha": a, "from_logits": int(bool(from_logits))},
                   check=check)


# --------------------------------------------------------------------------------------------
# GAN


def _gan_generator(fake_logits, *, saturating=False, reduction="mean", sample_weight=None,
                   _want=(True, False)):
    """GAN generator loss on the discriminator's logits for generated samples.

    Non-saturating (default, Goodfellow et al. 2014's practical form): ``-log s(x) =
    softplus(-x)``, gradient ``-s(-x)``; ``saturating=True`` gives the minimax
    ``log(1 - s(x)) = -softplus(x)``, gradient ``-s(x)``. Stable for any logit.
    """
    p = _float_array(fake_logits, "fake_logits")
    dt = _compute_dtype(p)
    code = _reduction_code(reduction)
    pc = np.ascontiguousarray(p, dtype=dt).reshape(-1)
    sw = _sample_weight(sample_weight, p.shape, dt)
    return _run("gan_generator", p, dt, code, pc, None, sw, _want,
                {"saturating": int(bool(saturating))})


def _gan_discriminator(real_logits, fake_logits, *, reduction="mean", sample_weight=None,
                       _want=(True, False)):
    """GAN discriminator loss ``BCE(real, 1) + BCE(fake, 0)`` on logits.

    Per sample ``softplus(-real)`` and ``softplus(fake)``. ``real_logits`` and ``fake_logits``
    may have different shapes; each part is reduced on its own and the value is their sum
    (``"mean"``: ``mean(real part) + mean(fake part)``); ``"none"`` returns the tuple
    ``(real_losses, fake_losses)``. The gradient is the tuple ``(d_real, d_fake)``
    (``-s(-real)`` and ``s(fake)``, scaled by the reduction), and ``value_and_grad`` returns
    ``(value, (d_real, d_fake))``. ``sample_weight`` is None or a pair
    ``(real_weight, fake_weight)`` (either may be None), each broadcastable to its part.
    """
    r = _float_array(real_logits, "real_logits")
    f = _float_array(fake_logits, "fake_logits")
    if r.dtype != f.dtype:
        raise TypeError(
            f"real_logits and fake_logits must have the same dtype; got {r.dtype} and {f.dtype}"
        )
    dt = _compute_dtype(r)
    code = _reduction_code(reduction)
    if sample_weight is None:
        sw_r = sw_f = None
    elif isinstance(sample_weight, (tuple, list)) and len(sample_weight) == 2:
        sw_r = _sample_weight(sample_weight[0], r.shape, dt)
        sw_f = _sample_weight(sample_weight[1], f.shape, dt)
    else:
        raise ValueError(
            "sample_weight for gan_discriminator must be None or a pair (real_weight, "
            f"fake_weight); got {type(sample_weight).__name__} "
            f"of shape {np.shape(sample_weight)}"
        )
    rc_ = np.ascontiguousarray(r, dtype=dt).reshape(-1)
    fc_ = np.ascontiguousarray(f, dtype=dt).reshape(-1)
    want_value, want_grad = _want
    loss_r = _empty(want_value and code == 0, rc_.size, dt)
    loss_f = _empty(want_value and code == 0, fc_.size, dt)
    grad_r = _empty_grad(want_grad, rc_.size, dt)
    grad_f = _empty_grad(want_grad, fc_.size, dt)
    rc, value, bad = _kernels.gan_discriminator(rc_, fc_, sw_r, sw_f, code, loss_r, loss_f,
                                                grad_r, grad_f, _threads["n"])
    _check(rc, bad)
    out = _Out(r.dtype)
    v = None
    if want_value:
        if code == 0:
            v = (out.value(value, loss_r, code, r.shape), out.value(value, loss_f, code, f.shape))
        else:
            v = out.value(value, None, code, ())
    g = (out.grad(grad_r, r.shape), out.grad(grad_f, f.shape)) if want_grad else None
    return v, g


mse = Loss(_mse)
mae = Loss(_mae)
rmse = Loss(_rmse)
msle = Loss(_msle)
smooth_l1 = Loss(_smooth_l1)
log_cosh = Loss(_log_cosh)
binary_cross_entropy = Loss(_binary_cross_entropy)
binary_cross_entropy_with_logits = Loss(_binary_cross_entropy_with_logits)
squared_hinge = Loss(_squared_hinge)
focal = Loss(_focal)
gan_generator = Loss(_gan_generator)
gan_discriminator = Loss(_gan_discriminator)
