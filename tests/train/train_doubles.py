"""Shared pieces of the training tests: test-double optimizers, small data, small models.

(A uniquely named module rather than conftest.py, so that ``from train_doubles
import ...`` cannot pick up another directory's conftest.)

The real optimizers live in dltoys.optim (written in parallel); these doubles
implement the Optimizer interface so the loop and the checkpoints can be tested
on their own. MomentumSGD keeps per-parameter state, so a resume test that
forgot the optimizer state would fail.
"""

from __future__ import annotations

import numpy as np
from dltoys import nn
from dltoys.optim.optimizer import Optimizer
from dltoys.utils import as_rng


class MomentumSGD(Optimizer):
    """SGD with momentum, PyTorch's formula: ``b = mu b + g`` (``b = g`` at first), ``w -= lr b``."""

    state_names = ("momentum_buffer",)
    hyperparam_names = ("lr", "momentum")

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum

    def _update(self, index, param):
        buffer = self.state["momentum_buffer"][index]
        if buffer is None:
            buffer = self.state["momentum_buffer"][index] = param.grad.copy()
        else:
            buffer *= self.momentum
            buffer += param.grad
        param.data -= self.lr * buffer


class RandomSearch(Optimizer):
    """Gradient-free: try one Gaussian perturbation per step, keep it if the loss falls."""

    needs_gradients = False

    def __init__(self, params, lr=0.1, rng=None):
        super().__init__(params, lr)
        self.rng = as_rng(rng)
        self.closure_calls = 0

    def step(self, closure=None):
        if closure is None:
            raise ValueError("RandomSearch.step needs a closure")
        best = closure()
        saved = [p.data.copy() for p in self.params]
        for p in self.params:
            p.data += (self.lr * self.rng.standard_normal(p.shape)).astype(p.dtype)
        trial = closure()
        self.closure_calls += 2
        if trial < best:
            best = trial
        else:
            for p, old in zip(self.params, saved):
                p.data[...] = old
        self.step_count += 1
        return best


def xor_data(n=256, seed=0, dtype=np.float64):
    """Noisy XOR: four Gaussian clusters at (+-1, +-1), class = the signs differ."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    x = (2 * corners - 1) + 0.25 * rng.standard_normal((n, 2))
    y = (corners[:, 0] ^ corners[:, 1]).astype(np.int64)
    return x.astype(dtype), y


def mlp(seed=0, hidden=16, dtype=None):
    """2 -> hidden -> 2 tanh MLP (logits for CrossEntropyLoss)."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, hidden, dtype=dtype, rng=rng), nn.Tanh(), nn.Linear(hidden, 2, dtype=dtype, rng=rng))


def weights(model):
    return {key: value.copy() for key, value in model.state_dict().items()}
