"""Sequence losses: alignments between an input sequence and a shorter label sequence.

ctc. Kernels: ``csrc/sequence.c``; reference: :mod:`fastloss.reference`; tests:
``tests/test_sequence.py``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, _kernels
from ._loss import Call, finish_grad, finish_value, loss, loss_buffer

__all__ = ["ctc"]


def _lengths(x, n: int, name: str) -> np.ndarray:
    a = _checks.int64_array(x, name)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one length per sample); got {a.shape}")
    if n and a.min() < 0:
        i = int(np.argmin(a))
        raise ValueError(f"{name} must be >= 0; got {a[i]} for sample {i}")
    return a


@loss
def ctc(call: Call, logits: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
        target_lengths: ArrayLike, *, blank: int = 0,
        reduction: Literal["none", "sum", "mean"] = "mean", zero_infinity: bool = False):
    r"""Connectionist temporal classification loss, with the log-softmax fused.

    .. math::

        \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_n)} \prod_{t=1}^{T_n}
            \operatorname{softmax}(x_{nt})_{\pi_t},

    the negative log-probability of target :math:`y_n` summed over every alignment :math:`\pi`
    of :math:`T_n` = ``input_lengths[n]`` steps that collapses to it (repeats merged, blanks
    removed), computed by the forward-backward recursion in log space. ``"mean"`` is
    :math:`\frac1N \sum_n \ell_n / \max(L_n, 1)` with :math:`L_n` = ``target_lengths[n]``
    (PyTorch 2.x), ``"sum"`` is :math:`\sum_n \ell_n`. The gradient with respect to the logits
    is :math:`\operatorname{softmax}(x_{nt}) - \gamma_{nt}` per step (times the reduction's
    scale), :math:`\gamma_{nt}` the posterior probability of each class at step :math:`t`.

    Parameters
    ----------
    logits : array_like of float, shape (N, T, C)
        Unnormalised scores, batch first: float16 (computed in float32), float32 or float64.
        Results have this dtype.
    targets : array_like of int, shape (N, S) or (sum(target_lengths),)
        Labels in ``[0, C)`` other than ``blank``. Padded: sample ``n`` uses
        ``targets[n, :target_lengths[n]]`` (the rest is ignored). Concatenated: the samples'
        targets one after another.
    input_lengths : array_like of int, shape (N,)
        :math:`0 \le T_n \le T`; steps ``t >= input_lengths[n]`` are ignored.
    target_lengths : array_like of int, shape (N,)
        :math:`0 \le L_n` (``<= S`` for padded targets).
    blank : int, default 0
        The blank class, in ``[0, C)``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"``: the per-sample losses :math:`\ell_n`; ``"sum"``: their sum; ``"mean"``: each
        divided by its target length (clamped to >= 1), averaged over the batch.
    zero_infinity : bool, default False
        Report the infinite loss of an impossible alignment (a target too long for its input) as
        0.

    Returns
    -------
    loss : numpy scalar or ndarray
        ``"mean"``, ``"sum"``: a NumPy scalar of ``logits``' dtype. ``"none"``: an array of shape
        ``(N,)``.
    grad : ndarray
        Returned by ``ctc.grad(...)``, and with the loss as ``(loss, grad)`` by
        ``ctc.value_and_grad(...)`` (one forward-backward pass): the gradient of the returned
        value with respect to ``logits`` (for ``"none"``: of the sum of the losses), of shape
        ``(N, T, C)`` and ``logits``' dtype. Both take the same arguments plus ``out=``: an array
        of that shape and dtype that receives the gradient and is returned.

    Raises
    ------
    TypeError
        ``logits`` is not a float16, float32 or float64 array; ``targets`` or a lengths array does
        not hold integers; ``blank`` is not an integer; ``zero_infinity`` is not a boolean.
    ValueError
        ``logits`` is not 3-d or has no class; ``blank`` outside ``[0, C)``; lengths of the wrong
        shape, negative, beyond ``T`` (or ``S``); concatenated ``targets`` whose length is not
        ``sum(target_lengths)``; a label out of range or equal to ``blank``; an unknown
        ``reduction``.

    See Also
    --------
    log_softmax : The normalisation fused into this loss.
    torch.nn.functional.ctc_loss : Equal to ``ctc_loss(log_softmax(logits, -1).transpose(0, 1),
        targets, input_lengths, target_lengths, blank, reduction, zero_infinity)``, values and
        gradients: torch takes log-probabilities, time first ``(T, N, C)``. Where an alignment is
        impossible torch's gradient is NaN without ``zero_infinity``; here it is 0.
    keras.losses.CTC : ``(y_true, y_pred)``, padded labels with 0 as both blank and padding, the
        full input length for every sample.
    optax.losses.ctc_loss : ``(logits, logit_paddings, labels, label_paddings, blank_id=0)``:
        padding masks instead of lengths; per-sample losses (``reduction="none"``).

    Notes
    -----
    A repeated label needs a blank between its copies, so a target needs
    :math:`L_n + (\text{number of adjacent repeats})` steps; a shorter input is an impossible
    alignment: loss ``inf`` (0 with ``zero_infinity``) and a zero gradient for that sample.
    ``input_lengths[n] = 0`` gives 0 for an empty target and ``inf`` otherwise. One sample per
    thread; scratch memory is per thread and sized by the longest sample, in double precision,
    so results are bit-identical for any thread count.

    Examples
    --------
    With two steps and two classes (blank 0, label 1) at uniform probabilities, the target
    ``[1]`` has three alignments (``11``, ``-1``, ``1-``) of probability 1/4 each:

    >>> import numpy as np
    >>> import fastloss as fl
    >>> logits = np.zeros((1, 2, 2))
    >>> args = (logits, np.array([[1]]), np.array([2]), np.array([1]))
    >>> print(f"{fl.ctc(*args):.6f}")  # -log(3/4)
    0.287682
    >>> print(np.round(fl.ctc.grad(*args), 6))
    [[[ 0.166667 -0.166667]
      [ 0.166667 -0.166667]]]
    >>> too_long = (logits, np.array([[1, 1]]), np.array([2]), np.array([2]))  # needs 3 steps
    >>> print(fl.ctc(*too_long), fl.ctc(*too_long, zero_infinity=True))
    inf 0.0
    """
    z = _checks.float_array(logits, "logits")
    dt = _checks.compute_dtype(z)
    result = _checks.result_dtype(z)
    code = _checks.reduction_code(reduction)
    zero_infinity = _checks.flag(zero_infinity, "zero_infinity")
    if z.ndim != 3:
        raise ValueError(f"logits must have shape (N, T, C); got shape {z.shape}")
    n, t_max, c = z.shape
    if c == 0:
        raise ValueError("logits must have at least one class (C >= 1, the blank)")
    blank = _checks.int_param(blank, "blank")
    if not 0 <= blank < c:
        raise ValueError(f"blank={blank} is out of range for C={c} classes")
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    if n and il.max() > t_max:
        i = int(np.argmax(il))
        raise ValueError(f"input_lengths[{i}]={il[i]} exceeds the number of time steps T={t_max}")
    tg = _checks.int64_array(targets, "targets")
    if tg.ndim == 2:
        if tg.shape[0] != n:
            raise ValueError(f"padded targets must have shape (N={n}, S); got {tg.shape}")
        s = tg.shape[1]
        if n and tl.max() > s:
            i = int(np.argmax(tl))
            raise ValueError(
                f"target_lengths[{i}]={tl[i]} exceeds the padded target length S={s}")
        used = np.arange(s)[None, :] < tl[:, None]
        offsets = np.arange(n, dtype=np.int64) * s
        where = np.argwhere(used)
        values = tg[used]
    elif tg.ndim == 1:
        total = int(tl.sum(dtype=object)) if n else 0  # exact: no int64 wrap-around
        if total != tg.shape[0]:
            raise ValueError(
                f"concatenated targets must have sum(target_lengths)={total} labels; "
                f"got {tg.shape[0]}")
        offsets = np.concatenate(([0], np.cumsum(tl)[:-1])).astype(np.int64)
        where = None
        values = tg
    else:
        raise ValueError(
            f"targets must be padded (N, S) or concatenated 1-D; got shape {tg.shape}")
    bad = (values < 0) | (values >= c) | (values == blank)
    if bad.any():
        j = int(np.argmax(bad))
        at = f"targets[{where[j][0]}, {where[j][1]}]" if where is not None else f"targets[{j}]"
        raise ValueError(
            f"{at}={values[j]} is not a valid label: expected values in [0, {c}) other than "
            f"blank={blank}")
    flat = tg.reshape(-1)
    zc = _checks.kernel_array(z, dt)
    loss_ = loss_buffer(call, code, n, dt)
    grad = call.grad_buffer(0, z.shape, dt, result, zc)
    rc, value, bad_i = _kernels.ctc(n, t_max, c, zc, flat, offsets, il, tl, blank, code,
                                    zero_infinity, loss_, grad, _config.THREADS[0])
    _checks.check_status(rc, bad_i, "invalid lengths or labels (kernel check, item {bad})")
    return (finish_value(value, loss_, code, (n,), result) if call.value else None,
            finish_grad(grad, z.shape, result) if call.grad else None)
