"""The deep belief network: a stack of RBMs trained greedily, then unrolled into an MLP and fine-tuned."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import nn, optim, train
from ..data import Minibatches
from ..nn import functional as F
from ..utils import check_bool, check_choice, check_float, check_int
from .base import ClassifierMixin, Estimator, check_classification_targets, check_random_state, check_X, column_or_1d
from .mlp import MLP
from .bernoulli_rbm import OutOfRangeWarning
from .rbm import RBM, CDStep


class DBN(ClassifierMixin, Estimator):
    r"""A deep belief network classifier (Hinton, Osindero & Teh 2006): RBM pretraining, then backpropagation.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (256, 128)
        One RBM per hidden layer.
    rbm_learning_rate : float, default 0.05
        SGD step of every RBM.
    rbm_n_iter : int, default 10
        Passes of each RBM over the (unlabelled) training rows.
    rbm_batch_size : int, default 10
    k : int, default 1
        Gibbs steps of contrastive divergence.
    persistent : bool, default True
        PCD (True) or CD-k.
    pretrain : bool, default True
        False skips the RBMs: the same MLP from PyTorch's default random
        initialisation (what pretraining is compared with).
    solver : {'sgd', 'adam'}, default 'sgd'
        The fine-tuning optimizer: SGD with momentum (the papers' choice) or Adam.
    learning_rate : float, default 0.05
        The fine-tuning step.
    momentum : float, default 0.9
        SGD's momentum (ignored by Adam).
    alpha : float, default 1e-4
        L2 penalty while fine-tuning (the optimizer's ``weight_decay``).
    max_iter : int, default 100
        Fine-tuning epochs.
    batch_size : int, default 32
        Fine-tuning minibatch size.
    random_state : None, int or Generator
        Every weight, Gibbs sample and shuffle.

    Attributes
    ----------
    rbms_ : list of RBM
        The pretrained layers (empty without pretraining).
    module_ : MLP
        ``(n_features, *hidden_layer_sizes, n_classes)`` with sigmoid hidden units;
        hidden layer ``l`` starts from RBM ``l``: ``weight = W_l``, ``bias = c_l``
        (the RBM's hidden bias; the visible biases only served the RBM).
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    history_ : History
        Of the fine-tuning.
    n_iter_ : int
        Fine-tuning epochs run.

    Notes
    -----
    Greedy layer-wise pretraining: RBM 1 models the data ``v``; RBM ``l + 1``
    models ``p(h_l = 1 | h_{l-1})``, the previous layer's mean activations on the
    training rows. Each added layer improves a variational lower bound on the
    data's log-likelihood (Hinton et al. 2006). The RBM's ``p(h = 1 | v) =
    sigmoid(W v + c)`` is exactly a sigmoid ``Linear`` layer, so the stack unrolls
    into a feed-forward network; a softmax layer on top is trained with the rest
    by backpropagation on the labels (Hinton & Salakhutdinov 2006).

    Inputs are probabilities in [0, 1] (scale pixels to that range).

    References
    ----------
    Hinton, Osindero & Teh (2006), A fast learning algorithm for deep belief nets.
    Hinton & Salakhutdinov (2006), Reducing the dimensionality of data with neural networks.
    """

    def __init__(self, hidden_layer_sizes=(256, 128), *, rbm_learning_rate=0.05, rbm_n_iter=10, rbm_batch_size=10,
                 k=1, persistent=True, pretrain=True, solver="sgd", learning_rate=0.05, momentum=0.9, alpha=1e-4,
                 max_iter=100, batch_size=32, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.rbm_learning_rate = rbm_learning_rate
        self.rbm_n_iter = rbm_n_iter
        self.rbm_batch_size = rbm_batch_size
        self.k = k
        self.persistent = persistent
        self.pretrain = pretrain
        self.solver = solver
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.alpha = alpha
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.random_state = random_state

    def _validate_params(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if not isinstance(sizes, (tuple, list)) or not sizes:
            raise ValueError(f"hidden_layer_sizes: expected a non-empty tuple of ints, received {sizes!r}")
        sizes = tuple(check_int(f"hidden_layer_sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes))
        check_float("rbm_learning_rate", self.rbm_learning_rate, low=0.0, low_inclusive=False)
        check_int("rbm_n_iter", self.rbm_n_iter, minimum=1)
        check_int("rbm_batch_size", self.rbm_batch_size, minimum=1)
        check_int("k", self.k, minimum=1)
        check_bool("persistent", self.persistent)
        check_bool("pretrain", self.pretrain)
        check_choice("solver", self.solver, ("sgd", "adam"))
        check_float("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        check_float("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_float("alpha", self.alpha, low=0.0)
        check_int("max_iter", self.max_iter, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        return sizes

    def _pretrain(self, X: np.ndarray, sizes: tuple[int, ...], rng: np.random.Generator) -> list[RBM]:
        """Greedy layer-wise: each RBM is trained on the mean activations of the one below."""
        rbms, layer_input = [], X
        for n_hidden in sizes:
            rbm = RBM(layer_input.shape[1], n_hidden, dtype=X.dtype, rng=rng)
            step = CDStep(rbm, optim.SGD(rbm.parameters(), lr=self.rbm_learning_rate), k=self.k,
                          persistent=self.persistent, n_particles=self.rbm_batch_size, rng=rng)
            batches = Minibatches(layer_input, batch_size=self.rbm_batch_size, shuffle=True, rng=rng)
            train.Trainer(step, epochs=self.rbm_n_iter, progress=False).fit(batches)
            rbms.append(rbm)
            layer_input = rbm.hidden_probs(layer_input)  # (N, n_hidden): the next RBM's data
        return rbms

    def fit(self, X: Any, y: Any) -> "DBN":
        """Pretrain on every row of ``X`` (n_samples, n_features) in [0, 1], then fine-tune on the labelled ones.

        ``y`` of shape (n_samples,): rows labelled ``-1`` are unlabelled (scikit-learn's
        semi-supervised convention): the RBMs learn from them, backpropagation does not.
        """
        sizes = self._validate_params()
        X = check_X(X, owner=type(self).__name__, dtype=np.float32)
        if X.min() < 0 or X.max() > 1:
            warnings.warn(f"{type(self).__name__}: X holds values in [{X.min():g}, {X.max():g}]; the first RBM's "
                          "visible units are probabilities in [0, 1], so these are used as they are but mean little "
                          "(scale the data, e.g. X / X.max())", OutOfRangeWarning, stacklevel=2)
        y = column_or_1d(y, len(X), warn=True)
        check_classification_targets(y)
        labelled = ~((y == -1) if y.dtype.kind in "iuf" else (y.astype(str) == "-1"))
        if not labelled.any():
            raise ValueError(f"{type(self).__name__}: every row of y is -1 (unlabelled); fine-tuning needs labels")
        self.classes_, targets = np.unique(y[labelled], return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__}: y has only one class ({self.classes_[0]!r}); "
                             "a classifier needs at least 2")
        rng = check_random_state(self.random_state)
        self.n_features_in_ = X.shape[1]
        self.rbms_ = self._pretrain(X, sizes, rng) if self.pretrain else []
        self.module_ = MLP((X.shape[1], *sizes, len(self.classes_)), activation="sigmoid", rng=rng)
        for index, rbm in enumerate(self.rbms_):  # hidden layer l is RBM l's p(h | v)
            linear = self.module_[2 * index]
            linear.weight.data[...] = rbm.weight.data
            linear.bias.data[...] = rbm.hidden_bias.data
        if self.solver == "sgd":
            optimizer = optim.SGD(self.module_.parameters(), lr=self.learning_rate, momentum=self.momentum,
                                  weight_decay=self.alpha)
        else:
            optimizer = optim.Adam(self.module_.parameters(), lr=self.learning_rate, weight_decay=self.alpha)
        self.history_ = train.fit(self.module_, nn.CrossEntropyLoss(), optimizer, X[labelled], targets.astype(np.int64),
                                  epochs=self.max_iter, batch_size=self.batch_size, rng=rng, progress=False)
        self.n_iter_ = len(self.history_.epochs)
        return self

    def _check_predict_input(self, X: Any) -> np.ndarray:
        self._check_is_fitted()
        return check_X(X, owner=type(self).__name__, n_features=self.n_features_in_, dtype=np.float32)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_``'s order."""
        X = self._check_predict_input(X)
        logits = train.predict(self.module_, X)  # (N, n_classes)
        return F.softmax(logits, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape (n_samples,)."""
        best = self.predict_proba(X).argmax(axis=1)  # (N,) checks the fit first
        return self.classes_[best]
