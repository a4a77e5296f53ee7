"""Regression losses: a real-valued prediction against a real-valued target, elementwise.

mse, mae, rmse, msle, huber, smooth_l1 and log_cosh; the deviances of the log-link models
(poisson, gamma, tweedie), the quantile loss pinball, and the likelihoods poisson_nll and
gaussian_nll. All but rmse have ``grad_hess`` (the per-sample gradient and second derivative,
for gradient boosting). Kernels: ``csrc/regression.c``; reference: :mod:`fastloss.reference`;
tests: ``tests/test_regression.py``, ``tests/test_grad_hess.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks
from ._elementwise import Inputs, run
from ._loss import Call, loss

__all__ = ["gamma", "gaussian_nll", "huber", "log_cosh", "mae", "mse", "msle", "pinball",
           "poisson", "poisson_nll", "rmse", "smooth_l1", "tweedie"]


@loss(hessian=True)
def mse(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    Per element ``(pred - target)**2``; gradient w.r.t. ``pred``: ``2 (pred - target)``.
    ``"mean"`` is the weighted mean ``sum(w * l) / sum(w)`` (``w = sample_weight``, 1 by
    default); ``pred`` and ``target`` must have the same shape.

    ``grad_hess``: gradient ``2 (pred - target)``, Hessian ``2`` (scikit-learn's
    HalfSquaredError and XGBoost's ``reg:squarederror`` use half of both).
    """
    return run(call, "mse", Inputs(pred, target, reduction, sample_weight))


@loss(hessian=True)
def mae(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    """Mean absolute error, as ``torch.nn.functional.l1_loss``.

    Per element ``|pred - target|``; gradient ``sign(pred - target)`` with the subgradient 0
    where ``pred == target`` (torch's convention).

    ``grad_hess``: the second derivative is 0 (undefined where ``pred == target``); the
    Hessian is the constant 1, the convention of scikit-learn's AbsoluteError and of the L1
    objectives of XGBoost and LightGBM.
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


@loss(hessian=True)
def msle(call: Call, pred: ArrayLike, target: ArrayLike, *,
         reduction: Literal["none", "sum", "mean"] = "mean",
         sample_weight: ArrayLike | None = None):
    """Mean squared logarithmic error: per element ``(log1p(pred) - log1p(target))**2``.

    Gradient ``2 (log1p(pred) - log1p(target)) / (1 + pred)``. Values ``<= -1`` in ``pred`` or
    ``target`` are a ``ValueError`` (Keras clips instead; we do not silently change the loss).

    ``grad_hess``: Hessian ``2 (1 - a) / (1 + pred)**2`` with ``a = log1p(pred) -
    log1p(target)``: negative where ``a > 1`` (the loss is not convex there); pass
    ``hessian_floor`` to boost with it.
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad(inp.x <= -1, inp.x, "pred must be > -1 (log1p(pred) must be finite)")
    _checks.first_bad(inp.y <= -1, inp.y, "target must be > -1 (log1p(target) must be finite)")
    return run(call, "msle", inp)


@loss(hessian=True)
def huber(call: Call, pred: ArrayLike, target: ArrayLike, *, delta: float = 1.0,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    Per element, with ``d = pred - target``: ``0.5 * d**2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``. Gradient w.r.t. ``pred``: ``d`` clipped to
    ``[-delta, delta]``. ``delta > 0``. ``"mean"`` is the weighted mean
    ``sum(w * l) / sum(w)`` (``w = 1`` by default).

    ``grad_hess``: Hessian 1 where ``|d| <= delta`` and 0 on the linear part (its true value;
    at ``|d| == delta`` the quadratic side), as scikit-learn's HuberLoss. A leaf whose samples
    all lie on the linear part then has a zero Hessian: pass ``hessian_floor`` (e.g. 1e-3)
    when boosting.
    """
    delta = _checks.real_param(delta, "delta", lo=0.0, lo_open=True)
    return run(call, "huber", Inputs(pred, target, reduction, sample_weight), delta=delta)


@loss(hessian=True)
def smooth_l1(call: Call, pred: ArrayLike, target: ArrayLike, *, beta: float = 1.0,
              reduction: Literal["none", "sum", "mean"] = "mean",
              sample_weight: ArrayLike | None = None):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    Per element, ``d = pred - target``: ``0.5 d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 beta``; gradient ``clip(d / beta, -1, 1)``. ``beta=0`` is the L1 loss (gradient
    ``sign(d)``, 0 at 0), as in torch. ``beta`` must be ``>= 0``.

    ``grad_hess``: Hessian ``1 / beta`` where ``|d| <= beta``, 0 beyond (as huber); for
    ``beta=0`` the constant 1 of mae.
    """
    beta = _checks.real_param(beta, "beta", lo=0.0)
    return run(call, "smooth_l1", Inputs(pred, target, reduction, sample_weight), beta=beta)


@loss(hessian=True)
def log_cosh(call: Call, pred: ArrayLike, target: ArrayLike, *,
             reduction: Literal["none", "sum", "mean"] = "mean",
             sample_weight: ArrayLike | None = None):
    """Log-cosh loss ``log(cosh(pred - target))``; gradient ``tanh(pred - target)``.

    Computed as ``|d| + log1p(exp(-2|d|)) - log 2`` for ``|d| >= 1`` (no overflow of ``cosh``
    for any ``d``) and ``log1p(2 sinh(d/2)**2)`` below (full relative accuracy near 0).

    ``grad_hess``: Hessian ``sech(d)**2 = 4u / (1 + u)**2``, ``u = exp(-2|d|)`` (positive,
    underflowing to 0 for large ``|d|`` as the true value does).
    """
    return run(call, "log_cosh", Inputs(pred, target, reduction, sample_weight))


# --------------------------------------------------------------------------------------------
# deviances on the log link, quantiles, likelihoods

def _tweedie_power(power) -> float:
    p = _checks.real_param(power, "power")
    if 0.0 < p < 1.0:
        raise ValueError(
            f"power must be <= 0 or >= 1 (no Tweedie distribution has 0 < power < 1); got {power!r}"
        )
    return p


def _tweedie_targets(y, p: float) -> None:
    if p >= 2.0:
        _checks.first_bad(~(y > 0) & ~np.isnan(y), y, f"target must be > 0 for power={p:g}")
    elif p >= 1.0:
        _checks.first_bad(y < 0, y, f"target must be >= 0 for power={p:g}")


@loss(hessian=True)
def poisson(call: Call, pred: ArrayLike, target: ArrayLike, *,
            reduction: Literal["none", "sum", "mean"] = "mean",
            sample_weight: ArrayLike | None = None):
    r"""Poisson deviance of a log-link prediction: the loss of Poisson (count) regression.

    With ``pred`` the raw margin :math:`x = \log\mu` (the log of the predicted mean) and
    ``target`` :math:`y \ge 0`, per element the unit deviance

    .. math:: d(y, \mu) = 2\,[\,y \log(y / \mu) - y + \mu\,], \qquad 0 \log 0 = 0,

    the *full* deviance: 0 at the perfect fit :math:`\mu = y`, equal to
    ``sklearn.metrics.mean_poisson_deviance(y, exp(pred))`` for ``reduction="mean"``, and twice
    scikit-learn's ``HalfPoissonLoss`` (which also drops the terms free of ``pred``). It is
    ``tweedie`` with ``power=1``. Computed as :math:`2y\,(\mathrm{expm1}(-r) + r)` with
    :math:`r = \log y - x`, which keeps the digits near the perfect fit.

    Parameters
    ----------
    pred : array_like
        Raw margins :math:`x = \log\mu` (float16, float32 or float64).
    target : array_like
        Observed counts or rates, :math:`y \ge 0`, ``pred``'s shape.
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced deviance in ``pred``'s dtype (an array for ``reduction="none"``).

    Raises
    ------
    ValueError
        A negative target, shapes that differ, an unknown ``reduction``.

    Notes
    -----
    Gradient w.r.t. ``pred``: :math:`2(\mu - y)`. ``grad_hess`` gives
    :math:`(2(\mu - y),\ 2\mu)` per element (XGBoost's ``count:poisson`` and LightGBM's
    ``poisson`` use half of both, and raise the Hessian by ``max_delta_step``;
    :func:`fastloss.boosting.xgboost_objective` applies the factor 1/2). :math:`\mu = e^x`
    overflows to inf for :math:`x` beyond about 709 (float64) or 88 (float32).

    See Also
    --------
    tweedie, gamma, poisson_nll

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> y = np.array([0.0, 1.0, 4.0])
    >>> print(f"{fl.poisson(np.log([0.5, 1.0, 2.0]), y):.6f}")
    0.848392
    >>> g, h = fl.poisson.grad_hess(np.log([0.5, 1.0, 2.0]), y)
    >>> print(g, h)
    [ 1.  0. -4.] [1. 2. 4.]
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad(inp.y < 0, inp.y, "target must be >= 0 (counts)")
    return run(call, "tweedie", inp, power=1.0)


@loss(hessian=True)
def gamma(call: Call, pred: ArrayLike, target: ArrayLike, *,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    r"""Gamma deviance of a log-link prediction: the loss of Gamma regression (positive,
    right-skewed targets such as claim sizes or durations).

    With ``pred`` the raw margin :math:`x = \log\mu` and ``target`` :math:`y > 0`, per element

    .. math:: d(y, \mu) = 2\,[\,\log(\mu / y) + y / \mu - 1\,],

    the *full* deviance (0 at :math:`\mu = y`), equal to
    ``sklearn.metrics.mean_gamma_deviance(y, exp(pred))`` for ``reduction="mean"`` and twice
    scikit-learn's ``HalfGammaLoss`` (which drops the terms free of ``pred``). It is ``tweedie``
    with ``power=2``, computed as :math:`2(\mathrm{expm1}(r) - r)`, :math:`r = \log y - x`.

    Parameters
    ----------
    pred : array_like
        Raw margins :math:`x = \log\mu`.
    target : array_like
        Observations :math:`y > 0`, ``pred``'s shape.
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced deviance in ``pred``'s dtype.

    Raises
    ------
    ValueError
        A target that is not > 0, shapes that differ, an unknown ``reduction``.

    Notes
    -----
    Gradient :math:`2(1 - y/\mu)`; ``grad_hess`` gives :math:`(2(1 - y/\mu),\ 2y/\mu)`
    (XGBoost's ``reg:gamma`` and LightGBM's ``gamma`` use half of both).

    See Also
    --------
    tweedie, poisson

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> g, h = fl.gamma.grad_hess(np.log([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> print(g, h)
    [0. 1.] [2. 1.]
    """
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad(~(inp.y > 0) & ~np.isnan(inp.y), inp.y, "target must be > 0")
    return run(call, "tweedie", inp, power=2.0)


@loss(hessian=True)
def tweedie(call: Call, pred: ArrayLike, target: ArrayLike, *, power: float = 1.5,
            reduction: Literal["none", "sum", "mean"] = "mean",
            sample_weight: ArrayLike | None = None):
    r"""Tweedie deviance of a log-link prediction, power :math:`p`: compound Poisson-Gamma
    regression for :math:`1 < p < 2` (non-negative targets with exact zeros, e.g. insurance
    losses), Poisson at :math:`p = 1`, Gamma at :math:`p = 2`.

    With ``pred`` the raw margin :math:`x = \log\mu`, :math:`a = 1 - p`, :math:`b = 2 - p`,
    per element the *full* unit deviance of ``sklearn.metrics.mean_tweedie_deviance``
    (twice scikit-learn's ``HalfTweedieLoss``):

    .. math::

        d(y, \mu) = 2\left[\frac{\max(y, 0)^{b}{a b} - \frac{y\,\mu^{a}{a}
                     + \frac{\mu^{b}{b}\right],

    read at :math:`p = 1` and :math:`p = 2` as the Poisson and Gamma deviances (the limits).
    For :math:`y > 0` it is computed as :math:`2y^{b}[\mathrm{expm1}(-br)/b -
    \mathrm{expm1}(-ar)/a]` with :math:`r = \log y - x`, which avoids the cancellation of the
    textbook form near the perfect fit.

    Parameters
    ----------
    pred : array_like
        Raw margins :math:`x = \log\mu`.
    target : array_like
        Observations: any real for :math:`p \le 0`, :math:`y \ge 0` for :math:`1 \le p < 2`,
        :math:`y > 0` for :math:`p \ge 2`.
    power : float, default 1.5
        The variance power :math:`p`: :math:`p \le 0` or :math:`p \ge 1` (:math:`p = 0` is the
        squared error :math:`(y - \mu)^2` on the log link, :math:`p = 3` the inverse Gaussian).
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced deviance in ``pred``'s dtype.

    Raises
    ------
    ValueError
        ``0 < power < 1``, a target outside the power's domain, shapes that differ.

    Notes
    -----
    Gradient :math:`2(\mu^{b} - y\mu^{a})`; ``grad_hess`` gives it with the Hessian
    :math:`2(b\,\mu^{b} - a\,y\,\mu^{a})` (XGBoost's ``reg:tweedie`` and LightGBM's
    ``tweedie`` use half of both). The Hessian is positive for :math:`1 \le p \le 2`; it
    turns negative where :math:`y > (b/a)\,\mu` for :math:`p \le 0` and where
    :math:`y < \tfrac{p-2}{p-1}\,\mu` for :math:`p > 2` (the deviance is not convex in
    :math:`x` there): ``hessian_floor`` keeps it positive.

    See Also
    --------
    poisson, gamma

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> x, y = np.log([0.5, 2.0]), np.array([0.0, 3.0])
    >>> print(f"{fl.tweedie(x, y, power=1.5, reduction='sum'):.6f}")
    3.114156
    >>> g, h = fl.tweedie.grad_hess(x, y, power=1.5)
    >>> print(np.round(g, 6), np.round(h, 6))
    [ 1.414214 -1.414214] [0.707107 3.535534]
    """
    p = _tweedie_power(power)
    inp = Inputs(pred, target, reduction, sample_weight)
    _tweedie_targets(inp.y, p)
    return run(call, "tweedie", inp, power=p)


@loss(hessian=True)
def pinball(call: Call, pred: ArrayLike, target: ArrayLike, *, quantile: float = 0.5,
            reduction: Literal["none", "sum", "mean"] = "mean",
            sample_weight: ArrayLike | None = None):
    r"""Pinball (quantile) loss: the loss whose minimiser is the ``quantile`` of the target.

    Per element, with :math:`d = y - x` (``target - pred``) and :math:`q` the quantile:

    .. math:: \ell = \max(q\,d,\ (q - 1)\,d),

    as ``sklearn.metrics.mean_pinball_loss`` (``alpha=q``) and scikit-learn's ``PinballLoss``
    (no link: ``pred`` is the quantile itself). ``quantile=0.5`` is half the absolute error.

    Parameters
    ----------
    pred : array_like
        Predicted quantiles.
    target : array_like
        Observations, ``pred``'s shape.
    quantile : float, default 0.5
        :math:`q` in :math:`[0, 1]`.
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced loss in ``pred``'s dtype.

    Raises
    ------
    ValueError
        ``quantile`` outside :math:`[0, 1]`, shapes that differ, an unknown ``reduction``.

    Notes
    -----
    Subgradient w.r.t. ``pred``: :math:`-q` where :math:`y > x`, :math:`1 - q` where
    :math:`y < x`, and 0 at :math:`y = x` (as ``mae``; scikit-learn takes :math:`-q` there).
    ``grad_hess``: the second derivative is 0 (undefined at :math:`y = x`); the Hessian is the
    constant 1, the convention of scikit-learn's ``PinballLoss`` and LightGBM's ``quantile``.

    See Also
    --------
    mae

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> y, x = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    >>> print(fl.pinball(x, y, quantile=0.9, reduction="none"))
    [0.1 0.  0.9]
    >>> g, h = fl.pinball.grad_hess(x, y, quantile=0.9)
    >>> print(g, h)
    [ 0.1  0.  -0.9] [1. 1. 1.]
    """
    q = _checks.real_param(quantile, "quantile", lo=0.0, hi=1.0)
    return run(call, "pinball", Inputs(pred, target, reduction, sample_weight), quantile=q)


@loss(hessian=True)
def poisson_nll(call: Call, pred: ArrayLike, target: ArrayLike, *, log_input: bool = True,
                full: bool = False, eps: float = 1e-8,
                reduction: Literal["none", "sum", "mean"] = "mean",
                sample_weight: ArrayLike | None = None):
    r"""Poisson negative log-likelihood, as ``torch.nn.functional.poisson_nll_loss``.

    Per element, with :math:`x` = ``pred`` and :math:`y` = ``target``:

    .. math::

        \ell = e^{x} - y\,x \quad (\text{log\_input}), \qquad
        \ell = x - y \log(x + \varepsilon) \quad (\text{otherwise}),

    plus, with ``full``, Stirling's term :math:`y\log y - y + \tfrac12\log(2\pi y)` where
    :math:`y > 1` (0 elsewhere). This is the likelihood up to terms free of ``pred``; for a
    loss that is 0 at the perfect fit see ``poisson`` (the deviance).

    Parameters
    ----------
    pred : array_like
        Log-rates (``log_input=True``) or rates :math:`\ge 0`.
    target : array_like
        Observed counts, ``pred``'s shape.
    log_input : bool, default True
        Whether ``pred`` holds :math:`\log` of the rate.
    full : bool, default False
        Add Stirling's approximation of :math:`\log y!`.
    eps : float, default 1e-8
        Added to the rate inside the log when ``log_input=False``; :math:`\ge 0`.
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced loss in ``pred``'s dtype.

    Raises
    ------
    ValueError
        A negative rate with ``log_input=False``, ``eps < 0``, shapes that differ.

    Notes
    -----
    Gradient and ``grad_hess`` Hessian: :math:`(e^{x} - y,\ e^{x})` with ``log_input``, else
    :math:`(1 - y/(x + \varepsilon),\ y/(x + \varepsilon)^2)`. Written as torch writes it, so
    :math:`e^x` overflows as torch's does.

    See Also
    --------
    poisson

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> x, y = np.array([0.0, 1.0]), np.array([1.0, 3.0])
    >>> print(np.round(fl.poisson_nll(x, y, reduction="none"), 6))
    [ 1.       -0.281718]
    >>> g, h = fl.poisson_nll.grad_hess(x, y)
    >>> print(np.round(g, 6), np.round(h, 6))
    [ 0.       -0.281718] [1.       2.718282]
    """
    log_input = _checks.flag(log_input, "log_input")
    full = _checks.flag(full, "full")
    eps = _checks.real_param(eps, "eps", lo=0.0)
    inp = Inputs(pred, target, reduction, sample_weight)
    if not log_input:
        _checks.first_bad(inp.x < 0, inp.x,
                          "with log_input=False, pred must be >= 0 (rates; pass log-rates with "
                          "log_input=True)")
    return run(call, "poisson_nll", inp, log_input=log_input, full=full, eps=eps)


def _gaussian_var(var, shape: tuple, dtype):
    """``var`` as a broadcast factor pattern, under torch's shape rules: ``pred``'s shape, its
    shape without the last axis (one variance per row), or its shape with exactly one axis of
    size 1; a scalar serves every element."""
    v = var if isinstance(var, np.ndarray) else _checks.any_array(var, "var")
    if v.dtype.kind not in "buif":
        raise TypeError(f"var must be a real-valued array, got dtype {v.dtype}")
    if v.ndim and v.shape != shape:
        if v.shape == shape[:-1]:
            v = v[..., None]
        elif not (v.ndim == len(shape) and
                  sum(b for a, b in zip(shape, v.shape) if a != b) == 1):
            raise ValueError(
                f"var must have pred's shape {shape}, that shape without its last axis "
                f"{shape[:-1]}, or one axis of size 1 where pred's differs; got {v.shape}"
            )
    _checks.first_bad(np.asarray(v < 0).reshape(-1), np.asarray(v).reshape(-1),
                      "var must be >= 0 (variances)")
    return _checks.factor(v, shape, dtype, "var")


@loss(hessian=True)
def gaussian_nll(call: Call, pred: ArrayLike, target: ArrayLike, var: ArrayLike, *,
                 full: bool = False, eps: float = 1e-6,
                 reduction: Literal["none", "sum", "mean"] = "mean",
                 sample_weight: ArrayLike | None = None):
    r"""Gaussian negative log-likelihood, as ``torch.nn.functional.gaussian_nll_loss``.

    Per element, with :math:`v = \max(\mathrm{var}, \varepsilon)`:

    .. math:: \ell = \tfrac12\left(\log v + \frac{(x - y)^2}{v}\right)
              \ [+\ \tfrac12 \log 2\pi \text{ with full}].

    Parameters
    ----------
    pred : array_like
        Predicted means.
    target : array_like
        Observations, ``pred``'s shape.
    var : array_like or float
        Variances :math:`\ge 0`, under torch's shape rules: ``pred``'s shape, ``pred``'s shape
        without its last axis (one variance per row), the same number of axes with exactly one
        of size 1 where ``pred``'s differs, or a scalar.
    full : bool, default False
        Add the constant :math:`\tfrac12\log 2\pi`.
    eps : float, default 1e-6
        Lower clamp of the variance (torch's), :math:`\ge 0`.
    reduction : {"none", "sum", "mean"}, default "mean"
        ``"none"``: the per-element losses (times ``sample_weight``); ``"sum"``: their sum;
        ``"mean"``: the weighted mean ``sum(w * l) / sum(w)``.
    sample_weight : array_like, optional
        Non-negative weights ``w`` broadcastable to ``pred``'s shape (1 when omitted).

    Returns
    -------
    value : numpy scalar or ndarray
        The reduced loss in ``pred``'s dtype (``"mean"``: over every element, as torch).

    Raises
    ------
    ValueError
        A negative variance, a ``var`` shape outside the rules, shapes that differ.

    Notes
    -----
    Gradient w.r.t. ``pred`` only (``var`` is taken as given): :math:`(x - y)/v`;
    ``grad_hess`` Hessian :math:`1/v`. (The derivative w.r.t. ``var``, for a model that predicts
    its variance, is :math:`\tfrac12(1/v - (x - y)^2/v^2)` where :math:`\mathrm{var} \ge
    \varepsilon`.)

    See Also
    --------
    mse

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> x, y = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    >>> print(np.round(fl.gaussian_nll(x, y, np.array([1.0, 4.0]), reduction="none"), 6))
    [0.5      0.693147]
    >>> print(fl.gaussian_nll.grad_hess(x, y, 2.0))
    (array([-0.5,  0. ]), array([0.5, 0.5]))
    """
    full = _checks.flag(full, "full")
    eps = _checks.real_param(eps, "eps", lo=0.0)
    inp = Inputs(pred, target, reduction, sample_weight)
    values, length, inner = _gaussian_var(var, inp.shape, inp.dtype)
    scalar = 1.0
    if values is not None and length == 1:  # one variance: a kernel option, no factor array
        scalar, values = float(values[0]), None
    return run(call, "gaussian_nll", inp, factors=((values, length, inner), (None, 1, 1)),
               eps=eps, full=full, var=scalar)
