"""SOM views and the graph drawing: one cell per unit, one label per unit, one disc per node, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import plot
from dltoys.models.som import grid_coordinates

pytest.importorskip("matplotlib")


def test_u_matrix_draws_one_hexagon_per_unit(rng):
    positions, _ = grid_coordinates(4, 5, "hexagonal")
    fig, ax = plot.figure()
    hexagons = plot.u_matrix(ax, rng.random((4, 5)), positions=positions)
    assert len(hexagons.get_paths()) == 20 and ax.get_title() == "U-matrix"
    fig, ax = plot.figure()
    image = plot.u_matrix(ax, rng.random((4, 5)))
    assert image.get_array().shape == (4, 5)


def test_component_planes_hide_spare_axes_and_name_each_feature(rng):
    fig, axes = plot.figure(2, 2)
    plot.component_planes(axes, rng.random((3, 3, 3)), ["red", "green", "blue"])
    assert [ax.get_title() for ax in axes.ravel()[:3]] == ["red", "green", "blue"]
    assert not axes.ravel()[3].axison


def test_labelled_map_writes_each_units_label(rng):
    labels = rng.integers(0, 10, (5, 6))
    fig, ax = plot.figure()
    plot.labelled_map(ax, labels, background=rng.random((5, 6)))
    drawn = sum(len(collection.get_offsets()) for collection in ax.collections)
    assert drawn == 30 and len(ax.collections) == len(np.unique(labels))  # one marker per unit, a collection per label


def test_hit_map_and_codebook_colours(rng):
    fig, (left, right) = plot.figure(1, 2)
    plot.hit_map(left, rng.integers(0, 5, (3, 4)))
    plot.codebook_colours(right, rng.random((3, 4, 3)))
    with pytest.raises(ValueError, match="3 features"):
        plot.codebook_colours(right, rng.random((3, 4, 2)))
    with pytest.raises(ValueError, match="n_rows, n_columns"):
        plot.hit_map(left, np.zeros(5))


def test_spring_layout_keeps_neighbours_closer_than_strangers():
    # Two 5-cliques joined by one edge: within-clique distances are shorter than across.
    edges = [(i, j) for block in (range(5), range(5, 10)) for i in block for j in block if i < j] + [(4, 5)]
    edge_index = np.array(edges).T
    positions = plot.spring_layout(np.concatenate([edge_index, edge_index[::-1]], axis=1), 10, rng=0)
    distance = np.linalg.norm(positions[:, None] - positions[None], axis=2)
    assert distance[:5, :5].mean() < distance[:5, 5:].mean() / 2
