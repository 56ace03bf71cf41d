"""figure_legend: the panels' series, each once, in one legend under the figure."""

from __future__ import annotations

import pytest

from dltoys import plot


def test_one_legend_with_each_label_once_and_none_left_on_the_panels():
    fig, axes = plot.figure(1, 2)
    for ax in axes:
        plot.curves(ax, {"SGD": [3, 2, 1], "Adam": [3, 1, 0.5]}, title="loss")
    axes[1].axhline(1.0, label="target")
    legend = plot.figure_legend(fig, axes)
    assert [t.get_text() for t in legend.get_texts()] == ["SGD", "Adam", "target"]
    assert all(ax.get_legend() is None for ax in axes)
    assert fig.legends == [legend]


def test_no_labelled_series_is_an_error():
    fig, ax = plot.figure()
    ax.plot([1, 2])
    with pytest.raises(ValueError, match="none of the axes has a labelled series"):
        plot.figure_legend(fig, [ax])
