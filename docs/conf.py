"""Sphinx configuration of the skvoice documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import skvoice

project = "skvoice"
author = "The skvoice developers"
copyright = "2026, The skvoice developers"
version = release = skvoice.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
]

html_theme = "pydata_sphinx_theme"
html_title = f"skvoice {version}"

intersphinx_mapping = {}  # no network during the build

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "reference_url": {"skvoice": None},
    "within_subsection_order": "FileNameSortKey",
}


def _skip_inherited_sklearn(app, what, name, obj, skip, options):
    """Leave out what scikit-learn adds to every estimator.

    The metadata-routing setters (``set_fit_request``...) and the mixins' methods
    (``score``, ``get_params``...) are documented by scikit-learn, and their
    docstrings point into its own docs, which this site does not have.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_inherited_sklearn)
