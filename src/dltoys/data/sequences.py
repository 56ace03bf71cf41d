"""Sequence data for recurrent models: the sequence view of rows, the adding problem.

Sequences are batch-first, ``(N, T, features)``, like PyTorch's ``batch_first=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.data._common import check_n_samples
from dltoys.utils import RngLike, as_array, as_rng, check_int, resolve_dtype

#: Mean squared error of always predicting the mean target (1) on the adding problem:
#: the variance of a sum of two independent U(0, 1) numbers, 2 / 12.
ADDING_BASELINE_MSE = 1.0 / 6.0


def as_sequences(X: Any) -> np.ndarray:
    """View rows of shape (N, T) as N sequences of T one-feature steps, (N, T, 1).

    Parameters
    ----------
    X : array_like of shape (N, T)
        E.g. the bits of :func:`dltoys.data.make_parity`, uint8 or float.

    Returns
    -------
    ndarray of shape (N, T, 1)
        ``out[i, t, 0] == X[i, t]``: sequence ``i`` is row ``i``, read left to right,
        so the labels ``y`` of the rows stay aligned. A view when ``X`` is an
        ndarray (no copy: convert the dtype per batch).

    Notes
    -----
    The classic bug builds a time-major array with ``X.reshape(T, N, 1)`` instead
    of ``X.T[:, :, None]``: the shape looks right, but each "sequence" then mixes
    bits of different rows, so sequences and labels no longer match.
    """
    rows = as_array("X", X)
    if rows.ndim != 2:
        raise ValueError(f"X: expected an array of shape (N, T), received shape {rows.shape}")
    return rows[:, :, None]  # (N, T, 1)


def make_adding(
    n_samples: int,
    seq_len: int = 100,
    *,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: add the two marked numbers of a long sequence.

    Parameters
    ----------
    n_samples : int
        Number of sequences (>= 1).
    seq_len : int
        Length ``T`` of each sequence (>= 2).
    rng : int, numpy.random.Generator or None
        Source of randomness.
    dtype : float32 or float64
        Dtype of both arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, seq_len, 2)
        ``X[:, t, 0]`` are the numbers, uniform on [0, 1); ``X[:, t, 1]`` the
        markers: exactly one 1 at a position in the first half ``[0, T // 2)``
        and one in the second half ``[T // 2, T)``, zeros elsewhere.
    y : ndarray of shape (n_samples, 1)
        The sum of the two marked numbers, in [0, 2).

    Notes
    -----
    The target is the sum of two independent U(0, 1) numbers: mean 1, variance
    1/6. Predicting the constant 1 therefore scores an MSE of
    ``ADDING_BASELINE_MSE`` = 1/6 ~ 0.167, the bar a model must beat to show it
    remembers the marked numbers across ``T`` steps.

    References
    ----------
    S. Hochreiter and J. Schmidhuber, "Long short-term memory", Neural Computation
    9(8), 1997 (experiment 4, the adding problem).
    Q. V. Le, N. Jaitly and G. E. Hinton, "A simple way to initialize recurrent
    networks of rectified linear units", arXiv:1504.00941, 2015 (the form used
    here: U(0, 1) numbers, one marker in each half).
    """
    n_samples = check_n_samples(n_samples)
    seq_len = check_int("seq_len", seq_len, minimum=2)
    out_dtype = resolve_dtype(dtype)
    generator = as_rng(rng)
    half = seq_len // 2
    values = generator.random((n_samples, seq_len))  # (N, T)
    first = generator.integers(0, half, size=n_samples)  # (N,)
    second = generator.integers(half, seq_len, size=n_samples)  # (N,)
    rows = np.arange(n_samples)
    markers = np.zeros((n_samples, seq_len))  # (N, T)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2).astype(out_dtype)  # (N, T, 2)
    # The target is summed from the stored (possibly float32) numbers, so it is
    # exactly what a perfect model reading X would compute.
    y = (X[rows, first, 0] + X[rows, second, 0])[:, None]  # (N, 1)
    return X, y
