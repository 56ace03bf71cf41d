"""``needs_input_grad = False``: the input is data, so backward skips its gradient.

The parameter gradients must be exactly those of the full backward pass; only the
input gradient (and the work behind it) goes away.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from dltoys import nn
from layer_cases import CASES, build, case_id, leaves, make_inputs, map_tree


def grads(module: nn.Module) -> dict:
    return {name: param.grad.copy() for name, param in module.named_parameters()}


def backward_both_ways(module: nn.Module, x, grad_out):
    """(input gradient, parameter gradients) with the flag on and off, from the same weights."""
    full, skipping = module, copy.deepcopy(module)
    skipping.needs_input_grad = False
    results = []
    for m in (full, skipping):
        m.zero_grad()
        m(x)
        results.append((m.backward(grad_out), grads(m)))
    return results


def assert_same_grads(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


@pytest.mark.parametrize("case", [c for c in CASES if c.skips_input_grad], ids=case_id)
def test_layers_skip_the_input_gradient_only(case):
    """The first input's gradient becomes None; the other inputs' and every parameter's stay exact."""
    module = build(case, np.float32)
    inputs = make_inputs(case, np.float32)
    rng = np.random.default_rng(3)
    grad_out = map_tree(lambda o: rng.standard_normal(o.shape).astype(np.float32), module(*inputs))
    full, skipping = module, copy.deepcopy(module)
    skipping.needs_input_grad = False
    (dx, full_grads), (skipped, partial) = [(m.backward(grad_out), grads(m)) for m in (full, skipping)]
    if len(inputs) > 1:  # (x, h0, ...): the state's gradients are still there, and exact
        (dx, *rest), (skipped, *rest_skipping) = dx, skipped
        for a, b in zip(leaves(rest), leaves(rest_skipping), strict=True):
            np.testing.assert_array_equal(a, b)
    assert dx.shape == inputs[0].shape and skipped is None
    assert_same_grads(full_grads, partial)


def test_sequential_hands_the_flag_to_its_first_layer_with_parameters(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    model.needs_input_grad = False
    assert [layer.needs_input_grad for layer in model] == [True, False, True, True]
    model.needs_input_grad = True
    assert all(layer.needs_input_grad for layer in model)


def test_sequential_returns_none_and_keeps_every_parameter_gradient(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    x = rng.standard_normal((3, 2, 3)).astype(np.float32)
    (dx, full), (skipped, partial) = backward_both_ways(model, x, rng.standard_normal((3, 2)).astype(np.float32))
    assert dx.shape == x.shape and skipped is None
    assert_same_grads(full, partial)


def test_an_inner_layer_without_input_gradient_is_an_error_when_layers_before_it_learn(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    model[2].needs_input_grad = False  # wrong: layer 0 needs that gradient for its weights
    model(rng.standard_normal((2, 3)).astype(np.float32))
    with pytest.raises(RuntimeError, match="layers 0 \\(Linear\\) before it have trainable parameters"):
        model.backward(np.ones((2, 2), dtype=np.float32))


def test_a_frozen_first_layer_in_front_is_allowed(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    model[0].requires_grad_(False)
    model[2].needs_input_grad = False  # nothing before layer 2 learns
    model(rng.standard_normal((2, 3)).astype(np.float32))
    assert model.backward(np.ones((2, 2), dtype=np.float32)) is None
    assert np.any(model[2].weight.grad != 0)


def test_recurrent_layer_with_initial_state_still_returns_its_gradient(rng):
    layer = nn.LSTM(3, 4, rng=0)
    x = rng.standard_normal((5, 2, 3))  # (seq_len, batch, input_size)
    h0, c0 = rng.standard_normal((2, 1, 2, 4))
    grad = rng.standard_normal((5, 2, 4))
    layer(x, (h0, c0))
    dx, (dh0, dc0) = layer.backward(grad)
    layer.needs_input_grad = False
    layer(x, (h0, c0))
    skipped, (dh0_again, dc0_again) = layer.backward(grad)
    assert skipped is None
    np.testing.assert_array_equal(dh0, dh0_again)
    np.testing.assert_array_equal(dc0, dc0_again)
