"""The WGAN-GP penalty's weight gradient (a hand-written double backward) against torch.autograd.grad(create_graph=True)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from parity_helpers import RTOL, TORCH_DTYPE, assert_close  # noqa: E402

from dltoys import nn  # noqa: E402
from dltoys.nn.double_backward import gradient_penalty  # noqa: E402

ACTIVATIONS = {
    "relu": (nn.ReLU, torch.nn.ReLU),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "tanh": (nn.Tanh, torch.nn.Tanh),
}


def _critics(activation: str, sizes: tuple, dtype, seed: int):
    ours_act, torch_act = ACTIVATIONS[activation]
    ours, theirs = [], []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        ours.append(nn.Linear(n_in, n_out, dtype=dtype, rng=seed + index))
        theirs.append(torch.nn.Linear(n_in, n_out, dtype=TORCH_DTYPE[np.dtype(dtype)]))
        if index < len(sizes) - 2:
            ours.append(ours_act())
            theirs.append(torch_act())
    ours, theirs = nn.Sequential(*ours), torch.nn.Sequential(*theirs)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [(2, 16, 16, 1), (5, 7, 1), (3, 1)])
def test_penalty_weight_gradient_matches_torch(activation, sizes, dtype):
    rng = np.random.default_rng(len(sizes) * 10 + sizes[0])
    ours, theirs = _critics(activation, sizes, dtype, seed=3)
    x = rng.normal(size=(9, sizes[0])).astype(dtype)
    penalty, norms = gradient_penalty(ours, x, weight=10.0, target=1.0)

    x_t = torch.from_numpy(x).requires_grad_(True)
    (grad_x,) = torch.autograd.grad(theirs(x_t).sum(), x_t, create_graph=True)
    norms_t = grad_x.norm(dim=1)
    penalty_t = 10.0 * ((norms_t - 1) ** 2).mean()
    penalty_t.backward()

    assert_close(norms, norms_t, "input-gradient norms")
    np.testing.assert_allclose(penalty, penalty_t.item(), rtol=RTOL[np.dtype(dtype)] * 10)
    our_params = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        ours_grad = our_params[name].grad
        theirs_grad = torch.zeros_like(param) if param.grad is None else param.grad
        assert_close(ours_grad, theirs_grad, f"{activation} {sizes} {name}.grad", scale=float(np.abs(x).max()))
