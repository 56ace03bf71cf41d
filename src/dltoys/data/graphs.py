"""Graphs as plain arrays: a :class:`Graph` record and Zachary's karate club.

A graph is its node count and an ``edge_index`` of shape (2, E), PyTorch
Geometric's layout: column ``e`` is the directed edge ``edge_index[0, e] ->
edge_index[1, e]`` (source, destination). An undirected graph stores each edge
once in each direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dltoys.utils import check_bool, resolve_dtype

#: PyTorch Geometric's four karate-club communities (``torch_geometric.datasets.KarateClub``),
#: found by modularity-based clustering as in Kipf & Welling (2017), node by node.
KARATE_COMMUNITIES = (
    1, 1, 1, 1, 3, 3, 3, 1, 0, 1, 3, 1, 1, 1, 0, 0, 3, 1, 0, 1, 0, 1,
    0, 0, 2, 2, 0, 0, 2, 0, 0, 2, 0, 0,
)


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph with optional node features and labels.

    Attributes
    ----------
    n_nodes : int
    edge_index : ndarray of shape (2, E), int64
        Directed edges (source row 0, destination row 1); undirected graphs hold
        both directions.
    x : ndarray of shape (n_nodes, n_features) or None
        Node features.
    y : ndarray of shape (n_nodes,), int64, or None
        Node labels.
    extra : dict
        Other per-node arrays (other labelings, masks, names).
    """

    n_nodes: int
    edge_index: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (columns of ``edge_index``)."""
        return int(self.edge_index.shape[1])

    def adjacency(self, dtype: Any = None) -> np.ndarray:
        """The dense adjacency matrix ``A[i, j] = number of edges i -> j``, of shape (N, N)."""
        adjacency = np.zeros((self.n_nodes, self.n_nodes), dtype=resolve_dtype(dtype))
        flat = self.edge_index[0] * self.n_nodes + self.edge_index[1]  # (E,)
        counts = np.bincount(flat, minlength=self.n_nodes * self.n_nodes)
        adjacency += counts.reshape(self.n_nodes, self.n_nodes).astype(adjacency.dtype)
        return adjacency


def undirected_edge_index(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """Both directions of each undirected edge, sorted by (source, destination).

    Parameters
    ----------
    edges : ndarray of shape (E, 2)
        Each undirected edge once.
    n_nodes : int

    Returns
    -------
    ndarray of shape (2, 2E), int64
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    both = np.concatenate([edges, edges[:, ::-1]])  # (2E, 2)
    order = np.lexsort((both[:, 1], both[:, 0]))
    return np.ascontiguousarray(both[order].T)


def load_karate_club(*, features: bool = True, dtype: Any = None) -> Graph:
    """Zachary's karate club (1977): 34 members, 78 friendships, the club's split.

    networkx ships the graph and each member's club after the split; networkx is
    imported only when this function runs.

    Parameters
    ----------
    features : bool, default True
        Give each node a one-hot identity feature (``x`` = the 34x34 identity,
        as PyTorch Geometric's ``KarateClub`` does); False leaves ``x`` None.
    dtype : float32 or float64
        Dtype of ``x``.

    Returns
    -------
    Graph
        ``edge_index`` (2, 156) int64 (both directions), ``y`` the club each
        member joined (0: Mr. Hi's, 1: the Officer's), ``extra["communities"]``
        PyTorch Geometric's four communities (int64, (34,)), ``extra["leaders"]``
        the two leaders' node ids ``(0, 33)`` (Mr. Hi and the Officer, John A.).

    References
    ----------
    W. W. Zachary, "An information flow model for conflict and fission in small
    groups", Journal of Anthropological Research 33(4), 1977.
    """
    features = check_bool("features", features)
    import networkx as nx

    karate = nx.karate_club_graph()
    n_nodes = karate.number_of_nodes()
    edge_index = undirected_edge_index(np.array(sorted(karate.edges()), dtype=np.int64), n_nodes)
    club = np.array([0 if karate.nodes[node]["club"] == "Mr. Hi" else 1 for node in range(n_nodes)], dtype=np.int64)
    x = np.eye(n_nodes, dtype=resolve_dtype(dtype)) if features else None
    extra = {"communities": np.array(KARATE_COMMUNITIES, dtype=np.int64), "leaders": (0, 33)}
    return Graph(n_nodes=n_nodes, edge_index=edge_index, x=x, y=club, extra=extra)
