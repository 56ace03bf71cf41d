"""What the PyTorch parity tests share: tolerances, dtype maps, the comparison.

Imported after ``pytest.importorskip("torch")``; a uniquely named module (not
conftest.py), so ``from parity_helpers import ...`` cannot pick up another folder's.
"""

from __future__ import annotations

import numpy as np
import torch

#: float64 within 1e-10 relative, float32 within 1e-5, of the tensor's largest entry
RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def to_numpy(value) -> np.ndarray:
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def assert_close(ours, theirs, what: str, scale: float = 0.0) -> None:
    """Same shape and dtype, equal within RTOL times the larger of the tensor's largest entry and
    ``scale`` (the size of the terms the tensor was computed from, where they are larger)."""
    ours, theirs = np.asarray(ours), to_numpy(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch has {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch has {theirs.dtype}"
    rtol = RTOL[ours.dtype]
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), scale)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


def compare(ours, theirs, x, rng, what, input_grad_scale=lambda grad_out: 0.0) -> None:
    """One forward and backward of both; outputs, input gradients and parameter gradients agree.

    ``input_grad_scale(grad_out)`` is the size of the terms of the input gradient (see
    :func:`assert_close`) where it can exceed the gradient itself.
    """
    ours.zero_grad()
    theirs.zero_grad()
    x_torch = torch.tensor(x, requires_grad=True)
    out = ours(x)
    out_torch = theirs(x_torch)
    grad_out = rng.standard_normal(out.shape).astype(x.dtype)
    grad_in = ours.backward(grad_out)
    out_torch.backward(torch.from_numpy(grad_out))
    assert_close(out, out_torch, f"{what}: output")
    assert_close(grad_in, x_torch.grad, f"{what}: input gradient", input_grad_scale(grad_out))
    torch_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(torch_params), what
    for name, param in ours.named_parameters():
        assert_close(param.grad, torch_params[name].grad, f"{what}: grad of {name}")
