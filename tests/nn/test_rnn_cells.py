"""The cells (RNNCell, LSTMCell, GRUCell) by hand, and the fused layers (RNN, LSTM, GRU) equal to a loop of cells.

Gradient checks, accumulation, float32 and PyTorch parity of the cells are in the
layer-case table (``layer_cases.py``); here: a step worked out by hand, and the fused
multi-step layers against cells unrolled in time with shared parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn

CELLS = {"rnn": (nn.RNN, nn.RNNCell), "lstm": (nn.LSTM, nn.LSTMCell), "gru": (nn.GRU, nn.GRUCell)}


def test_rnn_cell_step_by_hand():
    cell = nn.RNNCell(2, 2, dtype=np.float64, rng=0)
    cell.load_state_dict({"weight_ih": [[1.0, 0.0], [0.0, 2.0]], "weight_hh": [[0.5, 0.0], [0.0, 0.5]],
                          "bias_ih": [0.0, 0.1], "bias_hh": [0.0, -0.1]})
    h = cell(np.array([[0.2, 0.3]]), np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(h, np.tanh([[0.2 + 0.5, 0.6 - 0.5]]), rtol=1e-15)
    dx, dh = cell.backward(np.array([[1.0, 0.0]]))
    da = 1 - np.tanh(0.7) ** 2
    np.testing.assert_allclose(dx, [[da, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(dh, [[0.5 * da, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(cell.weight_hh.grad, [[da * 1.0, -da], [0.0, 0.0]], rtol=1e-15)


def test_lstm_cell_with_open_forget_gate_and_closed_input_keeps_its_memory():
    """f = 1, i = 0 (huge biases): c' = c exactly; o = 1/2 (zero pre-activation): h' = tanh(c) / 2."""
    cell = nn.LSTMCell(3, 2, dtype=np.float64, rng=0)
    state = cell.state_dict()
    state["weight_ih"][...] = 0
    state["weight_hh"][...] = 0
    state["bias_hh"][...] = 0
    state["bias_ih"][...] = np.r_[[-50.0] * 2, [50.0] * 2, [0.0] * 2, [0.0] * 2]  # i, f, g, o
    cell.load_state_dict(state)
    c = np.array([[0.7, -1.2]])
    h_new, c_new = cell(np.ones((1, 3)), (np.zeros((1, 2)), c))
    np.testing.assert_allclose(c_new, c, rtol=1e-15)
    np.testing.assert_allclose(h_new, np.tanh(c) / 2, rtol=1e-15)


def shared_cells(layer: nn.RNNBase, cell_cls, steps: int, layer_index: int, direction: int) -> list:
    """``steps`` cells that share one set of Parameters, those of one layer and direction of ``layer``."""
    suffix = f"_l{layer_index}" + ("_reverse" if direction else "")
    template = cell_cls(layer.input_size if layer_index == 0 else layer.hidden_size * (1 + layer.bidirectional),
                        layer.hidden_size, bias=layer.bias, dtype=layer.dtype,
                        **({"nonlinearity": layer.nonlinearity} if cell_cls is nn.RNNCell else {}))
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if layer.bias else [])
    for name in names:
        setattr(template, name, getattr(layer, name + suffix))  # the same Parameter objects
    cells = [template]
    for _ in range(steps - 1):
        cell = cell_cls.__new__(cell_cls)
        cell.__dict__.update({k: v for k, v in template.__dict__.items()})
        cell._cache = None
        cells.append(cell)
    return cells


def unrolled(layer: nn.RNNBase, cell_cls, x: np.ndarray, grad_out: np.ndarray):
    """Output and dL/dx of ``layer`` (time-major, zero initial state) computed with a loop of cells."""
    steps, batch, _ = x.shape
    H, D = layer.hidden_size, 1 + layer.bidirectional
    is_lstm = cell_cls is nn.LSTMCell
    per_layer, layer_input = [], x
    for index in range(layer.num_layers):
        outputs, directions = [], []
        for direction in range(D):
            cells = shared_cells(layer, cell_cls, steps, index, direction)
            order = range(steps) if direction == 0 else reversed(range(steps))
            state = (np.zeros((batch, H)), np.zeros((batch, H))) if is_lstm else np.zeros((batch, H))
            out = np.empty((steps, batch, H))
            for t, cell in zip(order, cells):
                state = cell(layer_input[t], state)
                out[t] = state[0] if is_lstm else state
            outputs.append(out)
            directions.append(cells)
        per_layer.append((layer_input, directions))
        layer_input = np.concatenate(outputs, axis=2)
    output = layer_input

    grad = grad_out  # (T, B, D*H)
    for layer_input, directions in reversed(per_layer):
        grad_input = np.zeros_like(layer_input)
        for direction, cells in enumerate(directions):
            order = list(range(steps) if direction == 0 else reversed(range(steps)))
            dh = np.zeros((batch, H))
            dc = np.zeros((batch, H))
            for t, cell in zip(reversed(order), reversed(cells)):
                g = grad[t][:, direction * H:(direction + 1) * H] + dh
                dx, state_grad = cell.backward((g, dc) if is_lstm else g)
                dh, dc = state_grad if is_lstm else (state_grad, None)
                grad_input[t] += dx
        grad = grad_input
    return output, grad


@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True}, {"bias": False, "nonlinearity": "relu"}],
                         ids=["one-layer", "two-layers-bidirectional", "no-bias-relu"])
@pytest.mark.parametrize("cell", CELLS)
def test_the_fused_layer_is_a_loop_of_cells(cell, options):
    layer_cls, cell_cls = CELLS[cell]
    if "nonlinearity" in options and cell != "rnn":
        options = {k: v for k, v in options.items() if k != "nonlinearity"}
    rng = np.random.default_rng(0)
    fused = layer_cls(3, 4, dtype=np.float64, rng=1, batch_first=False, **options)
    reference = layer_cls(3, 4, dtype=np.float64, rng=2, batch_first=False, **options)
    reference.load_state_dict(fused.state_dict())
    x = rng.standard_normal((6, 2, 3))
    output, _ = fused(x)
    grad_out = rng.standard_normal(output.shape)
    dx = fused.backward(grad_out)
    loop_output, loop_dx = unrolled(reference, cell_cls, x, grad_out)
    np.testing.assert_allclose(output, loop_output, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, loop_dx, rtol=1e-11, atol=1e-13)
    for (name, ours), (_, theirs) in zip(fused.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-11, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_cell_errors_name_the_cell_and_the_shapes(cell):
    _, cell_cls = CELLS[cell]
    module = cell_cls(3, 4, rng=0)
    with pytest.raises(ValueError, match=rf"{cell_cls.__name__}\(input_size=3, hidden_size=4\): expected input of shape \(batch, 3\)"):
        module(np.zeros((2, 5)))
    state = (np.zeros((2, 4)), np.zeros((3, 4))) if cell == "lstm" else np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"expected (c|hx) of shape \(2, 4\), received \(3, 4\)"):
        module(np.zeros((2, 3)), state)
    with pytest.raises(ValueError, match="hidden_size: expected an integer >= 1, received 0"):
        cell_cls(3, 0)
