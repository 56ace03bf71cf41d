"""Models at their boundary: constructor arguments named, divergence reported rather than "converged"."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import models, train


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: models.MLP(5), TypeError, r"layer_sizes: expected a sequence of layer widths .* such as \(2, 10, 1\), received 5"),
        (lambda: models.MLP([5]), ValueError, r"layer_sizes: expected at least \(n_inputs, n_outputs\)"),
        (lambda: models.MLP([2, 3, 1], batch_norm="no"), TypeError, r"batch_norm: expected True or False, received 'no'"),
        (lambda: models.CNN(8, 10), TypeError, r"input_shape: expected \(C, L\) or \(C, H, W\)"),
    ],
)
def test_constructor_arguments_are_named(build, error, message):
    # Before: MLP(5) raised "'int' object is not iterable", MLP(..., batch_norm='no') built batch norm.
    with pytest.raises(error, match=message):
        build()


@pytest.mark.parametrize("scale", [1.0, 1e10])
def test_a_diverging_perceptron_is_reported_not_converged(scale):
    # Before: Perceptron(lr=1e308) reported convergence with infinite weights.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]) * scale
    y = np.array([0, 0, 0, 1])
    with pytest.raises(train.NonFiniteError, match=r"became nan|non-finite"):
        models.Perceptron(eta0=1e308).fit(X, y)


def test_a_diverging_logistic_regression_is_reported():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with pytest.raises(train.NonFiniteError):
        models.LogisticRegression(learning_rate_init=1e308, max_iter=5).fit(X, np.array([0, 0, 0, 1]))


@pytest.mark.parametrize("n_iter_no_change", [1, 3, 5])
def test_perceptron_stops_after_n_iter_no_change_epochs_as_scikit_learn(n_iter_no_change):
    # EarlyStopping's patience now means "epochs without improvement" (Keras, Lightning): the
    # Perceptron passes n_iter_no_change itself and stops where scikit-learn does.
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])  # XOR: never separable, so only the tol rule stops it
    kwargs = dict(tol=1e9, n_iter_no_change=n_iter_no_change, max_iter=100)
    ours = models.Perceptron(**kwargs).fit(X, y)
    theirs = sklearn_linear.Perceptron(**kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 1 + n_iter_no_change
