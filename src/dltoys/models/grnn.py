"""The general regression neural network (Specht 1991) and the probabilistic neural network (Specht 1990).

Both keep the whole training set as their "pattern layer" and answer with a
Gaussian-kernel weighted average of the training targets (Nadaraya-Watson):
nothing is learned but the kernel's width, chosen by leave-one-out error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import as_array, check_bool, check_int, resolve_dtype
from .base import (
    ClassifierMixin,
    Estimator,
    RegressorMixin,
    check_classification_targets,
    check_regression_targets,
    check_X,
    column_or_1d,
)

#: Default search grid: multiples of the root-mean-square feature spread.
DEFAULT_SCALES = np.geomspace(0.01, 10.0, 31)
#: Multiples of one feature's sigma tried by the per-feature coordinate search (1/4 to 4).
COORDINATE_FACTORS = np.geomspace(0.25, 4.0, 9)


def kernel_average(X_query: np.ndarray, X_train: np.ndarray, targets: np.ndarray, sigma: np.ndarray, *,
                   leave_one_out: bool = False, block_size: int = 1024) -> np.ndarray:
    """The Nadaraya-Watson estimate with a Gaussian kernel, block by block.

    Parameters
    ----------
    X_query : array of shape (M, F)
    X_train : array of shape (N, F)
    targets : array of shape (N, T)
    sigma : array of shape (F,), the kernel width along each feature
    leave_one_out : bool
        ``X_query`` is ``X_train`` and row ``i`` leaves training sample ``i`` out
        (the kernel's diagonal zeroed): the closed-form leave-one-out prediction.
    block_size : int
        Query rows per block; memory is ``O(block_size * N)``.

    Returns
    -------
    array of shape (M, T)

    Notes
    -----
    ``yhat(x) = sum_j k_j y_j / sum_j k_j`` with
    ``k_j = exp(-sum_f (x_f - x_jf)^2 / (2 sigma_f^2))``. Each row's squared
    distances are shifted by their minimum before the exponential (the shift
    cancels in the ratio), so the nearest pattern always has weight 1 and a tiny
    sigma gives the nearest neighbour's target instead of 0 / 0.
    """
    scaled_train = X_train / sigma  # (N, F)
    train_sq = np.einsum("nf,nf->n", scaled_train, scaled_train)  # (N,)
    out = np.empty((len(X_query), targets.shape[1]), dtype=np.result_type(X_query, targets))
    for start in range(0, len(X_query), block_size):
        block = X_query[start:start + block_size] / sigma  # (b, F)
        squared = np.einsum("bf,bf->b", block, block)[:, None] - 2 * block @ scaled_train.T + train_sq  # (b, N)
        np.maximum(squared, 0, out=squared)
        if leave_one_out:
            rows = np.arange(len(block))
            squared[rows, start + rows] = np.inf  # the diagonal: sample i does not see itself
        squared -= squared.min(axis=1, keepdims=True)
        weights = np.exp(-0.5 * squared)  # (b, N), max 1 per row
        out[start:start + block_size] = (weights @ targets) / weights.sum(axis=1, keepdims=True)
    return out


class _KernelNetwork(Estimator):
    """What GRNN and PNN share: the stored patterns, sigma and its leave-one-out search."""

    def __init__(self, sigma: Any = None, *, scales: Any = None, per_feature: bool = False, block_size: int = 1024,
                 dtype=None):
        self.sigma = sigma
        self.scales = scales
        self.per_feature = per_feature
        self.block_size = block_size
        self.dtype = dtype

    def _fit_patterns(self, X: Any, targets: np.ndarray) -> None:
        check_int("block_size", self.block_size, minimum=1)
        check_bool("per_feature", self.per_feature)
        dtype = resolve_dtype(self.dtype)
        X = check_X(X, owner=type(self).__name__, dtype=dtype)
        self.n_features_in_ = X.shape[1]
        self.X_train_, self._targets = X, targets.astype(dtype)
        spread = float(np.sqrt(np.mean(X.var(axis=0)))) or 1.0
        if self.sigma is not None:
            sigma = as_array("sigma", self.sigma).astype(dtype)
            if sigma.shape not in ((), (X.shape[1],)) or not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
                raise ValueError(f"sigma: expected a positive number or {X.shape[1]} positive numbers (one per "
                                 f"feature), received {self.sigma!r}")
            self.sigma_ = np.broadcast_to(sigma, (X.shape[1],)).copy()
            return
        scales = DEFAULT_SCALES if self.scales is None else as_array("scales", self.scales).astype(np.float64)
        if scales.ndim != 1 or len(scales) == 0 or np.any(scales <= 0) or not np.all(np.isfinite(scales)):
            raise ValueError(f"scales: expected a 1-D list of positive numbers, received {self.scales!r}")
        candidates = (scales * spread).astype(dtype)
        curve = np.array([self._loo_error(np.full(X.shape[1], s, dtype=dtype)) for s in candidates])
        self.loo_curve_ = (candidates, curve)  # (S,), (S,)
        sigma = np.full(X.shape[1], candidates[int(np.argmin(curve))], dtype=dtype)
        if self.per_feature and len(X) > 1:
            sigma = self._coordinate_search(sigma)
        self.sigma_ = sigma

    def _coordinate_search(self, sigma: np.ndarray, rounds: int = 2) -> np.ndarray:
        """One feature's sigma at a time, times each of :data:`COORDINATE_FACTORS`, two rounds."""
        factors = COORDINATE_FACTORS
        best = self._loo_error(sigma)
        for _ in range(rounds):
            for feature in range(len(sigma)):
                trials = [sigma.copy() for _ in factors]
                for trial, factor in zip(trials, factors):
                    trial[feature] *= factor
                errors = [self._loo_error(trial) for trial in trials]
                if min(errors) < best:
                    best, sigma = min(errors), trials[int(np.argmin(errors))]
        return sigma

    def _loo_error(self, sigma: np.ndarray) -> float:
        """Mean squared leave-one-out error of the kernel average (the targets' columns summed)."""
        if len(self.X_train_) < 2:
            return 0.0
        predicted = kernel_average(self.X_train_, self.X_train_, self._targets, sigma, leave_one_out=True,
                                   block_size=self.block_size)
        return float(np.mean(np.sum((predicted - self._targets) ** 2, axis=1)))

    def _average(self, X: Any) -> np.ndarray:
        self._check_is_fitted("sigma_")
        X = check_X(X, owner=type(self).__name__, n_features=self.n_features_in_, dtype=self.X_train_.dtype)
        return kernel_average(X, self.X_train_, self._targets, self.sigma_, block_size=self.block_size)

    def loo_error(self, sigma: Any) -> float:
        """The leave-one-out mean squared error on the training set at ``sigma`` (a number or one per feature)."""
        self._check_is_fitted("sigma_")
        sigma = np.broadcast_to(np.asarray(sigma, dtype=self.X_train_.dtype), self.sigma_.shape)
        return self._loo_error(sigma)


class GRNN(RegressorMixin, _KernelNetwork):
    """General regression neural network: the Nadaraya-Watson estimate with a Gaussian kernel.

    Parameters
    ----------
    sigma : float, array of shape (n_features,) or None, default None
        The kernel width, one for all features or one per feature. None: chosen
        by leave-one-out error over ``scales`` times the root-mean-square
        feature standard deviation.
    scales : array of shape (S,), optional
        The multiples searched (default 31 values from 0.01 to 10, log-spaced).
    per_feature : bool, default False
        With ``sigma=None``: after the common sigma, refine one sigma per feature
        by coordinate search (two rounds; each feature's sigma times 1/4 ... 4,
        nine log-spaced multiples, kept when the leave-one-out error falls).
    block_size : int, default 1024
        Query rows per block when predicting (memory ``O(block_size * n_train)``).
    dtype : float32 (default) or float64

    Attributes
    ----------
    sigma_ : array of shape (n_features,)
    loo_curve_ : (sigmas, errors), arrays of shape (S,)
        The leave-one-out mean squared error at each candidate (only when searched).
    X_train_ : array of shape (n_samples, n_features), the pattern layer
    n_features_in_ : int

    Notes
    -----
    ``yhat(x) = sum_j y_j k(x, x_j) / sum_j k(x, x_j)``,
    ``k(x, x_j) = exp(-sum_f (x_f - x_jf)^2 / (2 sigma_f^2))``. Leave-one-out
    needs no refitting: zero the kernel matrix's diagonal and the same formula
    gives every ``yhat_{-i}(x_i)`` at once (:func:`kernel_average`). A sigma too
    small reproduces the nearest neighbour's noise, one too large flattens
    towards the mean.

    References
    ----------
    D. F. Specht (1991), A general regression neural network, IEEE Transactions on
    Neural Networks 2(6), 568-576. E. A. Nadaraya (1964), G. S. Watson (1964).
    """

    def fit(self, X: Any, y: Any) -> "GRNN":
        """Store the patterns ``X`` (N, F) and targets ``y`` (N,) or (N, T); choose sigma if not given."""
        X_checked = check_X(X, owner="GRNN")
        y = check_regression_targets(y, len(X_checked))
        self._one_target = y.ndim == 1
        self._fit_patterns(X, y.reshape(len(y), -1))
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (N, T) is T regressions with one kernel
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The kernel-weighted mean of the training targets, shape (M,) or (M, T)."""
        out = self._average(X)
        return out[:, 0] if self._one_target else out


class PNN(ClassifierMixin, _KernelNetwork):
    """Probabilistic neural network: Parzen-window class densities with a Gaussian kernel.

    The parameters are :class:`GRNN`'s; with ``sigma=None`` the width minimises the
    leave-one-out Brier score (squared error of the predicted probabilities).

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    sigma_, loo_curve_, X_train_, n_features_in_ : as in :class:`GRNN`

    Notes
    -----
    Class ``k``'s density is ``p(x | k) = (1 / n_k) sum_{j in k} k(x, x_j)`` (the
    Gaussian's normalising constant is common to every class and cancels). With
    the class frequencies ``n_k / N`` as priors, Bayes' rule gives
    ``p(k | x) = sum_{j in k} k(x, x_j) / sum_j k(x, x_j)``: the Nadaraya-Watson
    average of one-hot labels, the GRNN of a classifier.

    References
    ----------
    D. F. Specht (1990), Probabilistic neural networks, Neural Networks 3(1), 109-118.
    """

    def fit(self, X: Any, y: Any) -> "PNN":
        """Store the patterns ``X`` (N, F) and their labels ``y`` (N,); choose sigma if not given."""
        X_checked = check_X(X, owner="PNN")
        y = column_or_1d(y, len(X_checked), warn=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        self._fit_patterns(X, np.eye(len(self.classes_))[codes])  # (N, K) one-hot
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """``p(k | x)`` of shape (M, n_classes), columns in the order of ``classes_``."""
        return self._average(X)

    def predict(self, X: Any) -> np.ndarray:
        probabilities = self.predict_proba(X)  # checks fitted first
        return self.classes_[probabilities.argmax(axis=1)]
