"""One legend for a whole figure, for panels that share their series."""

from __future__ import annotations

from typing import Any


def figure_legend(fig: Any, axes: Any, *, ncol: int = 4) -> Any:
    """Replace the panels' legends with one legend under the figure.

    Use it when every panel draws the same series (one colour per optimizer, per
    activation): one legend says it once, and no panel's curves hide behind a box.

    Parameters
    ----------
    fig : matplotlib Figure made by :func:`dltoys.plot.figure` (constrained layout)
    axes : iterable of Axes whose labelled artists join the legend, each label once,
        in the order first met
    ncol : int, columns of the legend

    Returns
    -------
    the figure's Legend
    """
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if not labels:
        raise ValueError("figure_legend: none of the axes has a labelled series")
    return fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=9, frameon=False)
