import numpy as np
import pytest

import fastloss as fl


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def threads():
    """Set the global thread count for one test and restore the default afterwards."""
    yield fl.set_num_threads
    fl.set_num_threads(None)


def tol(dtype):
    """(rtol, atol) for comparing a kernel in `dtype` with the float64 reference."""
    return (1e-10, 1e-12) if np.dtype(dtype) == np.float64 else (2e-5, 2e-6)


def pytest_report_header(config):
    """Which fastloss the suite runs against (source tree or an installed wheel), and its build."""
    import os

    info = fl.show_config(print_out=False)
    where = os.path.dirname(fl.__file__)
    return f"fastloss {info['fastloss']} from {where} (openmp={info['openmp']}, numpy {info['numpy']})"


# ----------------------------------------------------------------------------- hypothesis profiles
# The property tests run twice: under the small derandomised "quick" profile (8 examples per
# test, reproducible) in the default run, and under "thorough" (300 random examples) marked slow
# (`python -m pytest -m slow`); see the `hypothesis_profile` fixture in test_properties.py.
# FASTLOSS_HYPOTHESIS=<profile> replaces "quick" in the default run.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "quick", max_examples=8, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile(
        "thorough", max_examples=300, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
except ImportError:  # hypothesis is a test extra; the modules that need it importorskip it
    settings = None


def default_profile() -> str:
    import os

    return os.environ.get("FASTLOSS_HYPOTHESIS", "quick")


def pytest_configure(config):
    if settings is not None:
        settings.load_profile(default_profile())
