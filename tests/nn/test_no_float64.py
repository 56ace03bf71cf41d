"""No float64 inside a float32 path: forward, backward and optimizer steps are traced,
for every case of the layer-case table (``layer_cases.py``), the models, losses and optimizers.

Checking result dtypes cannot see an upcast: ``p.grad += g64`` casts back to float32
silently. ``float64_operations`` records every ufunc that touched a float64 array.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim
from dltoys.models import GPT, MLP, SequenceModel
from dltoys.testing import float64_operations
from layer_cases import CASES, build, case_id, make_inputs

RNG = np.random.default_rng(0)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


MODELS = {
    "mlp": (lambda: MLP((4, 8, 8, 2), activation="relu", batch_norm=True, dropout=0.1, rng=0), (f32(6, 4),)),
    "sequence-model": (lambda: SequenceModel("lstm", 3, 5, 2, readout="all", rng=0), (f32(2, 4, 3),)),
    "gpt": (lambda: GPT(7, 5, n_layer=2, n_head=2, n_embd=8, dropout=0.1, rng=0), (RNG.integers(0, 7, (2, 5)),)),
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_layers_never_touch_float64(case):
    assert not float64_operations(build(case, np.float32), *make_inputs(case, np.float32))


@pytest.mark.parametrize("name", MODELS)
def test_models_never_touch_float64(name):
    make, inputs = MODELS[name]
    assert not float64_operations(make(), *inputs)


LOSSES = {
    "mse": (nn.MSELoss(), f32(5, 3), RNG.standard_normal((5, 3))),  # a float64 target is cast, not computed in
    "bce": (nn.BCELoss(), RNG.uniform(0.1, 0.9, (5, 3)).astype(np.float32), RNG.integers(0, 2, (5, 3)).astype(float)),
    "bce-logits": (nn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0, 0.5]), f32(5, 3), RNG.integers(0, 2, (5, 3)).astype(float)),
    "ce-index": (nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0], label_smoothing=0.1), f32(5, 3), RNG.integers(0, 3, 5)),
    "ce-probs": (nn.CrossEntropyLoss(), f32(5, 3, 2), RNG.dirichlet(np.ones(3), (5, 2)).transpose(0, 2, 1)),
}


@pytest.mark.parametrize("name", LOSSES)
def test_losses_never_touch_float64(name):
    loss, x, target = LOSSES[name]
    assert not float64_operations(loss, x, target)


def with_numpy_lr(optimizer):
    """A schedule computed with NumPy assigns a np.float64 to optimizer.lr between steps."""
    optimizer.lr = np.float64(optimizer.lr)
    return optimizer


OPTIMIZERS = {
    "sgd": lambda p: with_numpy_lr(optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "rmsprop": lambda p: with_numpy_lr(optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=1e-3)),
    "adam": lambda p: with_numpy_lr(optim.Adam(p, lr=1e-3, amsgrad=True, weight_decay=1e-3)),
    "adamw": lambda p: with_numpy_lr(optim.AdamW(p, lr=1e-3)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_never_touch_float64(name):
    """Even when the learning rate is a NumPy float64."""
    assert not float64_operations(nn.Linear(4, 3, rng=0), f32(6, 4), optimizer=OPTIMIZERS[name], steps=3)
