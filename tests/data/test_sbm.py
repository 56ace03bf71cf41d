"""The stochastic block model generator."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data.graphs import make_sbm


def test_edge_densities_follow_the_block_probabilities():
    probs = [[0.3, 0.02, 0.05], [0.02, 0.2, 0.0], [0.05, 0.0, 0.4]]
    graph = make_sbm([60, 80, 50], probs, rng=0)
    adjacency = graph.adjacency(np.float64)
    np.testing.assert_array_equal(adjacency, adjacency.T)
    assert adjacency.diagonal().sum() == 0 and adjacency.max() == 1
    blocks = [graph.y == b for b in range(3)]
    for a in range(3):
        for b in range(3):
            pairs = blocks[a].sum() * (blocks[b].sum() - (a == b))
            density = adjacency[np.ix_(blocks[a], blocks[b])].sum() / pairs
            # binomial standard error at most sqrt(0.25 / 2400) = 0.01: 4 of them
            assert abs(density - probs[a][b]) < 0.04, (a, b, density)
    np.testing.assert_array_equal(graph.y, np.repeat([0, 1, 2], [60, 80, 50]))


def test_seed_fixes_the_graph_and_features_separate_the_blocks():
    first = make_sbm([30, 30], [[0.2, 0.01], [0.01, 0.2]], n_features=4, class_sep=3.0, rng=5)
    again = make_sbm([30, 30], [[0.2, 0.01], [0.01, 0.2]], n_features=4, class_sep=3.0, rng=5)
    np.testing.assert_array_equal(first.edge_index, again.edge_index)
    np.testing.assert_array_equal(first.x, again.x)
    assert first.x.dtype == np.float32 and first.x.shape == (60, 4)
    centroids = np.stack([first.x[first.y == b].mean(0) for b in range(2)])
    nearest = np.argmin(((first.x[:, None] - centroids) ** 2).sum(-1), axis=1)
    assert (nearest == first.y).mean() > 0.9


@pytest.mark.parametrize(
    "sizes, probs, message",
    [
        ([3, 0], [[0.1, 0], [0, 0.1]], "block_sizes"),
        ([3, 3], [[0.1, 0.2], [0.3, 0.1]], "symmetric"),
        ([3, 3], [[0.1]], r"shape \(2, 2\)"),
        ([3], [[1.5]], r"\[0, 1\]"),
    ],
)
def test_bad_arguments(sizes, probs, message):
    with pytest.raises(ValueError, match=message):
        make_sbm(sizes, probs)
