"""The plotting core: figure/finish, curves, decision boundaries and bars draw what they are given."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import plot


def test_finish_labels_and_adds_a_legend_only_for_several_series():
    fig, (one, two) = plot.figure(1, 2, title="suptitle")
    one.plot([1, 2], label="a")
    two.plot([1, 2], label="a")
    two.plot([2, 1], label="b")
    plot.finish(one, "single", "x", "y")
    plot.finish(two, "double", "x", "y")
    assert (one.get_title(), one.get_xlabel(), one.get_ylabel()) == ("single", "x", "y")
    assert one.get_legend() is None and two.get_legend() is not None
    assert fig.get_suptitle() == "suptitle"


def test_curves_draw_each_series_against_its_x_and_drop_non_positive_values_on_a_log_scale():
    fig, ax = plot.figure()
    plot.curves(ax, {"loss": [1.0, 0.5, 0.0, 0.25], "val": [2.0, 1.0, 0.5, 0.25]}, title="t",
                x={"loss": [10, 20, 30, 40], "val": [1, 2, 3, 4]}, log_y=True, target=0.3)
    loss, val, target = ax.get_lines()
    np.testing.assert_array_equal(loss.get_xdata(), [10, 20, 40])  # the 0.0 is not drawable on a log axis
    np.testing.assert_array_equal(loss.get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(val.get_xdata(), [1, 2, 3, 4])
    assert ax.get_yscale() == "log" and np.allclose(target.get_ydata(), 0.3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "val", "target"]


def test_decision_boundary_shades_what_the_predictor_says_and_scatters_each_class():
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-2.0, 1.0], [2.0, -1.0]])
    y = np.array([0, 1, 0, 1])
    seen = []

    def predict(grid):
        seen.append(grid)
        return (grid[:, 0] > 0).astype(int)  # the line x1 = 0

    fig, ax = plot.figure()
    plot.decision_boundary(ax, predict, X, y, title="t", resolution=50)
    (grid,) = seen
    assert grid.shape == (2500, 2) and grid.dtype == np.float32  # one batch, the models' dtype
    assert [len(c.get_offsets()) for c in ax.collections[1:]] == [2, 2]  # one scatter per class
    with pytest.raises(ValueError, match=r"decision_boundary: X must have shape \(N, 2\), received \(4, 3\)"):
        plot.decision_boundary(ax, predict, np.zeros((4, 3)), y, title="t")


def test_bars_put_each_group_side_by_side_and_check_lengths():
    fig, ax = plot.figure()
    plot.bars(ax, {"before": [1.0, 10.0], "after": [0.5, 5.0]}, ["w", "b"], title="t", log_y=True)
    heights = sorted(patch.get_height() for patch in ax.patches)
    assert heights == [0.5, 1.0, 5.0, 10.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "b"]
    with pytest.raises(ValueError, match=r"bars: group 'x' has 1 values for 2 categories"):
        plot.bars(ax, {"x": [1.0]}, ["w", "b"], title="t")


def test_gapped_line_draws_no_solid_line_across_unmeasured_x():
    fig, ax = plot.figure()
    line = plot.gapped_line(ax, [2, 3, 4, 8, 9], [1.0, 1.0, 0.9, 0.6, 0.5], marker="o", label="MLP")
    xs = line.get_xdata()
    assert np.isnan(xs).sum() == 1 and list(xs[~np.isnan(xs)]) == [2, 3, 4, 8, 9]  # every point, one break
    dotted = [other for other in ax.get_lines() if other is not line]
    assert len(dotted) == 1 and list(dotted[0].get_xdata()) == [4, 8] and dotted[0].get_linestyle() == ":"
    assert [t for t in ax.get_legend_handles_labels()[1]] == ["MLP"]  # the gap's segment is not a legend entry


def test_curves_styles_keep_overlapping_series_apart():
    fig, ax = plot.figure()
    plot.curves(ax, {"sigmoid": [0.69, 0.69], "linear": [0.69, 0.69]}, title="t",
                styles={"linear": {"color": "black", "linestyle": ":"}}, target=0.69, target_label="ln 2")
    sigmoid, linear, target = ax.get_lines()
    assert linear.get_linestyle() == ":" and linear.get_color() == "black"
    assert len({line.get_linestyle() for line in (sigmoid, linear, target)}) == 3  # three lines, three styles


def test_decision_boundary_keeps_its_legend_outside_the_points():
    fig, ax = plot.figure()
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    plot.decision_boundary(ax, lambda grid: np.zeros(len(grid), dtype=int), X, y, title="XOR")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # lay the figure out as saving it would
    legend_box, axes_box = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    assert legend_box.x0 >= axes_box.x1  # right of the plot, never among the corners
