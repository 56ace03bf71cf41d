"""Graph neural networks for node classification: the two-layer GCN and GAT of the papers.

Both are called as ``model(x, edge_index)`` and return one row of logits per
node; ``backward(grad_logits)`` runs the layers in reverse. Transductive
training (one full-graph batch, a loss on the labelled nodes only) is
:class:`NodeClassificationStep`, a step of the one loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, train
from ..train.metrics import resolve_metrics
from ..train.step import loss_value
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
    ``y = x * m`` with ``m = Bernoulli(1 - p) / (1 - p)`` drawn where ``x != 0``; ``dL/dx = dL/dy * m``
    there and 0 at the zero entries, which are structural, as in a sparse tensor (moving one off zero
    would change which entries draw a mask).
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
        nonzero = np.flatnonzero(x != 0)  # (nnz,); a boolean scan (see benchmarks/NOTES.md)
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

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray | None, None]:
        """``(dL/dx, None)``: edge_index has no gradient; dL/dx is None when ``needs_input_grad`` is False."""
        grad = self.hidden_dropout.backward(self.conv2.backward(grad_out)[0])
        grad = self.conv1.backward(self.act.backward(grad))[0]
        return (None if grad is None else self.input_dropout.backward(grad)), None

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


class NodeClassificationStep(train.Step):
    """One full-graph batch ``(x, edge_index, y, mask)``: every node forward, the loss on the masked ones.

    Transductive training (Kipf & Welling): the model sees the whole graph, every
    node's features and every edge, but only the labels under ``mask`` (the
    training nodes) enter the loss and the metrics. The batch source is a
    one-element list, ``[(x, edge_index, y, train_mask)]``; validation is
    ``[(x, edge_index, y, val_mask)]``.

    Parameters
    ----------
    model : Module
        ``model(x, edge_index)`` -> logits ``(N, C)``.
    optimizers : Optimizer or dict of name -> Optimizer
        Several when parameter groups differ (Kipf's weight decay on the first
        layer only): each steps its own parameters.
    loss : Loss, default CrossEntropyLoss()
    metrics : names or callables, default ('accuracy',)

    Notes
    -----
    One step::

        logits = model(x, edge_index)               # (N, C), every node
        loss = CE(logits[mask], y[mask])            # the labelled nodes only
        dL/dlogits = scatter of loss.backward() into the masked rows (zero elsewhere)
        model.backward(dL/dlogits); optimizers step
    """

    def __init__(
        self,
        model: nn.Module,
        optimizers: Any,
        *,
        loss: nn.Module | None = None,
        metrics: Any = ("accuracy",),
    ):
        super().__init__({"model": model}, optimizers)
        if not self.optimizers:
            raise ValueError("optimizers: a node-classification step needs at least one optimizer")
        self.model = model
        self.loss = nn.CrossEntropyLoss() if loss is None else loss
        self.metrics = resolve_metrics(metrics)
        self._needed_input_grad = model.needs_input_grad

    def on_train_begin(self) -> None:
        self._needed_input_grad = self.model.needs_input_grad
        self.model.needs_input_grad = False  # the features are data

    def on_train_end(self) -> None:
        self.model.needs_input_grad = self._needed_input_grad

    @staticmethod
    def _unpack(batch: Any):
        try:
            x, edge_index, y, mask = batch
        except (TypeError, ValueError):
            raise ValueError(
                "NodeClassificationStep: expected a batch (x, edge_index, y, mask), the batch source being "
                "[(x, edge_index, y, mask)]"
            ) from None
        mask = np.asarray(mask)
        if mask.dtype == bool and mask.shape != (len(x),):
            raise ValueError(f"mask: expected a boolean mask of shape ({len(x)},), received {mask.shape}")
        return x, edge_index, np.asarray(y), mask

    def batch_size(self, batch: Any) -> int:
        mask = np.asarray(batch[3])
        return int(mask.sum()) if mask.dtype == bool else len(mask)

    def _logs(self, logits: np.ndarray, target: np.ndarray, value: float) -> dict[str, float]:
        logs = {"loss": value}
        for name, metric in self.metrics.items():
            logs[name] = float(metric(logits, target))
        return logs

    def __call__(self, batch: Any) -> dict[str, float]:
        x, edge_index, y, mask = self._unpack(batch)
        self.model.zero_grad()
        logits = self.model(x, edge_index)  # (N, C)
        value = loss_value(self.loss(logits[mask], y[mask]), "NodeClassificationStep")
        if np.isfinite(value):
            grad = np.zeros_like(logits)
            grad[mask] = self.loss.backward()  # the unlabelled rows take no part in the loss
            self.model.backward(grad)
            for name, optimizer in self.optimizers.items():
                self.before_update(name)
                optimizer.step()
        return self._logs(logits[mask], y[mask], value)

    def evaluate(self, batch: Any) -> dict[str, float]:
        x, edge_index, y, mask = self._unpack(batch)
        logits = self.model(x, edge_index)
        return self._logs(logits[mask], y[mask], loss_value(self.loss(logits[mask], y[mask]), "evaluate"))


def masked_accuracy(model: nn.Module, x: np.ndarray, edge_index: Any, y: np.ndarray, mask: Any) -> float:
    """Accuracy of ``model`` (in eval mode) on the nodes under ``mask``."""
    with nn.eval_mode(model):
        logits = model(x, edge_index)
    return float(np.mean(logits[mask].argmax(axis=1) == np.asarray(y)[mask]))
