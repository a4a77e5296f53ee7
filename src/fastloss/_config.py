"""Build and runtime facts, for bug reports and benchmark logs."""

from __future__ import annotations

import platform

import numpy as np

from . import _kernels
from ._api import get_num_threads


def show_config(print_out: bool = True) -> dict:
    """Report how this fastloss was built and what it will use: the SIMD clone chosen for this
    CPU, vector math, OpenMP, threads, platform. Returns the facts as a dict."""
    from . import __version__

    info = {
        "fastloss": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "simd": _kernels.simd_path(),
        "vector_math": "glibc libmvec" if _kernels.have_libmvec() else "scalar libm",
        "openmp": _kernels.have_openmp(),
        "threads": get_num_threads(),
    }
    if print_out:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return info
