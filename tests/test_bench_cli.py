"""``python -m fastloss bench`` and the benchmark peers: structure and equivalence, no timings."""

from __future__ import annotations

import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss import _bench
from fastloss._registry import BY_ID, CASES

HUBER_CASES = _bench.select_cases(["huber"])


def _run(capsys, tmp_path, *extra):
    argv = ["bench", "--sizes", "small", "--repeats", "1", "--losses", "huber",
            "--bandwidth-mib", "4", "--plot", str(tmp_path / "bench.png"), *extra]
    assert cli.main(argv) == 0
    return capsys.readouterr().out


def test_bench_command_prints_table_targets_and_plot(capsys, tmp_path):
    out = _run(capsys, tmp_path)
    lines = out.splitlines()
    assert any(line.startswith("measured bandwidth") for line in lines)
    header = next(i for i, line in enumerate(lines) if line.startswith("loss "))
    assert lines[header].split() == [w for col in _bench.COLUMNS for w in col.split()]
    rows = []
    for line in lines[header + 2:]:
        if not line.strip():
            break
        rows.append(line)
    expected = [(c.id, str(tuple(c.bench_shapes[0])), d) for c in HUBER_CASES
                for d in ("float32", "float64")]
    assert [tuple(r.split()[:3]) for r in rows] == [(i, s.replace(" ", ""), d)
                                                    for i, s, d in expected]
    for r in rows:
        assert r.split()[3] != "—"  # fastloss was timed
    assert "targets (float32 unless stated):" in out
    assert "huber v+g f32 1e7" in out  # listed, "not measured" at small sizes
    assert "not measured" in out
    plot_line = next(line for line in lines if line.startswith("plot:"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in plot_line
    else:
        assert (tmp_path / "bench.png").stat().st_size > 0


def test_bench_markdown_table(capsys, tmp_path):
    out = _run(capsys, tmp_path, "--markdown", "--dtypes", "float32", "--no-plot")
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0] == "| " + " | ".join(_bench.COLUMNS) + " |"
    assert set(table[1].replace("|", "").replace("-", "").replace(":", "")) <= {""}
    assert len(table) == 2 + len(HUBER_CASES)
    for line in table:
        assert line.count("|") == len(_bench.COLUMNS) + 1
    assert table[2].startswith(f"| {HUBER_CASES[0].id} | {tuple(HUBER_CASES[0].bench_shapes[0])} "
                               "| float32 |")
    assert "plot:" not in out


def test_bench_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--losses", "no_such_loss"])
    with pytest.raises(SystemExit):
        cli.main(["bench", "--sizes", "huge"])
    assert "no_such_loss" in capsys.readouterr().err


def test_select_cases():
    assert [c.id for c in _bench.select_cases(["cross_entropy"])] == ["cross_entropy"]
    ce = [c.id for c in CASES if c.id.startswith("cross_entropy")]
    assert [c.id for c in _bench.select_cases(["cross_entropy*"])] == ce
    assert [c.id for c in _bench.select_cases(["hinge-01", "cross_entropy"])] == \
        ["cross_entropy", "hinge-01"]  # registry order
    assert _bench.select_cases([]) == list(CASES)
    with pytest.raises(ValueError, match="nope"):
        _bench.select_cases(["nope"])


def test_min_bytes_counts_inputs_and_gradient():
    case = BY_ID["cross_entropy"]
    args, kw = _bench.make_inputs(case, "small", np.float32)
    logits, labels = args
    assert kw["reduction"] == "mean"
    assert _bench.min_bytes(args, kw, "value") == logits.nbytes + labels.nbytes
    assert _bench.min_bytes(args, kw) == 2 * logits.nbytes + labels.nbytes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_case_has_fastloss_and_reference_peers(case):
    args, kw = case.make(np.random.default_rng(0), np.float64, case.shape, False)
    kw["reduction"] = _bench.reduction_for(case)
    vg = _bench.peers(case, args, kw, "value+grad")
    assert {"fastloss", "numpy-ref"} <= set(vg)
    v, g = vg["fastloss"]()
    rv, rg = vg["numpy-ref"]()
    for vk, rvk in zip(v if isinstance(v, tuple) else (v,), rv if isinstance(rv, tuple) else (rv,)):
        np.testing.assert_allclose(vk, rvk, rtol=1e-9, atol=1e-12)
    for gk, rgk in zip(g if isinstance(g, tuple) else (g,), rg if isinstance(rg, tuple) else (rg,)):
        np.testing.assert_allclose(gk, rgk, rtol=1e-9, atol=1e-12)
    value_peers = _bench.peers(case, args, kw, "value")
    assert "numpy-ref" not in value_peers
    np.testing.assert_allclose(value_peers["fastloss"](), rv, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.torch is not None],
                         ids=[c.id for c in CASES if c.torch is not None])
def test_torch_peer_computes_the_same_value_and_gradient(case):
    pytest.importorskip("torch")
    args, kw = case.make(np.random.default_rng(0), np.float64, case.shape, False)
    kw["reduction"] = _bench.reduction_for(case)
    value, grad = case.loss.value_and_grad(*args, **kw)
    tv, tg = _bench.torch_peer(case, args, kw, "value+grad", 1)()
    np.testing.assert_allclose(tv.numpy(), value, rtol=1e-9, atol=1e-12)
    for t, g in zip(tg if isinstance(tg, tuple) else (tg,), grad if isinstance(grad, tuple) else (grad,)):
        np.testing.assert_allclose(t.numpy(), g, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_bench.torch_peer(case, args, kw, "value", 1)().numpy(), value,
                               rtol=1e-9, atol=1e-12)


def test_sklearn_peers_compute_the_same_per_sample_quantities():
    pytest.importorskip("sklearn")
    ce = BY_ID["cross_entropy"]
    assert _bench.sklearn_spec(ce, *ce.make(np.random.default_rng(0), np.float64, (5, 3, 4),
                                            False)) is None  # classes not last in 2-D
    assert _bench.sklearn_spec(BY_ID["cross_entropy-axis1"],
                               *BY_ID["cross_entropy-axis1"].make(
                                   np.random.default_rng(0), np.float64, (2, 3, 4, 4), False)) is None
    checked = 0
    for case in CASES:
        args, kw = case.make(np.random.default_rng(0), np.float64, case.bench_shapes[0], False)
        kw["reduction"] = "mean"
        fn = _bench.sklearn_peer(case, args, kw, "value+grad", 1)
        if fn is None:
            continue
        checked += 1
        value, grad = case.loss.value_and_grad(*args, **kw)
        sv, sg = fn()
        n = np.asarray(args[0]).shape[0] if case.loss.__name__ == "cross_entropy" else grad.size
        # sklearn's Half* losses are half of fastloss's where the names say so
        half = 0.5 if _bench.sklearn_spec(case, args, kw)[0] == "HalfSquaredError" else 1.0
        np.testing.assert_allclose(sv, half * value, rtol=1e-9)
        np.testing.assert_allclose(sg.reshape(grad.shape) / n, half * grad, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(_bench.sklearn_peer(case, args, kw, "value", 1)(), sv, rtol=1e-12)
    assert checked >= 2  # cross_entropy and huber at least
