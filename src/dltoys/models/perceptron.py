"""Rosenblatt's perceptron: one neuron with a step activation and a mistake-driven rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..utils import RngLike, as_array, as_rng, check_float, check_int, resolve_dtype


@dataclass
class PerceptronFit:
    """What a perceptron run did."""

    converged: bool  # an epoch made no mistake
    epochs: int  # epochs run
    updates: int  # weight updates (= mistakes) over the whole run
    mistakes_per_epoch: list[int]


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

    Notes
    -----
    Labels are 0/1. The step activation is ``step(z) = 1 if z > 0 else 0``.
    Rosenblatt's rule visits the samples one at a time and, on a mistake,
    moves the boundary towards the misclassified point::

        w <- w + lr (y - y_hat) x          b <- b + lr (y - y_hat)

    (``y - y_hat`` is +1 or -1 on a mistake, 0 otherwise). On linearly separable
    data with margin ``gamma`` and points within radius ``R`` it stops after at
    most ``(R / gamma)^2`` updates (Novikoff, 1962); on data that is not linearly
    separable, such as XOR, it never stops and no line gets all four points.

    The loop is over *mistakes*, not samples: within an epoch, one vectorised pass
    finds the next misclassified sample in the epoch's order, the weights are
    updated, and the search resumes after it. That is exactly the online rule,
    since correctly classified samples leave the weights unchanged.

    References
    ----------
    Rosenblatt (1958), The perceptron: a probabilistic model for information
    storage and organization in the brain. Novikoff (1962), On convergence proofs
    on perceptrons.
    """

    def __init__(self, n_features: int, lr: float = 1.0, dtype=None):
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.lr = check_float("lr", lr, low=0.0, low_inclusive=False)
        self.dtype = resolve_dtype(dtype)
        self.weight = np.zeros(n_features, dtype=self.dtype)  # (F,)
        self.bias = self.dtype.type(0)

    def _check(self, X) -> np.ndarray:
        X = as_array("X", X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"Perceptron(n_features={self.n_features}): expected X of shape (N, {self.n_features}), received {X.shape}"
            )
        return X.astype(self.dtype, copy=False)

    def decision_function(self, X) -> np.ndarray:
        """``w . x + b`` for each row, shape (N,)."""
        return self._check(X) @ self.weight + self.bias

    def predict(self, X) -> np.ndarray:
        """0/1 labels, shape (N,)."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def fit(self, X, y, max_epochs: int = 100, shuffle: bool = True, rng: RngLike = None) -> PerceptronFit:
        """Run the rule until an epoch makes no mistake, or ``max_epochs``.

        Parameters
        ----------
        X : array of shape (N, n_features)
        y : array of shape (N,) with labels 0 and 1
        max_epochs : int
        shuffle : bool, visit the samples in a new random order each epoch
        rng : int, Generator or None (the visiting order)
        """
        X = self._check(X)
        y = as_array("y", y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"Perceptron.fit: y must have shape ({X.shape[0]},), received {y.shape}")
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"Perceptron.fit: labels must be 0 or 1, received {np.unique(y)[:5].tolist()}")
        max_epochs = check_int("max_epochs", max_epochs, minimum=1)
        rng = as_rng(rng)
        target = y.astype(self.dtype)
        history: list[int] = []
        for _ in range(max_epochs):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = 0
            start = 0
            while start < len(order):
                rest = order[start:]
                predicted = (X[rest] @ self.weight + self.bias > 0).astype(self.dtype)  # (R,)
                wrong = np.flatnonzero(predicted != target[rest])
                if wrong.size == 0:
                    break
                index = rest[wrong[0]]
                step = self.lr * (target[index] - predicted[wrong[0]])  # +lr or -lr
                self.weight += step * X[index]
                self.bias += self.dtype.type(step)
                mistakes += 1
                start += int(wrong[0]) + 1
            history.append(mistakes)
            if mistakes == 0:
                break
        return PerceptronFit(converged=history[-1] == 0, epochs=len(history), updates=int(sum(history)),
                             mistakes_per_epoch=history)
