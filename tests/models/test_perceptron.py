"""Rosenblatt's perceptron: the rule by hand, Novikoff's bound, XOR, the pocket, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import make_blobs, parity_truth_table
from dltoys.models import Perceptron, novikoff_bound


def separable_blobs(seed: int):
    # Centres 4*sqrt(2) apart, noise 0.6: a point crosses the bisector with probability ~1e-6.
    return make_blobs(150, centers=[[-2.0, -2.0], [2.0, 2.0]], noise=0.6, rng=seed)


def max_margin_separator(X, y):
    """The largest-margin hyperplane through augmented z = (x, 1): min |u|^2 s.t. s u.z >= 1 (SLSQP)."""
    optimize = pytest.importorskip("scipy.optimize")
    Z = np.column_stack([X.astype(np.float64), np.ones(len(X))])
    signed = (2 * y - 1)[:, None] * Z
    start = np.append(X[y == 1].mean(0) - X[y == 0].mean(0), 0.0)
    start /= np.min(signed @ start)  # feasible: the class-means direction, scaled to margin 1
    result = optimize.minimize(
        lambda u: u @ u, start, jac=lambda u: 2 * u, method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda u: signed @ u - 1, "jac": lambda u: signed}],
    )
    return result.x[:-1], result.x[-1]


def test_online_rule_by_hand():
    # Epoch 1: (1, 0) has z = 0 -> predicts 0, label 1: w = (1, 0), b = 1. Then (0, 1) has
    # z = 1 -> predicts 1, label 0: w = (1, -1), b = 0. Epoch 2: z = 1 and z = -1, no mistake.
    model = Perceptron(2, dtype=np.float64)
    fit = model.fit([[1.0, 0.0], [0.0, 1.0]], [1, 0], shuffle=False)
    np.testing.assert_array_equal(model.weight, [1.0, -1.0])
    assert model.bias == 0.0
    assert fit.converged and fit.epochs == 2 and fit.updates == 2
    assert fit.mistakes_per_epoch == [2, 0]
    assert fit.accuracy_per_epoch == [1.0, 1.0]


def test_the_search_resumes_after_a_mistake_not_from_the_start():
    # (1, 1) label 1 is first a mistake (w = (1, 1), b = 1); (-1, -1) label 0 then has z = -1:
    # correct; (2, 2) label 1: z = 5, correct. One update, converged in the second epoch.
    model = Perceptron(2, dtype=np.float64)
    fit = model.fit([[1.0, 1.0], [-1.0, -1.0], [2.0, 2.0]], [1, 0, 1], shuffle=False)
    assert fit.mistakes_per_epoch == [1, 0]
    np.testing.assert_array_equal(model.weight, [1.0, 1.0])


def margin_data(seed: int):
    """Points in a square away from the origin (the bias matters), labelled by the line
    x1 - 2 x2 + 0.1 = 0 with a gap of 0.05 on each side: separable, but not in one update."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (400, 2)) + [2.0, 1.0]
    score = X @ [1.0, -2.0] + 0.1
    keep = np.abs(score) / np.sqrt(5) > 0.05
    return X[keep][:200], (score[keep][:200] > 0).astype(np.int64)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_converges_on_separable_data_within_novikoffs_bound(seed):
    X, y = margin_data(seed)
    model = Perceptron(2)
    fit = model.fit(X, y, max_epochs=1000, rng=seed)
    assert fit.converged and fit.mistakes_per_epoch[-1] == 0
    np.testing.assert_array_equal(model.predict(X), y)
    weight, bias = max_margin_separator(X, y)
    bound = novikoff_bound(X, y, weight, bias)
    # The max-margin bound is the tightest: the line that labelled the data gives a looser one.
    assert bound <= novikoff_bound(X, y, [1.0, -2.0], 0.1) + 1e-6
    assert 5 <= fit.updates <= bound


def test_novikoff_bound_by_hand():
    # z = (1, 0, 1) and (-1, 0, 1): R = sqrt(2); u = (1, 0, 0) gives gamma = 1: bound 2.
    assert novikoff_bound([[1.0, 0.0], [-1.0, 0.0]], [1, 0], [1.0, 0.0], 0.0) == pytest.approx(2.0)
    # The scale of the separator does not matter, only its direction.
    assert novikoff_bound([[1.0, 0.0], [-1.0, 0.0]], [1, 0], [5.0, 0.0], 0.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"does not separate the classes \(margin -1 <= 0\)"):
        novikoff_bound([[1.0, 0.0], [-1.0, 0.0]], [0, 1], [1.0, 0.0], 0.0)
    with pytest.raises(ValueError, match=r"weight: expected shape \(2,\), received \(3,\)"):
        novikoff_bound([[1.0, 0.0], [-1.0, 0.0]], [1, 0], [1.0, 0.0, 0.0], 0.0)


@pytest.mark.parametrize("shuffle", [True, False])
def test_never_converges_on_xor_and_no_epoch_passes_75_percent(shuffle):
    X, y = parity_truth_table(2)
    model = Perceptron(2)
    fit = model.fit(X, y, max_epochs=200, shuffle=shuffle, rng=0)
    assert not fit.converged and fit.epochs == 200
    assert min(fit.mistakes_per_epoch) >= 1 and fit.updates >= 200
    assert max(fit.accuracy_per_epoch) == fit.best_accuracy <= 0.75


def test_pocket_keeps_the_best_epochs_weights():
    X, y = parity_truth_table(2)
    last = Perceptron(2)
    fit = last.fit(X, y, max_epochs=50, rng=3)
    pocket = Perceptron(2)
    pocket_fit = pocket.fit(X, y, max_epochs=50, rng=3, pocket=True)
    assert pocket_fit.best_accuracy == fit.best_accuracy
    assert np.mean(pocket.predict(X) == y) == fit.best_accuracy
    assert fit.accuracy_per_epoch[fit.best_epoch - 1] == fit.best_accuracy
    assert fit.accuracy_per_epoch[-1] == np.mean(last.predict(X) == y)


def test_learning_rate_does_not_change_decisions_from_zero_weights():
    X, y = separable_blobs(5)
    a, b = Perceptron(2, lr=1.0, dtype=np.float64), Perceptron(2, lr=0.01, dtype=np.float64)
    fit_a, fit_b = a.fit(X, y, rng=7), b.fit(X, y, rng=7)
    assert fit_a.mistakes_per_epoch == fit_b.mistakes_per_epoch
    np.testing.assert_allclose(b.weight, 0.01 * a.weight, rtol=1e-12)


def test_same_seed_same_weights_and_dtype_kept():
    X, y = separable_blobs(6)
    for dtype in (np.float32, np.float64):
        first, second = Perceptron(2, dtype=dtype), Perceptron(2, dtype=dtype)
        first.fit(X, y, rng=11)
        second.fit(X, y, rng=11)
        np.testing.assert_array_equal(first.weight, second.weight)
        assert first.weight.dtype == dtype and np.asarray(first.bias).dtype == dtype
        assert first.decision_function(X).dtype == dtype


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.fit([[0.0, 1.0]], [2]), ValueError, r"y: expected labels 0 and 1, received \[2\]"),
        (lambda m: m.fit([[0.0, 1.0]], [1, 0]), ValueError, r"y: expected shape \(1,\) to match X's rows, received \(2,\)"),
        (lambda m: novikoff_bound([[0.0, 1.0], [1.0, 0.0]], [5, 3], [1.0, 1.0], 0.0), ValueError,
         r"y: expected labels 0 and 1, received \[3, 5\]"),
        (lambda m: m.fit([[0.0, 1.0, 2.0]], [1]), ValueError, r"expected X of shape \(N >= 1, 2\), received \(1, 3\)"),
        (lambda m: m.fit(np.zeros((0, 2)), []), ValueError, r"expected X of shape \(N >= 1, 2\), received \(0, 2\)"),
        (lambda m: m.fit([[np.nan, 1.0]], [1]), ValueError, r"X: expected finite values, received NaN or inf"),
        (lambda m: m.fit([["a", "b"]], [1]), TypeError, r"X: expected real numbers, received dtype <U1"),
        (lambda m: m.fit([[0.0, 1.0]], [1], max_epochs=0), ValueError, r"max_epochs: expected an integer >= 1, received 0"),
        (lambda m: m.fit([[0.0, 1.0]], [1], pocket="yes"), TypeError, r"pocket: expected True or False, received 'yes'"),
        (lambda m: m.predict([1.0, 2.0]), ValueError, r"expected X of shape \(N >= 1, 2\), received \(2,\)"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(Perceptron(2))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"n_features: expected an integer >= 1, received 0"):
        Perceptron(0)
    with pytest.raises(ValueError, match=r"lr: expected a number in \(0, inf\), received 0"):
        Perceptron(2, lr=0.0)


def test_block_scanning_is_exactly_the_online_rule():
    """Many mistakes over several blocks: the same weights as visiting one sample at a time."""
    X, y = make_blobs(1000, centers=[[-0.5, 0.0], [0.5, 0.0]], noise=1.0, rng=3)  # overlapping: ~400 mistakes/epoch
    model = Perceptron(2)
    fit = model.fit(X, y, max_epochs=3, rng=5)

    weight, bias, mistakes = np.zeros(2, dtype=np.float32), np.float32(0), []
    orders = np.random.default_rng(5)
    for _ in range(3):
        count = 0
        for i in orders.permutation(len(X)):  # the textbook loop, as the reference
            predicted = np.float32(X[i] @ weight + bias > 0)
            if predicted != y[i]:
                step = np.float32(y[i]) - predicted
                weight += step * X[i]
                bias += step
                count += 1
        mistakes.append(count)
    assert fit.mistakes_per_epoch == mistakes and sum(mistakes) > 3 * Perceptron._BLOCK
    np.testing.assert_array_equal(model.weight, weight)
    assert model.bias == bias
