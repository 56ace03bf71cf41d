"""Curves against epochs (or steps, or seconds): loss, accuracy, learning rate."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .core import finish


def curves(
    ax: Any,
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    x: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    log_y: bool = False,
    target: float | None = None,
    target_label: str = "target",
) -> Any:
    """Draw one line per named series, optionally against a shared or per-series x.

    Parameters
    ----------
    series : mapping label -> values
    x : values for every series, or a mapping label -> values, default 1..len
    log_y : bool, log scale for losses that span decades (non-positive values are dropped)
    target : float, optional, a horizontal dashed line (the figure to reach)
    """
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if x is None:
            xs = np.arange(1, len(values) + 1)
        elif isinstance(x, Mapping):
            xs = np.asarray(x[label], dtype=float)
        else:
            xs = np.asarray(x, dtype=float)
        if log_y:
            keep = values > 0
            xs, values = xs[keep], values[keep]
        ax.plot(xs, values, label=label, linewidth=1.5)
    if target is not None:
        ax.axhline(target, linestyle="--", color="0.4", linewidth=1, label=target_label)
    return finish(ax, title, xlabel, ylabel, log_y=log_y)
