"""The benchmark workloads and the peers a user would pick for each, written as users write them.

Every workload is one loss at one shape (float32, reduction "mean", value and gradient). For
each there are up to four peers besides fastloss:

- ``torch``: PyTorch CPU, the loss as a user writes it on ``torch.from_numpy`` tensors (no
  copies, no extra ops), forward then ``backward()``;
- ``jax``: ``jax.jit(jax.value_and_grad(loss))`` with the inputs already on the device, timed
  to ``block_until_ready``;
- ``sklearn``: scikit-learn's ``sklearn._loss`` ``loss_gradient(..., n_threads=...)`` where it
  has the loss (per-sample losses and gradients: no mean scaling, which favours it);
- ``numpy``: hand-vectorised NumPy (in-place where it helps), not the readable reference.

A peer factory takes ``(args, kw, threads)`` - the fastloss call's arguments - and returns a
zero-argument callable returning ``(value, gradient)``, or None when the peer is not installed.
tests/test_bench_cli.py checks that every peer computes fastloss's value and gradient.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import binary, multiclass, regression, segmentation, sequence


# --------------------------------------------------------------------------------------------
# optional peers


def torch_module():
    try:
        import torch
    except ImportError:
        return None
    return torch


def jax_module():
    try:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        import jax
    except ImportError:
        return None
    return jax


def sklearn_losses():
    try:
        from sklearn._loss import loss
    except ImportError:
        return None
    return loss


def _torch_runner(fn, tensors, grad_index=0, threads=1):
    """forward + backward of ``fn(*tensors)``; a fresh leaf per call, as fastloss returns a
    fresh gradient."""
    torch = torch_module()
    torch.set_num_threads(max(1, threads))
    base = tensors[grad_index]

    def run():
        leaf = base.detach().requires_grad_(True)
        args = list(tensors)
        args[grad_index] = leaf
        out = fn(*args)
        out.backward()
        return out.detach(), leaf.grad
    return run


def _jax_runner(fn, arrays):
    """``jit(value_and_grad(fn))`` on device arrays, blocking until the result is ready."""
    jax = jax_module()
    f = jax.jit(jax.value_and_grad(fn))
    dev = [jax.device_put(a) for a in arrays]

    def run():
        v, g = f(*dev)
        g.block_until_ready()
        return v, g
    return run


# --------------------------------------------------------------------------------------------
# cross-entropy with integer labels


def _ce_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    x, y = args
    return _torch_runner(F.cross_entropy, [torch.from_numpy(x), torch.from_numpy(y)],
                         threads=threads)


def _ce_jax(args, kw, threads):
    jax = jax_module()
    if jax is None:
        return None
    jnp = jax.numpy
    x, y = args

    def f(x, y):
        logp = jax.nn.log_softmax(x, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))
    return _jax_runner(f, [x, y.astype(np.int32)])


def _ce_sklearn(args, kw, threads):
    sk = sklearn_losses()
    if sk is None:
        return None
    x, y = args
    loss = sk.HalfMultinomialLoss(n_classes=x.shape[1])
    yf = y.astype(x.dtype)

    def run():
        per, grad = loss.loss_gradient(yf, x, n_threads=threads)
        return per.mean(), grad
    run.grad_scale = 1.0 / x.shape[0]  # its gradient is per sample (see the module docstring)
    return run


def _ce_numpy(args, kw, threads):
    x, y = args
    rows = np.arange(x.shape[0])

    def run():
        m = x.max(axis=1, keepdims=True)
        e = np.subtract(x, m)
        np.exp(e, out=e)
        s = e.sum(axis=1, keepdims=True)
        value = np.mean(np.log(s[:, 0]) + m[:, 0] - x[rows, y])
        e /= s * x.shape[0]
        e[rows, y] -= 1.0 / x.shape[0]
        return value, e
    return run


def _ce(rng, dtype, shape):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    return (x, rng.integers(0, shape[1], size=shape[0])), {}


# --------------------------------------------------------------------------------------------
# elementwise


def _regression_inputs(rng, dtype, shape):
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)), {}


def _binary_inputs(rng, dtype, shape):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    return (x, rng.integers(0, 2, size=shape).astype(dtype)), {}


def _pm1_inputs(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    return (x, rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=shape)), {}


def _torch_elementwise(loss_fn):
    def factory(args, kw, threads):
        torch = torch_module()
        if torch is None:
            return None
        return _torch_runner(lambda p, t: loss_fn(torch, p, t),
                             [torch.from_numpy(a) for a in args], threads=threads)
    return factory


def _jax_elementwise(loss_fn):
    def factory(args, kw, threads):
        jax = jax_module()
        if jax is None:
            return None
        return _jax_runner(lambda p, t: loss_fn(jax.numpy, p, t), list(args))
    return factory


def _sklearn_elementwise(name, half=False, **ctor):
    """``half``: scikit-learn's loss is half of fastloss's (HalfSquaredError)."""
    def factory(args, kw, threads):
        sk = sklearn_losses()
        if sk is None:
            return None
        loss = getattr(sk, name)(**ctor)
        p, t = args

        def run():
            per, grad = loss.loss_gradient(t, p, n_threads=threads)
            return per.mean(), grad
        # how its results relate to fastloss's (for the equivalence test, not the timing)
        run.value_scale = 2.0 if half else 1.0
        run.grad_scale = run.value_scale / p.size
        return run
    return factory


def _numpy_mse(args, kw, threads):
    p, t = args

    def run():
        d = np.subtract(p, t)
        value = np.dot(d, d) / d.size
        d *= 2.0 / d.size
        return value, d
    return run


def _numpy_mae(args, kw, threads):
    p, t = args

    def run():
        d = np.subtract(p, t)
        value = np.abs(d).mean()
        np.sign(d, out=d)
        d /= d.size
        return value, d
    return run


def _numpy_huber(args, kw, threads, delta=1.0):
    p, t = args

    def run():
        d = np.subtract(p, t)
        a = np.abs(d)
        quad = a < delta
        value = np.where(quad, 0.5 * d * d, delta * (a - 0.5 * delta)).mean()
        np.clip(d, -delta, delta, out=d)
        d /= d.size
        return value, d
    return run


def _numpy_hinge(args, kw, threads):
    p, t = args

    def run():
        margin = 1.0 - t * p
        value = np.maximum(margin, 0.0).mean()
        g = np.where(margin > 0, -t, 0.0).astype(p.dtype) / p.size
        return value, g
    return run


def _numpy_bce_logits(args, kw, threads):
    x, t = args

    def run():
        e = np.exp(-np.abs(x))
        value = (np.maximum(x, 0) - x * t + np.log1p(e)).mean()
        s = np.where(x >= 0, 1.0, e) / (1.0 + e)  # sigmoid(x) without overflow
        s -= t
        s /= x.size
        return value, s.astype(x.dtype, copy=False)
    return run


def _numpy_focal(args, kw, threads, gamma=2.0, alpha=0.25):
    x, t = args

    def run():
        e = np.exp(-np.abs(x))
        sp = np.log1p(e)
        p = np.where(x >= 0, 1.0, e) / (1.0 + e)
        ce = np.maximum(x, 0) - x * t + sp
        p_t = p * t + (1 - p) * (1 - t)
        a_t = alpha * t + (1 - alpha) * (1 - t)
        w = (1 - p_t) ** gamma
        value = (a_t * w * ce).mean()
        # d/dx of a_t (1 - p_t)^g ce with dp_t/dx = (2t - 1) p (1 - p), dce/dx = p - t
        dpt = (2 * t - 1) * p * (1 - p)
        g = a_t * (-gamma * (1 - p_t) ** (gamma - 1) * dpt * ce + w * (p - t)) / x.size
        return value, g.astype(x.dtype, copy=False)
    return run


def _numpy_log_cosh(args, kw, threads):
    p, t = args

    def run():
        d = np.subtract(p, t)
        a = np.abs(d)
        value = (a + np.log1p(np.exp(-2 * a)) - np.log(2.0)).mean()
        np.tanh(d, out=d)
        d /= d.size
        return value, d
    return run


# --------------------------------------------------------------------------------------------
# other class-axis losses


def _kl_inputs(rng, dtype, shape):
    q = rng.dirichlet(np.ones(shape[1]), size=shape[0])
    t = rng.dirichlet(np.ones(shape[1]), size=shape[0])
    return (np.log(q).astype(dtype), t.astype(dtype)), {"log_pred": True, "reduction": "batchmean"}


def _kl_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    return _torch_runner(lambda lq, t: F.kl_div(lq, t, reduction="batchmean"),
                         [torch.from_numpy(a) for a in args], threads=threads)


def _kl_jax(args, kw, threads):
    jax = jax_module()
    if jax is None:
        return None
    jnp = jax.numpy
    n = args[0].shape[0]
    return _jax_runner(lambda lq, t: jnp.sum(jax.scipy.special.xlogy(t, t) - t * lq) / n,
                       list(args))


def _kl_numpy(args, kw, threads):
    lq, t = args
    n = lq.shape[0]

    def run():
        with np.errstate(divide="ignore", invalid="ignore"):
            tlogt = np.where(t > 0, t * np.log(t), 0.0)
        value = (tlogt - t * lq).sum() / n
        return value, np.negative(t) / np.float32(n)
    return run


def _distill_inputs(rng, dtype, shape):
    s = (rng.standard_normal(shape) * 3).astype(dtype)
    t = (rng.standard_normal(shape) * 3).astype(dtype)
    return (s, t, rng.integers(0, shape[1], size=shape[0])), {"temperature": 4.0, "alpha": 0.5}


def _distill_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    T, a = kw["temperature"], kw["alpha"]

    def loss(s, t, y):
        kl = F.kl_div(F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1),
                      log_target=True, reduction="batchmean")
        return (1 - a) * T * T * kl + a * F.cross_entropy(s, y)
    return _torch_runner(loss, [torch.from_numpy(x) for x in args], threads=threads)


def _distill_jax(args, kw, threads):
    jax = jax_module()
    if jax is None:
        return None
    jnp = jax.numpy
    T, a = kw["temperature"], kw["alpha"]

    def loss(s, t, y):
        ls, lt = jax.nn.log_softmax(s / T), jax.nn.log_softmax(t / T)
        kl = jnp.sum(jnp.exp(lt) * (lt - ls)) / s.shape[0]
        ce = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(s), y[:, None], axis=-1))
        return (1 - a) * T * T * kl + a * ce
    s, t, y = args
    return _jax_runner(loss, [s, t, y.astype(np.int32)])


def _distill_numpy(args, kw, threads):
    s, t, y = args
    T, a = kw["temperature"], kw["alpha"]
    n = s.shape[0]
    rows = np.arange(n)

    def softmax(z):
        z = z - z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def run():
        q, p, s1 = softmax(s / T), softmax(t / T), softmax(s.copy())
        with np.errstate(divide="ignore"):
            kl = np.sum(p * (np.log(p) - np.log(q))) / n
        ce = -np.mean(np.log(s1[rows, y]))
        g = (1 - a) * T * (q - p)
        g += a * s1
        g[rows, y] -= a
        g /= n
        return (1 - a) * T * T * kl + a * ce, g
    return run


def _mm_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    return _torch_runner(F.multi_margin_loss, [torch.from_numpy(a) for a in args],
                         threads=threads)


def _mm_jax(args, kw, threads):
    jax = jax_module()
    if jax is None:
        return None
    jnp = jax.numpy

    def loss(x, y):
        xy = jnp.take_along_axis(x, y[:, None], axis=-1)
        h = jnp.maximum(0.0, 1.0 - xy + x)
        return jnp.mean((h.sum(axis=1) - 1.0) / x.shape[1])  # the k = y term is the margin
    x, y = args
    return _jax_runner(loss, [x, y.astype(np.int32)])


def _mm_numpy(args, kw, threads):
    x, y = args
    n, c = x.shape
    rows = np.arange(n)

    def run():
        z = 1.0 - x[rows, y][:, None] + x
        z[rows, y] = 0.0
        active = z > 0
        value = np.where(active, z, 0.0).sum() / (n * c)
        g = active.astype(x.dtype) / np.float32(n * c)
        g[rows, y] = -g.sum(axis=1)
        return value, g
    return run


# --------------------------------------------------------------------------------------------
# dice from logits with integer labels; ctc


def _dice_inputs(rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    labels = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
    return (x, labels), {"from_logits": True}


def _dice_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    x, y = args
    c = x.shape[1]
    onehot = F.one_hot(torch.from_numpy(y), c).movedim(-1, 1).to(torch.float32)

    def loss(x, t):
        p = x.softmax(dim=1)
        inter = (p * t).sum(dim=(2, 3))
        den = p.sum(dim=(2, 3)) + t.sum(dim=(2, 3))
        return (1 - (2 * inter + 1.0) / (den + 1.0)).mean()
    return _torch_runner(loss, [torch.from_numpy(x), onehot], threads=threads)


def _dice_jax(args, kw, threads):
    jax = jax_module()
    if jax is None:
        return None
    x, y = args
    onehot = np.moveaxis(np.eye(x.shape[1], dtype=x.dtype)[y], -1, 1)

    def loss(x, t):
        p = jax.nn.softmax(x, axis=1)
        inter = (p * t).sum(axis=(2, 3))
        den = p.sum(axis=(2, 3)) + t.sum(axis=(2, 3))
        return (1 - (2 * inter + 1.0) / (den + 1.0)).mean()
    return _jax_runner(loss, [x, onehot])


def _dice_numpy(args, kw, threads):
    x, y = args
    n, c = x.shape[:2]
    t = np.moveaxis(np.eye(c, dtype=x.dtype)[y], -1, 1)

    def run():
        p = x - x.max(axis=1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=1, keepdims=True)
        inter = (p * t).sum(axis=(2, 3))
        den = p.sum(axis=(2, 3)) + t.sum(axis=(2, 3)) + 1.0
        num = 2 * inter + 1.0
        value = (1 - num / den).mean()
        # d dice / d p = (-2 t den + num) / den^2, then through the softmax over axis 1
        h = ((-2 * t * den[..., None, None] + num[..., None, None])
             / (den ** 2)[..., None, None]) / (n * c)
        g = p * (h - (p * h).sum(axis=1, keepdims=True))
        return value, g
    return run


def _ctc_inputs(rng, dtype, shape):
    n, t, c = shape
    s = 40
    logits = (rng.standard_normal(shape) * 2).astype(dtype)
    targets = rng.integers(1, c, size=(n, s))
    return (logits, targets, np.full(n, t), np.full(n, s)), {}


def _ctc_torch(args, kw, threads):
    torch = torch_module()
    if torch is None:
        return None
    import torch.nn.functional as F
    x, targets, il, tl = (torch.from_numpy(a) for a in args)
    return _torch_runner(
        lambda z: F.ctc_loss(z.log_softmax(-1).transpose(0, 1), targets, il, tl), [x],
        threads=threads)


# --------------------------------------------------------------------------------------------
# the workloads


@dataclass
class Workload:
    """One benchmark: a fastloss loss at one shape with its peers."""

    name: str  # e.g. "cross_entropy (4096, 1000)"
    loss: object  # the fastloss Loss
    shape: tuple
    make: Callable  # (rng, dtype, shape) -> (args, kw) of the fastloss call
    peers: dict = field(default_factory=dict)  # peer name -> factory(args, kw, threads)
    hot: bool = False  # a small call: time it in a hot loop too
    memory_bound: bool = False  # report GB/s against the copy bound
    spread: bool = False  # report min / median / max of plain calls
    groups: tuple = ()  # command-line groups that select it ("quick", "main", ...)


def shape_text(shape: tuple) -> str:
    """``(4096, 1000)``, or ``1e7`` for a large 1-d shape."""
    if len(shape) == 1 and shape[0] >= 1_000_000:
        return f"{shape[0]:.0e}".replace("e+0", "e").replace("e+", "e")
    return str(tuple(shape))


def _w(loss, shape, make, peers, **kw):
    return Workload(f"{loss.__name__} {shape_text(shape)}", loss, shape, make, peers, **kw)


_SQ = lambda m, p, t: ((p - t) ** 2).mean()  # noqa: E731
_ABS = lambda m, p, t: m.abs(p - t).mean()  # noqa: E731


def _torch_huber(torch, p, t):
    return torch.nn.functional.huber_loss(p, t)


def _jax_huber(jnp, p, t):
    a = jnp.abs(p - t)
    return jnp.where(a < 1.0, 0.5 * (p - t) ** 2, a - 0.5).mean()


def _torch_bce(torch, x, t):
    return torch.nn.functional.binary_cross_entropy_with_logits(x, t)


def _jax_bce(jnp, x, t):
    return (jnp.maximum(x, 0) - x * t + jnp.log1p(jnp.exp(-jnp.abs(x)))).mean()


def _torch_focal(torch, x, t):  # torchvision.ops.sigmoid_focal_loss, written out
    p = torch.sigmoid(x)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    return ((0.25 * t + 0.75 * (1 - t)) * ce * (1 - p_t) ** 2).mean()


def _jax_focal(jnp, x, t):
    p = 1 / (1 + jnp.exp(-x))
    ce = jnp.maximum(x, 0) - x * t + jnp.log1p(jnp.exp(-jnp.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    return ((0.25 * t + 0.75 * (1 - t)) * ce * (1 - p_t) ** 2).mean()


def _log_cosh_any(m, p, t):
    d = p - t
    a = m.abs(d)
    return (a + m.log1p(m.exp(-2 * a)) - np.log(2.0)).mean()


def _hinge_torch(torch, p, t):
    return torch.clamp(1 - t * p, min=0).mean()


def _hinge_jax(jnp, p, t):
    return jnp.maximum(1 - t * p, 0).mean()


_MSE_PEERS = {"torch": _torch_elementwise(lambda m, p, t: m.nn.functional.mse_loss(p, t)),
              "jax": _jax_elementwise(_SQ), "sklearn": _sklearn_elementwise("HalfSquaredError", half=True),
              "numpy": _numpy_mse}
_MAE_PEERS = {"torch": _torch_elementwise(lambda m, p, t: m.nn.functional.l1_loss(p, t)),
              "jax": _jax_elementwise(_ABS), "sklearn": _sklearn_elementwise("AbsoluteError"),
              "numpy": _numpy_mae}
_HUBER_PEERS = {"torch": _torch_elementwise(_torch_huber), "jax": _jax_elementwise(_jax_huber),
                "sklearn": _sklearn_elementwise("HuberLoss", quantile=0.9, delta=1.0),
                "numpy": _numpy_huber}
_HINGE_PEERS = {"torch": _torch_elementwise(_hinge_torch), "jax": _jax_elementwise(_hinge_jax),
                "numpy": _numpy_hinge}
_BCE_PEERS = {"torch": _torch_elementwise(_torch_bce), "jax": _jax_elementwise(_jax_bce),
              "sklearn": _sklearn_elementwise("HalfBinomialLoss"), "numpy": _numpy_bce_logits}
_CE_PEERS = {"torch": _ce_torch, "jax": _ce_jax, "sklearn": _ce_sklearn, "numpy": _ce_numpy}
_E7, _E8 = (10_000_000,), (100_000_000,)

WORKLOADS = [
    _w(multiclass.cross_entropy, (64, 10), _ce, _CE_PEERS, hot=True,
       groups=("quick", "main")),
    _w(multiclass.cross_entropy, (4096, 1000), _ce, _CE_PEERS,
       groups=("quick", "main")),
    _w(multiclass.cross_entropy, (4096, 32000), _ce, _CE_PEERS,
       memory_bound=True),
    _w(multiclass.cross_entropy, (8192, 32000), _ce, _CE_PEERS,
       memory_bound=True),
    _w(regression.mse, (1000,), _regression_inputs, _MSE_PEERS, hot=True,
       groups=("quick", "main")),
    _w(regression.huber, (1000,), _regression_inputs, _HUBER_PEERS, hot=True,
       groups=("quick",)),
    _w(binary.binary_cross_entropy_with_logits, (1000,),
       _binary_inputs, _BCE_PEERS, hot=True, groups=("quick",)),
    _w(regression.huber, _E7, _regression_inputs, _HUBER_PEERS, spread=True,
       memory_bound=True, groups=("main",)),
    _w(regression.mse, _E7, _regression_inputs, _MSE_PEERS, spread=True,
       memory_bound=True),
    _w(binary.binary_cross_entropy_with_logits, _E7,
       _binary_inputs, _BCE_PEERS, groups=("main",)),
    _w(binary.focal, _E7,
       lambda r, d, s: (_binary_inputs(r, d, s)[0], {"gamma": 2.0, "alpha": 0.25}),
       {"torch": _torch_elementwise(_torch_focal), "jax": _jax_elementwise(_jax_focal),
        "numpy": _numpy_focal}),
    _w(regression.log_cosh, _E7, _regression_inputs,
       {"torch": _torch_elementwise(_log_cosh_any), "jax": _jax_elementwise(_log_cosh_any),
        "numpy": _numpy_log_cosh}),
    _w(regression.mse, _E8, _regression_inputs, {}, memory_bound=True),
    _w(regression.mae, _E8, _regression_inputs, {}, memory_bound=True),
    _w(regression.huber, _E8, _regression_inputs, {}, memory_bound=True),
    _w(binary.hinge, _E8, _pm1_inputs, {}, memory_bound=True),
    _w(multiclass.kl_div, (4096, 1000), _kl_inputs,
       {"torch": _kl_torch, "jax": _kl_jax, "numpy": _kl_numpy}, groups=("quick",)),
    _w(multiclass.distillation, (4096, 1000), _distill_inputs,
       {"torch": _distill_torch, "jax": _distill_jax, "numpy": _distill_numpy}),
    _w(multiclass.multi_margin, (4096, 1000),
       lambda r, d, s: _ce(r, d, s), {"torch": _mm_torch, "jax": _mm_jax, "numpy": _mm_numpy}),
    _w(segmentation.dice, (16, 4, 256, 256), _dice_inputs,
       {"torch": _dice_torch, "jax": _dice_jax, "numpy": _dice_numpy}, groups=("main",)),
    _w(sequence.ctc, (32, 200, 80), _ctc_inputs, {"torch": _ctc_torch},
       groups=("main",)),
]
