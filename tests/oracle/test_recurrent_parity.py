"""PyTorch parity for RNN (tanh, ReLU), LSTM and GRU over random shapes and layer counts.

Our state dict is copied into ``torch.nn.RNN/LSTM/GRU``, both ``batch_first=True``
(the default layout, time-major, is in the layer-case table's parity test); both
run the same input and initial state, and backpropagate the same random
gradients of the output and of the final state(s). Compared: output, h_n, c_n,
dL/dx, dL/dh0, dL/dc0 and every parameter gradient, float64 within 1e-10 and
float32 within 1e-5 of the tensor's largest entry (a normwise relative error,
as in ``test_nn_parity.py``). Then a few Adam steps on both.
"""

from __future__ import annotations

import numpy as np
import pytest

import dltoys.optim
from dltoys import nn

torch = pytest.importorskip("torch")

from parity_helpers import TORCH_DTYPE, assert_close  # noqa: E402  (after importorskip)

CELLS = {
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
}


def build_pair(cell: str, input_size: int, hidden_size: int, dtype, **kwargs):
    ours_cls, torch_cls, extra = CELLS[cell]
    ours = ours_cls(input_size, hidden_size, **extra, batch_first=True, dtype=dtype, rng=0, **kwargs)
    theirs = torch_cls(input_size, hidden_size, **extra, batch_first=True, dtype=TORCH_DTYPE[np.dtype(dtype)], **kwargs)
    theirs.load_state_dict({key: torch.from_numpy(value.copy()) for key, value in ours.state_dict().items()})
    return ours, theirs


def random_cases(n_cases: int, seed: int):
    """Random shapes: batch 1-4, 1-7 steps, 1-5 inputs, 1-6 hidden, 1-3 layers, and the flags."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        yield {
            "batch": int(rng.integers(1, 5)),
            "steps": int(rng.integers(1, 8)),
            "input_size": int(rng.integers(1, 6)),
            "hidden_size": int(rng.integers(1, 7)),
            "num_layers": int(rng.integers(1, 4)),
            "bidirectional": bool(rng.integers(0, 2)),
            "bias": bool(rng.random() < 0.8),
            "with_hx": bool(rng.integers(0, 2)),
            "state_grad": bool(rng.integers(0, 2)),
            "output_grad": bool(rng.random() < 0.8),
        }


def run_both(cell, case, dtype, seed):
    """Forward and backward on both libraries; returns what to compare as (name, ours, theirs)."""
    rng = np.random.default_rng(seed)
    ours, theirs = build_pair(
        cell, case["input_size"], case["hidden_size"], dtype,
        num_layers=case["num_layers"], bidirectional=case["bidirectional"], bias=case["bias"],
    )
    B, T, H = case["batch"], case["steps"], case["hidden_size"]
    rows = case["num_layers"] * (2 if case["bidirectional"] else 1)
    x = rng.standard_normal((B, T, case["input_size"])).astype(dtype)
    lstm = cell == "lstm"
    hx = None
    if case["with_hx"]:
        hx = tuple(rng.standard_normal((rows, B, H)).astype(dtype) for _ in range(2 if lstm else 1))
    x_t = torch.tensor(x, requires_grad=True)
    hx_t = None if hx is None else tuple(torch.tensor(h, requires_grad=True) for h in hx)

    output, state = ours(x, None if hx is None else (hx if lstm else hx[0]))
    output_t, state_t = theirs(x_t, None if hx_t is None else (hx_t if lstm else hx_t[0]))
    states, states_t = (state, state_t) if lstm else ((state,), (state_t,))

    # A loss on the outputs, on the final states, or both (never neither).
    grad_output = rng.standard_normal(output.shape).astype(dtype) if case["output_grad"] or not case["state_grad"] else None
    grad_states = [rng.standard_normal(s.shape).astype(dtype) for s in states] if case["state_grad"] else None
    loss = 0
    if grad_output is not None:
        loss = loss + (output_t * torch.from_numpy(grad_output)).sum()
    if grad_states is not None:
        loss = loss + sum((s * torch.from_numpy(g)).sum() for s, g in zip(states_t, grad_states))
    loss.backward()
    if grad_states is None:
        grads = ours.backward(grad_output)
    else:
        grads = ours.backward((grad_output, tuple(grad_states) if lstm else grad_states[0]))

    pairs = [("output", output, output_t)]
    pairs += [(f"state {k}", s, s_t) for k, (s, s_t) in enumerate(zip(states, states_t))]
    if hx is None:
        pairs.append(("dx", grads, x_t.grad))
    else:
        dx, dstate = grads
        pairs.append(("dx", dx, x_t.grad))
        dstate = dstate if lstm else (dstate,)
        pairs += [(f"d initial state {k}", d, h.grad) for k, (d, h) in enumerate(zip(dstate, hx_t))]
    theirs_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(theirs_params)
    pairs += [(f"grad {name}", p.grad, theirs_params[name].grad) for name, p in ours.named_parameters()]
    return pairs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELLS)
def test_forward_backward_parity_over_random_shapes(cell, dtype):
    for index, case in enumerate(random_cases(12, seed=list(CELLS).index(cell))):
        for name, ours, theirs in run_both(cell, case, dtype, seed=index):
            assert_close(ours, theirs, f"{cell} {case}: {name}")


@pytest.mark.parametrize("cell", CELLS)
def test_parity_on_a_longer_sequence(cell):
    """50 steps, two layers: errors would compound over time if any step were off."""
    case = dict(batch=3, steps=50, input_size=4, hidden_size=8, num_layers=2, bidirectional=False,
                bias=True, with_hx=True, state_grad=True, output_grad=True)
    for name, ours, theirs in run_both(cell, case, np.float64, seed=7):
        assert_close(ours, theirs, f"{cell}: {name}")


@pytest.mark.parametrize("cell", CELLS)
def test_eval_mode_dropout_parity(cell):
    ours, theirs = build_pair(cell, 3, 5, np.float64, num_layers=3, dropout=0.5)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(8).standard_normal((2, 6, 3))
    assert_close(ours(x)[0], theirs(torch.from_numpy(x))[0], f"{cell} eval output")


@pytest.mark.parametrize("cell", CELLS)
def test_unbatched_parity(cell):
    ours, theirs = build_pair(cell, 3, 5, np.float64, num_layers=2, bidirectional=True)
    x = np.random.default_rng(9).standard_normal((6, 3))
    output, state = ours(x)
    output_t, state_t = theirs(torch.from_numpy(x))
    assert_close(output, output_t, f"{cell} unbatched output")
    for k, (s, s_t) in enumerate(zip(*((state, state_t) if cell == "lstm" else ((state,), (state_t,))))):
        assert_close(s, s_t, f"{cell} unbatched state {k}")


@pytest.mark.parametrize("cell", CELLS)
def test_adam_steps_parity(cell):
    """Three Adam steps on a squared loss of the outputs and the final state: same weights after each."""
    Adam = dltoys.optim.Adam
    ours, theirs = build_pair(cell, 3, 5, np.float64, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 6, 3))
    target = rng.standard_normal((4, 6, 10))
    settings = dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)
    optimizer = Adam(list(ours.parameters()), **settings)
    optimizer_t = torch.optim.Adam(theirs.parameters(), **settings)
    x_t, target_t = torch.from_numpy(x), torch.from_numpy(target)
    for step in range(3):
        optimizer.zero_grad()
        output, state = ours(x)
        h_n = state[0] if cell == "lstm" else state
        # L = sum((output - target)^2) / 2 + sum(h_n) / 2
        grad_h_n = np.full_like(h_n, 0.5)
        ours.backward((output - target, (grad_h_n, None) if cell == "lstm" else grad_h_n))
        optimizer.step()

        optimizer_t.zero_grad()
        output_t, state_t = theirs(x_t)
        h_n_t = state_t[0] if cell == "lstm" else state_t
        loss = ((output_t - target_t) ** 2).sum() / 2 + h_n_t.sum() / 2
        loss.backward()
        optimizer_t.step()

        assert_close(output, output_t, f"{cell} output before step {step}")
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            assert_close(p.data, theirs_params[name], f"{cell} {name} after step {step}")
