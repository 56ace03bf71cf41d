"""Sphinx configuration of the dltoys documentation site (``make docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

project = "dltoys"
author = "the dltoys developers"
copyright = "2026, the dltoys developers"

extensions = [
    "myst_nb",                 # Markdown pages and the executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",                # the docstrings are numpydoc
    "sphinx.ext.mathjax",
]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"      # make docs renders the notebooks that `make notebooks` executed
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"     # numpydoc's Parameters sections say the types
autosummary_generate = False
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "furo"
html_title = "dltoys"


def _shapes_into_notes(app, what, name, obj, options, lines):
    """numpydoc knows no "Shapes" section (it would drop it): move it to the top of the Notes."""
    for index in range(len(lines) - 1):
        if lines[index].strip() == "Shapes" and set(lines[index + 1].strip()) == {"-"}:
            end = index + 2
            while end < len(lines) and not (end + 1 < len(lines) and lines[end + 1].strip()
                                             and set(lines[end + 1].strip()) == {"-"} and lines[end].strip()):
                end += 1
            body = ["**Shapes**", ""] + lines[index + 2:end] + [""]
            del lines[index:end]
            for position in range(len(lines) - 1):
                if lines[position].strip() == "Notes" and set(lines[position + 1].strip()) == {"-"}:
                    lines[position + 2:position + 2] = body
                    return
            lines.extend(["", "Notes", "-----", *body])
            return


def setup(app):
    app.connect("autodoc-process-docstring", _shapes_into_notes, priority=100)
