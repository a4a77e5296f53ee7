"""Thread safety, the GIL, output aliasing and memory.

- Many Python threads calling the kernels at once on shared inputs give the bits of serial calls
  (with OpenMP teams inside each call), including ``out=`` (a per-thread ``threading.local``).
- The GIL is released inside the kernels: a Python thread makes progress during a long call.
- Results never share memory with the inputs unless ``out=`` asks for it; ``out=`` of the wrong
  shape, dtype or count is a ValueError for the multi-gradient losses too.
- (slow) A million small calls and a thousand large ones leave the resident set size flat.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastloss as fl
from fastloss._registry import CASES

IDS = [c.id for c in CASES]


def _parts(x, case):
    return tuple(x) if len(case.grad_args) > 1 and isinstance(x, tuple) else (x,)


def _bits(result, case):
    value, grad = result
    return tuple(np.asarray(p).tobytes() for p in _parts(value, case) + _parts(grad, case))


def _arrays(args, kw):
    out = [a for a in args if isinstance(a, np.ndarray)]
    for v in kw.values():
        if isinstance(v, np.ndarray):
            out.append(v)
        elif isinstance(v, tuple):
            out += [w for w in v if isinstance(w, np.ndarray)]
    return out


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_concurrent_calls_give_the_serial_bits(case, rng, threads):
    threads(2)  # OpenMP teams inside concurrent Python threads
    args, kw = case.make(rng, np.float32, case.bench_shapes[0], case.sample_weight)
    reds = case.reductions
    serial = {r: _bits(case.loss.value_and_grad(*args, reduction=r, **kw), case) for r in reds}

    def work(i):
        r = reds[i % len(reds)]
        if i % 3 == 0:  # out= from this thread only; other threads must never write into it
            g = case.loss.grad(*args, reduction=r, **kw)
            outs = tuple(np.full_like(p, np.nan) for p in _parts(g, case))
            out = outs if len(outs) > 1 else outs[0]
            v, g2 = case.loss.value_and_grad(*args, reduction=r, out=out, **kw)
            assert g2 is out
            return r, _bits((v, g2), case)
        return r, _bits(case.loss.value_and_grad(*args, reduction=r, **kw), case)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for r, bits in pool.map(work, range(48)):
            assert bits == serial[r], r


def test_out_is_per_thread(rng):
    """Threads alternating calls with and without out=: a call without out= never receives
    another thread's out= buffer, and every out= receives exactly its own gradient."""
    x = rng.standard_normal((64, 10)).astype(np.float32)
    labels = [rng.integers(0, 10, size=64) for _ in range(4)]
    expected = [fl.cross_entropy.grad(x, y) for y in labels]
    errors = []
    barrier = threading.Barrier(4)

    def work(k):
        barrier.wait()
        out = np.empty_like(x)
        for i in range(300):
            if i % 2:
                g = fl.cross_entropy.grad(x, labels[k], out=out)
                ok = g is out and np.array_equal(out, expected[k])
            else:
                g = fl.cross_entropy.grad(x, labels[k])
                ok = g is not out and np.array_equal(g, expected[k])
            if not ok:
                errors.append((k, i))
                return

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_the_gil_is_released_during_a_kernel(threads):
    """A Python thread counting in a loop keeps counting while the main thread is inside a
    long kernel call. With the GIL held, the counter could advance only during the call's few
    milliseconds of Python code; the test asks for a quarter of its free-running rate."""
    threads(1)
    x = np.random.default_rng(0).standard_normal((1500, 20000))  # 240 MB of float64
    y = np.zeros(1500, dtype=np.int64)
    out = np.empty_like(x)
    fl.cross_entropy.grad(x, y, out=out)  # warm (page faults of out)

    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=counter, daemon=True)
    t.start()
    try:
        ratios = []
        for _ in range(3):  # a loaded machine may starve the counter once
            c0, t0 = count[0], time.perf_counter()
            time.sleep(0.1)
            rate = (count[0] - c0) / (time.perf_counter() - t0)  # free-running (main asleep)
            c0, t0 = count[0], time.perf_counter()
            fl.cross_entropy.grad(x, y, out=out)
            dt = time.perf_counter() - t0
            during = count[0] - c0
            ratios.append(during / max(rate * dt, 1.0))
            print(f"kernel {dt * 1e3:.0f} ms, counter ratio {ratios[-1]:.2f}")
            if dt >= 0.05 and ratios[-1] > 0.25:
                break
        else:
            pytest.fail(f"the counter thread barely ran during the kernel: {ratios}")
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64],
                         ids=["f16", "f32", "f64"])
def test_results_never_alias_inputs(case, dtype, rng):
    args, kw = case.make(rng, np.float32 if dtype == np.float16 else dtype, case.shape,
                         case.sample_weight)
    if dtype == np.float16:
        args = [a.astype(np.float16) if isinstance(a, np.ndarray) and a.dtype == np.float32
                else a for a in args]
    inputs = _arrays(args, kw)
    for red in case.reductions:
        value, grad = case.loss.value_and_grad(*args, reduction=red, **kw)
        results = [np.asarray(p) for p in _parts(value, case) + _parts(grad, case)]
        results += [np.asarray(p) for p in _parts(case.loss(*args, reduction=red, **kw), case)]
        results += list(_parts(case.loss.grad(*args, reduction=red, **kw), case))
        for r in results:
            for a in inputs:
                assert not np.shares_memory(r, a), red
        for i, r in enumerate(results):  # nor each other (value vs gradient)
            for s in results[i + 1:]:
                assert not np.shares_memory(r, s) or r.size == 0, red


MULTI = [c for c in CASES if len(c.grad_args) > 1]


@pytest.mark.parametrize("case", MULTI, ids=[c.id for c in MULTI])
def test_out_validation_for_multi_gradient_losses(case, rng):
    args, kw = case.make(rng, np.float64, case.shape, case.sample_weight)
    grads = case.loss.grad(*args, **kw)
    good = tuple(np.empty_like(g) for g in grads)
    assert case.loss.grad(*args, out=good, **kw) is good
    for j in range(len(grads)):
        wrong_shape = list(good)
        wrong_shape[j] = np.empty(grads[j].shape + (1,))
        with pytest.raises(ValueError, match="out must have"):
            case.loss.grad(*args, out=tuple(wrong_shape), **kw)
        wrong_dtype = list(good)
        wrong_dtype[j] = np.empty(grads[j].shape, dtype=np.float32)
        with pytest.raises(ValueError, match="out must have"):
            case.loss.value_and_grad(*args, out=tuple(wrong_dtype), **kw)
        readonly = [np.empty_like(g) for g in grads]
        readonly[j].flags.writeable = False
        with pytest.raises(ValueError, match="writeable"):
            case.loss.grad(*args, out=tuple(readonly), **kw)
    with pytest.raises(ValueError, match="out"):
        case.loss.grad(*args, out=good[:1], **kw)  # too few arrays
    with pytest.raises(ValueError, match="out"):
        case.loss.grad(*args, out=good + (np.empty_like(good[0]),), **kw)  # too many
    with pytest.raises(ValueError, match="out"):
        case.loss.grad(*args, out=good[0], **kw)  # a single array for two gradients
    with pytest.raises(TypeError, match="out must be a NumPy array"):
        case.loss.grad(*args, out=(good[0], [0.0]), **kw)
    # an out= that is one of the inputs works (written through a temporary)
    a = list(args)
    a[case.grad_args[0]] = np.array(args[case.grad_args[0]])
    outs = (a[case.grad_args[0]],) + good[1:]
    got = case.loss.grad(*a, out=outs, **kw)
    for o, g in zip(got, grads):
        np.testing.assert_array_equal(o, g)


# ----------------------------------------------------------------------------- memory (slow)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_no_rss_growth_over_many_calls():
    rng = np.random.default_rng(0)
    # a million small calls over several losses and entry points
    p, t = rng.standard_normal(16), rng.standard_normal(16)
    z, y = rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)
    calls = [lambda: fl.mse.value_and_grad(p, t), lambda: fl.huber(p, t),
             lambda: fl.cross_entropy.value_and_grad(z, y), lambda: fl.softmax(z),
             lambda: fl.binary_cross_entropy_with_logits.grad(p, (t > 0).astype(float))]
    for _ in range(20_000):  # warm: allocator pools, caches
        for c in calls:
            c()
    before = _rss_bytes()
    for _ in range(200_000):
        for c in calls:
            c()
    small_growth = _rss_bytes() - before
    # a thousand large calls (16 MB of logits each, fresh gradient arrays)
    zl = rng.standard_normal((2000, 1000)).astype(np.float64)
    yl = rng.integers(0, 1000, size=2000)
    for _ in range(20):
        fl.cross_entropy.value_and_grad(zl, yl)
    before = _rss_bytes()
    for _ in range(1000):
        fl.cross_entropy.value_and_grad(zl, yl, reduction="none")
    large_growth = _rss_bytes() - before
    mb = 2**20
    assert small_growth < 16 * mb, f"RSS grew by {small_growth / mb:.1f} MB over 1e6 small calls"
    assert large_growth < 64 * mb, f"RSS grew by {large_growth / mb:.1f} MB over 1000 large calls"


_IDLE_CPU = """
import os, resource, sys, time
import numpy as np
import fastloss as fl
assert "GOMP_SPINCOUNT" not in os.environ or sys.argv[1] != "default"
fl.set_num_threads(2)
x = np.random.default_rng(0).standard_normal(4_000_000).astype(np.float32)
idle = []
for _ in range(5):
    fl.mse.value_and_grad(x, x * 0)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(0.2)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    idle.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
print(sorted(idle)[2])  # the median: one call's spin is what matters, not a VM's hiccup
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity")
                    else True, reason="needs 2 CPUs for a parallel kernel call")
@pytest.mark.skipif(not fl.show_config(print_out=False)["openmp"],
                    reason="a build without OpenMP has no worker threads")
def test_idle_workers_do_not_keep_a_cpu_busy():
    """After a parallel call returns, OpenMP's workers must not spin for long: next to another
    library's OpenMP runtime (XGBoost's, PyTorch's) they would take its threads' CPUs. libgomp
    spins ~10 ms per call unless told otherwise; fastloss loads it with a short spin, leaves the
    environment as it was, and honours a user's own GOMP_SPINCOUNT."""
    import subprocess
    import sys

    def idle_cpu(extra):
        env = {k: v for k, v in os.environ.items()
               if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
        env.update(extra)
        done = subprocess.run([sys.executable, "-c", _IDLE_CPU,
                               "default" if not extra else "user"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return float(done.stdout)

    assert idle_cpu({}) < 0.002  # measured here: 0.05-0.4 ms; libgomp's default 4-8 ms
    assert idle_cpu({"GOMP_SPINCOUNT": "3000000"}) > 0.005  # the user's setting is kept
