"""dltoys.nn.functional and dltoys.nn.init against torch.nn.functional and torch.nn.init."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys.nn import functional as F
from dltoys.nn import init

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_functional_matches_torch_and_keeps_the_dtype(dtype, rtol):
    x = (RNG.standard_normal((5, 7)) * 30).astype(dtype)  # large values: stability matters
    t = torch.from_numpy(x)
    cases = {
        "sigmoid": (F.sigmoid(x), torch.sigmoid(t)),
        "softplus": (F.softplus(x), torch.nn.functional.softplus(t)),
        "logsumexp": (F.logsumexp(x, axis=1), torch.logsumexp(t, dim=1)),
        "logsumexp-keepdims": (F.logsumexp(x, axis=0, keepdims=True), torch.logsumexp(t, dim=0, keepdim=True)),
        "softmax": (F.softmax(x, axis=0), torch.softmax(t, dim=0)),
        "log_softmax": (F.log_softmax(x, axis=1), torch.log_softmax(t, dim=1)),
    }
    for name, (ours, theirs) in cases.items():
        assert ours.dtype == dtype, name
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=rtol, atol=1e-30, err_msg=name)


def test_one_hot_matches_torch_and_checks_its_indices():
    indices = RNG.integers(0, 5, (3, 4))
    np.testing.assert_array_equal(F.one_hot(indices, 5), torch.nn.functional.one_hot(torch.from_numpy(indices), 5).numpy())
    assert F.one_hot(indices, 5).dtype == np.float32
    with pytest.raises(ValueError, match=r"one_hot: indices must lie in \[0, 5\), received values from 0 to 5"):
        F.one_hot(np.array([0, 5]), 5)
    with pytest.raises(TypeError, match=r"one_hot: indices must be integers, received float64"):
        F.one_hot(np.array([0.0]), 5)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (6, 2, 7)])
def test_fans_and_gains_equal_torch(shape):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == (fan_in, fan_out)
    for nonlinearity, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5))]:
        assert init.gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("draw, bound, std", [
    # (sampler, largest |value| allowed (None: unbounded), its standard deviation), weight (400, 300)
    (lambda s: init.xavier_uniform(s, rng=0), math.sqrt(6 / 700), math.sqrt(6 / 700) / math.sqrt(3)),
    (lambda s: init.xavier_normal(s, rng=0), None, math.sqrt(2 / 700)),
    (lambda s: init.kaiming_uniform(s, rng=0), math.sqrt(2) * math.sqrt(3 / 300), math.sqrt(2 / 300)),
    (lambda s: init.kaiming_uniform(s, "leaky_relu", a=math.sqrt(5), rng=0), 1 / math.sqrt(300), 1 / math.sqrt(900)),
    (lambda s: init.kaiming_normal(s, rng=0), None, math.sqrt(2 / 300)),
])
def test_initialisers_draw_the_documented_distribution(draw, bound, std):
    weight = draw((400, 300))
    assert weight.shape == (400, 300) and weight.dtype == np.float32
    if bound is not None:
        assert np.abs(weight).max() <= bound
        assert np.abs(weight).max() > 0.99 * bound  # it uses its whole range
    # 120,000 draws: the sample standard deviation is within 1% of the true one
    assert weight.std() == pytest.approx(std, rel=0.01)
    assert abs(weight.mean()) < 5 * std / math.sqrt(weight.size)
    np.testing.assert_array_equal(weight, draw((400, 300)))  # a seed fixes every weight


def test_bad_init_arguments_are_named():
    with pytest.raises(ValueError, match=r"fans need a weight with at least 2 dimensions, received shape \(3,\)"):
        init.fan_in_and_fan_out((3,))
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of .* received 'gelu'"):
        init.gain("gelu")
