"""Focused tests of the binary-classification losses (fastloss.binary, csrc/binary.c): closed
forms, extremes at logits of 1e4, torch/torchvision/Keras conventions, weight broadcasting,
validation."""

import math

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference


def test_hinge_subgradient_zero_at_kink():
    pred = np.array([1.0, -1.0, 0.5, 2.0])
    v, g = fl.hinge.value_and_grad(pred, np.array([1, 0, 1, 0]), reduction="none")
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, -1.0, 1.0])


@pytest.mark.parametrize("target,match", [
    (np.array([1, 2, -1]), r"found 2"),
    (np.array([1.0, 0.5, 0.0]), r"found 0.5"),
    (np.array([1, 0, -1]), r"only \{-1, 1\} or only \{0, 1\}"),
    (np.array([-1, 1, 0]), r"flat index 2"),
])
def test_hinge_target_validation(target, match):
    with pytest.raises(ValueError, match=match):
        fl.hinge(np.zeros(3), target)


def _torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    return torch, F


def test_bce_matches_torch_clamp_and_gradient_at_0_and_1():
    torch, F = _torch()
    for dtype, tdt in ((np.float64, torch.float64), (np.float32, torch.float32)):
        p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30, 1 - 1e-7, 0.3], dtype=dtype)
        t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0, 0.0, 0.3], dtype=dtype)
        tp = torch.tensor(p, dtype=tdt, requires_grad=True)
        out = F.binary_cross_entropy(tp, torch.tensor(t, dtype=tdt), reduction="none")
        out.sum().backward()
        v, g = fl.binary_cross_entropy.value_and_grad(p, t, reduction="none")
        np.testing.assert_allclose(v, out.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-6)
        assert v[2] == pytest.approx(100.0) and v[3] == pytest.approx(100.0)
        assert g[2] == pytest.approx(-1e12, rel=1e-6) and g[3] == pytest.approx(1e12, rel=1e-6)


@pytest.mark.parametrize("bad", [-1e-9, 1.0 + 1e-9, 2.0, -np.inf])
def test_bce_rejects_probabilities_outside_0_1(bad):
    with pytest.raises(ValueError, match=r"binary_cross_entropy\(\): pred must be in \[0, 1\].*flat index 1"):
        fl.binary_cross_entropy(np.array([0.5, bad]), np.array([0.0, 1.0]))


F64 = np.float64


def test_bce_weight_does_not_change_mean_denominator():
    rng = np.random.default_rng(1)
    p, t = rng.uniform(0.1, 0.9, (6, 4)), rng.integers(0, 2, (6, 4)).astype(F64)
    w = rng.uniform(0.5, 2, 4)
    none = fl.binary_cross_entropy(p, t, weight=w, reduction="none")
    assert fl.binary_cross_entropy(p, t, weight=w) == pytest.approx(none.sum() / p.size, rel=1e-14)
    # sample_weight does enter the denominator
    sw = rng.uniform(0.5, 2, (6, 4))
    m = fl.binary_cross_entropy(p, t, weight=w, sample_weight=sw)
    assert m == pytest.approx((sw * none).sum() / sw.sum(), rel=1e-14)


@pytest.mark.parametrize("shape,wshape", [
    ((7, 5), ()), ((7, 5), (5,)), ((7, 5), (7, 1)), ((7, 5), (1, 5)), ((7, 5), (7, 5)),
    ((3, 4, 5, 6), (1, 4, 1, 1)), ((3, 4, 5, 6), (4, 5, 1)), ((3, 4, 5, 6), (3, 1, 1, 6)),
    ((3, 1, 5), (3, 1, 5)), ((3, 1, 5), (1, 1, 5)), ((3, 4, 5, 6), (3, 1, 5, 1)),
])
@pytest.mark.parametrize("loss", ["bce", "logits_weight", "logits_pos_weight"])
def test_elementwise_weight_broadcast_patterns(shape, wshape, loss):
    """Compact patterns (one run of varying axes) and materialised ones give the reference."""
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2.0, wshape)
    t = rng.uniform(size=shape)
    if loss == "bce":
        x = rng.uniform(0.05, 0.95, shape)
        f, ref, kw = fl.binary_cross_entropy, reference.binary_cross_entropy, {"weight": w}
    else:
        x = rng.standard_normal(shape) * 3
        f, ref = fl.binary_cross_entropy_with_logits, reference.binary_cross_entropy_with_logits
        kw = {"weight": w} if loss == "logits_weight" else {"pos_weight": w}
    for dtype in (np.float32, np.float64):
        v, g = f.value_and_grad(x.astype(dtype), t.astype(dtype), reduction="none", **kw)
        rv, rg = ref(x.astype(dtype), t.astype(dtype), reduction="none", **kw)
        rtol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(v, rv, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("wshape", [(8193,), (8191, 1), (3, 1)])
def test_weight_pattern_across_block_boundaries_and_threads(wshape, threads):
    """Patterns whose period does not divide the kernel's 8192-element blocks, on enough
    elements to run threaded: each block must start at the right pattern position."""
    rng = np.random.default_rng(3)
    shape = {(8193,): (10, 8193), (8191, 1): (8191, 9), (3, 1): (3, 30000)}[wshape]
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.uniform(size=shape).astype(np.float32)
    w = rng.uniform(0.5, 2, wshape)
    full = np.ascontiguousarray(np.broadcast_to(w, shape))
    out = []
    for n in (1, 3):
        threads(n)
        out.append(fl.binary_cross_entropy_with_logits.value_and_grad(
            x, t, pos_weight=w, weight=w, reduction="sum"))
    threads(1)
    # the same weights fully materialised take the pattern path with length n, inner 1
    vm, gm = fl.binary_cross_entropy_with_logits.value_and_grad(
        x, t, pos_weight=full, weight=full, reduction="sum")
    for v, g in out:
        assert v.tobytes() == out[0][0].tobytes() and g.tobytes() == out[0][1].tobytes()
        assert v == vm
        np.testing.assert_array_equal(g, gm)
    rv, rg = reference.binary_cross_entropy_with_logits(x, t, pos_weight=w, weight=w,
                                                        reduction="sum")
    assert float(out[0][0]) == pytest.approx(rv, rel=1e-5)
    np.testing.assert_allclose(out[0][1], rg, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weighted_bce_runs_the_vector_loop_with_the_unweighted_bits_for_unit_weights(dtype):
    """Factors reach the kernel's one vector loop through chunk buffers (ones where absent), so
    weights of exactly 1 give the unweighted call's bits, per element and summed."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((70, 333)) * 4).astype(dtype)
    t = rng.uniform(size=(70, 333)).astype(dtype)
    p = rng.uniform(0.01, 0.99, (70, 333)).astype(dtype)
    for f, pred, kws in ((fl.binary_cross_entropy_with_logits, x,
                          ({"pos_weight": np.ones(333)}, {"weight": np.ones((70, 1))})),
                         (fl.binary_cross_entropy, p, ({"weight": np.ones(333)},))):
        for red in ("none", "sum"):
            v0, g0 = f.value_and_grad(pred, t, reduction=red)
            for kw in kws:
                v, g = f.value_and_grad(pred, t, reduction=red, **kw)
                assert np.asarray(v).tobytes() == np.asarray(v0).tobytes()
                assert g.tobytes() == g0.tobytes()


@pytest.mark.parametrize("kw", [{"weight": np.ones(4)}, {"pos_weight": np.ones((2, 3))}])
def test_weight_shape_errors_name_the_argument(kw):
    name = next(iter(kw))
    f = fl.binary_cross_entropy_with_logits if name == "pos_weight" else fl.binary_cross_entropy
    with pytest.raises(ValueError, match=rf"{name} of shape .* cannot be broadcast"):
        f(np.full((5, 3), 0.5), np.zeros((5, 3)), **kw)


def test_weight_dtype_error():
    with pytest.raises(TypeError, match="weight"):
        fl.binary_cross_entropy(np.full(3, 0.5), np.zeros(3), weight=np.array(["a", "b", "c"]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_stable_at_1e4(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4, 50.0, -50.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0], dtype=dtype)
    v, g = fl.binary_cross_entropy_with_logits.value_and_grad(x, t, reduction="none")
    exact_small = math.log1p(math.exp(-50.0))  # the confident-correct loss, no cancellation
    np.testing.assert_allclose(v, [0.0, 0.0, 1e4, 1e4, exact_small, exact_small], rtol=1e-6)
    assert v[4] > 0  # not rounded to 0 by x - x
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0, -1.0, -math.exp(-50), math.exp(-50)],
                               rtol=1e-6, atol=1e-30)


def test_bce_with_logits_matches_torch_extremes_and_pos_weight():
    torch, F = _torch()
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.standard_normal((6, 3)) * 3, [[1e4, -1e4, 0.0], [-1e4, 1e4, 30.0]]])
    t = np.concatenate([rng.uniform(size=(6, 3)), [[0.0, 1.0, 0.5], [0.3, 0.7, 1.0]]])
    pw = np.array([0.5, 2.0, 3.0])
    tx = torch.tensor(x, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(tx, torch.tensor(t), pos_weight=torch.tensor(pw),
                                             reduction="mean")
    out.backward()
    v, g = fl.binary_cross_entropy_with_logits.value_and_grad(x, t, pos_weight=pw)
    assert v == pytest.approx(out.item(), rel=1e-13)
    np.testing.assert_allclose(g, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_bce_with_logits_label_smoothing_is_keras():
    x, t, eps = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.0, 1.0]), 0.2
    ts = t * (1 - eps) + 0.5 * eps  # Keras: y * (1 - ls) + 0.5 * ls
    v = fl.binary_cross_entropy_with_logits(x, t, label_smoothing=eps, reduction="none")
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(v, -(ts * np.log(s) + (1 - ts) * np.log(1 - s)), rtol=1e-14)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_bce_with_logits_rejects_bad_label_smoothing(eps):
    with pytest.raises(ValueError, match="label_smoothing"):
        fl.binary_cross_entropy_with_logits(np.zeros(2), np.zeros(2), label_smoothing=eps)


def test_squared_hinge_closed_form_and_kink():
    x = np.array([2.0, 1.0, 0.5, -1.0, -1.0])
    t = np.array([1, 1, 1, 1, -1])
    v, g = fl.squared_hinge.value_and_grad(x, t, reduction="none")
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.25, 4.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, -1.0, -4.0, 0.0])
    v01 = fl.squared_hinge(x, (t > 0).astype(int), reduction="none")
    np.testing.assert_array_equal(v, v01)


@pytest.mark.parametrize("target,bad", [([1, 2, 1], "2"), ([1, -1, 0], "0"), ([0.5, 1, 1], "0.5")])
def test_squared_hinge_rejects_invalid_targets(target, bad):
    with pytest.raises(ValueError, match=rf"target must hold only.*found .*{bad}"):
        fl.squared_hinge(np.zeros(3), np.array(target))


def _torchvision_focal(torch, F, x, t, gamma, alpha):
    """torchvision.ops.sigmoid_focal_loss written out (torchvision is not installed)."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


@pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.0, 0.5), (1.0, None), (3.5, 0.9)])
def test_focal_matches_torchvision(gamma, alpha):
    torch, F = _torch()
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(40) * 4, [-20.0, 20.0, -20.0, 20.0, 0.0]])
    t = np.concatenate([rng.integers(0, 2, 40), [0, 1, 1, 0, 1]]).astype(F64)
    tx = torch.tensor(x, requires_grad=True)
    out = _torchvision_focal(torch, F, tx, torch.tensor(t), gamma, -1 if alpha is None else alpha)
    out.sum().backward()
    v, g = fl.focal.value_and_grad(x, t, gamma=gamma, alpha=alpha, reduction="none")
    tv, tg = out.detach().numpy(), tx.grad.numpy()
    np.testing.assert_allclose(v[:40], tv[:40], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g[:40], tg[:40], rtol=1e-10, atol=1e-20)
    # at |x| = 20 torchvision's 1 - p_t cancels (relative error ~1e-16 / p ~ 1e-7); fastloss
    # works in log space (see test_focal_logits_20_against_mpmath)
    np.testing.assert_allclose(v[40:], tv[40:], rtol=1e-6, atol=1e-300)
    np.testing.assert_allclose(g[40:], tg[40:], rtol=1e-6, atol=1e-300)


def test_focal_logits_20_against_mpmath():
    """Confident and right at |x| = 20: the loss ~ p^3 is kept to full relative accuracy.
    Expected: alpha_t (1 - p_t)^2 (-log p_t) with mpmath at 50 digits."""
    v = fl.focal(np.array([-20.0, 20.0]), np.array([0.0, 1.0]), alpha=0.25, reduction="none")
    np.testing.assert_allclose(v, [6.5673830381814268527e-27, 2.1891276793938089509e-27],
                               rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_focal_stable_at_logits_1e4(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    v, g = fl.focal.value_and_grad(x, t, gamma=2.0, alpha=0.25, reduction="none")
    # confident and right: 0; confident and wrong: alpha_t * 1 * |x|, gradient -+alpha_t
    np.testing.assert_allclose(v, [0.0, 0.0, 0.75 * 1e4, 0.25 * 1e4], rtol=1e-6)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.75, -0.25], rtol=1e-6)


def test_focal_gamma0_without_alpha_is_bce_with_logits():
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal(30) * 3, rng.uniform(size=30)
    v, g = fl.focal.value_and_grad(x, t, gamma=0.0, alpha=None, reduction="sum")
    vb, gb = fl.binary_cross_entropy_with_logits.value_and_grad(x, t, reduction="sum")
    assert v == pytest.approx(vb, rel=1e-14)
    np.testing.assert_allclose(g, gb, rtol=1e-13, atol=1e-16)


def test_focal_soft_targets_use_the_general_form():
    x, t, gamma, alpha = np.array([0.4, -1.3]), np.array([0.3, 0.8]), 2.0, 0.25
    p = 1 / (1 + np.exp(-x))
    expected = -(t * alpha * (1 - p) ** gamma * np.log(p)
                 + (1 - t) * (1 - alpha) * p**gamma * np.log(1 - p))
    v = fl.focal(x, t, gamma=gamma, alpha=alpha, reduction="none")
    np.testing.assert_allclose(v, expected, rtol=1e-14)


def test_focal_probabilities_agree_with_logits_by_the_chain_rule():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(25) * 2
    t = rng.uniform(size=25)
    p = 1 / (1 + np.exp(-x))
    vx, gx = fl.focal.value_and_grad(x, t, gamma=1.7, alpha=0.3, reduction="none")
    vp, gp = fl.focal.value_and_grad(p, t, gamma=1.7, alpha=0.3, from_logits=False,
                                     reduction="none")
    np.testing.assert_allclose(vp, vx, rtol=1e-12)
    np.testing.assert_allclose(gp * p * (1 - p), gx, rtol=1e-10, atol=1e-15)


def test_focal_probabilities_at_the_edges():
    # right and certain: 0 with a finite gradient; wrong and certain: inf (no clamp)
    p = np.array([1.0, 0.0, 0.0, 1.0])
    t = np.array([1.0, 0.0, 1.0, 0.0])
    with np.errstate(divide="ignore"):
        v, g = fl.focal.value_and_grad(p, t, gamma=2.0, from_logits=False, reduction="none")
    np.testing.assert_array_equal(v[:2], [0.0, 0.0])
    assert np.isfinite(g[:2]).all()
    assert np.isposinf(v[2:]).all()


@pytest.mark.parametrize("kw,match", [
    ({"gamma": -1.0}, "gamma"), ({"alpha": 1.5}, "alpha"), ({"alpha": -0.25}, "alpha"),
])
def test_focal_rejects_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        fl.focal(np.zeros(3), np.zeros(3), **kw)


def test_focal_rejects_targets_outside_0_1_and_probabilities_outside_0_1():
    with pytest.raises(ValueError, match=r"focal\(\): target must be in \[0, 1\].*flat index 2"):
        fl.focal(np.zeros(3), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"focal\(\): with from_logits=False, pred must be in \[0, 1\].*flat index 0"):
        fl.focal(np.array([1.5, 0.5]), np.zeros(2), from_logits=False)
    fl.focal(np.array([1.5, -3.0]), np.zeros(2))  # logits may be anything


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gan_generator_forms_and_stability(dtype):
    x = np.array([-1e4, -3.0, 0.0, 2.0, 1e4], dtype=dtype)
    v, g = fl.gan_generator.value_and_grad(x, reduction="none")
    np.testing.assert_allclose(v, [1e4, math.log1p(math.exp(3)), math.log(2),
                                   math.log1p(math.exp(-2)), 0.0], rtol=1e-6)
    s = np.exp(-np.logaddexp(0, -x.astype(F64)))  # sigmoid
    np.testing.assert_allclose(g, s - 1, rtol=1e-6, atol=1e-30)
    vs, gs = fl.gan_generator.value_and_grad(x, saturating=True, reduction="none")
    np.testing.assert_allclose(vs, -np.logaddexp(0, x.astype(F64)), rtol=1e-6)
    np.testing.assert_allclose(gs, -s, rtol=1e-6, atol=1e-30)
    assert np.isfinite(v).all() and np.isfinite(vs).all()


def test_gan_discriminator_parts_shapes_and_means():
    rng = np.random.default_rng(8)
    real, fake = rng.standard_normal((4, 3)), rng.standard_normal(7)
    none, (gr, gf) = fl.gan_discriminator.value_and_grad(real, fake, reduction="none")
    assert isinstance(none, tuple) and none[0].shape == (4, 3) and none[1].shape == (7,)
    np.testing.assert_allclose(none[0], np.logaddexp(0, -real), rtol=1e-15)
    np.testing.assert_allclose(none[1], np.logaddexp(0, fake), rtol=1e-15)
    mean, (dr, df) = fl.gan_discriminator.value_and_grad(real, fake)
    assert mean == pytest.approx(none[0].mean() + none[1].mean(), rel=1e-14)
    np.testing.assert_allclose(dr, gr / 12, rtol=1e-15)
    np.testing.assert_allclose(df, gf / 7, rtol=1e-15)
    g = fl.gan_discriminator.grad(real, fake)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_array_equal(g[0], dr)
    np.testing.assert_array_equal(g[1], df)


def test_gan_discriminator_equals_two_bce_with_logits():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal(10) * 5, rng.standard_normal(6) * 5
    real[0], fake[0] = -1e4, 1e4
    for reduction in ("sum", "mean"):
        v = fl.gan_discriminator(real, fake, reduction=reduction)
        expected = (fl.binary_cross_entropy_with_logits(real, np.ones(10), reduction=reduction)
                    + fl.binary_cross_entropy_with_logits(fake, np.zeros(6), reduction=reduction))
        assert v == pytest.approx(expected, rel=1e-14)
        assert np.isfinite(v)


def test_gan_discriminator_sample_weight_pair():
    real, fake = np.array([0.5, -1.0]), np.array([2.0, 0.0, 1.0])
    wr, wf = np.array([1.0, 3.0]), np.array([2.0, 1.0, 1.0])
    v = fl.gan_discriminator(real, fake, sample_weight=(wr, wf))
    lr, lf = np.logaddexp(0, -real), np.logaddexp(0, fake)
    assert v == pytest.approx((wr @ lr) / 4 + (wf @ lf) / 4, rel=1e-14)
    v1 = fl.gan_discriminator(real, fake, sample_weight=(None, wf))
    assert v1 == pytest.approx(lr.mean() + (wf @ lf) / 4, rel=1e-14)


@pytest.mark.parametrize("sw", [np.ones(2), (np.ones(2),), (np.ones(3), np.ones(3))])
def test_gan_discriminator_sample_weight_errors(sw):
    with pytest.raises(ValueError, match="sample_weight"):
        fl.gan_discriminator(np.zeros(2), np.zeros(3), sample_weight=sw)


def test_gan_discriminator_dtype_mismatch():
    with pytest.raises(TypeError, match="same dtype"):
        fl.gan_discriminator(np.zeros(2, np.float32), np.zeros(3))
    with pytest.raises(TypeError, match="fake_logits"):
        fl.gan_discriminator(np.zeros(2), np.zeros(3, dtype=int))


def test_nan_logit_gives_nan_in_gan_losses():
    x = np.array([0.5, np.nan])
    for sat in (False, True):
        v, g = fl.gan_generator.value_and_grad(x, saturating=sat, reduction="none")
        assert np.isnan(v[1]) and np.isnan(g[1]) and np.isfinite(v[0])
    (vr, vf), (gr, gf) = fl.gan_discriminator.value_and_grad(x, x[::-1], reduction="none")
    assert np.isnan(vr[1]) and np.isnan(vf[0]) and np.isnan(gr[1]) and np.isnan(gf[0])


# ----------------------------------------------------------------- domains (issue 12): the kernels
# check them in their one pass; a NaN passes and propagates.


def test_bce_target_2_is_refused():
    """torch computes 0.693 for p = 0.5, target 2 (a plausible number for a wrong input)."""
    with pytest.raises(ValueError, match=r"^binary_cross_entropy\(\): target must be in \[0, 1\]"
                                         r".*found 2\.0 at flat index 1$"):
        fl.binary_cross_entropy(np.array([0.5, 0.5]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\].*found -0\.5 at flat index 0"):
        fl.binary_cross_entropy.grad(np.array([0.5, 0.5], np.float32), np.array([-0.5, 1.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [2.0, -1.0])
def test_bce_with_logits_target_2_is_refused_with_an_argument_order_hint(dtype, bad):
    """torch gives a negative or arbitrary loss for a target of 2 or -1; the front door (native
    contiguous float arrays) and the general path (a list) give the same message."""
    x = np.array([0.3, -1.2, 2.0], dtype=dtype)
    t = np.array([1.0, 0.0, bad], dtype=dtype)
    match = (r"^binary_cross_entropy_with_logits\(\): target must be in \[0, 1\].*Keras/scikit-learn"
             rf" order \(y_true, y_pred\).*found {bad!r} at flat index 2$")
    for fn in (fl.binary_cross_entropy_with_logits, fl.binary_cross_entropy_with_logits.grad,
               fl.binary_cross_entropy_with_logits.value_and_grad):
        with pytest.raises(ValueError, match=match):
            fn(x, t)
        with pytest.raises(ValueError, match=match):
            fn(list(x), list(t), pos_weight=[2.0])  # the general path, the factor loop
    with pytest.raises(ValueError, match=match):
        fl.binary_cross_entropy_with_logits.grad_hess(x, t)


def test_bce_with_logits_in_keras_argument_order_is_refused():
    """(y_true, y_pred) instead of (pred, target): the logits land in the target."""
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    logits = np.array([0.4, -2.5, 3.0, 0.1])
    with pytest.raises(ValueError, match=r"order \(y_true, y_pred\).*found -2\.5 at flat index 1"):
        fl.binary_cross_entropy_with_logits(y_true, logits)
    assert np.isfinite(fl.binary_cross_entropy_with_logits(logits, y_true))


def test_focal_target_outside_0_1_is_refused_for_logits_and_probabilities():
    for gamma in (2.0, 1.5):  # the gamma = 2 kernel and the general one
        with pytest.raises(ValueError, match=r"^focal\(\): target must be in \[0, 1\].*found "
                                             r"1\.5 at flat index 1$"):
            fl.focal.value_and_grad(np.zeros(3), np.array([0.0, 1.5, 1.0]), gamma=gamma)
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\].*found -1\.0 at flat index 0"):
        fl.focal(np.full(2, 0.5), np.array([-1.0, 1.0]), from_logits=False)


def test_hinge_and_squared_hinge_targets_checked_in_the_kernel_pass(threads):
    """All in {-1, 1} or all in {0, 1}: the first value outside {-1, 0, 1}, or the element that
    completes a mix of -1 and 0, here across blocks of 8192 elements and two threads."""
    n = 3 * 8192 + 5
    t = np.ones(n)
    t[100] = -1.0
    t[2 * 8192 + 7] = 0.0  # the mix completes here
    t[2 * 8192 + 9] = 3.0  # a value outside the set, later
    x = np.zeros(n, np.float32)
    for loss in (fl.hinge, fl.squared_hinge):
        for n_threads in (1, 2):
            threads(n_threads)
            with pytest.raises(ValueError, match=rf"found 0\.0 at flat index {2 * 8192 + 7}$"):
                loss.grad(x, t.astype(np.float32))
    t[2 * 8192 + 7] = 1.0
    with pytest.raises(ValueError, match=rf"found 3\.0 at flat index {2 * 8192 + 9}$"):
        fl.hinge(x, t)


def test_hinge_nan_target_passes_and_gives_nan():
    """The NaN policy: a NaN target is no domain error; that element's loss and gradient are
    NaN (the sign of NaN is NaN, not -1)."""
    for loss in (fl.hinge, fl.squared_hinge):
        v, g = loss.value_and_grad(np.array([0.5, 0.5, 0.5]), np.array([1.0, np.nan, -1.0]),
                                   reduction="none")
        assert np.isnan(v[1]) and np.isnan(g[1])
        assert np.isfinite(v[[0, 2]]).all() and np.isfinite(g[[0, 2]]).all()


@pytest.mark.parametrize("loss,kw", [
    (fl.binary_cross_entropy, {}), (fl.binary_cross_entropy_with_logits, {}),
    (fl.focal, {}), (fl.focal, {"gamma": 0.5}), (fl.focal, {"from_logits": False}),
])
def test_nan_target_passes_the_domain_check_and_propagates(loss, kw):
    x = np.array([0.25, 0.5, 0.75])
    v, g = loss.value_and_grad(x, np.array([1.0, np.nan, 0.0]), reduction="none", **kw)
    assert np.isnan(v[1]) and np.isnan(g[1]) and np.isfinite(v[[0, 2]]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_domain_error_in_place_reports_the_original_value(dtype, threads):
    """With out=pred the blocks before the offending one already hold gradients; the message
    still gives the offending element's own value and index, in both paths."""
    n = 4 * 8192
    x = np.linspace(0.05, 0.95, n).astype(dtype)
    t = np.zeros(n, dtype)
    x[3 * 8192 + 11] = 1.25
    for n_threads in (1, 2):
        threads(n_threads)
        xx = x.copy()
        with pytest.raises(ValueError, match=rf"pred must be in \[0, 1\].*found 1\.25 at flat "
                                             rf"index {3 * 8192 + 11}$"):
            fl.binary_cross_entropy.grad(xx, t, out=xx)
        assert xx[3 * 8192 + 11] == dtype(1.25)
    t[5] = -2.0  # a bad target, with the logits overwritten in place: door and general path
    for kw in ({}, {"pos_weight": np.array([2.0], dtype)}):
        xx = x.copy()
        with pytest.raises(ValueError, match=r"target must be in \[0, 1\].*found -2\.0 at flat "
                                             r"index 5$"):
            fl.binary_cross_entropy_with_logits.value_and_grad(xx, t, out=xx, **kw)
