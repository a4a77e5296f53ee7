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

from . import _checks, _kernels
from ._elementwise import KERNEL, Inputs, run
from ._loss import Call, loss

__all__ = ["gamma", "gaussian_nll", "huber", "log_cosh", "mae", "mse", "msle", "pinball",
           "poisson", "poisson_nll", "rmse", "smooth_l1", "tweedie"]


def _plain(kernel: str):
    """The front door of a loss called as (pred, target, *, reduction, sample_weight)."""
    return (_kernels.door_plain, (KERNEL[kernel],))


@loss(fast=_plain("mse"), hessian=True)
def mse(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    r"""Mean squared error: the (weighted) mean of ``(pred - target)**2``.

    .. math::

        \ell_i = (x_i - y_i)^2, \qquad
        \frac{\partial \ell_i}{\partial x_i} = 2 (x_i - y_i),

    with :math:`x` = ``pred`` and :math:`y` = ``target``, reduced to
    :math:`L = \sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i`
    (``"sum"``), :math:`w` = ``sample_weight`` (1 by default).

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``mse.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``mse.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of ``pred``'s
        shape and dtype, already scaled by the reduction. Both take the same arguments plus
        ``out=``: an array of that shape and dtype that receives the gradient and is returned
        (``out=pred`` overwrites the predictions).

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``pred`` and ``target`` differ in shape; ``reduction`` is not one of the three;
        ``sample_weight`` does not broadcast to ``pred``'s shape. Messages start with ``mse():``
        and name the argument.

    See Also
    --------
    mae : The absolute error, less sensitive to outliers.
    huber : Quadratic near zero, linear beyond ``delta``.
    rmse : The square root of this loss.
    torch.nn.functional.mse_loss : Same value, gradient and default reduction; no
        ``sample_weight``.
    keras.losses.MeanSquaredError : ``(y_true, y_pred)`` order; the same value without weights.
        With ``sample_weight`` its default ``"sum_over_batch_size"`` divides by the number of
        samples, fastloss by the total weight (Keras ``"mean_with_sample_weight"``).
    sklearn.metrics.mean_squared_error : ``(y_true, y_pred)`` order; the same weighted mean.
    optax.losses.squared_error : The per-element losses (``reduction="none"``);
        ``optax.losses.l2_loss`` is half of it.

    Notes
    -----
    NaN in ``pred`` or ``target`` gives NaN for that element (loss and gradient) and so for
    ``"sum"`` and ``"mean"``; :math:`x = \pm\infty` gives a loss of ``+inf`` and a gradient of
    ``±inf``. Sums accumulate in double precision for every dtype.

    ``grad_hess``: gradient ``2 (pred - target)``, Hessian ``2`` (scikit-learn's
    HalfSquaredError and XGBoost's ``reg:squarederror`` use half of both).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.5, 2.0, -1.0])
    >>> target = np.array([0.0, 2.0, 1.0])
    >>> print(f"{fl.mse(pred, target):.6f}")  # (0.25 + 0 + 4) / 3
    1.416667
    >>> print(fl.mse(pred, target, reduction="none"))
    [0.25 0.   4.  ]
    >>> print(f"{fl.mse(pred, target, sample_weight=[1, 1, 2]):.6f}")  # 8.25 / 4
    2.062500
    >>> print(np.round(fl.mse.grad(pred, target), 6))  # 2 (pred - target) / 3
    [ 0.333333  0.       -1.333333]

    float32 stays float32, and ``out=`` receives the gradient:

    >>> p32, t32 = pred.astype(np.float32), target.astype(np.float32)
    >>> value, grad = fl.mse.value_and_grad(p32, t32, out=np.empty(3, np.float32))
    >>> print(value.dtype, grad.dtype, f"{value:.5f}")
    float32 float32 1.41667
    """
    return run(call, "mse", Inputs(pred, target, reduction, sample_weight))


@loss(fast=_plain("mae"), hessian=True)
def mae(call: Call, pred: ArrayLike, target: ArrayLike, *,
        reduction: Literal["none", "sum", "mean"] = "mean",
        sample_weight: ArrayLike | None = None):
    r"""Mean absolute error: the (weighted) mean of ``|pred - target|``.

    .. math::

        \ell_i = |x_i - y_i|, \qquad
        \frac{\partial \ell_i}{\partial x_i} = \operatorname{sign}(x_i - y_i),

    with :math:`x` = ``pred``, :math:`y` = ``target`` and the subgradient 0 where
    :math:`x_i = y_i` (torch's convention), reduced to :math:`\sum_i w_i \ell_i / \sum_i w_i`
    (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``), :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``mae.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``mae.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of ``pred``'s
        shape and dtype, already scaled by the reduction. Both take the same arguments plus
        ``out=``: an array of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``pred`` and ``target`` differ in shape; ``reduction`` is not one of the three;
        ``sample_weight`` does not broadcast to ``pred``'s shape.

    See Also
    --------
    mse : The squared error.
    smooth_l1 : Quadratic inside ``beta``; ``beta=0`` is this loss.
    torch.nn.functional.l1_loss : Same value, subgradient and default reduction; no
        ``sample_weight``.
    keras.losses.MeanAbsoluteError : ``(y_true, y_pred)`` order; the same value without weights
        (with weights, Keras's default reduction divides by the number of samples).
    sklearn.metrics.mean_absolute_error : ``(y_true, y_pred)`` order; the same weighted mean.

    Notes
    -----
    NaN in ``pred`` or ``target`` gives NaN for that element (loss and gradient);
    :math:`x = \pm\infty` gives a loss of ``+inf`` with gradient :math:`\pm 1`.

    ``grad_hess``: the second derivative is 0 (undefined where ``pred == target``); the
    Hessian is the constant 1, the convention of scikit-learn's AbsoluteError and of the L1
    objectives of XGBoost and LightGBM.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.5, 2.0, -1.0])
    >>> target = np.array([0.0, 2.0, 1.0])
    >>> print(f"{fl.mae(pred, target):.6f}")  # (0.5 + 0 + 2) / 3
    0.833333
    >>> print(np.round(fl.mae.grad(pred, target), 6))  # sign(d) / 3, 0 where d = 0
    [ 0.333333  0.       -0.333333]
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
    r"""Root mean squared error: the square root of the *reduced* squared error.

    .. math::

        L = \sqrt{m}, \qquad
        m = \frac{\sum_i w_i (x_i - y_i)^2}{\sum_i w_i} \ (\texttt{"mean"}) \quad\text{or}\quad
        m = \sum_i w_i (x_i - y_i)^2 \ (\texttt{"sum"}),

        \frac{\partial L}{\partial x_i} = \frac{\partial m / \partial x_i}{2 \sqrt{m}},

    with :math:`x` = ``pred``, :math:`y` = ``target`` and :math:`w` = ``sample_weight`` (1 by
    default). ``"sum"`` gives the weighted Euclidean norm of the residual.

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    reduction : {"mean", "sum"}, default "mean"
        Which reduced squared error :math:`m` the root is taken of. There is no ``"none"``: the
        square root is taken after the reduction, so no per-sample values add up to the rmse
        (per-element roots would be ``|pred - target|``, which is :func:`mae`).
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar
        A NumPy scalar of ``pred``'s dtype.
    grad : ndarray
        Returned by ``rmse.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``rmse.value_and_grad(...)`` (one kernel call): the gradient of the rmse with respect to
        ``pred``, of ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an
        array of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``reduction="none"`` (see above) or another unknown reduction; ``pred`` and ``target``
        differ in shape; ``sample_weight`` does not broadcast to ``pred``'s shape.

    See Also
    --------
    mse : The squared error before the root.
    mae : The mean of the per-element roots ``|pred - target|``.
    torch.sqrt : ``torch.sqrt(torch.nn.functional.mse_loss(pred, target))`` is the same value
        (torch has no rmse loss); its gradient at a zero error is NaN, here 0.
    keras.metrics.RootMeanSquaredError : A metric (accumulated over batches), not a loss.
    sklearn.metrics.root_mean_squared_error : ``(y_true, y_pred)`` order; the same value for 1-d
        inputs; for 2-d inputs it averages the per-column roots (``multioutput``), fastloss takes
        the root of the overall mean.

    Notes
    -----
    Where :math:`m = 0` exactly the square root is not differentiable; the gradient is then
    defined as 0 (finite, the minimum-norm subgradient). NaN anywhere gives a NaN value and a NaN
    gradient.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.5, 2.0, -1.0])
    >>> target = np.array([0.0, 2.0, 1.0])
    >>> print(f"{fl.rmse(pred, target):.6f}")  # sqrt(4.25 / 3)
    1.190238
    >>> print(f"{fl.rmse(pred, target, reduction='sum'):.6f}")  # sqrt(4.25)
    2.061553
    >>> print(np.round(fl.rmse.grad(pred, target), 6))
    [ 0.140028  0.       -0.560112]
    >>> print(fl.rmse.grad(target, target))  # zero error: gradient 0, not NaN
    [0. 0. 0.]
    """
    if isinstance(reduction, str) and reduction == "none":
        raise ValueError(_RMSE_NONE)
    return run(call, "rmse", Inputs(pred, target, reduction, sample_weight, ("sum", "mean")))


@loss(hessian=True)
def msle(call: Call, pred: ArrayLike, target: ArrayLike, *,
         reduction: Literal["none", "sum", "mean"] = "mean",
         sample_weight: ArrayLike | None = None):
    r"""Mean squared logarithmic error: the (weighted) mean of ``(log1p(pred) - log1p(target))**2``.

    .. math::

        \ell_i = \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)^2, \qquad
        \frac{\partial \ell_i}{\partial x_i}
            = \frac{2 \bigl(\log(1 + x_i) - \log(1 + y_i)\bigr)}{1 + x_i},

    with :math:`x` = ``pred`` and :math:`y` = ``target``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Predictions, all ``> -1``; any shape: float16 (computed in float32), float32 or float64,
        any strides or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued, all ``> -1``, of ``pred``'s shape (no broadcasting).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``msle.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``msle.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of ``pred``'s
        shape and dtype. Both take the same arguments plus ``out=``: an array of that shape and
        dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        A value ``<= -1`` in ``pred`` or ``target`` (the message gives the first one and its
        index); ``pred`` and ``target`` differ in shape; an unknown ``reduction``;
        ``sample_weight`` does not broadcast to ``pred``'s shape.

    See Also
    --------
    mse : The squared error without the logarithms.
    keras.losses.MeanSquaredLogarithmicError : ``(y_true, y_pred)`` order; Keras replaces values
        below ``1e-7`` by ``1e-7`` (so negative inputs give a different loss) where fastloss
        raises for values ``<= -1`` and otherwise uses the values as given.
    sklearn.metrics.mean_squared_log_error : ``(y_true, y_pred)`` order; the same weighted mean;
        it also raises for values ``<= -1``.

    Notes
    -----
    The logarithms are ``log1p``, accurate for small inputs. When ``pred`` is close to ``target``
    the difference of the logarithms cancels, so the per-element value has a larger relative
    error than the other losses (see the accuracy page); sums over many elements do not suffer.

    ``grad_hess``: Hessian ``2 (1 - a) / (1 + pred)**2`` with ``a = log1p(pred) -
    log1p(target)``: negative where ``a > 1`` (the loss is not convex there); pass
    ``hessian_floor`` to boost with it.

    Domain: ``pred`` and ``target`` must be ``> -1``, checked by the kernel in its one pass (a
    NaN passes and gives NaN), as scikit-learn refuses them; Keras clips instead.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.0, 1.0, 3.0])
    >>> target = np.array([0.0, 3.0, 1.0])
    >>> print(f"{fl.msle(pred, target):.6f}")  # 2 log(2)**2 / 3
    0.320302
    >>> print(np.round(fl.msle.grad(pred, target), 6))
    [ 0.       -0.231049  0.115525]
    >>> fl.msle(np.array([-1.0]), np.array([0.0]))
    Traceback (most recent call last):
        ...
    ValueError: msle(): pred must be > -1 ...
    """
    return run(call, "msle", Inputs(pred, target, reduction, sample_weight),
               domain=("pred must be > -1 (log1p(pred) must be finite)",
                       "target must be > -1 (log1p(target) must be finite)"))


@loss(fast=(_kernels.door_width, (KERNEL["huber"],)), hessian=True)
def huber(call: Call, pred: ArrayLike, target: ArrayLike, *, delta: float = 1.0,
          reduction: Literal["none", "sum", "mean"] = "mean",
          sample_weight: ArrayLike | None = None):
    r"""Huber loss: quadratic for residuals below ``delta``, linear beyond.

    .. math::

        \ell_i = \begin{cases}
            \tfrac12 d_i^2 & |d_i| < \delta \\
            \delta \left(|d_i| - \tfrac12 \delta\right) & \text{otherwise}
        \end{cases}, \qquad
        \frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(d_i, -\delta, \delta),

    with :math:`d = x - y`, :math:`x` = ``pred``, :math:`y` = ``target``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    delta : float, default 1.0
        Where the loss turns from quadratic to linear; finite and ``> 0``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``huber.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``huber.value_and_grad(...)`` (one kernel pass): the gradient of the returned value with
        respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of ``pred``'s
        shape and dtype, already scaled by the reduction. Both take the same arguments plus
        ``out=``: an array of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``delta`` is not a real number; ``reduction`` is not a string.
    ValueError
        ``delta <= 0`` or not finite; ``pred`` and ``target`` differ in shape; an unknown
        ``reduction``; ``sample_weight`` does not broadcast to ``pred``'s shape.

    See Also
    --------
    smooth_l1 : The same shape divided by its width: ``smooth_l1(beta=b) == huber(delta=b) / b``.
    log_cosh : A smooth loss with the same quadratic-then-linear behaviour.
    torch.nn.functional.huber_loss : Same value, gradient and defaults (``delta=1.0``,
        ``reduction="mean"``); no ``sample_weight``.
    keras.losses.Huber : ``(y_true, y_pred)`` order, same ``delta`` default; averages over the
        last axis, then over the batch (with weights, its default reduction divides by the number
        of samples).
    optax.losses.huber_loss : The per-element losses (``reduction="none"``).
    sklearn.linear_model.HuberRegressor : A regressor, not a loss function; its ``epsilon`` is
        relative to a fitted scale.

    Notes
    -----
    The gradient is continuous (the loss is once differentiable). NaN in an input gives NaN for
    that element; :math:`x = \pm\infty` gives a loss of ``+inf`` with gradient :math:`\pm\delta`.

    ``grad_hess``: Hessian 1 where ``|d| <= delta`` and 0 on the linear part (its true value;
    at ``|d| == delta`` the quadratic side), as scikit-learn's HuberLoss. A leaf whose samples
    all lie on the linear part then has a zero Hessian: pass ``hessian_floor`` (e.g. 1e-3)
    when boosting.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.5, -3.0])
    >>> target = np.array([0.0, 0.0])
    >>> print(fl.huber(pred, target, reduction="none"))  # 0.5 * 0.5**2, 1 * (3 - 0.5)
    [0.125 2.5  ]
    >>> print(f"{fl.huber(pred, target):.6f}")
    1.312500
    >>> value, grad = fl.huber.value_and_grad(pred, target, delta=2.0, reduction="sum")
    >>> print(f"{value:.6f}", grad)  # 0.125 + 2 * (3 - 1); grad clip(d, -2, 2)
    4.125000 [ 0.5 -2. ]
    """
    delta = _checks.real_param(delta, "delta", lo=0.0, lo_open=True)
    return run(call, "huber", Inputs(pred, target, reduction, sample_weight), delta=delta)


@loss(fast=(_kernels.door_width, (KERNEL["smooth_l1"],)), hessian=True)
def smooth_l1(call: Call, pred: ArrayLike, target: ArrayLike, *, beta: float = 1.0,
              reduction: Literal["none", "sum", "mean"] = "mean",
              sample_weight: ArrayLike | None = None):
    r"""Smooth L1 loss: quadratic for residuals below ``beta``, then the absolute error.

    .. math::

        \ell_i = \begin{cases}
            \tfrac12 d_i^2 / \beta & |d_i| < \beta \\
            |d_i| - \tfrac12 \beta & \text{otherwise}
        \end{cases}, \qquad
        \frac{\partial \ell_i}{\partial x_i} = \operatorname{clip}(d_i / \beta, -1, 1),

    with :math:`d = x - y`, :math:`x` = ``pred``, :math:`y` = ``target``. ``beta=0`` is the L1
    loss :math:`|d_i|` with gradient :math:`\operatorname{sign}(d_i)` (0 at 0), as in torch.
    Reduced to :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i`
    (``"sum"``), :math:`w` = ``sample_weight``.

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    beta : float, default 1.0
        Width of the quadratic zone; finite and ``>= 0``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``smooth_l1.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``smooth_l1.value_and_grad(...)`` (one kernel pass): the gradient of the returned value
        with respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``beta`` is not a real number; ``reduction`` is not a string.
    ValueError
        ``beta < 0`` or not finite; ``pred`` and ``target`` differ in shape; an unknown
        ``reduction``; ``sample_weight`` does not broadcast to ``pred``'s shape.

    See Also
    --------
    huber : ``huber(delta=b) == b * smooth_l1(beta=b)``.
    mae : ``smooth_l1(beta=0)``.
    torch.nn.functional.smooth_l1_loss : Same value, gradient and defaults (``beta=1.0``,
        ``reduction="mean"``), ``beta=0`` included; no ``sample_weight``.
    ssd_multibox : Uses this loss for the box offsets.

    Notes
    -----
    NaN in an input gives NaN for that element; :math:`x = \pm\infty` gives a loss of ``+inf``
    with gradient :math:`\pm 1`.

    ``grad_hess``: Hessian ``1 / beta`` where ``|d| <= beta``, 0 beyond (as huber); for
    ``beta=0`` the constant 1 of mae.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.2, -3.0])
    >>> target = np.array([0.0, 0.0])
    >>> print(np.round(fl.smooth_l1(pred, target, beta=0.5, reduction="none"), 6))
    [0.04 2.75]
    >>> print(np.round(fl.smooth_l1.grad(pred, target, beta=0.5), 6))  # clip(d / beta) / 2
    [ 0.2 -0.5]
    """
    beta = _checks.real_param(beta, "beta", lo=0.0)
    return run(call, "smooth_l1", Inputs(pred, target, reduction, sample_weight), beta=beta)


@loss(fast=_plain("log_cosh"), hessian=True)
def log_cosh(call: Call, pred: ArrayLike, target: ArrayLike, *,
             reduction: Literal["none", "sum", "mean"] = "mean",
             sample_weight: ArrayLike | None = None):
    r"""Log-cosh loss: the (weighted) mean of ``log(cosh(pred - target))``.

    .. math::

        \ell_i = \log\cosh(d_i), \qquad
        \frac{\partial \ell_i}{\partial x_i} = \tanh(d_i),

    with :math:`d = x - y`, :math:`x` = ``pred``, :math:`y` = ``target``, reduced to
    :math:`\sum_i w_i \ell_i / \sum_i w_i` (``"mean"``) or :math:`\sum_i w_i \ell_i` (``"sum"``),
    :math:`w` = ``sample_weight``. Close to :math:`d^2 / 2` near 0 and to
    :math:`|d| - \log 2` far from it, and twice differentiable.

    Parameters
    ----------
    pred : array_like of float
        Predictions, any shape: float16 (computed in float32), float32 or float64, any strides
        or byte order. Results have this dtype.
    target : array_like
        Targets, real-valued (bool, integer or float), of ``pred``'s shape (no broadcasting).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the weighted mean :math:`\sum_i w_i \ell_i / \sum_i w_i`; ``"sum"``:
        :math:`\sum_i w_i \ell_i`; ``"none"``: the weighted per-element losses :math:`w_i \ell_i`.
    sample_weight : array_like, optional
        Per-element weights :math:`w`, broadcastable to ``pred``'s shape; 1 when omitted.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``pred``'s dtype. ``"none"``: an array of
        ``pred``'s shape.
    grad : ndarray
        Returned by ``log_cosh.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``log_cosh.value_and_grad(...)`` (one kernel pass): the gradient of the returned value
        with respect to ``pred`` (for ``"none"``: of the sum of the per-element losses), of
        ``pred``'s shape and dtype. Both take the same arguments plus ``out=``: an array of that
        shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``pred`` is not a float16, float32 or float64 array; ``target`` or ``sample_weight`` is
        not real-valued; ``reduction`` is not a string.
    ValueError
        ``pred`` and ``target`` differ in shape; an unknown ``reduction``; ``sample_weight`` does
        not broadcast to ``pred``'s shape.

    See Also
    --------
    huber : Quadratic then linear, with a kink in the second derivative.
    keras.losses.LogCosh : ``(y_true, y_pred)`` order; averages over the last axis, then over the
        batch (with weights, its default reduction divides by the number of samples).
    optax.losses.log_cosh : The per-element losses (``reduction="none"``).

    Notes
    -----
    Computed as :math:`|d| + \operatorname{log1p}(e^{-2|d|}) - \log 2` for :math:`|d| \ge 1`
    (no overflow of :math:`\cosh` for any :math:`d`) and as
    :math:`\operatorname{log1p}(2 \sinh^2(d/2))` below (full relative accuracy near 0, where the
    first form cancels). NaN gives NaN; :math:`x = \pm\infty` gives ``+inf`` with gradient
    :math:`\pm 1`.

    ``grad_hess``: Hessian ``sech(d)**2 = 4u / (1 + u)**2``, ``u = exp(-2|d|)`` (positive,
    underflowing to 0 for large ``|d|`` as the true value does).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> pred = np.array([0.0, 1.0, -2.0])
    >>> target = np.zeros(3)
    >>> print(np.round(fl.log_cosh(pred, target, reduction="none"), 6))
    [0.       0.433781 1.325003]
    >>> print(np.round(fl.log_cosh.grad(pred, target, reduction="sum"), 6))  # tanh(d)
    [ 0.        0.761594 -0.964028]
    >>> print(f"{fl.log_cosh(np.array([1e4]), np.zeros(1)):.6f}")  # no overflow: 1e4 - log 2
    9999.306853
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


def _tweedie_rules(p: float) -> tuple:
    """The target rule the tweedie kernel checks for power ``p`` (csrc/regression_impl.h)."""
    return (None, f"target must be {'>' if p >= 2.0 else '>='} 0 for power={p:g}")


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

    Domain: ``target`` must be ``>= 0``, checked by the kernel in its one pass (a NaN passes and
    gives NaN), as ``sklearn.metrics.mean_poisson_deviance`` refuses it.

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
    return run(call, "tweedie", Inputs(pred, target, reduction, sample_weight), power=1.0,
               domain=(None, "target must be >= 0 (counts)"))


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

    Domain: ``target`` must be ``> 0``, checked by the kernel in its one pass (a NaN passes and
    gives NaN), as ``sklearn.metrics.mean_gamma_deviance`` refuses it.

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
    return run(call, "tweedie", Inputs(pred, target, reduction, sample_weight), power=2.0,
               domain=(None, "target must be > 0"))


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

    Domain: the target rule above (``y >= 0`` for :math:`1 \le p < 2`, ``y > 0`` for
    :math:`p \ge 2`), checked by the kernel in its one pass (a NaN passes and gives NaN), as
    ``sklearn.metrics.mean_tweedie_deviance`` refuses such targets.

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
    return run(call, "tweedie", Inputs(pred, target, reduction, sample_weight), power=p,
               domain=_tweedie_rules(p))


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

    Domain: with ``log_input=False`` the rates ``pred`` must be ``>= 0``, checked by the kernel
    in its one pass (a NaN passes and gives NaN); torch computes NaN for a negative rate
    without a word, and a negative rate is most often a log-rate passed without
    ``log_input=True``.

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
    return run(call, "poisson_nll", Inputs(pred, target, reduction, sample_weight),
               log_input=log_input, full=full, eps=eps,
               domain=(("with log_input=False, pred must be >= 0 (rates; pass log-rates with "
                        "log_input=True)"), None))


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
    vals = np.asarray(v).reshape(-1)
    if vals.size and np.fmin.reduce(vals) < 0:  # no mask of var's size unless one is negative
        _checks.first_bad(vals < 0, vals, "var must be >= 0 (variances)")
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
