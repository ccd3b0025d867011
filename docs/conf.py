"""Sphinx configuration of the bsm-surrogates documentation.

Build: ``scripts/docs.sh`` (or ``sphinx-build -W --keep-going -b html docs docs/_build/html``).
The tutorials under ``tutorials/`` are MyST text notebooks executed at every build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # import the working tree, not an installed copy

import surrogates  # noqa: E402

project = "bsm-surrogates"
author = "the bsm-surrogates developers"
copyright = "2025, the bsm-surrogates developers"  # noqa: A001
release = surrogates.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
exclude_patterns = ["_build", "jupyter_execute", ".jupyter_cache", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# --------------------------------------------------------------- API reference
# One page per public object. Module pages list exactly the names in the module's __all__
# (autosummary_ignore_module_all = False), so private helpers stay out of the reference.
autosummary_generate = True
autosummary_ignore_module_all = False
autosummary_imported_members = False


def _reexports(packages: tuple[str, ...]) -> dict[str, list[str]]:
    """Module -> names of its ``__all__`` that an enclosing package re-exports.

    Such a class or function is documented once, under the package (the import path users type);
    autodoc marks the defining module's name as its canonical alias, so references to either
    name resolve, and documenting it again on the module page would be a duplicate.
    """
    import importlib
    import inspect
    import pkgutil

    out: dict[str, list[str]] = {}
    todo = list(packages)
    while todo:
        pkg = importlib.import_module(todo.pop())
        for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + "."):
            if info.name.rsplit(".", 1)[1].startswith("_"):
                continue
            if info.ispkg:
                todo.append(info.name)
            mod = importlib.import_module(info.name)
            shown = set(getattr(pkg, "__all__", ()))
            out[info.name] = sorted(
                n for n in getattr(mod, "__all__", ())
                if n in shown and getattr(pkg, n) is getattr(mod, n)
                and (inspect.isclass(getattr(mod, n)) or inspect.isroutine(getattr(mod, n)))
            )
    return out


autosummary_context = {
    "reexported": _reexports(("surrogates", "likelihoods", "fits", "workflows"))
}
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpy docstrings carry types and shapes
autodoc_inherit_docstrings = True
add_module_names = False

# numpydoc: the class pages list their methods through our autosummary class template, so
# numpydoc must not add a second members table (duplicate object descriptions otherwise).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# "every public object has a docstring" (project issue 7): a documented object without one
# (GL08) is a warning, and -W turns it into a failed build.
numpydoc_validation_checks = {"GL08"}
# Properties and dataclass fields are described in their class's Attributes section.
numpydoc_validation_exclude = {r"\.__init__$"}

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
}
# The build machine may be offline: intersphinx then only loses its links. A missing
# inventory is reported by intersphinx as a warning, so the mapping is used only when asked.
if not os.environ.get("BSM_DOCS_INTERSPHINX"):
    intersphinx_mapping = {}

# --------------------------------------------------------------- tutorials (myst-nb)
nb_execution_mode = "force"  # every build re-runs the four tutorials
nb_execution_timeout = 300  # seconds per cell
nb_execution_raise_on_error = True  # a failing tutorial fails the build
nb_execution_show_tb = True
nb_merge_streams = False  # keep stderr apart, so cells can drop UltraNest's log (remove-stderr)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# --------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"bsm-surrogates {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
