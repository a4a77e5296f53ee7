"""The public surface: thread setting, Loss objects, names and signatures."""


import numpy as np
import pytest

import fastloss as fl


def test_thread_setting(threads):
    threads(3)
    # a build without OpenMP runs every kernel on one thread, and says so
    assert fl.get_num_threads() == (3 if fl.show_config(print_out=False)["openmp"] else 1)
    threads(None)
    assert fl.get_num_threads() >= 1
    with pytest.raises(ValueError, match="n must be >= 0"):
        fl.set_num_threads(-2)
    with pytest.raises(TypeError):
        fl.set_num_threads(1.5)


def test_loss_objects_have_signatures_and_docs():
    import inspect

    for loss in (fl.cross_entropy, fl.huber, fl.dice, fl.kl_div, fl.hinge):
        sig = inspect.signature(loss)
        assert "reduction" in sig.parameters and "_want" not in sig.parameters
        assert loss.__doc__ and len(loss.__doc__) > 100


def test_public_names_and_signatures():
    import inspect

    for name in ("mse", "mae", "rmse", "msle", "smooth_l1", "log_cosh", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "squared_hinge", "focal", "gan_generator",
                 "gan_discriminator"):
        f = getattr(fl, name)
        assert name in fl.__all__ and isinstance(f, fl.Loss) and f.__name__ == name
        params = inspect.signature(f).parameters
        assert "reduction" in params and "sample_weight" in params and "_want" not in params
    assert inspect.signature(fl.focal).parameters["from_logits"].default is True
    assert inspect.signature(fl.smooth_l1).parameters["beta"].default == 1.0


LOSSES = [getattr(fl, n) for n in fl.__all__ if isinstance(getattr(fl, n), fl.Loss)]


@pytest.mark.parametrize("loss", LOSSES, ids=[f.__name__ for f in LOSSES])
def test_grad_and_value_and_grad_expose_the_loss_parameters_plus_out(loss):
    import inspect

    own = list(inspect.signature(loss).parameters.values())
    for method in (loss.grad, loss.value_and_grad):
        params = list(inspect.signature(method).parameters.values())
        assert params[:-1] == own
        assert params[-1].name == "out" and params[-1].kind is params[-1].KEYWORD_ONLY
        assert params[-1].default is None
    assert loss.grad.__qualname__ == f"{loss.__name__}.grad"


def test_a_wrong_keyword_names_the_public_function_with_a_hint():
    x = np.zeros((4, 3))
    y = np.zeros(4, dtype=int)
    with pytest.raises(TypeError, match=r"^cross_entropy\(\) got an unexpected keyword argument "
                                        r"'input' \(fastloss uses logits=/target="):
        fl.cross_entropy(input=x, target=y)
    with pytest.raises(TypeError, match=r"^cross_entropy\.grad\(\) got an unexpected keyword "
                                        r"argument 'dim' \(fastloss uses axis="):
        fl.cross_entropy.grad(x, y, dim=1)
    with pytest.raises(TypeError, match=r"^mse\.value_and_grad\(\) got an unexpected keyword "
                                        r"argument 'size_average' \(fastloss uses reduction="):
        fl.mse.value_and_grad(x, x, size_average=False)
    with pytest.raises(TypeError, match=r"^huber\(\) missing 1 required positional argument"):
        fl.huber(x)
    # no internal parameter leaks into the count of positional arguments
    with pytest.raises(TypeError, match=r"^huber\(\) takes 2 positional arguments but 3"):
        fl.huber(x, x, 1.0)


def test_value_errors_name_the_function_and_the_argument():
    x = np.zeros(4)
    with pytest.raises(ValueError, match=r"^huber\(\): delta must be > 0, got -1"):
        fl.huber(x, x, delta=-1)
    with pytest.raises(ValueError, match=r"^huber\.grad\(\)|^huber\(\): reduction must be one"):
        fl.huber.grad(x, x, reduction="avg")
    with pytest.raises(TypeError, match=r"^mse\(\): pred must be a float16, float32 or float64"):
        fl.mse(np.zeros(4, dtype=int), x)


def test_a_nested_call_during_argument_conversion_gets_its_own_buffer():
    """The out= buffer travels with its call: a fastloss call made while the outer call
    converts its arguments (here from an object's __array__) neither receives nor overwrites
    the outer call's buffer."""
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal(50), rng.standard_normal(50)
    other = rng.standard_normal(50)
    inner = {}

    class Target:
        def __array__(self, dtype=None, copy=None):
            inner["grad"] = fl.mse.grad(other, target)  # a call of its own, no out=
            return target

    buf = np.full(50, np.nan)
    value, grad = fl.mse.value_and_grad(pred, Target(), out=buf)
    assert grad is buf
    np.testing.assert_allclose(buf, 2 * (pred - target) / 50, rtol=1e-15)
    np.testing.assert_allclose(inner["grad"], 2 * (other - target) / 50, rtol=1e-15)
    assert not np.shares_memory(inner["grad"], buf)


@pytest.mark.parametrize("name", fl.__all__)
def test_public_callables_pickle_by_name(name):
    import pickle

    obj = getattr(fl, name)
    if name in ("reference", "Loss") or not callable(obj) or not hasattr(obj, "__reduce__"):
        pytest.skip("not a loss or function object")
    assert pickle.loads(pickle.dumps(obj)) is obj


def test_reference_is_reachable_from_the_package():
    import fastloss

    value, grad = fastloss.reference.mse(np.ones(2), np.zeros(2))
    assert value == 1.0 and list(grad) == [1.0, 1.0]


DOORS = [(fl.mse, {}), (fl.mae, {}), (fl.log_cosh, {}), (fl.huber, {"delta": 0.7}),
         (fl.smooth_l1, {"beta": 0.3}), (fl.hinge, {}), (fl.squared_hinge, {}),
         (fl.binary_cross_entropy_with_logits, {"label_smoothing": 0.1}),
         (fl.cross_entropy, {"label_smoothing": 0.2, "temperature": 1.5, "ignore_index": 2})]


def _door_inputs(loss, dtype, rng):
    if loss is fl.cross_entropy:
        return rng.standard_normal((40, 7)).astype(dtype), rng.integers(0, 7, 40)
    x = rng.standard_normal(300).astype(dtype)
    if loss in (fl.hinge, fl.squared_hinge):
        return x, rng.choice(np.array([-1.0, 1.0], dtype=dtype), 300)
    if loss is fl.binary_cross_entropy_with_logits:
        return x, rng.integers(0, 2, 300).astype(dtype)
    return x, rng.standard_normal(300).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("loss,kw", DOORS, ids=[f.__name__ for f, _ in DOORS])
def test_the_front_door_gives_the_general_paths_bits(loss, kw, reduction, dtype, rng):
    """The common small call runs through a Cython front door; a NumPy string for reduction
    (not a str) sends the same call down the general path, which must agree bit for bit."""
    x, y = _door_inputs(loss, dtype, rng)
    general = np.str_(reduction)
    for method in ("__call__", "grad", "value_and_grad"):
        fast = getattr(loss, method)(x, y, reduction=reduction, **kw)
        slow = getattr(loss, method)(x, y, reduction=general, **kw)
        for a, b in zip(np.atleast_1d(fast) if method != "value_and_grad" else fast,
                        np.atleast_1d(slow) if method != "value_and_grad" else slow):
            a, b = np.asarray(a), np.asarray(b)
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    buf = np.full_like(x, np.nan)
    v, g = loss.value_and_grad(x, y, reduction=reduction, out=buf, **kw)
    assert g is buf
    np.testing.assert_array_equal(buf, loss.grad(x, y, reduction=general, **kw))


@pytest.mark.parametrize("loss,kw", DOORS, ids=[f.__name__ for f, _ in DOORS])
def test_the_common_call_takes_the_front_door(loss, kw, rng, monkeypatch):
    x, y = _door_inputs(loss, np.float32, rng)

    def general_path(*args, **kwargs):
        raise AssertionError("the general path ran")

    for entry in (loss.grad, loss.value_and_grad):
        monkeypatch.setitem(entry.__globals__, "_impl", general_path)
    monkeypatch.setitem(type(loss).__call__.__globals__, "_impl", general_path)
    loss(x, y, **kw)
    loss.grad(x, y, **kw)
    loss.value_and_grad(x, y, out=np.empty_like(x), **kw)


def test_the_front_door_leaves_errors_to_the_general_path():
    x = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"^cross_entropy\(\): target has class index 9"):
        fl.cross_entropy(x, np.array([0, 9, 1]))
    with pytest.raises(ValueError, match=r"^hinge\(\): target must hold only"):
        fl.hinge(np.zeros(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"^huber\(\): delta must be > 0"):
        fl.huber(np.zeros(3), np.zeros(3), delta=0.0)
    with pytest.raises(ValueError, match=r"^mse\.grad\(\)|^mse\(\): out must have"):
        fl.mse.grad(np.zeros(3), np.zeros(3), out=np.zeros(4))


def test_large_results_reuse_the_memory_of_freed_ones():
    """A training loop that drops each step's gradient gets the same warm memory back (no
    page faults per call); results are unchanged."""
    from fastloss import _kernels

    rng = np.random.default_rng(0)
    x = rng.standard_normal(2_000_000).astype(np.float32)  # 8 MB: above the 4 MiB threshold
    y = rng.standard_normal(2_000_000).astype(np.float32)
    try:
        fl.set_buffer_cache(None)
        g1 = fl.mse.grad(x, y)
        address, expected = g1.ctypes.data, g1.copy()
        assert type(g1.base).__name__ == "_Block"
        del g1
        assert _kernels.cache_info()[1] >= 8_000_000
        g2 = fl.mse.grad(x, y)
        assert g2.ctypes.data == address
        np.testing.assert_array_equal(g2, expected)
        v = fl.mse.value_and_grad(x, y, reduction="none")[0]  # the per-sample values too
        assert type(v.base).__name__ == "_Block"
        fl.set_buffer_cache(0)
        assert _kernels.cache_info()[:2] == (0, 0)
        g3 = fl.mse.grad(x, y)
        assert g3.base is None
        np.testing.assert_array_equal(g3, expected)
    finally:
        fl.set_buffer_cache(None)


def test_the_buffer_cache_stays_within_its_limit():
    from fastloss import _kernels

    rng = np.random.default_rng(1)
    x = rng.standard_normal(1_500_000)  # 12 MB in float64
    try:
        fl.set_buffer_cache(30_000_000)
        grads = [fl.mse.grad(x, x + i) for i in range(5)]
        del grads
        count, held, limit = _kernels.cache_info()
        assert limit == 30_000_000 and held <= limit and count <= 8
        fl.set_buffer_cache(5_000_000)  # below one block: everything is released
        assert _kernels.cache_info()[:2] == (0, 0)
    finally:
        fl.set_buffer_cache(None)


def test_set_buffer_cache_validation():
    with pytest.raises(ValueError, match=r"^set_buffer_cache\(\): max_bytes must be >= 0"):
        fl.set_buffer_cache(-1)
    with pytest.raises(TypeError, match=r"^set_buffer_cache\(\): max_bytes must be an integer"):
        fl.set_buffer_cache(1.5)
