"""Convolutional networks: a LeNet-style ``CNN`` (a Module) and the ``CNNClassifier`` estimator."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import nn, optim, train
from ..utils import RngLike, as_rng, check_bool, check_float, check_int, resolve_dtype
from .base import (ClassifierMixin, Estimator, check_classification_targets, check_random_state, check_X,
                   column_or_1d)


def _per_layer(name: str, value: Any, n_layers: int) -> list[int]:
    values = [value] * n_layers if isinstance(value, (int, np.integer)) else list(value)
    if len(values) != n_layers:
        raise ValueError(f"{name}: expected an int or one int per convolution ({n_layers}), received {value!r}")
    return values


class CNN(nn.Sequential):
    """A LeNet-style network: blocks of convolution, ReLU and max pooling, then a classifier.

    Parameters
    ----------
    input_shape : tuple
        ``(C, H, W)`` for images (2-D convolutions) or ``(C, L)`` for signals (1-D).
    n_classes : int
        Width of the output (logits; train with ``CrossEntropyLoss``).
    channels : sequence of int, default (16, 32)
        Output channels of each convolution.
    kernel_size, stride : int or one int per convolution
    padding : int, 'same', 'valid', or one per convolution; default 'same'
    pool : int or None, default 2
        Max pooling (window and stride ``pool``) after each block while the feature
        map is at least ``pool`` long; None for none (strided convolutions instead).
    hidden_size : int or None, default 64
        A hidden ReLU layer between the features and the output; None for none.
    batch_norm : bool, default False
        BatchNorm after each convolution (then the convolution has no bias).
    dropout : float in [0, 1), default 0
        Dropout before each Linear layer.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights (PyTorch's default initialisation) and dropout masks.

    Notes
    -----
    Block ``l``: ``h_l = maxpool(relu(conv_l(h_{l-1})))``. The filters are shared across
    positions, so a pattern moved along the input moves the feature maps with it
    (translation equivariance), and pooling makes the features tolerant of small shifts.
    Backward is each child's backward in reverse order (:class:`~dltoys.nn.Sequential`);
    state-dict keys equal those of the same ``torch.nn.Sequential``.

    References
    ----------
    LeCun et al. (1998), Gradient-based learning applied to document recognition.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_classes: int,
        channels: Sequence[int] = (16, 32),
        kernel_size: int | Sequence[int] = 3,
        stride: int | Sequence[int] = 1,
        padding: int | str | Sequence = "same",
        pool: int | None = 2,
        hidden_size: int | None = 64,
        batch_norm: bool = False,
        dropout: float = 0.0,
        dtype=None,
        rng: RngLike = None,
    ):
        if isinstance(input_shape, (int, float, str)) or not hasattr(input_shape, "__iter__"):
            raise TypeError(f"input_shape: expected (C, L) or (C, H, W) such as (1, 8, 8), received {input_shape!r}")
        shape = [check_int("input_shape", s, minimum=1) for s in input_shape]
        if len(shape) not in (2, 3):
            raise ValueError(f"input_shape: expected (C, L) or (C, H, W), received {tuple(input_shape)!r}")
        n_classes = check_int("n_classes", n_classes, minimum=1)
        channels = [check_int("channels", c, minimum=1) for c in channels]
        kernels = _per_layer("kernel_size", kernel_size, len(channels))
        strides = _per_layer("stride", stride, len(channels))
        paddings = [padding] * len(channels) if isinstance(padding, (int, str)) else list(padding)
        if len(paddings) != len(channels):
            raise ValueError(f"padding: expected one per convolution ({len(channels)}), received {padding!r}")
        pool = None if pool is None else check_int("pool", pool, minimum=1)
        hidden_size = None if hidden_size is None else check_int("hidden_size", hidden_size, minimum=1)
        batch_norm = check_bool("batch_norm", batch_norm)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        two_d = len(shape) == 3
        if two_d:
            conv, pooling, norm = nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d
        else:
            conv, pooling, norm = nn.Conv1d, nn.MaxPool1d, nn.BatchNorm1d
        layers: list[nn.Module] = []
        in_channels, sizes = shape[0], shape[1:]
        for out_channels, k, s, p in zip(channels, kernels, strides, paddings):
            layers.append(conv(in_channels, out_channels, k, stride=s, padding=p, bias=not batch_norm,
                               dtype=dtype, rng=rng))
            if batch_norm:
                layers.append(norm(out_channels, dtype=dtype))
            layers.append(nn.ReLU())
            pad_total = k - 1 if p == "same" else 0 if p == "valid" else 2 * p
            sizes = [nn.functional.conv_output_size(n, k, s, pad_total, 1) for n in sizes]
            if min(sizes) < 1:
                raise ValueError(f"input_shape {tuple(input_shape)!r} is too small for the convolutions {channels}")
            if pool is not None and min(sizes) >= pool:
                layers.append(pooling(pool))
                sizes = [n // pool for n in sizes]
            in_channels = out_channels
        layers.append(nn.Flatten())
        features = in_channels * int(np.prod(sizes))
        if hidden_size is not None:
            if dropout:
                layers.append(nn.Dropout(dropout, rng=rng))
            layers += [nn.Linear(features, hidden_size, dtype=dtype, rng=rng), nn.ReLU()]
            features = hidden_size
        if dropout:
            layers.append(nn.Dropout(dropout, rng=rng))
        layers.append(nn.Linear(features, n_classes, dtype=dtype, rng=rng))
        super().__init__(*layers)
        self.input_shape = tuple(shape)
        self.n_classes = n_classes

    def extra_repr(self) -> str:
        return f"input_shape={self.input_shape}, n_classes={self.n_classes}"


class CNNClassifier(ClassifierMixin, Estimator):
    """A scikit-learn classifier around :class:`CNN`, trained with AdamW through ``train.fit``.

    Parameters
    ----------
    channels, kernel_size, pool, hidden_size, batch_norm, dropout :
        The :class:`CNN`'s (``padding='same'``, stride 1).
    lr : float, default 1e-3
    weight_decay : float, default 0
        AdamW's decoupled weight decay.
    batch_size : int, default 64
    epochs : int, default 20
    random_state : None, int or Generator
        Seeds the weights, dropout and the shuffles.

    Attributes
    ----------
    module_ : CNN
    classes_ : ndarray of the labels seen in ``fit``
    n_features_in_ : int, values per sample
    input_shape_ : tuple
        The sample shape the network reads: ``(C, H, W)`` or ``(C, L)`` for ``X`` of shape
        ``(N, C, H, W)`` or ``(N, C, L)``; a 2-D ``X`` ``(N, n_features)`` (scikit-learn's
        layout) is read as one-channel signals ``(1, n_features)``.
    history_ : History of the training run

    Notes
    -----
    Hyperparameters are stored unchanged in ``__init__`` and checked in ``fit``; ``fit``
    returns ``self`` (the :class:`~dltoys.models.base.Estimator` contract).
    """

    def __init__(self, channels=(16, 32), kernel_size=3, pool=2, hidden_size=64, batch_norm=False, dropout=0.0,
                 lr=1e-3, weight_decay=0.0, batch_size=64, epochs=20, random_state=None):
        self.channels = channels
        self.kernel_size = kernel_size
        self.pool = pool
        self.hidden_size = hidden_size
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state

    def _samples(self, X: Any, n_features: int | None = None) -> np.ndarray:
        """``X`` as float32 samples ``(N, C, *spatial)``."""
        owner = type(self).__name__
        array = np.asarray(X) if not hasattr(X, "to_numpy") else X.to_numpy()
        if getattr(array, "ndim", 0) in (3, 4):
            if array.dtype.kind not in "biuf":
                raise TypeError(f"{owner}: X: expected real numbers, received dtype {array.dtype}")
            if len(array) == 0 or not np.isfinite(array).all():
                raise ValueError(f"{owner}: X: expected at least one sample of finite values, received shape "
                                 f"{array.shape}")
            if n_features is not None and int(np.prod(array.shape[1:])) != n_features:
                raise ValueError(f"{owner}: X has samples of shape {array.shape[1:]}, fit saw {self.input_shape_}")
            return array.astype(np.float32, copy=False)
        flat = check_X(X, owner=owner, n_features=n_features, dtype=np.float32)
        return flat[:, None, :]  # (N, 1, n_features): one-channel signals

    def fit(self, X: Any, y: Any) -> "CNNClassifier":
        X = self._samples(X)
        y = column_or_1d(y, len(X), warn=True)
        check_classification_targets(y)
        lr = check_float("lr", self.lr, low=0.0, low_inclusive=False)
        weight_decay = check_float("weight_decay", self.weight_decay, low=0.0)
        epochs = check_int("epochs", self.epochs, minimum=1)
        batch_size = check_int("batch_size", self.batch_size, minimum=1)
        rng = check_random_state(self.random_state)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y: {type(self).__name__} needs samples of at least 2 classes, received 1 class "
                             f"({self.classes_[0]!r})")
        self.input_shape_ = X.shape[1:]
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.module_ = CNN(self.input_shape_, len(self.classes_), channels=self.channels, kernel_size=self.kernel_size,
                           pool=self.pool, hidden_size=self.hidden_size, batch_norm=self.batch_norm,
                           dropout=self.dropout, rng=rng)
        optimizer = optim.AdamW(self.module_.parameters(), lr=lr, weight_decay=weight_decay)
        self.history_ = train.fit(self.module_, nn.CrossEntropyLoss(), optimizer, X, codes.astype(np.int64),
                                  epochs=epochs, batch_size=batch_size, rng=rng, progress=False)
        return self

    def _logits(self, X: Any) -> np.ndarray:
        self._check_is_fitted()
        X = self._samples(X, self.n_features_in_)
        return train.predict(self.module_, X.reshape(len(X), *self.input_shape_))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        return nn.functional.softmax(self._logits(X).astype(np.float64), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample, shape ``(n_samples,)``."""
        logits = self._logits(X)
        return self.classes_[logits.argmax(axis=1)]
