"""LogisticRegression: the gradient dL/dz = a - y, gradient descent by hand, learning, XOR, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.data import make_blobs, parity_truth_table
from dltoys.models import LogisticRegression
from dltoys.testing import gradcheck
from dltoys.train import NonFiniteError


def gradient_descent(lr: float, epochs: int, **kwargs) -> LogisticRegression:
    """Full-batch gradient descent without penalty, every epoch run."""
    return LogisticRegression(penalty=None, learning_rate_init=lr, max_iter=epochs, tol=None, **kwargs)


class MeanBCE(nn.Module):
    """The scalar training objective as a module of the input: BCEWithLogits(model(x), y)."""

    def __init__(self, model, target):
        super().__init__()
        self.model, self.loss, self.target = model, nn.BCEWithLogitsLoss(), target

    def forward(self, x):
        return self.loss(self.model(x), self.target)

    def backward(self, grad_out):
        return self.model.backward(self.loss.backward(grad_out))


def test_gradcheck_of_the_mean_bce(rng):
    X = rng.standard_normal((7, 3))
    y = (rng.random(7) < 0.5).astype(np.int64)
    module = gradient_descent(0.5, 3).fit(X, y).module_
    result = gradcheck(MeanBCE(module, y[:, None].astype(np.float64)), X)
    assert {check.name for check in result.checks} == {"input 0", "parameter 'model.0.weight'", "parameter 'model.0.bias'"}


def test_one_full_batch_epoch_is_one_gradient_step_from_zero():
    # From w = 0, b = 0 every a = 1/2: one step is w = -lr X^T (1/2 - y) / N, b = -lr mean(1/2 - y).
    X, y = make_blobs(40, centers=[[-1.0, 0.5], [1.0, 2.0]], noise=0.5, rng=3, dtype=np.float64)
    model = gradient_descent(0.3, 1).fit(X, y)
    assert model.coef_.shape == (1, 2) and model.intercept_.shape == (1,)
    np.testing.assert_allclose(model.coef_[0], -0.3 * X.T @ (0.5 - y) / 40, rtol=1e-6)
    np.testing.assert_allclose(model.intercept_[0], -0.3 * np.mean(0.5 - y), rtol=1e-6, atol=1e-8)
    assert model.loss_curve_ == [pytest.approx(np.log(2), rel=1e-6)] and model.n_iter_ == 1


def test_the_penalty_is_l2_on_the_weights_with_strength_one_over_c_n():
    # One step from zero with penalty: the decay term is zero at w = 0, so the first step is the same;
    # the second differs from the unpenalised one by -lr * w / (C N).
    X, y = make_blobs(40, centers=[[-1.0, 0.5], [1.0, 2.0]], noise=0.5, rng=3, dtype=np.float64)
    plain = gradient_descent(0.3, 2).fit(X, y)
    one = gradient_descent(0.3, 1).fit(X, y)
    penalised = LogisticRegression(C=0.5, learning_rate_init=0.3, max_iter=2, tol=None).fit(X, y)
    np.testing.assert_allclose(penalised.coef_ - plain.coef_, -0.3 * one.coef_ / (0.5 * 40), rtol=1e-3)
    np.testing.assert_array_equal(penalised.intercept_, plain.intercept_)  # the intercept is not penalised


@pytest.mark.parametrize("batch_size", [None, 16])
def test_learns_separable_blobs_to_99_percent_held_out(batch_size):
    """Blobs 4*sqrt(2) apart with noise 0.8: full batch lr 1 or batches of 16 with lr 0.1, 50 epochs, seed 0.

    Measured: the loss falls to 1.0% (full batch) and 2.3% (batches of 16) of its first epoch's.
    """
    centers = [[-2.0, -2.0], [2.0, 2.0]]
    X, y = make_blobs(200, centers=centers, noise=0.8, rng=0)
    X_test, y_test = make_blobs(1000, centers=centers, noise=0.8, rng=1)
    model = gradient_descent(1.0 if batch_size is None else 0.1, 50, batch_size=batch_size, random_state=0).fit(X, y)
    assert model.score(X_test, y_test) >= 0.99
    assert model.loss_curve_[-1] < 0.05 * model.loss_curve_[0]


def test_three_classes_are_softmax_regression():
    X, y = make_blobs(300, centers=[[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]], noise=0.8, rng=0)
    labels = np.array(["left", "right", "up"])[y]
    model = LogisticRegression(learning_rate_init=0.5, max_iter=200, tol=None, random_state=0).fit(X, labels)
    assert model.coef_.shape == (3, 2) and list(model.classes_) == ["left", "right", "up"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.score(X, labels) >= 0.98  # measured 1.0


def test_xor_stays_at_the_origin_and_chance():
    # On XOR's four points the gradient at w = 0, b = 0 is exactly zero: sum (1/2 - y) x = 0.
    X, y = parity_truth_table(2)
    model = gradient_descent(1.0, 100).fit(X, y)
    np.testing.assert_array_equal(model.coef_, 0)
    np.testing.assert_array_equal(model.predict_proba(X), 0.5)
    assert model.score(X, y) == 0.5


def test_predictions_agree_with_each_other(rng):
    X = rng.standard_normal((50, 3)).astype(np.float32)
    y = (X @ [1.0, -1.0, 0.5] + 0.3 * rng.standard_normal(50) > 0).astype(np.int64)
    model = gradient_descent(0.5, 20).fit(X, y)
    logits = model.decision_function(X)
    proba = model.predict_proba(X)
    assert logits.shape == (50,) and proba.shape == (50, 2)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-logits.astype(np.float64))), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), (proba[:, 1] > 0.5).astype(np.int64))


def test_minibatch_runs_are_reproducible():
    X, y = make_blobs(64, centers=[[-1.0, 0.0], [1.0, 0.0]], noise=0.5, rng=4)
    runs = [gradient_descent(0.2, 4, batch_size=8, random_state=9).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].coef_, runs[1].coef_)


def test_a_rate_far_too_large_stops_with_the_loss_curve_kept():
    # Features ~100 and lr 1e36: the first step makes |w| ~ 4e37, the next logits overflow float32.
    X, y = make_blobs(20, centers=[[-100.0, 0.0], [100.0, 0.0]], noise=50.0, rng=5)
    model = gradient_descent(1e36, 5)
    with pytest.raises(NonFiniteError, match=r"at epoch 2, batch 1 of 1"):
        model.fit(X, y)
    assert model.loss_curve_ == [pytest.approx(np.log(2))]


@pytest.mark.parametrize(
    "params, X, y, error, message",
    [
        ({}, [[0.0, 1.0], [1.0, 0.0]], [1, 0, 1], ValueError, r"y: found 3 labels for 2 samples"),
        ({}, [[0.0, 1.0], [1.0, 0.0]], [0.5, 1.5], ValueError, r"Unknown label type: y holds continuous values"),
        ({}, [[0.0, 1.0], [1.0, 0.0]], [1, 1], ValueError, r"y has only one class \(1\)"),
        ({}, [[np.inf, 1.0], [1.0, 0.0]], [1, 0], ValueError, r"X: expected finite values, received NaN or infinity"),
        ({}, [0.0, 1.0], [1, 0], ValueError, r"expected a 2D array X .* received 1D"),
        ({"learning_rate_init": 0.0}, [[0.0], [1.0]], [1, 0], ValueError, r"learning_rate_init: expected a number in \(0, inf\), received 0"),
        ({"max_iter": 0}, [[0.0], [1.0]], [1, 0], ValueError, r"max_iter: expected an integer >= 1, received 0"),
        ({"batch_size": 0}, [[0.0], [1.0]], [1, 0], ValueError, r"batch_size: expected an integer >= 1, received 0"),
        ({"solver": "lbfgs"}, [[0.0], [1.0]], [1, 0], ValueError, r"solver: expected one of 'sgd', 'adam', received 'lbfgs'"),
        ({"penalty": "l1"}, [[0.0], [1.0]], [1, 0], ValueError, r"penalty: expected one of 'l2', None, received 'l1'"),
        ({"C": -1.0}, [[0.0], [1.0]], [1, 0], ValueError, r"C: expected a number in \(0, inf\), received -1"),
    ],
)
def test_bad_inputs_name_the_argument(params, X, y, error, message):
    model = LogisticRegression(**params)  # stored unchanged: checked in fit
    assert model.get_params()[next(iter(params))] == next(iter(params.values())) if params else True
    with pytest.raises(error, match=message):
        model.fit(X, y)


def test_predicting_checks_the_features_and_the_fit():
    model = LogisticRegression(tol=None)
    with pytest.raises(ValueError, match="not fitted yet"):
        model.predict([[0.0, 1.0]])
    model.fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    with pytest.raises(ValueError, match="X has 3 features, but it is expecting 2 features"):
        model.predict_proba([[0.0, 1.0, 2.0]])


def test_matches_pytorch_gradient_descent(rng):
    """Ten full-batch SGD steps on the mean BCE against torch.nn.Linear(3, 1) from zero, float32."""
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((25, 3)).astype(np.float32)
    y = (rng.random(25) < 0.5).astype(np.float32)
    reference = torch.nn.Linear(3, 1)
    with torch.no_grad():
        reference.weight.zero_()
        reference.bias.zero_()
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.7)
    for _ in range(10):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(reference(torch.from_numpy(X))[:, 0], torch.from_numpy(y))
        loss.backward()
        optimizer.step()
    model = gradient_descent(0.7, 10).fit(X, y)
    scale = np.abs(model.coef_).max()
    np.testing.assert_allclose(model.coef_, reference.weight.detach().numpy(), rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(model.intercept_, reference.bias.detach().numpy(), rtol=1e-5, atol=1e-5 * scale)
