"""Graphs drawn from node coordinates: a node embedding with its edges and classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import PALETTE, finish


def node_embedding(
    ax: Any,
    points: Any,
    edge_index: Any,
    labels: Any,
    *,
    marked: Any = None,
    title: str,
    xlabel: str = "dimension 1",
    ylabel: str = "dimension 2",
    class_names: Any = None,
) -> Any:
    """Nodes at 2-D ``points`` coloured by class, edges as faint lines, ``marked`` nodes outlined.

    Parameters
    ----------
    points : array of shape (N, 2)
    edge_index : int array of shape (2, E)
    labels : int array of shape (N,)
    marked : int array of node ids, optional (the labelled nodes of semi-supervised training)
    class_names : sequence of str, optional, the legend's names (default "class k")
    """
    points = np.asarray(points, dtype=float)
    edge_index = np.asarray(edge_index)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points: expected shape (N, 2), received {points.shape}")
    segments = points[edge_index.T]  # (E, 2 ends, 2 coordinates)
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(segments, colors="0.7", linewidths=0.5, zorder=1))
    for k in np.unique(labels):
        name = class_names[k] if class_names is not None else f"class {k}"
        chosen = labels == k
        ax.scatter(*points[chosen].T, s=28, color=PALETTE[int(k) % len(PALETTE)], label=name, zorder=2)
    if marked is not None and len(marked):
        ax.scatter(*points[np.asarray(marked)].T, s=110, facecolors="none", edgecolors="black", linewidths=1.5,
                   label="labelled", zorder=3)
    ax.autoscale_view()
    return finish(ax, title, xlabel, ylabel)
