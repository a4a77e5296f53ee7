"""Focused tests of fastloss.ssd_multibox: hand-computed cases, hard negative mining (count,
ties, selection against the sort-based reference), zero positives, ignored anchors,
validation, dtypes and threads. The shared suite covers the registry cases on top of these."""

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference

REDUCTIONS = ["none", "sum", "mean"]


def _batch(rng, n=3, a=50, c=5, p_pos=0.15, dtype=np.float64):
    lp = rng.standard_normal((n, a, 4)).astype(dtype)
    lt = rng.standard_normal((n, a, 4)).astype(dtype)
    x = (rng.standard_normal((n, a, c)) * 2).astype(dtype)
    u = rng.random((n, a))
    cls = rng.integers(1, max(c, 2), size=(n, a))
    y = np.where(u < p_pos, cls, np.where(u < p_pos + 0.1, -1, 0))
    return lp, lt, x, y


def _close(actual, expected, rtol=1e-12, atol=1e-14):
    if isinstance(expected, tuple):
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def test_hand_computed_example():
    """One image, 4 anchors, 2 classes: anchor 0 positive (class 1), anchors 1-3 background.
    neg_pos_ratio=2 keeps the two negatives with the largest -log p(background)."""
    x = np.array([[[0.0, 1.0], [2.0, 0.0], [0.0, 3.0], [0.0, 0.5]]])
    y = np.array([[1, 0, 0, 0]])
    lp = np.zeros((1, 4, 4))
    lt = np.zeros((1, 4, 4))
    lp[0, 0] = [0.5, -2.0, 0.0, 1.0]  # smooth-L1 (beta 1): 0.125 + 1.5 + 0 + 0.5
    lt[0, 1] = [9.0, 9.0, 9.0, 9.0]  # a negative: its box is never counted
    bg = np.log1p(np.exp(x[0, :, 1] - x[0, :, 0]))  # -log p(background) = softplus(x1 - x0)
    # negatives 1, 2, 3 have bg losses softplus(-2), softplus(3), softplus(0.5): keep 2 and 3
    conf = np.log1p(np.exp(x[0, 0, 0] - x[0, 0, 1])) + bg[2] + bg[3]
    loc = 0.125 + 1.5 + 0.0 + 0.5
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, neg_pos_ratio=2, reduction="sum")
    assert v == pytest.approx(loc + conf, rel=1e-14)
    np.testing.assert_allclose(gl[0, 0], [0.5, -1.0, 0.0, 1.0])
    assert not np.any(gl[0, 1:])
    p = np.exp(reference.log_softmax(x[0]))
    np.testing.assert_allclose(gc[0, 0], p[0] - [0, 1], rtol=1e-14)
    assert not np.any(gc[0, 1])
    np.testing.assert_allclose(gc[0, 2:], p[2:] - [1, 0], rtol=1e-14)
    # 'mean' divides by the single positive; 'none' is the per-image sum
    assert fl.ssd_multibox(lp, lt, x, y, neg_pos_ratio=2) == pytest.approx(v, rel=1e-15)
    assert fl.ssd_multibox(lp, lt, x, y, neg_pos_ratio=2, reduction="none")[0] == v


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mining_against_sort_reference_with_ties(reduction, rng):
    """Many shapes, ratios, betas, with exact ties (identical logit rows) in the background
    loss: the selected set (and so every gradient row) equals the lexsort reference."""
    for trial in range(60):
        n, a, c = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 80), rng.integers(1, 6)))
        lp, lt, x, y = _batch(rng, n, a, c, p_pos=rng.uniform(0, 0.5))
        if c == 1:
            y = np.minimum(y, 0)
        if trial % 2 and a > 3:
            x[:, ::3] = x[:, :1]  # exact ties, broken by anchor index
            x[:, 1::4] = x[:, 2:3]
        kw = {"neg_pos_ratio": rng.choice([0, 0.5, 1, 3, 1000]), "beta": rng.choice([0, 0.3, 1.0])}
        v, g = fl.ssd_multibox.value_and_grad(lp, lt, x, y, reduction=reduction, **kw)
        rv, rg = reference.ssd_multibox(lp, lt, x, y, reduction=reduction, **kw)
        _close(v, rv)
        _close(g, rg)


def test_ties_go_to_the_lower_index():
    x = np.zeros((1, 6, 3))
    x[0, 0] = [0.0, 5.0, 0.0]  # the positive
    y = np.array([[1, 0, 0, 0, 0, 0]])  # five negatives with equal background loss
    z = np.zeros((1, 6, 4))
    _, (_, gc) = fl.ssd_multibox.value_and_grad(z, z, x, y, neg_pos_ratio=2)
    chosen = np.any(gc[0] != 0, axis=-1)
    np.testing.assert_array_equal(chosen, [True, True, True, False, False, False])


def test_negative_count_is_floor_ratio_times_positives(rng):
    lp, lt, x, y = _batch(rng, n=1, a=200, c=4, p_pos=0.1)
    n_pos = int((y > 0).sum())
    for ratio, expected in ((0, 0), (1.5, int(1.5 * n_pos)), (3, 3 * n_pos), (1e6, None)):
        _, (_, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, neg_pos_ratio=ratio)
        used_neg = int(np.sum(np.any(gc[0] != 0, axis=-1) & (y[0] == 0)))
        assert used_neg == (int((y == 0).sum()) if expected is None else expected)


def test_hardest_negatives_are_chosen(rng):
    lp, lt, x, y = _batch(rng, n=1, a=300, c=4)
    _, (_, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y)
    bg = -reference.log_softmax(x)[0, :, 0]
    neg = y[0] == 0
    chosen = np.any(gc[0] != 0, axis=-1) & neg
    assert bg[chosen].min() > bg[neg & ~chosen].max()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_positives_is_zero_with_zero_gradient(reduction, rng):
    lp, lt, x, y = _batch(rng)
    y = np.minimum(y, 0)
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, reduction=reduction)
    assert np.all(v == 0)
    assert not np.any(gl) and not np.any(gc)


def test_image_without_positives_contributes_nothing(rng):
    lp, lt, x, y = _batch(rng)
    y[1] = np.minimum(y[1], 0)
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, reduction="none")
    assert v[1] == 0 and not np.any(gl[1]) and not np.any(gc[1])
    mean = fl.ssd_multibox(lp, lt, x, y)
    assert mean == pytest.approx(v.sum() / (y > 0).sum(), rel=1e-14)


def test_ignored_anchors_never_count(rng):
    lp, lt, x, y = _batch(rng)
    ign = y == -1
    assert ign.any()
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, reduction="none")
    assert not np.any(gl[ign]) and not np.any(gc[ign])
    x2, lp2 = x.copy(), lp.copy()
    x2[ign] = 1e3  # anything at all
    lp2[ign] = np.nan
    np.testing.assert_array_equal(fl.ssd_multibox(lp2, lt, x2, y, reduction="none"), v)


def test_beta_zero_is_l1(rng):
    lp, lt, x, y = _batch(rng)
    v0, (g0, _) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, beta=0.0, neg_pos_ratio=0,
                                                 reduction="sum")
    pos = y > 0
    d = lp - lt
    ce = -np.take_along_axis(reference.log_softmax(x), np.where(pos, y, 0)[..., None], -1)[..., 0]
    assert v0 == pytest.approx(np.abs(d)[pos].sum() + ce[pos].sum(), rel=1e-13)
    np.testing.assert_array_equal(g0, np.where(pos[..., None], np.sign(d), 0.0))


def test_matches_torch_composite(rng):
    """Against torch smooth_l1_loss + cross_entropy on the anchors the reference selects."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    lp, lt, x, y = _batch(rng, n=4, a=120, c=6)
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y, beta=0.7)
    _, (_, rgc) = reference.ssd_multibox(lp, lt, x, y, beta=0.7)
    chosen = torch.from_numpy(np.any(rgc != 0, axis=-1))
    pos = torch.from_numpy(y > 0)
    tlp = torch.from_numpy(lp).requires_grad_(True)
    tx = torch.from_numpy(x).requires_grad_(True)
    loc = F.smooth_l1_loss(tlp[pos], torch.from_numpy(lt)[pos], beta=0.7, reduction="sum")
    cls = torch.from_numpy(np.where(y > 0, y, 0))
    conf = F.cross_entropy(tx[chosen], cls[chosen], reduction="sum")
    total = (loc + conf) / pos.sum()
    total.backward()
    assert v == pytest.approx(total.item(), rel=1e-12)
    np.testing.assert_allclose(gl, tlp.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gc, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_grad_and_value_and_grad_return_tuples(rng):
    lp, lt, x, y = _batch(rng, dtype=np.float32)
    g = fl.ssd_multibox.grad(lp, lt, x, y)
    assert isinstance(g, tuple) and len(g) == 2
    assert g[0].shape == lp.shape and g[1].shape == x.shape
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt, x, y)
    assert v.dtype == np.float32 and np.ndim(v) == 0
    np.testing.assert_array_equal(gl, g[0])
    np.testing.assert_array_equal(gc, g[1])


def test_mixed_dtypes_promote(rng):
    lp, lt, x, y = _batch(rng)
    v, (gl, gc) = fl.ssd_multibox.value_and_grad(lp, lt.astype(np.float32), x.astype(np.float32), y)
    assert v.dtype == np.float64 and gl.dtype == np.float64 and gc.dtype == np.float64
    rv, _ = reference.ssd_multibox(lp, lt.astype(np.float32), x.astype(np.float32), y)
    assert v == pytest.approx(rv, rel=1e-12)


def test_nan_in_positive_gives_nan(rng):
    lp, lt, x, y = _batch(rng)
    i, j = np.argwhere(y > 0)[0]
    lp[i, j, 2] = np.nan
    v = fl.ssd_multibox(lp, lt, x, y, reduction="none")
    assert np.isnan(v[i]) and not np.any(np.isnan(np.delete(v, i)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_bit_identical(dtype, rng, threads):
    lp, lt, x, y = _batch(rng, n=12, a=3000, c=8, dtype=dtype)
    x[:, ::5] = x[:, :1]  # ties
    out = []
    for n in (1, 2, 4):
        threads(n)
        out.append([fl.ssd_multibox.value_and_grad(lp, lt, x, y, reduction=r) for r in REDUCTIONS])
    for other in out[1:]:
        for (v, (gl, gc)), (v1, (gl1, gc1)) in zip(other, out[0]):
            assert v.tobytes() == v1.tobytes()
            assert gl.tobytes() == gl1.tobytes() and gc.tobytes() == gc1.tobytes()


# ------------------------------------------------------------------------------ validation

@pytest.mark.parametrize("change,match", [
    (lambda a: a.update(lp=a["lp"][..., :3]), r"loc_pred must have shape \(N, A, 4\)"),
    (lambda a: a.update(lt=a["lt"][:, :5]), "loc_target must have loc_pred's shape"),
    (lambda a: a.update(x=a["x"][:, :5]), r"conf_logits must have shape \(N=3, A=50, C\)"),
    (lambda a: a.update(x=a["x"][..., :0]), "at least one class"),
    (lambda a: a.update(y=a["y"][:, :5]), r"labels must have shape \(N=3, A=50\)"),
    (lambda a: a["y"].__setitem__((1, 7), 5), r"labels\[1, 7\]=5 is out of range"),
    (lambda a: a["y"].__setitem__((2, 3), -2), r"labels\[2, 3\]=-2 is out of range"),
    (lambda a: a.update(ratio=-1), "ssd_multibox\(\): neg_pos_ratio must be"),
    (lambda a: a.update(ratio=np.inf), "ssd_multibox\(\): neg_pos_ratio must be"),
    (lambda a: a.update(beta=-0.1), "ssd_multibox\(\): beta must be"),
    (lambda a: a.update(beta=np.nan), "ssd_multibox\(\): beta must be"),
])
def test_bad_input_is_a_value_error(change, match, rng):
    lp, lt, x, y = _batch(rng)
    a = {"lp": lp, "lt": lt, "x": x, "y": y, "ratio": 3, "beta": 1.0}
    change(a)
    with pytest.raises(ValueError, match=match):
        fl.ssd_multibox(a["lp"], a["lt"], a["x"], a["y"], neg_pos_ratio=a["ratio"], beta=a["beta"])


def test_type_errors(rng):
    lp, lt, x, y = _batch(rng)
    with pytest.raises(TypeError, match="conf_logits must be a float16"):
        fl.ssd_multibox(lp, lt, x.astype(np.int32), y)
    with pytest.raises(TypeError, match="labels must hold integers"):
        fl.ssd_multibox(lp, lt, x, y.astype(float))
