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
