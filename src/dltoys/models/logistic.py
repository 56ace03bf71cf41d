"""Logistic regression: one linear unit, a sigmoid, and gradient descent on the cross-entropy."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .. import nn, optim, train
from ..nn.functional import sigmoid
from ..utils import RngLike, check_binary_labels, check_features, check_float, check_int, resolve_dtype


class LogisticRegression(nn.Module):
    """Binary logistic regression, ``p(y = 1 | x) = sigmoid(w . x + b)``.

    A :class:`dltoys.nn.Module` holding one ``Linear(n_features, 1)``: ``forward``
    returns the logit ``z`` (shape ``(N, 1)``), so that it trains with
    ``BCEWithLogitsLoss`` like any other network; :meth:`fit` does exactly that,
    through :func:`dltoys.train.fit` and :class:`dltoys.optim.SGD`.

    Parameters
    ----------
    n_features : int
    dtype : float32 (default) or float64

    Attributes
    ----------
    linear : Linear
        ``linear.weight`` of shape (1, n_features), ``linear.bias`` of shape (1,);
        both start at zero (the loss is convex, so the start does not decide where
        gradient descent ends, and zeros need no seed). State-dict keys
        ``linear.weight`` and ``linear.bias``.
    history : History or None
        Of the last :meth:`fit`, including one that stopped with an error.

    Notes
    -----
    For one sample with features ``x``, label ``y`` in {0, 1}, logit
    ``z = w . x + b`` and ``a = sigmoid(z) = 1 / (1 + exp(-z))``, the binary
    cross-entropy is

        L = -y log a - (1 - y) log(1 - a).

    The sigmoid's derivative is ``da/dz = a (1 - a)`` (from
    ``a = (1 + e^-z)^-1``: ``da/dz = e^-z / (1 + e^-z)^2 = a (1 - a)``), and
    ``dL/da = -y / a + (1 - y) / (1 - a)``. By the chain rule

        dL/dz = dL/da * da/dz = -y (1 - a) + (1 - y) a = a - y.

    The product cancels the ``a (1 - a)`` that makes a sigmoid saturate: the
    gradient is just the error, large when the model is confidently wrong
    (with a squared error it would be ``(a - y) a (1 - a)``, nearly zero there).
    Then ``dL/dw = (a - y) x`` and ``dL/db = a - y``; over a batch of ``N``
    rows (the mean loss)

        dL/dw = X^T (a - y) / N,        dL/db = mean(a - y).

    A gradient-descent step is ``w <- w - lr dL/dw``. ``BCEWithLogitsLoss``
    computes ``L`` from ``z`` directly (``L = (1 - y) z + softplus(-z)``), which
    never takes the log of a rounded-to-zero probability, and its backward is
    ``a - y``; ``Linear.backward`` gives ``X^T (a - y) / N``.

    The loss is convex in ``(w, b)``. On linearly separable data it has no
    minimum: it keeps falling as ``|w|`` grows along a separating direction,
    and the predicted probabilities sharpen towards 0 and 1. On XOR's four points
    the minimum is ``w = 0``, ``b = 0`` (every point gets ``a = 1/2``): no line
    helps.

    References
    ----------
    D. R. Cox (1958), The regression analysis of binary sequences. C. M. Bishop,
    *Pattern Recognition and Machine Learning* (2006), section 4.3.2.
    """

    def __init__(self, n_features: int, dtype=None):
        super().__init__()
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.dtype = resolve_dtype(dtype)
        self.linear = nn.Linear(self.n_features, 1, dtype=self.dtype, rng=0)
        self.linear.weight.data[...] = 0
        self.linear.bias.data[...] = 0
        self.history: train.History | None = None

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits ``z = x w^T + b`` of shape (N, 1) for ``x`` of shape (N, n_features)."""
        return self.linear(x)  # (N, 1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``dL/dx`` of shape (N, n_features); adds ``dL/dw``, ``dL/db`` into the grads."""
        return self.linear.backward(grad_out)

    # ------------------------------------------------------------ predicting
    def _features(self, X: Any) -> np.ndarray:
        return check_features(f"LogisticRegression(n_features={self.n_features})", X, self.n_features)

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits ``w . x + b``, shape (N,)."""
        return train.predict(self, self._features(X), batch_size=None)[:, 0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """``p(y = 1 | x) = sigmoid(w . x + b)``, shape (N,)."""
        return sigmoid(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels (``p > 1/2``, i.e. a positive logit), shape (N,), int64."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` against 0/1 labels ``y`` of shape (N,)."""
        logits = self.decision_function(X)  # (N,), X checked there
        return float(np.mean((logits > 0) == check_binary_labels(y, len(logits))))

    # -------------------------------------------------------------- training
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        lr: float = 0.1,
        epochs: int = 100,
        batch_size: int | None = None,
        momentum: float = 0.0,
        validation_data: tuple | None = None,
        callbacks: Iterable[train.Callback] = (),
        rng: RngLike = None,
        progress: bool | None = False,
    ) -> train.History:
        """Gradient descent on the mean binary cross-entropy, from the current weights.

        Parameters
        ----------
        X : array of shape (N, n_features)
        y : array of shape (N,) with labels 0 and 1
        lr : float, default 0.1
            SGD's step.
        epochs : int, default 100
            Passes over the data (one step each for full batch).
        batch_size : int or None, default None
            None: full-batch gradient descent (one exact gradient per epoch);
            an int: minibatch SGD, shuffled every epoch from ``rng``.
        momentum : float, default 0
        validation_data : (X_val, y_val), optional
            Logged per epoch as ``val_loss`` and ``val_accuracy``.
        callbacks : Callbacks of :mod:`dltoys.train`, e.g. ``StopAtTarget``
        rng : int, Generator or None
            The minibatch order (unused for full batch).
        progress : bool or None, default False

        Returns
        -------
        History
            ``loss`` (the mean BCE) and ``accuracy`` per epoch, on the training
            batches before each step.

        Also stored as ``self.history``, which keeps the epochs run before an error.

        Raises
        ------
        dltoys.train.NonFiniteLossError
            If the loss overflows (a learning rate far too large); the weights are
            those before the step that failed, ``self.history`` the epochs before it.
        """
        X = self._features(X)
        target = check_binary_labels(y, len(X)).astype(self.dtype)[:, None]  # (N, 1)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data: expected a pair (X_val, y_val)")
            X_val = self._features(validation_data[0])
            validation_data = (X_val, check_binary_labels(validation_data[1], len(X_val)).astype(self.dtype)[:, None])
        lr = check_float("lr", lr, low=0.0, low_inclusive=False)
        try:
            self.history = train.fit(
                self, nn.BCEWithLogitsLoss(), optim.SGD(self.parameters(), lr=lr, momentum=momentum), X, target,
                validation_data=validation_data, metrics={"accuracy": train.binary_accuracy_logits},
                callbacks=callbacks, rng=rng, epochs=epochs, batch_size=batch_size,
                shuffle=batch_size is not None, progress=progress,
            )
        except train.NonFiniteError as exc:
            self.history = exc.history  # the epochs before the error
            raise
        return self.history
