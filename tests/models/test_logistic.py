"""LogisticRegression: the gradient dL/dz = a - y, gradient descent by hand, learning, XOR, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.data import make_blobs, parity_truth_table
from dltoys.models import LogisticRegression
from dltoys.testing import gradcheck
from dltoys.train import NonFiniteError, StopAtTarget


class MeanBCE(nn.Module):
    """The scalar training objective as a module of the input: BCEWithLogits(model(x), y)."""

    def __init__(self, model, target):
        super().__init__()
        self.model, self.loss, self.target = model, nn.BCEWithLogitsLoss(), target

    def forward(self, x):
        return self.loss(self.model(x), self.target)

    def backward(self, grad_out):
        return self.model.backward(self.loss.backward(grad_out))


def random_model(rng, n_features=3, dtype=np.float64):
    model = LogisticRegression(n_features, dtype=dtype)
    model.linear.weight.data[...] = rng.standard_normal((1, n_features))
    model.linear.bias.data[...] = rng.standard_normal(1)
    return model


def test_gradcheck_of_the_mean_bce(rng):
    model = random_model(rng)
    X = rng.standard_normal((7, 3))
    y = (rng.random((7, 1)) < 0.5).astype(np.float64)
    result = gradcheck(MeanBCE(model, y), X)
    assert result.ok and {check.name for check in result.checks} == {"input 0", "parameter 'model.linear.weight'", "parameter 'model.linear.bias'"}


def test_weight_gradient_is_the_error_times_the_input(rng):
    # The docstring's derivation: dL/dw = X^T (a - y) / N, dL/db = mean(a - y), a = sigmoid(X w + b).
    model = random_model(rng, n_features=4)
    X = rng.standard_normal((9, 4))
    y = (rng.random(9) < 0.5).astype(np.float64)
    loss = nn.BCEWithLogitsLoss()
    loss(model(X), y[:, None])
    model.backward(loss.backward())
    a = 1 / (1 + np.exp(-(X @ model.linear.weight.data[0] + model.linear.bias.data[0])))
    np.testing.assert_allclose(model.linear.weight.grad[0], X.T @ (a - y) / 9, rtol=1e-12)
    np.testing.assert_allclose(model.linear.bias.grad[0], np.mean(a - y), rtol=1e-12)


def test_one_full_batch_epoch_is_one_gradient_step_from_zero():
    # From w = 0, b = 0 every a = 1/2: one step is w = -lr X^T (1/2 - y) / N, b = -lr mean(1/2 - y).
    X, y = make_blobs(40, centers=[[-1.0, 0.5], [1.0, 2.0]], noise=0.5, rng=3, dtype=np.float64)
    model = LogisticRegression(2, dtype=np.float64)
    history = model.fit(X, y, lr=0.3, epochs=1)
    np.testing.assert_allclose(model.linear.weight.data[0], -0.3 * X.T @ (0.5 - y) / 40, rtol=1e-12)
    np.testing.assert_allclose(model.linear.bias.data[0], -0.3 * np.mean(0.5 - y), rtol=1e-12, atol=1e-15)
    assert history["loss"] == [pytest.approx(np.log(2), rel=1e-12)]
    assert model.history is history


@pytest.mark.parametrize("batch_size", [None, 16])
def test_learns_separable_blobs_to_99_percent_held_out(batch_size):
    """Blobs 4*sqrt(2) apart with noise 0.8: full batch lr 1 or batches of 16 with lr 0.1, 50 epochs, seed 0.

    Measured: the loss falls to 1.0% (full batch) and 2.3% (batches of 16) of its first epoch's.
    """
    centers = [[-2.0, -2.0], [2.0, 2.0]]
    X, y = make_blobs(200, centers=centers, noise=0.8, rng=0)
    X_test, y_test = make_blobs(1000, centers=centers, noise=0.8, rng=1)
    model = LogisticRegression(2)
    history = model.fit(X, y, lr=1.0 if batch_size is None else 0.1, epochs=50, batch_size=batch_size, rng=0)
    assert model.score(X_test, y_test) >= 0.99
    assert history["loss"][-1] < 0.05 * history["loss"][0]


def test_xor_stays_at_the_origin_and_chance():
    # On XOR's four points the gradient at w = 0, b = 0 is exactly zero: sum (1/2 - y) x = 0.
    X, y = parity_truth_table(2)
    model = LogisticRegression(2)
    model.fit(X, y, lr=1.0, epochs=100)
    np.testing.assert_array_equal(model.linear.weight.data, 0)
    np.testing.assert_array_equal(model.predict_proba(X), 0.5)
    assert model.score(X, y) == 0.5


def test_predictions_agree_with_each_other(rng):
    model = random_model(rng, dtype=np.float32).float()
    X = rng.standard_normal((50, 3)).astype(np.float32)
    logits = model.decision_function(X)
    proba = model.predict_proba(X)
    assert logits.shape == proba.shape == (50,) and proba.dtype == np.float32
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-logits.astype(np.float64))), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), (proba > 0.5).astype(np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_dtype_is_kept_through_training(dtype):
    X, y = make_blobs(30, centers=[[-1.0, 0.0], [1.0, 0.0]], noise=0.3, rng=2)
    model = LogisticRegression(2, dtype=dtype)
    model.fit(X.astype(np.float64), y, lr=0.5, epochs=3)
    assert model.linear.weight.data.dtype == dtype and model.linear.bias.data.dtype == dtype
    assert model.decision_function(X).dtype == dtype


def test_minibatch_runs_are_reproducible_and_callbacks_apply():
    X, y = make_blobs(64, centers=[[-1.0, 0.0], [1.0, 0.0]], noise=0.5, rng=4)
    runs = [LogisticRegression(2) for _ in range(2)]
    for model in runs:
        model.fit(X, y, lr=0.2, epochs=4, batch_size=8, rng=9)
    np.testing.assert_array_equal(runs[0].linear.weight.data, runs[1].linear.weight.data)
    history = LogisticRegression(2).fit(X, y, lr=1.0, epochs=200, callbacks=[StopAtTarget("accuracy", 0.9)])
    assert len(history) < 200 and history["accuracy"][-1] >= 0.9


def test_a_rate_far_too_large_stops_with_the_history_kept():
    # Features ~100 and lr 1e36: the first step makes |w| ~ 4e37, the next logits overflow float32.
    X, y = make_blobs(20, centers=[[-100.0, 0.0], [100.0, 0.0]], noise=50.0, rng=5)
    model = LogisticRegression(2)
    with pytest.raises(NonFiniteError, match=r"at epoch 2, batch 1 of 1"):
        model.fit(X, y, lr=1e36, epochs=5)
    assert len(model.history) == 1 and model.history["loss"][0] == pytest.approx(np.log(2))


def test_state_dict_has_one_linear_layer():
    state = LogisticRegression(5).state_dict()
    assert list(state) == ["linear.weight", "linear.bias"]
    assert state["linear.weight"].shape == (1, 5) and state["linear.bias"].shape == (1,)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.fit([[0.0, 1.0]], [2]), ValueError, r"y: expected labels 0 and 1, received \[2\]"),
        (lambda m: m.fit([[0.0, 1.0]], [1, 0]), ValueError, r"y: expected shape \(1,\) to match X's rows, received \(2,\)"),
        (lambda m: m.fit([[0.0, 1.0, 2.0]], [1]), ValueError, r"expected X of shape \(N >= 1, 2\), received \(1, 3\)"),
        (lambda m: m.fit([[np.inf, 1.0]], [1]), ValueError, r"X: expected finite values, received NaN or inf"),
        (lambda m: m.fit([[0.0, 1.0]], [1], lr=0.0), ValueError, r"lr: expected a number in \(0, inf\), received 0"),
        (lambda m: m.fit([[0.0, 1.0]], [1], epochs=0), ValueError, r"epochs: expected an integer >= 1, received 0"),
        (lambda m: m.fit([[0.0, 1.0]], [1], batch_size=0), ValueError, r"batch_size: expected an integer >= 1, received 0"),
        (lambda m: m.fit([[0.0, 1.0]], [1], validation_data=[[0.0, 1.0]]), TypeError, r"validation_data: expected a pair"),
        (lambda m: m.predict_proba([[0.0, 1.0, 2.0]]), ValueError, r"expected X of shape \(N >= 1, 2\), received \(1, 3\)"),
        (lambda m: m.score([[0.0, 1.0]], [0.5]), ValueError, r"y: expected labels 0 and 1, received \[0\.5\]"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(LogisticRegression(2))


def test_matches_pytorch_gradient_descent(rng):
    """Ten full-batch SGD steps on the mean BCE against torch.nn.Linear(3, 1) from the same start."""
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((25, 3))
    y = (rng.random(25) < 0.5).astype(np.float64)
    model = random_model(rng)
    reference = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(model.linear.weight.data))
        reference.bias.copy_(torch.from_numpy(model.linear.bias.data))
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.7)
    for _ in range(10):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(reference(torch.from_numpy(X))[:, 0], torch.from_numpy(y))
        loss.backward()
        optimizer.step()
    model.fit(X, y, lr=0.7, epochs=10)
    np.testing.assert_allclose(model.linear.weight.data, reference.weight.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.linear.bias.data, reference.bias.detach().numpy(), rtol=1e-10)
