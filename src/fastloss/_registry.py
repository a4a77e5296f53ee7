"""The loss registry: every loss variant with its reference, an input generator and its PyTorch
peer. The shared test suite, ``python -m fastloss`` and the benchmarks iterate over ``CASES``, so
a new loss is covered by adding one entry here.

A case's ``make(rng, dtype, shape, sample_weight)`` returns ``(args, kwargs)`` for both the
fastloss loss and its reference; ``grad_hess`` (for the losses that have one) is the reference
of ``loss.grad_hess`` and takes the same arguments less ``reduction``; ``shape`` is the prediction's shape. ``torch(F, *tensors,
**kwargs)`` computes the same value with ``torch.nn.functional`` (``None`` where torch has no
equal), called with the arrays of ``args`` converted to tensors and the case's torch kwargs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import binary, detection, multiclass, reference, regression, segmentation, sequence
from ._loss import Loss


@dataclass
class Case:
    id: str
    loss: Loss
    reference: Callable
    make: Callable
    shape: tuple  # a small default prediction shape, for tests
    bench_shapes: tuple  # (small, medium, large) prediction shapes, for benchmarks
    reductions: tuple = ("none", "sum", "mean")
    torch: Callable | None = None
    sample_weight: bool = True  # False: the loss takes no sample_weight (make ignores the flag)
    # positions in args of the differentiated inputs; with more than one, .grad returns a tuple
    # of gradients in this order (and a "none" value may be a tuple too: gan_discriminator)
    grad_args: tuple = (0,)
    # the reference of loss.grad_hess for this case (None: the case has no Hessian), and
    # whether that Hessian is the derivative of the gradient (False: a documented constant
    # where the true second derivative is 0, which finite differences cannot check)
    grad_hess: Callable | None = None
    hessian_fd: bool = True


def _sw(rng, shape, want):
    return {"sample_weight": rng.uniform(0.5, 2.0, size=shape)} if want else {}


# ----------------------------------------------------------------------------- generators


def _regression(rng, dtype, shape, sw, **opts):
    pred = rng.standard_normal(shape).astype(dtype)
    target = rng.standard_normal(shape).astype(dtype)
    return (pred, target), {**opts, **_sw(rng, shape, sw)}


def _binary_pm1(rng, dtype, shape, sw, **opts):
    # Keep |t * pred| away from the hinge's kink at 1, so finite differences are meaningful.
    pred = rng.uniform(0.1, 0.8, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    pred = np.where(rng.random(shape) < 0.3, pred * 3 + np.sign(pred) * 1.5, pred)
    target = rng.choice([-1.0, 1.0], size=shape)
    return (pred.astype(dtype), target.astype(dtype)), {**opts, **_sw(rng, shape, sw)}


def _binary_01(rng, dtype, shape, sw, **opts):
    (pred, target), kw = _binary_pm1(rng, dtype, shape, sw, **opts)
    return (pred, (target > 0).astype(np.int64)), kw


def _ce_index(rng, dtype, shape, sw, ignore=False, **opts):
    *batch, c = shape
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.integers(0, c, size=batch)
    if ignore:
        target = np.where(rng.random(batch) < 0.25, -100, target)
    return (logits, target), {**opts, **_sw(rng, tuple(batch), sw)}


def _ce_weighted(rng, dtype, shape, sw, **opts):
    args, kw = _ce_index(rng, dtype, shape, sw, ignore=True, **opts)
    kw["weight"] = rng.uniform(0.2, 3.0, size=shape[-1])
    return args, kw


def _ce_soft(rng, dtype, shape, sw, **opts):
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).astype(dtype)
    return (logits, target), {**opts, **_sw(rng, tuple(shape[:-1]), sw)}


def _ce_axis1(rng, dtype, shape, sw, **opts):
    # (N, C, H, W) segmentation layout with the classes on axis 1
    n, c, *spatial = shape
    logits = (rng.standard_normal(shape) * 2).astype(dtype)
    target = rng.integers(0, c, size=(n, *spatial))
    return (logits, target), {"axis": 1, **opts, **_sw(rng, (n, *spatial), sw)}


def _dice_soft(rng, dtype, shape, sw, from_logits=False, **opts):
    ax = 1
    x = rng.standard_normal(shape)
    pred = x if from_logits else np.exp(reference.log_softmax(x, axis=ax))
    target = rng.dirichlet(np.ones(shape[ax]) * 0.3, size=(shape[0], *shape[2:]))
    target = np.moveaxis(target, -1, ax)
    kw = {"from_logits": from_logits, **opts, **_sw(rng, shape[:2], sw)}
    return (pred.astype(dtype), target.astype(dtype)), kw


def _dice_labels(rng, dtype, shape, sw, from_logits=True, **opts):
    (pred, _), kw = _dice_soft(rng, dtype, shape, sw, from_logits=from_logits, **opts)
    labels = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
    return (pred, labels), kw


def _kl(rng, dtype, shape, sw, log_pred=True, log_target=False, **opts):
    q = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    t[..., 0] = 0.0  # exercise 0 log 0
    t /= t.sum(axis=-1, keepdims=True)
    pred = np.log(q) if log_pred else q
    target = np.log(np.where(t > 0, t, 1e-300)) if log_target else t
    kw = {"log_pred": log_pred, "log_target": log_target, **opts, **_sw(rng, shape, sw)}
    return (pred.astype(dtype), target.astype(dtype)), kw


def _multi_margin(rng, dtype, shape, sw, axis=-1, **opts):
    ax = axis % len(shape)
    c = shape[ax]
    rest = shape[:ax] + shape[ax + 1:]
    scores = (rng.standard_normal(shape) * 1.5).astype(dtype)
    target = rng.integers(0, c, size=rest)
    return (scores, target), {"axis": axis, **opts, **_sw(rng, rest, sw)}


def _mm_weighted(rng, dtype, shape, sw, **opts):
    args, kw = _multi_margin(rng, dtype, shape, sw, **opts)
    kw["weight"] = rng.uniform(0.2, 3.0, size=shape[-1])
    return args, kw


def _distill(rng, dtype, shape, sw, soft=False, axis=-1, **opts):
    ax = axis % len(shape)
    c = shape[ax]
    rest = shape[:ax] + shape[ax + 1:]
    student = (rng.standard_normal(shape) * 3).astype(dtype)
    teacher = (rng.standard_normal(shape) * 3).astype(dtype)
    if soft:
        target = np.moveaxis(rng.dirichlet(np.ones(c), size=rest), -1, ax).astype(dtype)
    else:
        target = rng.integers(0, c, size=rest)
    return (student, teacher, target), {"axis": axis, **opts, **_sw(rng, rest, sw)}
def _ctc(rng, dtype, shape, sw, blank=0, special=False, **opts):
    # (N, T, C) logits, padded (N, S) targets with S = T // 4, so every target fits its input
    # (L + repeats <= 2S - 1 < 3T/4 <= input length); padding holds valid labels too.
    # special: sample 1 impossible (input shorter than its target), sample 2 an empty target.
    n, t, c = shape
    s = max(1, t // 4)
    logits = (rng.standard_normal(shape) * 2).astype(dtype)
    labels = rng.integers(0, c - 1, size=(n, s))
    targets = labels + (labels >= blank)  # skip the blank
    target_lengths = rng.integers(1, s + 1, size=n)
    input_lengths = rng.integers(t - t // 4, t + 1, size=n)
    if special and n >= 3:
        target_lengths[1], input_lengths[1] = s, s - 1
        target_lengths[2] = 0
    return (logits, targets, input_lengths, target_lengths), {"blank": blank, **opts}


def _ssd(rng, dtype, shape, sw, no_positive_image=False, **opts):
    # (N, A, C) conf logits; about 15% positives, 10% ignored, the rest background
    n, a, c = shape
    loc_pred = rng.standard_normal((n, a, 4)).astype(dtype)
    loc_target = rng.standard_normal((n, a, 4)).astype(dtype)
    conf = (rng.standard_normal(shape) * 2).astype(dtype)
    u = rng.random((n, a))
    labels = np.where(u < 0.15, rng.integers(1, c, size=(n, a)), np.where(u < 0.25, -1, 0))
    if no_positive_image:
        labels[0] = np.minimum(labels[0], 0)
    return (loc_pred, loc_target, conf, labels), opts


# ----------------------------------------------------------------------------- torch peers


def _torch_ce(F, logits, target, **kw):
    axis = kw.pop("axis", -1) % logits.ndim
    t = kw.pop("temperature", 1.0)
    if logits.ndim > 1 and axis != 1:  # torch wants the classes on dim 1
        logits = logits.movedim(axis, 1)
        if target.is_floating_point():
            target = target.movedim(axis, 1)
    return F.cross_entropy(logits / t, target, **kw)


def _torch_kl(F, pred, target, **kw):
    return F.kl_div(pred, target, **{k: v for k, v in kw.items() if k != "log_pred"})


def _torch_multi_margin(F, scores, target, axis=-1, **kw):
    return F.multi_margin_loss(scores.movedim(axis, -1), target, **kw)


def _torch_distill(F, student, teacher, target, temperature=4.0, alpha=0.5, axis=-1,
                   reduction="mean"):
    """Hinton et al.'s distillation written with torch ops: KL at T times T^2, CE at T = 1."""
    s, t, T = student.movedim(axis, -1), teacher.movedim(axis, -1), temperature
    if target.is_floating_point():
        target = target.movedim(axis, -1)
    kl = F.kl_div(F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1), log_target=True,
                  reduction="none").sum(-1)
    ce = F.cross_entropy(s.reshape(-1, s.shape[-1]),
                         target.reshape(-1, s.shape[-1]) if target.is_floating_point()
                         else target.reshape(-1), reduction="none").reshape(kl.shape)
    per = (1 - alpha) * T * T * kl + alpha * ce
    return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
def _torch_ctc(F, logits, targets, input_lengths, target_lengths, **kw):
    log_probs = logits.log_softmax(-1).transpose(0, 1)  # (T, N, C), as torch wants
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, **kw)


CE_SMALL, CE_MED, CE_LARGE = (64, 10), (4096, 1000), (4096, 32000)

CASES = [
    Case("cross_entropy", multiclass.cross_entropy, reference.cross_entropy, _ce_index, (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("cross_entropy-smooth-ignore", multiclass.cross_entropy, reference.cross_entropy,
         lambda *a: _ce_index(*a, ignore=True, label_smoothing=0.15), (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("cross_entropy-weight-smooth-ignore-T", multiclass.cross_entropy, reference.cross_entropy,
         lambda *a: _ce_weighted(*a, label_smoothing=0.1, temperature=2.5), (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("cross_entropy-soft", multiclass.cross_entropy, reference.cross_entropy,
         lambda *a: _ce_soft(*a, label_smoothing=0.05), (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("cross_entropy-axis1", multiclass.cross_entropy, reference.cross_entropy, _ce_axis1,
         (3, 5, 4, 6), ((4, 5, 16, 16), (16, 21, 64, 64), (16, 21, 256, 256)), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("cross_entropy-40classes", multiclass.cross_entropy, reference.cross_entropy,
         lambda *a: _ce_weighted(*a, label_smoothing=0.05), (9, 40),
         ((64, 40), (4096, 40), (100_000, 40)), torch=_torch_ce,
         grad_hess=reference.cross_entropy_grad_hess),
    Case("huber", regression.huber, reference.huber, lambda *a: _regression(*a, delta=0.7), (9, 11),
         ((1000,), (100_000,), (10_000_000,)), torch=lambda F, p, t, **kw: F.huber_loss(p, t, **kw),
         grad_hess=reference.huber_grad_hess),
    Case("hinge", binary.hinge, reference.hinge, _binary_pm1, (9, 11),
         ((1000,), (100_000,), (10_000_000,))),
    Case("hinge-01", binary.hinge, reference.hinge, _binary_01, (9, 11),
         ((1000,), (100_000,), (10_000_000,))),
    Case("dice", segmentation.dice, reference.dice, _dice_soft, (3, 4, 5, 6),
         ((2, 4, 32, 32), (8, 4, 128, 128), (16, 4, 256, 256))),
    Case("dice-logits", segmentation.dice, reference.dice, lambda *a: _dice_soft(*a, from_logits=True, smooth=0.5),
         (3, 4, 5, 6), ((2, 4, 32, 32), (8, 4, 128, 128), (16, 4, 256, 256))),
    Case("dice-labels-logits", segmentation.dice, reference.dice, _dice_labels, (3, 4, 5, 6),
         ((2, 4, 32, 32), (8, 4, 128, 128), (16, 4, 256, 256))),
    Case("kl_div", multiclass.kl_div, reference.kl_div, _kl, (6, 5),
         ((64, 10), (4096, 1000), (4096, 32000)),
         reductions=("none", "sum", "mean", "batchmean"), torch=_torch_kl),
    Case("kl_div-logtarget", multiclass.kl_div, reference.kl_div, lambda *a: _kl(*a, log_target=True),
         (6, 5), ((64, 10), (4096, 1000), (4096, 32000)),
         reductions=("none", "sum", "mean", "batchmean"), torch=_torch_kl),
    Case("kl_div-probs", multiclass.kl_div, reference.kl_div, lambda *a: _kl(*a, log_pred=False),
         (6, 5), ((64, 10), (4096, 1000), (4096, 32000)),
         reductions=("none", "sum", "mean", "batchmean")),
    Case("multi_margin", multiclass.multi_margin, reference.multi_margin, _multi_margin,
         (13, 7), (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_multi_margin),
    Case("multi_margin-p2-margin-weight", multiclass.multi_margin, reference.multi_margin,
         lambda *a: _mm_weighted(*a, p=2, margin=0.6), (13, 7), (CE_SMALL, CE_MED, CE_LARGE),
         torch=_torch_multi_margin),
    Case("multi_margin-axis0", multiclass.multi_margin, reference.multi_margin,
         lambda *a: _multi_margin(*a, axis=0, margin=1.3), (7, 13),
         ((10, 64), (1000, 4096), (32000, 4096)), torch=_torch_multi_margin),
    Case("distillation", multiclass.distillation, reference.distillation, _distill, (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_distill),
    Case("distillation-soft-T2", multiclass.distillation, reference.distillation,
         lambda *a: _distill(*a, soft=True, temperature=2.0, alpha=0.3), (13, 7),
         (CE_SMALL, CE_MED, CE_LARGE), torch=_torch_distill),
    Case("distillation-T1-axis0", multiclass.distillation, reference.distillation,
         lambda *a: _distill(*a, axis=0, temperature=1.0, alpha=0.7), (7, 13),
         ((10, 64), (1000, 4096), (32000, 4096)), torch=_torch_distill),
]

# ----------------------------------------------------------------------------- regression / binary


def _msle_inputs(rng, dtype, shape, sw, **opts):
    pred = rng.uniform(-0.6, 3.0, size=shape).astype(dtype)
    target = rng.uniform(-0.6, 3.0, size=shape).astype(dtype)
    return (pred, target), {**opts, **_sw(rng, shape, sw)}


def _probs(rng, dtype, shape, sw, soft=True, **opts):
    pred = rng.uniform(0.02, 0.98, size=shape).astype(dtype)
    target = rng.integers(0, 2, size=shape).astype(dtype)
    if soft:
        target = np.where(rng.random(shape) < 0.3, rng.uniform(size=shape), target).astype(dtype)
    return (pred, target), {**opts, **_sw(rng, shape, sw)}


def _bce_weighted(rng, dtype, shape, sw, **opts):
    args, kw = _probs(rng, dtype, shape, sw, **opts)
    kw["weight"] = rng.uniform(0.2, 3.0, size=shape[-1])  # torch's elementwise weight, (C,)
    return args, kw


def _logits01(rng, dtype, shape, sw, soft=False, **opts):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    target = rng.integers(0, 2, size=shape).astype(dtype)
    if soft:
        target = np.where(rng.random(shape) < 0.5, rng.uniform(size=shape), target).astype(dtype)
    return (x, target), {**opts, **_sw(rng, shape, sw)}


def _bce_logits_full(rng, dtype, shape, sw, **opts):
    args, kw = _logits01(rng, dtype, shape, sw, soft=True, **opts)
    kw["pos_weight"] = rng.uniform(0.5, 4.0, size=shape[-1])
    kw["weight"] = rng.uniform(0.2, 3.0, size=(shape[0],) + (1,) * (len(shape) - 1))
    return args, kw


def _gan_fake(rng, dtype, shape, sw, **opts):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    return (x,), {**opts, **_sw(rng, shape, sw)}


def _gan_pair(rng, dtype, shape, sw, **opts):
    fshape = (shape[0] + 3,) + tuple(shape[1:])  # the two batches need not match
    real = (rng.standard_normal(shape) * 3).astype(dtype)
    fake = (rng.standard_normal(fshape) * 3).astype(dtype)
    kw = dict(opts)
    if sw:
        kw["sample_weight"] = (rng.uniform(0.5, 2.0, size=shape), rng.uniform(0.5, 2.0, size=fshape))
    return (real, fake), kw


def _torch_bce_logits(F, x, t, label_smoothing=0.0, **kw):
    return F.binary_cross_entropy_with_logits(x, t * (1 - label_smoothing) + 0.5 * label_smoothing,
                                              **kw)


def _torch_focal(F, x, t, gamma=2.0, alpha=None, from_logits=True, reduction="mean"):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not a dependency)."""
    import torch

    if from_logits:
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    else:
        p = x
        ce = F.binary_cross_entropy(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _torch_gan_generator(F, x, saturating=False, **kw):
    import torch

    if saturating:  # log(1 - s(x)) = -BCE(x, 0)
        return -F.binary_cross_entropy_with_logits(x, torch.zeros_like(x), **kw)
    return F.binary_cross_entropy_with_logits(x, torch.ones_like(x), **kw)


def _torch_gan_discriminator(F, real, fake, reduction="mean"):
    import torch

    lr = F.binary_cross_entropy_with_logits(real, torch.ones_like(real), reduction=reduction)
    lf = F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake), reduction=reduction)
    return (lr, lf) if reduction == "none" else lr + lf


def _torch_rmse(F, p, t, reduction="mean"):
    return F.mse_loss(p, t, reduction=reduction).sqrt()


EW_BENCH = ((1000,), (100_000,), (10_000_000,))

CASES += [
    Case("mse", regression.mse, reference.mse, _regression, (9, 11), EW_BENCH,
         torch=lambda F, p, t, **kw: F.mse_loss(p, t, **kw), grad_hess=reference.mse_grad_hess),
    Case("mae", regression.mae, reference.mae, _regression, (9, 11), EW_BENCH,
         torch=lambda F, p, t, **kw: F.l1_loss(p, t, **kw), grad_hess=reference.mae_grad_hess,
         hessian_fd=False),
    Case("rmse", regression.rmse, reference.rmse, _regression, (9, 11), EW_BENCH,
         reductions=("sum", "mean"), torch=_torch_rmse),
    Case("msle", regression.msle, reference.msle, _msle_inputs, (9, 11), EW_BENCH,
         grad_hess=reference.msle_grad_hess),
    Case("smooth_l1", regression.smooth_l1, reference.smooth_l1,
         lambda *a: _regression(*a, beta=0.6), (9, 11), EW_BENCH,
         torch=lambda F, p, t, **kw: F.smooth_l1_loss(p, t, **kw),
         grad_hess=reference.smooth_l1_grad_hess),
    Case("smooth_l1-beta0", regression.smooth_l1, reference.smooth_l1,
         lambda *a: _regression(*a, beta=0.0), (9, 11), EW_BENCH,
         torch=lambda F, p, t, **kw: F.smooth_l1_loss(p, t, **kw),
         grad_hess=reference.smooth_l1_grad_hess, hessian_fd=False),
    Case("log_cosh", regression.log_cosh, reference.log_cosh, _regression, (9, 11), EW_BENCH,
         grad_hess=reference.log_cosh_grad_hess),
    Case("binary_cross_entropy", binary.binary_cross_entropy, reference.binary_cross_entropy,
         _probs, (9, 11), EW_BENCH, torch=lambda F, p, t, **kw: F.binary_cross_entropy(p, t, **kw)),
    Case("binary_cross_entropy-weight", binary.binary_cross_entropy,
         reference.binary_cross_entropy, _bce_weighted, (9, 11), ((100, 10), (10_000, 10), (1_000_000, 10)),
         torch=lambda F, p, t, **kw: F.binary_cross_entropy(p, t, **kw)),
    Case("binary_cross_entropy_with_logits", binary.binary_cross_entropy_with_logits,
         reference.binary_cross_entropy_with_logits, _logits01, (9, 11), EW_BENCH,
         torch=_torch_bce_logits, grad_hess=reference.binary_cross_entropy_with_logits_grad_hess),
    Case("binary_cross_entropy_with_logits-pos_weight-weight-smooth",
         binary.binary_cross_entropy_with_logits, reference.binary_cross_entropy_with_logits,
         lambda *a: _bce_logits_full(*a, label_smoothing=0.1), (9, 11),
         ((100, 10), (10_000, 10), (1_000_000, 10)), torch=_torch_bce_logits,
         grad_hess=reference.binary_cross_entropy_with_logits_grad_hess),
    Case("squared_hinge", binary.squared_hinge, reference.squared_hinge, _binary_pm1, (9, 11),
         EW_BENCH, grad_hess=reference.squared_hinge_grad_hess),
    Case("squared_hinge-01", binary.squared_hinge, reference.squared_hinge, _binary_01, (9, 11),
         EW_BENCH, grad_hess=reference.squared_hinge_grad_hess),
    Case("focal", binary.focal, reference.focal, lambda *a: _logits01(*a, alpha=0.25), (9, 11),
         EW_BENCH, torch=_torch_focal, grad_hess=reference.focal_grad_hess),
    Case("focal-soft-gamma1.5-noalpha", binary.focal, reference.focal,
         lambda *a: _logits01(*a, soft=True, gamma=1.5), (9, 11), EW_BENCH,
         grad_hess=reference.focal_grad_hess),
    Case("focal-gamma0.5-alpha0.9", binary.focal, reference.focal,
         lambda *a: _logits01(*a, gamma=0.5, alpha=0.9), (9, 11), EW_BENCH,
         grad_hess=reference.focal_grad_hess),
    Case("focal-probs", binary.focal, reference.focal,
         lambda *a: _probs(*a, soft=False, from_logits=False, alpha=0.7, gamma=3.0), (9, 11),
         EW_BENCH, torch=_torch_focal),
    Case("gan_generator", binary.gan_generator, reference.gan_generator, _gan_fake, (9, 11),
         EW_BENCH, torch=_torch_gan_generator),
    Case("gan_generator-saturating", binary.gan_generator, reference.gan_generator,
         lambda *a: _gan_fake(*a, saturating=True), (9, 11), EW_BENCH, torch=_torch_gan_generator),
    Case("gan_discriminator", binary.gan_discriminator, reference.gan_discriminator,
         _gan_pair, (9, 11), EW_BENCH, torch=_torch_gan_discriminator, grad_args=(0, 1)),
    Case("ctc", sequence.ctc, reference.ctc, _ctc, (3, 12, 6),
         ((4, 50, 20), (32, 200, 80), (64, 400, 80)), torch=_torch_ctc, sample_weight=False),
    Case("ctc-blank-last-zero-infinity", sequence.ctc, reference.ctc,
         lambda r, d, sh, sw: _ctc(r, d, sh, sw, blank=sh[2] - 1, special=True,
                                   zero_infinity=True),
         (4, 12, 6), ((4, 50, 20), (32, 200, 80), (64, 400, 80)), torch=_torch_ctc,
         sample_weight=False),
    Case("ssd_multibox", detection.ssd_multibox, reference.ssd_multibox, _ssd, (3, 40, 5),
         ((4, 1000, 21), (32, 8732, 21), (64, 8732, 81)), sample_weight=False, grad_args=(0, 2)),
    Case("ssd_multibox-ratio2-beta0.5-nopos", detection.ssd_multibox, reference.ssd_multibox,
         lambda *a: _ssd(*a, no_positive_image=True, neg_pos_ratio=2, beta=0.5), (3, 40, 5),
         ((4, 1000, 21), (32, 8732, 21), (64, 8732, 81)), sample_weight=False, grad_args=(0, 2)),
]

# ----------------------------------------------------------------------------- deviances, likelihoods


def _log_link(rng, dtype, shape, sw, zeros=True, **opts):
    # margins log(mu) around 0 and targets drawn near mu (Poisson-like, with exact zeros where
    # the power allows them), so the deviances see good and bad fits
    x = rng.normal(0.0, 0.7, size=shape)
    y = rng.gamma(2.0, np.exp(x + rng.normal(0.0, 0.5, size=shape)) / 2.0)
    if zeros:
        y = np.where(rng.random(shape) < 0.2, 0.0, y)
    return (x.astype(dtype), y.astype(dtype)), {**opts, **_sw(rng, shape, sw)}


def _any_target(rng, dtype, shape, sw, **opts):
    (x, _), kw = _log_link(rng, dtype, shape, sw, **opts)
    return (x, rng.normal(1.0, 1.0, size=shape).astype(dtype)), kw


def _poisson_rates(rng, dtype, shape, sw, **opts):
    # log_input=False: rates > 0; counts with some above 1 (Stirling's term) and some zeros
    rate = rng.uniform(0.2, 4.0, size=shape)
    y = rng.poisson(rate * rng.uniform(0.5, 1.5, size=shape)).astype(float)
    return (rate.astype(dtype), y.astype(dtype)), {**opts, **_sw(rng, shape, sw)}


def _poisson_logs(rng, dtype, shape, sw, **opts):
    (rate, y), kw = _poisson_rates(rng, dtype, shape, sw, **opts)
    return (np.log(rate.astype(np.float64)).astype(dtype), y), kw


def _gaussian(rng, dtype, shape, sw, per_row=False, **opts):
    (pred, target), kw = _regression(rng, dtype, shape, sw, **opts)
    vshape = shape[:-1] if per_row else shape
    var = rng.uniform(0.3, 2.0, size=vshape)
    if "eps" in opts:  # some variances below eps, which clamps them
        var = np.where(rng.random(vshape) < 0.2, opts["eps"] / 4, var)
    return (pred, target, var.astype(dtype)), kw


def _torch_poisson_nll(F, p, t, **kw):
    return F.poisson_nll_loss(p, t, **kw)


def _torch_gaussian_nll(F, p, t, var, **kw):
    return F.gaussian_nll_loss(p, t, var, **kw)


CASES += [
    Case("poisson", regression.poisson, reference.poisson, _log_link, (9, 11), EW_BENCH,
         grad_hess=reference.poisson_grad_hess),
    Case("gamma", regression.gamma, reference.gamma,
         lambda *a: _log_link(*a, zeros=False), (9, 11), EW_BENCH,
         grad_hess=reference.gamma_grad_hess),
    Case("tweedie", regression.tweedie, reference.tweedie, _log_link, (9, 11), EW_BENCH,
         grad_hess=reference.tweedie_grad_hess),
    Case("tweedie-power1.2", regression.tweedie, reference.tweedie,
         lambda *a: _log_link(*a, power=1.2), (9, 11), EW_BENCH,
         grad_hess=reference.tweedie_grad_hess),
    Case("tweedie-power0-normal", regression.tweedie, reference.tweedie,
         lambda *a: _any_target(*a, power=0.0), (9, 11), EW_BENCH,
         grad_hess=reference.tweedie_grad_hess),
    Case("tweedie-power3-inverse_gaussian", regression.tweedie, reference.tweedie,
         lambda *a: _log_link(*a, zeros=False, power=3.0), (9, 11), EW_BENCH,
         grad_hess=reference.tweedie_grad_hess),
    Case("pinball", regression.pinball, reference.pinball,
         lambda *a: _regression(*a, quantile=0.8), (9, 11), EW_BENCH,
         grad_hess=reference.pinball_grad_hess, hessian_fd=False),
    Case("poisson_nll", regression.poisson_nll, reference.poisson_nll, _poisson_logs, (9, 11),
         EW_BENCH, torch=_torch_poisson_nll, grad_hess=reference.poisson_nll_grad_hess),
    Case("poisson_nll-rates-full", regression.poisson_nll, reference.poisson_nll,
         lambda *a: _poisson_rates(*a, log_input=False, full=True, eps=1e-3), (9, 11), EW_BENCH,
         torch=_torch_poisson_nll, grad_hess=reference.poisson_nll_grad_hess),
    Case("gaussian_nll", regression.gaussian_nll, reference.gaussian_nll, _gaussian, (9, 11),
         EW_BENCH, torch=_torch_gaussian_nll, grad_hess=reference.gaussian_nll_grad_hess),
    Case("gaussian_nll-scalar_var", regression.gaussian_nll, reference.gaussian_nll,
         lambda *a: _regression(*a, var=0.7), (9, 11), EW_BENCH, torch=_torch_gaussian_nll,
         grad_hess=reference.gaussian_nll_grad_hess),
    Case("gaussian_nll-var_per_row-full", regression.gaussian_nll, reference.gaussian_nll,
         lambda *a: _gaussian(*a, per_row=True, full=True, eps=0.05), (9, 11),
         ((100, 10), (10_000, 10), (1_000_000, 10)), torch=_torch_gaussian_nll,
         grad_hess=reference.gaussian_nll_grad_hess),
]

BY_ID = {c.id: c for c in CASES}
