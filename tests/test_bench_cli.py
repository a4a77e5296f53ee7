"""``python -m fastloss bench``, the main job's timing table and the benchmark peers: structure
and equivalence only - no timing thresholds."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastloss as fl
from fastloss import __main__ as cli
from fastloss import _bench, _peers

# a small shape per workload, for the equivalence checks
SMALL = {"cross_entropy": (16, 7), "mse": (50,), "mae": (50,), "huber": (50,), "hinge": (50,),
         "binary_cross_entropy_with_logits": (50,), "focal": (50,), "log_cosh": (50,),
         "kl_div": (8, 6), "distillation": (8, 6), "multi_margin": (8, 6),
         "dice": (2, 3, 8, 8), "ctc": (3, 100, 6)}
PAIRS = [(w, p) for w in _peers.WORKLOADS for p in w.peers]


@pytest.mark.parametrize("workload,peer", PAIRS, ids=[f"{w.name}-{p}" for w, p in PAIRS])
def test_every_peer_computes_fastlosses_value_and_gradient(workload, peer):
    """The peers are timed against fastloss, so each must compute the same thing (up to the
    documented conventions of scikit-learn: per-sample gradients, half losses)."""
    shape = SMALL[workload.loss.__name__]
    args, kw = workload.make(np.random.default_rng(0), np.float32, shape)
    kw = {"reduction": "mean", **kw}
    run = workload.peers[peer](args, kw, 1)
    if run is None:
        pytest.skip(f"{peer} is not installed")
    value, grad = run()
    expected_v, expected_g = workload.loss.value_and_grad(*args, **kw)
    value = float(value) * getattr(run, "value_scale", 1.0)
    grad = np.asarray(grad, dtype=np.float64) * getattr(run, "grad_scale", 1.0)
    np.testing.assert_allclose(value, float(expected_v), rtol=2e-5)
    np.testing.assert_allclose(grad, expected_g, rtol=2e-4,
                               atol=2e-6 * float(np.abs(expected_g).max()))


def test_select_by_loss_name_gives_every_shape_of_that_loss():
    ce = _bench.select(["cross_entropy"])
    assert [w.name for w in ce] == [w.name for w in _peers.WORKLOADS
                                    if w.loss is fl.cross_entropy]
    assert len(ce) == 4
    assert [w.name for w in _bench.select(["cross_entropy (4096, 1000)"])] == [
        "cross_entropy (4096, 1000)"]
    assert all("quick" in w.groups for w in _bench.select(groups=("quick",)))
    with pytest.raises(ValueError, match="unknown loss or workload nope"):
        _bench.select(["nope"])


def test_bench_command_prints_every_peer_the_fastest_and_targets(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "quiet_check", lambda cpus: None)
    monkeypatch.setattr(_bench, "busy_reason", lambda monitor, cpus: None)
    assert cli.main(["bench", "--losses", "mse (1000,),huber (1000,)", "--rounds", "1",
                     "--peers", "numpy"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("workload"))
    rows = lines[header + 2:header + 6]
    assert [r.split("  ")[0].strip() for r in rows] == [
        "mse (1000,)", "mse (1000,) hot loop", "huber (1000,)", "huber (1000,) hot loop"]
    for r in rows:
        assert "numpy" in r and r.rstrip().endswith("—")  # fastest peer named; not memory-bound
        assert "x" in r.split("numpy")[-1]  # a ratio was printed
    assert "targets:" in out
    assert any("mse (1000,) hot loop: >= 3x the fastest peer" in line and
               ("MET" in line) for line in lines)
    assert any("cross_entropy (4096, 1000)" in line and "not measured" in line for line in lines)


def test_a_busy_machine_withholds_the_ratios(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "quiet_check", lambda cpus: None)
    monkeypatch.setattr(_bench, "busy_reason",
                        lambda monitor, cpus: "other processes used 1.90 of 2 CPUs")
    assert cli.main(["bench", "--losses", "mse (1000,)", "--rounds", "1", "--peers",
                     "numpy", "--markdown"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| " + " | ".join(_bench.COLUMNS) + " |"
    assert all("| busy | busy |" in line for line in table[2:])
    assert "machine busy (other processes used 1.90 of 2 CPUs): ratios withheld" in out
    assert "targets:" not in out


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux's /proc/stat")
def test_busy_detection_counts_other_processes_not_this_one():
    """The benchmark's own threads must not make the machine look busy (a load average
    would); another process spinning must."""
    monitor = _bench.OtherCPU()
    end = time.monotonic() + 0.6
    while time.monotonic() < end:  # this process spinning
        pass
    own = monitor.cpus()
    monitor = _bench.OtherCPU()
    spin = subprocess.Popen([sys.executable, "-c",
                             "import time\nend = time.monotonic() + 0.8\n"
                             "while time.monotonic() < end: pass"])
    try:
        time.sleep(1.2)
        other = monitor.cpus()
    finally:
        spin.wait()
    assert other > 0.5, other  # ~0.8 s of a CPU over 1.2 s, less start-up
    assert own < other - 0.3, (own, other)
    assert _bench.busy_reason(_FixedCPU(1.5), 2).startswith("other processes used 1.50 of 2")
    assert _bench.busy_reason(_FixedCPU(0.1), 2) is None
    assert _bench.busy_reason(_FixedCPU(None), 2) is None


class _FixedCPU:
    def __init__(self, used):
        self.used = used

    def cpus(self):
        return self.used


def test_bandwidth_is_measured_beyond_the_cache(monkeypatch):
    monkeypatch.setattr(_bench, "last_level_cache", lambda: 8 * 2**20)
    bw = _bench.bandwidth(threads=1, repeats=1)
    assert bw["bytes"] >= 4 * bw["llc"] and bw["bytes"] >= 256 * 2**20
    assert bw["copy"] > 0 and bw["read"] > 0


def test_stream_probes_copy_and_sum():
    src = np.arange(100_000, dtype=np.float32)
    dst = np.zeros_like(src)
    from fastloss import _kernels

    _kernels.stream_copy(src, dst, 2)
    np.testing.assert_array_equal(dst, src)
    assert _kernels.stream_sum(src, 2) == pytest.approx(float(src.sum(dtype=np.float64)),
                                                        rel=1e-6)


def test_in_place_peak_memory_is_measured():
    got = _bench.inplace_peak(shape=(64, 1000))
    assert got["peak"] >= 0 and got["share"] == got["peak"] / (64 * 1000 * 4)


def test_help_shows_defaults_without_markup(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "(default: 9)" in out and "(default: all)" in out
    assert "``" not in out and "fastloss._" not in out and "registry" not in out


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastloss {fl.__version__}"


def test_main_job_self_check_and_timings(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "quiet_check", lambda cpus: None)
    monkeypatch.setattr(_bench, "busy_reason", lambda monitor, cpus: None)
    monkeypatch.setattr(cli, "timings", lambda quick: print("timings", quick))
    assert cli.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "self-check: all losses match the reference" in out and "timings True" in out


def test_a_subset_run_lists_only_the_targets_it_measured(monkeypatch):
    """The main job times a few workloads; its targets list must not be a page of
    'not measured'."""
    import io

    monkeypatch.setattr(_bench, "quiet_check", lambda cpus: None)
    monkeypatch.setattr(_bench, "busy_reason", lambda monitor, cpus: None)
    buf = io.StringIO()
    _bench.report(_bench.select(["mse (1000,)"]), 1, rounds=1, budget=1.0, markdown=False,
                  wanted=("numpy",), scaling=False, inplace=False, unmeasured_targets=False,
                  out=buf)
    targets = buf.getvalue().split("targets:")[1].strip().splitlines()
    assert len(targets) == 1 and "mse (1000,) hot loop: >= 3x the fastest peer" in targets[0]
    assert "not measured" not in buf.getvalue()


def test_memory_bound_rows_are_measured_against_a_copy_timed_alongside():
    """The bound of a memory-bound row is a copy of its prediction timed in the same rounds,
    so that the machine's bandwidth drift cannot make a row look faster or slower than it is."""
    w = next(w for w in _peers.WORKLOADS if w.name == "mse 1e7")
    assert w.memory_bound
    (row,) = _bench.measure(w, threads=1, rounds=2, budget=10.0, wanted=())
    assert len(row.times[_bench.COPY]) == 2
    assert row.copy_bytes == 2 * 4 * 10_000_000  # the prediction read and written once
    got = row.copy_gbs({"copy": 1e-9})  # the start-up probe is not used when the row has one
    assert got == pytest.approx(row.copy_bytes / np.median(row.times[_bench.COPY]) / 1e9)
    line = _bench.table([row], {"copy": 1.0, "llc": 1}, busy=False).splitlines()[-1]
    assert line.rstrip().endswith(f"{100 * row.gbs() / got:.0f}%")
