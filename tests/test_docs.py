"""The documentation is executable: every public docstring's examples run as doctests, every
public name documents the numpydoc sections, and the README's quick tour runs as printed.

The expected outputs in the docstrings were worked out by hand or with SciPy / PyTorch, not
copied from fastloss, so a doctest failure means either the docs or the code is wrong.
"""

from __future__ import annotations

import doctest
import inspect
import re
import warnings
from pathlib import Path

import pytest

import fastloss
from fastloss import _config

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Public callables documented by docstring: the names of fastloss.__all__ (the reference
# module is plain NumPy and has no examples) plus the methods of the array functions.
PUBLIC = [name for name in fastloss.__all__ if name != "reference"]
METHODS = ["softmax.vjp", "log_softmax.vjp", "logsumexp.grad", "logsumexp.value_and_grad",
           "logsumexp.vjp"]


def _resolve(dotted: str):
    obj = fastloss
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.fixture(autouse=True)
def _restore_threads():
    # the set_num_threads example changes the process-wide setting
    saved = _config.THREADS[0]
    yield
    _config.THREADS[0] = saved


def run_examples(obj, name: str) -> tuple[int, str]:
    """Run the examples of ``obj``'s own docstring; (number of examples, failure report)."""
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs={})
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    n = sum(len(t.examples) for t in tests)
    return n, "".join(report) if runner.failures else ""


@pytest.mark.parametrize("name", PUBLIC + METHODS)
def test_docstring_examples(name):
    n, failures = run_examples(_resolve(name), name)
    assert n > 0, f"{name}: the docstring has no examples"
    assert not failures, failures


def test_a_wrong_example_fails():
    """The harness itself: a docstring whose printed output is wrong must be reported."""

    def wrong():
        """
        >>> import fastloss as fl
        >>> import numpy as np
        >>> print(f"{fl.mse(np.array([1.0]), np.array([0.0])):.6f}")
        2.000000
        """

    n, failures = run_examples(wrong, "wrong")
    assert n == 3 and "Expected:\n    2.000000\nGot:\n    1.000000" in failures


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections of a docstring: {title: body}."""
    doc = inspect.cleandoc(doc)
    parts = re.split(r"^(\w[\w ]*)\n-{3,}[ \t]*$", doc, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _parameters(obj) -> list[str]:
    sig = inspect.signature(obj)
    return [p for p in sig.parameters if p not in ("self",)]


@pytest.mark.parametrize("name", PUBLIC)
def test_numpydoc_sections(name):
    obj = _resolve(name)
    sections = _sections(obj.__doc__ or "")
    required = ["Returns", "See Also", "Examples"]
    params = _parameters(obj)
    if params:
        required.insert(0, "Parameters")
    missing = [s for s in required if s not in sections]
    assert not missing, f"{name}: missing numpydoc sections {missing}"
    # every parameter is described (entries "name : type" at the section's margin)
    documented = set()
    for line in sections.get("Parameters", "").splitlines():
        m = re.match(r"^(\w+(?:, \w+)*) :", line)
        if m:
            documented.update(m.group(1).split(", "))
    undocumented = [p for p in params if p not in documented]
    assert not undocumented, f"{name}: parameters without an entry: {undocumented}"


@pytest.mark.parametrize("name", PUBLIC + METHODS)
def test_numpydoc_parses(name):
    """numpydoc reads every section without complaint (an unknown or malformed section title
    would be dropped from the rendered page)."""
    docscrape = pytest.importorskip("numpydoc.docscrape")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        docscrape.NumpyDocString(inspect.cleandoc(_resolve(name).__doc__))


# ------------------------------------------------------------------------------------------
# the pages under docs/


def _pages_with_examples() -> list[Path]:
    if not DOCS.is_dir():
        return []
    return sorted(p for p in DOCS.rglob("*.rst") if ">>>" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: p.name)
def test_page_examples(page):
    """The examples in the reStructuredText pages (doctest blocks) run as shown."""
    text = page.read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert test.examples and not runner.failures, "".join(report)


# ------------------------------------------------------------------------------------------
# the README


def _readme_quick_tour() -> tuple[str, str]:
    """(code, printed output) of the README's quick tour: its first ```python block and the
    ```text block that follows it."""
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not next to the tests (an installed test tree)")
    text = readme.read_text(encoding="utf-8")
    section = text.split("## Quick tour", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shown = re.search(r"```python\n.*?```.*?```text\n(.*?)```", section, re.DOTALL)
    assert code and shown, "the quick tour needs a python block followed by a text block"
    return code.group(1), shown.group(1)


def test_readme_quick_tour_runs_and_prints_what_it_shows(capsys):
    code, shown = _readme_quick_tour()
    exec(compile(code, "README.md (quick tour)", "exec"), {"__name__": "__readme__"})  # noqa: S102
    printed = capsys.readouterr().out
    assert printed.split() == shown.split(), f"printed:\n{printed}\nREADME shows:\n{shown}"


def test_readme_keeps_the_two_commands_and_its_length():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("README.md is not next to the tests (an installed test tree)")
    text = readme.read_text(encoding="utf-8")
    assert "pip install . && python -m fastloss" in text
    assert 'pip install ".[test]" && python -m pytest' in text
    assert len(text.splitlines()) <= 250
