"""Metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.train import accuracy, binary_accuracy, binary_accuracy_logits, mse
from dltoys.train.metrics import resolve_metrics


def test_accuracy_on_logits_indices_and_one_hot():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.1, 0.2, 0.3], [5.0, 0.0, 0.0]], dtype=np.float32)
    indices = np.array([0, 1, 0, 2])  # right, right, wrong, wrong
    assert accuracy(logits, indices) == 0.5
    assert accuracy(logits, np.eye(3, dtype=np.float32)[indices]) == 0.5


def test_accuracy_with_extra_dimensions():
    # (N=1, C=2, T=3): predicted classes [1, 0, 1]
    scores = np.array([[[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]])
    assert accuracy(scores, np.array([[1, 0, 0]])) == pytest.approx(2 / 3)


def test_binary_accuracy_thresholds_and_shapes():
    probs = np.array([[0.9], [0.4], [0.6], [0.1]])
    target = np.array([1, 1, 0, 0])
    assert binary_accuracy(probs, target) == 0.5  # predicts 1, 0, 1, 0
    assert binary_accuracy(probs, target, threshold=0.3) == 0.75  # predicts 1, 1, 1, 0
    assert binary_accuracy(probs.ravel(), target.reshape(-1, 1)) == 0.5
    logits = np.array([2.0, -0.5, -1.0, 3.0])
    assert binary_accuracy_logits(logits, np.array([True, False, False, False])) == 0.75
    multi = np.array([[0.9, 0.1], [0.2, 0.8]])  # independent labels
    assert binary_accuracy(multi, np.array([[1, 1], [0, 1]])) == 0.75


def test_mse():
    assert mse(np.array([1.0, 2.0]), np.array([0.0, 4.0])) == 2.5


def test_shape_errors_say_what_is_expected():
    with pytest.raises(ValueError, match="use binary_accuracy"):
        accuracy(np.zeros((4, 1)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"class indices of shape \(4,\)"):
        accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="does not match"):
        binary_accuracy(np.zeros((4, 2)), np.zeros(8))
    with pytest.raises(ValueError, match="does not match"):
        mse(np.zeros((4, 1)), np.zeros(4))


def test_resolve_metrics():
    assert resolve_metrics(None) == {}
    assert resolve_metrics(["accuracy", mse]) == {"accuracy": accuracy, "mse": mse}
    assert resolve_metrics("accuracy") == {"accuracy": accuracy}
    custom = lambda output, target: 0.0  # noqa: E731
    assert resolve_metrics({"acc": "accuracy", "zero": custom}) == {"acc": accuracy, "zero": custom}
    with pytest.raises(ValueError, match="unknown metric 'acuracy'; known: accuracy"):
        resolve_metrics(["acuracy"])
    with pytest.raises(ValueError, match="name a lambda"):
        resolve_metrics([custom])
    with pytest.raises(ValueError, match="reserved"):
        resolve_metrics({"val_acc": accuracy})
    with pytest.raises(ValueError, match="appears twice"):
        resolve_metrics(["mse", mse])
    with pytest.raises(TypeError, match="expected a metric name or a callable"):
        resolve_metrics([3])
