"""The WGAN-GP penalty's weight gradient (nn.double_backward) against central differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn.double_backward import gradient_penalty


def _critic(activation, seed=0):
    return nn.Sequential(nn.Linear(3, 6, dtype=np.float64, rng=seed), activation(),
                         nn.Sequential(nn.Linear(6, 5, dtype=np.float64, rng=seed + 1), activation()),
                         nn.Linear(5, 1, dtype=np.float64, rng=seed + 2))


@pytest.mark.parametrize("activation", [nn.Tanh, lambda: nn.LeakyReLU(0.2), nn.ReLU, nn.Identity],
                         ids=["tanh", "leaky_relu", "relu", "identity"])
def test_penalty_gradient_matches_central_differences(activation, rng):
    critic = _critic(activation)
    x = rng.normal(size=(7, 3))
    gradient_penalty(critic, x, weight=3.0, target=0.5)
    analytic = {name: param.grad.copy() for name, param in critic.named_parameters()}
    eps = 1e-6
    for name, param in critic.named_parameters():
        numeric = np.zeros_like(param.data)
        for index in np.ndindex(param.shape):
            saved = param.data[index]
            param.data[index] = saved + eps
            plus = gradient_penalty(critic, x, weight=3.0, target=0.5)[0]
            param.data[index] = saved - eps
            minus = gradient_penalty(critic, x, weight=3.0, target=0.5)[0]
            param.data[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(analytic[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    if activation is not nn.Tanh:  # f'' = 0: the biases do not move the input gradient
        assert not analytic["0.bias"].any()
    else:
        assert np.abs(analytic["0.bias"]).max() > 1e-3


def test_penalty_value_and_norms_by_hand():
    """A linear critic D(x) = w.x + b has input gradient w everywhere: norm |w|, penalty weight (|w| - 1)^2,
    gradient 2 weight (|w| - 1) w / |w| on w, zero on b."""
    critic = nn.Sequential(nn.Linear(2, 1, dtype=np.float64, rng=0))
    critic[0].weight.data[...] = [[3.0, 4.0]]
    penalty, norms = gradient_penalty(critic, np.zeros((4, 2)), weight=2.0)
    np.testing.assert_allclose(norms, 5.0)
    assert penalty == pytest.approx(2.0 * 16)
    np.testing.assert_allclose(critic[0].weight.grad, [[2 * 2.0 * 4 * 3 / 5, 2 * 2.0 * 4 * 4 / 5]])
    assert not critic[0].bias.grad.any()


def test_frozen_parameters_and_float32_kept(rng):
    critic = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    critic[0].requires_grad_(False)
    _, norms = gradient_penalty(critic, rng.normal(size=(5, 2)).astype(np.float32))
    assert norms.dtype == np.float32 and critic[2].weight.grad.dtype == np.float32
    assert not critic[0].weight.grad.any() and critic[2].weight.grad.any()


def test_unsupported_layer_and_bad_output_are_named():
    with pytest.raises(TypeError, match="Dropout"):
        gradient_penalty(nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.5)), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1\)"):
        gradient_penalty(nn.Sequential(nn.Linear(2, 2)), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="weight"):
        gradient_penalty(nn.Sequential(nn.Linear(2, 1)), np.zeros((3, 2), np.float32), weight=-1.0)
