"""Bad input never crashes: hypothesis drives the public API with arbitrary arrays (bool, int,
float16/32/64, complex, object, strings; any shape including 0-size; NaN/inf/huge/out-of-range
values), label values, lengths, keyword values and ``out=`` arrays (tests/fuzz_harness.py). Every
outcome must be a result or a ValueError/TypeError.

The default run tries 200 derandomised examples; ``-m slow`` fuzzes for two minutes with fresh
randomness; ``python tools/fuzz.py --seconds 300`` is the standalone long run.
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

import fastloss as fl  # noqa: E402

import fuzz_harness as fh  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(fh.loss_calls())
def test_fuzz_public_api_raises_only_value_or_type_errors(call):
    desc, thunk = call
    with np.errstate(all="ignore"):
        msg = fh.check_call(desc, thunk)
    assert msg is None, msg


@pytest.mark.slow
def test_fuzz_long_run():
    iterations, findings = fh.run_for(120)
    print(f"fuzz: {iterations} iterations, {len(findings)} findings")
    assert not findings, "\n".join(findings)
    assert iterations > 1000


# ----------------------------------------------------------------------------- regressions
# Findings of the fuzzer, fixed in the library; each test is named after the bug.


_X = np.zeros((2, 3))
_HUGE = 10**400  # a Python int no double can hold: float() raised OverflowError


@pytest.mark.parametrize("call", [
    lambda v: fl.huber(_X, _X, delta=v),
    lambda v: fl.smooth_l1(_X, _X, beta=v),
    lambda v: fl.focal(_X, _X, gamma=v),
    lambda v: fl.focal(_X, _X, alpha=v),
    lambda v: fl.dice(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), smooth=v),
    lambda v: fl.cross_entropy(_X, [0, 1], temperature=v),
    lambda v: fl.cross_entropy(_X, [0, 1], label_smoothing=v),
    lambda v: fl.binary_cross_entropy_with_logits(_X, _X, label_smoothing=v),
    lambda v: fl.multi_margin(_X, [0, 1], margin=v),
    lambda v: fl.distillation(_X, _X, [0, 1], temperature=v),
    lambda v: fl.distillation(_X, _X, [0, 1], alpha=v),
    lambda v: fl.softmax(_X, temperature=v),
    lambda v: fl.logsumexp.grad(_X, temperature=v),
    lambda v: fl.ssd_multibox(np.zeros((1, 2, 4)), np.zeros((1, 2, 4)), np.zeros((1, 2, 3)),
                              [[1, 0]], neg_pos_ratio=v),
    lambda v: fl.ssd_multibox(np.zeros((1, 2, 4)), np.zeros((1, 2, 4)), np.zeros((1, 2, 3)),
                              [[1, 0]], beta=v),
])
@pytest.mark.parametrize("sign", [1, -1])
def test_bug_float_parameter_too_large_for_a_double_was_overflow_error(call, sign):
    with pytest.raises(ValueError, match="too large"):
        call(sign * _HUGE)


def test_bug_ignore_index_beyond_int64_was_overflow_error():
    with pytest.raises(ValueError, match="ignore_index"):
        fl.cross_entropy(_X, [0, 1], ignore_index=2**70)
    with pytest.raises(ValueError, match="ignore_index"):
        fl.cross_entropy(_X, [0, 1], ignore_index=-(2**63) - 1)
    # the int64 extremes themselves are fine
    assert np.isfinite(fl.cross_entropy(_X, [0, 1], ignore_index=2**63 - 1))


@pytest.mark.parametrize("n", [2**31, 2**62, 2**64, _HUGE])
def test_bug_set_num_threads_beyond_c_int_broke_every_later_call(n, threads):
    """set_num_threads accepted any int and every later kernel call raised OverflowError."""
    with pytest.raises(ValueError, match="set_num_threads"):
        threads(n)
    assert fl.mse(_X, _X) == 0.0  # the setting was not taken
    threads(2**31 - 1)  # the largest C int is accepted (capped by the work's blocks)
    assert fl.mse(_X, _X) == 0.0


@pytest.mark.parametrize("loss,extra", [
    (fl.mse, ()), (fl.binary_cross_entropy_with_logits, ()), (fl.gaussian_nll, (1.0,)),
    (fl.gaussian_nll, (np.ones(3),)), (fl.poisson, ()), (fl.focal, ())])
def test_bug_target_none_reached_the_kernels_as_a_null_array(loss, extra):
    """target=None passed for a two-input elementwise loss reached the kernel as NULL: the
    factor kernels (binary_cross_entropy_with_logits, gaussian_nll) crashed, the others read
    the prediction as the target and returned 0."""
    x = np.zeros(3)
    for fn in (loss, loss.grad, loss.grad_hess):
        with pytest.raises(TypeError, match="target must be an array, got None"):
            fn(x, None, *extra)

