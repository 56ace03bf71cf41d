"""Drawing a small graph: a force-directed layout and nodes coloured by a labelling."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..utils import RngLike, as_rng
from .core import PALETTE


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


def draw_graph(ax: Any, positions: Any, edge_index: Any, colours: Any, *, names: Sequence[str] | None = None,
               outlined: Any = None, class_names: Sequence[str] | None = None, title: str = "") -> Any:
    """Edges as grey lines, nodes as discs coloured by an integer labelling, each with its name.

    Parameters
    ----------
    positions : array of shape (N, 2)
    edge_index : int array of shape (2, E)
    colours : int array of shape (N,), one class per node (colour = PALETTE[class])
    names : N strings written on the nodes (default the node ids)
    outlined : bool array of shape (N,), optional: nodes drawn with a thick red ring (e.g. mistakes)
    class_names : names of the classes, for the legend
    """
    from matplotlib.collections import LineCollection

    positions = np.asarray(positions, dtype=np.float64)
    colours = np.asarray(colours, dtype=np.int64)
    edges = np.asarray(edge_index, dtype=np.int64)
    ax.add_collection(LineCollection(positions[edges.T], colors="0.75", linewidths=0.8, zorder=1))
    for label in np.unique(colours):
        members = colours == label
        name = class_names[label] if class_names is not None else f"class {label}"
        ax.scatter(*positions[members].T, s=230, color=PALETTE[label % len(PALETTE)], zorder=2, label=name,
                   edgecolors="white", linewidths=1.0)
    if outlined is not None and np.any(outlined):
        ax.scatter(*positions[np.asarray(outlined)].T, s=420, facecolors="none", edgecolors="#D00000",
                   linewidths=2.2, zorder=3, label="misplaced")
    for node, (x, y) in enumerate(positions):
        ax.text(x, y, names[node] if names is not None else str(node), ha="center", va="center", fontsize=7,
                color="white", fontweight="bold", zorder=4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8, frameon=True)
    return ax
