"""Regression losses: a real-valued prediction against a real-valued target, elementwise.

mse, mae, rmse, msle, huber, smooth_l1 and log_cosh. Kernels: ``csrc/regression.c``; reference:
:mod:`fastloss.reference`; tests: ``tests/test_regression.py``.
"""

from __future__ import annotations

from typing import Literal

from numpy.typing import ArrayLike

from . import _checks, _kernels
from ._elementwise import KERNEL, Inputs, run
from ._loss import Call, loss

__all__ = ["huber", "log_cosh", "mae", "mse", "msle", "rmse", "smooth_l1"]


def _plain(kernel: str):
    """The front door of a loss called as (pred, target, *, reduction, sample_weight)."""
    return (_kernels.door_plain, (KERNEL[kernel],))


@loss(fast=_plain("mse"))
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


@loss(fast=_plain("mae"))
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


@loss
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
    inp = Inputs(pred, target, reduction, sample_weight)
    _checks.first_bad(inp.x <= -1, inp.x, "pred must be > -1 (log1p(pred) must be finite)")
    _checks.first_bad(inp.y <= -1, inp.y, "target must be > -1 (log1p(target) must be finite)")
    return run(call, "msle", inp)


@loss(fast=(_kernels.door_width, (KERNEL["huber"],)))
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


@loss(fast=(_kernels.door_width, (KERNEL["smooth_l1"],)))
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


@loss(fast=_plain("log_cosh"))
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
