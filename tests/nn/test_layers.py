"""Every layer of the nn core, from the layer-case table (``layer_cases.py``): float64
gradient checks in train and eval mode, accumulating gradients, one cache per forward,
and float32 kept end to end.

Each case builds its module with random parameters (and, for BatchNorm1d,
running statistics that are far from their initial 0 and 1), so a backward
pass that ignored a parameter or a statistic would fail the check.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, gradcheck
from layer_cases import CASES, DETERMINISTIC, build, case_id, float_leaf_names, leaves, make_inputs, map_tree


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradcheck(case):
    module = build(case, np.float64)
    inputs = make_inputs(case, np.float64)
    result = gradcheck(module, *inputs)
    # every float input and every parameter took part (a check of nothing would pass trivially)
    names = {c.name for c in result.checks}
    assert names == set(float_leaf_names(inputs)) | {f"parameter '{n}'" for n, _ in module.named_parameters()}


def test_dropout_gradcheck_sees_a_real_mask():
    """The train-mode check above is meaningful only if the mask zeroes some entries."""
    case = next(c for c in CASES if c.id == "dropout-train")
    (x,) = make_inputs(case, np.float64)
    out = build(case, np.float64)(x)
    dropped = out == 0
    assert 0 < dropped.sum() < x.size
    np.testing.assert_allclose(out[~dropped], x[~dropped] / 0.6, rtol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradients_accumulate(case):
    check_grad_accumulates(build(case, np.float32), *make_inputs(case, np.float32))


@pytest.mark.parametrize("case", DETERMINISTIC, ids=case_id)
def test_second_forward_overwrites_the_cache(case):
    """backward after forward(x1), forward(x2) is the backward of x2 alone."""
    x1, x2 = make_inputs(case, np.float64, 1), make_inputs(case, np.float64, 2)
    twice = build(case, np.float64)
    twice(*x1)
    out = twice(*x2)
    rng = np.random.default_rng(3)
    grad_out = map_tree(lambda o: rng.standard_normal(o.shape), out)
    grad_twice = twice.backward(grad_out)

    once = build(case, np.float64)
    once(*x2)
    for a, b in zip(leaves(grad_twice), leaves(once.backward(grad_out)), strict=True):
        np.testing.assert_array_equal(a, b)
    for (name, p_twice), (_, p_once) in zip(twice.named_parameters(), once.named_parameters()):
        np.testing.assert_array_equal(p_twice.grad, p_once.grad, err_msg=name)


def test_dropout_backward_uses_the_latest_mask():
    module = nn.Dropout(0.5, rng=0)
    x1, x2 = np.random.default_rng(1).standard_normal((2, 8, 6)) + 0.5
    out1 = module(x1)
    out2 = module(x2)
    assert not np.array_equal(out1 == 0, out2 == 0)  # two different masks were drawn
    grad_out = np.random.default_rng(3).standard_normal(x2.shape)
    np.testing.assert_allclose(module.backward(grad_out), grad_out * out2 / x2, rtol=1e-14)


@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_float32_stays_float32(case, grad_dtype):
    """Outputs and gradients of a float32 layer are float32, even for a float64 grad_out."""
    module = build(case, np.float32)
    out = module(*make_inputs(case, np.float32))
    grad_in = module.backward(map_tree(lambda o: np.ones(o.shape, dtype=grad_dtype), out))
    assert_dtype_tree((out, grad_in), np.float32)
    assert_dtype_tree([p.data for p in module.parameters()], np.float32)
    assert_dtype_tree([p.grad for p in module.parameters()], np.float32)
    if getattr(module, "track_running_stats", False):
        assert_dtype_tree((module.running_mean, module.running_var), np.float32)


@pytest.mark.parametrize("x_dtype", [np.float64, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("make", [lambda: nn.Linear(4, 3, rng=0), lambda: nn.BatchNorm1d(4)], ids=["linear", "batchnorm"])
def test_float32_layer_casts_its_input(make, x_dtype):
    """A float32 layer fed float64, integer or bit (uint8/bool) data computes and returns float32."""
    module = make()
    x = np.random.default_rng(0).integers(0, 2, size=(6, 4)).astype(x_dtype)
    out = module(x)
    grad_in = module.backward(np.ones(out.shape, dtype=np.float64))  # float64 grad_out is cast too
    assert_dtype_tree((out, grad_in), np.float32)
    assert_dtype_tree([p.grad for p in module.parameters()], np.float32)
    # the cast is only a cast: the float32 result equals feeding float32 data
    reference = make()
    np.testing.assert_array_equal(out, reference(x.astype(np.float32)))


def test_flatten_of_integer_pixels_passes_the_float_gradient_through():
    """uint8 images -> Flatten -> Linear: the gradient reaching the images stays float32."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3, rng=0))
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 4)).astype(np.uint8)
    out = model(images)
    grad = model.backward(np.ones_like(out))
    assert grad.shape == images.shape and grad.dtype == np.float32
    np.testing.assert_allclose(grad, np.broadcast_to(model[1].weight.data.sum(axis=0).reshape(3, 4), grad.shape), rtol=1e-6)
