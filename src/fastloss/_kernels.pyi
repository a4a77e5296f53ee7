# Stubs for the compiled module fastloss._kernels (src/fastloss/_kernels.pyx).
# Private: the typed wrappers the Python layer (fastloss._api) calls. Arguments are flat,
# C-contiguous float32/float64 arrays (int64 for labels, float64 for class weights) or None;
# every kernel returns (status, reduced value, offending index or -1).
from typing import Any

import numpy as np
from numpy.typing import NDArray

_Real = NDArray[np.float32] | NDArray[np.float64]
_Opt = _Real | None
_Result = tuple[int, float, int]

ELEMENTWISE: tuple[str, ...]

def default_threads() -> int: ...
def have_openmp() -> bool: ...
def elementwise(
    name: str, x: _Real, y: _Real, sw: _Opt, delta: float, reduction: int,
    denom_scale: float, loss: _Opt, grad: _Opt, n_threads: int,
) -> _Result: ...
def check_binary_targets(y: _Real) -> _Result: ...
def ce_index(
    n: int, c: int, logits: _Real, labels: NDArray[np.int64], sw: _Opt,
    cw: NDArray[np.float64] | None, ignore_index: int, eps: float, inv_t: float,
    reduction: int, loss: _Opt, grad: _Opt, n_threads: int,
) -> _Result: ...
def ce_prob(
    n: int, c: int, logits: _Real, target: _Real, sw: _Opt, cw: NDArray[np.float64] | None,
    eps: float, inv_t: float, reduction: int, loss: _Opt, grad: _Opt, n_threads: int,
) -> _Result: ...
def dice(
    o_n: int, c: int, inner: int, pred: _Real, target: _Opt, labels: NDArray[np.int64] | None,
    sw: _Opt, smooth: float, from_logits: bool, reduction: int, loss: _Opt, grad: _Opt,
    n_threads: int,
) -> _Result: ...

# Kernels added to _kernels.pyx without a line here type as Any (a partial stub).
def __getattr__(name: str) -> Any: ...
