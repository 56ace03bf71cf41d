"""Classic two-dimensional classification toys: blobs, moons, circles and spirals.

Each generator returns ``(X, y)``: ``X`` of shape ``(n_samples, n_features)`` in
float32 (or ``dtype=``), ``y`` of shape ``(n_samples,)`` with int64 class labels
``0 .. n_classes - 1``. Rows come in random order (never grouped by class), every
class gets ``n_samples // n_classes`` or one more rows, and all randomness comes
from ``rng`` (a seed, a :class:`numpy.random.Generator` or ``None``).

The constructions follow scikit-learn's ``make_blobs``, ``make_moons`` and
``make_circles`` and the CS231n spiral data, reimplemented here in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.data._common import as_dataset, check_at_least_one_per_class, check_n_samples, check_noise
from dltoys.utils import RngLike, as_array, as_rng, check_float, check_int


def make_blobs(
    n_samples: int = 100,
    centers: int | Any = 2,
    n_features: int | None = None,
    *,
    noise: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one per class.

    Parameters
    ----------
    n_samples : int
        Number of rows, at least one per class.
    centers : int or array_like of shape (n_classes, n_features)
        The number of classes, whose centres are then drawn uniformly in
        ``center_box``; or the centres themselves.
    n_features : int, optional
        Dimension of the points. Defaults to 2, or to the width of ``centers``.
    noise : float
        Standard deviation of the Gaussian around each centre (``cluster_std`` in
        scikit-learn). With ``noise=0`` every point of a class sits on its centre.
    center_box : (float, float)
        Bounds ``(low, high)`` of the uniform draw of centres.
    rng : int, numpy.random.Generator or None
        Source of randomness.
    dtype : float32 or float64
        Dtype of ``X`` (float32 by default).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64
        Class ``k`` is the blob around ``centers[k]``.

    Notes
    -----
    ``x = c_y + noise * z`` with ``z ~ N(0, I)``. Two blobs whose centres are
    ``d`` apart are linearly separable by the perpendicular bisector of their
    centres unless some point strays more than ``d / 2`` along the line joining
    them, which has probability ``Phi(-d / (2 noise))`` per point.

    References
    ----------
    scikit-learn, ``sklearn.datasets.make_blobs``.
    """
    n_samples = check_n_samples(n_samples)
    noise = check_noise(noise)
    generator = as_rng(rng)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        n_classes = check_int("centers", centers, minimum=1)
        n_features = 2 if n_features is None else check_int("n_features", n_features, minimum=1)
        low, high = _check_box(center_box)
        centre_points = generator.uniform(low, high, size=(n_classes, n_features))  # (K, D)
    else:
        centre_points = as_array("centers", centers).astype(np.float64)
        if centre_points.ndim != 2 or centre_points.shape[0] < 1 or centre_points.shape[1] < 1:
            raise ValueError(
                "centers: expected an int or an array of shape (n_classes, n_features), "
                f"received an array of shape {centre_points.shape}"
            )
        if not np.all(np.isfinite(centre_points)):
            raise ValueError("centers: expected finite coordinates, received NaN or inf")
        n_classes = centre_points.shape[0]
        if n_features is not None and check_int("n_features", n_features, minimum=1) != centre_points.shape[1]:
            raise ValueError(
                f"n_features: expected {centre_points.shape[1]} (the width of centers), "
                f"received {n_features}"
            )
        n_features = centre_points.shape[1]
    check_at_least_one_per_class(n_samples, n_classes)

    labels = generator.permutation(np.arange(n_samples) % n_classes)  # (N,) balanced, shuffled
    points = centre_points[labels] + noise * generator.standard_normal((n_samples, n_features))
    return as_dataset(points, labels, dtype)


def make_moons(
    n_samples: int = 100,
    *,
    noise: float = 0.0,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Parameters
    ----------
    n_samples : int
        Number of rows (at least 2); class 0 gets ``n_samples // 2`` of them.
    noise : float
        Standard deviation of Gaussian noise added to every coordinate.
    rng : int, numpy.random.Generator or None
        Source of randomness (the row order and the noise).
    dtype : float32 or float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64 in {0, 1}

    Notes
    -----
    Before noise, class 0 is the upper unit half circle centred at the origin,
    ``(cos t, sin t)``, and class 1 the lower unit half circle centred at
    ``(1, 0.5)``, ``(1 - cos t, 0.5 - sin t)``, with ``t`` evenly spaced in
    ``[0, pi]`` (both ends included).

    References
    ----------
    scikit-learn, ``sklearn.datasets.make_moons`` (same construction).
    """
    n_samples = check_n_samples(n_samples, minimum=2)
    noise = check_noise(noise)
    generator = as_rng(rng)
    n_outer = n_samples // 2
    angle_outer = np.linspace(0.0, np.pi, n_outer)
    angle_inner = np.linspace(0.0, np.pi, n_samples - n_outer)
    outer = np.stack([np.cos(angle_outer), np.sin(angle_outer)], axis=1)  # (N0, 2)
    inner = np.stack([1.0 - np.cos(angle_inner), 0.5 - np.sin(angle_inner)], axis=1)  # (N1, 2)
    return _shuffle_and_jitter(outer, inner, noise, generator, dtype)


def make_circles(
    n_samples: int = 100,
    *,
    noise: float = 0.0,
    factor: float = 0.8,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one.

    Parameters
    ----------
    n_samples : int
        Number of rows (at least 2); class 0 (outer) gets ``n_samples // 2``.
    noise : float
        Standard deviation of Gaussian noise added to every coordinate.
    factor : float
        Radius of the inner circle relative to the outer one, in [0, 1).
    rng : int, numpy.random.Generator or None
        Source of randomness (the row order and the noise).
    dtype : float32 or float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64 in {0, 1}

    Notes
    -----
    Before noise, class 0 lies on the unit circle and class 1 on the circle of
    radius ``factor``, both centred at the origin, at angles evenly spaced in
    ``[0, 2 pi)``. No line separates them; the squared radius does.

    References
    ----------
    scikit-learn, ``sklearn.datasets.make_circles`` (same construction).
    """
    n_samples = check_n_samples(n_samples, minimum=2)
    noise = check_noise(noise)
    factor = check_float("factor", factor, low=0.0, high=1.0, high_inclusive=False)
    generator = as_rng(rng)
    n_outer = n_samples // 2
    angle_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    angle_inner = np.linspace(0.0, 2.0 * np.pi, n_samples - n_outer, endpoint=False)
    outer = np.stack([np.cos(angle_outer), np.sin(angle_outer)], axis=1)  # (N0, 2)
    inner = factor * np.stack([np.cos(angle_inner), np.sin(angle_inner)], axis=1)  # (N1, 2)
    return _shuffle_and_jitter(outer, inner, noise, generator, dtype)


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 3,
    *,
    noise: float = 0.2,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class.

    Parameters
    ----------
    n_samples : int
        Number of rows, at least one per class; classes are balanced.
    n_classes : int
        Number of spiral arms (3 in CS231n).
    noise : float
        Standard deviation of the Gaussian noise added to the *angle* (radians);
        CS231n uses 0.2.
    rng : int, numpy.random.Generator or None
        Source of randomness (the angle noise and the row order).
    dtype : float32 or float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64 in {0, ..., n_classes - 1}

    Notes
    -----
    The ``i``-th of the ``m`` points of class ``k`` has radius ``r = i / (m - 1)``
    and angle ``theta = 4 (k + r) + noise * z``, ``z ~ N(0, 1)``, and sits at
    ``(r sin theta, r cos theta)``: each arm turns through 4 radians from the
    origin to the unit circle, starting 4 radians after the previous one.

    References
    ----------
    A. Karpathy, CS231n "Putting it together: minimal neural network case study",
    https://cs231n.github.io/neural-networks-case-study/ (the spiral data set).
    """
    n_samples = check_n_samples(n_samples)
    n_classes = check_int("n_classes", n_classes, minimum=1)
    noise = check_noise(noise)
    check_at_least_one_per_class(n_samples, n_classes)
    generator = as_rng(rng)
    labels = np.arange(n_samples) % n_classes  # (N,) class of each row before shuffling
    rank = np.arange(n_samples) // n_classes  # (N,) index of the row within its class
    class_size = np.bincount(labels, minlength=n_classes)[labels]  # (N,)
    radius = rank / np.maximum(class_size - 1, 1)  # (N,) in [0, 1]
    angle = 4.0 * (labels + radius) + noise * generator.standard_normal(n_samples)  # (N,)
    points = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)  # (N, 2)
    order = generator.permutation(n_samples)
    return as_dataset(points[order], labels[order], dtype)


def _shuffle_and_jitter(
    class0: np.ndarray, class1: np.ndarray, noise: float, generator: np.random.Generator, dtype: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stack two classes of points, shuffle the rows, then add Gaussian noise."""
    points = np.concatenate([class0, class1])  # (N, 2)
    labels = np.repeat(np.array([0, 1]), [len(class0), len(class1)])  # (N,)
    order = generator.permutation(len(labels))
    points = points[order] + noise * generator.standard_normal(points.shape)
    return as_dataset(points, labels[order], dtype)


def _check_box(center_box: Any) -> tuple[float, float]:
    """Check ``center_box`` is a pair ``(low, high)`` of finite numbers with low < high."""
    try:
        low, high = center_box
    except (TypeError, ValueError):
        raise ValueError(f"center_box: expected a pair (low, high), received {center_box!r}") from None
    low = check_float("center_box[0]", low)
    high = check_float("center_box[1]", high)
    if not low < high:
        raise ValueError(f"center_box: expected low < high, received {center_box!r}")
    return low, high
