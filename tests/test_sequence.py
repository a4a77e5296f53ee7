"""Focused tests of fastloss.ctc: PyTorch equality (padded and concatenated targets), closed
forms, impossible alignments, lengths, validation, threads. The shared suite
(tests/test_losses.py) covers the registry cases on top of these."""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

REDUCTIONS = ["none", "sum", "mean"]


def _batch(rng, n=5, t=20, c=7, s=6, blank=0, dtype=np.float64):
    logits = (rng.standard_normal((n, t, c)) * 2).astype(dtype)
    labels = rng.integers(0, c - 1, size=(n, s))
    targets = labels + (labels >= blank)
    target_lengths = rng.integers(0, s + 1, size=n)
    input_lengths = rng.integers(2 * s, t + 1, size=n)
    return logits, targets, input_lengths, target_lengths


def _concat(targets, target_lengths):
    return np.concatenate([targets[i, :k] for i, k in enumerate(target_lengths)]).astype(np.int64)


def _torch_ctc(logits, targets, il, tl, **kw):
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(np.array(logits)).requires_grad_(True)
    out = torch.nn.functional.ctc_loss(x.log_softmax(-1).transpose(0, 1),
                                       torch.from_numpy(np.asarray(targets)),
                                       torch.from_numpy(np.asarray(il)),
                                       torch.from_numpy(np.asarray(tl)), **kw)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("blank", [0, 3, 6])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch(reduction, blank, layout, zero_infinity, rng):
    pytest.importorskip("torch")
    logits, targets, il, tl = _batch(rng, blank=blank)
    tg = targets if layout == "padded" else _concat(targets, tl)
    v, g = fl.ctc.value_and_grad(logits, tg, il, tl, blank=blank, reduction=reduction,
                                 zero_infinity=zero_infinity)
    tv, tgrad = _torch_ctc(logits, tg, il, tl, blank=blank, reduction=reduction,
                           zero_infinity=zero_infinity)
    np.testing.assert_allclose(v, tv, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(g, tgrad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch_float32(reduction, rng):
    pytest.importorskip("torch")
    logits, targets, il, tl = _batch(rng, n=6, t=40, c=12, s=10, dtype=np.float32)
    v, g = fl.ctc.value_and_grad(logits, targets, il, tl, reduction=reduction)
    tv, tgrad = _torch_ctc(logits, targets, il, tl, reduction=reduction)
    assert v.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(v, tv, rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(g, tgrad, rtol=1e-4, atol=2e-6)


def test_padded_and_concatenated_agree_and_padding_is_ignored(rng):
    logits, targets, il, tl = _batch(rng)
    padded = targets.copy()
    for i, k in enumerate(tl):
        padded[i, k:] = 999  # beyond target_lengths: never read, never validated
    a = fl.ctc.value_and_grad(logits, padded, il, tl, reduction="none")
    b = fl.ctc.value_and_grad(logits, _concat(targets, tl), il, tl, reduction="none")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_matches_reference_concatenated(rng):
    logits, targets, il, tl = _batch(rng, blank=2)
    tg = _concat(targets, tl)
    for reduction in REDUCTIONS:
        v, g = fl.ctc.value_and_grad(logits, tg, il, tl, blank=2, reduction=reduction)
        rv, rg = reference.ctc(logits, tg, il, tl, blank=2, reduction=reduction)
        np.testing.assert_allclose(v, rv, rtol=1e-12)
        np.testing.assert_allclose(g, rg, rtol=1e-10, atol=1e-13)


def test_empty_target_is_minus_sum_log_blank(rng):
    logits = rng.standard_normal((1, 9, 4))
    logp = reference.log_softmax(logits)
    v = fl.ctc(logits, np.zeros((1, 3), dtype=np.int64), [7], [0], reduction="sum")
    assert v == pytest.approx(-logp[0, :7, 0].sum(), rel=1e-13)
    # 'mean' divides by the target length clamped to 1
    assert fl.ctc(logits, np.zeros((1, 3), dtype=np.int64), [7], [0]) == pytest.approx(v, rel=1e-15)


def test_repeated_label_needs_a_blank_in_between(rng):
    """Target (1, 1): two steps cannot emit it; in three steps the only path is 1, blank, 1."""
    logits = rng.standard_normal((1, 3, 3))
    logp = reference.log_softmax(logits)[0]
    v2, g2 = fl.ctc.value_and_grad(logits, [[1, 1]], [2], [2], reduction="sum")
    assert v2 == np.inf and not np.any(g2)
    v3 = fl.ctc(logits, [[1, 1]], [3], [2], reduction="sum")
    assert v3 == pytest.approx(-(logp[0, 1] + logp[1, 0] + logp[2, 1]), rel=1e-13)
    # different labels fit in two steps: the only path is 1, 2
    v = fl.ctc(logits, [[1, 2]], [2], [2], reduction="sum")
    assert v == pytest.approx(-(logp[0, 1] + logp[1, 2]), rel=1e-13)


def test_gradient_single_path_closed_form(rng):
    """With one alignment the loss is -sum_t log p_t(path_t), so the gradient is
    softmax - onehot(path) at every step."""
    logits = rng.standard_normal((1, 3, 3))
    g = fl.ctc.grad(logits, [[1, 1]], [3], [2], reduction="sum")
    p = np.exp(reference.log_softmax(logits))[0]
    np.testing.assert_allclose(g[0], p - np.eye(3)[[1, 0, 1]], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_impossible_alignment(reduction, rng):
    logits, targets, il, tl = _batch(rng, n=4)
    tl[1], il[1] = 6, 5  # a target of 6 labels in 5 steps
    v, g = fl.ctc.value_and_grad(logits, targets, il, tl, reduction=reduction)
    assert not np.any(np.isnan(g))
    assert not np.any(g[1])
    if reduction == "none":
        assert v[1] == np.inf and np.all(np.isfinite(np.delete(v, 1)))
    else:
        assert v == np.inf
    # the possible samples keep their gradients
    ok = [0, 2, 3]
    g_ok = fl.ctc.grad(logits[ok], targets[ok], il[ok], tl[ok], reduction="sum")
    if reduction != "mean":
        np.testing.assert_array_equal(g[ok], g_ok)
    vz, gz = fl.ctc.value_and_grad(logits, targets, il, tl, reduction=reduction,
                                   zero_infinity=True)
    np.testing.assert_array_equal(gz, g)
    if reduction == "none":
        assert vz[1] == 0 and np.array_equal(np.delete(vz, 1), np.delete(v, 1))
    else:
        assert np.isfinite(vz)


def test_impossible_with_zero_infinity_matches_torch(rng):
    pytest.importorskip("torch")
    logits, targets, il, tl = _batch(rng, n=4)
    tl[2], il[2] = 6, 4
    for reduction in REDUCTIONS:
        v, g = fl.ctc.value_and_grad(logits, targets, il, tl, reduction=reduction,
                                     zero_infinity=True)
        tv, tg = _torch_ctc(logits, targets, il, tl, reduction=reduction, zero_infinity=True)
        np.testing.assert_allclose(v, tv, rtol=1e-11)
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


def test_steps_beyond_input_length_get_zero_gradient(rng):
    logits, targets, il, tl = _batch(rng)
    il[0] = 13
    g = fl.ctc.grad(logits, targets, il, tl)
    for i, k in enumerate(il):
        assert not np.any(g[i, k:])
        assert np.all(np.any(g[i, :k] != 0, axis=-1))
    # and the steps beyond the input length do not change the value
    changed = logits.copy()
    changed[0, 13:] = 1e6
    assert fl.ctc(changed, targets, il, tl) == fl.ctc(logits, targets, il, tl)


def test_zero_input_length():
    logits = np.zeros((2, 4, 3))
    v, g = fl.ctc.value_and_grad(logits, [[1], [1]], [0, 0], [0, 1], reduction="none")
    np.testing.assert_array_equal(v, [0.0, np.inf])
    assert not np.any(g)


def test_gradient_finite_differences_repeats_and_blank(rng):
    logits = rng.standard_normal((2, 9, 4))
    targets = np.array([2, 2, 1, 3, 3])  # concatenated: (2, 2, 1) and (3, 3)
    il, tl = np.array([9, 7]), np.array([3, 2])
    for reduction in REDUCTIONS:
        g = fl.ctc.grad(logits, targets, il, tl, blank=0, reduction=reduction)
        flat = logits.reshape(-1)
        for i in rng.choice(flat.size, 30, replace=False):
            h = 1e-6
            xp, xm = flat.copy(), flat.copy()
            xp[i] += h
            xm[i] -= h
            fp = np.sum(fl.ctc(xp.reshape(logits.shape), targets, il, tl, reduction=reduction))
            fm = np.sum(fl.ctc(xm.reshape(logits.shape), targets, il, tl, reduction=reduction))
            assert g.reshape(-1)[i] == pytest.approx((fp - fm) / (2 * h), rel=1e-5, abs=1e-8)


def test_huge_logits_stay_finite(rng):
    logits, targets, il, tl = _batch(rng)
    big = logits * 5e3
    v, g = fl.ctc.value_and_grad(big, targets, il, tl, reduction="none")
    rv, rg = reference.ctc(big, targets, il, tl, reduction="none")
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(v, rv, rtol=1e-12)
    np.testing.assert_allclose(g, rg, atol=1e-9)


def test_nan_logit_gives_nan_loss(rng):
    logits, targets, il, tl = _batch(rng)
    logits[1, 0, 0] = np.nan
    v = fl.ctc(logits, targets, il, tl, reduction="none")
    assert np.isnan(v[1]) and not np.any(np.isnan(np.delete(v, 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_bit_identical(dtype, rng, threads):
    logits, targets, il, tl = _batch(rng, n=24, t=120, c=40, s=25, dtype=dtype)
    tg = _concat(targets, tl)
    out = []
    for n in (1, 2, 4):
        threads(n)
        out.append([fl.ctc.value_and_grad(logits, tg, il, tl, reduction=r) for r in REDUCTIONS])
    for other in out[1:]:
        for (v, g), (v1, g1) in zip(other, out[0]):
            assert v.tobytes() == v1.tobytes() and g.tobytes() == g1.tobytes()


# ------------------------------------------------------------------------------ validation

def _ok(rng):
    return _batch(rng, n=3, t=10, c=5, s=3)


@pytest.mark.parametrize("change,match", [
    (lambda a: a.update(il=a["il"][:2]), r"input_lengths must have shape \(3,\)"),
    (lambda a: a.update(tl=np.ones((3, 1), int)), r"target_lengths must have shape \(3,\)"),
    (lambda a: a.update(il=np.array([10, 11, 10])), r"input_lengths\[1\]=11 exceeds .* T=10"),
    (lambda a: a.update(il=np.array([10, -1, 10])), r"input_lengths must be >= 0; got -1"),
    (lambda a: a.update(tl=np.array([1, 4, 1])), r"target_lengths\[1\]=4 exceeds .* S=3"),
    (lambda a: a.update(tl=np.array([1, 1, -2])), r"target_lengths must be >= 0; got -2"),
    (lambda a: a["tg"].__setitem__((2, 0), 5), r"targets\[2, 0\]=5 is not a valid label"),
    (lambda a: a["tg"].__setitem__((0, 0), -1), r"targets\[0, 0\]=-1 is not a valid label"),
    (lambda a: a["tg"].__setitem__((1, 0), 0), r"targets\[1, 0\]=0 .* blank=0"),
    (lambda a: a.update(tg=a["tg"][:2]), r"padded targets must have shape \(N=3, S\)"),
    (lambda a: a.update(tg=np.ones(4, int)), r"sum\(target_lengths\)=3 labels; got 4"),
    (lambda a: a.update(tg=np.ones((3, 3, 1), int)), "padded .* or concatenated 1-D"),
    (lambda a: a.update(x=a["x"][0]), r"logits must have shape \(N, T, C\)"),
    (lambda a: a.update(blank=5), "blank=5 is out of range for C=5"),
    (lambda a: a.update(blank=-1), "blank=-1 is out of range"),
])
def test_bad_input_is_a_value_error(change, match, rng):
    x, tg, il, tl = _ok(rng)
    tl[:] = 1
    il[:] = 10
    a = {"x": x, "tg": tg, "il": il, "tl": tl, "blank": 0}
    change(a)
    with pytest.raises(ValueError, match=match):
        fl.ctc(a["x"], a["tg"], a["il"], a["tl"], blank=a["blank"])


def test_label_errors_in_concatenated_targets(rng):
    x, _, il, _ = _ok(rng)
    with pytest.raises(ValueError, match=r"targets\[2\]=7 is not a valid label"):
        fl.ctc(x, [1, 2, 7], il, [1, 1, 1])


def test_type_errors(rng):
    x, tg, il, tl = _ok(rng)
    with pytest.raises(TypeError, match="targets must hold integers"):
        fl.ctc(x, tg.astype(float), il, tl)
    with pytest.raises(TypeError, match="input_lengths must hold integers"):
        fl.ctc(x, tg, il.astype(float), tl)
    with pytest.raises(TypeError, match="logits must be a float16"):
        fl.ctc(x.astype(np.int64), tg, il, tl)


def test_lists_are_accepted(rng):
    x, tg, il, tl = _ok(rng)
    a = fl.ctc(x, tg.tolist(), il.tolist(), tuple(tl.tolist()))
    assert a == fl.ctc(x, tg, il, tl)


# ------------------------------------------------------------ vectorised recursion: edge paths
# The kernel computes each row of alpha / beta as vector loops over whole groups of 8 states
# inside the window of states that can lie on a complete path, with exp's arguments clamped at
# -700 (libmvec's slow path) and the three-term log-sum-exp sorted into hi + log(1 + ...);
# these pin every target length against each group edge, repeats, blanks anywhere, long
# inputs and class counts that are not a multiple of a vector.

@pytest.mark.parametrize("blank", [0, 5, 12])
@pytest.mark.parametrize("c", [2, 13, 33])
def test_every_target_length_and_class_count_matches_torch(c, blank, rng):
    pytest.importorskip("torch")
    blank = min(blank, c - 1)
    n, t = 22, 48
    target_lengths = np.arange(n)  # S' = 1 .. 43: every remainder modulo 8
    labels = rng.integers(0, c - 1, size=(n, n))
    targets = labels + (labels >= blank)
    input_lengths = np.clip(2 * target_lengths + rng.integers(0, 6, size=n), 1, t)
    logits = rng.standard_normal((n, t, c)) * 2
    for reduction in REDUCTIONS:
        v, g = fl.ctc.value_and_grad(logits, targets, input_lengths, target_lengths,
                                     blank=blank, reduction=reduction, zero_infinity=True)
        tv, tg = _torch_ctc(logits, targets, input_lengths, target_lengths, blank=blank,
                            reduction=reduction, zero_infinity=True)
        np.testing.assert_allclose(v, tv, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-13)


def test_repeats_runs_and_tight_inputs_match_torch(rng):
    """Runs of one label (every skip transition forbidden), alternating pairs, and inputs of
    exactly the minimal length (the window is a single path at the edges)."""
    pytest.importorskip("torch")
    c = 6
    seqs = [[3] * 9, [1, 2] * 6, [4, 4, 5, 5, 4, 4, 1], [2], [5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5]]
    repeats = [sum(a == b for a, b in zip(s, s[1:])) for s in seqs]
    tl = np.array([len(s) for s in seqs])
    for extra in (0, 1, 7):
        il = tl + np.array(repeats) + extra
        t = int(il.max())
        logits = rng.standard_normal((len(seqs), t, c)) * 3
        tg = np.concatenate(seqs)
        v, g = fl.ctc.value_and_grad(logits, tg, il, tl, reduction="none")
        tv, tgrad = _torch_ctc(logits, tg, il, tl, reduction="none")
        np.testing.assert_allclose(v, tv, rtol=1e-12)
        np.testing.assert_allclose(g, tgrad, rtol=1e-10, atol=1e-13)
    # one step short: impossible, +inf and a zero gradient
    v, g = fl.ctc.value_and_grad(logits, tg, tl + np.array(repeats) - 1, tl, reduction="none")
    assert np.all(v == np.inf) and not np.any(g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_input_matches_reference(dtype, rng):
    """T = 1500 with a short target: alpha spans thousands of nats, the window is full for
    most steps, and most cells' log-sum-exp terms are far apart (the clamped exponentials)."""
    logits = (rng.standard_normal((2, 1500, 29)) * 2).astype(dtype)
    targets = rng.integers(1, 29, size=(2, 30))
    il, tl = np.array([1500, 1117]), np.array([30, 17])
    v, g = fl.ctc.value_and_grad(logits, targets, il, tl, reduction="none")
    rv, rg = reference.ctc(logits.astype(np.float64), targets, il, tl, reduction="none")
    if dtype == np.float64:
        np.testing.assert_allclose(v, rv, rtol=1e-13)
        np.testing.assert_allclose(g, rg, rtol=1e-9, atol=1e-13)
    else:
        np.testing.assert_allclose(v, rv, rtol=1e-5)
        np.testing.assert_allclose(g, rg, atol=2e-6)


def test_blank_in_the_middle_float32_matches_torch(rng):
    pytest.importorskip("torch")
    c, blank = 37, 18
    logits, targets, il, tl = _batch(rng, n=9, t=70, c=c, s=30, blank=blank, dtype=np.float32)
    v, g = fl.ctc.value_and_grad(logits, targets, il, tl, blank=blank)
    tv, tgrad = _torch_ctc(logits, targets, il, tl, blank=blank)
    np.testing.assert_allclose(v, tv, rtol=2e-5)
    np.testing.assert_allclose(g, tgrad, rtol=1e-4, atol=2e-6)


def test_extreme_logits_one_dominant_path(rng):
    """Logits of +-1e4 make all but one alignment ~exp(-1e4) as likely: the sorted
    log-sum-exp sees terms thousands of nats apart, and the posterior of every other state
    underflows to exactly 0 in the gradient."""
    t, c = 12, 5
    path = np.array([0, 1, 1, 0, 2, 0, 0, 3, 3, 0, 4, 0])  # emits 1 2 3 4 with blanks
    logits = np.full((1, t, c), -1e4)
    logits[0, np.arange(t), path] = 1e4
    v, g = fl.ctc.value_and_grad(logits, [[1, 2, 3, 4]], [t], [4], reduction="sum")
    rv, rg = reference.ctc(logits, [[1, 2, 3, 4]], [t], [4], reduction="sum")
    assert v == pytest.approx(rv, abs=1e-12) and np.isfinite(v)
    np.testing.assert_allclose(g, rg, atol=1e-12)
    assert np.all(g == 0)  # p = onehot(path) and the posterior is that path


def test_nan_in_any_step_poisons_only_its_sample(rng):
    logits, targets, il, tl = _batch(rng, n=4, t=30, c=9, s=8)
    il[:] = 30
    for step in (0, 13, 29):
        x = logits.copy()
        x[2, step, 4] = np.nan
        v, g = fl.ctc.value_and_grad(x, targets, il, tl, reduction="none")
        assert np.isnan(v[2]) and np.all(np.isfinite(np.delete(v, 2)))
        np.testing.assert_array_equal(np.delete(g, 2, axis=0),
                                      np.delete(fl.ctc.grad(logits, targets, il, tl,
                                                            reduction="none"), 2, axis=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_many_samples_block_sums_bit_identical(dtype, rng, threads):
    """More than 64 samples: the value is summed in blocks of samples (a function of n), so
    the bits still do not depend on the thread count; and it equals the reference."""
    logits, targets, il, tl = _batch(rng, n=150, t=24, c=11, s=7, dtype=dtype)
    out = []
    for nt in (1, 2, 3):
        threads(nt)
        out.append([fl.ctc.value_and_grad(logits, targets, il, tl, reduction=r)
                    for r in REDUCTIONS])
    for other in out[1:]:
        for (v, g), (v1, g1) in zip(other, out[0]):
            assert v.tobytes() == v1.tobytes() and g.tobytes() == g1.tobytes()
    rv, _ = reference.ctc(logits.astype(np.float64), targets, il, tl)
    assert out[0][2][0] == pytest.approx(rv, rel=1e-12 if dtype == np.float64 else 1e-5)
