"""The type stubs as a user sees them.

The stubs are generated from the runtime signatures (fastloss._stubs); these tests check that
the committed ones are current, compare every stubbed method with the runtime object by parsing
the .pyi files independently of the generator, and run `mypy --strict` on a typed example (must
pass) and on a snippet with planted errors (each must be reported). The mypy tests skip when
mypy is not installed (`pip install ".[typing]"`)."""

import ast
import inspect
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastloss as fl
from fastloss import _stubs

PKG = Path(fl.__file__).resolve().parent
EXAMPLE = Path(__file__).with_name("typing_example.py")


def test_committed_stubs_are_current():
    for rel, text in _stubs.stubs().items():
        assert (PKG / rel).read_text() == text, f"{rel} is stale: run python -m fastloss._stubs"


def _stub_methods(path: Path) -> dict:
    """{(object name, method): [ast.arguments of each (overloaded) definition]} of a .pyi."""
    tree = ast.parse(path.read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    found = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):  # `mse: _Mse`
            cls = classes[node.annotation.id]
            for item in cls.body:
                if isinstance(item, ast.FunctionDef):
                    found.setdefault((node.target.id, item.name), []).append(item.args)
    return found


def _stub_params(args: ast.arguments) -> list:
    """(name, kind, has default) of a stub's parameters, self dropped."""
    out = []
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    for i, a in enumerate(positional[1:], start=1):
        out.append((a.arg, "POSITIONAL_OR_KEYWORD", i >= first_default))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append((a.arg, "KEYWORD_ONLY", d is not None))
    return out


def _runtime_params(fn) -> list:
    return [(p.name, p.kind.name, p.default is not p.empty)
            for p in inspect.signature(fn).parameters.values()]


def _public_callables():
    """Every public callable with the attribute path to each method."""
    for family in _stubs.FAMILIES:
        mod = getattr(fl, family)
        for name in mod.__all__:
            obj = getattr(mod, name)
            methods = ["__call__"] + [m for m in ("grad", "value_and_grad", "grad_hess", "vjp")
                                      if hasattr(obj, m)]
            yield family, name, obj, methods


@pytest.mark.parametrize("family,name,obj,methods", list(_public_callables()),
                         ids=[n for _, n, _, _ in _public_callables()])
def test_every_runtime_signature_matches_its_stub(family, name, obj, methods):
    stub = _stub_methods(PKG / f"{family}.pyi")
    for method in methods:
        runtime = _runtime_params(obj if method == "__call__" else getattr(obj, method))
        defs = stub.get((name, method))
        assert defs, f"{name}.{method} is missing from {family}.pyi"
        for args in defs:
            params = _stub_params(args)
            # overloads on reduction leave its default off where "none" is required
            normalise = [(n, k, d or n == "reduction") for n, k, d in params]
            expected = [(n, k, d or n == "reduction") for n, k, d in runtime]
            assert normalise == expected, f"{name}.{method}: stub {params} vs runtime {runtime}"


def test_every_public_name_is_stubbed():
    init = (PKG / "__init__.pyi").read_text()
    for name in fl.__all__:
        assert f" as {name}" in init, name


def test_example_runs():
    runpy.run_path(str(EXAMPLE), run_name="__main__")


BAD = textwrap.dedent(
    """
    import numpy as np
    import fastloss as fl

    x = np.zeros(3)
    count: int = fl.huber(x, x)                      # a NumPy scalar, not an int
    fl.set_num_threads("4")                          # not an int
    arr: np.ndarray = fl.huber.value_and_grad(x, x)  # a tuple
    fl.mse(x, x, reductoin="sum")                    # misspelt keyword
    fl.mse(x, x, reduction="batchmean")              # not a reduction of mse
    fl.cross_entropy.grad(input=x, target=x)         # PyTorch's argument name
    fl.rmse(x, x, reduction="none")                  # rmse has no per-sample form
    fl.kl_div(x, x, reduction="batchmean")           # fine: kl_div has batchmean
    fl.mse.grad(x, x, out=x, delta=1.0)              # delta is huber's, not mse's
    """
)
BAD_LINES = [6, 7, 8, 9, 10, 11, 12, 14]


def _mypy(tmp_path, *files):
    pytest.importorskip("mypy")
    env = dict(os.environ)
    # An installed wheel is found through site-packages; an editable (import-hook) install is
    # not visible to mypy, so point it at the source directory holding the package.
    if PKG.parent.name not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = str(PKG.parent)
    cmd = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
           "--cache-dir", str(tmp_path / "cache"), *map(str, files)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    return res, res.stdout + res.stderr


def test_mypy_strict_accepts_the_typed_example(tmp_path):
    res, out = _mypy(tmp_path, EXAMPLE)
    assert res.returncode == 0, out


def test_mypy_reports_each_planted_error(tmp_path):
    bad = tmp_path / "bad_usage.py"
    bad.write_text(BAD)
    res, out = _mypy(tmp_path, bad)
    lines = sorted({int(line.split(":")[1]) for line in out.splitlines() if "error:" in line})
    assert lines == BAD_LINES, out
