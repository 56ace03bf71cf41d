"""Shared pieces of the training tests: small data, small models, a counting optimizer.

(A uniquely named module rather than conftest.py, so that ``from train_doubles
import ...`` cannot pick up another directory's conftest.)
"""

from __future__ import annotations

import numpy as np
from dltoys import nn
from dltoys.optim import HillClimb


class CountingHillClimb(HillClimb):
    """HillClimb that counts how often the training loop's closure runs."""

    def __init__(self, params, step_size=0.1, rng=None):
        super().__init__(params, step_size=step_size, rng=rng)
        self.closure_calls = 0

    def _evaluate(self, closure):
        self.closure_calls += 1
        return super()._evaluate(closure)


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
