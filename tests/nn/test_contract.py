"""The layer contract, each clause shown by a small test.

Test-defined modules play the parts models will play later: a module with
several (nested) inputs, a residual block, a recurrence that uses one Parameter
at every time step, tied weights, and a GAN whose frozen discriminator passes
gradients back to the generator.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn.module import Module, Parameter
from dltoys.optim import Optimizer
from dltoys.testing import GradcheckError, assert_dtype_tree, check_grad_accumulates, gradcheck
from dltoys.utils import resolve_dtype


# ------------------------------------------------------------- test modules
class GatedProduct(Module):
    """Two inputs: ``y = (a W^T) * b``; backward returns ``(dL/da, dL/db)``."""

    def __init__(self, n_in: int, n_out: int, rng):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((n_out, n_in)))

    def forward(self, a, b):
        projected = a @ self.weight.data.T  # (N, out)
        self._cache = (a, b, projected)
        return projected * b

    def backward(self, grad_out):
        a, b, projected = self._saved()
        grad_projected = grad_out * b  # (N, out)
        if self.weight.requires_grad:
            self.weight.grad += grad_projected.T @ a
        return grad_projected @ self.weight.data, grad_out * projected


class NestedCell(Module):
    """LSTM-shaped structure: ``forward(x, (h, c)) -> (h', (h', c'))`` with
    ``c' = c * sigmoid(x) + tanh(h W^T)`` and ``h' = tanh(c')``."""

    def __init__(self, size: int, rng):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((size, size)) / size)

    def forward(self, x, state):
        h, c = state
        gate = nn.functional.sigmoid(x)
        candidate = np.tanh(h @ self.weight.data.T)
        c_new = c * gate + candidate
        h_new = np.tanh(c_new)
        self._cache = (x, h, c, gate, candidate, h_new)
        return h_new, (h_new, c_new)

    def backward(self, grads):
        grad_out, (grad_h_new, grad_c_new) = grads
        x, h, c, gate, candidate, h_new = self._saved()
        grad_c = grad_c_new + (grad_out + grad_h_new) * (1 - h_new**2)
        grad_pre = grad_c * (1 - candidate**2)
        self.weight.grad += grad_pre.T @ h
        return grad_c * c * gate * (1 - gate), (grad_pre @ self.weight.data, grad_c * gate)


class Residual(Module):
    """``y = x + f(x)``: the child is used inside a larger expression."""

    def __init__(self, body: Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)

    def backward(self, grad_out):
        return grad_out + self.body.backward(grad_out)


class ResidualWithoutSkipGradient(Residual):
    def backward(self, grad_out):
        return self.body.backward(grad_out)  # forgets the identity path


class TinyRecurrence(Module):
    """``h_t = tanh(x_t + h_{t-1} W^T)``, ``h_0 = 0``: one Parameter used at every step.

    The single cache holds every step's state; backward walks the steps in
    reverse and adds each step's contribution to ``weight.grad``.
    """

    def __init__(self, size: int, rng):
        super().__init__()
        self.weight = Parameter(rng.standard_normal((size, size)) / size)

    def forward(self, x):  # x: (B, T, H)
        batch, steps, size = x.shape
        states = [np.zeros((batch, size))]  # h_0, h_1, ..., h_T
        for t in range(steps):
            states.append(np.tanh(x[:, t] + states[-1] @ self.weight.data.T))
        self._cache = states
        return np.stack(states[1:], axis=1)  # (B, T, H)

    def _add_step(self, grad_pre, h_prev):
        self.weight.grad += grad_pre.T @ h_prev

    def backward(self, grad_out):  # (B, T, H)
        states = self._saved()
        grad_x = np.zeros_like(grad_out)
        grad_h = np.zeros_like(states[0])
        for t in reversed(range(grad_out.shape[1])):
            grad_pre = (grad_out[:, t] + grad_h) * (1 - states[t + 1] ** 2)  # (B, H)
            self._add_step(grad_pre, states[t])
            grad_x[:, t] = grad_pre
            grad_h = grad_pre @ self.weight.data
        return grad_x


class TinyRecurrenceThatAssigns(TinyRecurrence):
    def _add_step(self, grad_pre, h_prev):
        self.weight.grad = grad_pre.T @ h_prev  # keeps only the last step processed


class PlainSGD(Optimizer):
    def _update(self, index, param):
        param.data -= self.lr * param.grad


# ---------------------------------------------------------------- the tests
def test_several_inputs_backward_returns_a_tuple(rng):
    module = GatedProduct(3, 2, rng)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    grads = module.backward(np.ones_like(module(a, b)))
    assert isinstance(grads, tuple) and [g.shape for g in grads] == [a.shape, b.shape]
    result = gradcheck(module, a, b)
    assert [c.name for c in result.checks] == ["input 0", "input 1", "parameter 'weight'"]


def test_nested_inputs_and_outputs(rng):
    module = NestedCell(3, rng)
    x, h, c = (rng.standard_normal((2, 3)) for _ in range(3))
    result = gradcheck(module, x, (h, c))
    assert [c.name for c in result.checks] == ["input 0", "input 1[0]", "input 1[1]", "parameter 'weight'"]
    check_grad_accumulates(module, x, (h, c))


def test_residual_connection(rng):
    body = nn.Sequential(nn.Linear(4, 4, dtype=np.float64, rng=0), nn.Tanh(), nn.Linear(4, 4, dtype=np.float64, rng=1))
    x = rng.standard_normal((3, 4))
    gradcheck(Residual(body), x)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(ResidualWithoutSkipGradient(body), x)


def test_parameter_shared_across_time_steps(rng):
    module = TinyRecurrence(3, rng)
    x = rng.standard_normal((2, 5, 3))
    module(x)
    assert len(module._cache) == 5 + 1  # one cache, every step's state in it
    module(x[:, :2])
    assert len(module._cache) == 2 + 1  # the next forward replaced it
    gradcheck(module, x)
    check_grad_accumulates(module, x)
    with pytest.raises(GradcheckError, match="parameter 'weight'"):
        gradcheck(TinyRecurrenceThatAssigns(3, np.random.default_rng(0)), x)


def test_tied_weights(rng):
    first = nn.Linear(3, 3, dtype=np.float64, rng=0)
    second = nn.Linear(3, 3, dtype=np.float64, rng=1)
    second.weight = first.weight
    model = nn.Sequential(first, nn.Tanh(), second)

    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch
    assert model.num_parameters() == 9 + 3 + 3

    x = rng.standard_normal((4, 3))
    gradcheck(model, x)  # perturbing the shared weight moves both uses

    model.zero_grad()
    grad_out = rng.standard_normal((4, 3))
    model(x)
    model.backward(grad_out)
    # the same network untied: the shared grad is the sum of the two separate grads
    untied = nn.Sequential(nn.Linear(3, 3, dtype=np.float64), nn.Tanh(), nn.Linear(3, 3, dtype=np.float64))
    untied.load_state_dict(model.state_dict())
    untied(x)
    untied.backward(grad_out)
    np.testing.assert_allclose(first.weight.grad, untied[0].weight.grad + untied[2].weight.grad, rtol=1e-13)

    model.float()
    assert second.weight is first.weight and first.weight.dtype == np.float32


def test_backward_through_a_frozen_discriminator(rng):
    """A GAN generator step: the loss flows through the frozen discriminator into the
    generator; the discriminator's grads stay zero and only the generator moves."""
    generator = nn.Sequential(nn.Linear(2, 5, dtype=np.float64, rng=0), nn.Tanh(), nn.Linear(5, 3, dtype=np.float64, rng=1))
    discriminator = nn.Sequential(
        nn.Linear(3, 4, dtype=np.float64, rng=2), nn.LeakyReLU(0.2), nn.Linear(4, 1, dtype=np.float64, rng=3)
    )
    criterion = nn.BCEWithLogitsLoss()
    z = rng.standard_normal((6, 2))
    real_label = np.ones((6, 1))

    class GeneratorLoss(Module):
        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

        def forward(self, z):
            return criterion(self.discriminator(self.generator(z)), real_label)

        def backward(self, grad_out):
            return self.generator.backward(self.discriminator.backward(criterion.backward(grad_out)))

    # the input gradient through D is the same whether D is frozen or not
    fake = generator(z)
    criterion(discriminator(fake), real_label)
    grad_fake_trainable = discriminator.backward(criterion.backward())
    discriminator.zero_grad()

    discriminator.requires_grad_(False)
    assert all(not p.requires_grad for p in discriminator.parameters())
    step = GeneratorLoss()
    gradcheck(step, z)  # generator params and z against central differences
    step.zero_grad()
    step(z)
    step.backward(1.0)
    np.testing.assert_allclose(discriminator.backward(criterion.backward()), grad_fake_trainable, rtol=1e-14)
    for name, p in discriminator.named_parameters():
        assert not p.grad.any(), f"frozen {name} received a gradient"
    assert all(p.grad.any() for p in generator.parameters())

    before = step.state_dict()
    PlainSGD(step.parameters(), lr=0.1).step()
    after = step.state_dict()
    for key in before:
        moved = not np.array_equal(before[key], after[key])
        assert moved == key.startswith("generator."), key


def test_gradients_accumulate_until_zero_grad(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    grad_out = rng.standard_normal((5, 2)).astype(np.float32)
    model(x)
    model.backward(grad_out)
    once = [p.grad.copy() for p in model.parameters()]
    assert all(g.any() for g in once)
    model.backward(grad_out)
    for g, p in zip(once, model.parameters()):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-6)
    model.zero_grad()
    assert not any(p.grad.any() for p in model.parameters())
    model(x)
    model.backward(grad_out)
    for g, p in zip(once, model.parameters()):
        np.testing.assert_array_equal(p.grad, g)


def test_frozen_parameters_get_no_gradient(rng):
    layer = nn.Linear(3, 2, rng=0).requires_grad_(False)
    layer.bias.requires_grad = True
    layer(rng.standard_normal((4, 3)))
    layer.backward(np.ones((4, 2)))
    assert not layer.weight.grad.any()
    np.testing.assert_array_equal(layer.bias.grad, [4, 4])


def test_conversion_drops_the_cache(rng):
    layer = nn.Linear(3, 2, rng=0)
    layer(rng.standard_normal((4, 3)))
    layer.double()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((4, 2)))


def test_train_and_eval_switch_recursively(rng):
    model = nn.Sequential(
        nn.Linear(4, 4, rng=0), nn.Dropout(0.5, rng=1), nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(0.5, rng=2))
    )
    batchnorm = model[2][0]
    x = rng.standard_normal((8, 4)).astype(np.float32)

    assert all(m.training for m in model.modules())
    train_out = model(x)
    assert (train_out == 0).any()  # dropout active
    assert batchnorm.num_batches_tracked == 1

    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    stats = (batchnorm.running_mean.copy(), batchnorm.running_var.copy())
    out = model(x)
    np.testing.assert_array_equal(out, model(x))  # deterministic: no dropout
    np.testing.assert_array_equal(batchnorm.running_mean, stats[0])  # eval does not update the stats
    np.testing.assert_array_equal(batchnorm.running_var, stats[1])
    assert batchnorm.num_batches_tracked == 1
    # eval BatchNorm uses the running statistics
    hidden = model[0](x)
    expected = (hidden - stats[0]) / np.sqrt(stats[1] + batchnorm.eps)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)

    model.train()
    assert all(m.training for m in model.modules())
    model(x)
    assert batchnorm.num_batches_tracked == 2
    model.train(False)
    assert not any(m.training for m in model.modules())


# -------------------------------------------------------------------- dtypes
def test_double_and_float_convert_params_grads_and_buffers(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4))
    x = rng.standard_normal((5, 3))
    model(x)
    model.backward(np.ones((5, 4)))
    assert_dtype_tree([p.data for p in model.parameters()], np.float32)

    weights = model.state_dict()
    assert model.double() is model
    assert [m.dtype for m in model.children()] == [np.float64, np.float64]
    state = model.state_dict()
    assert_dtype_tree(list(state.values()), np.float64)
    assert state["1.num_batches_tracked"].dtype == np.int64  # a counter stays an integer, as PyTorch
    assert_dtype_tree([p.grad for p in model.parameters()], np.float64)
    assert not any(p.grad.any() for p in model.parameters())  # grads are reset by the conversion
    for key in weights:
        np.testing.assert_array_equal(state[key], weights[key])  # float32 -> float64 is exact

    out = model(x.astype(np.float32))  # the module computes in its new dtype
    assert_dtype_tree((out, model.backward(np.ones((5, 4), np.float32))), np.float64)

    model.float()
    assert_dtype_tree([p.grad for p in model.parameters()] + list(model.state_dict().values()), np.float32)


@pytest.mark.parametrize("dtype", [int, np.int32, np.int64, "float16", np.float16, bool, "complex128", "nonsense"])
def test_resolve_dtype_rejects_non_float(dtype):
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, received"):
        resolve_dtype(dtype)


@pytest.mark.parametrize("dtype, expected", [(None, np.float32), (np.float32, np.float32), ("float64", np.float64), (float, np.float64)])
def test_resolve_dtype_accepts_floats(dtype, expected):
    assert resolve_dtype(dtype) == expected


# ---------------------------------------------------------------- state dicts
def test_state_dict_round_trip_copies_values(rng):
    source = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Linear(4, 2, rng=1))
    source(rng.standard_normal((6, 3)))  # non-trivial running stats
    state = source.state_dict()
    target = nn.Sequential(nn.Linear(3, 4, rng=5), nn.BatchNorm1d(4), nn.Linear(4, 2, rng=6))
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    # copies both ways: neither the dict nor the modules alias each other
    state["0.weight"][...] = 0
    assert source[0].weight.data.any() and target[0].weight.data.any()
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(source.eval()(x), target.eval()(x))


def test_load_state_dict_casts_to_the_module_dtype():
    layer = nn.Linear(2, 2, rng=0)
    layer.load_state_dict({"weight": np.eye(2, dtype=np.float64), "bias": [1, 2]})
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, [1, 2])


def test_load_state_dict_not_strict_skips_missing_keys():
    layer = nn.Linear(2, 2, rng=0)
    bias = layer.bias.data.copy()
    layer.load_state_dict({"weight": np.eye(2), "extra": np.zeros(3)}, strict=False)
    np.testing.assert_array_equal(layer.weight.data, np.eye(2))
    np.testing.assert_array_equal(layer.bias.data, bias)


def test_loss_weights_are_state(rng):
    """CrossEntropyLoss's weight and BCEWithLogitsLoss's pos_weight are buffers, as in PyTorch:
    saved, loaded, converted; and copies of the caller's arrays."""
    weight = np.array([0.5, 1.0, 2.0])
    loss = nn.CrossEntropyLoss(weight=weight)
    assert list(loss.state_dict()) == ["weight"]
    logits, target = rng.standard_normal((4, 3)), np.array([0, 1, 2, 2])
    before = loss(logits, target)
    loss.load_state_dict({"weight": np.ones(3)})
    np.testing.assert_array_equal(weight, [0.5, 1.0, 2.0])  # the caller's array is untouched
    assert loss(logits, target) == pytest.approx(nn.CrossEntropyLoss()(logits, target), rel=1e-15)
    assert loss(logits, target) != pytest.approx(before)
    assert nn.CrossEntropyLoss().state_dict() == {}

    pos_weight = nn.BCEWithLogitsLoss(pos_weight=[2.0, 3.0])
    assert list(pos_weight.state_dict()) == ["pos_weight"]
    assert pos_weight.float().pos_weight.dtype == np.float32
