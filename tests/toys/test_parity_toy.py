"""The parity toy: aligned labels (rows, sequences, running parity), disjoint test rows, quick mode's targets."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import as_sequences
from dltoys.toys import parity
from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


def _count_parity(bits):
    """The parity by counting ones, independent of the library's XOR."""
    return np.asarray(bits).sum(axis=-1, dtype=np.int64) % 2


def _keys(bits):
    """Row -> integer (up to 64 bits), independent of the library's packing."""
    return bits.astype(np.uint64) @ (np.uint64(1) << np.arange(bits.shape[1], dtype=np.uint64))


@pytest.fixture(scope="module")
def data():
    return parity.draw_data(parity.Config(sizes=(20_000,), n_test=5_000, n_val=2_000, seed=3))


def test_every_label_is_the_parity_of_its_own_row(data):
    for part in ("train", "test", "val"):
        x, y = data["x_" + part], data["y_" + part]
        assert x.dtype == np.uint8 and x.shape[1] == 50
        np.testing.assert_array_equal(y, _count_parity(x))


def test_labels_stay_aligned_after_the_reshape_to_sequences(data):
    x, y = data["x_train"], data["y_train"]
    sequences = as_sequences(x)  # what the recurrent models read, (N, 50, 1)
    np.testing.assert_array_equal(_count_parity(sequences[:, :, 0]), y)
    # Every minibatch the loop draws keeps rows and labels together.
    from dltoys.data import Minibatches

    for xb, yb in Minibatches(sequences, y, batch_size=999, shuffle=True, rng=0):
        np.testing.assert_array_equal(_count_parity(xb[:, :, 0]), yb)


def test_running_parity_is_the_label_of_every_prefix_row(data):
    x, y = data["x_train"][:3000], data["y_train"][:3000]
    running = parity.running_parity(x)
    assert running.shape == (3000, 50, 1) and running.dtype == np.uint8
    for t in (0, 1, 24, 49):
        np.testing.assert_array_equal(running[:, t, 0], _count_parity(x[:, : t + 1]))
    np.testing.assert_array_equal(running[:, -1, 0], y)  # the last step is the row's own label


def test_test_and_validation_rows_are_not_training_rows(data):
    train_keys = set(_keys(data["x_train"]).tolist())
    test_keys = set(_keys(data["x_test"]).tolist())
    val_keys = set(_keys(data["x_val"]).tolist())
    assert not train_keys & test_keys
    assert not train_keys & val_keys
    assert not test_keys & val_keys


def test_smaller_sizes_are_the_first_rows_of_the_largest(data):
    config = parity.Config(sizes=(5_000,), n_test=100, n_val=100, seed=3)
    small = parity.draw_data(config)
    np.testing.assert_array_equal(small["x_train"], data["x_train"][:5_000])


def test_full_row_accuracy_reads_the_last_step_of_per_step_outputs():
    target = np.array([[[0], [1], [1]], [[1], [1], [0]]], dtype=np.uint8)  # (2, 3, 1)
    output = np.array([[[5.0], [-5.0], [2.0]], [[-3.0], [-3.0], [-1.0]]])  # last steps: right, right
    assert parity.full_row_accuracy(output, target) == 1.0
    output[0, -1, 0] = -2.0  # first row's last step now wrong; earlier steps do not count
    assert parity.full_row_accuracy(output, target) == 0.5
    assert parity.full_row_accuracy(np.array([[1.0], [-1.0]]), np.array([[1], [1]])) == 0.5


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"models": ("rnn", "gpt")}, r"parity: models\[1\]: expected one of 'logistic', .*'lstm', received 'gpt'"),
        ({"sizes": ()}, "parity: sizes: expected one or more values, received an empty list"),
        ({"sizes": (100, 0)}, r"parity: sizes\[1\]: expected an integer >= 1, received 0"),
        ({"target": 0.4}, r"parity: target: expected a number in \(0.5, 1\], received 0.4"),
        ({"clip": -1.0}, r"parity: clip: expected a number in \[0, inf\), received -1"),
        ({"hidden_size": 0}, "parity: hidden_size: expected an integer >= 1, received 0"),
    ],
)
def test_bad_configs_are_rejected_by_name(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config(get_toy("parity"), overrides)


@pytest.mark.slow
def test_quick_mode_reaches_every_target(tmp_path):
    report = run_toy("parity", make_config(get_toy("parity"), quick=True), run_dir=tmp_path, progress=False)
    failed = [f"{t.name}: {t.value_text} (target {t.goal_text})" for t in report.targets if not t.passed]
    assert not failed, failed
    assert {"RNN, 10,000 rows: held-out accuracy", "LSTM, 10,000 rows: held-out accuracy"} <= {t.name for t in report.targets}
    for name in report.plots:
        assert (tmp_path / name).is_file()
    results = {r["model"]: r for r in report.metrics["results"]}
    assert results["rnn"]["test_accuracy"] >= 0.99 and results["lstm"]["test_accuracy"] >= 0.99
    assert abs(results["logistic"]["test_accuracy"] - 0.5) <= 0.03
    assert results["mlp_wide"]["train_accuracy"] - results["mlp_wide"]["test_accuracy"] > 0.4


def test_a_small_column_separates_memory_from_fixed_size_models(tmp_path):
    # 16-bit parity, 3,000 rows: the same run in a few seconds.
    config = make_config(
        get_toy("parity"),
        {"n_bits": 16, "sizes": (3_000,), "models": ("logistic", "rnn", "lstm"), "n_test": 2_000, "n_val": 500,
         "sample_budget": 30_000},
    )
    report = run_toy("parity", config, run_dir=tmp_path, progress=False)
    results = {r["model"]: r for r in report.metrics["results"]}
    assert results["rnn"]["test_accuracy"] >= 0.99, results["rnn"]
    assert results["lstm"]["test_accuracy"] >= 0.99, results["lstm"]
    assert abs(results["logistic"]["test_accuracy"] - 0.5) <= 0.05
    assert report.passed
    assert (tmp_path / "parity_grid.png").exists()


def test_quick_mode_grid_is_models_side_by_side_not_a_tall_strip():
    from dltoys.toys.parity import MODELS, plot_grid

    config = make_config(get_toy("parity"), quick=True)
    curve = {"curve_samples": [1000, 2000], "curve_train_loss": [0.7, 0.6], "curve_train_error": [0.5, 0.4],
             "curve_error": [0.5, 0.5], "test_accuracy": 0.5}
    fig = plot_grid({(name, config.sizes[0]): curve for name in MODELS}, config)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(shown) == len(MODELS)
    assert len({round(ax.get_position().y0, 3) for ax in shown}) == 2  # two rows of three
    width, height = fig.get_size_inches()
    assert width > height and len(fig.legends) == 1
