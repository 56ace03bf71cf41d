"""Rosenblatt's perceptron: one neuron with a step activation and a mistake-driven rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..utils import RngLike, as_array, as_rng, check_binary_labels, check_bool, check_features, check_float, check_int, resolve_dtype


@dataclass
class PerceptronFit:
    """What a perceptron run did.

    ``accuracy_per_epoch[e]`` is the training accuracy of the weights at the end of
    epoch ``e + 1``; the best of them is ``best_accuracy``, first reached at epoch
    ``best_epoch`` (counted from 1).
    """

    converged: bool  # an epoch made no mistake
    epochs: int  # epochs run
    updates: int  # weight updates (= mistakes) over the whole run
    mistakes_per_epoch: list[int]
    accuracy_per_epoch: list[float]
    best_accuracy: float
    best_epoch: int


class Perceptron:
    """The perceptron (Rosenblatt, 1958): ``y_hat = step(w . x + b)``.

    Parameters
    ----------
    n_features : int
    lr : float, default 1.0
        Step of each update. With zero initial weights the decisions do not depend
        on it (every weight is a sum of ``lr * x`` terms), which is why the rule is
        often written without one.
    dtype : float32 (default) or float64

    Attributes
    ----------
    weight : ndarray of shape (n_features,)
    bias : scalar of the model's dtype
        Both start at zero.

    Notes
    -----
    Labels are 0/1. The step activation is ``step(z) = 1 if z > 0 else 0``.
    Rosenblatt's rule visits the samples one at a time and, on a mistake,
    moves the boundary towards the misclassified point::

        w <- w + lr (y - y_hat) x          b <- b + lr (y - y_hat)

    (``y - y_hat`` is +1 or -1 on a mistake, 0 otherwise). It is stochastic
    gradient descent with step ``lr`` on the perceptron criterion
    ``max(0, -(2y - 1)(w . x + b))``, whose gradient is zero on a correct point.

    Convergence (Novikoff, 1962). Write ``z = (x, 1)`` for a point with the bias
    as one more weight, ``s = 2y - 1`` in {-1, +1}, and let a unit vector ``u``
    separate the data with margin ``gamma``: ``s u . z >= gamma > 0`` for every
    point, with ``|z| <= R``. After ``k`` updates from zero weights,
    ``u . w_k >= k lr gamma`` (each update adds ``lr s u . z >= lr gamma``) and
    ``|w_k|^2 <= k lr^2 R^2`` (an update happens only when ``s w . z <= 0``, so
    the cross term never helps). Cauchy-Schwarz, ``u . w_k <= |w_k|``, gives
    ``k <= (R / gamma)^2``: at most that many updates, whatever the order of
    the samples (:func:`novikoff_bound` computes it for a given separator).
    On data that is not linearly separable, such as XOR, no ``u`` exists: the
    rule never stops, and on XOR's four points no line gets more than three
    right, so no epoch ends above 75% accuracy.

    The loop is over *mistakes*, not samples: within an epoch, vectorised passes over
    blocks of the epoch's order find the next misclassified sample, the weights are
    updated, and the search resumes after it. That is exactly the online rule,
    since correctly classified samples leave the weights unchanged.

    References
    ----------
    Rosenblatt (1958), The perceptron: a probabilistic model for information
    storage and organization in the brain. Novikoff (1962), On convergence proofs
    on perceptrons. Gallant (1990), Perceptron-based learning algorithms (the
    pocket algorithm).
    """

    #: Rows scored per vectorised pass while looking for the next mistake.
    _BLOCK = 256

    def __init__(self, n_features: int, lr: float = 1.0, dtype=None):
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.lr = check_float("lr", lr, low=0.0, low_inclusive=False)
        self.dtype = resolve_dtype(dtype)
        self.weight = np.zeros(n_features, dtype=self.dtype)  # (F,)
        self.bias = self.dtype.type(0)

    def _check(self, X) -> np.ndarray:
        X = check_features(f"Perceptron(n_features={self.n_features})", X, self.n_features)
        return X.astype(self.dtype, copy=False)

    def decision_function(self, X) -> np.ndarray:
        """``w . x + b`` for each row, shape (N,)."""
        return self._check(X) @ self.weight + self.bias

    def predict(self, X) -> np.ndarray:
        """0/1 labels, shape (N,)."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def fit(
        self, X, y, max_epochs: int = 100, shuffle: bool = True, rng: RngLike = None, pocket: bool = False
    ) -> PerceptronFit:
        """Run the rule until an epoch makes no mistake, or ``max_epochs``.

        Parameters
        ----------
        X : array of shape (N, n_features)
        y : array of shape (N,) with labels 0 and 1
        max_epochs : int
        shuffle : bool, visit the samples in a new random order each epoch
        rng : int, Generator or None (the visiting order)
        pocket : bool, default False
            Gallant's pocket algorithm: at the end, keep the weights of the epoch
            with the best training accuracy (the first such epoch) instead of the
            last ones. On separable data the two agree once the rule converges.

        Returns
        -------
        PerceptronFit
            Convergence, updates, mistakes and training accuracy per epoch.
        """
        X = self._check(X)
        y = check_binary_labels(y, X.shape[0])
        max_epochs = check_int("max_epochs", max_epochs, minimum=1)
        pocket = check_bool("pocket", pocket)
        rng = as_rng(rng)
        target = y.astype(self.dtype)
        history: list[int] = []
        accuracies: list[float] = []
        best = (-1.0, 0, self.weight.copy(), self.bias)  # (accuracy, epoch, weight, bias)
        for epoch in range(1, max_epochs + 1):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = 0
            start = 0
            while start < len(order):
                # Score the next block of the epoch's order at the current weights: after a
                # mistake only the rest of that block is scored again, so an epoch costs
                # O(N + mistakes * BLOCK), not O(N * mistakes).
                rest = order[start:start + self._BLOCK]
                predicted = (X[rest] @ self.weight + self.bias > 0).astype(self.dtype)  # (R,)
                wrong = np.flatnonzero(predicted != target[rest])
                if wrong.size == 0:
                    start += len(rest)
                    continue
                index = rest[wrong[0]]
                step = self.lr * (target[index] - predicted[wrong[0]])  # +lr or -lr
                self.weight += step * X[index]
                self.bias += self.dtype.type(step)
                mistakes += 1
                start += int(wrong[0]) + 1
            history.append(mistakes)
            accuracies.append(float(np.mean((X @ self.weight + self.bias > 0) == (target > 0))))
            if accuracies[-1] > best[0]:
                best = (accuracies[-1], epoch, self.weight.copy(), self.bias)
            if mistakes == 0:
                break
        if pocket:
            self.weight, self.bias = best[2], best[3]
        return PerceptronFit(
            converged=history[-1] == 0, epochs=len(history), updates=int(sum(history)),
            mistakes_per_epoch=history, accuracy_per_epoch=accuracies, best_accuracy=best[0], best_epoch=best[1],
        )


def novikoff_bound(X, y, weight, bias) -> float:
    """Novikoff's bound ``(R / gamma)^2`` on the perceptron's updates, for one separator.

    Parameters
    ----------
    X : array of shape (N, F)
    y : array of shape (N,), labels 0 and 1
    weight : array of shape (F,), bias : float
        Any hyperplane ``weight . x + bias = 0`` that separates the classes
        (class 1 on the positive side); the largest-margin one gives the
        tightest bound, any other a valid, looser one.

    Returns
    -------
    float
        ``(R / gamma)^2`` with ``z = (x, 1)``, ``R = max |z|`` and
        ``gamma = min (2y - 1) u . z``, ``u = (weight, bias) / |(weight, bias)|``
        (see :class:`Perceptron`, Notes).

    Raises
    ------
    ValueError
        If the hyperplane does not separate the classes with a positive margin.
    """
    X = np.asarray(as_array("X", X), dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"novikoff_bound: expected X of shape (N >= 1, F), received {X.shape}")
    y = check_binary_labels(y, X.shape[0])
    augmented = np.column_stack([X, np.ones(len(X))])  # (N, F + 1): the bias as one more weight
    u = np.append(np.asarray(weight, dtype=np.float64), float(bias))  # (F + 1,)
    if u.shape != (augmented.shape[1],):
        raise ValueError(f"weight: expected shape ({X.shape[1]},), received {np.shape(weight)}")
    norm = np.linalg.norm(u)
    gamma = float(np.min((2 * y - 1) * (augmented @ u)) / norm) if norm > 0 else 0.0
    if not gamma > 0:
        raise ValueError(f"novikoff_bound: the hyperplane does not separate the classes (margin {gamma:.3g} <= 0)")
    radius = float(np.max(np.linalg.norm(augmented, axis=1)))
    return (radius / gamma) ** 2
