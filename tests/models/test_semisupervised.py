"""Label propagation and spreading: equal to scikit-learn's, to the closed forms, on a given graph; self-training."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dltoys.models import PNN, ConvergenceWarning, LabelPropagation, LabelSpreading, SelfTrainingClassifier
from dltoys.models.semisupervised import harmonic_solution, spreading_solution, symmetric_normalized


def two_moons_few_labels(rng, n=120, labelled=6):
    angle = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    X = np.stack([np.cos(angle) + np.where(upper, 0, 1), np.where(upper, np.sin(angle), 0.5 - np.sin(angle))], axis=1)
    X += 0.08 * rng.standard_normal(X.shape)
    truth = upper.astype(np.int64)
    y = np.full(n, -1)
    for label in (0, 1):
        y[np.flatnonzero(truth == label)[: labelled // 2]] = label
    return X, y, truth


CASES = [
    (LabelPropagation, {"kernel": "rbf", "gamma": 5.0}),
    (LabelPropagation, {"kernel": "knn", "n_neighbors": 6}),
    (LabelSpreading, {"kernel": "rbf", "gamma": 5.0, "alpha": 0.3}),
    (LabelSpreading, {"kernel": "knn", "n_neighbors": 6, "alpha": 0.5}),
]


@pytest.mark.parametrize("model_class, params", CASES)
def test_equals_scikit_learn(rng, model_class, params):
    semi = pytest.importorskip("sklearn.semi_supervised")
    X, y, _ = two_moons_few_labels(rng)
    query = rng.uniform(-1, 2, (20, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = model_class(**params).fit(X, y)
        theirs = getattr(semi, model_class.__name__)(**params).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.label_distributions_, theirs.label_distributions_, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(ours.transduction_, theirs.transduction_)
    np.testing.assert_allclose(ours.predict_proba(query), theirs.predict_proba(query), rtol=0, atol=1e-8)


def test_propagation_converges_to_the_harmonic_solution(rng):
    X, y, _ = two_moons_few_labels(rng)
    model = LabelPropagation(gamma=5.0, tol=1e-12, max_iter=200_000).fit(X, y)
    W = np.exp(-5.0 * ((X[:, None] - X[None]) ** 2).sum(axis=2))
    expected = harmonic_solution(W / W.sum(axis=1, keepdims=True), y, model.classes_)
    np.testing.assert_allclose(model.label_distributions_, expected, atol=1e-6)


def test_spreading_converges_to_zhous_closed_form(rng):
    X, y, _ = two_moons_few_labels(rng)
    model = LabelSpreading(gamma=5.0, alpha=0.9, tol=1e-12, max_iter=10_000).fit(X, y)
    W = np.exp(-5.0 * ((X[:, None] - X[None]) ** 2).sum(axis=2))
    np.fill_diagonal(W, 0)
    d = W.sum(axis=1)
    S = W / np.sqrt(np.outer(d, d))  # D^-1/2 W D^-1/2
    np.testing.assert_allclose(symmetric_normalized(W), S, rtol=1e-12)
    np.testing.assert_allclose(model.label_distributions_, spreading_solution(S, y, model.classes_, 0.9), atol=1e-6)


def test_symmetric_normalisation_is_scipys_laplacian_off_diagonal(rng):
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    W = (rng.random((12, 12)) < 0.4).astype(float)  # directed, like a k-nearest-neighbour graph
    laplacian = csgraph.laplacian(W, normed=True)
    np.fill_diagonal(laplacian, 0)
    np.testing.assert_allclose(symmetric_normalized(W), -laplacian, rtol=1e-12)


def test_moons_from_six_labels(rng):
    """Six labels on 120 points of two moons: propagation labels the rest; measured 100% with this seed."""
    X, y, truth = two_moons_few_labels(rng)
    model = LabelPropagation(kernel="knn", n_neighbors=7).fit(X, y)
    assert np.mean(model.transduction_ == truth) >= 0.98


def test_a_graph_instead_of_features():
    """Two triangles joined by one edge, one label in each: every node takes its triangle's label."""
    A = np.zeros((6, 6))
    for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        A[i, j] = A[j, i] = 1
    y = np.array([0, -1, -1, -1, -1, 1])
    for model in (LabelPropagation(kernel="precomputed"), LabelSpreading(kernel="precomputed", alpha=0.5)):
        model.fit(A, y)
        assert model.transduction_.tolist() == [0, 0, 0, 1, 1, 1]
        np.testing.assert_array_equal(model.predict(A), model.transduction_)  # rows: affinities to the nodes


def test_max_iter_warns():
    rng = np.random.default_rng(0)
    X, y, _ = two_moons_few_labels(rng)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LabelPropagation(max_iter=2).fit(X, y)


@pytest.mark.parametrize("criterion", ["threshold", "k_best"])
def test_self_training_equals_scikit_learns_loop(rng, criterion):
    """Same base classifier (our PNN) inside both wrappers: the same pseudo-labels round by round."""
    semi = pytest.importorskip("sklearn.semi_supervised")
    X, y, truth = two_moons_few_labels(rng, labelled=10)
    params = dict(threshold=0.9, criterion=criterion, k_best=15, max_iter=5)
    ours = SelfTrainingClassifier(PNN(sigma=0.3, dtype=np.float64), **params).fit(X, y)
    theirs = semi.SelfTrainingClassifier(PNN(sigma=0.3, dtype=np.float64), **params).fit(X, y)
    np.testing.assert_array_equal(ours.transduction_, theirs.transduction_)
    np.testing.assert_array_equal(ours.labeled_iter_, theirs.labeled_iter_)
    assert ours.termination_condition_ == theirs.termination_condition_ and ours.n_iter_ == theirs.n_iter_
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("model, message", [
    (LabelPropagation(kernel="cosine"), "kernel"), (LabelSpreading(alpha=1.0), "alpha"),
    (LabelPropagation(gamma=0), "gamma"), (LabelPropagation(kernel="precomputed"), "square"),
    (SelfTrainingClassifier(None), "estimator"), (SelfTrainingClassifier(PNN(), criterion="best"), "criterion"),
])
def test_bad_arguments_are_named(model, message):
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(np.zeros((4, 3)) + np.arange(4)[:, None], np.array([0, 1, -1, -1]))


def test_self_training_wraps_any_dltoys_classifier(rng):
    """MLPClassifier inside: cloned (the given one stays unfitted), 15 pseudo-labels per round, all used."""
    from dltoys.models import MLPClassifier

    X, y, truth = two_moons_few_labels(rng, n=80, labelled=10)
    base = MLPClassifier(hidden_layer_sizes=(16,), batch_size=None, learning_rate_init=0.05, max_iter=60,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SelfTrainingClassifier(base, criterion="k_best", k_best=15, max_iter=3).fit(X, y)
    assert not hasattr(base, "classes_") and model.estimator_ is not base
    assert np.bincount(model.labeled_iter_[model.labeled_iter_ > 0]).tolist() == [0, 15, 15, 15]
    assert model.predict_proba(X).shape == (80, 2) and list(model.classes_) == [0, 1]
    pseudo = model.labeled_iter_ > 0
    assert np.mean(model.transduction_[pseudo] == truth[pseudo]) >= 0.8  # measured 1.0 (seed 12345)
