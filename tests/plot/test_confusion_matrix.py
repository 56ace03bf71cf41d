"""Confusion counts and their plot: the counts are right, the figure says what it shows."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import plot


def test_counts_of_a_small_example_worked_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    expected = np.array([
        [1, 1, 0],  # two 0s: one right, one read as 1
        [0, 2, 1],  # three 1s: two right, one read as 2
        [1, 0, 0],  # one 2, read as 0
    ])
    np.testing.assert_array_equal(plot.confusion_counts(y_true, y_pred), expected)


def test_counts_match_a_pair_by_pair_count(rng):
    y_true = rng.integers(0, 7, size=500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 7, size=500))
    counts = plot.confusion_counts(y_true, y_pred, n_classes=9)
    assert counts.shape == (9, 9)
    for i in range(9):
        for j in range(9):
            assert counts[i, j] == np.sum((y_true == i) & (y_pred == j))
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(y_true, minlength=9))


@pytest.mark.parametrize(
    "y_true, y_pred, n_classes, message",
    [
        ([0, 1], [0], None, "same length"),
        ([0, -1], [0, 1], None, "non-negative integer"),
        ([0.0, 1.0], [0, 1], None, "non-negative integer"),
        ([0, 3], [0, 1], 3, "n_classes=3 but the labels go up to 3"),
    ],
)
def test_bad_labels_are_rejected_with_what_is_wrong(y_true, y_pred, n_classes, message):
    with pytest.raises(ValueError, match=message):
        plot.confusion_counts(np.array(y_true), np.array(y_pred), n_classes=n_classes)


def test_the_plot_writes_every_nonzero_count_with_labelled_axes_and_a_colour_bar():
    counts = np.array([[5, 0, 1], [0, 7, 0], [2, 0, 4]])
    fig, ax = plot.figure(title="demo")
    plot.confusion_matrix(ax, counts, title="three classes", class_names=["a", "b", "c"])
    assert ax.get_title() == "three classes"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    cells = sorted((round(t.get_position()[1]), round(t.get_position()[0]), int(t.get_text())) for t in ax.texts)
    expected = sorted((i, j, int(counts[i, j])) for i, j in zip(*np.nonzero(counts)))
    assert cells == expected  # zero cells stay blank
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "samples (square-root colour scale)"  # the colour bar
    # is the legend, and says its scale is not linear


def test_the_plot_rejects_a_non_square_matrix():
    _, ax = plot.figure()
    with pytest.raises(ValueError, match=r"square \(C, C\) array, received shape \(2, 3\)"):
        plot.confusion_matrix(ax, np.zeros((2, 3), dtype=int), title="bad")
