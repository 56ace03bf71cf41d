"""Grouped bars: a few named values per category (gradient norms per parameter, before and after)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .core import finish


def bars(
    ax: Any,
    groups: Mapping[str, Sequence[float]],
    categories: Sequence[str],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "value",
    log_y: bool = False,
) -> Any:
    """One bar per (group, category), the groups side by side within each category.

    Parameters
    ----------
    groups : mapping label -> values, one value per category
    categories : the names under the bar clusters
    log_y : bool, log scale for values that span decades
    """
    n_groups = len(groups)
    width = 0.8 / max(n_groups, 1)
    positions = np.arange(len(categories))
    for index, (label, values) in enumerate(groups.items()):
        values = np.asarray(values, dtype=float)
        if len(values) != len(categories):
            raise ValueError(f"bars: group {label!r} has {len(values)} values for {len(categories)} categories")
        ax.bar(positions + (index - (n_groups - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(positions, list(categories), rotation=20, ha="right", fontsize=8)
    return finish(ax, title, xlabel, ylabel, log_y=log_y)
