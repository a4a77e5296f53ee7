"""Property-based tests (hypothesis) driven by the registry: for every loss variant, random
shapes (0-size batches, one class, one element), dtypes, layouts (strides), reductions and
sample weights; values and gradients against ``fastloss.reference``, and invariances that hold
whatever the input (shift invariance of softmax losses, zero-sum gradient rows, non-negative
losses, ``"sum"`` = sum of ``"none"``).

Every test runs under the small derandomised "quick" hypothesis profile in the default run, and
again under "thorough" (300 random examples each) marked slow: ``python -m pytest -m slow``.
"""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fastloss._registry import CASES  # noqa: E402

from conftest import tol  # noqa: E402

IDS = [c.id for c in CASES]
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")



def _parts(x, case):
    return tuple(x) if len(case.grad_args) > 1 and isinstance(x, tuple) else (x,)


def _shape(draw, case):
    """The case's default shape, or one with some dimensions set to 0, 1 or a small size."""
    kind = draw(st.sampled_from(["default", "random", "random", "ones"]))
    if kind == "default":
        return case.shape
    if kind == "ones":  # one element (and one class)
        return (1,) * len(case.shape)
    return tuple(draw(st.sampled_from([0, 1, 2, 3, d])) for d in case.shape)


def _layout(draw, a):
    """a itself, or an equal array with another memory layout (reversed, step 2, Fortran)."""
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return a
    kind = draw(st.sampled_from(["c", "c", "reversed", "step2", "fortran"]))
    if kind == "reversed":
        b = np.empty_like(a)[::-1]
        b[...] = a
        return b
    if kind == "step2":
        big = np.zeros(tuple(2 * s + 1 for s in a.shape), dtype=a.dtype)
        b = big[tuple(slice(1, None, 2) for _ in a.shape)]
        b[...] = a
        return b
    if kind == "fortran":
        return np.asfortranarray(a)
    return a


@st.composite
def inputs(draw, case, dtypes=(np.float32, np.float64)):
    """(args, kwargs, reduction, dtype) for one call of ``case`` on a random valid input."""
    dtype = draw(st.sampled_from(dtypes))
    shape = _shape(draw, case)
    sw = case.sample_weight and draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args, kw = case.make(np.random.default_rng(seed), dtype, shape, sw)
    except (ValueError, IndexError, ZeroDivisionError):
        assume(False)  # the generator cannot make this shape (e.g. no class for a label)
    # degenerate shapes can make the generator itself divide by zero (kl_div with one class)
    assume(not any(np.isnan(a).any() for a in args if np.asarray(a).dtype.kind == "f"))
    reduction = draw(st.sampled_from(case.reductions))
    note(f"shape={shape} dtype={np.dtype(dtype).name} reduction={reduction} sw={sw} seed={seed}")
    return list(args), kw, reduction, dtype


def _call(fn, *args, **kw):
    """The loss on a generated input; a ValueError is allowed only for degenerate shapes the
    loss rejects by design (no class, an empty class axis): the example is then discarded."""
    try:
        return fn(*args, **kw)
    except ValueError as e:
        if min(np.shape(args[0]), default=1) > 0 and "class" not in str(e):
            raise
        assume(False)


def _close(actual, expected, dtype, what):
    rtol, atol = tol(dtype)
    expected = np.asarray(expected, dtype=np.float64)
    finite = expected[np.isfinite(expected)]
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol * scale, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_values_and_gradients_match_reference(case, data):
    args, kw, reduction, dtype = data.draw(inputs(case))
    laid = [_layout(data.draw, a) for a in args]
    value, grad = _call(case.loss.value_and_grad, *laid, reduction=reduction, **kw)
    ref_value, ref_grad = case.reference(*args, reduction=reduction, **kw)
    for v, rv in zip(_parts(value, case), _parts(ref_value, case)):
        assert np.shape(v) == np.shape(rv)
        assert np.asarray(v).dtype == dtype
        _close(v, rv, dtype, "value")
    for k, g, rg in zip(case.grad_args, _parts(grad, case), _parts(ref_grad, case)):
        assert g.shape == np.shape(args[k]) and g.dtype == dtype
        assert g.flags.c_contiguous
        _close(g, rg, dtype, f"gradient {k}")
    # the layout never changes a bit
    v2, g2 = case.loss.value_and_grad(*args, reduction=reduction, **kw)
    for a, b in zip(_parts(value, case) + _parts(grad, case), _parts(v2, case) + _parts(g2, case)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", [c for c in CASES if "none" in c.reductions],
                         ids=[c.id for c in CASES if "none" in c.reductions])
@given(data=st.data())
def test_sum_is_the_sum_of_none_and_mean_is_weighted(case, data):
    args, kw, _, dtype = data.draw(inputs(case, dtypes=(np.float64,)))
    none = _call(case.loss, *args, reduction="none", **kw)
    total = case.loss(*args, reduction="sum", **kw)
    parts = _parts(none, case)
    expected = sum(np.sum(p) for p in parts)
    assert float(total) == pytest.approx(float(expected), rel=1e-12, abs=1e-12, nan_ok=True)
    # "sum" gradient = "none" gradient (the gradient of the sum of per-sample losses)
    g_none = _parts(case.loss.grad(*args, reduction="none", **kw), case)
    g_sum = _parts(case.loss.grad(*args, reduction="sum", **kw), case)
    for a, b in zip(g_none, g_sum):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # "mean" with sample weights = sum(w l) / sum(w) for the plain elementwise losses
    if case.sample_weight and "sample_weight" in kw and len(parts) == 1 \
            and np.shape(kw["sample_weight"]) == np.shape(parts[0]) \
            and case.loss.__name__ not in ("cross_entropy", "multi_margin", "kl_div", "dice",
                                           "binary_cross_entropy", "distillation"):
        w = kw["sample_weight"]
        unweighted = dict(kw)
        del unweighted["sample_weight"]
        per = case.loss(*args, reduction="none", **unweighted)
        if np.sum(w) > 0 and per.size:
            assert float(case.loss(*args, reduction="mean", **kw)) == pytest.approx(
                float(np.sum(w * per) / np.sum(w)), rel=1e-12, abs=1e-14)


# Softmax-based losses: (position of the logits in args, position of its gradient, class axis)
_SHIFT = {
    "cross_entropy": (0, 0, None), "distillation": (0, 0, None), "multi_margin": (0, 0, None),
    "ctc": (0, 0, -1), "ssd_multibox": (2, 1, -1),
}
SHIFT_CASES = [c for c in CASES if c.loss.__name__ in _SHIFT]


def _class_axis(case, kw):
    ax = _SHIFT[case.loss.__name__][2]
    return kw.get("axis", -1) if ax is None else ax


@pytest.mark.parametrize("case", SHIFT_CASES, ids=[c.id for c in SHIFT_CASES])
@given(data=st.data(), shift=st.floats(-50, 50))
def test_shift_invariance_and_zero_sum_gradient_rows(case, data, shift):
    """Adding a constant to every logit of a row leaves softmax losses unchanged, and their
    gradient rows along the class axis sum to zero (cross-entropy, distillation's student,
    multi-margin, CTC per time step, the SSD confidences)."""
    args, kw, reduction, dtype = data.draw(inputs(case, dtypes=(np.float64,)))
    pos, gpos, _ = _SHIFT[case.loss.__name__]
    ax = _class_axis(case, kw)
    x = np.asarray(args[pos])
    assume(x.ndim >= 1 and x.size)
    value, grad = _call(case.loss.value_and_grad, *args, reduction=reduction, **kw)
    rows = data.draw(st.sampled_from(["all", "random"]))
    offs_shape = list(x.shape)
    offs_shape[ax] = 1
    offs = (np.full(offs_shape, shift) if rows == "all"
            else np.random.default_rng(0).uniform(-abs(shift) - 1, abs(shift) + 1, offs_shape))
    shifted = list(args)
    shifted[pos] = x + offs
    v2 = case.loss(*shifted, reduction=reduction, **kw)
    for a, b in zip(_parts(value, case), _parts(v2, case)):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * (1 + abs(shift)))
    g = _parts(grad, case)[gpos]
    scale = 1.0 + float(np.max(np.abs(g), initial=0.0))
    np.testing.assert_allclose(g.sum(axis=ax), 0.0, atol=1e-12 * scale * x.shape[ax])


_MAY_BE_NEGATIVE = {"gan_generator-saturating",  # log(1 - sigmoid(x)) <= 0 by definition
                    # likelihoods up to constants: exp(x) - y x and log(var) can be negative
                    "poisson_nll", "poisson_nll-rates-full", "gaussian_nll",
                    "gaussian_nll-scalar_var", "gaussian_nll-var_per_row-full"}


@pytest.mark.parametrize("case", [c for c in CASES if c.id not in _MAY_BE_NEGATIVE],
                         ids=[c.id for c in CASES if c.id not in _MAY_BE_NEGATIVE])
@given(data=st.data())
def test_losses_are_non_negative(case, data):
    """Every loss but the saturating GAN generator is >= 0: per sample, and reduced. kl_div's
    pointwise terms may be negative, their sum over a normalised row may not."""
    args, kw, reduction, dtype = data.draw(inputs(case))
    if case.loss.__name__ == "kl_div":  # elementwise weights would break the row sums
        kw.pop("sample_weight", None)
    value = _call(case.loss, *args, reduction=reduction, **kw)
    eps = 8 * np.finfo(dtype).eps
    for v in _parts(value, case):
        v = np.asarray(v, dtype=np.float64)
        slack = eps * (1 + np.abs(v))
        if case.loss.__name__ == "kl_div":
            terms = np.asarray(case.loss(*args, reduction="none", **kw), dtype=np.float64)
            if reduction == "none":
                v = v.sum(axis=-1)
            slack = eps * (1 + np.abs(terms).sum()) * max(1, terms.shape[-1])
        assert not np.any(v < -slack), v


# ----------------------------------------------------------------------------- thorough (slow)
# The same properties under the "thorough" profile (300 random examples each), marked slow.


def _thorough(test, cases, **given_kw):
    inner = test.hypothesis.inner_test  # the undecorated property
    t = given(**given_kw)(inner)
    t = settings(settings.get_profile("thorough"))(t)
    t = pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])(t)
    return pytest.mark.slow(t)


test_values_and_gradients_match_reference_thorough = _thorough(
    test_values_and_gradients_match_reference, CASES, data=st.data())
test_sum_is_the_sum_of_none_and_mean_is_weighted_thorough = _thorough(
    test_sum_is_the_sum_of_none_and_mean_is_weighted,
    [c for c in CASES if "none" in c.reductions], data=st.data())
test_shift_invariance_and_zero_sum_gradient_rows_thorough = _thorough(
    test_shift_invariance_and_zero_sum_gradient_rows, SHIFT_CASES, data=st.data(),
    shift=st.floats(-50, 50))
test_losses_are_non_negative_thorough = _thorough(
    test_losses_are_non_negative, [c for c in CASES if c.id not in _MAY_BE_NEGATIVE],
    data=st.data())
