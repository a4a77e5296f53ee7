"""The public surface: thread setting, Loss objects, names and signatures."""


import pytest

import fastloss as fl


def test_thread_setting(threads):
    threads(3)
    assert fl.get_num_threads() == 3
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
