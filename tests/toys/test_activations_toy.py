"""The activations toy: quick mode reaches its targets; a linear network is one affine map."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import make_circles
from dltoys.models import MLP
from dltoys.toys.activations import Config, affine_map, linear_ceiling
from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


@pytest.mark.slow
def test_quick_mode_reaches_every_target(tmp_path):
    report = run_toy("activations", make_config(get_toy("activations"), quick=True), run_dir=tmp_path, progress=False)
    failed = [f"{t.name}: {t.value_text} (target {t.goal_text})" for t in report.targets if not t.passed]
    assert not failed, failed
    assert len(report.targets) == 9
    for name in report.plots:
        assert (tmp_path / name).is_file()
    assert {"activations_boundaries.png", "activations_losses.png"} <= set(report.plots)
    accuracy = report.metrics["test_accuracy"]
    # The story the notes tell: every nonlinear ReLU/tanh network beats the linear one by a wide margin.
    for data in ("moons", "circles"):
        assert min(accuracy[data][a] for a in ("tanh", "relu", "leaky_relu")) > accuracy[data]["linear"] + 0.05


def test_a_deep_linear_network_is_the_affine_map_of_its_multiplied_out_weights(rng):
    model = MLP((3, 7, 5, 4, 2), activation="linear", dtype=np.float64, rng=0)
    weight, bias = affine_map(model)
    assert weight.shape == (2, 3) and bias.shape == (2,)
    x = rng.standard_normal((50, 3))
    np.testing.assert_allclose(model(x), x @ weight.T + bias, rtol=1e-12, atol=1e-12)


def test_affine_map_refuses_a_nonlinear_network():
    with pytest.raises(TypeError, match="Tanh is not affine"):
        affine_map(MLP((2, 4, 1), activation="tanh", rng=0))


def test_the_circles_ceiling_is_what_the_best_of_many_lines_reaches():
    """No line through noise-free circles beats 1/2 + arccos(f) / (2 pi); the best one gets there."""
    factor = 0.5
    X, y = make_circles(600, factor=factor, dtype=np.float64, rng=0)
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)  # (A,) directions of the line's normal
    offsets = np.linspace(-1.1, 1.1, 111)  # (O,) steps of 0.02
    side = (X @ np.stack([np.cos(angles), np.sin(angles)]))[:, :, None] > offsets  # (N, A, O)
    best = np.max(np.mean(side == (y == 0)[:, None, None], axis=0))  # outer ring on the far side
    ceiling = linear_ceiling(Config(circles_factor=factor))["circles"]
    assert ceiling == pytest.approx(2 / 3)
    assert best == pytest.approx(ceiling, abs=0.005)


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match=r"hidden_sizes\[1\]: expected an integer >= 1, received 0"):
        make_config(get_toy("activations"), {"hidden_sizes": (8, 0)})
