"""The call path shared by every elementwise loss (regression, binary, KL): convert the
prediction, target and weights, run one elementwise kernel, shape the results.

Kernels are named as in ``csrc/fastloss.h`` (``"mse"`` runs ``fl_mse_f32``/``fl_mse_f64``);
scalar options travel as keywords to :func:`fastloss._kernels.elementwise`.

Domains are checked by the kernels, in their one pass (``csrc/elementwise.h``): a value outside
the loss's domain comes back as ``ERR_PRED`` / ``ERR_TARGET`` with its flat index, and the
loss's *rule* (``domain=(pred_rule, target_rule)``, e.g. ``"target must be in [0, 1]"``) makes
the message. ``out=`` the prediction itself gives an in-place gradient (the kernels read each
element before writing it).
"""

from __future__ import annotations

from . import _checks, _config, _kernels
from ._loss import finish_grad, finish_value, loss_buffer

KERNEL = {name: i for i, name in enumerate(_kernels.ELEMENTWISE)}
FACTOR_KERNEL = {name: i for i, name in enumerate(_kernels.ELEMENTWISE_FACTORS)}

ERR_TARGET, ERR_PRED = -3, -5  # csrc/parallel.h

# The domain rules of the kernels that front doors (fastloss._kernels.door_*) call, by kernel
# name: (pred rule, target rule), registered by the family modules next to their losses.
DOOR_RULES: dict[str, tuple[str | None, str | None]] = {}


def domain_error(rc: int, bad: int, x, y, rules) -> ValueError:
    """The ValueError for a kernel's domain status: the rule of the offending argument, its
    value and its flat index (``x``, ``y``: the arrays the kernel read)."""
    pred_rule, target_rule = rules
    rule, values = (pred_rule, x) if rc == ERR_PRED else (target_rule, y)
    value = values.reshape(-1)[bad].item()
    return ValueError(f"{rule}; found {value!r} at flat index {bad}")


def door_domain_error(kernel: str, rc: int, bad: int, x, y) -> ValueError:
    """:func:`domain_error` for a front-door call of ``kernel``."""
    rules = DOOR_RULES.get(kernel, ("pred is outside the loss's domain",
                                    "target is outside the loss's domain"))
    return domain_error(rc, bad, x, y, rules)


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


def run(call, kernel: str, inp: Inputs, *, denom_scale: float = 1.0, factors=None,
        domain=(None, None), **options):
    """One kernel call on converted inputs; returns ``(value, grad)`` shaped like the
    prediction (None for what ``call`` did not ask for; with ``call.hess``, ``grad`` is the
    pair ``(gradient, hessian)``). ``factors``: two per-element factor patterns from
    :func:`fastloss._checks.factor` for the BCE kernels; ``domain``: the rules of the kernel's
    domain checks, ``(pred_rule, target_rule)``."""
    n = inp.x.size
    loss = loss_buffer(call, inp.code, n, inp.dtype)
    fa = tuple(f[0] for f in factors or ())
    grad = call.grad_buffer(0, inp.shape, inp.dtype, inp.result, inp.x, inp.y, inp.sw, *fa,
                            inplace=inp.x)
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
    if rc == ERR_PRED or rc == ERR_TARGET:
        raise domain_error(rc, bad, inp.x, inp.y, domain)
    _checks.check_status(rc, bad)
    g = None
    if call.grad:
        g = finish_grad(grad, inp.shape, inp.result)
        if call.hess:
            g = (g, finish_grad(hess, inp.shape, inp.result))
    return (finish_value(value, loss, inp.code, inp.shape, inp.result) if call.value else None,
            g)
