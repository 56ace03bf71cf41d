"""The self-organizing map (Kohonen 1982): competitive learning on a grid of units.

Definitions (decays, neighbourhoods, grids, errors) follow MiniSom, so that a map
trained here can be compared with one trained there, run against run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, train
from ..utils import RngLike, as_rng, check_bool, check_choice, check_float, check_int, resolve_dtype
from .base import Estimator, check_X, column_or_1d
from .som_functional import (
    BLOCK_ROWS,
    DISTANCES,
    INITIALIZATIONS,
    LR_DECAYS,
    NEIGHBORHOODS,
    SIGMA_DECAYS,
    TOPOLOGIES,
    TRAININGS,
    _one_sample_distances,
    decay,
    grid_coordinates,
    neighborhood,
    unit_distances,
)

# The maths (schedules, grid, neighbourhoods, distances) lives in som_functional.py.
# ------------------------------------------------------------- module, step
class SOMGrid(nn.Module):
    """The map's codebook as a module: ``weight`` of shape (n_units, n_features), no gradient.

    ``forward(x)`` returns the distances of each row of ``x`` (N, F) to every unit,
    shape (N, n_units); a SOM learns by :class:`SOMStep`, not by backpropagation, so
    ``backward`` is not defined.
    """

    def __init__(self, n_rows: int, n_columns: int, n_features: int, *, topology: str = "rectangular",
                 activation_distance: str = "euclidean", dtype=None):
        super().__init__()
        self.n_rows, self.n_columns, self.n_features = n_rows, n_columns, n_features
        self.topology, self.activation_distance = topology, activation_distance
        self.weight = nn.Parameter(np.zeros((n_rows * n_columns, n_features), dtype=resolve_dtype(dtype)),
                                   requires_grad=False)
        self.positions, self.indices = grid_coordinates(n_rows, n_columns, topology)  # (U, 2) each

    def extra_repr(self) -> str:
        return f"{self.n_rows}x{self.n_columns}, n_features={self.n_features}, topology={self.topology!r}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return unit_distances(x, self.weight.data, self.activation_distance)  # (N, U)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError("SOMGrid learns by SOMStep (competitive learning), not by backpropagation")

    def winners(self, x: np.ndarray) -> np.ndarray:
        """The best-matching unit of each row of ``x``, flat indices of shape (N,), in blocks of rows."""
        return np.concatenate([self.forward(x[start:start + BLOCK_ROWS]).argmin(axis=1)
                               for start in range(0, len(x), BLOCK_ROWS)])


class SOMStep(train.Step):
    """One update of a self-organizing map, a step of the one training loop: no optimizer, no gradient.

    ``mode='online'`` (Kohonen 1982): a batch is one sample ``x`` (shape (1, F)); at
    step ``t`` of ``t_max`` the best-matching unit ``c = argmin_u d(x, w_u)`` pulls
    every unit towards ``x``::

        w_u <- w_u + eta(t) h(c, u; sigma(t)) (x - w_u)

    ``mode='batch'`` (Kohonen's batch rule): a batch is the whole data set (N, F) and
    one call is one pass (``t`` counts passes); every unit moves to the
    neighbourhood-weighted mean of the samples::

        w_u <- sum_i h(c_i, u; sigma(t)) x_i / sum_i h(c_i, u; sigma(t))

    (units whose weights sum to zero or less keep their place). Logs the step's
    learning rate (online) and radius. :meth:`evaluate` logs the quantization and
    topographic errors of a batch, so ``validation=[X]`` gives them once per epoch.

    Parameters
    ----------
    grid : SOMGrid
    sigma, learning_rate : float, the starting radius and learning rate
    t_max : int, the steps (online) or passes (batch) the schedules run over
    mode : {'online', 'batch'}
    neighborhood_function, decay_function, sigma_decay_function : str, as :class:`SOM`'s
    """

    def __init__(self, grid: SOMGrid, *, sigma: float, learning_rate: float, t_max: int, mode: str = "online",
                 neighborhood_function: str = "gaussian", decay_function: str = "asymptotic_decay",
                 sigma_decay_function: str = "asymptotic_decay"):
        super().__init__(modules={"som": grid}, optimizers=None)
        self.grid, self.sigma, self.learning_rate, self.t_max, self.mode = grid, sigma, learning_rate, t_max, mode
        self.neighborhood_function = neighborhood_function
        self.decay_function, self.sigma_decay_function = decay_function, sigma_decay_function
        self.t = 0  # steps (online) or passes (batch) taken

    def __call__(self, batch: Any) -> dict[str, float]:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch  # (B, F)
        grid, weight = self.grid, self.grid.weight.data  # (U, F)
        sigma = decay(self.sigma_decay_function, self.sigma, self.t, self.t_max)
        if self.mode == "online":
            eta = decay(self.decay_function, self.learning_rate, self.t, self.t_max)
            sample = x[0]  # (F,)
            diff = sample - weight  # (U, F)
            winner = int(np.argmin(_one_sample_distances(diff, sample, weight, grid.activation_distance)))
            h = neighborhood(self.neighborhood_function, grid.positions, grid.indices, np.array([winner]), sigma)[0]
            diff *= (eta * h).astype(weight.dtype)[:, None]  # (U, F): each unit's step towards x
            weight += diff
            self.t += 1
            return {"learning_rate": float(eta), "sigma": float(sigma)}
        winners = grid.winners(x)  # (N,)
        # Kohonen's Voronoi form: sum the samples each unit wins, then spread those sums over the
        # neighbourhood, so memory is (U, U) + (U, F) however many samples there are.
        counts = np.bincount(winners, minlength=len(weight)).astype(weight.dtype)  # (U,)
        order = np.argsort(winners, kind="stable")
        sorted_winners = winners[order]
        starts = np.flatnonzero(np.r_[True, sorted_winners[1:] != sorted_winners[:-1]])
        sums = np.zeros_like(weight)  # (U, F)
        sums[sorted_winners[starts]] = np.add.reduceat(x[order], starts, axis=0)
        h_units = neighborhood(self.neighborhood_function, grid.positions, grid.indices,
                               np.arange(len(weight)), sigma).astype(weight.dtype)  # (U, U): row = winner
        numerator = h_units.T @ sums  # (U, F): sum_i h(c_i, u) x_i
        denominator = h_units.T @ counts  # (U,): sum_i h(c_i, u)
        moved = denominator > 0
        weight[moved] = numerator[moved] / denominator[moved, None]
        self.t += 1
        return {"sigma": float(sigma)}

    def evaluate(self, batch: Any) -> dict[str, float]:
        """The quantization error and topographic error of the batch (MiniSom's definitions)."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        return {"quantization_error": quantization_error(self.grid, x),
                "topographic_error": topographic_error(self.grid, x)}


class _OnlineOrder:
    """The online step's batches: ``X[order[i]]`` one at a time, the k-th pass over it yielding the k-th chunk.

    One epoch of the loop is one chunk of ``chunk`` samples (a pass over the data), so the
    history has a row per pass while the schedule runs over the whole order.
    """

    def __init__(self, X: np.ndarray, order: np.ndarray, chunk: int):
        self.X, self.order, self.chunk, self.passes = X, order, chunk, 0

    def __len__(self) -> int:
        start = min(self.passes * self.chunk, len(self.order))
        return min(self.chunk, len(self.order) - start)

    def __iter__(self):
        start = self.passes * self.chunk
        self.passes += 1
        for index in self.order[start:start + self.chunk]:
            yield self.X[index:index + 1]  # (1, F)


def quantization_error(grid: SOMGrid, X: np.ndarray) -> float:
    """Mean euclidean distance from each sample to its (euclidean) best-matching unit."""
    weight = grid.weight.data
    best = unit_distances(X, weight, "euclidean").argmin(axis=1)
    return float(np.linalg.norm(X - weight[best], axis=1).mean())


def topographic_error(grid: SOMGrid, X: np.ndarray) -> float:
    """Share of samples whose best and second-best units are not grid neighbours (MiniSom's definition).

    Rectangular grids: index distance above 1.42 (diagonal neighbours count);
    hexagonal: plane distance not 1. NaN for a one-unit map.
    """
    if len(grid.weight.data) == 1:
        return float("nan")
    distances = unit_distances(X, grid.weight.data, "euclidean")  # (N, U)
    best_two = np.argpartition(distances, 1, axis=1)[:, :2]  # (N, 2), unordered: the test is symmetric
    if grid.topology == "hexagonal":
        apart = np.linalg.norm(grid.positions[best_two[:, 0]] - grid.positions[best_two[:, 1]], axis=1)
        return float(1 - np.mean(np.isclose(1, apart)))
    apart = np.linalg.norm(grid.indices[best_two[:, 0]] - grid.indices[best_two[:, 1]], axis=1)
    return float(np.mean(apart > 1.42))


# ------------------------------------------------------------------ estimator
class SOM(Estimator):
    """A self-organizing map (Kohonen 1982) as a scikit-learn-style estimator.

    Parameters
    ----------
    n_rows, n_columns : int, default 10
        The grid's shape; ``n_rows * n_columns`` units.
    sigma : float, default 1.0
        The neighbourhood's starting radius (in grid steps).
    learning_rate : float, default 0.5
        The starting learning rate (online training).
    n_iterations : int, default 1000
        Online: samples presented (one update each). Batch: passes over the data.
    training : {'online', 'batch'}, default 'online'
        One sample per step with decaying learning rate and radius, or Kohonen's batch
        rule (every unit to the neighbourhood-weighted mean of the data, once per pass).
    neighborhood_function : {'gaussian', 'mexican_hat', 'bubble', 'triangle'}, default 'gaussian'
    topology : {'rectangular', 'hexagonal'}, default 'rectangular'
    activation_distance : {'euclidean', 'cosine', 'manhattan'}, default 'euclidean'
        Picks the best-matching unit (training, :meth:`winner`, :meth:`transform`,
        :meth:`predict`). The errors use the euclidean distance, as MiniSom's do.
    initialization : {'pca', 'random', 'sample'} or array, default 'pca'
        'pca': ``mean + a p1 + b p2`` with ``a`` over the rows and ``b`` over the
        columns evenly in [-1, 1] and ``p1, p2`` the unit principal directions of the
        data (MiniSom's ``pca_weights_init``, no randomness); 'random': unit-norm
        vectors of uniform(-1, 1) entries; 'sample': randomly drawn samples; an array
        of shape (n_rows, n_columns, n_features) or (n_units, n_features): a codebook
        to start from (scikit-learn's KMeans takes ``init`` the same way).
    decay_function : {'asymptotic_decay', 'inverse_decay_to_zero', 'linear_decay_to_zero'}
        The learning rate's schedule (:func:`decay`).
    sigma_decay_function : {'asymptotic_decay', 'inverse_decay_to_one', 'linear_decay_to_one'}
        The radius's schedule.
    random_order : bool, default True
        Online: present the samples shuffled (``arange(n_iterations) % N`` in a random
        order, as MiniSom's ``train_random``) or in order.
    track_errors : bool, default False
        Log the quantization and topographic errors on ``X`` after every epoch (a pass
        over the data online, one batch update otherwise) in ``history_``.
    verbose : bool, default False
        The training loop's progress bar.
    dtype : float32 (default) or float64
    random_state : int, Generator or None
        The initialisation ('random', 'sample') and the sample order (scikit-learn's
        name for the seed, as every dltoys estimator).

    Attributes
    ----------
    module_ : SOMGrid
        The codebook, ``module_.weight.data`` of shape (n_units, n_features).
    weights_ : array of shape (n_rows, n_columns, n_features)
        A view of the codebook in MiniSom's layout.
    labels_ : int array of shape (n_samples,)
        The best-matching unit (flat index) of each training sample.
    unit_labels_ : array of shape (n_units,)
        After ``fit(X, y)``: each unit's majority label (units no sample hit take the
        label of the nearest unit that was hit).
    history_ : dltoys.train.History
        Of the training loop, one row per epoch (a pass over the data): the mean
        learning rate and radius, and with ``track_errors`` ``val_quantization_error``
        and ``val_topographic_error``.
    n_features_in_ : int

    Notes
    -----
    Online training (:class:`SOMStep`): for ``t = 0 .. T - 1``, take a sample ``x``,
    find its best-matching unit ``c`` and move every unit ``u`` towards it,
    ``w_u += eta(t) h(c, u; sigma(t)) (x - w_u)``, with the neighbourhood
    :func:`neighborhood` and the decays :func:`decay`. The quantization error is the
    mean distance of the samples to their best-matching units; the topographic error
    the fraction of samples whose best and second-best units are not neighbours
    on the grid (rectangular: index distance above 1.42, so diagonal neighbours
    count; hexagonal: plane distance not 1).

    References
    ----------
    T. Kohonen (1982), Self-organized formation of topologically correct feature maps,
    Biological Cybernetics 43, 59-69. T. Kohonen (2013), Essentials of the
    self-organizing map, Neural Networks 37, 52-65 (the batch rule).
    G. Vettigli, MiniSom (https://github.com/JustGlowing/minisom).
    """

    _estimator_type = "clusterer"

    def __init__(self, n_rows: int = 10, n_columns: int = 10, *, sigma: float = 1.0, learning_rate: float = 0.5,
                 n_iterations: int = 1000, training: str = "online", neighborhood_function: str = "gaussian",
                 topology: str = "rectangular", activation_distance: str = "euclidean", initialization: str = "pca",
                 decay_function: str = "asymptotic_decay", sigma_decay_function: str = "asymptotic_decay",
                 random_order: bool = True, track_errors: bool = False, verbose: bool = False, dtype=None,
                 random_state: RngLike = None):
        self.n_rows = n_rows
        self.n_columns = n_columns
        self.sigma = sigma
        self.learning_rate = learning_rate
        self.n_iterations = n_iterations
        self.training = training
        self.neighborhood_function = neighborhood_function
        self.topology = topology
        self.activation_distance = activation_distance
        self.initialization = initialization
        self.decay_function = decay_function
        self.sigma_decay_function = sigma_decay_function
        self.random_order = random_order
        self.track_errors = track_errors
        self.verbose = verbose
        self.dtype = dtype
        self.random_state = random_state

    # ------------------------------------------------------------ fitting
    def _validate(self) -> None:
        check_int("n_rows", self.n_rows, minimum=1)
        check_int("n_columns", self.n_columns, minimum=1)
        check_float("sigma", self.sigma, low=0, low_inclusive=False)
        check_float("learning_rate", self.learning_rate, low=0, low_inclusive=False)
        check_int("n_iterations", self.n_iterations, minimum=1)
        check_choice("training", self.training, TRAININGS)
        check_choice("neighborhood_function", self.neighborhood_function, NEIGHBORHOODS)
        check_choice("topology", self.topology, TOPOLOGIES)
        check_choice("activation_distance", self.activation_distance, DISTANCES)
        if isinstance(self.initialization, str):
            check_choice("initialization", self.initialization, INITIALIZATIONS)
        check_choice("decay_function", self.decay_function, LR_DECAYS)
        check_choice("sigma_decay_function", self.sigma_decay_function, SIGMA_DECAYS)
        check_bool("random_order", self.random_order)
        check_bool("track_errors", self.track_errors)
        check_bool("verbose", self.verbose)

    def _initial_weights(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n_units = self.n_rows * self.n_columns
        if not isinstance(self.initialization, str):
            start = np.asarray(self.initialization)
            if start.shape not in ((self.n_rows, self.n_columns, X.shape[1]), (n_units, X.shape[1])):
                raise ValueError(f"initialization: expected a codebook of shape ({self.n_rows}, {self.n_columns}, "
                                 f"{X.shape[1]}) or ({n_units}, {X.shape[1]}), received {start.shape}")
            return start.reshape(n_units, X.shape[1])
        if self.initialization == "random":
            weight = rng.random((n_units, X.shape[1])) * 2 - 1
            return weight / np.linalg.norm(weight, axis=1, keepdims=True)
        if self.initialization == "sample":
            return X[rng.integers(len(X), size=n_units)]
        mean = X.mean(axis=0)  # (F,)
        if len(X) < 2:
            return np.broadcast_to(mean, (n_units, X.shape[1])).copy()
        eigenvalues, eigenvectors = np.linalg.eigh(np.atleast_2d(np.cov(X, rowvar=False)))
        order = np.argsort(eigenvalues)[::-1]
        first = eigenvectors[:, order[0]]  # (F,)
        second = eigenvectors[:, order[1]] if X.shape[1] > 1 else np.zeros_like(first)
        along_rows = np.linspace(-1, 1, self.n_rows)[:, None, None]  # (R, 1, 1)
        along_columns = np.linspace(-1, 1, self.n_columns)[None, :, None]  # (1, C, 1)
        return (mean + along_rows * first + along_columns * second).reshape(n_units, -1)

    def fit(self, X: Any, y: Any = None) -> "SOM":
        """Train the map on ``X`` of shape (N, F); with labels ``y`` (N,), also label its units.

        Returns
        -------
        self
        """
        self._validate()
        dtype = resolve_dtype(self.dtype)
        X = check_X(X, owner="SOM", dtype=dtype)
        self.n_features_in_ = X.shape[1]
        if y is not None:
            y = column_or_1d(y, len(X), warn=True)
        rng = as_rng(self.random_state)
        grid = SOMGrid(self.n_rows, self.n_columns, X.shape[1], topology=self.topology,
                       activation_distance=self.activation_distance, dtype=dtype)
        grid.weight.data[...] = self._initial_weights(X, rng)
        self.module_ = grid
        step = SOMStep(grid, sigma=self.sigma, learning_rate=self.learning_rate, t_max=self.n_iterations,
                       mode=self.training, neighborhood_function=self.neighborhood_function,
                       decay_function=self.decay_function, sigma_decay_function=self.sigma_decay_function)
        if self.training == "online":
            order = np.arange(self.n_iterations) % len(X)
            if self.random_order:
                rng.shuffle(order)
            batches: Any = _OnlineOrder(X, order, chunk=len(X))
            epochs = -(-self.n_iterations // len(X))  # one epoch per pass over the data
        else:
            batches, epochs = [X], self.n_iterations
        trainer = train.Trainer(step, epochs=epochs, progress=self.verbose, check_finite=True)
        try:
            self.history_ = trainer.fit(batches, validation=[X] if self.track_errors else None)
        except train.NonFiniteError as error:
            raise FloatingPointError(f"SOM.fit: {error}; lower learning_rate or sigma") from error
        self.labels_ = self.winner(X)
        if y is not None:
            self.unit_labels_ = self._label_units(X, y)
        return self

    def _label_units(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Majority label of the samples each unit wins; empty units take the nearest hit unit's label."""
        classes, codes = np.unique(y, return_inverse=True)
        n_units = self.n_rows * self.n_columns
        votes = np.bincount(self.labels_ * len(classes) + codes, minlength=n_units * len(classes))
        votes = votes.reshape(n_units, len(classes))  # (U, K)
        hit = votes.sum(axis=1) > 0
        weight = self.module_.weight.data
        nearest_hit = np.flatnonzero(hit)[unit_distances(weight, weight[hit], "euclidean").argmin(axis=1)]
        return classes[votes[nearest_hit].argmax(axis=1)]

    # --------------------------------------------------------- using it
    @property
    def weights_(self) -> np.ndarray:
        self._check_is_fitted("module_")
        return self.module_.weight.data.reshape(self.n_rows, self.n_columns, -1)

    def _input(self, X: Any) -> np.ndarray:
        self._check_is_fitted("module_")
        return check_X(X, owner="SOM", n_features=self.n_features_in_, dtype=self.module_.weight.data.dtype)

    def transform(self, X: Any) -> np.ndarray:
        """Distances (the activation distance) from each sample to every unit, shape (N, n_units)."""
        X = self._input(X)
        return self.module_(X)

    def winner(self, X: Any) -> np.ndarray:
        """The best-matching unit of each sample, flat indices of shape (N,); ``np.unravel_index`` gives (row, column)."""
        X = self._input(X)
        return self.module_.winners(X)

    def predict(self, X: Any) -> np.ndarray:
        """Each sample's best-matching unit (N,), or its label when the map was fitted with ``y``."""
        winners = self.winner(X)
        return self.unit_labels_[winners] if hasattr(self, "unit_labels_") else winners

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def __sklearn_tags__(self):  # scikit-learn calls this, so it may import scikit-learn
        from sklearn.utils import Tags, TargetTags, TransformerTags

        # A clusterer (predict gives the best-matching unit) and a transformer (distances to
        # the units) in the codebook's dtype; y is optional (it labels the map).
        return Tags(estimator_type="clusterer", target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=[resolve_dtype(self.dtype).name]))

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X, y).predict(X)

    def quantization(self, X: Any) -> np.ndarray:
        """The codebook vector of each sample's (euclidean) best-matching unit, shape (N, F)."""
        X = self._input(X)
        weight = self.module_.weight.data
        return weight[unit_distances(X, weight, "euclidean").argmin(axis=1)]

    def quantization_error(self, X: Any) -> float:
        """Mean euclidean distance from each sample to its best-matching unit (MiniSom's definition)."""
        X = self._input(X)
        return quantization_error(self.module_, X)

    def topographic_error(self, X: Any) -> float:
        """Fraction of samples whose two best-matching units are not grid neighbours (MiniSom's definition)."""
        X = self._input(X)
        return topographic_error(self.module_, X)

    def score(self, X: Any, y: Any = None) -> float:
        """The negative quantization error (higher is better, as scikit-learn's scores are)."""
        return -self.quantization_error(X)

    def hit_map(self, X: Any) -> np.ndarray:
        """How many samples each unit wins, shape (n_rows, n_columns)."""
        counts = np.bincount(self.winner(X), minlength=self.n_rows * self.n_columns)
        return counts.reshape(self.n_rows, self.n_columns)

    def distance_map(self) -> np.ndarray:
        """The U-matrix: each unit's summed euclidean distance to its grid neighbours, scaled to max 1.

        Shape (n_rows, n_columns). Rectangular grids count the 8 surrounding units,
        hexagonal ones the 6 (MiniSom's ``distance_map(scaling='sum')``).
        """
        self._check_is_fitted("module_")
        grid = self.module_
        weight = grid.weight.data  # (U, F)
        if self.topology == "hexagonal":
            apart = np.linalg.norm(grid.positions[:, None, :] - grid.positions[None, :, :], axis=2)
            neighbours = np.isclose(apart, 1)
        else:
            apart = np.abs(grid.indices[:, None, :] - grid.indices[None, :, :]).max(axis=2)
            neighbours = apart == 1  # (U, U)
        summed = (unit_distances(weight, weight, "euclidean") * neighbours).sum(axis=1)
        return (summed / summed.max() if summed.max() > 0 else summed).reshape(self.n_rows, self.n_columns)
