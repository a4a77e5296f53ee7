"""Binary-classification losses: one score (a logit or a probability) per element against a
binary or soft target.

binary_cross_entropy, binary_cross_entropy_with_logits, hinge, squared_hinge, focal and the GAN
losses gan_generator and gan_discriminator. Kernels: ``csrc/binary.c``; reference:
:mod:`fastloss.reference`; tests: ``tests/test_binary.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._elementwise import Inputs, run
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "focal",
           "gan_discriminator", "gan_generator", "hinge", "squared_hinge"]


def _pm1_targets(t) -> None:
    """Targets of the hinge losses: only {-1, 1} or only {0, 1}."""
    rc, _, bad = _kernels.check_binary_targets(t)
    if rc != 0:
        raise ValueError(
            "target must hold only {-1, 1} or only {0, 1} (0 is read as -1); "
            f"found {t[bad].item()!r} at flat index {bad}"
        )


@loss
def binary_cross_entropy(call: Call, pred: ArrayLike, target: ArrayLike, *,
                         weight: ArrayLike | None = None,
                         reduction: Literal["none", "sum", "mean"] = "mean",
                         sample_weight: ArrayLike | None = None):
    """Binary cross-entropy on probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    Per element ``-w [t log p + (1 - t) log(1 - p)]`` with each log clamped at ``-100`` as torch
    does (so ``p`` of exactly 0 or 1 gives a finite loss). ``pred`` must lie in ``[0, 1]``
    (``ValueError`` otherwise); ``target`` may be soft. ``weight`` is torch's elementwise
    rescaling weight, broadcastable to ``pred``: it multiplies the loss but does not enter the
    ``"mean"`` denominator (unlike ``sample_weight``). Gradient w.r.t. ``pred`` with torch's
    convention: ``w (p - t) / max(p (1 - p), 1e-12)`` (the unclamped derivative, with the
    denominator clamped; e.g. ``-1e12`` at ``p = 0, t = 1``).
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad((inp.x < 0) | (inp.x > 1), inp.x,
                      "pred must be in [0, 1] (probabilities; use "
                      "binary_cross_entropy_with_logits for logits)")
    fa = _checks.factor(weight, inp.shape, inp.dtype, "weight")
    return run(call, "bce", inp, factors=(fa, (None, 1, 1)))


@loss(hessian=True)
def binary_cross_entropy_with_logits(call: Call, pred: ArrayLike, target: ArrayLike, *,
                                     pos_weight: ArrayLike | None = None,
                                     weight: ArrayLike | None = None,
                                     label_smoothing: float = 0.0,
                                     reduction: Literal["none", "sum", "mean"] = "mean",
                                     sample_weight: ArrayLike | None = None):
    """Binary cross-entropy on logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Per element, with ``s`` the logistic sigmoid and ``P = pos_weight``:
    ``-w [P t log s(x) + (1 - t) log(1 - s(x))]``, computed as
    ``w [P t softplus(-x) + (1 - t) softplus(x)]`` (stable for any logit, no cancellation).
    ``pos_weight`` broadcasts against ``pred`` like torch's (a ``(C,)`` vector runs along the
    last axis); ``weight`` is torch's elementwise weight (neither enters the ``"mean"``
    denominator). ``label_smoothing`` ``eps`` in ``[0, 1]`` replaces ``t`` by
    ``t (1 - eps) + eps / 2`` (Keras). Gradient ``w [(1 - t) s(x) - P t s(-x)]``.

    ``grad_hess``: Hessian ``w [(1 - t) + P t] s(x) s(-x)`` (with ``t`` smoothed), the logistic
    objective's ``p (1 - p)`` for ``P = w = 1``; positive, and 0 only where ``s(x) s(-x)``
    underflows (``|x|`` beyond ~745 in float64, ~104 in float32).
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    eps = _checks.real_param(label_smoothing, "label_smoothing", lo=0.0, hi=1.0)
    fa = _checks.factor(weight, inp.shape, inp.dtype, "weight")
    fb = _checks.factor(pos_weight, inp.shape, inp.dtype, "pos_weight")
    return run(call, "bce_logits", inp, factors=(fa, fb), label_smoothing=eps)


@loss
def hinge(call: Call, pred: ArrayLike, target: ArrayLike, *,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    """Binary hinge loss ``max(0, 1 - t * pred)``.

    ``target`` holds ``{-1, 1}``, or ``{0, 1}`` with 0 read as -1; anything else (including a mix
    of -1 and 0) is a ``ValueError``. Gradient w.r.t. ``pred``: ``-t`` where ``t * pred < 1``,
    else 0 (the subgradient at the kink ``t * pred == 1`` is taken as 0).
    ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)``.
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _pm1_targets(inp.y)
    return run(call, "hinge", inp)


@loss(hessian=True)
def squared_hinge(call: Call, pred: ArrayLike, target: ArrayLike, *,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    """Squared hinge loss ``max(0, 1 - t * pred)**2`` (Keras ``squared_hinge``).

    ``target`` holds ``{-1, 1}``, or ``{0, 1}`` with 0 read as -1 (as ``hinge``); anything else
    is a ``ValueError``. Gradient ``-2 t max(0, 1 - t * pred)`` (continuous at the kink).

    ``grad_hess``: Hessian 2 where ``t * pred < 1`` and 0 beyond; at the kink
    ``t * pred == 1``, where the second derivative jumps, 0 (the side where the gradient is 0).
    Pass ``hessian_floor`` to keep samples beyond the margin from giving zero-Hessian leaves.
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _pm1_targets(inp.y)
    return run(call, "squared_hinge", inp)


@loss(hessian=True)
def focal(call: Call, pred: ArrayLike, target: ArrayLike, *, gamma: float = 2.0,
          alpha: float | None = None, from_logits: bool = True,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
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

    ``grad_hess`` (logits only, ``from_logits=True``): the analytic second derivative w.r.t.
    the logit, with ``q = 1 - p``, ``A = -log p``, ``B = -log q``:
    ``t a q**gamma [p q (1 + 2 gamma) + gamma p A (gamma p - q)] + (1 - t)(1 - a) p**gamma
    [p q (1 + 2 gamma) + gamma q B (gamma q - p)]``, computed in log space like the loss (finite
    at any logit, 0 in the limits). For ``gamma > 0`` it is negative for confidently wrong
    samples (``gamma=2``: a positive with a logit below about -2.8): the focal loss is not
    convex. Pass ``hessian_floor`` (e.g. 1e-6) when boosting with it.
    """
    gamma = _checks.real_param(gamma, "gamma", lo=0.0)
    a = -1.0 if alpha is None else _checks.real_param(alpha, "alpha", lo=0.0, hi=1.0)
    from_logits = _checks.flag(from_logits, "from_logits")
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad((inp.y < 0) | (inp.y > 1), inp.y, "target must be in [0, 1]")
    if not from_logits:
        _checks.first_bad((inp.x < 0) | (inp.x > 1), inp.x,
                          "with from_logits=False, pred must be in [0, 1] (probabilities)")
    if call.hess and not from_logits:
        raise ValueError(
            "grad_hess needs from_logits=True: the Hessian is taken w.r.t. the logit (the margin "
            "gradient boosting works on)")
    return run(call, "focal" if from_logits else "focal_probs", inp, gamma=gamma, alpha=a,
               from_logits=from_logits)


@loss
def gan_generator(call: Call, fake_logits: ArrayLike, *, saturating: bool = False,
                  reduction: Literal["none", "sum", "mean"] = "mean",
                  sample_weight: ArrayLike | None = None):
    """GAN generator loss on the discriminator's logits for generated samples.

    Non-saturating (default, Goodfellow et al. 2014's practical form): ``-log s(x) =
    softplus(-x)``, gradient ``-s(-x)``; ``saturating=True`` gives the minimax
    ``log(1 - s(x)) = -softplus(x)``, gradient ``-s(x)``. Stable for any logit.
    """
    saturating = _checks.flag(saturating, "saturating")
    inp = Inputs(fake_logits, None, reduction, sample_weight, names=("fake_logits", ""))
    return run(call, "gan_generator", inp, saturating=saturating)


@loss(wrt=("real_logits", "fake_logits"))
def gan_discriminator(call: Call, real_logits: ArrayLike, fake_logits: ArrayLike, *,
                      reduction: Literal["none", "sum", "mean"] = "mean",
                      sample_weight: tuple[ArrayLike | None, ArrayLike | None] | None = None):
    """GAN discriminator loss ``BCE(real, 1) + BCE(fake, 0)`` on logits.

    Per sample ``softplus(-real)`` and ``softplus(fake)``. ``real_logits`` and ``fake_logits``
    may have different shapes; each part is reduced on its own and the value is their sum
    (``"mean"``: ``mean(real part) + mean(fake part)``); ``"none"`` returns the tuple
    ``(real_losses, fake_losses)``. The gradient is the tuple ``(d_real, d_fake)``
    (``-s(-real)`` and ``s(fake)``, scaled by the reduction), and ``value_and_grad`` returns
    ``(value, (d_real, d_fake))``. ``sample_weight`` is None or a pair
    ``(real_weight, fake_weight)`` (either may be None), each broadcastable to its part.
    """
    r = _checks.float_array(real_logits, "real_logits")
    f = _checks.float_array(fake_logits, "fake_logits")
    if r.dtype.itemsize != f.dtype.itemsize:
        raise TypeError(
            f"real_logits and fake_logits must have the same dtype; got {r.dtype} and {f.dtype}"
        )
    dt = _checks.compute_dtype(r)
    result = _checks.result_dtype(r)
    code = _checks.reduction_code(reduction)
    if sample_weight is None:
        sw_r = sw_f = None
    elif isinstance(sample_weight, (tuple, list)) and len(sample_weight) == 2:
        sw_r = _checks.sample_weight(sample_weight[0], r.shape, dt)
        sw_f = _checks.sample_weight(sample_weight[1], f.shape, dt)
    else:
        raise ValueError(
            "sample_weight must be None or a pair (real_weight, fake_weight); got "
            f"{type(sample_weight).__name__} of shape {np.shape(sample_weight)}"
        )
    xr = _checks.kernel_array(r, dt)
    xf = _checks.kernel_array(f, dt)
    loss_r = loss_buffer(call, code, xr.size, dt)
    loss_f = loss_buffer(call, code, xf.size, dt)
    grad_r = call.grad_buffer(0, r.shape, dt, result, xr, xf, sw_r, sw_f)
    grad_f = call.grad_buffer(1, f.shape, dt, result, xr, xf, sw_r, sw_f, grad_r)
    rc, value, bad = _kernels.gan_discriminator(xr, xf, sw_r, sw_f, code, loss_r, loss_f,
                                                grad_r, grad_f, _config.THREADS[0])
    _checks.check_status(rc, bad)
    v = None
    if call.value:
        if code == 0:
            v = (finish_value(value, loss_r, code, r.shape, result),
                 finish_value(value, loss_f, code, f.shape, result))
        else:
            v = result.type(value)
    g = None
    if call.grad:
        g = (finish_grad(grad_r, r.shape, result), finish_grad(grad_f, f.shape, result))
    return v, g
