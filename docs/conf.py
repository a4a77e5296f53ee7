"""Sphinx configuration of the fastloss documentation.

Build (from the repository root, with the docs extra installed: pip install ".[docs]"):

    python -m sphinx -W --keep-going -b html docs build/docs

Nothing here needs the network at build time: no intersphinx. The API pages are generated from
the docstrings of the installed fastloss (autodoc + numpydoc), so they cannot drift from it.
"""

import fastloss

project = "fastloss"
author = "fastloss developers"
copyright = "fastloss developers"
release = fastloss.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.autosummary",
    "numpydoc",
]

exclude_patterns = ["_build"]
# ``name`` in reStructuredText is a Python object reference (:py:obj:), as in NumPy's docs
default_role = "py:obj"

# autodoc: the signatures come from the Loss objects' __signature__; the type hints are
# repeated in the numpydoc Parameters sections, so the signatures stay short
autodoc_typehints = "none"
autodoc_member_order = "bysource"

# numpydoc: sections only; members are listed explicitly on the API pages
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"fastloss {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False
