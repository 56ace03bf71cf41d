"""Every layer of the nn core: float64 gradient checks in train and eval mode,
accumulating gradients, one cache per forward, and float32 kept end to end.

Each case builds its module with random parameters (and, for BatchNorm1d,
running statistics that are far from their initial 0 and 1), so a backward
pass that ignored a parameter or a statistic would fail the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, gradcheck


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[np.dtype], nn.Module]  # dtype -> module
    shape: tuple
    mode: str = "train"


def _bn(**kwargs):
    return lambda dtype: nn.BatchNorm1d(3, dtype=dtype, **kwargs)


CASES = [
    Case("linear", lambda d: nn.Linear(4, 3, dtype=d, rng=0), (5, 4)),
    Case("linear-no-bias", lambda d: nn.Linear(4, 3, bias=False, dtype=d, rng=0), (5, 4)),
    Case("linear-3d", lambda d: nn.Linear(4, 3, dtype=d, rng=0), (2, 3, 4)),
    Case("linear-1d", lambda d: nn.Linear(4, 3, dtype=d, rng=0), (4,)),
    Case("identity", lambda d: nn.Identity(), (3, 4)),
    Case("flatten", lambda d: nn.Flatten(), (2, 3, 2, 2)),
    Case("flatten-0-1", lambda d: nn.Flatten(0, 1), (2, 3, 4)),
    Case("flatten-1-2", lambda d: nn.Flatten(1, 2), (2, 3, 2, 2)),
    Case("flatten-neg", lambda d: nn.Flatten(-3, -2), (2, 3, 2, 2)),
    Case("sigmoid", lambda d: nn.Sigmoid(), (4, 3)),
    Case("tanh", lambda d: nn.Tanh(), (4, 3)),
    Case("relu", lambda d: nn.ReLU(), (4, 3)),
    Case("leaky-relu", lambda d: nn.LeakyReLU(), (4, 3)),
    Case("leaky-relu-0.2", lambda d: nn.LeakyReLU(0.2), (4, 3)),
    Case("softmax-0", lambda d: nn.Softmax(0), (3, 4, 2)),
    Case("softmax-1", lambda d: nn.Softmax(1), (3, 4, 2)),
    Case("softmax-2", lambda d: nn.Softmax(2), (3, 4, 2)),
    Case("softmax-neg", lambda d: nn.Softmax(-2), (3, 4, 2)),
    Case("dropout-train", lambda d: nn.Dropout(0.4, rng=0), (6, 5)),
    Case("dropout-eval", lambda d: nn.Dropout(0.4, rng=0), (6, 5), "eval"),
    Case("batchnorm-2d-train", _bn(), (6, 3)),
    Case("batchnorm-2d-eval", _bn(), (6, 3), "eval"),
    Case("batchnorm-3d-train", _bn(), (4, 3, 5)),
    Case("batchnorm-3d-eval", _bn(), (4, 3, 5), "eval"),
    Case("batchnorm-no-affine-train", _bn(affine=False), (5, 3, 2)),
    Case("batchnorm-no-affine-eval", _bn(affine=False), (5, 3, 2), "eval"),
    Case("batchnorm-no-stats-train", _bn(track_running_stats=False), (6, 3)),
    Case("batchnorm-no-stats-eval", _bn(track_running_stats=False), (6, 3), "eval"),
    Case("batchnorm-momentum-none-train", _bn(momentum=None), (4, 3, 2)),
    Case("batchnorm-momentum-none-eval", _bn(momentum=None), (4, 3, 2), "eval"),
]
DETERMINISTIC = [c for c in CASES if c.id != "dropout-train"]


def build(case: Case, dtype, seed: int = 0) -> nn.Module:
    """The case's module with random parameters, running stats warmed up, in the case's mode."""
    rng = np.random.default_rng(seed)
    module = case.make(dtype)
    for name, param in module.named_parameters():
        # BatchNorm's weight starts at 1 and its bias at 0: move them off those values
        param.data[...] = rng.uniform(0.5, 1.5, param.shape) if name.endswith("weight") else rng.standard_normal(param.shape)
    if isinstance(module, nn.BatchNorm1d) and module.track_running_stats:
        module.train()
        for _ in range(3):
            module(rng.normal(2.0, 3.0, case.shape))
    module.train(case.mode == "train")
    return module


def make_input(shape: tuple, dtype, seed: int = 1) -> np.ndarray:
    """Standard normal values kept at least 0.1 away from 0, the kink of ReLU and LeakyReLU."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x + 0.1 * np.sign(x)).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradcheck(case):
    module = build(case, np.float64)
    result = gradcheck(module, make_input(case.shape, np.float64))
    # every parameter took part (a check of nothing would pass trivially)
    names = {c.name for c in result.checks}
    assert names == {"input 0"} | {f"parameter '{n}'" for n, _ in module.named_parameters()}


def test_dropout_gradcheck_sees_a_real_mask():
    """The train-mode check above is meaningful only if the mask zeroes some entries."""
    case = next(c for c in CASES if c.id == "dropout-train")
    x = make_input(case.shape, np.float64)
    out = build(case, np.float64)(x)
    dropped = out == 0
    assert 0 < dropped.sum() < x.size
    np.testing.assert_allclose(out[~dropped], x[~dropped] / 0.6, rtol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradients_accumulate(case):
    check_grad_accumulates(build(case, np.float32), make_input(case.shape, np.float32))


@pytest.mark.parametrize("case", DETERMINISTIC, ids=lambda c: c.id)
def test_second_forward_overwrites_the_cache(case):
    """backward after forward(x1), forward(x2) is the backward of x2 alone."""
    x1, x2 = make_input(case.shape, np.float64, 1), make_input(case.shape, np.float64, 2)
    twice = build(case, np.float64)
    twice(x1)
    out = twice(x2)
    grad_out = np.random.default_rng(3).standard_normal(out.shape)
    grad_twice = twice.backward(grad_out)

    once = build(case, np.float64)
    once(x2)
    np.testing.assert_array_equal(grad_twice, once.backward(grad_out))
    for (name, p_twice), (_, p_once) in zip(twice.named_parameters(), once.named_parameters()):
        np.testing.assert_array_equal(p_twice.grad, p_once.grad, err_msg=name)


def test_dropout_backward_uses_the_latest_mask():
    module = nn.Dropout(0.5, rng=0)
    x1, x2 = make_input((8, 6), np.float64, 1), make_input((8, 6), np.float64, 2)
    out1 = module(x1)
    out2 = module(x2)
    assert not np.array_equal(out1 == 0, out2 == 0)  # two different masks were drawn
    grad_out = np.random.default_rng(3).standard_normal(x2.shape)
    np.testing.assert_allclose(module.backward(grad_out), grad_out * out2 / x2, rtol=1e-14)


@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_float32_stays_float32(case, grad_dtype):
    """Outputs and gradients of a float32 layer are float32, even for a float64 grad_out."""
    module = build(case, np.float32)
    x = make_input(case.shape, np.float32)
    out = module(x)
    grad_in = module.backward(np.ones(out.shape, dtype=grad_dtype))
    assert_dtype_tree((out, grad_in), np.float32)
    assert_dtype_tree([p.data for p in module.parameters()], np.float32)
    assert_dtype_tree([p.grad for p in module.parameters()], np.float32)
    if isinstance(module, nn.BatchNorm1d) and module.track_running_stats:
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
