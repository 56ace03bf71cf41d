"""Rosenblatt's perceptron: the rule by hand, Novikoff's bound, XOR, the pocket, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import make_blobs, parity_truth_table
from dltoys.models import ConvergenceWarning, Perceptron, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked


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


def rosenblatt(**params) -> Perceptron:
    """The rule as Rosenblatt ran it: stop at an epoch without a mistake (or max_iter), not at a loss plateau."""
    return Perceptron(tol=None, **params)


def test_online_rule_by_hand():
    # Epoch 1: (1, 0) has z = 0 -> predicts 0, label 1: w = (1, 0), b = 1. Then (0, 1) has
    # z = 1 -> predicts 1, label 0: w = (1, -1), b = 0. Epoch 2: z = 1 and z = -1, no mistake.
    model = rosenblatt(shuffle=False).fit([[1.0, 0.0], [0.0, 1.0]], [1, 0])
    np.testing.assert_array_equal(model.coef_, [[1.0, -1.0]])
    np.testing.assert_array_equal(model.intercept_, [0.0])
    assert model.converged_ and model.n_iter_ == 2
    assert model.mistakes_per_epoch_ == [2, 0]
    assert model.accuracy_per_epoch_ == [1.0, 1.0]


def test_the_search_resumes_after_a_mistake_not_from_the_start():
    # (1, 1) label 1 is first a mistake (w = (1, 1), b = 1); (-1, -1) label 0 then has z = -1:
    # correct; (2, 2) label 1: z = 5, correct. One update, converged in the second epoch.
    model = rosenblatt(shuffle=False).fit([[1.0, 1.0], [-1.0, -1.0], [2.0, 2.0]], [1, 0, 1])
    assert model.mistakes_per_epoch_ == [1, 0]
    np.testing.assert_array_equal(model.coef_, [[1.0, 1.0]])


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
    model = rosenblatt(max_iter=1000, random_state=seed).fit(X, y)
    assert model.converged_ and model.mistakes_per_epoch_[-1] == 0
    np.testing.assert_array_equal(model.predict(X), y)
    weight, bias = max_margin_separator(X, y)
    bound = novikoff_bound(X, y, weight, bias)
    # The max-margin bound is the tightest: the line that labelled the data gives a looser one.
    assert bound <= novikoff_bound(X, y, [1.0, -2.0], 0.1) + 1e-6
    assert 5 <= sum(model.mistakes_per_epoch_) <= bound


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
    model = rosenblatt(max_iter=200, shuffle=shuffle, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=200 epochs reached and the last one made"):
        model.fit(X, y)
    assert not model.converged_ and model.n_iter_ == 200
    assert min(model.mistakes_per_epoch_) >= 1 and sum(model.mistakes_per_epoch_) >= 200
    assert max(model.accuracy_per_epoch_) <= 0.75


@pytest.mark.filterwarnings("ignore::dltoys.models.ConvergenceWarning")
def test_pocket_keeps_the_best_epochs_weights():
    X, y = parity_truth_table(2)
    last = rosenblatt(max_iter=50, random_state=0).fit(X, y)
    pocket = rosenblatt(max_iter=50, random_state=0, pocket=True).fit(X, y)
    assert pocket.accuracy_per_epoch_ == last.accuracy_per_epoch_  # the same run
    best = max(last.accuracy_per_epoch_)
    assert pocket.score(X, y) == best > last.score(X, y) == last.accuracy_per_epoch_[-1]


def test_scikit_learns_stopping_rule_ends_a_hopeless_run_early():
    X, y = parity_truth_table(2)
    model = Perceptron(tol=1e-3, n_iter_no_change=5, random_state=0).fit(X, y)  # no ConvergenceWarning
    assert 5 <= model.n_iter_ < 50 and not model.converged_


def test_learning_rate_does_not_change_decisions_from_zero_weights():
    X, y = separable_blobs(5)
    a = rosenblatt(eta0=1.0, random_state=7).fit(X, y)
    b = rosenblatt(eta0=0.25, random_state=7).fit(X, y)  # a power of two: the weights scale exactly
    assert a.mistakes_per_epoch_ == b.mistakes_per_epoch_
    np.testing.assert_array_equal(b.coef_, 0.25 * a.coef_)


def test_same_seed_same_weights():
    X, y = separable_blobs(6)
    first, second = rosenblatt(random_state=11).fit(X, y), rosenblatt(random_state=11).fit(X, y)
    np.testing.assert_array_equal(first.coef_, second.coef_)
    assert first.coef_.dtype == np.float32 and first.decision_function(X).dtype == np.float32


def test_three_classes_one_versus_rest():
    X, y = make_blobs(150, centers=[[-4.0, 0.0], [4.0, 0.0], [0.0, 6.0]], noise=0.5, rng=2)
    model = rosenblatt(random_state=0).fit(X, y + 10)
    assert model.coef_.shape == (3, 2) and list(model.classes_) == [10, 11, 12]
    assert model.decision_function(X).shape == (150, 3)
    assert model.converged_ and model.score(X, y + 10) == 1.0


@pytest.mark.parametrize(
    "params, X, y, error, message",
    [
        ({}, [[0.0, 1.0]], [1, 0], ValueError, r"y: found 2 labels for 1 samples"),
        ({}, np.zeros((0, 2)), [], ValueError, r"found array with 0 sample\(s\)"),
        ({}, [[np.nan, 1.0]], [1], ValueError, r"X: expected finite values, received NaN or infinity"),
        ({}, [["a", "b"]], [1], ValueError, r"X: expected real numbers, received dtype <U1"),
        ({"max_iter": 0}, [[0.0, 1.0]], [1], ValueError, r"max_iter: expected an integer >= 1, received 0"),
        ({"pocket": "yes"}, [[0.0, 1.0]], [1], TypeError, r"pocket: expected True or False, received 'yes'"),
        ({"eta0": 0.0}, [[0.0, 1.0]], [1], ValueError, r"eta0: expected a number in \(0, inf\), received 0"),
    ],
)
def test_bad_inputs_name_the_argument(params, X, y, error, message):
    with pytest.raises(error, match=message):
        Perceptron(**params).fit(X, y)


def test_predict_checks_the_features():
    model = rosenblatt().fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    with pytest.raises(ValueError, match=r"X has 3 features, but it is expecting 2 features"):
        model.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"expected a 2D array X .* received 1D"):
        model.predict([1.0, 2.0])


def textbook_epochs(X, y, seed: int, epochs: int):
    """The textbook loop, written out here as the reference: (weight, bias, mistakes per epoch)."""
    weight, bias, mistakes = np.zeros(2, dtype=np.float32), np.float32(0), []
    orders = np.random.default_rng(seed)
    for _ in range(epochs):
        count = 0
        for i in orders.permutation(len(X)):
            predicted = np.float32(X[i] @ weight + bias > 0)
            if predicted != y[i]:
                step = np.float32(y[i]) - predicted
                weight += step * X[i]
                bias += step
                count += 1
        mistakes.append(count)
    return weight, bias, mistakes


@pytest.mark.parametrize("rule", [rosenblatt_epoch, rosenblatt_epoch_blocked])
def test_the_rule_functions_are_the_textbook_loop(rule):
    """Overlapping blobs, ~400 mistakes an epoch over several blocks of 256: the same weights exactly."""
    X, y = make_blobs(1000, centers=[[-0.5, 0.0], [0.5, 0.0]], noise=1.0, rng=3)
    X = X.astype(np.float32)
    weight, bias, mistakes = np.zeros(2, dtype=np.float32), np.float32(0), []
    orders = np.random.default_rng(5)
    for _ in range(3):
        weight, bias, count = rule(weight, bias, X, y.astype(np.float32), orders.permutation(len(X)))
        mistakes.append(count)
    expected = textbook_epochs(X, y, 5, 3)
    assert mistakes == expected[2] and sum(mistakes) > 3 * 256
    np.testing.assert_array_equal(weight, expected[0])
    assert bias == expected[1]


@pytest.mark.filterwarnings("ignore::dltoys.models.ConvergenceWarning")
def test_the_estimator_trained_through_the_loop_is_the_textbook_rule():
    """RosenblattStep through the loop, 256 samples a batch: Rosenblatt's online rule exactly, in float32."""
    X, y = make_blobs(300, centers=[[-0.5, 0.0], [0.5, 0.0]], noise=1.0, rng=3)
    model = rosenblatt(max_iter=3, random_state=5).fit(X, y)
    weight, bias, mistakes = textbook_epochs(X.astype(np.float32), y, 5, 3)
    assert model.mistakes_per_epoch_ == mistakes and sum(mistakes) > 100
    np.testing.assert_array_equal(model.coef_[0], weight)
    assert model.intercept_[0] == bias


def test_partial_fit_is_one_epoch_of_the_rule_and_needs_the_classes_first():
    X, y = make_blobs(60, centers=[[-0.5, 0.0], [0.5, 0.0]], noise=1.0, rng=4)
    X = X.astype(np.float32)
    model = rosenblatt(shuffle=False)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    model.partial_fit(X[:30], y[:30], classes=[0, 1])
    model.partial_fit(X[30:], y[30:])
    weight, bias = np.zeros(2, dtype=np.float32), np.float32(0)
    weight, bias, first = rosenblatt_epoch(weight, bias, X[:30], y[:30].astype(np.float32), range(30))
    weight, bias, second = rosenblatt_epoch(weight, bias, X[30:], y[30:].astype(np.float32), range(30))
    assert model.n_iter_ == 2 and model.mistakes_per_epoch_ == [first, second]
    np.testing.assert_array_equal(model.coef_[0], weight)
