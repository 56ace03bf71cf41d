"""PyTorch parity for every case of the layer-case table that has a PyTorch twin.

Our state dict (random parameters, warmed-up running statistics) is loaded into the
twin; both run the same inputs, backpropagate the same random gradient of every float
output (an LSTM's output, h_n and c_n), and must agree on the outputs, the gradients of
every float input and of every parameter: float64 within 1e-10 and float32 within 1e-5
of the tensor's largest entry (``parity_helpers.assert_close``).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from layer_cases import WITH_TORCH, build, case_id, leaves, make_inputs, map_tree  # noqa: E402
from parity_helpers import TORCH_DTYPE, assert_close  # noqa: E402  (after importorskip)


def to_torch(tree, requires_grad: bool):
    if isinstance(tree, tuple):
        return tuple(to_torch(item, requires_grad) for item in tree)
    tensor = torch.from_numpy(np.array(tree))
    return tensor.requires_grad_(requires_grad and tensor.is_floating_point())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WITH_TORCH, ids=case_id)
def test_forward_and_gradients_match_torch(case, dtype):
    ours = build(case, dtype)
    theirs = case.torch(torch, TORCH_DTYPE[np.dtype(dtype)])
    theirs.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in ours.state_dict().items()})
    theirs.train(ours.training)
    inputs = make_inputs(case, dtype)
    inputs_torch = to_torch(inputs, requires_grad=True)

    out = ours(*inputs)
    out_torch = theirs(*inputs_torch)
    rng = np.random.default_rng(2)
    grad_out = map_tree(lambda o: rng.standard_normal(o.shape).astype(dtype), out)
    grad_in = ours.backward(grad_out)
    pairs = [(o, g) for o, g in zip(leaves(out_torch), leaves(grad_out), strict=True) if g is not None]
    torch.autograd.backward([o for o, _ in pairs], [torch.from_numpy(g) for _, g in pairs])

    for index, (a, b) in enumerate(zip(leaves(out), leaves(out_torch), strict=True)):
        assert_close(a, b, f"{case.id}: output {index}")
    grad_in = grad_in if len(inputs) > 1 else (grad_in,)
    for index, (a, x) in enumerate(zip(leaves(grad_in), leaves(inputs_torch), strict=True)):
        if x.requires_grad:
            assert_close(a, x.grad, f"{case.id}: gradient of input {index}")
    torch_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(torch_params), case.id
    for name, param in ours.named_parameters():
        assert_close(param.grad, torch_params[name].grad, f"{case.id}: grad of {name}")
