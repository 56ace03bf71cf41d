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
