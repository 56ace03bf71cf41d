"""The one figure helper: a grid of axes, and the finishing touches every plot gets."""

from __future__ import annotations

from typing import Any

import numpy as np

#: A colour-blind-safe cycle (Okabe & Ito), used by every dltoys plot.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None, title: str | None = None,
           squeeze: bool = True) -> tuple[Any, Any]:
    """A new ``matplotlib.figure.Figure`` with a grid of axes (no pyplot, no display needed).

    Parameters
    ----------
    nrows, ncols : int
    size : (width, height) in inches, default ``(4.2 * ncols, 3.4 * nrows)``
    title : str, optional, the figure's suptitle
    squeeze : bool, default True
        As matplotlib: a single Axes for a 1x1 grid, a 1-D array for one row or column.

    Returns
    -------
    (Figure, Axes or ndarray of Axes)
    """
    from matplotlib.figure import Figure

    width, height = size if size is not None else (4.2 * ncols, 3.4 * nrows)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze)
    for ax in np.atleast_1d(axes).ravel():
        ax.set_prop_cycle(color=PALETTE)
        ax.grid(True, alpha=0.25)
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold")
    return fig, axes


def finish(ax: Any, title: str, xlabel: str, ylabel: str, *, legend: bool | None = None, log_y: bool = False) -> Any:
    """Title, axis labels and (when there is more than one labelled series) a legend."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    handles, labels = ax.get_legend_handles_labels()
    if legend or (legend is None and len(labels) > 1):
        ax.legend(fontsize=8, frameon=False)
    return ax
