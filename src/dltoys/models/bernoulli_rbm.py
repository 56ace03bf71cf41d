"""scikit-learn's ``BernoulliRBM`` on dltoys's RBM: fit, partial_fit, transform, gibbs, score_samples.

The model, its contrastive-divergence formula and its training step live in
:mod:`dltoys.models.rbm`; this file is the estimator around them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import optim, train
from ..data import Minibatches
from ..utils import check_bool, check_float, check_int
from .base import Estimator, check_random_state, check_X

#: Enumeration limit of the exact log partition function: 2**20 states of the smaller layer.
from .rbm import RBM, CDStep


class OutOfRangeWarning(UserWarning):
    """An RBM received visible values outside [0, 1]."""


class _PrintPseudoLikelihood(train.Callback):
    """scikit-learn's verbose line after every pass."""

    def __init__(self, estimator: "BernoulliRBM", X: np.ndarray):
        self.estimator, self.X = estimator, X

    def on_epoch_end(self, trainer, epoch, logs):
        print(f"[BernoulliRBM] Iteration {epoch}, pseudo-likelihood = "
              f"{self.estimator.score_samples(self.X).mean():.2f}, time = {logs['time']:.2f}s")


class BernoulliRBM(Estimator):
    """scikit-learn's ``BernoulliRBM``: an RBM trained by PCD (or CD-k) with minibatch SGD; a transformer.

    Parameters
    ----------
    n_components : int, default 256
        Hidden units.
    learning_rate : float, default 0.1
        SGD's step; the gradient is the mean over the minibatch (scikit-learn's
        ``learning_rate / batch_size`` times the summed statistics).
    batch_size : int, default 10
    n_iter : int, default 10
        Passes over the training set.
    verbose : int, default 0
        Print the mean pseudo-likelihood after every pass.
    random_state : None, int or Generator
        The initial weights, the order of the rows (shuffled every pass), every Gibbs
        sample, and the flips of :meth:`score_samples`.
    k : int, default 1
        Gibbs steps per update (dltoys's addition).
    persistent : bool, default True
        PCD (Tieleman 2008), scikit-learn's algorithm; False gives CD-k (Hinton 2002).
    momentum, weight_decay : float, default 0
        Passed to :class:`dltoys.optim.SGD` (Hinton's guide suggests 0.5-0.9 and 1e-4).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``W``. ``intercept_hidden_`` (n_components,) and ``intercept_visible_``
        (n_features,) are ``c`` and ``b``. All three are the arrays ``module_``
        trains, in the dtype of the training data (float32 stays float32).
    module_ : RBM
    h_samples_ : ndarray of shape (batch_size, n_components)
        The persistent chain's hidden states (PCD).
    n_features_in_ : int

    Notes
    -----
    Inputs are probabilities in [0, 1] (grey levels are used as they are in the
    positive phase, as scikit-learn does). The update is :meth:`RBM.contrastive_divergence`
    fed to an ordinary optimizer by :class:`CDStep`; see :class:`RBM` for the maths.
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10, verbose=0,
                 random_state=None, k=1, persistent=True, momentum=0.0, weight_decay=0.0):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay

    def _validate_params(self) -> None:
        check_int("n_components", self.n_components, minimum=1)
        check_float("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("n_iter", self.n_iter, minimum=0)
        check_int("verbose", int(self.verbose) if isinstance(self.verbose, bool) else self.verbose, minimum=0)
        check_int("k", self.k, minimum=1)
        check_bool("persistent", self.persistent)
        check_float("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_float("weight_decay", self.weight_decay, low=0.0)

    def _check_input(self, X: Any, *, reset: bool) -> np.ndarray:
        owner = type(self).__name__
        raw = np.asarray(X) if not hasattr(X, "tocsr") else X
        dtype = raw.dtype if getattr(raw, "dtype", None) in (np.float32, np.float64) else np.float64
        if not reset:
            self._check_is_fitted()
            dtype = self.module_.dtype
        X = check_X(X, owner=owner, n_features=None if reset else self.n_features_in_, dtype=dtype)
        if X.min() < 0 or X.max() > 1:
            # scikit-learn accepts them silently; refusing them would break its estimator checks' data
            warnings.warn(f"{owner}: X holds values in [{X.min():g}, {X.max():g}]; an RBM's visible units are "
                          "probabilities in [0, 1], so these are used as they are but mean little (scale the "
                          "data, e.g. X / X.max())", OutOfRangeWarning, stacklevel=3)
        return X

    def _start(self, X: np.ndarray) -> None:
        self.random_state_ = check_random_state(self.random_state)
        self.module_ = RBM(X.shape[1], self.n_components, dtype=X.dtype, rng=self.random_state_)
        self.n_features_in_ = X.shape[1]
        self.optimizer_ = optim.SGD(self.module_.parameters(), lr=self.learning_rate, momentum=self.momentum,
                                    weight_decay=self.weight_decay)
        self.step_ = CDStep(self.module_, self.optimizer_, k=self.k, persistent=self.persistent,
                            n_particles=self.batch_size, rng=self.random_state_)
        if self.persistent:
            self.step_.chain = np.zeros((self.batch_size, self.n_components), dtype=X.dtype)

    def fit(self, X: Any, y: Any = None) -> "BernoulliRBM":
        """Train on ``X`` of shape (n_samples, n_features), values in [0, 1], for ``n_iter`` passes."""
        self._validate_params()
        X = self._check_input(X, reset=True)
        self._start(X)
        if self.n_iter == 0:
            return self
        batches = Minibatches(X, batch_size=self.batch_size, shuffle=True, rng=self.random_state_)
        callbacks = [_PrintPseudoLikelihood(self, X)] if self.verbose else []
        self.history_ = train.Trainer(self.step_, callbacks=callbacks, epochs=self.n_iter, progress=False).fit(batches)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> "BernoulliRBM":
        """One update on ``X`` as a single minibatch (scikit-learn's semantics); builds the model on the first call."""
        first = not hasattr(self, "module_")
        if first:
            self._validate_params()
        X = self._check_input(X, reset=first)
        if first:
            self._start(X)
        self.step_((X,))
        return self

    @property
    def components_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_.weight.data

    @property
    def intercept_hidden_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_.hidden_bias.data

    @property
    def intercept_visible_(self) -> np.ndarray:
        self._check_is_fitted()
        return self.module_.visible_bias.data

    @property
    def h_samples_(self) -> np.ndarray | None:
        self._check_is_fitted()
        return self.step_.chain

    def transform(self, X: Any) -> np.ndarray:
        """``p(h = 1 | v)``: the hidden units' probabilities, shape (n_samples, n_components)."""
        return self.module_.hidden_probs(self._check_input(X, reset=False))

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X).transform(X)

    def gibbs(self, v: Any) -> np.ndarray:
        """One Gibbs step from ``v`` (n_samples, n_features); returns the sampled visible states."""
        return self.module_.gibbs(self._check_input(v, reset=False), self.random_state_)

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn's pseudo-likelihood of each row, shape (n_samples,) (see :meth:`RBM.pseudo_likelihood`).

        The flipped units come from a generator seeded afresh from ``random_state``,
        as in scikit-learn: an int ``random_state`` gives the same scores at every call.
        """
        return self.module_.pseudo_likelihood(self._check_input(X, reset=False), check_random_state(self.random_state))

    def free_energy(self, X: Any) -> np.ndarray:
        """``F(v)`` of each row, shape (n_samples,)."""
        return self.module_.free_energy(self._check_input(X, reset=False))

    def log_partition(self) -> float:
        """The exact ``log Z`` (the smaller layer must have at most 20 units)."""
        self._check_is_fitted()
        return self.module_.log_partition()

    def log_likelihood(self, X: Any) -> np.ndarray:
        """The exact ``log p(v)`` of each row, shape (n_samples,) (at most 20 units in the smaller layer)."""
        return self.module_.log_likelihood(self._check_input(X, reset=False))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_is_fitted()
        return np.array([f"bernoullirbm{i}" for i in range(self.n_components)], dtype=object)

    def __sklearn_tags__(self):
        """A transformer that keeps float32 and float64 (read by scikit-learn only, which imports itself here)."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        return tags
