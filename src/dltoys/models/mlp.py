"""The multilayer perceptron: Linear layers with a nonlinearity between them (the :class:`MLP`
Module), and the estimators around it, :class:`MLPClassifier` and :class:`MLPRegressor`."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Iterable, Sequence

import numpy as np

from .. import nn, optim, train
from ..utils import RngLike, as_rng, check_bool, check_choice, check_float, check_int, resolve_dtype
from .base import (
    ClassifierMixin, ConvergenceWarning, Estimator, _sklearn_compatible, RegressorMixin, check_classification_targets, check_random_state,
    check_regression_targets, check_X, column_or_1d,
)

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
}
OUTPUTS = ("linear", "sigmoid", "softmax")


class MLP(nn.Sequential):
    """A fully connected network of any depth and width.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_inputs, hidden_1, ..., hidden_k, n_outputs)``, at least two entries;
        ``(2, 10, 1)`` is the classic XOR network.
    activation : {'tanh', 'sigmoid', 'relu', 'leaky_relu', 'linear'}, default 'tanh'
        The nonlinearity after every hidden layer. ``'linear'`` makes the whole
        network one affine map, however deep: ``W_k (... (W_1 x + b_1) ...) + b_k
        = W x + b``.
    output : {'linear', 'sigmoid', 'softmax'}, default 'linear'
        What follows the last layer. Keep 'linear' (logits) for training with
        ``BCEWithLogitsLoss`` or ``CrossEntropyLoss``, which fuse the squashing into
        a stable loss; 'sigmoid'/'softmax' give probabilities (``BCELoss``, display).
    dropout : float in [0, 1), default 0
        Dropout after every hidden activation.
    batch_norm : bool, default False
        ``BatchNorm1d`` after every hidden Linear, before the activation.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws every layer's initial weights (PyTorch's default initialisation) and
        the dropout masks.

    Notes
    -----
    Layer ``l`` computes ``a_l = f(z_l)``, ``z_l = a_{l-1} W_l^T + b_l``.
    Backpropagation applies the chain rule from the output back:
    ``dL/dz_l = dL/da_l * f'(z_l)``, ``dL/dW_l = (dL/dz_l)^T a_{l-1}``,
    ``dL/da_{l-1} = dL/dz_l W_l``; each layer's ``backward`` is one of these steps.
    The state-dict keys equal those of the same ``torch.nn.Sequential``
    (``'0.weight'``, ``'2.weight'``, ...).

    References
    ----------
    Rumelhart, Hinton & Williams (1986), Learning representations by
    back-propagating errors.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        output: str = "linear",
        dropout: float = 0.0,
        batch_norm: bool = False,
        dtype=None,
        rng: RngLike = None,
    ):
        if isinstance(layer_sizes, numbers.Number) or not isinstance(layer_sizes, Iterable):
            raise TypeError(
                f"layer_sizes: expected a sequence of layer widths (n_inputs, hidden..., n_outputs) such as "
                f"(2, 10, 1), received {layer_sizes!r}"
            )
        sizes = list(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else []
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes: expected at least (n_inputs, n_outputs), received {layer_sizes!r}")
        sizes = [check_int(f"layer_sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_choice("output", output, OUTPUTS)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        batch_norm = check_bool("batch_norm", batch_norm)
        dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        layers: list[nn.Module] = []
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, dtype=dtype, rng=rng))
            if index == len(sizes) - 2:
                break
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=rng))
        if output == "sigmoid":
            layers.append(nn.Sigmoid())
        elif output == "softmax":
            layers.append(nn.Softmax(dim=-1))
        super().__init__(*layers)
        self.layer_sizes = tuple(sizes)
        self.activation = activation
        self.output = output
        self.dtype = dtype

    def extra_repr(self) -> str:
        return f"layer_sizes={self.layer_sizes}, activation={self.activation!r}, output={self.output!r}"


# ---------------------------------------------------------------- estimators
#: scikit-learn's activation names -> the names of :class:`MLP`
SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


def _r2(output: np.ndarray, target: np.ndarray) -> float:
    """R^2 of a batch (the validation score of a regressor's early stopping)."""
    target = target.reshape(output.shape)
    total = float(((target - target.mean(axis=0)) ** 2).sum())
    return 1.0 - float(((target - output) ** 2).sum()) / total if total > 0 else 0.0


class _LossCurve(train.Callback):
    """Appends each epoch's training loss to an estimator's ``loss_curve_`` as the epoch ends."""

    def __init__(self, curve: list):
        self.curve = curve

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.curve.append(float(logs["loss"]))


class _L2Penalty(train.Callback):
    """The gradient of ``strength/2 ||W||^2`` over every Linear weight (not the biases, as scikit-learn),
    added to ``.grad`` right before each update: ``dW += strength * W``."""

    def __init__(self, module: nn.Module, strength: float):
        self.weights = [layer.weight for layer in module.modules() if isinstance(layer, nn.Linear)]
        self.strength = strength

    def on_before_step(self, trainer) -> None:
        for weight in self.weights:
            weight.grad += self.strength * weight.data


class _NetworkEstimator(Estimator):
    """Training of an estimator's ``module_`` through :func:`dltoys.train.fit`.

    A subclass says what network and loss it trains (``_build``, ``_loss``), how targets
    become the loss's input (``_encode_targets``) and its validation metric; the rest
    (checks, optimizer, stopping, ``partial_fit``, learned attributes) is shared.
    """

    _hidden: tuple = ()

    # --------------------------------------------------------- the parameters
    def _validate_params(self) -> None:
        sizes = self._hidden_layer_sizes()
        self._sizes = tuple(check_int(f"hidden_layer_sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes))
        check_choice("activation", getattr(self, "activation", "identity"), tuple(SKLEARN_ACTIVATIONS))
        check_choice("solver", self.solver, ("sgd", "adam"))
        check_float("alpha", self.alpha, low=0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if self.batch_size is not None:
                check_int("batch_size", self.batch_size, minimum=1)
        check_float("learning_rate_init", self.learning_rate_init, low=0.0, low_inclusive=False)
        check_int("max_iter", self.max_iter, minimum=1)
        check_bool("shuffle", self.shuffle)
        check_float("tol", self.tol, low=0.0)
        check_float("momentum", self.momentum, low=0.0, high=1.0)
        check_bool("nesterovs_momentum", self.nesterovs_momentum)
        check_bool("early_stopping", self.early_stopping)
        check_float("validation_fraction", self.validation_fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_float("beta_1", self.beta_1, low=0.0, high=1.0, high_inclusive=False)
        check_float("beta_2", self.beta_2, low=0.0, high=1.0, high_inclusive=False)
        check_float("epsilon", self.epsilon, low=0.0, low_inclusive=False)
        check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        check_bool("warm_start", self.warm_start)
        check_bool("verbose", self.verbose)

    def _hidden_layer_sizes(self) -> tuple:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            return (sizes,)
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(f"hidden_layer_sizes: expected an int or a sequence of ints, received {sizes!r}")
        return tuple(sizes)

    def _batch_size(self, n_samples: int) -> int:
        if isinstance(self.batch_size, str):
            return min(200, n_samples)  # 'auto', as scikit-learn
        return n_samples if self.batch_size is None else min(self.batch_size, n_samples)

    # ------------------------------------------------------------ the network
    def _build(self, n_features: int, n_outputs: int, rng: np.random.Generator) -> nn.Module:
        activation = SKLEARN_ACTIVATIONS[getattr(self, "activation", "identity")]
        return MLP((n_features, *self._sizes, n_outputs), activation=activation, rng=rng)

    def _optimizer(self, module: nn.Module) -> optim.Optimizer:
        if self.solver == "adam":
            return optim.Adam(module.parameters(), lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                              eps=self.epsilon)
        return optim.SGD(module.parameters(), lr=self.learning_rate_init, momentum=self.momentum,
                         nesterov=self.nesterovs_momentum and self.momentum > 0)

    def _penalty(self, batch_size: int, n_samples: int) -> float:
        """The L2 strength ``s`` of ``s/2 ||W||^2`` added to the mean loss of a batch: scikit-learn's
        ``alpha/2 ||W||^2`` per batch of ``B`` rows is ``s = alpha / B``."""
        return self.alpha / batch_size

    # --------------------------------------------------------------- training
    def fit(self, X: Any, y: Any) -> "_NetworkEstimator":
        """Train a fresh network (or continue the fitted one, with ``warm_start=True``) on ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) (or (n_samples, n_outputs) for a regressor)

        Returns
        -------
        self
        """
        self._validate_params()
        return self._fit(X, y, incremental=self.warm_start and hasattr(self, "module_"), epochs=self.max_iter)

    def _fit(self, X, y, *, incremental: bool, epochs: int, classes=None):
        owner = type(self).__name__
        X = check_X(X, owner=owner, n_features=self.n_features_in_ if incremental else None, dtype=np.float32)
        target = self._encode_targets(y, len(X), incremental=incremental, classes=classes)
        rng = self._rng if incremental else check_random_state(self.random_state)
        if not incremental:
            self.n_features_in_ = X.shape[1]
            self.module_ = self._build(X.shape[1], self._n_outputs, rng)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = None
            self.best_loss_ = None
        if not incremental or getattr(self, "_optimizer_", None) is None:
            self._optimizer_ = self._optimizer(self.module_)
        self._rng = rng
        validation_data, callbacks = None, []
        if self.early_stopping and epochs > 1:
            n_val = max(1, int(round(self.validation_fraction * len(X))))
            if len(X) - n_val < 1:
                raise ValueError(f"{owner}: validation_fraction={self.validation_fraction} leaves no training sample "
                                 f"of {len(X)}")
            order = rng.permutation(len(X))
            validation_data = (X[order[:n_val]], target[order[:n_val]])
            X, target = X[order[n_val:]], target[order[n_val:]]
            callbacks.append(train.EarlyStopping(f"val_{self._metric_name}", patience=self.n_iter_no_change,
                                                 min_delta=self.tol, mode="max", restore_best_weights=True))
        elif epochs > 1 and self.tol is not None:
            callbacks.append(train.EarlyStopping("loss", patience=self.n_iter_no_change, min_delta=self.tol,
                                                 mode="min", restore_best_weights=False))
        curve = _LossCurve(self.loss_curve_)  # kept up to date, so an error mid-run leaves the epochs before it
        strength = self._penalty(self._batch_size(len(X)), len(X))  # the rows it trains on
        if strength > 0:
            callbacks.append(_L2Penalty(self.module_, strength))
        history = train.fit(
            self.module_, self._loss(), self._optimizer_, X, target, validation_data=validation_data,
            metrics={self._metric_name: self._metric}, callbacks=[*callbacks, curve], rng=rng, epochs=epochs,
            batch_size=self._batch_size(len(X)), shuffle=self.shuffle and self._batch_size(len(X)) < len(X),
            progress=self.verbose,
        )
        self.n_iter_ += len(history)
        self.t_ += len(history) * len(X)
        self.best_loss_ = min(self.loss_curve_)
        if validation_data is not None:
            self.validation_scores_ = [*self.validation_scores_, *history[f"val_{self._metric_name}"]]
            self.best_validation_score_ = max(self.validation_scores_)
        if epochs > 1 and self.tol is not None and history.stop_reason is None:
            warnings.warn(f"{owner}: stopped at max_iter={self.max_iter} epochs before the loss converged "
                          f"(tol={self.tol}, n_iter_no_change={self.n_iter_no_change})",
                          _sklearn_compatible(ConvergenceWarning), stacklevel=3)
        return self

    def _forward(self, X: Any) -> np.ndarray:
        """The network's output (logits or predictions), shape (n_samples, n_outputs)."""
        self._check_is_fitted()
        X = check_X(X, owner=type(self).__name__, n_features=self.n_features_in_, dtype=np.float32)
        return train.predict(self.module_, X, batch_size=None)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each Linear layer's weight, transposed to scikit-learn's (n_in, n_out) layout."""
        self._check_is_fitted()
        return [layer.weight.data.T for layer in self.module_ if isinstance(layer, nn.Linear)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        self._check_is_fitted()
        return [layer.bias.data for layer in self.module_ if isinstance(layer, nn.Linear)]


class _NetworkClassifier(ClassifierMixin, _NetworkEstimator):
    """Classes -> one logistic output (two classes) or a softmax over K outputs."""

    _metric_name = "accuracy"

    def _encode_targets(self, y, n_samples, *, incremental, classes=None):
        y = column_or_1d(y, n_samples, warn=True)
        check_classification_targets(y)
        if not incremental:
            self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(self.classes_) < 2 and classes is None:
                raise ValueError(f"{type(self).__name__}: y has only one class ({self.classes_[0]}); "
                                 "a classifier needs at least 2 classes")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"y: labels {np.unique(y[unknown])[:5].tolist()} are not among the classes "
                             f"{self.classes_.tolist()}")
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) <= 2:
            self._n_outputs = 1
            self._loss, self._metric = nn.BCEWithLogitsLoss, train.binary_accuracy_logits
            return index.astype(np.float32)[:, None]  # (N, 1) 0/1
        self._n_outputs = len(self.classes_)
        self._loss, self._metric = nn.CrossEntropyLoss, train.accuracy
        return index

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "_NetworkClassifier":
        """One epoch over ``X``, ``y``; ``classes`` (every label) is required on the first call."""
        first = not hasattr(self, "module_")
        if first and classes is None:
            raise ValueError(f"{type(self).__name__}.partial_fit: classes must be passed on the first call")
        if first:
            self._validate_params()
        return self._fit(X, y, incremental=not first, epochs=1, classes=classes)

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        logits = self._forward(X)
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        logits = self._forward(X).astype(np.float64)
        if logits.shape[1] == 1:
            positive = nn.functional.sigmoid(logits[:, 0])
            return np.column_stack([1 - positive, positive])
        return nn.functional.softmax(logits, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape (n_samples,), in ``classes_``'s dtype."""
        logits = self._forward(X)
        index = (logits[:, 0] > 0).astype(np.int64) if logits.shape[1] == 1 else logits.argmax(axis=1)
        return self.classes_[index]


class MLPClassifier(_NetworkClassifier):
    """A multilayer perceptron classifier with scikit-learn's interface.

    ``fit`` builds ``module_`` = :class:`MLP` ``(n_features, *hidden_layer_sizes, n_outputs)``
    and trains it with :func:`dltoys.train.fit`: cross-entropy on a softmax over the
    classes, or the binary cross-entropy of one logistic output for two classes.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default 'relu'
    solver : {'adam', 'sgd'}, default 'adam'
    alpha : float, default 1e-4
        L2 penalty on the weights (not the biases), as scikit-learn: ``alpha/2 ||W||^2`` per
        batch, i.e. ``(alpha / batch_size) W`` added to the mean loss's gradient of ``W``.
    batch_size : int, 'auto' or None, default 'auto'
        'auto' is ``min(200, n_samples)``; None the whole set.
    learning_rate_init : float, default 1e-3
    max_iter : int, default 200
        Epochs at most.
    shuffle : bool, default True
    random_state : None, int or Generator
        The initial weights, the shuffles and the validation split.
    tol : float, default 1e-4
        Training stops when the loss (or, with ``early_stopping``, the validation
        accuracy) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    verbose : bool, default False
        The loop's progress bar.
    warm_start : bool, default False
        ``fit`` continues from the fitted network.
    momentum : float, default 0.9
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data; keep the weights of the best
        validation accuracy.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : Adam's
    n_iter_no_change : int, default 10

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    module_ : MLP
        The trained network (float32), outputs logits.
    coefs_, intercepts_ : lists of arrays, scikit-learn's layout
    loss_curve_ : list of float
        The training loss of every epoch (without the penalty).
    n_iter_ : int
        Epochs run. ``t_``: samples seen.
    validation_scores_, best_validation_score_ : with ``early_stopping``
    best_loss_ : float

    References
    ----------
    Rumelhart, Hinton & Williams (1986). scikit-learn's ``MLPClassifier``.
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4, batch_size="auto",
                 learning_rate_init=1e-3, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change


class MLPRegressor(RegressorMixin, _NetworkEstimator):
    """A multilayer perceptron regressor with scikit-learn's interface.

    ``module_`` = :class:`MLP` ``(n_features, *hidden_layer_sizes, n_outputs)`` with a
    linear output, trained on the mean squared error by :func:`dltoys.train.fit`.
    The parameters and attributes are :class:`MLPClassifier`'s (early stopping
    monitors the validation R^2), without ``classes_``.
    """

    _metric_name = "r2"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n_samples, n_outputs): one output unit each
        tags.target_tags.single_output = True
        return tags

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=1e-4, batch_size="auto",
                 learning_rate_init=1e-3, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10):
        MLPClassifier.__init__(**{k: v for k, v in locals().items() if k != "__class__"})

    def _encode_targets(self, y, n_samples, *, incremental, classes=None):
        y = check_regression_targets(y, n_samples)
        self._y_was_1d = y.ndim == 1
        target = y.reshape(n_samples, -1).astype(np.float32)  # (N, n_outputs)
        if incremental and target.shape[1] != self._n_outputs:
            raise ValueError(f"y: expected {self._n_outputs} output(s) as in the first fit, received {target.shape[1]}")
        self._n_outputs = target.shape[1]
        self._loss, self._metric = nn.MSELoss, _r2
        return target

    def partial_fit(self, X: Any, y: Any) -> "MLPRegressor":
        """One epoch over ``X``, ``y`` (the first call builds the network)."""
        first = not hasattr(self, "module_")
        if first:
            self._validate_params()
        return self._fit(X, y, incremental=not first, epochs=1)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shape (n_samples,) for a 1-D ``y``, else (n_samples, n_outputs); float64."""
        output = self._forward(X).astype(np.float64)
        return output[:, 0] if self._y_was_1d else output
