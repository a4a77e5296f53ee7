"""Argument conversion and validation (fastloss._checks): every array argument in any storage
gives the same numbers as a native one, and every bad argument is a ValueError/TypeError that
names the function and the argument. Each regression test is named after the case it pins."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastloss as fl
from fastloss._registry import CASES

IDS = [c.id for c in CASES]


def _bits(x):
    if isinstance(x, tuple):
        return tuple(_bits(p) for p in x)
    a = np.asarray(x)
    return a.dtype.str, a.shape, a.tobytes()


def _big_endian(a):
    return a.astype(a.dtype.newbyteorder(">" if sys.byteorder == "little" else "<"))


def _unaligned(a):
    raw = np.empty(a.nbytes + 1, dtype=np.uint8)
    b = raw[1:].view(a.dtype).reshape(a.shape)
    b[...] = a
    return b


def _read_only(a):
    b = a.copy()
    b.flags.writeable = False
    return b


STORAGE = {"byte-swapped": _big_endian, "unaligned": _unaligned, "read-only": _read_only,
           "memoryview": lambda a: memoryview(np.ascontiguousarray(a))}


@pytest.mark.parametrize("storage", list(STORAGE))
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_any_storage_gives_the_native_bits(case, storage, rng):
    """Big-endian data from files or the network, unaligned views into byte buffers, read-only
    arrays and memoryviews: every array argument (and keyword array) is converted to the
    kernel's native layout at one point, so the results are bit-identical to the native call.
    Before the fix, `fl.mse(np.array([1.0, 2.0], '>f8'), np.zeros(2))` returned 0.0."""
    for dtype in (np.float32, np.float64):
        args, kw = case.make(rng, dtype, case.shape, case.sample_weight)
        expected = case.loss.value_and_grad(*args, **kw)
        convert = STORAGE[storage]
        if storage == "memoryview":  # a memoryview has no dtype promotion issues only for 1-byte+
            args2 = [convert(a) if isinstance(a, np.ndarray) and a.dtype.kind in "biuf"
                     and a.ndim else a for a in args]
        else:
            args2 = [convert(a) if isinstance(a, np.ndarray) else a for a in args]
        kw2 = {k: (convert(v) if isinstance(v, np.ndarray) and storage != "memoryview" else v)
               for k, v in kw.items()}
        got = case.loss.value_and_grad(*args2, **kw2)
        assert _bits(got) == _bits(expected), f"{case.id} {np.dtype(dtype)}"


def test_big_endian_mse_reads_values():
    assert fl.mse(np.array([1.0, 2.0], ">f8"), np.zeros(2)) == 2.5
    v = fl.mse(np.array([1.0, 2.0], ">f4"), np.zeros(2, ">f4"))
    assert v == np.float32(2.5) and v.dtype == np.float32 and v.dtype.isnative


@pytest.mark.parametrize("fn,args", [
    (fl.softmax, (np.array([[1.0, 2.0, 3.0]], ">f8"),)),
    (fl.logsumexp, (np.array([[1.0, 2.0, 3.0]], ">f4"),)),
    (fl.multi_margin, (np.array([[1.0, 2.0, 3.0]], ">f8"), np.array([2], ">i8"))),
    (fl.hinge, (np.array([0.5, -2.0], ">f8"), np.array([1.0, -1.0], ">f8"))),
])
def test_big_endian_inputs_where_numpy_refused_buffers(fn, args):
    """softmax, logsumexp, multi_margin (and hinge's target check) used to raise NumPy's
    "Big-endian buffer not supported" or reject valid targets."""
    native = [a.astype(a.dtype.newbyteorder("=")) for a in args]
    np.testing.assert_array_equal(fn(*args), fn(*native))


def test_masked_arrays_are_refused_not_silently_unmasked():
    """A masked 1e30 used to give 3e59: the mask was ignored."""
    pred = np.ma.masked_array([1.0, 1e30], mask=[False, True])
    with pytest.raises(TypeError, match=r"^mse\(\): pred is a masked array.*sample_weight=0"):
        fl.mse(pred, np.zeros(2))
    with pytest.raises(TypeError, match=r"target is a masked array"):
        fl.cross_entropy(np.zeros((2, 3)), np.ma.masked_array([0, 1], mask=[0, 1]))
    with pytest.raises(TypeError, match=r"sample_weight is a masked array"):
        fl.mse(np.zeros(2), np.zeros(2), sample_weight=np.ma.masked_array([1.0, 2.0]))


@pytest.mark.parametrize("label", [2**64 - 100, 2**63])
def test_uint64_labels_above_int64_are_refused_not_wrapped(label):
    """2**64 - 100 used to wrap to -100, the default ignore_index, dropping the row silently."""
    x = np.zeros((2, 3))
    y = np.array([0, label], dtype=np.uint64)
    with pytest.raises(ValueError, match=rf"^cross_entropy\(\): target holds {label} at flat "
                                         r"index 1, outside the int64 range"):
        fl.cross_entropy(x, y)
    with pytest.raises(ValueError, match=rf"multi_margin\(\): target holds {label}"):
        fl.multi_margin(x, y)
    with pytest.raises(ValueError, match=rf"dice\(\): target holds {label}"):
        fl.dice(np.zeros((2, 3, 4)), np.array([[0, 1, 2, label]] * 2, dtype=np.uint64))
    with pytest.raises(ValueError, match=rf"distillation\(\): target holds {label}"):
        fl.distillation(x, x, y)
    logits = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match=rf"ctc\(\): input_lengths holds {label}"):
        fl.ctc(logits, np.ones((2, 1), dtype=int), np.array([5, label], dtype=np.uint64),
               np.array([1, 1]))
    with pytest.raises(ValueError, match=rf"ssd_multibox\(\): labels holds {label}"):
        fl.ssd_multibox(np.zeros((1, 2, 4)), np.zeros((1, 2, 4)), np.zeros((1, 2, 3)),
                        np.array([[0, label]], dtype=np.uint64))


def test_in_range_uint64_labels_are_fine():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert fl.cross_entropy(x, np.array([0, 3, 1], np.uint64)) == \
        fl.cross_entropy(x, np.array([0, 3, 1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("temperature", [1e-30, 1e-10, 1e-3, 1e3, 1e30])
def test_extreme_temperatures_match_torch(temperature, dtype):
    """temperature=1e-30 used to give -inf and NaN gradients: the row max was subtracted from
    an FMA-contracted z * (1/T), so the max element's exponent was the product's rounding
    error (csrc/multiclass.c now builds without contraction)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 10)) * 3).astype(dtype)
    y = rng.integers(0, 10, size=6)
    for kw in ({}, {"label_smoothing": 0.1}):
        v, g = fl.cross_entropy.value_and_grad(x, y, temperature=temperature, **kw)
        t = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(t / temperature, torch.tensor(y), **kw)
        ref.backward()
        assert np.isfinite(v) and np.isfinite(g).all()
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(v, ref.item(), rtol=rtol)
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=rtol * 10,
                                   atol=rtol * np.abs(t.grad.numpy()).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tied_huge_logits_give_log_k(dtype):
    """Two tied logits of 1e17 used to give 0: (m + log S) - x_y rounded log S away."""
    z = np.array([[1e17, 1e17, 0.0], [1e17, 1e17, 1e17]], dtype=dtype)
    v = fl.cross_entropy(z, np.array([0, 2]), reduction="none")
    np.testing.assert_allclose(v, [np.log(2), np.log(3)], rtol=1e-6)
    soft = np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]], dtype=dtype)
    np.testing.assert_allclose(fl.cross_entropy(z, soft, reduction="none"),
                               [np.log(2), np.log(3)], rtol=1e-6)
    smooth = fl.cross_entropy(z[:1], np.array([0]), label_smoothing=0.3, reduction="none")
    # (1 - eps) log 2 + eps / 3 * (log 2 + log 2 + (1e17 + log 2))
    expected = 0.7 * np.log(2) + 0.1 * (3 * np.log(2) + 1e17)
    np.testing.assert_allclose(smooth, [expected], rtol=1e-6)
    seg = np.moveaxis(z[None], -1, 1)  # (1, 3, 2): the strided middle-axis kernel
    np.testing.assert_allclose(fl.cross_entropy(seg, np.array([[0, 2]]), axis=1,
                                                reduction="none"),
                               [[np.log(2), np.log(3)]], rtol=1e-6)


def test_fork_after_a_threaded_call_does_not_hang(tmp_path):
    """GNU OpenMP's pool does not survive fork(): a multiprocessing "fork" pool used after a
    threaded kernel hung forever. The child now runs every kernel on one thread."""
    script = tmp_path / "fork_after_threads.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing as mp
        import numpy as np
        import fastloss as fl

        def work(seed):
            r = np.random.default_rng(seed)
            x = r.standard_normal((2000, 1000)).astype(np.float32)
            y = r.integers(0, 1000, 2000)
            fl.set_num_threads(2)  # asking again in the child must not hang either
            return float(fl.cross_entropy(x, y)), fl.get_num_threads()

        if __name__ == "__main__":
            fl.set_num_threads(2)
            work(0)
            with mp.get_context("fork").Pool(2) as pool:
                got = pool.map(work, [1, 2])
            fl.set_num_threads(1)
            expected = [work(1)[0], work(2)[0]]
            assert [g[0] for g in got] == expected, (got, expected)
            assert [g[1] for g in got] == [1, 1], got
            print("ok")
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stdout + res.stderr


def test_out_aliasing_through_a_memoryview():
    """The prediction passed as a memoryview of out= used to give a wrong value: aliasing was
    only checked against ndarray arguments."""
    rng = np.random.default_rng(1)
    pred = rng.standard_normal(100)
    target = rng.standard_normal(100)
    expected_v, expected_g = fl.mse.value_and_grad(pred, target)
    buf = pred.copy()
    v, g = fl.mse.value_and_grad(memoryview(buf), target, out=buf)
    assert g is buf and v == expected_v
    np.testing.assert_array_equal(buf, expected_g)
    logits = rng.standard_normal((8, 5))
    y = rng.integers(0, 5, 8)
    ev, eg = fl.cross_entropy.value_and_grad(logits, y)
    buf = logits.copy()
    v, g = fl.cross_entropy.value_and_grad(memoryview(buf), y, out=buf)
    assert v == ev
    np.testing.assert_array_equal(buf, eg)


# --------------------------------------------------------------------------- clear errors


def test_ignore_index_out_of_int64_on_the_middle_axis_path():
    """Was an OverflowError on the class-on-a-middle-axis path."""
    with pytest.raises(ValueError, match=r"^cross_entropy\(\): ignore_index must be in"):
        fl.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4), int), axis=1, ignore_index=2**63)
    with pytest.raises(TypeError, match=r"^cross_entropy\(\): ignore_index must be an integer, "
                                        r"got float 1.5"):
        fl.cross_entropy(np.zeros((2, 3)), np.zeros(2, int), ignore_index=1.5)


FLOAT_PARAMS = [(fl.huber, "delta"), (fl.smooth_l1, "beta"), (fl.cross_entropy, "temperature"),
                (fl.cross_entropy, "label_smoothing"), (fl.focal, "gamma"), (fl.focal, "alpha"),
                (fl.binary_cross_entropy_with_logits, "label_smoothing"), (fl.dice, "smooth"),
                (fl.multi_margin, "margin"), (fl.distillation, "temperature"),
                (fl.distillation, "alpha"), (fl.ssd_multibox, "beta"),
                (fl.ssd_multibox, "neg_pos_ratio")]


def _valid_call(loss):
    case = next(c for c in CASES if c.loss is loss)
    args, kw = case.make(np.random.default_rng(0), np.float64, case.shape, False)
    return args, kw


@pytest.mark.parametrize("loss,param", FLOAT_PARAMS, ids=[f"{f.__name__}-{p}"
                                                            for f, p in FLOAT_PARAMS])
@pytest.mark.parametrize("bad,exc", [(None, TypeError), ("1.0", TypeError), (1j, TypeError),
                                     (np.ones(2), TypeError), (np.inf, ValueError),
                                     (-np.inf, ValueError), (np.nan, ValueError),
                                     (10**400, ValueError)],
                         ids=["None", "str", "complex", "array", "inf", "-inf", "nan", "huge"])
def test_every_float_parameter_is_checked_the_same_way(loss, param, bad, exc):
    """delta=None and friends used to surface as arbitrary errors; infinite parameters gave
    NaN in some losses and a limit in others. Now: TypeError for non-numbers, ValueError for
    NaN and infinities (refused everywhere), naming the function and the argument."""
    if bad is None and (loss, param) == (fl.focal, "alpha"):
        pytest.skip("alpha=None is focal's 'no weighting'")
    args, kw = _valid_call(loss)
    kw[param] = bad
    with pytest.raises(exc, match=rf"^{loss.__name__}\(\): {param} "):
        loss(*args, **kw)


def test_dice_smooth_inf_is_refused():
    with pytest.raises(ValueError, match=r"^dice\(\): smooth must be finite"):
        fl.dice(np.full((1, 2, 3), 0.5), np.full((1, 2, 3), 0.5), smooth=np.inf)


def test_reduction_must_be_a_string():
    x = np.zeros(3)
    with pytest.raises(TypeError, match=r"^mse\(\): reduction must be one of 'none', 'sum', "
                                        r"'mean' \(a string\); got ndarray"):
        fl.mse(x, x, reduction=np.array("mean"))
    assert fl.mse(x, x, reduction=np.str_("mean")) == 0.0


def test_ragged_nested_list_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match=r"^mse\(\): pred cannot be read as a rectangular array"):
        fl.mse([[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"^cross_entropy\(\): target cannot be read"):
        fl.cross_entropy(np.zeros((2, 3)), [[0], [1, 2]])


def test_set_num_threads_non_integer():
    with pytest.raises(TypeError, match=r"^set_num_threads\(\): n must be an integer or None, "
                                        r"got float 2.5"):
        fl.set_num_threads(2.5)


def test_ctc_target_lengths_whose_sum_overflows_int64():
    """The int64 sum wrapped and passed the Python check; the kernel then failed with an
    unhelpful message."""
    logits = np.zeros((2, 4, 3))
    big = 2**62
    with pytest.raises(ValueError, match=r"^ctc\(\): target_lengths\[0\]=.* exceeds the padded|"
                                         r"^ctc\(\): concatenated targets must have "
                                         r"sum\(target_lengths\)=9223372036854775808"):
        fl.ctc(logits, np.ones(4, int), np.array([4, 4]), np.array([big, big]))


def test_ssd_zero_images_with_a_huge_anchor_count():
    """Used to allocate per-anchor scratch before noticing there was no image (MemoryError)."""
    a = 2**40
    lp = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(0, a, 4), strides=(8, 8, 8))
    conf = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(0, a, 3), strides=(8, 8, 8))
    labels = np.zeros((0, a), dtype=np.int64)
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lp, conf, labels)
    assert v == 0.0 and gl.shape == (0, a, 4) and gc.shape == (0, a, 3)
