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
        nll = -np.sum(onehot * logp, axis=-1)  # -log p_y
        smooth = -np.sum(cw * logp, axis=-1) * valid  # -sum_k w_k log p_k
        denom = np.sum(s * wy) if reduction == "mean" else 1.0
        a = s * wy * (1 - eps) / denom
        b = s * valid * (eps / c) / denom
        value_rows = a * nll + b * smooth
        if reduction == "none":
            value = s * (wy * (1 - eps) * nll + valid * (eps / c) * smooth)
        else:
            value = value_rows.sum()
        # d(-log p_y)/dx = p - onehot; d(-sum_k w_k log p_k)/dx = W p - w
        dx = a[..., None] * (p - onehot) + b[..., None] * (cw.sum() * p - cw)
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
    losses = np.zeros(n)
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
        alpha = np.full((T, S), -np.inf)
        beta = np.full((T, S), -np.inf)
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
        occupation = np.zeros((T, c))
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
        return np.sum(losses * w), grad * w[:, None, None]
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
