"""Process-wide settings (the thread count) and build facts (``show_config``)."""

from __future__ import annotations

import operator
import platform

import numpy as np

from . import _kernels

# The thread count every kernel call is given; 0 means the OpenMP default (OMP_NUM_THREADS,
# threadpoolctl). A one-element list, read by the loss implementations on each call.
THREADS = [0]

_C_INT_MAX = 2**31 - 1


def set_num_threads(n: int | None) -> None:
    """Set the number of threads every kernel may use.

    Parameters
    ----------
    n : int or None
        A positive count; ``None`` or 0 restores the OpenMP default (which follows
        ``OMP_NUM_THREADS`` and ``threadpoolctl``).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        ``n`` is not an integer.
    ValueError
        ``n`` is negative or larger than a C ``int``.

    See Also
    --------
    get_num_threads : The count in use now.
    threadpoolctl.threadpool_limits : Limits OpenMP (and so fastloss's default) from outside,
        for a block of code.
    torch.set_num_threads : The PyTorch equivalent.

    Notes
    -----
    The setting is process-wide. Inputs too small to gain from threads (below about 65,536
    elements) always run on one. Results are bit-identical for any setting: work is split
    into blocks fixed by the input's shape and their partial sums are added in block order.
    In a process forked after fastloss had started threads, kernels run on one thread whatever
    the setting: GNU OpenMP's thread pool does not survive ``fork()`` (a new parallel region
    would hang), so fastloss never starts one there. Use the "spawn" or "forkserver" start
    method to get threads in worker processes.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.set_num_threads(1)
    >>> fl.get_num_threads()
    1
    >>> fl.set_num_threads(None)  # back to the OpenMP default
    """
    if n is None:
        n = 0
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(
            f"set_num_threads(): n must be an integer or None, got {type(n).__name__} {n!r}"
        ) from None
    if n < 0:
        raise ValueError(f"set_num_threads(): n must be >= 0 or None, got {n}")
    if n > _C_INT_MAX:  # the kernels take a C int
        raise ValueError(f"set_num_threads(): n must be at most {_C_INT_MAX}, got {n}")
    THREADS[0] = n
    _kernels.door_threads(n)


def get_num_threads() -> int:
    """The number of threads a large kernel call will use now.

    Returns
    -------
    int
        The count set by :func:`set_num_threads`, or the OpenMP default (``OMP_NUM_THREADS``,
        or as limited by ``threadpoolctl``; the number of cores otherwise); 1 in a process
        forked (``os.fork``, multiprocessing's "fork" start method) after fastloss had run
        threads, where GNU OpenMP cannot start threads again.

    See Also
    --------
    set_num_threads : Sets the count.
    show_config : Reports it with the build facts.
    torch.get_num_threads : The PyTorch equivalent.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.get_num_threads() >= 1
    True
    """
    if not _kernels.teams_available():
        return 1
    return THREADS[0] or _kernels.default_threads()


def show_config(print_out: bool = True) -> dict:
    """Report how this fastloss was built and what it will use.

    Parameters
    ----------
    print_out : bool, default True
        Print the facts, one per line.

    Returns
    -------
    dict
        The version, NumPy and Python versions, machine, the SIMD clone chosen for this CPU,
        the vector math library, whether OpenMP is compiled in, and the thread count.

    See Also
    --------
    get_num_threads : The thread count alone.
    numpy.show_config : NumPy's build report.

    Examples
    --------
    >>> import fastloss as fl
    >>> info = fl.show_config(print_out=False)
    >>> sorted(info)  # doctest: +NORMALIZE_WHITESPACE
    ['fastloss', 'machine', 'numpy', 'openmp', 'python', 'simd', 'threads', 'vector_math']
    """
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
