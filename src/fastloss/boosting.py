"""Custom objectives and evaluation metrics for XGBoost and LightGBM, from fastloss losses.

A gradient-boosting library takes a custom objective as a function that returns, every round,
the gradient and the Hessian of each sample's loss with respect to its raw margin. Any fastloss
loss with ``grad_hess`` gives both from one kernel pass; the adapters here wrap one, with its
options, in the calling conventions of each library::

    import fastloss as fl
    from fastloss.boosting import lightgbm_objective, xgboost_metric, xgboost_objective

    booster = xgb.train(params, dtrain, 100, obj=xgboost_objective(fl.focal, gamma=2.0),
                        custom_metric=xgboost_metric(fl.focal, gamma=2.0), evals=[...])
    model = xgb.XGBClassifier(objective=xgboost_objective(fl.cross_entropy))
    model = lgb.LGBMClassifier(objective=lightgbm_objective(fl.focal, gamma=2.0, alpha=0.25))
    booster = lgb.train({"objective": lightgbm_objective(fl.cross_entropy), "num_class": 10},
                        train_set)

Each adapter works in both of its library's APIs (native and scikit-learn), reads the labels
and sample weights from them, handles the margins' layouts (``(n,)``, ``(n, K)`` for multi-class
and multi-output, and the flattened layouts of XGBoost < 2 and LightGBM < 4), and follows the
library's own conventions, so that ``fl.binary_cross_entropy_with_logits``,
``fl.cross_entropy`` and ``fl.mse`` train exactly the models of XGBoost's ``binary:logitraw``,
``multi:softprob`` and ``reg:squarederror`` and LightGBM's ``binary``, ``multiclass`` and
``regression``:

========================  ====================================  ===================================
loss                      XGBoost (gradient, Hessian) factors   LightGBM (gradient, Hessian) factors
========================  ====================================  ===================================
``cross_entropy``         (1, 2): ``multi:softprob``'s          (1, K/(K-1)): ``multiclass``'s
                          ``2 p (1 - p)``                       ``K/(K-1) p (1 - p)``
``mse``                   (1/2, 1/2): ``reg:squarederror``      (1/2, 1/2): ``regression``
``poisson``, ``gamma``,   (1/2, 1/2): the half deviances of     (1/2, 1/2): the same
``tweedie``               ``count:poisson``, ``reg:gamma``,
                          ``reg:tweedie``
any other loss            (1, 1)                                (1, 1)
========================  ====================================  ===================================

``loss.grad_hess`` itself returns the true derivatives (the Hessian's exact diagonal); the
factors are the adapters' (attributes ``grad_factor`` and ``hess_factor``, which may be
changed). Built on the public losses only: anything a loss accepts, its adapters accept as
options (``hessian_floor`` included).

Two library behaviours to know (see the guide, ``docs/boosting.rst``): with a custom objective
neither library fits the initial score its built-in objectives fit (XGBoost's ``base_score``,
LightGBM's ``boost_from_average``; :func:`intercept` computes it for any loss), and both hand
raw margins to predictions and metrics (the metrics here expect margins: use them with these
objectives).
"""

from __future__ import annotations

import inspect
import math
import threading

import numpy as np

from ._loss import Loss

__all__ = ["intercept", "lightgbm_metric", "lightgbm_objective", "xgboost_metric",
           "xgboost_objective"]

# The libraries' own scale of a loss's gradient and Hessian, as (gradient factor, Hessian
# factor); "K/(K-1)" is resolved per call from the number of classes.
_HALF = (0.5, 0.5)
_FACTORS = {
    "xgboost": {"cross_entropy": (1.0, 2.0), "mse": _HALF, "poisson": _HALF, "gamma": _HALF,
                "tweedie": _HALF},
    "lightgbm": {"cross_entropy": (1.0, "K/(K-1)"), "mse": _HALF, "poisson": _HALF,
                 "gamma": _HALF, "tweedie": _HALF},
}
# Arguments the adapters fill in themselves.
_OWN = {"reduction", "sample_weight", "out"}


def _class_loss(loss: Loss) -> bool:
    """Losses with a class axis: their margins are (n, K) and their labels class indices."""
    return loss.__name__ == "cross_entropy"


class _Adapter:
    """A loss with fixed options, called on what a boosting library hands over."""

    library = ""
    _hess = False  # objectives need grad_hess, metrics only the value

    def __init__(self, loss, options: dict):
        if not isinstance(loss, Loss):
            raise TypeError(
                f"loss must be a fastloss loss (e.g. fastloss.focal), got {type(loss).__name__}")
        if self._hess and not hasattr(loss, "grad_hess"):
            raise TypeError(
                f"{loss.__name__} has no grad_hess (no second derivative for boosting); losses "
                "with one: " + ", ".join(_losses_with_hessians()))
        params = inspect.signature(loss.grad_hess if self._hess else loss).parameters
        positional = [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
        own = _OWN | ({"axis"} if _class_loss(loss) else set())  # margins are (n, K)
        for name in options:
            if name in own or name in positional[:2] or name not in params:
                given = ", ".join(sorted(p for p in params if p not in own
                                         and p not in positional[:2]))
                raise TypeError(
                    f"{type(self).__name__}: {name}= is not an option of {loss.__name__} (the "
                    f"library supplies margins, labels and sample weights); options: {given}")
        self.loss = loss
        self.options = dict(options)
        if self._hess:
            self.grad_factor, self.hess_factor = _FACTORS[self.library].get(loss.__name__,
                                                                            (1.0, 1.0))
            self.reuse_buffers = True
            self._local = threading.local()

    def __getstate__(self):  # pickled and deep-copied without the thread's buffers
        state = dict(self.__dict__)
        state.pop("_local", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._hess:
            self._local = threading.local()

    def _out(self, margins):
        """The (gradient, Hessian) buffers of this thread's previous call when they fit: the
        libraries copy both at once, and fresh arrays of this size cost page faults every
        round (more than the kernel for a large softmax)."""
        if not self.reuse_buffers:
            return None
        key = (margins.shape, margins.dtype.str)
        out = getattr(self._local, "out", None)
        if out is None or out[0] != key:
            out = (key, (np.empty(margins.shape, margins.dtype),
                         np.empty(margins.shape, margins.dtype)))
            self._local.out = out
        return out[1]

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}(fastloss.{self.loss.__name__}{opts})"

    # ------------------------------------------------------------------ margins and labels

    def _prepare(self, preds, labels, weight):
        """``(margins, target, sample_weight, kw, restore)``: what the loss takes, and a
        function that gives an output of the margins' shape back in the library's layout."""
        preds = np.asarray(preds)
        labels = np.asarray(labels)
        if weight is not None:
            weight = np.asarray(weight)
            if weight.size == 0:
                weight = None
        kw = dict(self.options)
        restore = _same
        if _class_loss(self.loss):
            n = labels.shape[0] if labels.ndim else 1
            if preds.ndim == 1 and n and preds.size % n == 0 and preds.size != n:
                preds, restore = self._unflatten(preds, n)
            if preds.ndim != 2:
                raise ValueError(
                    f"{self.loss.__name__} needs (n_samples, n_classes) margins; got shape "
                    f"{preds.shape} for {n} labels (set num_class in the library's parameters)")
            if labels.ndim == 1:
                target = labels.astype(np.int64)
                if not np.array_equal(target, labels):
                    raise ValueError("class labels must be whole numbers 0, 1, ..., K - 1")
            else:
                target = labels.reshape(preds.shape)  # class probabilities
            if preds.flags.f_contiguous and not preds.flags.c_contiguous:
                # LightGBM's (n, K) margins are column-major: read them as (K, n) rows with the
                # classes on axis 0, in place, and hand back column-major results
                kw["axis"] = 0
                preds = preds.T
                target = target.T if target.ndim == 2 else target
                restore = _compose(restore, np.transpose)
        else:
            target = labels.reshape(preds.shape) if labels.shape != preds.shape \
                and labels.size == preds.size else labels
            if weight is not None and preds.ndim == 2 and weight.shape == preds.shape[:1]:
                weight = weight[:, None]  # one weight per row of a multi-output model
        return preds, target, weight, kw, restore

    def _unflatten(self, preds, n):
        """Flattened multi-class margins (the older libraries): XGBoost < 2 row-major (n, K),
        LightGBM < 4 class-major."""
        k = preds.size // n
        if self.library == "lightgbm":
            return preds.reshape((n, k), order="F"), lambda a: a.reshape(-1, order="F")
        return preds.reshape(n, k), lambda a: a.reshape(-1)

    def _grad_hess(self, preds, labels, weight):
        margins, target, w, kw, restore = self._prepare(preds, labels, weight)
        if margins.dtype.kind == "f" and margins.dtype.itemsize in (4, 8):
            kw["out"] = self._out(margins)
        grad, hess = self.loss.grad_hess(margins, target, sample_weight=w, **kw)
        gf, hf = self.grad_factor, self.hess_factor
        if hf == "K/(K-1)":
            k = margins.shape[kw.get("axis", -1)]
            hf = k / (k - 1) if k > 1 else 1.0
        if gf != 1.0:
            grad *= gf
        if hf != 1.0:
            hess *= hf
        return restore(grad), restore(hess)

    def _value(self, preds, labels, weight):
        margins, target, w, kw, _ = self._prepare(preds, labels, weight)
        return float(self.loss(margins, target, reduction="mean", sample_weight=w, **kw))


def _same(a):
    return a


def _compose(first, then):
    return lambda a: first(then(a))


def _losses_with_hessians():
    import fastloss

    return sorted(n for n in fastloss.__all__
                  if isinstance(getattr(fastloss, n), Loss) and hasattr(getattr(fastloss, n),
                                                                        "grad_hess"))


def _is_dmatrix(x) -> bool:
    return type(x).__name__ in ("DMatrix", "QuantileDMatrix", "DaskDMatrix") and \
        hasattr(x, "get_label")


def _is_lgb_dataset(x) -> bool:
    return type(x).__name__ == "Dataset" and hasattr(x, "get_label") and \
        hasattr(x, "get_weight")


# ------------------------------------------------------------------------------------ XGBoost


class XGBoostObjective(_Adapter):
    """A fastloss loss as an XGBoost custom objective (see :func:`xgboost_objective`).

    Called as ``obj(predt, dtrain)`` by ``xgboost.train(..., obj=obj)`` and as
    ``obj(y_true, y_pred, sample_weight=...)`` by the scikit-learn estimators; returns
    ``(grad, hess)`` in the margins' layout.

    Attributes ``grad_factor`` and ``hess_factor`` (the library's convention, see the module)
    and ``reuse_buffers`` (default True: the arrays returned are overwritten by the next call
    from the same thread, which XGBoost copies them before making; set False for fresh
    arrays) may be changed."""

    library = "xgboost"
    _hess = True

    def __call__(self, a, b, *, sample_weight=None):
        if _is_dmatrix(b):  # native: (predt, dtrain)
            return self._grad_hess(a, b.get_label(), b.get_weight())
        return self._grad_hess(b, a, sample_weight)  # scikit-learn: (y_true, y_pred)


class XGBoostMetric(_Adapter):
    """A fastloss loss as an XGBoost evaluation metric (see :func:`xgboost_metric`)."""

    library = "xgboost"

    def __init__(self, loss, name, options):
        super().__init__(loss, options)
        self.__name__ = name or loss.__name__

    def __call__(self, a, b, *, sample_weight=None):
        if _is_dmatrix(b):  # native custom_metric: (predt, dtrain) -> (name, value)
            return self.__name__, self._value(a, b.get_label(), b.get_weight())
        return self._value(b, a, sample_weight)  # scikit-learn eval_metric: a float


def xgboost_objective(loss: Loss, **options) -> XGBoostObjective:
    """An XGBoost custom objective from a fastloss loss with ``grad_hess``.

    Parameters
    ----------
    loss : fastloss.Loss
        A loss with ``grad_hess``: e.g. ``fl.focal``, ``fl.cross_entropy`` (class indices,
        or class probabilities as ``(n, K)`` labels), ``fl.huber``, ``fl.tweedie``.
    **options
        The loss's options (``gamma=2.0``, ``power=1.3``, ``hessian_floor=1e-6``, ...), fixed
        for every round. Margins, labels and sample weights come from XGBoost.

    Returns
    -------
    XGBoostObjective
        ``obj(predt, dtrain)`` for ``xgboost.train(params, dtrain, obj=obj)``, and
        ``obj(y_true, y_pred, sample_weight=None)`` for
        ``XGBClassifier(objective=obj)`` / ``XGBRegressor(objective=obj)``: the gradient and
        Hessian of each sample's loss (times its weight) with respect to its margin, in the
        margins' shape (``(n,)``, or ``(n, K)`` for ``num_class=K`` and multi-output models).

    Raises
    ------
    TypeError
        ``loss`` is not a fastloss loss with ``grad_hess``, or an option it does not take.

    Notes
    -----
    The gradient and Hessian are scaled as XGBoost's built-in objective for the same loss
    (module docstring): ``cross_entropy``'s Hessian by 2 (``multi:softprob``), ``mse`` and the
    deviances by 1/2, so the same data and parameters train the same trees. With a custom
    objective XGBoost does not estimate ``base_score``: it starts every margin at 0 for the
    scikit-learn classifiers and at 0.5 otherwise; pass ``base_score=intercept(loss, y)`` for
    the built-in objectives' start. Predictions of ``xgboost.train`` models are raw margins
    (``predict(..., output_margin=True)``); ``XGBClassifier.predict_proba`` applies the
    sigmoid or softmax, right for the logistic, focal and cross-entropy objectives.

    See Also
    --------
    xgboost_metric, lightgbm_objective, intercept

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> from fastloss.boosting import xgboost_objective
    >>> obj = xgboost_objective(fl.focal, gamma=2.0, alpha=0.25)
    >>> obj
    XGBoostObjective(fastloss.focal, gamma=2.0, alpha=0.25)
    >>> g, h = obj(np.array([1.0, 0.0]), np.array([0.5, -2.0]))  # scikit-learn form
    >>> print(np.round(g, 6), np.round(h, 6))
    [-0.034484  0.003653] [0.060113 0.009508]
    """
    return XGBoostObjective(loss, options)


def xgboost_metric(loss: Loss, *, name: str | None = None, **options) -> XGBoostMetric:
    """An XGBoost evaluation metric from a fastloss loss: its weighted mean on raw margins.

    Parameters
    ----------
    loss : fastloss.Loss
        Any fastloss loss taking ``(margins, labels)`` (with or without ``grad_hess``).
    name : str, optional
        The name XGBoost reports (default: the loss's name).
    **options
        The loss's options.

    Returns
    -------
    XGBoostMetric
        ``metric(predt, dmatrix) -> (name, value)`` for ``xgboost.train(...,
        custom_metric=metric)`` and ``metric(y_true, y_score, sample_weight=None) -> value``
        for the scikit-learn estimators' ``eval_metric=metric``. Lower is better.

    Notes
    -----
    XGBoost passes raw margins to metrics when the objective is a custom one (and
    probabilities for most built-in objectives): use this metric with a fastloss objective,
    or with ``binary:logitraw``.

    See Also
    --------
    xgboost_objective, lightgbm_metric

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> from fastloss.boosting import xgboost_metric
    >>> m = xgboost_metric(fl.binary_cross_entropy_with_logits, name="logloss")
    >>> print(round(m(np.array([1.0, 0.0]), np.array([2.0, -1.0])), 6))
    0.220095
    """
    return XGBoostMetric(loss, name, options)


# ----------------------------------------------------------------------------------- LightGBM


class LightGBMObjective(_Adapter):
    """A fastloss loss as a LightGBM custom objective (see :func:`lightgbm_objective`).

    Called as ``obj(preds, train_data)`` by ``lightgbm.train`` (``params["objective"] = obj``)
    and as ``obj(y_true, y_pred, weight)`` by the scikit-learn estimators; returns
    ``(grad, hess)`` in the margins' layout. Attributes as :class:`XGBoostObjective`'s."""

    library = "lightgbm"
    _hess = True

    def __call__(self, a, b, weight=None):
        if _is_lgb_dataset(b):  # native: (preds, train_data)
            return self._grad_hess(a, b.get_label(), b.get_weight())
        return self._grad_hess(b, a, weight)  # scikit-learn: (y_true, y_pred, weight)


class LightGBMMetric(_Adapter):
    """A fastloss loss as a LightGBM evaluation metric (see :func:`lightgbm_metric`)."""

    library = "lightgbm"

    def __init__(self, loss, name, options):
        super().__init__(loss, options)
        self.__name__ = name or loss.__name__

    def __call__(self, a, b, weight=None):
        if _is_lgb_dataset(b):  # native feval: (preds, eval_data)
            return self.__name__, self._value(a, b.get_label(), b.get_weight()), False
        return self.__name__, self._value(b, a, weight), False


def lightgbm_objective(loss: Loss, **options) -> LightGBMObjective:
    """A LightGBM custom objective from a fastloss loss with ``grad_hess``.

    Parameters
    ----------
    loss : fastloss.Loss
        A loss with ``grad_hess`` (see :func:`xgboost_objective`).
    **options
        The loss's options, fixed for every round.

    Returns
    -------
    LightGBMObjective
        ``obj(preds, train_data)`` for ``lightgbm.train({"objective": obj, ...}, train_set)``
        and ``obj(y_true, y_pred, weight)`` for ``LGBMClassifier(objective=obj)`` /
        ``LGBMRegressor(objective=obj)``: the gradient and Hessian of each sample's loss (times
        its weight) w.r.t. its raw score, ``(n,)`` or ``(n, K)`` like the scores (column-major
        scores are read and answered in place).

    Raises
    ------
    TypeError
        ``loss`` is not a fastloss loss with ``grad_hess``, or an option it does not take.

    Notes
    -----
    Scaled as LightGBM's built-in objective for the same loss: ``cross_entropy``'s Hessian by
    ``K/(K-1)`` (``multiclass``), ``mse`` and the deviances by 1/2. With a custom objective
    LightGBM starts from raw scores of 0 (no ``boost_from_average``): pass
    ``init_score=intercept(...)`` to the ``Dataset`` or ``fit`` for the built-in start. Its
    predictions are raw scores (``predict_proba`` warns and returns them).

    See Also
    --------
    lightgbm_metric, xgboost_objective, intercept

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> from fastloss.boosting import lightgbm_objective
    >>> obj = lightgbm_objective(fl.cross_entropy)
    >>> g, h = obj(np.array([0.0, 2.0]), np.zeros((2, 3)), None)  # scikit-learn form
    >>> print(np.round(h, 6))  # (K / (K - 1)) p (1 - p) with p = 1/3
    [[0.333333 0.333333 0.333333]
     [0.333333 0.333333 0.333333]]
    """
    return LightGBMObjective(loss, options)


def lightgbm_metric(loss: Loss, *, name: str | None = None, **options) -> LightGBMMetric:
    """A LightGBM evaluation metric from a fastloss loss: its weighted mean on raw scores.

    Parameters
    ----------
    loss : fastloss.Loss
        Any fastloss loss taking ``(scores, labels)``.
    name : str, optional
        The name LightGBM reports (default: the loss's name).
    **options
        The loss's options.

    Returns
    -------
    LightGBMMetric
        ``metric(preds, eval_data) -> (name, value, False)`` for ``lightgbm.train(...,
        feval=metric)`` and ``metric(y_true, y_pred, weight) -> (name, value, False)`` for the
        scikit-learn estimators' ``eval_metric=metric`` (lower is better).

    Notes
    -----
    LightGBM passes raw scores to metrics when the objective is a custom one (and transformed
    predictions for built-in objectives): use this metric with a fastloss objective.

    See Also
    --------
    lightgbm_objective, xgboost_metric

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> from fastloss.boosting import lightgbm_metric
    >>> m = lightgbm_metric(fl.mse, name="l2")
    >>> m(np.array([1.0, 2.0]), np.array([1.5, 2.0]), None)
    ('l2', 0.125, False)
    """
    return LightGBMMetric(loss, name, options)


# ------------------------------------------------------------------------------------ intercept


def intercept(loss: Loss, y, *, sample_weight=None, max_iter: int = 50, **options):
    """The constant margin that minimises the weighted mean loss: the initial score the
    libraries' built-in objectives start from, for any loss with ``grad_hess``.

    Found by Newton's method on the summed gradient and Hessian (with halving steps while the
    loss does not decrease): exact for ``mse`` (the weighted mean), the log-odds of the
    positive rate for the logistic loss, the log of the mean for the Poisson deviance, the log
    class frequencies (up to a constant) for ``cross_entropy``.

    Parameters
    ----------
    loss : fastloss.Loss
        A loss with ``grad_hess``.
    y : array_like
        The labels (class indices for ``cross_entropy``).
    sample_weight : array_like, optional
        One weight per sample.
    max_iter : int, default 50
        Newton iterations at most.
    **options
        The loss's options (``hessian_floor`` included: it steers the Newton steps only).

    Returns
    -------
    float or numpy.ndarray
        The margin: a float, or one per class ``(K,)`` for ``cross_entropy`` (``K`` from
        ``options["n_classes"]`` or the largest label + 1).

    See Also
    --------
    xgboost_objective, lightgbm_objective

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss as fl
    >>> from fastloss.boosting import intercept
    >>> y = np.array([0.0, 0.0, 0.0, 1.0])
    >>> print(round(intercept(fl.binary_cross_entropy_with_logits, y), 6))  # log(1/3)
    -1.098612
    >>> print(round(intercept(fl.poisson, np.array([1.0, 2.0, 6.0])), 6))  # log(3)
    1.098612
    """
    if not isinstance(loss, Loss) or not hasattr(loss, "grad_hess"):
        raise TypeError("loss must be a fastloss loss with grad_hess")
    y = np.asarray(y)
    n = y.shape[0] if y.ndim else 1
    if _class_loss(loss):
        k = int(options.pop("n_classes", int(np.max(y)) + 1 if y.size else 1))
        y = y.astype(np.int64)
        c = np.zeros(k)
    else:
        c = np.zeros(())
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    shape = (n,) + c.shape
    value_options = {k: v for k, v in options.items() if k != "hessian_floor"}

    def total(c):
        return float(loss(np.broadcast_to(c, shape).copy(), y, reduction="sum", sample_weight=w,
                          **value_options))

    f = total(c)
    for _ in range(max_iter):
        g, h = loss.grad_hess(np.broadcast_to(c, shape).copy(), y, sample_weight=w, **options)
        g, h = g.sum(axis=0), h.sum(axis=0)
        step = np.where(h > 0, g / np.where(h > 0, h, 1.0), np.sign(g))
        t = 1.0
        # near the minimum the loss changes by less than its own rounding, which differs
        # between builds (vector or scalar exp): a step that raises it only that much is taken,
        # or the search would stop short of the minimum by ~1e-9
        slack = 1e-13 * (abs(f) + 1.0)
        while t > 1e-8:
            c_new = c - t * step
            f_new = total(c_new)
            if f_new <= f + slack:
                break
            t /= 2
        else:
            break
        done = np.all(np.abs(c_new - c) <= 1e-12 * (1 + np.abs(c)))
        c, f = c_new, f_new
        if done or not math.isfinite(f):
            break
    if _class_loss(loss):
        return c - c.mean()  # softmax is invariant to a common shift: centre it
    return float(c)
