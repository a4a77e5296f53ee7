"""Plain NumPy reference implementations, written to be checked by eye.

Each function takes the same arguments as the fastloss loss of the same name and returns
``(value, grad)``: the reduced value (or the per-sample array for ``reduction="none"``) and the
gradient of that value w.r.t. the prediction (for ``"none"``: of the sum of the per-sample
losses). Everything is computed in float64 with whole-array NumPy operations. The tests compare
the C kernels with these, and these with finite differences; the fast path never uses them.
"""

from __future__ import annotations

import numpy as np


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _weights(sample_weight, shape):
    if sample_weight is None:
        return np.ones(shape)
    return np.broadcast_to(_f64(sample_weight), shape)


def _reduce(per_sample, dper_sample, w, reduction):
    """Weighted reduction of per-sample losses and of their derivatives.

    ``"mean"`` is the weighted mean sum(w * l) / sum(w); ``dper_sample`` holds d l / d pred with
    the per-sample axes first, and is scaled the same way."""
    wl = w * per_sample
    if reduction == "none":
        return wl, w * dper_sample
    if reduction == "sum":
        return wl.sum(), w * dper_sample
    if reduction == "mean":
        return wl.sum() / w.sum(), w * dper_sample / w.sum()
    raise ValueError(reduction)


def _xlogy(x, y):
    """x * log(y) with 0 * log(anything) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def log_softmax(z, axis=-1):
    m = np.max(z, axis=axis, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


# ---------------------------------------------------------------------------- elementwise


def huber(pred, target, *, delta=1.0, reduction="mean", sample_weight=None):
    d = _f64(pred) - _f64(target)
    small = np.abs(d) < delta
    loss = np.where(small, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    dloss = np.clip(d, -delta, delta)
    return _reduce(loss, dloss, _weights(sample_weight, d.shape), reduction)


def hinge(pred, target, *, reduction="mean", sample_weight=None):
    x = _f64(pred)
    t = np.where(_f64(target) > 0, 1.0, -1.0)
    margin = 1.0 - t * x
    loss = np.maximum(margin, 0.0)
    dloss = np.where(margin > 0, -t, 0.0)
    return _reduce(loss, dloss, _weights(sample_weight, x.shape), reduction)


def kl_div(pred, target, *, axis=-1, log_pred=False, log_target=False, reduction="batchmean",
           sample_weight=None):
    x, y = _f64(pred), _f64(target)
    t = np.exp(y) if log_target else y
    log_q = x if log_pred else np.log(x)
    log_t = y if log_target else np.log(np.where(t > 0, t, 1.0))
    loss = np.where(t > 0, t * (log_t - log_q), 0.0)
    dloss = -t if log_pred else np.where(t > 0, -t / x, 0.0)
    w = _weights(sample_weight, x.shape)
    if reduction == "batchmean":
        # torch: the sum divided by the batch size pred.shape[0] (weighted: by the weight
        # total scaled the same way)
        denom = w.sum() * x.shape[0] / x.size
        return (w * loss).sum() / denom, w * dloss / denom
    return _reduce(loss, dloss, w, reduction)


# ---------------------------------------------------------------------------- cross-entropy


def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100,
                  label_smoothing=0.0, temperature=1.0, reduction="mean", sample_weight=None):
    """torch.nn.functional.cross_entropy, including its 'mean' denominators."""
    z = np.moveaxis(_f64(logits), axis, -1)
    c = z.shape[-1]
    x = z / temperature
    logp = log_softmax(x)
    p = np.exp(logp)
    cw = np.ones(c) if weight is None else _f64(weight)
    eps = label_smoothing
    target = np.asarray(target)
    s = _weights(sample_weight, z.shape[:-1])
    if target.dtype.kind == "f":
        t = (1 - eps) * np.moveaxis(_f64(target), axis, -1) + eps / c
        loss = -np.sum(cw * t * np.where(t * cw == 0, 0.0, logp), axis=-1)
        # d/dx_k of -sum_j w_j t_j log p_j = (sum_j w_j t_j) p_k - w_k t_k
        dloss = np.sum(cw * t, axis=-1, keepdims=True) * p - cw * t
        denom = s.sum() if reduction == "mean" else 1.0
        value = s * loss if reduction == "none" else np.sum(s * loss) / denom
        dx = s[..., None] * dloss / denom
    else:
        valid = target != ignore_index
        y = np.where(valid, target, 0)
        onehot = np.eye(c)[y]
        wy = cw[y] * valid
        # ignored rows are left out entirely (a NaN logit there does not leak in, as torch)
        nll = np.where(valid, -np.sum(onehot * logp, axis=-1), 0.0)  # -log p_y
        smooth = np.where(valid, -np.sum(cw * logp, axis=-1), 0.0)  # -sum_k w_k log p_k
        denom = np.sum(s * wy) if reduction == "mean" else 1.0
        # ignored rows contribute nothing, not even 0 / 0 when every row is ignored (torch)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(valid, s * wy * (1 - eps) / denom, 0.0)
            b = np.where(valid, s * valid * (eps / c) / denom, 0.0)
        per_row = s * (wy * (1 - eps) * nll + valid * (eps / c) * smooth)
        if reduction == "none":
            value = per_row
        else:  # "mean" over no sample, or only ignored ones, is 0 / 0 = NaN (as torch)
            with np.errstate(invalid="ignore", divide="ignore"):
                value = per_row.sum() / denom
        # d(-log p_y)/dx = p - onehot; d(-sum_k w_k log p_k)/dx = W p - w
        dx = a[..., None] * (p - onehot) + b[..., None] * (cw.sum() * p - cw)
        dx = np.where(valid[..., None], dx, 0.0)
    grad = np.moveaxis(dx / temperature, -1, axis)
    return value, grad


# ---------------------------------------------------------------------------- dice


def dice(pred, target, *, axis=1, smooth=1.0, from_logits=False, reduction="mean",
         sample_weight=None):
    x = _f64(pred)
    ax = axis % x.ndim
    c = x.shape[ax]
    p = np.exp(log_softmax(x, axis=ax)) if from_logits else x
    target = np.asarray(target)
    if target.dtype.kind in "iu":
        t = np.moveaxis(np.eye(c)[target], -1, ax)
    else:
        t = _f64(target)
    sum_axes = tuple(range(ax + 1, x.ndim))
    inter = np.sum(p * t, axis=sum_axes)
    den = np.sum(p, axis=sum_axes) + np.sum(t, axis=sum_axes) + smooth
    num = 2 * inter + smooth
    loss = 1 - num / den
    w = _weights(sample_weight, loss.shape)
    value, scale = _reduce(loss, np.ones_like(loss), w, reduction)
    expand = (...,) + (None,) * len(sum_axes)
    dp = scale[expand] * (-2 * t / den[expand] + (num / den**2)[expand])
    if from_logits:
        # softmax Jacobian: dL/dx_k = p_k (dL/dp_k - sum_j p_j dL/dp_j)
        dp = p * (dp - np.sum(p * dp, axis=ax, keepdims=True))
    return value, dp


# ---------------------------------------------------------------------------- row-wise


def multi_margin(pred, target, *, p=1, margin=1.0, weight=None, axis=-1, reduction="mean",
                 sample_weight=None):
    """torch.nn.functional.multi_margin_loss: w_y / C * sum_{i != y} max(0, margin - x_y + x_i)^p,
    'mean' over samples (not over class weights)."""
    x = np.moveaxis(_f64(pred), axis, -1)
    c = x.shape[-1]
    y = np.asarray(target)
    onehot = np.eye(c)[y]
    cw = np.ones(c) if weight is None else _f64(weight)
    wy = cw[y]
    x_y = np.sum(onehot * x, axis=-1, keepdims=True)
    z = margin - x_y + x
    active = (z > 0) & (onehot == 0)
    h = np.where(active, z**p, 0.0)
    loss = wy * h.sum(axis=-1) / c
    dz = np.where(active, p * z ** (p - 1), 0.0) * (wy / c)[..., None]  # d loss / d x_i, i != y
    dx = dz - onehot * dz.sum(axis=-1, keepdims=True)
    value, dx = _reduce_rows(loss, dx, _weights(sample_weight, loss.shape), reduction)
    return value, np.moveaxis(dx, -1, axis)


def _reduce_rows(per_row, drow, w, reduction):
    """Like _reduce for per-row losses whose derivative has a trailing class axis."""
    value = {"none": w * per_row, "sum": np.sum(w * per_row),
             "mean": np.sum(w * per_row) / np.sum(w)}[reduction]
    scale = w / np.sum(w) if reduction == "mean" else w
    return value, scale[..., None] * drow


def softmax(x, *, axis=-1, temperature=1.0):
    return np.exp(log_softmax(_f64(x) / temperature, axis=axis))


def logsumexp(x, *, axis=-1, temperature=1.0):
    z = _f64(x) / temperature
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def softmax_vjp(x, v, *, axis=-1, temperature=1.0, log=False):
    """Gradient of sum(v * f(x / T)) for f = softmax (log=False) or log_softmax (log=True)."""
    p = softmax(x, axis=axis, temperature=temperature)
    v = _f64(v)
    if log:
        return (v - p * np.sum(v, axis=axis, keepdims=True)) / temperature
    return p * (v - np.sum(v * p, axis=axis, keepdims=True)) / temperature


def distillation(student_logits, teacher_logits, target, *, temperature=4.0, alpha=0.5, axis=-1,
                 reduction="mean", sample_weight=None):
    """(1 - alpha) T^2 KL(softmax(t/T) || softmax(s/T)) + alpha CE(s, target), per row."""
    T = temperature
    s = np.moveaxis(_f64(student_logits), axis, -1)
    t = np.moveaxis(_f64(teacher_logits), axis, -1)
    c = s.shape[-1]
    log_q = log_softmax(s / T)
    log_p = log_softmax(t / T)
    p = np.exp(log_p)
    kl = np.sum(p * np.where(p > 0, log_p - log_q, 0.0), axis=-1)  # 0 log 0 = 0
    target = np.asarray(target)
    if target.dtype.kind == "f":
        y = np.moveaxis(_f64(target), axis, -1)
    else:
        y = np.eye(c)[target]
    log_s1 = log_softmax(s)
    ce = -np.sum(np.where(y != 0, y * log_s1, 0.0), axis=-1)
    loss = (1 - alpha) * T**2 * kl + alpha * ce
    # d/ds of T^2 KL(p || softmax(s/T)) = T (q - p); of CE = (sum y) softmax(s) - y
    ds = (1 - alpha) * T * (np.exp(log_q) - p) + alpha * (
        np.sum(y, axis=-1, keepdims=True) * np.exp(log_s1) - y)
    value, ds = _reduce_rows(loss, ds, _weights(sample_weight, loss.shape), reduction)
    return value, np.moveaxis(ds, -1, axis)
# ---------------------------------------------------------------------------- regression / binary


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def mse(pred, target, *, reduction="mean", sample_weight=None):
    d = _f64(pred) - _f64(target)
    return _reduce(d**2, 2 * d, _weights(sample_weight, d.shape), reduction)


def mae(pred, target, *, reduction="mean", sample_weight=None):
    d = _f64(pred) - _f64(target)
    return _reduce(np.abs(d), np.sign(d), _weights(sample_weight, d.shape), reduction)


def rmse(pred, target, *, reduction="mean", sample_weight=None):
    """sqrt of the reduced squared error; gradient dm/dx / (2 sqrt(m)), 0 where m == 0."""
    if reduction == "none":
        raise ValueError("rmse has no reduction='none'")
    m, dm = mse(pred, target, reduction=reduction, sample_weight=sample_weight)
    r = np.sqrt(m)
    return r, (dm / (2 * r) if m != 0 else np.zeros_like(dm))


def msle(pred, target, *, reduction="mean", sample_weight=None):
    x = _f64(pred)
    a = np.log1p(x) - np.log1p(_f64(target))
    return _reduce(a**2, 2 * a / (1 + x), _weights(sample_weight, x.shape), reduction)


def smooth_l1(pred, target, *, beta=1.0, reduction="mean", sample_weight=None):
    d = _f64(pred) - _f64(target)
    if beta == 0:
        loss, dloss = np.abs(d), np.sign(d)
    else:
        loss = np.where(np.abs(d) < beta, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)
        dloss = np.clip(d / beta, -1.0, 1.0)
    return _reduce(loss, dloss, _weights(sample_weight, d.shape), reduction)


def log_cosh(pred, target, *, reduction="mean", sample_weight=None):
    d = _f64(pred) - _f64(target)
    # log cosh d = log((e^d + e^-d) / 2) = logaddexp(d, -d) - log 2, which cancels near 0
    # (log cosh d ~ d^2 / 2); there log1p(cosh d - 1) = log1p(2 sinh^2(d / 2)) keeps the digits
    with np.errstate(over="ignore"):
        loss = np.where(np.abs(d) < 1, np.log1p(2 * np.sinh(d / 2) ** 2),
                        np.logaddexp(d, -d) - np.log(_f64(2.0)))  # log 2 in the working precision
    return _reduce(loss, np.tanh(d), _weights(sample_weight, d.shape), reduction)


def binary_cross_entropy(pred, target, *, weight=None, reduction="mean", sample_weight=None):
    """torch's binary_cross_entropy: logs clamped at -100; torch's backward convention."""
    p, t = _f64(pred), _f64(target)
    w = np.ones(p.shape) if weight is None else np.broadcast_to(_f64(weight), p.shape)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_q = np.maximum(np.log1p(-p), -100.0)
    loss = -w * (t * log_p + (1 - t) * log_q)
    dloss = w * (p - t) / np.maximum(p * (1 - p), 1e-12)
    return _reduce(loss, dloss, _weights(sample_weight, p.shape), reduction)


def binary_cross_entropy_with_logits(pred, target, *, pos_weight=None, weight=None,
                                     label_smoothing=0.0, reduction="mean", sample_weight=None):
    x = _f64(pred)
    t = _f64(target) * (1 - label_smoothing) + 0.5 * label_smoothing
    w = np.ones(x.shape) if weight is None else np.broadcast_to(_f64(weight), x.shape)
    pw = np.ones(x.shape) if pos_weight is None else np.broadcast_to(_f64(pos_weight), x.shape)
    # -[pw t log s(x) + (1 - t) log(1 - s(x))], log s(x) = -softplus(-x)
    loss = w * (pw * t * _softplus(-x) + (1 - t) * _softplus(x))
    dloss = w * ((1 - t) * _sigmoid(x) - pw * t * _sigmoid(-x))
    return _reduce(loss, dloss, _weights(sample_weight, x.shape), reduction)


def squared_hinge(pred, target, *, reduction="mean", sample_weight=None):
    x = _f64(pred)
    t = np.where(_f64(target) > 0, 1.0, -1.0)
    m = np.maximum(1.0 - t * x, 0.0)
    return _reduce(m**2, -2 * t * m, _weights(sample_weight, x.shape), reduction)


def focal(pred, target, *, gamma=2.0, alpha=None, from_logits=True, reduction="mean",
          sample_weight=None):
    """-[t a (1-p)^g log p + (1-t)(1-a) p^g log(1-p)], p = sigmoid(pred) or pred."""
    x, t = _f64(pred), _f64(target)
    a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)
    if from_logits:
        p, q = _sigmoid(x), _sigmoid(-x)  # q = 1 - p without cancellation
        log_p, log_q = -_softplus(-x), -_softplus(x)
        dp = p * q  # dp/dx
    else:
        p = x
        q = 1 - p
        with np.errstate(divide="ignore"):
            log_p, log_q = np.log(p), np.log1p(-p)
        dp = np.ones_like(p)
    # a term whose target coefficient is 0 is 0 (not 0 * inf at p = 0 or 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(t == 0, 0.0, -a_pos * t * q**gamma * log_p)
        neg = np.where(t == 1, 0.0, -a_neg * (1 - t) * p**gamma * log_q)
        # d/dp of the two terms, then the chain rule through p
        dpos = -a_pos * t * (-gamma * q ** (gamma - 1) * log_p + q**gamma / p) if gamma else \
            -a_pos * t / p
        dneg = -a_neg * (1 - t) * (gamma * p ** (gamma - 1) * log_q - p**gamma / q) if gamma \
            else a_neg * (1 - t) / q
        dpos = np.where(t == 0, 0.0, dpos)
        dneg = np.where(t == 1, 0.0, dneg)
    return _reduce(pos + neg, (dpos + dneg) * dp, _weights(sample_weight, x.shape), reduction)


def gan_generator(fake_logits, *, saturating=False, reduction="mean", sample_weight=None):
    x = _f64(fake_logits)
    if saturating:
        loss, dloss = -_softplus(x), -_sigmoid(x)
    else:
        loss, dloss = _softplus(-x), -_sigmoid(-x)
    return _reduce(loss, dloss, _weights(sample_weight, x.shape), reduction)


def gan_discriminator(real_logits, fake_logits, *, reduction="mean", sample_weight=None):
    """softplus(-real) + softplus(fake), each part reduced on its own; value, (d_real, d_fake)."""
    r, f = _f64(real_logits), _f64(fake_logits)
    sw_r, sw_f = sample_weight if sample_weight is not None else (None, None)
    vr, gr = _reduce(_softplus(-r), -_sigmoid(-r), _weights(sw_r, r.shape), reduction)
    vf, gf = _reduce(_softplus(f), _sigmoid(f), _weights(sw_f, f.shape), reduction)
    value = (vr, vf) if reduction == "none" else vr + vf
    return value, (gr, gf)
# ---------------------------------------------------------------------------- deviances, likelihoods


def tweedie(pred, target, *, power=1.5, reduction="mean", sample_weight=None):
    """sklearn.metrics.mean_tweedie_deviance's unit deviance of mu = exp(pred), with its
    derivative w.r.t. pred."""
    x, y = _f64(pred), _f64(target)
    mu, p = np.exp(x), power
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 0:
            dev = (y - mu) ** 2
        elif p == 1:
            dev = 2 * (_xlogy(y, y) - y * x - y + mu)  # 2 [y log(y / mu) - y + mu]
        elif p == 2:
            dev = 2 * (x - np.log(y) + y / mu - 1)  # 2 [log(mu / y) + y / mu - 1]
        else:
            dev = 2 * (np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
                       - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
        dloss = 2 * (mu ** (2 - p) - y * mu ** (1 - p))
    return _reduce(dev, dloss, _weights(sample_weight, x.shape), reduction)


def poisson(pred, target, *, reduction="mean", sample_weight=None):
    return tweedie(pred, target, power=1.0, reduction=reduction, sample_weight=sample_weight)


def gamma(pred, target, *, reduction="mean", sample_weight=None):
    return tweedie(pred, target, power=2.0, reduction=reduction, sample_weight=sample_weight)


def pinball(pred, target, *, quantile=0.5, reduction="mean", sample_weight=None):
    """sklearn.metrics.mean_pinball_loss; subgradient 0 where pred == target."""
    x, y = _f64(pred), _f64(target)
    d = y - x
    loss = np.maximum(quantile * d, (quantile - 1) * d)
    dloss = np.where(d > 0, -quantile, np.where(d < 0, 1 - quantile, 0.0))
    return _reduce(loss, dloss, _weights(sample_weight, x.shape), reduction)


def poisson_nll(pred, target, *, log_input=True, full=False, eps=1e-8, reduction="mean",
                sample_weight=None):
    """torch.nn.functional.poisson_nll_loss."""
    x, y = _f64(pred), _f64(target)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if log_input:
            loss, dloss = np.exp(x) - y * x, np.exp(x) - y
        else:
            loss, dloss = x - y * np.log(x + eps), 1 - y / (x + eps)
        if full:
            loss = loss + np.where(y > 1, y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y), 0.0)
    return _reduce(loss, dloss, _weights(sample_weight, x.shape), reduction)


def _gaussian_var(var, shape):
    v = _f64(var)
    if v.ndim and v.shape != shape and v.shape == shape[:-1]:
        v = v[..., None]  # one variance per row (torch's homoscedastic case)
    return np.broadcast_to(v, shape)


def gaussian_nll(pred, target, var, *, full=False, eps=1e-6, reduction="mean",
                 sample_weight=None):
    """torch.nn.functional.gaussian_nll_loss; gradient w.r.t. pred."""
    x, y = _f64(pred), _f64(target)
    v = np.maximum(_gaussian_var(var, x.shape), eps)
    loss = 0.5 * (np.log(v) + (x - y) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    return _reduce(loss, (x - y) / v, _weights(sample_weight, x.shape), reduction)


# ---------------------------------------------------------------------------- grad_hess
# The gradient and the Hessian's diagonal of the per-sample losses (what gradient boosting
# takes), each times sample_weight, the second derivative raised to hessian_floor first.
# <loss>_grad_hess takes the loss's arguments without reduction.


def _gh(g, h, sample_weight, hessian_floor):
    w = _weights(sample_weight, g.shape)
    if hessian_floor is not None:
        h = np.where(h < hessian_floor, hessian_floor, h)  # NaN stays NaN
    return w * g, w * h


def _nan_like(d):
    """1 where d is a number, NaN where it is NaN: a constant Hessian that keeps NaN."""
    return np.where(np.isnan(d), np.nan, 1.0)


def mse_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    d = _f64(pred) - _f64(target)
    return _gh(2 * d, 2 * _nan_like(d), sample_weight, hessian_floor)


def mae_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    """Hessian: the constant 1 (scikit-learn's AbsoluteError convention)."""
    d = _f64(pred) - _f64(target)
    return _gh(np.sign(d), _nan_like(d), sample_weight, hessian_floor)


def msle_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    x = _f64(pred)
    a = np.log1p(x) - np.log1p(_f64(target))
    return _gh(2 * a / (1 + x), 2 * (1 - a) / (1 + x) ** 2, sample_weight, hessian_floor)


def huber_grad_hess(pred, target, *, delta=1.0, sample_weight=None, hessian_floor=None):
    d = _f64(pred) - _f64(target)
    h = np.where(np.abs(d) <= delta, 1.0, np.where(np.isnan(d), np.nan, 0.0))
    return _gh(np.clip(d, -delta, delta), h, sample_weight, hessian_floor)


def smooth_l1_grad_hess(pred, target, *, beta=1.0, sample_weight=None, hessian_floor=None):
    d = _f64(pred) - _f64(target)
    if beta == 0:
        return _gh(np.sign(d), _nan_like(d), sample_weight, hessian_floor)
    h = np.where(np.abs(d) <= beta, 1.0 / beta, np.where(np.isnan(d), np.nan, 0.0))
    return _gh(np.clip(d / beta, -1.0, 1.0), h, sample_weight, hessian_floor)


def log_cosh_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    d = _f64(pred) - _f64(target)
    a = np.minimum(np.abs(d), 700.0)  # sech^2 underflows to 0 long before exp overflows
    return _gh(np.tanh(d), (2 / (np.exp(a) + np.exp(-a))) ** 2, sample_weight, hessian_floor)


def binary_cross_entropy_with_logits_grad_hess(pred, target, *, pos_weight=None, weight=None,
                                               label_smoothing=0.0, sample_weight=None,
                                               hessian_floor=None):
    x = _f64(pred)
    t = _f64(target) * (1 - label_smoothing) + 0.5 * label_smoothing
    w = np.ones(x.shape) if weight is None else np.broadcast_to(_f64(weight), x.shape)
    pw = np.ones(x.shape) if pos_weight is None else np.broadcast_to(_f64(pos_weight), x.shape)
    g = w * ((1 - t) * _sigmoid(x) - pw * t * _sigmoid(-x))
    h = w * ((1 - t) + pw * t) * _sigmoid(x) * _sigmoid(-x)
    return _gh(g, h, sample_weight, hessian_floor)


def squared_hinge_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    x = _f64(pred)
    t = np.where(_f64(target) > 0, 1.0, -1.0)
    m = 1.0 - t * x
    return _gh(-2 * t * np.maximum(m, 0.0), np.where(m > 0, 2.0, 0.0), sample_weight,
               hessian_floor)


def focal_grad_hess(pred, target, *, gamma=2.0, alpha=None, from_logits=True,
                    sample_weight=None, hessian_floor=None):
    """Second derivative w.r.t. the logit by the product rule, term by term:
    f = c q^g A (A = -log p) has f' = -c q^g (q + g p A) and
    f'' = c [g p q^g (q + g p A) - q^g (-p q + g (p q A - p q))]; likewise with p, q swapped
    (and the sign of the first derivative flipped) for the negative term."""
    if not from_logits:
        raise ValueError("focal grad_hess needs from_logits=True")
    x, t = _f64(pred), _f64(target)
    a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)
    p, q = _sigmoid(x), _sigmoid(-x)
    A, B = _softplus(-x), _softplus(x)
    g = gamma
    cp, cn = a_pos * t, a_neg * (1 - t)
    grad = -cp * q**g * (q + g * p * A) + cn * p**g * (p + g * q * B)
    # d/dx of q^g = -g p q^g; d/dx (q + g p A) = -p q + g (p q A - p q)
    hpos = cp * (g * p * q**g * (q + g * p * A) - q**g * (-p * q + g * (p * q * A - p * q)))
    # mirror: d/dx of p^g = g q p^g; d/dx (p + g q B) = p q + g (-p q B + p q)
    hneg = cn * (g * q * p**g * (p + g * q * B) + p**g * (p * q + g * (p * q - p * q * B)))
    return _gh(grad, hpos + hneg, sample_weight, hessian_floor)


def tweedie_grad_hess(pred, target, *, power=1.5, sample_weight=None, hessian_floor=None):
    x, y = _f64(pred), _f64(target)
    mu, p = np.exp(x), power
    with np.errstate(over="ignore", invalid="ignore"):
        g = 2 * (mu ** (2 - p) - y * mu ** (1 - p))
        h = 2 * ((2 - p) * mu ** (2 - p) - (1 - p) * y * mu ** (1 - p))
    return _gh(g, h, sample_weight, hessian_floor)


def poisson_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    return tweedie_grad_hess(pred, target, power=1.0, sample_weight=sample_weight,
                             hessian_floor=hessian_floor)


def gamma_grad_hess(pred, target, *, sample_weight=None, hessian_floor=None):
    return tweedie_grad_hess(pred, target, power=2.0, sample_weight=sample_weight,
                             hessian_floor=hessian_floor)


def pinball_grad_hess(pred, target, *, quantile=0.5, sample_weight=None, hessian_floor=None):
    """Hessian: the constant 1 (scikit-learn's PinballLoss convention)."""
    _, g = pinball(pred, target, quantile=quantile, reduction="none")
    d = _f64(target) - _f64(pred)
    return _gh(g, _nan_like(d), sample_weight, hessian_floor)


def poisson_nll_grad_hess(pred, target, *, log_input=True, full=False, eps=1e-8,
                          sample_weight=None, hessian_floor=None):
    x, y = _f64(pred), _f64(target)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if log_input:
            g, h = np.exp(x) - y, np.exp(x)
        else:
            g, h = 1 - y / (x + eps), y / (x + eps) ** 2
    return _gh(g, h, sample_weight, hessian_floor)


def gaussian_nll_grad_hess(pred, target, var, *, full=False, eps=1e-6, sample_weight=None,
                           hessian_floor=None):
    x, y = _f64(pred), _f64(target)
    v = np.maximum(_gaussian_var(var, x.shape), eps)
    return _gh((x - y) / v, 1.0 / v + 0 * (x - y), sample_weight, hessian_floor)


def cross_entropy_grad_hess(logits, target, *, axis=-1, weight=None, ignore_index=-100,
                            label_smoothing=0.0, temperature=1.0, sample_weight=None,
                            hessian_floor=None):
    """Per-sample gradient (cross_entropy's with reduction "none") and the Hessian's diagonal
    B p_k (1 - p_k) / T^2, B = the row's total target weight: (1 - eps) w_y + (eps / C) sum(w)
    for a class index, sum_k w_k t'_k for probabilities; 0 for ignored rows."""
    _, grad = cross_entropy(logits, target, axis=axis, weight=weight, ignore_index=ignore_index,
                            label_smoothing=label_smoothing, temperature=temperature,
                            reduction="none", sample_weight=sample_weight)
    z = np.moveaxis(_f64(logits), axis, -1)
    c = z.shape[-1]
    p = np.exp(log_softmax(z / temperature))
    cw = np.ones(c) if weight is None else _f64(weight)
    eps = label_smoothing
    target = np.asarray(target)
    if target.dtype.kind == "f":
        t = (1 - eps) * np.moveaxis(_f64(target), axis, -1) + eps / c
        valid = np.ones(z.shape[:-1], dtype=bool)
        b = np.sum(cw * t, axis=-1)
    else:
        valid = target != ignore_index
        b = (1 - eps) * cw[np.where(valid, target, 0)] + eps / c * cw.sum()
    h = b[..., None] * p * (1 - p) / temperature**2
    if hessian_floor is not None:
        h = np.where(h < hessian_floor, hessian_floor, h)
    s = _weights(sample_weight, z.shape[:-1])
    h = np.where(valid[..., None], s[..., None] * h, 0.0)
    return grad, np.moveaxis(h, -1, axis)


# ---------------------------------------------------------------------------- CTC


def _ctc_targets(targets, target_lengths):
    """The target of every sample as a list of label arrays (padded or concatenated input)."""
    targets = np.asarray(targets)
    lengths = [int(v) for v in np.asarray(target_lengths).reshape(-1)]
    if targets.ndim == 2:
        return [targets[i, :length] for i, length in enumerate(lengths)]
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(int)
    return [targets[s:s + length] for s, length in zip(starts, lengths)]


def ctc(logits, targets, input_lengths, target_lengths, *, blank=0, reduction="mean",
        zero_infinity=False):
    """torch.nn.functional.ctc_loss(log_softmax(logits).transpose(0, 1), ...), batch first,
    with the gradient w.r.t. the logits. The plain alpha/beta dynamic programme in log space,
    one sample at a time (Graves et al. 2006). Impossible alignments: loss inf (0 with
    zero_infinity) and gradient 0."""
    x = _f64(logits)
    n, _, c = x.shape
    logp = log_softmax(x, axis=-1)
    seqs = _ctc_targets(targets, target_lengths)
    in_lens = [int(v) for v in np.asarray(input_lengths).reshape(-1)]
    losses = _f64(np.zeros(n))
    grad = np.zeros_like(x)
    for i in range(n):
        T = in_lens[i]
        ext = [blank]  # the extended target: blank, l1, blank, l2, ..., blank
        for label in seqs[i]:
            ext += [int(label), blank]
        ext = np.array(ext)
        S = len(ext)
        # a label may be reached from two states back when it differs from that state's label
        can_skip = np.zeros(S, dtype=bool)
        can_skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
        lp = logp[i, :T][:, ext]  # (T, S): log-probability of each state's label at each t
        alpha = _f64(np.full((T, S), -np.inf))
        beta = _f64(np.full((T, S), -np.inf))
        if T == 0:
            log_p = 0.0 if S == 1 else -np.inf
        else:
            alpha[0, :min(2, S)] = lp[0, :min(2, S)]
            for t in range(1, T):
                prev = alpha[t - 1]
                a = prev.copy()
                a[1:] = np.logaddexp(a[1:], prev[:-1])
                a[2:] = np.where(can_skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
                alpha[t] = a + lp[t]
            log_p = np.logaddexp.reduce(alpha[T - 1, max(0, S - 2):])
            beta[T - 1, max(0, S - 2):] = lp[T - 1, max(0, S - 2):]
            for t in range(T - 2, -1, -1):
                nxt = beta[t + 1]
                b = nxt.copy()
                b[:-1] = np.logaddexp(b[:-1], nxt[1:])
                b[:-2] = np.where(can_skip[2:], np.logaddexp(b[:-2], nxt[2:]), b[:-2])
                beta[t] = b + lp[t]
        if np.isinf(log_p):
            losses[i] = 0.0 if zero_infinity else np.inf
            continue  # the gradient of an impossible sample is 0
        losses[i] = -log_p
        # occupation probability of label k at time t: sum over the states with label k of
        # alpha * beta / (p_t(k) * P); the gradient w.r.t. the logits is p_t(k) minus it.
        occupation = _f64(np.zeros((T, c)))
        for s in range(S):
            occupation[:, ext[s]] += np.exp(alpha[:, s] + beta[:, s] - lp[:, s] - log_p)
        grad[i, :T] = np.exp(logp[i, :T]) - occupation
    if reduction == "none":
        return losses, grad
    if reduction == "sum":
        return losses.sum(), grad
    if reduction == "mean":
        per_length = np.maximum(np.asarray(target_lengths).reshape(-1), 1).astype(np.float64)
        w = 1.0 / (per_length * n)
        value = np.sum(losses * w) if n else np.nan  # the mean over no sample is 0 / 0
        return value, grad * w[:, None, None]
    raise ValueError(reduction)


# ---------------------------------------------------------------------------- SSD multibox


def ssd_multibox(loc_pred, loc_target, conf_logits, labels, *, neg_pos_ratio=3, beta=1.0,
                 reduction="mean"):
    """SSD multibox loss with hard negative mining by a stable sort. Returns
    (value, (d_loc_pred, d_conf_logits))."""
    d = _f64(loc_pred) - _f64(loc_target)
    x = _f64(conf_logits)
    y = np.asarray(labels)
    n, a, c = x.shape
    pos = y > 0
    ad = np.abs(d)
    if beta > 0:
        sl1 = np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        dsl1 = np.where(ad < beta, d / beta, np.sign(d))
    else:
        sl1, dsl1 = ad, np.sign(d)
    loc = np.sum(np.where(pos[..., None], sl1, 0.0), axis=(1, 2))
    dloc = np.where(pos[..., None], dsl1, 0.0)

    logp = log_softmax(x, axis=-1)
    background_loss = -logp[..., 0]
    chosen = pos.copy()  # the anchors whose cross-entropy counts: positives + mined negatives
    for i in range(n):
        neg = np.flatnonzero(y[i] == 0)
        key = background_loss[i, neg]
        key = np.where(np.isnan(key), np.inf, key)
        k = min(int(np.floor(neg_pos_ratio * pos[i].sum())), neg.size)
        hardest_first = np.lexsort((neg, -key))  # by loss descending, then by index ascending
        chosen[i, neg[hardest_first[:k]]] = True
    cls = np.where(pos, y, 0)  # the class each chosen anchor is trained towards
    ce = -np.take_along_axis(logp, cls[..., None], axis=-1)[..., 0]
    conf = np.sum(np.where(chosen, ce, 0.0), axis=1)
    onehot = np.eye(c)[cls]
    dconf = np.where(chosen[..., None], np.exp(logp) - onehot, 0.0)

    per_image = loc + conf
    if reduction == "none":
        return per_image, (dloc, dconf)
    if reduction == "sum":
        return per_image.sum(), (dloc, dconf)
    if reduction == "mean":
        n_pos = pos.sum()
        if n_pos == 0:
            return 0.0, (np.zeros_like(dloc), np.zeros_like(dconf))
        return per_image.sum() / n_pos, (dloc / n_pos, dconf / n_pos)
    raise ValueError(reduction)
