"""numpy-ml's MLP as a peer row: another NumPy implementation, timed against the same PyTorch model.

numpy-ml is not a dependency: ``make bench-peers`` installs it into
``benchmarks/.peers`` and the benchmark skips the row when it is not there. It
imports ``collections.Hashable``, which Python 3.10 removed; :func:`import_numpy_ml`
puts the alias back in this benchmark process only.

The network is the MLP case's: numpy-ml ``FullyConnected`` layers (weights
``(in, out)``: dltoys's transposed), its ``Softmax`` layer and ``CrossEntropy``
loss (a sum: divided by the batch here, for PyTorch's mean), float32 weights and
inputs, and its own SGD (``update = momentum * update + lr * grad``, the same
trajectory as PyTorch's for a constant learning rate) and Adam (eps set to
PyTorch's 1e-8).
"""

from __future__ import annotations

import collections
import collections.abc
import itertools
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .cases import DTYPE, MLP_SIZES

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
OPTIMIZER_SPECS = {"SGD": "SGD(lr=0.01, momentum=0.9)", "Adam": "Adam(lr=0.001, eps=1e-08)"}


def import_numpy_ml(directory: Path = PEERS_DIR):
    """numpy-ml's neural_nets package, or None when it is not installed in ``directory``."""
    if not (directory / "numpy_ml").is_dir():
        return None
    if not hasattr(collections, "Hashable"):
        collections.Hashable = collections.abc.Hashable  # removed in Python 3.10; numpy-ml still imports it
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its reinforcement-learning part asks for gym, unused here
        from numpy_ml import neural_nets

    return neural_nets


def numpy_ml_stepper(neural_nets, dltoys_mlp, optimizer_name: str, batches: list) -> Callable[[], Any]:
    """One numpy-ml training step of the MLP, starting from ``dltoys_mlp``'s weights."""
    layers_mod, losses_mod = neural_nets.layers, neural_nets.losses
    linears = [module for module in dltoys_mlp.children() if hasattr(module, "weight")]
    layers = []
    for index, (linear, n_in) in enumerate(zip(linears, MLP_SIZES[:-1])):
        last = index == len(linears) - 1
        layer = layers_mod.FullyConnected(
            linear.out_features, act_fn=None if last else "ReLU", optimizer=OPTIMIZER_SPECS[optimizer_name]
        )
        layer.n_in = n_in
        layer._init_params()
        layer.parameters = {"W": linear.weight.data.T.astype(DTYPE), "b": linear.bias.data[None, :].astype(DTYPE)}
        layer.gradients = {name: np.zeros_like(value) for name, value in layer.parameters.items()}
        layers.append(layer)
    softmax = layers_mod.Softmax()
    loss_fn = losses_mod.CrossEntropy()
    n_classes = MLP_SIZES[-1]
    cycle = itertools.cycle([(x, np.eye(n_classes, dtype=DTYPE)[y]) for x, y in batches])

    def step():
        x, onehot = next(cycle)
        out = x
        for layer in layers:
            out = layer.forward(out)
        probs = softmax.forward(out)
        loss = loss_fn(onehot, probs) / len(x)
        grad = loss_fn.grad(onehot, probs) / len(x)  # d loss / d logits (through the softmax)
        for layer in reversed(layers):
            grad = layer.backward(grad)
        for layer in layers:
            layer.update()
        softmax.flush_gradients()
        return loss

    return step
