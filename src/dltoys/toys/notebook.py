"""Running a toy from a notebook: its report and plots shown inline."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .base import Report
from .registry import get_toy, make_config, run_toy


def quick_mode() -> bool:
    """The notebooks' switch: quick unless the environment says ``DLTOYS_QUICK=0``."""
    return os.environ.get("DLTOYS_QUICK", "1") != "0"


def run_and_show(name: str, *, quick: bool | None = None, out: str | os.PathLike | None = None, **overrides) -> Report:
    """Run toy ``name`` (quick mode by default, see :func:`quick_mode`) and display its report inline.

    Parameters
    ----------
    name : str
        A toy of ``dltoys list``.
    quick : bool, optional
        Default: :func:`quick_mode`.
    out : path, optional
        The run folder (default: a new temporary folder).
    **overrides
        Config fields, as ``dltoys run NAME --field value`` takes them (``epochs=5``).

    Returns
    -------
    Report
        The toy's report: its targets, tables, notes and metrics.
    """
    quick = quick_mode() if quick is None else bool(quick)
    config = make_config(get_toy(name), overrides, quick=quick)
    run_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"dltoys-{name}-"))
    report = run_toy(name, config, run_dir=run_dir, progress=False)
    try:
        from IPython.display import Image, Markdown, display
    except ImportError:  # not in IPython: the caller has the report
        return report
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)\n?", "", report.to_markdown())  # the images are shown below
    display(Markdown(text))
    for plot_name in report.plots:
        display(Image(filename=str(run_dir / plot_name)))
    return report
