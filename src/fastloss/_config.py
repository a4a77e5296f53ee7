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
        threads, where GNU OpenMP cannot start threads again, and 1 in a build without OpenMP.

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
    if not _kernels.have_openmp() or not _kernels.teams_available():
        return 1
    return THREADS[0] or _kernels.default_threads()


def set_buffer_cache(max_bytes: int | None) -> None:
    """Set how much memory fastloss keeps for reuse by the large arrays it returns.

    A plain call on a large input returns a fresh gradient; allocations that large go to the
    operating system and back on every call, and first touching their pages costs more than
    the kernel itself (and a different amount each time). fastloss therefore allocates results
    of 4 MiB and more from a small cache: when such an array is freed, its memory is kept,
    warm, for the next result of about the same size - as in a training loop that drops each
    step's gradient.

    Parameters
    ----------
    max_bytes : int or None
        The most memory the cache keeps (at most 8 blocks); 0 turns it off, None restores the
        default of 1 GiB. Memory beyond a new limit is released at once.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        ``max_bytes`` is not an integer.
    ValueError
        ``max_bytes`` is negative.

    See Also
    --------
    show_config : Reports the cache's size and what it holds.
    torch.cuda.empty_cache : The same idea in PyTorch's caching allocator.

    Notes
    -----
    Arrays from the cache are ordinary NumPy arrays; their ``base`` is the cache block that
    owns the memory. Passing ``out=`` avoids the allocation altogether.

    Examples
    --------
    >>> import fastloss as fl
    >>> fl.set_buffer_cache(0)            # every result freshly allocated
    >>> fl.set_buffer_cache(None)         # back to the default
    >>> fl.show_config(print_out=False)["buffer_cache"]
    '0 MiB held of 1024 MiB'
    """
    if max_bytes is None:
        max_bytes = 1 << 30
    try:
        n = operator.index(max_bytes)
    except TypeError:
        raise TypeError(
            f"set_buffer_cache(): max_bytes must be an integer or None, got "
            f"{type(max_bytes).__name__} {max_bytes!r}"
        ) from None
    if n < 0:
        raise ValueError(f"set_buffer_cache(): max_bytes must be >= 0, got {n}")
    _kernels.set_cache_limit(min(n, 2**63 - 1))


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
    ['buffer_cache', 'fastloss', 'machine', 'numpy', 'openmp', 'python', 'simd', 'threads',
     'vector_math']
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
        "buffer_cache": "{1:.0f} MiB held of {2:.0f} MiB".format(
            *(v / 2**20 for v in _kernels.cache_info())),
    }
    if print_out:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return info
