"""Graphs drawn from node coordinates: a node embedding with its edges and classes, and a layout for small graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import RngLike, as_rng
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


def spring_layout(edge_index: Any, n_nodes: int, *, iterations: int = 200, rng: RngLike = 0) -> np.ndarray:
    """Node positions of shape (n_nodes, 2) in [-1, 1]^2 by Fruchterman-Reingold forces.

    Every pair repels with force ``k^2 / d``, every edge attracts with ``d^2 / k``
    (``k = 1 / sqrt(n_nodes)``); moves are capped by a temperature that cools linearly.
    Vectorised over all pairs (small graphs: memory ``O(n_nodes^2)``).

    References
    ----------
    T. M. J. Fruchterman and E. M. Reingold (1991), Graph drawing by force-directed placement.
    """
    edges = np.asarray(edge_index, dtype=np.int64)
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise ValueError(f"edge_index: expected shape (2, E), received {edges.shape}")
    adjacency = np.zeros((n_nodes, n_nodes))
    adjacency[edges[0], edges[1]] = 1
    adjacency = np.maximum(adjacency, adjacency.T)
    position = as_rng(rng).uniform(-1, 1, (n_nodes, 2))
    k = 1 / np.sqrt(n_nodes)
    for step in range(iterations):
        delta = position[:, None, :] - position[None, :, :]  # (N, N, 2)
        distance = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)  # (N, N)
        force = k * k / distance - adjacency * distance * distance / k  # repulsion - attraction, (N, N)
        np.fill_diagonal(force, 0)
        displacement = (delta / distance[:, :, None] * force[:, :, None]).sum(axis=1)  # (N, 2)
        length = np.maximum(np.linalg.norm(displacement, axis=1, keepdims=True), 1e-9)
        temperature = 0.1 * (1 - step / iterations)
        position += displacement / length * np.minimum(length, temperature)
    position -= position.mean(axis=0)
    return position / np.abs(position).max()
