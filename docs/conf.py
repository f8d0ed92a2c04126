"""Sphinx configuration of skvae's documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (``-W``: warnings
are errors). The example gallery runs every ``examples/plot_*.py`` script;
``SKVAE_EXAMPLES_QUICK=1`` in the environment makes them fit tiny models, and
``-D plot_gallery=0`` skips running them.
"""

import inspect
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # a source checkout imports without install

import skvae  # noqa: E402

project = "skvae"
author = "The skvae developers"
copyright = "The skvae developers"
version = release = skvae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "user_guide.md"]
root_doc = "index"
pygments_style = "sphinx"

# --------------------------------------------------------------- API reference
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc sections give the types
autodoc_member_order = "groupwise"
# numpydoc: the class pages list methods through autodoc (see the template),
# not through numpydoc's own member tables, which want a page per method.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

# Members that skvae's classes inherit from scikit-learn and documented here:
# the estimator API. Others (metadata routing, torch.nn.Module's machinery)
# are left to their own projects' documentation.
_FOREIGN_MEMBERS_SHOWN = {
    "fit_transform",
    "fit_predict",
    "get_params",
    "set_params",
    "get_feature_names_out",
}


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Skip members defined outside skvae, but for the estimator API above."""
    if what != "class" or skip:
        return skip
    module = getattr(inspect.unwrap(obj), "__module__", None) or ""
    if module.split(".")[0] == "skvae":
        return None
    return name not in _FOREIGN_MEMBERS_SHOWN


def setup(app):
    """Connect the member filter."""
    app.connect("autodoc-skip-member", _skip_foreign_member)


# --------------------------------------------------------------------- gallery
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "doc_module": ("skvae",),
    "backreferences_dir": str(DOCS / "generated" / "backreferences"),
}

# ------------------------------------------------------------------------ HTML
html_theme = "alabaster"
html_title = f"skvae {release}"
html_theme_options = {
    "description": "Variational autoencoders as scikit-learn estimators",
    "fixed_sidebar": True,
}
