"""The call path shared by every elementwise loss (regression, binary, KL): convert the
prediction, target and weights, run one elementwise kernel, shape the results.

Kernels are named as in ``csrc/fastloss.h`` (``"mse"`` runs ``fl_mse_f32``/``fl_mse_f64``);
scalar options travel as keywords to :func:`fastloss._kernels.elementwise`.
"""

from __future__ import annotations

from . import _checks, _config, _kernels
from ._loss import finish_grad, finish_value, loss_buffer

KERNEL = {name: i for i, name in enumerate(_kernels.ELEMENTWISE)}
FACTOR_KERNEL = {name: i for i, name in enumerate(_kernels.ELEMENTWISE_FACTORS)}


class Inputs:
    """The converted arguments of one elementwise call."""

    __slots__ = ("shape", "dtype", "result", "code", "x", "y", "sw")

    def __init__(self, pred, target, reduction, sample_weight, allowed=_checks.ALL_REDUCTIONS,
                 names=("pred", "target")):
        p = _checks.float_array(pred, names[0])
        self.shape = p.shape
        self.dtype = dt = _checks.compute_dtype(p)
        self.result = _checks.result_dtype(p)
        self.code = _checks.reduction_code(reduction, allowed)
        if target is None:
            if names[1]:  # a two-input loss: None is not a target (single-input ones name none)
                raise TypeError(f"{names[1]} must be an array, got None")
            self.y = None
        else:
            t = _checks.any_array(target, names[1])
            _checks.same_shape(p, t, names)
            self.y = _checks.real_array(t, names[1], dt)
        self.x = _checks.kernel_array(p, dt)
        self.sw = _checks.sample_weight(sample_weight, p.shape, dt)


def run(call, kernel: str, inp: Inputs, *, denom_scale: float = 1.0, factors=None, **options):
    """One kernel call on converted inputs; returns ``(value, grad)`` shaped like the
    prediction (None for what ``call`` did not ask for; with ``call.hess``, ``grad`` is the
    pair ``(gradient, hessian)``). ``factors``: two per-element factor patterns from
    :func:`fastloss._checks.factor` for the BCE kernels."""
    n = inp.x.size
    loss = loss_buffer(call, inp.code, n, inp.dtype)
    fa = tuple(f[0] for f in factors or ())
    grad = call.grad_buffer(0, inp.shape, inp.dtype, inp.result, inp.x, inp.y, inp.sw, *fa)
    hess = None
    if call.hess:
        hess = call.hess_buffer(inp.shape, inp.dtype, inp.result, inp.x, inp.y, inp.sw, grad,
                                *fa)
        options["hessian_floor"] = call.hessian_floor
    threads = _config.THREADS[0]
    if factors is None:
        rc, value, bad = _kernels.elementwise(KERNEL[kernel], inp.x, inp.y, inp.sw, inp.code,
                                              denom_scale, loss, grad, threads, hess, **options)
    else:
        (a, a_len, a_inner), (b, b_len, b_inner) = factors
        rc, value, bad = _kernels.elementwise_factors(
            FACTOR_KERNEL[kernel], inp.x, inp.y, inp.sw, a, a_len, a_inner, b, b_len, b_inner,
            inp.code, loss, grad, threads, hess, **options)
    _checks.check_status(rc, bad)
    g = None
    if call.grad:
        g = finish_grad(grad, inp.shape, inp.result)
        if call.hess:
            g = (g, finish_grad(hess, inp.shape, inp.result))
    return (finish_value(value, loss, inp.code, inp.shape, inp.result) if call.value else None,
            g)
