"""fastloss.boosting with the real libraries: the fastloss objective trains the same model as
the library's built-in objective (raw scores within 1e-5) for the logistic loss, the 10-class
softmax and the squared error, in XGBoost's and LightGBM's native and scikit-learn APIs; the
metrics report the loss's weighted mean; the margins' layouts; intercept; argument errors.
Small data and few rounds: each test takes well under a second. Skipped without the
``boosting`` extra (xgboost, lightgbm)."""

import doctest

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference
from fastloss.boosting import (
    intercept,
    lightgbm_metric,
    lightgbm_objective,
    xgboost_metric,
    xgboost_objective,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

N, D, K, ROUNDS = 1200, 8, 10, 6
TOL = 1e-5


def _data(kind, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    w = rng.uniform(0.5, 2.0, N)
    if kind == "binary":
        y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=N) > 0.3).astype(float)
    elif kind == "multiclass":
        y = rng.integers(0, K, N)
        X[:, 0] += 0.4 * y
        X[:, 1] -= 0.2 * y
    else:
        y = 2 * X[:, 0] - X[:, 1] ** 2 + rng.normal(size=N) + 3.0
    return X, y.astype(float), w


# ------------------------------------------------------------------------------- XGBoost

XGB_PARAMS = {"tree_method": "hist", "max_depth": 4, "eta": 0.3, "nthread": 1,
              "base_score": 0.0}
# (data, fastloss loss, XGBoost's built-in objective, extra params)
XGB_PAIRS = [
    ("binary", fl.binary_cross_entropy_with_logits, "binary:logitraw", {}),
    ("multiclass", fl.cross_entropy, "multi:softprob", {"num_class": K}),
    ("regression", fl.mse, "reg:squarederror", {}),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("kind,loss,builtin,extra", XGB_PAIRS, ids=[p[0] for p in XGB_PAIRS])
def test_xgboost_native_reproduces_the_builtin_objective(kind, loss, builtin, extra, weighted):
    xgb = pytest.importorskip("xgboost")
    X, y, w = _data(kind)
    dtrain = xgb.DMatrix(X, label=y, weight=w if weighted else None)
    params = {**XGB_PARAMS, **extra}
    ref = xgb.train({**params, "objective": builtin}, dtrain, ROUNDS)
    ours = xgb.train(params, dtrain, ROUNDS, obj=xgboost_objective(loss))
    m_ref = ref.predict(dtrain, output_margin=True)
    m_ours = ours.predict(dtrain, output_margin=True)
    assert m_ref.shape == m_ours.shape
    np.testing.assert_allclose(m_ours, m_ref, rtol=0, atol=TOL)
    assert np.ptp(m_ref) > 1.0  # the model learned something


SK_XGB = [
    ("binary", fl.binary_cross_entropy_with_logits, "binary:logistic", "XGBClassifier", 0.5),
    ("multiclass", fl.cross_entropy, "multi:softprob", "XGBClassifier", 0.5),
    ("regression", fl.mse, "reg:squarederror", "XGBRegressor", 0.0),
]


@pytest.mark.parametrize("kind,loss,builtin,estimator,base_score", SK_XGB,
                         ids=[p[0] for p in SK_XGB])
def test_xgboost_sklearn_reproduces_the_builtin_objective(kind, loss, builtin, estimator,
                                                           base_score):
    xgb = pytest.importorskip("xgboost")
    X, y, w = _data(kind)
    Est = getattr(xgb, estimator)
    kw = dict(n_estimators=ROUNDS, max_depth=4, learning_rate=0.3, tree_method="hist",
              n_jobs=1, base_score=base_score)
    y_fit = y.astype(int) if estimator == "XGBClassifier" else y
    ref = Est(objective=builtin, **kw).fit(X, y_fit, sample_weight=w)
    ours = Est(objective=xgboost_objective(loss), **kw).fit(X, y_fit, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X, output_margin=True),
                               ref.predict(X, output_margin=True), rtol=0, atol=TOL)
    if estimator == "XGBClassifier":  # the classifier's probabilities follow
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=TOL)


def test_xgboost_metric_reports_the_weighted_mean_loss():
    xgb = pytest.importorskip("xgboost")
    X, y, w = _data("binary")
    dtrain = xgb.DMatrix(X, label=y, weight=w)
    result = {}
    booster = xgb.train({**XGB_PARAMS}, dtrain, ROUNDS,
                        obj=xgboost_objective(fl.focal, gamma=2.0, alpha=0.25),
                        custom_metric=xgboost_metric(fl.focal, gamma=2.0, alpha=0.25),
                        evals=[(dtrain, "train")], evals_result=result, verbose_eval=False)
    curve = result["train"]["focal"]
    assert len(curve) == ROUNDS and curve[-1] < curve[0]  # focal loss decreases
    margins = booster.predict(dtrain, output_margin=True)
    expected, _ = reference.focal(margins, y, gamma=2.0, alpha=0.25, sample_weight=w)
    assert curve[-1] == pytest.approx(expected, rel=1e-5)  # XGBoost prints ~6 digits
    # the scikit-learn form: eval_metric=callable, reported under the metric's name
    clf = xgb.XGBClassifier(n_estimators=3, max_depth=3, n_jobs=1, base_score=0.5,
                            objective=xgboost_objective(fl.binary_cross_entropy_with_logits),
                            eval_metric=xgboost_metric(fl.binary_cross_entropy_with_logits,
                                                       name="logloss_fl"))
    clf.fit(X, y, eval_set=[(X, y)], verbose=False)
    fl_curve = clf.evals_result()["validation_0"]["logloss_fl"]
    margins = clf.predict(X, output_margin=True)
    assert fl_curve[-1] == pytest.approx(
        reference.binary_cross_entropy_with_logits(margins, y)[0], rel=1e-5)


def test_xgboost_multi_output_regression():
    """Multi-output models: labels and margins (n, T), elementwise losses as they are."""
    xgb = pytest.importorskip("xgboost")
    X, y, w = _data("regression")
    Y = np.stack([y, -y + X[:, 2]], axis=1)
    dtrain = xgb.DMatrix(X, label=Y, weight=w)  # one weight per row, for both outputs
    params = {**XGB_PARAMS, "multi_strategy": "multi_output_tree"}
    ref = xgb.train({**params, "objective": "reg:squarederror"}, dtrain, ROUNDS)
    ours = xgb.train(params, dtrain, ROUNDS, obj=xgboost_objective(fl.mse))
    m = ours.predict(dtrain, output_margin=True)
    assert m.shape == (N, 2)
    np.testing.assert_allclose(m, ref.predict(dtrain, output_margin=True), atol=TOL)


# ------------------------------------------------------------------------------ LightGBM

LGB_PARAMS = {"num_leaves": 15, "learning_rate": 0.3, "verbose": -1, "num_threads": 1,
              "deterministic": True, "force_row_wise": True, "min_data_in_leaf": 5}
LGB_PAIRS = [
    ("binary", fl.binary_cross_entropy_with_logits, "binary", {}),
    ("multiclass", fl.cross_entropy, "multiclass", {"num_class": K}),
    ("regression", fl.mse, "regression", {}),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("kind,loss,builtin,extra", LGB_PAIRS, ids=[p[0] for p in LGB_PAIRS])
def test_lightgbm_native_reproduces_the_builtin_objective(kind, loss, builtin, extra,
                                                          weighted):
    lgb = pytest.importorskip("lightgbm")
    X, y, w = _data(kind)
    params = {**LGB_PARAMS, **extra}

    def dataset():
        return lgb.Dataset(X, label=y, weight=w if weighted else None, free_raw_data=False)

    ref = lgb.train({**params, "objective": builtin, "boost_from_average": False}, dataset(),
                    ROUNDS)
    ours = lgb.train({**params, "objective": lightgbm_objective(loss)}, dataset(), ROUNDS)
    s_ref, s_ours = ref.predict(X, raw_score=True), ours.predict(X, raw_score=True)
    assert s_ref.shape == s_ours.shape
    np.testing.assert_allclose(s_ours, s_ref, rtol=0, atol=TOL)
    assert np.ptp(s_ref) > 1.0


SK_LGB = [
    ("binary", fl.binary_cross_entropy_with_logits, "binary", "LGBMClassifier"),
    ("multiclass", fl.cross_entropy, "multiclass", "LGBMClassifier"),
    ("regression", fl.mse, "regression", "LGBMRegressor"),
]


@pytest.mark.parametrize("kind,loss,builtin,estimator", SK_LGB, ids=[p[0] for p in SK_LGB])
def test_lightgbm_sklearn_reproduces_the_builtin_objective(kind, loss, builtin, estimator):
    lgb = pytest.importorskip("lightgbm")
    X, y, w = _data(kind)
    Est = getattr(lgb, estimator)
    kw = dict(n_estimators=ROUNDS, num_leaves=15, learning_rate=0.3, verbose=-1, n_jobs=1,
              deterministic=True, force_row_wise=True, min_child_samples=5)
    ref = Est(objective=builtin, boost_from_average=False, **kw).fit(X, y, sample_weight=w)
    ours = Est(objective=lightgbm_objective(loss), **kw).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X, raw_score=True), ref.predict(X, raw_score=True),
                               rtol=0, atol=TOL)


def test_lightgbm_metric_reports_the_weighted_mean_loss():
    lgb = pytest.importorskip("lightgbm")
    X, y, w = _data("multiclass")
    train = lgb.Dataset(X, label=y, weight=w, free_raw_data=False)
    result = {}
    booster = lgb.train({**LGB_PARAMS, "objective": lightgbm_objective(fl.cross_entropy),
                         "num_class": K, "metric": "None"}, train, ROUNDS,
                        valid_sets=[train], valid_names=["train"],
                        feval=lightgbm_metric(fl.cross_entropy, name="ce"),
                        callbacks=[lgb.record_evaluation(result)])
    curve = result["train"]["ce"]
    assert len(curve) == ROUNDS and curve[-1] < curve[0]
    scores = booster.predict(X, raw_score=True)
    expected, _ = reference.cross_entropy(scores, y.astype(int), sample_weight=w)
    assert curve[-1] == pytest.approx(expected, rel=1e-9)
    # the built-in multi_logloss is the unweighted-by-class mean with the same weights
    builtin = {}
    lgb.train({**LGB_PARAMS, "objective": "multiclass", "num_class": K,
               "boost_from_average": False, "metric": "multi_logloss"}, train, ROUNDS,
              valid_sets=[train], valid_names=["train"],
              callbacks=[lgb.record_evaluation(builtin)])
    np.testing.assert_allclose(curve, builtin["train"]["multi_logloss"], rtol=1e-6)
    # scikit-learn form
    reg = lgb.LGBMRegressor(n_estimators=3, verbose=-1, n_jobs=1,
                            objective=lightgbm_objective(fl.huber, delta=1.5))
    Xv, yv = X[:200] + 0.1, y[:200]
    import inspect

    # LightGBM 4.7 takes eval_X/eval_y and deprecates eval_set
    ev = ({"eval_X": (Xv,), "eval_y": (yv,)} if "eval_X" in inspect.signature(reg.fit).parameters
          else {"eval_set": [(Xv, yv)]})
    reg.fit(X, y, eval_metric=lightgbm_metric(fl.huber, delta=1.5), **ev)
    (curve,) = [r["huber"] for r in reg.evals_result_.values()]
    assert curve[-1] == pytest.approx(float(fl.huber(reg.predict(Xv), yv, delta=1.5)),
                                      rel=1e-9)


# ----------------------------------------------------------------------- layouts and options


def test_margin_layouts_flattened_and_column_major(rng):
    """The same gradient whatever layout the library hands over: (n, K) C or F order, and the
    flattened layouts of XGBoost < 2 (row-major) and LightGBM < 4 (class-major)."""
    z = rng.normal(size=(50, 4))
    y = rng.integers(0, 4, 50).astype(np.float32)
    xo, lo = xgboost_objective(fl.cross_entropy), lightgbm_objective(fl.cross_entropy)
    g_ref, h_ref = fl.cross_entropy.grad_hess(z, y.astype(int))
    g, h = xo(y, z)
    np.testing.assert_allclose(g, g_ref, rtol=1e-14)
    np.testing.assert_allclose(h, 2 * h_ref, rtol=1e-14)
    g, h = xo(y, z.reshape(-1))
    np.testing.assert_allclose(g, g_ref.reshape(-1), rtol=1e-14)
    np.testing.assert_allclose(h, 2 * h_ref.reshape(-1), rtol=1e-14)
    zf = np.asfortranarray(z)
    g, h = lo(y, zf, None)
    assert g.shape == (50, 4) and g.flags.f_contiguous  # LightGBM ravels in F order: no copy
    np.testing.assert_allclose(g, g_ref, rtol=1e-14)
    np.testing.assert_allclose(h, 4 / 3 * h_ref, rtol=1e-14)
    g, h = lo(y, z.reshape(-1, order="F"), None)
    np.testing.assert_allclose(g, g_ref.reshape(-1, order="F"), rtol=1e-14)
    # probabilities as (n, K) labels
    t = rng.dirichlet(np.ones(4), 50)
    g, h = xo(t, z)
    g2, h2 = fl.cross_entropy.grad_hess(z, t)
    np.testing.assert_allclose(g, g2, rtol=1e-14)
    np.testing.assert_allclose(h, 2 * h2, rtol=1e-14)


def test_options_reach_the_loss_and_errors_are_clear(rng):
    x = rng.normal(size=20)
    y = rng.integers(0, 2, 20).astype(float)
    obj = xgboost_objective(fl.focal, gamma=1.5, alpha=0.3, hessian_floor=1e-3)
    g, h = obj(y, x)
    g2, h2 = fl.focal.grad_hess(x, y, gamma=1.5, alpha=0.3, hessian_floor=1e-3)
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_array_equal(h, h2)
    assert np.all(h >= 1e-3)
    assert repr(obj) == "XGBoostObjective(fastloss.focal, gamma=1.5, alpha=0.3, hessian_floor=0.001)"
    with pytest.raises(TypeError, match="has no grad_hess"):
        xgboost_objective(fl.hinge)
    with pytest.raises(TypeError, match="fastloss loss"):
        lightgbm_objective(lambda y, p: (p, p))
    with pytest.raises(TypeError, match="delta= is not an option of focal"):
        xgboost_objective(fl.focal, delta=1.0)
    with pytest.raises(TypeError, match="sample_weight= is not an option"):
        lightgbm_objective(fl.mse, sample_weight=np.ones(3))
    with pytest.raises(TypeError, match="axis= is not an option"):
        xgboost_objective(fl.cross_entropy, axis=0)
    with pytest.raises(ValueError, match="whole numbers"):
        xgboost_objective(fl.cross_entropy)(np.array([0.5, 1.0]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_samples, n_classes"):
        xgboost_objective(fl.cross_entropy)(np.array([0.0, 1.0]), np.zeros(3))
    # the factors are attributes a user may change
    obj = lightgbm_objective(fl.mse)
    assert (obj.grad_factor, obj.hess_factor) == (0.5, 0.5)
    obj.grad_factor = obj.hess_factor = 1.0
    g, h = obj(y, x, None)
    np.testing.assert_array_equal(h, np.full(20, 2.0))


def test_buffers_are_reused_per_thread_and_the_objective_pickles(rng):
    import copy
    import pickle
    import threading

    x = rng.normal(size=30)
    y = rng.integers(0, 2, 30).astype(float)
    obj = lightgbm_objective(fl.binary_cross_entropy_with_logits, hessian_floor=1e-4)
    g1, h1 = obj(y, x, None)
    g1_copy = g1.copy()
    g2, h2 = obj(y, x + 1.0, None)
    assert g2 is g1 and h2 is h1  # the same buffers, overwritten
    assert not np.array_equal(g1, g1_copy)
    in_thread = []
    t = threading.Thread(target=lambda: in_thread.append(obj(y, x, None)))
    t.start()
    t.join()
    assert in_thread[0][0] is not g1  # another thread, other buffers
    np.testing.assert_array_equal(in_thread[0][0], g1_copy)
    obj.reuse_buffers = False
    g3, _ = obj(y, x, None)
    assert g3 is not g1
    for clone in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj)):
        assert clone.loss is fl.binary_cross_entropy_with_logits
        assert clone.options == {"hessian_floor": 1e-4}
        np.testing.assert_array_equal(clone(y, x, None)[1], obj(y, x, None)[1])


def test_sklearn_clone_and_grid_search_threads():
    """scikit-learn clones the estimator (and so the objective) for each fit."""
    xgb = pytest.importorskip("xgboost")
    sklearn = pytest.importorskip("sklearn")
    from sklearn.model_selection import cross_val_score

    X, y, _ = _data("binary")
    est = xgb.XGBClassifier(n_estimators=3, max_depth=3, n_jobs=1,
                            objective=xgboost_objective(fl.focal, gamma=1.0))
    from joblib import parallel_backend

    with parallel_backend("threading"):  # the fits run concurrently, each on its clone
        scores = cross_val_score(est, X, y, cv=3, n_jobs=2, scoring="roc_auc")
    assert np.all(scores > 0.75)
    assert sklearn.base.clone(est).get_params()["objective"].options == {"gamma": 1.0}


def test_intercept_closed_forms(rng):
    y = rng.integers(0, 2, 300).astype(float)
    w = rng.uniform(0.5, 2, 300)
    p = np.sum(w * y) / np.sum(w)
    assert intercept(fl.binary_cross_entropy_with_logits, y, sample_weight=w) == \
        pytest.approx(np.log(p / (1 - p)), abs=1e-10)
    yr = rng.normal(3, 1, 300)
    assert intercept(fl.mse, yr, sample_weight=w) == pytest.approx(np.average(yr, weights=w),
                                                                   abs=1e-10)
    yc = rng.poisson(2.5, 300).astype(float)
    assert intercept(fl.poisson, yc) == pytest.approx(np.log(yc.mean()), abs=1e-10)
    assert intercept(fl.pinball, yr, quantile=0.5) == pytest.approx(np.median(yr), abs=1e-2)
    yk = rng.integers(0, 4, 400)
    c = intercept(fl.cross_entropy, yk, n_classes=4)
    freq = np.bincount(yk, minlength=4) / 400
    np.testing.assert_allclose(c, np.log(freq) - np.log(freq).mean(), atol=1e-8)


def test_docstring_examples():
    """The Examples sections of the boosting module and of the losses added with it."""
    import fastloss.boosting

    assert doctest.testmod(fastloss.boosting).failed == 0
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    for name in ("poisson", "gamma", "tweedie", "pinball", "poisson_nll", "gaussian_nll"):
        runner.run(parser.get_doctest(getattr(fl, name).__doc__, {}, name, None, 0))
    assert runner.summarize(verbose=False).failed == 0
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "boosting.rst"
    if page.exists():  # the guide's examples (fastloss only; the library snippets are code)
        test = parser.get_doctest(page.read_text(encoding="utf-8"), {}, page.name, str(page), 0)
        assert test.examples
        assert runner.run(test).failed == 0


def test_focal_example_learns(tmp_path):
    """examples/boosting_focal.py on a small problem: every model ranks the rare positives far
    above chance, the focal objectives lower the focal loss, the plot is written."""
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    pytest.importorskip("sklearn")
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "boosting_focal.py"
    if not path.exists():
        pytest.skip("examples/ is not next to the tests (an installed wheel's test run)")
    example = runpy.run_path(str(path), run_name="boosting_focal")
    r = example["main"](n_samples=6000, rounds=25, threads=1, outdir=str(tmp_path),
                        verbose=False)
    assert set(r["table"]) == {"XGBoost, logistic", "XGBoost, focal", "LightGBM, logistic",
                               "LightGBM, focal"}
    assert 0.01 < r["positive_rate"] < 0.08
    for name, row in r["table"].items():
        assert row["average precision"] > 5 * r["positive_rate"], (name, row)
        assert row["ROC AUC"] > 0.8, (name, row)
        assert len(r["per_round"][name]) == len(r["steps"])
        if "focal" in name:
            assert row["focal loss, last round"] < 0.7 * row["focal loss, round 1"], (name, row)
    if r["plot"] is not None:  # matplotlib installed
        assert Path(r["plot"]).stat().st_size > 10_000

