"""The example models (fastloss.examples, examples/*.py, python -m fastloss demo) learn: each loss
falls by a clear margin, accuracy ends well above chance, test MSE well below the target's
variance; the plots are written when matplotlib is installed (that part skips otherwise).

A few epochs each (about 2 s in all on one core)."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss._demo import run
from fastloss.examples import EXAMPLES, _common

EPOCHS = {"regression": 15, "binary": 15, "multiclass": 8, "distillation": 15}


@pytest.fixture(scope="module")
def results():
    return {name: run([name], epochs=EPOCHS[name], plot=False, verbose=False)[name]
            for name in EXAMPLES}


def _check_history(result, epochs):
    assert result["plot"] is None
    for name, h in result["history"].items():
        assert len(h["loss"]) == len(h["metric"]) == epochs + 1, name
        assert np.all(np.isfinite(h["loss"])) and np.all(np.isfinite(h["metric"])), name
        row = result["table"][name]
        assert row["initial loss"] == h["loss"][0] and row["final loss"] == h["loss"][-1]


def test_regression_learns(results):
    r = results["regression"]
    _check_history(r, EPOCHS["regression"])
    assert set(r["table"]) == {"mse", "msle", "mae", "huber(0.5)"}
    for name, row in r["table"].items():
        assert row["final loss"] < 0.5 * row["initial loss"], (name, row)
        # predicting the mean scores var(y); every loss must do far better
        assert row["test MSE"] < 0.4 * r["target_var"], (name, row, r["target_var"])


def test_binary_learns(results):
    r = results["binary"]
    _check_history(r, EPOCHS["binary"])
    assert set(r["table"]) == {"bce_with_logits", "hinge", "squared_hinge"}
    for name, row in r["table"].items():
        assert row["final loss"] < 0.5 * row["initial loss"], (name, row)
        assert row["test accuracy"] > 0.9, (name, row)  # chance: 0.5


def test_multiclass_learns(results):
    r = results["multiclass"]
    _check_history(r, EPOCHS["multiclass"])
    assert len(r["table"]) == 4
    for name, row in r["table"].items():
        assert row["final loss"] < 0.6 * row["initial loss"], (name, row)
        assert row["test accuracy"] > 0.6, (name, row)  # chance: 0.2
    # integer labels and one-hot targets are the same cross-entropy: the same training run
    labels = r["history"]["cross_entropy (labels)"]
    one_hot = r["history"]["cross_entropy (one-hot)"]
    np.testing.assert_allclose(labels["loss"], one_hot["loss"], rtol=1e-4)
    np.testing.assert_allclose(labels["metric"], one_hot["metric"], atol=2e-3)


def test_distillation_learns(results):
    r = results["distillation"]
    _check_history(r, EPOCHS["distillation"])
    teacher = r["teacher_history"]
    assert teacher["loss"][-1] < 0.5 * teacher["loss"][0]
    assert r["teacher_accuracy"] > 0.75  # chance: 1/3
    assert set(r["table"]) == {"student alone (CE)", "distilled T=1", "distilled T=2",
                               "distilled T=4", "distilled T=8"}
    for name, row in r["table"].items():
        assert row["final loss"] < 0.8 * row["initial loss"], (name, row)
        assert row["test accuracy"] > 0.5, (name, row)


def test_tables_printed(capsys):
    run(["binary"], epochs=1, plot=False)
    out = capsys.readouterr().out
    for name in ("bce_with_logits", "hinge", "squared_hinge", "test accuracy", "final loss"):
        assert name in out


def _assert_png(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, path


def test_plots_written(tmp_path):
    pytest.importorskip("matplotlib")
    res = run(EXAMPLES, epochs=1, outdir=str(tmp_path / "plots"), verbose=False)
    for name in EXAMPLES:
        path = Path(res[name]["plot"])
        assert path == tmp_path / "plots" / f"{name}.png"
        _assert_png(path)


def test_no_matplotlib_no_plot(tmp_path, monkeypatch, capsys):
    """Without matplotlib the examples still train and report; save_plot says why no plot."""
    monkeypatch.setattr(_common, "have_matplotlib", lambda: False)
    res = run(["multiclass"], epochs=1, outdir=str(tmp_path), verbose=False)
    assert res["multiclass"]["plot"] is None
    assert not list(tmp_path.iterdir())
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert cli.main(["demo", "--epochs", "1", "--only", "binary", "--outdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tables only" in out and "plots written" not in out
    assert not list(tmp_path.iterdir())


def test_demo_subcommand(tmp_path, capsys):
    outdir = tmp_path / "demo"
    rc = cli.main(["demo", "--epochs", "1", "--only", "regression,multiclass",
                   "--outdir", str(outdir)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "test MSE" in out and "cross_entropy (one-hot)" in out and "distilled" not in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "tables only" in out
    else:
        assert "plots written to" in out
        _assert_png(outdir / "regression.png")
        _assert_png(outdir / "multiclass.png")
        assert not (outdir / "binary.png").exists()


def test_demo_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--only", "regression,nope"])
    assert e.value.code == 2
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["demo", "--epochs", "0"])


SCRIPTS = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.skipif(not (SCRIPTS / "binary.py").exists(), reason="examples/ not in this tree")
def test_example_script(tmp_path, monkeypatch, capsys):
    """examples/*.py are thin wrappers around fastloss.examples: run one as a script."""
    monkeypatch.setattr(sys, "argv", ["binary.py", "--epochs", "2", "--no-plot",
                                      "--outdir", str(tmp_path)])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPTS / "binary.py"), run_name="__main__")
    assert e.value.code == 0
    assert "squared_hinge" in capsys.readouterr().out
    # examples/dask_logistic_regression.py and examples/boosting_focal.py are standalone scripts
    # (they need the dask / boosting extras); tests/test_dask.py and tests/test_boosting.py run
    # them. Every other script is a wrapper of fastloss.examples.
    standalone = {"dask_logistic_regression.py", "boosting_focal.py"}
    assert {p.name for p in SCRIPTS.glob("*.py")} - standalone == {f"{n}.py" for n in EXAMPLES}
