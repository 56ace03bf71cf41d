"""Rosenblatt's perceptron: one neuron with a step activation and a mistake-driven rule.

:func:`rosenblatt_epoch` is the textbook's rule, one sample at a time;
:func:`rosenblatt_epoch_blocked` is the same rule, scanning blocks of samples for the
next mistake (tested equal to it); :class:`RosenblattStep` applies it to each batch the
training loop hands over, and :class:`Perceptron`, the scikit-learn-style estimator,
trains its ``module_`` (one ``Linear`` layer) with that step through the one loop.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import nn, train
from ..data import Minibatches
from ..utils import as_array, check_binary_labels, check_bool, check_float, check_int
from .base import (
    ClassifierMixin, ConvergenceWarning, Estimator, _sklearn_compatible, check_classification_targets,
    check_random_state, check_X, column_or_1d,
)


# ------------------------------------------------------------- the rule itself
def rosenblatt_epoch(weight: np.ndarray, bias: float, X: np.ndarray, y: np.ndarray, order, lr: float = 1.0):
    """One epoch of Rosenblatt's rule, visiting ``X[order]`` one sample at a time.

    Parameters
    ----------
    weight : ndarray of shape (n_features,), updated in place
    bias : float
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), labels 0 and 1
    order : sequence of int, the visiting order
    lr : float, the step

    Returns
    -------
    (weight, bias, mistakes)
        The updated weights and the number of updates (= mistakes) in the epoch.

    Notes
    -----
    The textbook's two lines, after predicting ``y_hat = step(w . x + b)``
    (``step(z) = 1 if z > 0 else 0``)::

        w <- w + lr (y - y_hat) x          b <- b + lr (y - y_hat)
    """
    mistakes = 0
    for i in order:
        error = y[i] - float(X[i] @ weight + bias > 0)  # +1 or -1 on a mistake, 0 otherwise
        weight += lr * error * X[i]
        bias += lr * error
        mistakes += error != 0
    return weight, bias, mistakes


def rosenblatt_epoch_blocked(weight: np.ndarray, bias: Any, X: np.ndarray, y: np.ndarray, order, lr: float = 1.0,
                             block: int = 256):
    """:func:`rosenblatt_epoch`, with vectorised scans for the next mistake: the same weights.

    Correctly classified samples leave the weights unchanged, so the loop can run over
    *mistakes* instead of samples: score the next ``block`` samples of the order at the
    current weights, update at the first mistake, resume right after it. An epoch then
    costs ``O(n_samples + mistakes * block)`` multiply-adds instead of a Python step per
    sample. Arguments and result are :func:`rosenblatt_epoch`'s.
    """
    weight_2d = weight[None, :]  # a view: one perceptron of _scan's (K, F) layout
    bias_1d = np.array([bias], dtype=weight.dtype)
    mistakes, _ = _scan(weight_2d, bias_1d, X, np.asarray(y)[:, None], np.asarray(order), lr, True, block)
    return weight, bias_1d[0], mistakes


def _scan(weight: np.ndarray, bias: np.ndarray, X: np.ndarray, target: np.ndarray, order: np.ndarray, lr: float,
          fit_intercept: bool, block: int = 256) -> tuple[int, float]:
    """Rosenblatt's rule for ``K`` one-vs-rest perceptrons side by side, in place.

    ``weight`` (K, F), ``bias`` (K,), ``target`` (N, K) of 0/1. A sample is a mistake when
    any unit gets it wrong; each wrong unit then takes the rule's update, the right ones
    stay. Returns the mistakes and the summed perceptron criterion ``sum |z|`` over the
    wrong units, each measured when its sample was visited (before the update).
    """
    mistakes, criterion, start = 0, 0.0, 0
    while start < len(order):
        rest = order[start:start + block]
        scores = X[rest] @ weight.T + bias  # (R, K)
        predicted = (scores > 0).astype(weight.dtype)
        wrong = np.flatnonzero((predicted != target[rest]).any(axis=1))
        if wrong.size == 0:
            start += len(rest)
            continue
        first, i = int(wrong[0]), rest[wrong[0]]
        error = target[i] - predicted[first]  # (K,): +1 or -1 on a wrong unit, 0 on a right one
        criterion += float(np.abs(scores[first]) @ (error != 0))
        weight += lr * error[:, None] * X[i]
        if fit_intercept:
            bias += lr * error
        mistakes += 1
        start += first + 1
    return mistakes, criterion


class RosenblattStep(train.Step):
    """One batch of Rosenblatt's rule: the batch's samples visited in order, an update at each mistake.

    There is no loss to differentiate and no optimizer: the rule is the update. With the
    batches in a fresh random order each epoch, it is the online rule of
    :func:`rosenblatt_epoch` (the scan of :func:`rosenblatt_epoch_blocked` only finds the
    mistakes faster).

    Parameters
    ----------
    linear : nn.Linear
        ``K`` perceptrons side by side (one-vs-rest; ``K = 1`` for two classes).
    lr : float
    fit_intercept : bool
        False keeps the bias at its value.

    Logs per batch: ``loss``, the mean perceptron criterion ``(y_hat - y) z`` of the samples
    as visited (``|z|`` on a mistake, 0 otherwise); ``no_mistake``, the share of samples the
    rule left alone. ``evaluate`` logs ``accuracy``.
    """

    def __init__(self, linear: nn.Linear, lr: float, fit_intercept: bool = True):
        fit_intercept = check_bool("fit_intercept", fit_intercept)
        super().__init__({"perceptron": linear})
        self.linear, self.lr, self.fit_intercept = linear, lr, fit_intercept

    def __call__(self, batch: Any) -> dict[str, float]:
        X, target = batch  # (B, F), (B, K) 0/1
        X = X.astype(self.linear.dtype, copy=False)
        order = np.arange(len(X))  # the batch's own order: the loop shuffles the batches
        mistakes, criterion = _scan(self.linear.weight.data, self.linear.bias.data, X, target, order, self.lr,
                                    self.fit_intercept)
        return {"loss": criterion / len(X), "no_mistake": 1.0 - mistakes / len(X)}

    def evaluate(self, batch: Any) -> dict[str, float]:
        X, target = batch
        return {"accuracy": _accuracy(self.linear(X), target)}


def _accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """Classification accuracy: the sign for one unit, the largest score for several."""
    if output.shape[1] == 1:
        return float(np.mean((output[:, 0] > 0) == (target[:, 0] > 0)))
    return float(np.mean(output.argmax(axis=1) == target.argmax(axis=1)))


class Perceptron(ClassifierMixin, Estimator):
    """The perceptron (Rosenblatt, 1958): ``y_hat = step(w . x + b)``, as a scikit-learn-style estimator.

    Parameters
    ----------
    fit_intercept : bool, default True
    max_iter : int, default 1000
        Epochs at most.
    tol : float or None, default 1e-3
        scikit-learn's stopping rule: stop when the epoch's mean perceptron criterion has
        not fallen by ``tol`` for ``n_iter_no_change`` epochs. None: only Rosenblatt's
        own stop (an epoch without a mistake) or ``max_iter``.
    shuffle : bool, default True
        A new visiting order every epoch.
    eta0 : float, default 1.0
        The step ``lr`` of the rule. From zero weights it does not change the decisions
        (every weight is a sum of ``lr * x`` terms).
    random_state : None, int or Generator, default 0
        The visiting orders.
    n_iter_no_change : int, default 5
    pocket : bool, default False
        Gallant's pocket algorithm: keep the weights of the epoch with the best training
        accuracy (the first such epoch) instead of the last ones.
    warm_start : bool, default False
    verbose : bool, default False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, (n_classes, n_features) otherwise
        One-vs-rest: one perceptron per class when there are more than two.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_features_in_, n_iter_ (epochs run), module_ (the ``Linear`` layer, float32)
    mistakes_per_epoch_ : list of int
        Samples on which the rule updated, per epoch (the updates, for two classes).
    accuracy_per_epoch_ : list of float
        The training accuracy of the weights at the end of each epoch.
    converged_ : bool
        The last epoch made no mistake.

    Notes
    -----
    Labels are mapped to 0/1 (``classes_[1]`` is 1). Rosenblatt's rule visits the samples
    one at a time and, on a mistake, moves the boundary towards the misclassified point
    (:func:`rosenblatt_epoch`)::

        w <- w + lr (y - y_hat) x          b <- b + lr (y - y_hat)

    It is stochastic gradient descent, with batches of one sample and step ``lr``, on the
    perceptron criterion ``(y_hat - y) z``, whose gradient is ``(y_hat - y) x``. ``fit``
    runs it through the training loop with :class:`RosenblattStep`, in batches of 256
    samples whose mistakes are found by vectorised scans.

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

    References
    ----------
    Rosenblatt (1958), The perceptron: a probabilistic model for information
    storage and organization in the brain. Novikoff (1962), On convergence proofs
    on perceptrons. Gallant (1990), Perceptron-based learning algorithms (the
    pocket algorithm).
    """

    def __init__(self, *, fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, eta0=1.0, random_state=0,
                 n_iter_no_change=5, pocket=False, warm_start=False, verbose=False):
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.eta0 = eta0
        self.random_state = random_state
        self.n_iter_no_change = n_iter_no_change
        self.pocket = pocket
        self.warm_start = warm_start
        self.verbose = verbose

    def _validate_params(self) -> None:
        check_bool("fit_intercept", self.fit_intercept)
        check_int("max_iter", self.max_iter, minimum=1)
        if self.tol is not None:
            check_float("tol", self.tol, low=0.0)
        check_bool("shuffle", self.shuffle)
        check_float("eta0", self.eta0, low=0.0, low_inclusive=False)
        check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        check_bool("pocket", self.pocket)
        check_bool("warm_start", self.warm_start)
        check_bool("verbose", self.verbose)

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Run the rule until an epoch makes no mistake, the stopping rule says so, or ``max_iter``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), two or more classes

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, incremental=self.warm_start and hasattr(self, "module_"), epochs=self.max_iter)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "Perceptron":
        """One epoch of the rule over ``X``, ``y``; ``classes`` (every label) is required on the first call."""
        first = not hasattr(self, "module_")
        if first:
            if classes is None:
                raise ValueError("Perceptron.partial_fit: classes must be passed on the first call")
            self._validate_params()
        return self._fit(X, y, incremental=not first, epochs=1, classes=classes)

    def _fit(self, X, y, *, incremental: bool, epochs: int, classes=None) -> "Perceptron":
        X = check_X(X, owner="Perceptron", n_features=self.n_features_in_ if incremental else None, dtype=np.float32)
        y = column_or_1d(y, len(X), warn=True)
        check_classification_targets(y)
        if not incremental:
            self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(self.classes_) < 2 and classes is None:
                raise ValueError(f"Perceptron: y has only one class ({self.classes_[0]}); at least 2 are needed")
            n_units = 1 if len(self.classes_) <= 2 else len(self.classes_)
            self.n_features_in_ = X.shape[1]
            self.module_ = nn.Linear(X.shape[1], n_units, rng=0)
            self.module_.weight.data[...] = 0
            self.module_.bias.data[...] = 0
            self.module_.bias.requires_grad = self.fit_intercept
            self.n_iter_, self.mistakes_per_epoch_, self.accuracy_per_epoch_ = 0, [], []
            self._rng = check_random_state(self.random_state)
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"y: labels {np.unique(y[unknown])[:5].tolist()} are not among the classes {self.classes_.tolist()}")
        index = np.searchsorted(self.classes_, y)
        n_units = self.module_.out_features
        target = (index[:, None] == (np.arange(n_units) if n_units > 1 else 1)).astype(np.float32)  # (N, K) 0/1

        callbacks: list = [train.StopAtTarget("no_mistake", 1.0, mode="max")]  # Rosenblatt's stop
        if self.tol is not None and epochs > 1:
            callbacks.append(train.EarlyStopping("loss", patience=self.n_iter_no_change, min_delta=self.tol,
                                                 mode="min", restore_best_weights=False))
        if self.pocket:
            callbacks.append(train.EarlyStopping("val_accuracy", patience=epochs, mode="max", restore_best_weights=True))
        # One permutation per epoch, as the online rule visits the samples; blocks of 256 of it per batch.
        batches = Minibatches(X, target, batch_size=256, shuffle=self.shuffle, rng=self._rng)
        trainer = train.Trainer(RosenblattStep(self.module_, self.eta0, self.fit_intercept), callbacks=callbacks,
                                epochs=epochs, progress=self.verbose)
        history = trainer.fit(batches, validation=[(X, target)])  # the training accuracy after each epoch
        self.n_iter_ += len(history)
        self.mistakes_per_epoch_ += [int(round(len(X) * (1 - share))) for share in history["no_mistake"]]
        self.accuracy_per_epoch_ += history["val_accuracy"]
        self.converged_ = self.mistakes_per_epoch_[-1] == 0
        if epochs > 1 and history.stop_reason is None:
            warnings.warn(f"Perceptron: max_iter={self.max_iter} epochs reached and the last one made "
                          f"{self.mistakes_per_epoch_[-1]} mistake(s)", _sklearn_compatible(ConvergenceWarning),
                          stacklevel=3)
        return self

    @property
    def coef_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_.weight.data

    @property
    def intercept_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_.bias.data

    def decision_function(self, X: Any) -> np.ndarray:
        """``w . x + b``: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        self._check_is_fitted()
        X = check_X(X, owner="Perceptron", n_features=self.n_features_in_, dtype=np.float32)
        scores = train.predict(self.module_, X, batch_size=None)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class of each row: ``classes_[1]`` where ``w . x + b > 0`` (the largest score for K classes)."""
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(np.int64) if scores.ndim == 1 else scores.argmax(axis=1)]


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
    u = np.append(np.asarray(weight, dtype=np.float64).ravel(), float(np.ravel(bias)[0]))  # (F + 1,)
    if u.shape != (augmented.shape[1],):
        raise ValueError(f"weight: expected shape ({X.shape[1]},), received {np.shape(weight)}")
    norm = np.linalg.norm(u)
    gamma = float(np.min((2 * y - 1) * (augmented @ u)) / norm) if norm > 0 else 0.0
    if not gamma > 0:
        raise ValueError(f"novikoff_bound: the hyperplane does not separate the classes (margin {gamma:.3g} <= 0)")
    radius = float(np.max(np.linalg.norm(augmented, axis=1)))
    return (radius / gamma) ** 2
