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
