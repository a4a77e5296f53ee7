# Type stubs for the public API of fastloss (the runtime code is __init__.py and _api.py).
#
# Every loss is a `Loss`; adding a loss to the package is one line here: `name: Loss`.
# Positional arguments are typed positional-only: the first one is the prediction the gradient
# is taken with respect to, the rest (targets, lengths, ...) are array-likes. Losses whose
# gradient is a tuple (one array per differentiated input) are `MultiGradLoss`.
from typing import Any, Callable, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

_Reduced = Literal["sum", "mean", "batchmean"]

class Loss:
    """A loss with its fused gradient: call for the value, `.grad` for the gradient w.r.t. the
    first argument, `.value_and_grad` for both from one kernel call."""

    __name__: str
    __qualname__: str
    def __init__(self, impl: Callable[..., tuple[Any, Any]]) -> None: ...
    # reduction="none": per-sample losses (an array); "sum"/"mean"/"batchmean": a NumPy scalar
    # of the prediction's dtype.
    @overload
    def __call__(
        self, pred: ArrayLike, /, *args: Any,
        reduction: Literal["none"], **options: Any,
    ) -> NDArray[np.floating[Any]]: ...
    @overload
    def __call__(
        self, pred: ArrayLike, /, *args: Any,
        reduction: _Reduced = ..., **options: Any,
    ) -> np.floating[Any]: ...
    @overload
    def __call__(
        self, pred: ArrayLike, /, *args: Any,
        reduction: str, **options: Any,
    ) -> np.floating[Any] | NDArray[np.floating[Any]]: ...
    def grad(
        self, pred: ArrayLike, /, *args: Any, **options: Any,
    ) -> NDArray[np.floating[Any]]: ...
    @overload
    def value_and_grad(
        self, pred: ArrayLike, /, *args: Any,
        reduction: Literal["none"], out: NDArray[np.floating[Any]] | None = ..., **options: Any,
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]: ...
    @overload
    def value_and_grad(
        self, pred: ArrayLike, /, *args: Any,
        reduction: _Reduced = ..., out: NDArray[np.floating[Any]] | None = ..., **options: Any,
    ) -> tuple[np.floating[Any], NDArray[np.floating[Any]]]: ...
    @overload
    def value_and_grad(
        self, pred: ArrayLike, /, *args: Any,
        reduction: str, out: NDArray[np.floating[Any]] | None = ..., **options: Any,
    ) -> tuple[np.floating[Any] | NDArray[np.floating[Any]], NDArray[np.floating[Any]]]: ...

class MultiGradLoss:
    """A loss differentiated w.r.t. several inputs: `.grad` returns one array per input."""

    __name__: str
    def __call__(self, *args: Any, **options: Any) -> Any: ...
    def grad(
        self, *args: Any, out: tuple[NDArray[np.floating[Any]], ...] | None = ..., **options: Any,
    ) -> tuple[NDArray[np.floating[Any]], ...]: ...
    def value_and_grad(
        self, *args: Any, out: tuple[NDArray[np.floating[Any]], ...] | None = ..., **options: Any,
    ) -> tuple[Any, tuple[NDArray[np.floating[Any]], ...]]: ...

class RowFunction:
    """softmax / log_softmax / logsumexp along an axis (not losses)."""

    __name__: str
    def __call__(
        self, x: ArrayLike, /, *, axis: int = ..., temperature: float = ...,
    ) -> Any: ...
    def vjp(
        self, x: ArrayLike, cotangent: ArrayLike, /, *, axis: int = ..., temperature: float = ...,
    ) -> NDArray[np.floating[Any]]: ...

class _LogSumExp(RowFunction):
    def grad(
        self, x: ArrayLike, /, *, axis: int = ..., temperature: float = ...,
    ) -> NDArray[np.floating[Any]]: ...
    def value_and_grad(
        self, x: ArrayLike, /, *, axis: int = ..., temperature: float = ...,
    ) -> tuple[Any, NDArray[np.floating[Any]]]: ...

def set_num_threads(n: int | None) -> None: ...
def get_num_threads() -> int: ...
def show_config(print_out: bool = True) -> dict[str, Any]: ...

# The losses, one line each (keep sorted).
binary_cross_entropy: Loss
binary_cross_entropy_with_logits: Loss
cross_entropy: Loss
ctc: Loss
dice: Loss
distillation: Loss
focal: Loss
gan_discriminator: MultiGradLoss
gan_generator: Loss
hinge: Loss
huber: Loss
kl_div: Loss
log_cosh: Loss
mae: Loss
mse: Loss
msle: Loss
multi_margin: Loss
rmse: Loss
smooth_l1: Loss
squared_hinge: Loss
ssd_multibox: MultiGradLoss

# Row functions (not losses).
log_softmax: RowFunction
logsumexp: _LogSumExp
softmax: RowFunction
