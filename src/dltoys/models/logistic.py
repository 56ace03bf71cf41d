"""Logistic regression: one linear unit, a sigmoid (a softmax for K classes), and gradient
descent on the cross-entropy, as a scikit-learn-style estimator."""

from __future__ import annotations

import numpy as np

from .. import nn
from ..utils import check_bool, check_choice, check_float, check_int
from .mlp import MLP, _NetworkClassifier


class LogisticRegression(_NetworkClassifier):
    """Logistic regression, ``p(y = 1 | x) = sigmoid(w . x + b)`` (softmax regression for K > 2 classes).

    ``fit`` builds ``module_`` = ``MLP((n_features, n_outputs))``, one ``Linear`` layer
    that starts at zero, and trains it through :func:`dltoys.train.fit` on the mean
    cross-entropy plus the L2 penalty: full-batch gradient descent by default.

    Parameters
    ----------
    penalty : {'l2', None}, default 'l2'
    C : float, default 1.0
        Inverse strength of the penalty, as scikit-learn: the objective is
        ``C sum_i L_i + ||w||^2 / 2``, i.e. ``mean_i L_i + ||w||^2 / (2 C n_samples)``,
        whose gradient adds ``w / (C n_samples)`` to that of ``w`` (not to the
        intercept's, as scikit-learn).
    fit_intercept : bool, default True
        False keeps the bias at 0.
    solver : {'sgd', 'adam'}, default 'sgd'
    learning_rate_init : float, default 0.1
    batch_size : int, 'auto' or None, default None
        None: full batch (one exact gradient step per epoch); an int: minibatch SGD.
    max_iter : int, default 100
        Epochs at most.
    tol : float or None, default 1e-4
        Stop when the loss has not fallen by ``tol`` for ``n_iter_no_change`` epochs;
        None: run ``max_iter`` epochs (scikit-learn's ``SGDClassifier`` reads it so).
    n_iter_no_change : int, default 10
    momentum : float, default 0.0
        SGD's momentum (``nesterovs_momentum`` makes it Nesterov's).
    nesterovs_momentum : bool, default False
    shuffle : bool, default True
    random_state : None, int or Generator
        The minibatch order (the weights start at zero).
    verbose : bool, default False
    warm_start : bool, default False
    beta_1, beta_2, epsilon : Adam's

    Attributes
    ----------
    classes_, n_features_in_, module_, loss_curve_, n_iter_ : as :class:`MLPClassifier`
    coef_ : ndarray of shape (1, n_features) for two classes, (n_classes, n_features) otherwise
    intercept_ : ndarray of shape (1,) or (n_classes,)

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
    ``a - y``; ``Linear.backward`` gives ``X^T (a - y) / N``. With K classes the
    softmax and ``CrossEntropyLoss`` give the same ``dL/dz = a - onehot(y)``.

    The loss is convex in ``(w, b)``. On linearly separable data, without the
    penalty (``penalty=None``), it has no minimum: it keeps falling as ``|w|``
    grows along a separating direction, and the predicted probabilities sharpen
    towards 0 and 1. On XOR's four points the minimum is ``w = 0``, ``b = 0``
    (every point gets ``a = 1/2``): no line helps.

    References
    ----------
    D. R. Cox (1958), The regression analysis of binary sequences. C. M. Bishop,
    *Pattern Recognition and Machine Learning* (2006), section 4.3.2.
    """

    early_stopping = False  # scikit-learn's LogisticRegression has no validation split

    def __init__(self, penalty="l2", *, C=1.0, fit_intercept=True, solver="sgd", learning_rate_init=0.1,
                 batch_size=None, max_iter=100, tol=1e-4, n_iter_no_change=10, momentum=0.0,
                 nesterovs_momentum=False, shuffle=True, random_state=None, verbose=False, warm_start=False,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _validate_params(self) -> None:
        self._sizes = ()
        check_choice("penalty", self.penalty, ("l2", None))
        check_float("C", self.C, low=0.0, low_inclusive=False)
        check_bool("fit_intercept", self.fit_intercept)
        check_choice("solver", self.solver, ("sgd", "adam"))
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto") and self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_float("learning_rate_init", self.learning_rate_init, low=0.0, low_inclusive=False)
        check_int("max_iter", self.max_iter, minimum=1)
        if self.tol is not None:
            check_float("tol", self.tol, low=0.0)
        check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        check_float("momentum", self.momentum, low=0.0, high=1.0)
        check_bool("nesterovs_momentum", self.nesterovs_momentum)
        check_bool("shuffle", self.shuffle)
        check_bool("verbose", self.verbose)
        check_bool("warm_start", self.warm_start)
        check_float("beta_1", self.beta_1, low=0.0, high=1.0, high_inclusive=False)
        check_float("beta_2", self.beta_2, low=0.0, high=1.0, high_inclusive=False)
        check_float("epsilon", self.epsilon, low=0.0, low_inclusive=False)

    def _build(self, n_features: int, n_outputs: int, rng: np.random.Generator) -> nn.Module:
        # the loss is convex: the start does not decide where gradient descent ends, and zeros need no seed
        module = MLP((n_features, n_outputs), rng=0)
        module[0].weight.data[...] = 0
        module[0].bias.data[...] = 0
        module[0].bias.requires_grad = self.fit_intercept
        return module

    def _penalty(self, batch_size: int, n_samples: int) -> float:
        """``C sum_i L_i + ||w||^2 / 2`` over ``C n_samples``: the mean loss plus ``||w||^2 / (2 C n_samples)``."""
        return 0.0 if self.penalty is None else 1.0 / (self.C * n_samples)

    @property
    def coef_(self) -> np.ndarray:
        """The weights, shape (1, n_features) for two classes, (n_classes, n_features) otherwise."""
        self._check_is_fitted()
        return self.module_[0].weight.data

    @property
    def intercept_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_[0].bias.data
