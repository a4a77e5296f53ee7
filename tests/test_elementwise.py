"""Properties shared by every elementwise loss (the fastloss._elementwise call path): NaN
propagation, shape errors, empty inputs."""

import numpy as np
import pytest

import fastloss as fl

ALL_EW = [fl.mse, fl.mae, fl.msle, fl.smooth_l1, fl.log_cosh, fl.binary_cross_entropy,
          fl.binary_cross_entropy_with_logits, fl.squared_hinge, fl.focal]


def _valid_inputs(loss):
    if loss is fl.binary_cross_entropy or loss is fl.msle:
        return np.array([0.25, 0.5, 0.75]), np.array([0.0, 1.0, 0.5])
    if loss is fl.squared_hinge:
        return np.array([0.25, 0.5, 0.75]), np.array([1.0, -1.0, 1.0])
    return np.array([0.25, -0.5, 0.75]), np.array([0.0, 1.0, 1.0])


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_nan_prediction_gives_nan(loss):
    x, t = _valid_inputs(loss)
    x[1] = np.nan
    reduction = "sum" if loss is fl.rmse else "none"
    v, g = loss.value_and_grad(x, t, reduction=reduction)
    assert np.isnan(v).any()
    assert np.isnan(g[1])
    if loss is not fl.rmse:
        assert np.isfinite(v[[0, 2]]).all() and np.isfinite(g[[0, 2]]).all()


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_shape_mismatch_is_a_value_error(loss):
    x, t = _valid_inputs(loss)
    with pytest.raises(ValueError, match="same shape"):
        loss(x, t[:2])


@pytest.mark.parametrize("loss", ALL_EW + [fl.rmse], ids=lambda f: f.__name__)
def test_empty_input(loss):
    x = np.zeros(0)
    assert loss(x, x, reduction="sum") == 0.0
    assert loss.grad(x, x, reduction="sum").shape == (0,)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(loss(x, x, reduction="mean"))  # 0 / 0, as torch
