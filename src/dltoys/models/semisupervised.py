"""Learning from a few labels: label propagation (Zhu & Ghahramani 2002), label spreading (Zhou et al. 2004)
and self-training (pseudo-labelling).

Propagation and spreading follow scikit-learn's ``sklearn.semi_supervised`` step for
step (same arguments, same iteration, same stopping rule), so the two agree to
rounding; the graph may also be given directly (``kernel='precomputed'``).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np

from ..utils import as_array, check_choice, check_float, check_int
from .base import ClassifierMixin, ConvergenceWarning, Estimator, check_classification_targets, check_X, column_or_1d

KERNELS = ("rbf", "knn", "precomputed")
#: Query rows per block when new points are compared with every training point.
BLOCK_ROWS = 2048


def rbf_affinity(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma |a - b|^2)`` for every row pair, shape (len(A), len(B))."""
    squared = np.einsum("af,af->a", A, A)[:, None] - 2 * A @ B.T + np.einsum("bf,bf->b", B, B)  # (M, N)
    return np.exp(-gamma * np.maximum(squared, 0))


def nearest_neighbours(query: np.ndarray, X: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Indices of the ``n_neighbors`` training rows nearest each query row, nearest first, shape (M, k).

    A training point queried against its own set finds itself first (distance 0),
    as scikit-learn's ``kneighbors_graph`` does.
    """
    out = np.empty((len(query), n_neighbors), dtype=np.int64)
    train_sq = np.einsum("nf,nf->n", X, X)  # (N,)
    for start in range(0, len(query), BLOCK_ROWS):
        block = query[start:start + BLOCK_ROWS]  # (b, F)
        squared = np.einsum("bf,bf->b", block, block)[:, None] - 2 * block @ X.T + train_sq  # (b, N)
        nearest = np.argpartition(squared, n_neighbors - 1, axis=1)[:, :n_neighbors]  # (b, k), unordered
        order = np.argsort(np.take_along_axis(squared, nearest, axis=1), axis=1, kind="stable")
        out[start:start + BLOCK_ROWS] = np.take_along_axis(nearest, order, axis=1)
    return out


def symmetric_normalized(affinity: np.ndarray) -> np.ndarray:
    """``S = D^-1/2 W D^-1/2`` with W's diagonal zeroed and ``D`` its column sums (isolated nodes: 1).

    Zhou et al.'s normalisation; scikit-learn's LabelSpreading gets it as minus the
    off-diagonal of scipy's normalised Laplacian, which sums columns (in-degree).
    """
    weights = np.array(affinity, dtype=np.float64)  # (N, N), a copy
    np.fill_diagonal(weights, 0)
    degree = weights.sum(axis=0)  # (N,)
    root = np.where(degree == 0, 1, np.sqrt(degree))
    return weights / root / root[:, None]


class _LabelGraph(ClassifierMixin, Estimator):
    """What propagation and spreading share: the graph, the label matrix, the iteration, inductive prediction."""

    _variant = ""

    def _validate_common(self) -> None:
        check_choice("kernel", self.kernel, KERNELS)
        check_float("gamma", self.gamma, low=0, low_inclusive=False)
        check_int("n_neighbors", self.n_neighbors, minimum=1)
        check_int("max_iter", self.max_iter, minimum=1)
        check_float("tol", self.tol, low=0)

    def _affinity(self, X: np.ndarray) -> np.ndarray:
        """The (N, N) graph of the training points: rbf weights, k-nearest-neighbour 0/1, or X itself."""
        if self.kernel == "rbf":
            return rbf_affinity(X, X, self.gamma)
        if self.kernel == "knn":
            if self.n_neighbors > len(X):
                raise ValueError(f"Expected n_neighbors <= n_samples, but n_neighbors = {self.n_neighbors}, "
                                 f"n_samples = {len(X)}")
            graph = np.zeros((len(X), len(X)))
            np.put_along_axis(graph, nearest_neighbours(X, X, self.n_neighbors), 1.0, axis=1)
            return graph
        if X.shape[0] != X.shape[1] or np.any(X < 0):
            raise ValueError(f"{type(self).__name__}(kernel='precomputed'): X must be a square (N, N) adjacency or "
                             f"affinity matrix of non-negative weights, received shape {X.shape}")
        return X.astype(np.float64)

    def fit(self, X: Any, y: Any) -> "_LabelGraph":
        """Spread the labels of ``y`` (N,), -1 marking unlabelled samples, over the graph of ``X``.

        Parameters
        ----------
        X : array of shape (N, F), or (N, N) with ``kernel='precomputed'`` (an adjacency matrix)
        y : array of shape (N,)

        Returns
        -------
        self
        """
        self._validate()
        X = check_X(X, owner=type(self).__name__)
        self.n_features_in_ = X.shape[1]
        y = column_or_1d(y, len(X), warn=True)
        check_classification_targets(y)
        self.X_ = X
        graph = self._build_graph(self._affinity(X))  # (N, N)
        classes = np.unique(y)
        self.classes_ = classes = classes[classes != -1]
        if len(classes) == 0:
            raise ValueError(f"{type(self).__name__}: y has no labelled sample (every entry is -1)")
        unlabeled = (y == -1)[:, None]  # (N, 1)
        distributions = (y[:, None] == classes[None, :]).astype(np.float64)  # (N, K) one-hot, 0 if unlabelled
        clamped = distributions * (1 - self.alpha) if self._variant == "spreading" else distributions
        previous = np.zeros_like(distributions)
        for self.n_iter_ in range(self.max_iter):
            if np.abs(distributions - previous).sum() < self.tol:
                break
            previous = distributions
            distributions = graph @ distributions  # (N, K)
            if self._variant == "propagation":
                normalizer = distributions.sum(axis=1, keepdims=True)
                distributions = np.where(unlabeled, distributions / np.where(normalizer == 0, 1, normalizer), clamped)
            else:
                distributions = self.alpha * distributions + clamped
        else:
            warnings.warn(f"max_iter={self.max_iter} was reached without convergence.", ConvergenceWarning,
                          stacklevel=2)
            self.n_iter_ += 1
        normalizer = distributions.sum(axis=1, keepdims=True)
        self.label_distributions_ = distributions / np.where(normalizer == 0, 1, normalizer)
        self.transduction_ = classes[np.argmax(self.label_distributions_, axis=1)]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of new points from their affinities to the training points, shape (M, K).

        rbf: ``sum_j exp(-gamma |x - x_j|^2) F_j``; knn: the sum of ``F_j`` over the
        ``n_neighbors`` nearest training points; precomputed: ``X`` (M, N) of affinities
        times ``F``; each row then normalised (``F = label_distributions_``).
        """
        self._check_is_fitted("label_distributions_")
        name = type(self).__name__
        if self.kernel == "precomputed":
            X = as_array("X", X)
            if X.ndim != 2 or X.shape[1] != len(self.X_):
                raise ValueError(f"{name}(kernel='precomputed'): expected X of shape (M, {len(self.X_)}), "
                                 f"the affinities to the training points, received {X.shape}")
            probabilities = X.astype(np.float64) @ self.label_distributions_
        else:
            X = check_X(X, owner=name, n_features=self.n_features_in_)
            if self.kernel == "knn":
                neighbours = nearest_neighbours(X, self.X_, self.n_neighbors)  # (M, k)
                probabilities = self.label_distributions_[neighbours].sum(axis=1)  # (M, K)
            else:
                probabilities = np.empty((len(X), len(self.classes_)))
                train_sq = np.einsum("nf,nf->n", self.X_, self.X_)
                for start in range(0, len(X), BLOCK_ROWS):
                    block = X[start:start + BLOCK_ROWS]
                    squared = np.einsum("bf,bf->b", block, block)[:, None] - 2 * block @ self.X_.T + train_sq
                    squared = np.maximum(squared, 0)
                    # Scaling a row by exp(gamma min_j d^2) cancels in the normalisation and keeps the
                    # nearest point's weight at 1: far points get their neighbours' labels, not 0 / 0.
                    weights = np.exp(-self.gamma * (squared - squared.min(axis=1, keepdims=True)))  # (b, N)
                    probabilities[start:start + BLOCK_ROWS] = weights @ self.label_distributions_
        normalizer = probabilities.sum(axis=1, keepdims=True)
        return probabilities / np.where(normalizer == 0, 1, normalizer)

    def predict(self, X: Any) -> np.ndarray:
        probabilities = self.predict_proba(X)  # checks fitted first
        return self.classes_[probabilities.argmax(axis=1)]


class LabelPropagation(_LabelGraph):
    """Label propagation (Zhu & Ghahramani 2002), scikit-learn's arguments and iteration.

    Parameters
    ----------
    kernel : {'rbf', 'knn', 'precomputed'}, default 'rbf'
        The graph: ``W_ij = exp(-gamma |x_i - x_j|^2)``; ``W_ij = 1`` when ``j`` is
        among the ``n_neighbors`` nearest points of ``i`` (itself included); or
        ``X`` itself, an (N, N) adjacency or affinity matrix.
    gamma : float, default 20
    n_neighbors : int, default 7
    max_iter : int, default 1000
    tol : float, default 1e-3
        Stop when the label matrix moves less than this (sum of absolute changes).

    The graph is held as a dense (N, N) float64 array (scikit-learn keeps the knn graph
    sparse): 26 MB for the 1,797 digits, so thousands of points, not millions.

    Attributes
    ----------
    X_ : array of shape (N, F) or (N, N)
    classes_ : array of shape (K,)
    label_distributions_ : array of shape (N, K), rows summing to 1
    transduction_ : array of shape (N,), the label given to every training point
    n_iter_ : int
    n_features_in_ : int

    Notes
    -----
    With the transition matrix ``P = D^-1 W`` (rows summing to 1) and ``Y`` the
    one-hot labels, iterate ``F <- P F``, normalise each row, and reset the labelled
    rows to ``Y``. The fixed point is the harmonic function: on the unlabelled
    points ``F_u = (I - P_uu)^-1 P_ul Y_l``, the value at each point the
    weighted mean of its neighbours'.

    References
    ----------
    X. Zhu and Z. Ghahramani (2002), Learning from labeled and unlabeled data with label
    propagation, CMU-CALD-02-107.
    """

    _variant = "propagation"

    def __init__(self, kernel: str = "rbf", *, gamma: float = 20, n_neighbors: int = 7, max_iter: int = 1000,
                 tol: float = 1e-3):
        self.kernel = kernel
        self.gamma = gamma
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.tol = tol

    def _validate(self) -> None:
        self._validate_common()

    def _build_graph(self, affinity: np.ndarray) -> np.ndarray:
        degree = affinity.sum(axis=1, keepdims=True)
        return affinity / np.where(degree == 0, 1, degree)  # P = D^-1 W


class LabelSpreading(_LabelGraph):
    """Label spreading (Zhou et al. 2004), scikit-learn's arguments and iteration.

    Parameters
    ----------
    kernel, gamma, n_neighbors, tol : as in :class:`LabelPropagation`
    alpha : float in (0, 1), default 0.2
        How much of each step comes from the neighbours; ``1 - alpha`` stays with the
        initial labels (which may therefore change).
    max_iter : int, default 30

    Attributes
    ----------
    As :class:`LabelPropagation`.

    Notes
    -----
    With ``S = D^-1/2 W D^-1/2`` (:func:`symmetric_normalized`, diagonal zeroed),
    iterate ``F <- alpha S F + (1 - alpha) Y``. Since the eigenvalues of ``alpha S``
    lie inside (-1, 1) this converges to ``F* = (1 - alpha) (I - alpha S)^-1 Y``;
    ``label_distributions_`` is ``F*`` with its rows normalised.

    References
    ----------
    D. Zhou, O. Bousquet, T. N. Lal, J. Weston and B. Schoelkopf (2004), Learning with
    local and global consistency, NIPS 16.
    """

    _variant = "spreading"

    def __init__(self, kernel: str = "rbf", *, gamma: float = 20, n_neighbors: int = 7, alpha: float = 0.2,
                 max_iter: int = 30, tol: float = 1e-3):
        self.kernel = kernel
        self.gamma = gamma
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def _validate(self) -> None:
        self._validate_common()
        check_float("alpha", self.alpha, low=0, high=1, low_inclusive=False, high_inclusive=False)

    def _build_graph(self, affinity: np.ndarray) -> np.ndarray:
        return symmetric_normalized(affinity)


def harmonic_solution(P: np.ndarray, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Zhu's closed form: labelled rows one-hot, ``F_u = (I - P_uu)^-1 P_ul Y_l``; shape (N, K)."""
    labelled = y != -1
    Y_l = (y[labelled, None] == classes[None, :]).astype(np.float64)
    F = np.zeros((len(y), len(classes)))
    F[labelled] = Y_l
    unlabelled = ~labelled
    P_uu = P[np.ix_(unlabelled, unlabelled)]
    F[unlabelled] = np.linalg.solve(np.eye(len(P_uu)) - P_uu, P[np.ix_(unlabelled, labelled)] @ Y_l)
    return F


def spreading_solution(S: np.ndarray, y: np.ndarray, classes: np.ndarray, alpha: float) -> np.ndarray:
    """Zhou's closed form ``(1 - alpha) (I - alpha S)^-1 Y``, rows normalised; shape (N, K)."""
    Y = (y[:, None] == classes[None, :]).astype(np.float64)
    F = (1 - alpha) * np.linalg.solve(np.eye(len(S)) - alpha * S, Y)
    return F / F.sum(axis=1, keepdims=True)


def clone(estimator: Any) -> Any:
    """A new, unfitted estimator with the same hyperparameters (scikit-learn's ``clone`` without scikit-learn)."""
    if not hasattr(estimator, "get_params"):
        raise TypeError(f"estimator: expected an estimator with get_params(), received {type(estimator).__name__}")
    return type(estimator)(**{k: copy.deepcopy(v) for k, v in estimator.get_params(deep=False).items()})


class SelfTrainingClassifier(ClassifierMixin, Estimator):
    """Self-training (pseudo-labelling) around any classifier with ``fit`` and ``predict_proba``.

    Parameters
    ----------
    estimator : estimator
        Cloned before training (``estimator_``); any dltoys or scikit-learn classifier.
    threshold : float in [0, 1), default 0.75
        With ``criterion='threshold'``: adopt predictions more confident than this.
    criterion : {'threshold', 'k_best'}, default 'threshold'
    k_best : int, default 10
        With ``criterion='k_best'``: adopt the ``k_best`` most confident predictions.
    max_iter : int or None, default 10
        Rounds of pseudo-labelling (None: until nothing changes or all are labelled).

    Attributes
    ----------
    estimator_ : the classifier fitted on the labelled and pseudo-labelled samples
    classes_ : array of shape (K,)
    transduction_ : array of shape (N,), the labels used in the last fit (-1: never labelled)
    labeled_iter_ : int array of shape (N,), the round that labelled each sample (0: given)
    n_iter_ : int
    termination_condition_ : {'max_iter', 'no_change', 'all_labeled'}

    Notes
    -----
    Fit on the labelled samples; predict the unlabelled ones; add the confident
    predictions as labels; repeat (scikit-learn's ``SelfTrainingClassifier`` step for
    step). Mistakes adopted early are never revisited, so the threshold trades how
    many labels are gained against how many of them are wrong.

    References
    ----------
    D. Yarowsky (1995), Unsupervised word sense disambiguation rivaling supervised methods.
    D.-H. Lee (2013), Pseudo-label: the simple and efficient semi-supervised learning method
    for deep neural networks.
    """

    def __init__(self, estimator: Any = None, *, threshold: float = 0.75, criterion: str = "threshold",
                 k_best: int = 10, max_iter: int | None = 10):
        self.estimator = estimator
        self.threshold = threshold
        self.criterion = criterion
        self.k_best = k_best
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> "SelfTrainingClassifier":
        """Train on ``X`` (N, F) with labels ``y`` (N,), -1 marking the unlabelled samples."""
        if self.estimator is None or not hasattr(self.estimator, "predict_proba"):
            raise TypeError("estimator: expected a classifier with fit and predict_proba, "
                            f"received {type(self.estimator).__name__}")
        check_float("threshold", self.threshold, low=0, high=1, high_inclusive=False)
        check_choice("criterion", self.criterion, ("threshold", "k_best"))
        check_int("k_best", self.k_best, minimum=1)
        if self.max_iter is not None:
            check_int("max_iter", self.max_iter, minimum=0)
        X = check_X(X, owner="SelfTrainingClassifier")
        self.n_features_in_ = X.shape[1]
        y = column_or_1d(y, len(X), warn=True)
        if y.dtype.kind in "US":
            raise ValueError("y: string labels cannot hold -1 for the unlabelled samples; use an object array")
        self.estimator_ = clone(self.estimator)
        has_label = y != -1
        if not has_label.any():
            raise ValueError("SelfTrainingClassifier: y has no labelled sample (every entry is -1)")
        self.transduction_ = np.copy(y)
        self.labeled_iter_ = np.where(has_label, 0, -1)
        self.n_iter_ = 0
        self.termination_condition_ = "max_iter"
        while not has_label.all() and (self.max_iter is None or self.n_iter_ < self.max_iter):
            self.n_iter_ += 1
            self.estimator_.fit(X[has_label], self.transduction_[has_label])
            probabilities = self.estimator_.predict_proba(X[~has_label])  # (U, K)
            predicted = self.estimator_.classes_[probabilities.argmax(axis=1)]
            confidence = probabilities.max(axis=1)
            if self.criterion == "threshold":
                selected = np.flatnonzero(confidence > self.threshold)
            elif self.k_best >= len(confidence):
                selected = np.arange(len(confidence))
            else:
                selected = np.argpartition(-confidence, self.k_best)[:self.k_best]
            chosen = np.flatnonzero(~has_label)[selected]
            self.transduction_[chosen] = predicted[selected]
            has_label[chosen] = True
            self.labeled_iter_[chosen] = self.n_iter_
            if len(chosen) == 0:
                self.termination_condition_ = "no_change"
                break
        if has_label.all():
            self.termination_condition_ = "all_labeled"
        self.estimator_.fit(X[has_label], self.transduction_[has_label])
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        self._check_is_fitted("estimator_")
        return self.estimator_.predict_proba(check_X(X, owner="SelfTrainingClassifier", n_features=self.n_features_in_))

    def predict(self, X: Any) -> np.ndarray:
        self._check_is_fitted("estimator_")
        return self.estimator_.predict(check_X(X, owner="SelfTrainingClassifier", n_features=self.n_features_in_))
