"""The adding problem: layout, markers, targets and the predict-the-mean baseline."""

import numpy as np
import pytest

from dltoys.data import ADDING_BASELINE_MSE, as_sequences, make_adding


def test_layout_and_dtypes():
    X, y = make_adding(64, 30, rng=0)
    assert X.shape == (64, 30, 2) and X.dtype == np.float32
    assert y.shape == (64, 1) and y.dtype == np.float32
    X64, y64 = make_adding(64, 30, rng=0, dtype=np.float64)
    assert X64.dtype == np.float64 and y64.dtype == np.float64
    np.testing.assert_allclose(X, X64, rtol=1e-7)


@pytest.mark.parametrize("seq_len", [2, 3, 10, 51])
def test_one_marker_in_each_half_and_the_target_is_their_sum(seq_len):
    X, y = make_adding(5000, seq_len, rng=1, dtype=np.float64)
    values, markers = X[:, :, 0], X[:, :, 1]
    assert np.isin(markers, [0.0, 1.0]).all()
    half = seq_len // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), 1.0)
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), 1.0)
    assert values.min() >= 0.0 and values.max() < 1.0
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-15)
    # Every position of each half gets the marker (positions are uniform, not fixed).
    first = markers[:, :half].argmax(axis=1)
    second = markers[:, half:].argmax(axis=1)
    assert len(np.unique(first)) == half and len(np.unique(second)) == seq_len - half


def test_float32_targets_are_the_sum_of_the_stored_numbers():
    X, y = make_adding(1000, 20, rng=2)
    np.testing.assert_array_equal(y[:, 0], (X[:, :, 0] * X[:, :, 1]).sum(axis=1, dtype=np.float32))


def test_predicting_the_mean_scores_one_sixth():
    # (S - 1)^2 for S the sum of two U(0, 1) has mean 1/6 and variance
    # E[Z^4] - 1/36 = 1/15 - 1/36 = 7/180 (Z = S - 1 is triangular on [-1, 1]), so
    # the mean over 200k rows has standard error sqrt(7/180 / 2e5) = 4.4e-4; the
    # tolerance is 4 standard errors.
    n = 200_000
    _, y = make_adding(n, 10, rng=3, dtype=np.float64)
    tolerance = 4 * np.sqrt(7 / 180 / n)
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < tolerance
    assert abs(np.mean((y - y.mean()) ** 2) - 1 / 6) < tolerance
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)


def test_as_sequences_reads_each_row_left_to_right():
    rows = np.arange(12).reshape(3, 4)
    sequences = as_sequences(rows)
    assert sequences.shape == (3, 4, 1)
    np.testing.assert_array_equal(sequences[1, :, 0], [4, 5, 6, 7])


def test_as_sequences_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"X: expected an array of shape \(N, T\), received shape \(5,\)"):
        as_sequences(np.zeros(5))
    with pytest.raises(ValueError, match=r"X: .*received shape \(2, 3, 1\)"):
        as_sequences(np.zeros((2, 3, 1)))
