"""Blobs, moons, circles, spirals and XOR: shapes, determinism and the noise-free geometry."""

import numpy as np
import pytest

from dltoys.data import make_blobs, make_circles, make_moons, make_spirals, make_xor

# (generator, extra arguments, number of classes)
GENERATORS = [
    (make_blobs, {"centers": 3}, 3),
    (make_moons, {"noise": 0.1}, 2),
    (make_circles, {"noise": 0.1}, 2),
    (make_spirals, {"n_classes": 4}, 4),
    (make_xor, {"noise": 0.1}, 2),
]
IDS = [g.__name__ for g, _, _ in GENERATORS]


@pytest.mark.parametrize("generator, kwargs, n_classes", GENERATORS, ids=IDS)
@pytest.mark.parametrize("n_samples", [101, 400])
def test_shapes_dtypes_and_balanced_labels(generator, kwargs, n_classes, n_samples):
    X, y = generator(n_samples=n_samples, rng=0, **kwargs)
    assert X.shape == (n_samples, 2) and X.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes
    if generator is make_xor:  # corners are drawn at random: balanced only on average
        assert counts.min() > 0.35 * n_samples
    else:
        assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("generator, kwargs, n_classes", GENERATORS, ids=IDS)
def test_float64_on_request(generator, kwargs, n_classes):
    X, y = generator(n_samples=50, rng=0, dtype=np.float64, **kwargs)
    assert X.dtype == np.float64 and y.dtype == np.int64
    X32, _ = generator(n_samples=50, rng=0, **kwargs)
    np.testing.assert_allclose(X32, X, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("generator, kwargs, n_classes", GENERATORS, ids=IDS)
def test_rows_are_not_grouped_by_class(generator, kwargs, n_classes):
    _, y = generator(n_samples=300, rng=0, **kwargs)
    # Sorted labels would make a naive head/tail split class-biased.
    assert np.count_nonzero(np.diff(y)) > 100


def test_blobs_without_noise_sit_on_their_centres():
    centres = np.array([[0.0, 0.0], [3.0, -1.0], [-2.0, 5.0]])
    X, y = make_blobs(30, centers=centres, noise=0.0, rng=0, dtype=np.float64)
    np.testing.assert_array_equal(X, centres[y])


def test_blobs_far_apart_are_separated_by_the_bisector_of_their_centres():
    centres = np.array([[-5.0, -5.0], [5.0, 5.0]])  # 14.1 apart, noise 1: 7 sigma margin
    X, y = make_blobs(2000, centers=centres, noise=1.0, rng=0, dtype=np.float64)
    normal = centres[1] - centres[0]
    side = (X - centres.mean(axis=0)) @ normal  # closed-form separator w.x + b
    np.testing.assert_array_equal(side > 0, y == 1)
    # The noise is the cluster standard deviation.
    np.testing.assert_allclose((X - centres[y]).std(axis=0), 1.0, rtol=0.05)


def test_blobs_random_centres_lie_in_the_box_and_set_the_width():
    X, y = make_blobs(600, centers=4, n_features=5, noise=0.0, center_box=(2.0, 3.0), rng=1)
    assert X.shape == (600, 5)
    assert X.min() >= 2.0 and X.max() <= 3.0
    assert len(np.unique(X, axis=0)) == 4  # one point per class without noise


def _angle(points):
    return np.arctan2(points[:, 1], points[:, 0])


def test_moons_without_noise_are_two_unit_half_circles():
    X, y = make_moons(201, noise=0.0, rng=0, dtype=np.float64)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 100 and len(lower) == 101
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*(lower - [1.0, 0.5]).T), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    # Angles evenly spaced over [0, pi], both ends included.
    np.testing.assert_allclose(np.sort(_angle(upper)), np.linspace(0, np.pi, 100), atol=1e-12)


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(300, noise=0.0, factor=0.3, rng=0, dtype=np.float64)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3, atol=1e-12)
    angles = np.sort(np.mod(_angle(X[y == 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 150, atol=1e-12)


@pytest.mark.parametrize("name", ["make_moons", "make_circles"])
def test_moons_and_circles_match_scikit_learn_as_point_sets(name):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    ours = {"make_moons": make_moons, "make_circles": make_circles}[name]
    X, y = ours(151, noise=0.0, rng=0, dtype=np.float64)
    X_ref, y_ref = getattr(sklearn_datasets, name)(151, noise=None, shuffle=False)
    for label in (0, 1):
        mine = X[y == label]
        theirs = X_ref[y_ref == label]
        np.testing.assert_allclose(mine[np.lexsort(mine.T)], theirs[np.lexsort(theirs.T)], atol=1e-12)


@pytest.mark.parametrize("generator", [make_moons, make_circles])
def test_noise_is_gaussian_with_the_given_standard_deviation(generator):
    clean, y_clean = generator(20_000, noise=0.0, rng=3, dtype=np.float64)
    noisy, y_noisy = generator(20_000, noise=0.1, rng=3, dtype=np.float64)
    np.testing.assert_array_equal(y_clean, y_noisy)  # same seed, same row order
    residual = noisy - clean
    np.testing.assert_allclose(residual.std(axis=0), 0.1, rtol=0.03)
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=0.003)


def _cs231n_spirals(points_per_class, n_classes):
    """The CS231n construction, written as in the course notes (noise left out)."""
    X = np.zeros((points_per_class * n_classes, 2))
    y = np.zeros(points_per_class * n_classes, dtype=np.int64)
    for j in range(n_classes):
        ix = range(points_per_class * j, points_per_class * (j + 1))
        r = np.linspace(0.0, 1, points_per_class)
        t = np.linspace(j * 4, (j + 1) * 4, points_per_class)
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def test_spirals_without_noise_match_the_cs231n_construction():
    X, y = make_spirals(300, 3, noise=0.0, rng=0, dtype=np.float64)
    X_ref, y_ref = _cs231n_spirals(100, 3)
    for label in range(3):
        mine, theirs = X[y == label], X_ref[y_ref == label]
        np.testing.assert_allclose(mine[np.lexsort(mine.T)], theirs[np.lexsort(theirs.T)], atol=1e-12)


def test_spiral_noise_turns_points_but_keeps_their_radius():
    clean, y_clean = make_spirals(3000, 3, noise=0.0, rng=5, dtype=np.float64)
    noisy, y_noisy = make_spirals(3000, 3, noise=0.2, rng=5, dtype=np.float64)
    for label in range(3):
        np.testing.assert_allclose(
            np.sort(np.hypot(*clean[y_clean == label].T)),
            np.sort(np.hypot(*noisy[y_noisy == label].T)),
            atol=1e-12,
        )
    assert not np.allclose(np.sort(clean[:, 0]), np.sort(noisy[:, 0]), atol=1e-3)


def test_xor_without_noise_is_the_truth_table():
    X, y = make_xor(400, noise=0.0, rng=0)
    corners = {(0.0, 0.0): 0, (0.0, 1.0): 1, (1.0, 0.0): 1, (1.0, 1.0): 0}
    assert set(map(tuple, X.tolist())) == set(corners)
    assert [corners[tuple(row)] for row in X.tolist()] == y.tolist()
