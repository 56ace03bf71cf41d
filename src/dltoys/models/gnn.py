"""Graph neural networks for node classification: the two-layer GCN and GAT of the papers.

Both are called as ``model(x, edge_index)`` and return one row of logits per
node; ``backward(grad_logits)`` runs the layers in reverse. Transductive
training (one full-graph batch, a loss on the labelled nodes only) is
:class:`NodeClassificationStep` in :mod:`dltoys.models.gnn_step`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..utils import RngLike, as_rng, check_choice, check_float, check_int, resolve_dtype

ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh}


class FeatureDropout(nn.Module):
    """Dropout of the nonzero entries of a sparse feature matrix (Kipf's ``sparse_dropout``).

    The same distribution as :class:`nn.Dropout` (a zero stays zero whatever its mask),
    drawing one random number per nonzero entry instead of one per entry: on Cora's
    bag-of-words (1.3% nonzero) that is 75 times fewer draws.

    Parameters
    ----------
    p : float in [0, 1)
    rng : int, Generator or None

    Notes
    -----
    ``y = x * m`` with ``m = Bernoulli(1 - p) / (1 - p)`` drawn where ``x != 0``; ``dL/dx = dL/dy * m``.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None):
        super().__init__()
        self.p = check_float("p", p, low=0.0, high=1.0, high_inclusive=False)
        self.rng = as_rng(rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._cache = (None, None, x.shape)
            return x
        nonzero = np.flatnonzero(x)  # (nnz,)
        scale = (self.rng.random(len(nonzero), dtype=x.dtype) >= self.p).astype(x.dtype)
        scale *= 1 / (1 - self.p)
        out = np.zeros_like(x)
        out.flat[nonzero] = x.flat[nonzero] * scale
        self._cache = (nonzero, scale, x.shape)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        nonzero, scale, shape = self._saved()
        if nonzero is None:
            return grad_out
        grad = np.zeros_like(grad_out)
        grad.flat[nonzero] = grad_out.flat[nonzero] * scale
        return grad


class _TwoLayerGNN(nn.Module):
    """``dropout -> conv1 -> activation -> dropout -> conv2``; subclasses build the convolutions."""

    conv1: nn.Module
    conv2: nn.Module

    def _finish(self, dropout: float, activation: str, rng) -> None:
        self.input_dropout = FeatureDropout(dropout, rng=rng)
        self.act = ACTIVATIONS[check_choice("activation", activation, tuple(ACTIVATIONS))]()
        self.hidden_dropout = nn.Dropout(dropout, rng=rng)

    @property
    def needs_input_grad(self) -> bool:
        """False: the features are data; the first convolution skips ``dL/dx`` (see :class:`nn.Module`)."""
        return vars(self).get("_needs_input_grad", True)

    @needs_input_grad.setter
    def needs_input_grad(self, value: bool) -> None:
        self._needs_input_grad = bool(value)
        self.conv1.needs_input_grad = bool(value)

    def forward(self, x: np.ndarray, edge_index: Any) -> np.ndarray:
        x = self.input_dropout(np.asarray(x, dtype=self.dtype))  # (N, F)
        hidden = self.act(self.conv1(x, edge_index))  # (N, H)
        return self.conv2(self.hidden_dropout(hidden), edge_index)  # (N, C)

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        grad = self.hidden_dropout.backward(self.conv2.backward(grad_out))
        grad = self.conv1.backward(self.act.backward(grad))
        return None if grad is None else self.input_dropout.backward(grad)

    def embed(self, x: np.ndarray, edge_index: Any) -> np.ndarray:
        """The hidden layer ``activation(conv1(x))`` without dropout, of shape (N, hidden).

        For plots between epochs: it overwrites the first layer's cache, so call it
        after a backward pass, not between a forward and its backward.
        """
        with nn.eval_mode(self):
            return self.act(self.conv1(np.asarray(x, dtype=self.dtype), edge_index))


class GCN(_TwoLayerGNN):
    """Kipf & Welling's two-layer graph convolutional network.

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
        Features, hidden units (16 in the paper), classes.
    dropout : float in [0, 1), default 0.5
        On the input features and on the hidden layer, in training mode.
    activation : 'relu' (default), 'elu' or 'tanh'
    cached : bool, default False
        Normalise the graph once and reuse it (``GCNConv(cached=True)``): for
        training on one fixed graph.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Weights and dropout masks.

    Notes
    -----
    With ``P = D^-1/2 (A + I) D^-1/2``::

        Z = P · act(P X W1^T + b1) W2^T + b2          (logits, one row per node)

    References
    ----------
    Kipf & Welling (2017), Semi-supervised classification with graph convolutional networks.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        dropout: float = 0.5,
        activation: str = "relu",
        cached: bool = False,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        self.conv1 = nn.GCNConv(in_channels, hidden_channels, cached=cached, dtype=self.dtype, rng=rng)
        self.conv2 = nn.GCNConv(hidden_channels, out_channels, cached=cached, dtype=self.dtype, rng=rng)
        self._finish(dropout, activation, rng)


class GAT(_TwoLayerGNN):
    """Veličković et al.'s two-layer graph attention network (the Cora model).

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
        Features, hidden units per head (8 in the paper), classes.
    heads : int, default 8
        Heads of the first layer, concatenated (``heads * hidden_channels`` features).
    out_heads : int, default 1
        Heads of the output layer, averaged.
    dropout : float in [0, 1), default 0.6
        On the inputs of both layers and on both layers' attention coefficients.
    activation : 'elu' (default), 'relu' or 'tanh'
    dtype : float32 (default) or float64
    rng : int, Generator or None

    Notes
    -----
    ``Z = GAT_2(dropout(ELU(GAT_1(dropout(X)))))`` with ``GAT_k`` the attention layer of
    :class:`dltoys.nn.GATConv`.

    References
    ----------
    Veličković et al. (2018), Graph attention networks.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        heads: int = 8,
        out_heads: int = 1,
        dropout: float = 0.6,
        activation: str = "elu",
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        heads = check_int("heads", heads, minimum=1)
        self.conv1 = nn.GATConv(in_channels, hidden_channels, heads=heads, dropout=dropout, dtype=self.dtype, rng=rng)
        self.conv2 = nn.GATConv(
            heads * hidden_channels, out_channels, heads=out_heads, concat=False, dropout=dropout, dtype=self.dtype, rng=rng
        )
        self._finish(dropout, activation, rng)
