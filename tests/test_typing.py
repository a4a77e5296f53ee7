"""The type stubs (py.typed, __init__.pyi, _kernels.pyi) as a user sees them: `mypy --strict`
passes on tests/typing_example.py and reports the errors planted in a bad snippet (so the stubs
are really used, not an Any). Skips when mypy is not installed (`pip install ".[typing]"`)."""

import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastloss as fl

EXAMPLE = Path(__file__).with_name("typing_example.py")

BAD = textwrap.dedent(
    """
    import numpy as np
    import fastloss as fl

    x = np.zeros(3)
    count: int = fl.huber(x, x)                    # a NumPy scalar, not an int
    fl.set_num_threads("4")                        # not an int
    arr: np.ndarray = fl.huber.value_and_grad(x, x)  # a tuple
    """
)


def test_example_runs():
    runpy.run_path(str(EXAMPLE), run_name="__main__")


def test_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    bad = tmp_path / "bad_usage.py"
    bad.write_text(BAD)
    env = dict(os.environ)
    # An installed wheel is found through site-packages; an editable (import-hook) install is
    # not visible to mypy, so point it at the source directory holding the package.
    pkg_parent = Path(fl.__file__).resolve().parent.parent
    if pkg_parent.name not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = str(pkg_parent)
    cmd = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
           "--cache-dir", str(tmp_path / "cache"), str(EXAMPLE), str(bad)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    out = res.stdout + res.stderr
    assert "typing_example.py" not in out, out
    errors = [line for line in out.splitlines() if "error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    assert lines == [6, 7, 8], out
    assert res.returncode == 1, out
