"""Graph records and the karate club loader."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import Graph, load_karate_club
from dltoys.data.graphs import undirected_edge_index

pytest.importorskip("networkx")


def test_karate_club_is_zacharys_graph():
    graph = load_karate_club()
    assert graph.n_nodes == 34 and graph.n_edges == 156  # 78 friendships, both directions
    adjacency = graph.adjacency()
    np.testing.assert_array_equal(adjacency, adjacency.T)
    assert adjacency.diagonal().sum() == 0 and set(np.unique(adjacency)) == {0.0, 1.0}
    # The two leaders: Mr. Hi (node 0) and the Officer (node 33) have the most friends.
    degree = adjacency.sum(1)
    assert set(np.argsort(degree)[-2:]) == {0, 33}
    assert graph.y[0] == 0 and graph.y[33] == 1
    assert np.bincount(graph.y).tolist() == [17, 17]
    assert graph.x.dtype == np.float32 and graph.x.shape == (34, 34)


def test_karate_communities_are_pytorch_geometrics():
    torch_geometric = pytest.importorskip("torch_geometric")
    from torch_geometric.datasets import KarateClub

    ours = load_karate_club()
    theirs = KarateClub()[0]
    np.testing.assert_array_equal(ours.extra["communities"], theirs.y.numpy())
    theirs_edges = set(map(tuple, theirs.edge_index.numpy().T.tolist()))
    assert set(map(tuple, ours.edge_index.T.tolist())) == theirs_edges


def test_undirected_edge_index_sorted_both_directions():
    edge_index = undirected_edge_index(np.array([[2, 0], [0, 1]]), 3)
    assert edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]
    graph = Graph(n_nodes=3, edge_index=edge_index)
    assert graph.adjacency(dtype=np.float64)[0].tolist() == [0.0, 1.0, 1.0]


def test_features_flag_refuses_strings():
    with pytest.raises(TypeError, match="features"):
        load_karate_club(features="no")
