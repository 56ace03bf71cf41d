"""RNN, LSTM and GRU without PyTorch: gradient checks, state contract, truncated BPTT, errors.

The PyTorch parity tests are in ``tests/oracle/test_recurrent_parity.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, gradcheck

# (class, extra constructor arguments): the four cells.
CELLS = {
    "rnn_tanh": (nn.RNN, {}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, {}),
    "gru": (nn.GRU, {}),
}
N_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def make(cell: str, input_size=3, hidden_size=4, **kwargs) -> nn.RNNBase:
    """The layer; these tests feed (batch, seq_len, features) unless they say batch_first=False."""
    cls, extra = CELLS[cell]
    return cls(input_size, hidden_size, **extra, **{"rng": 0, "batch_first": True, **kwargs})


def initial_state(cell: str, layer: nn.RNNBase, batch: int, rng: np.random.Generator):
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    h0 = rng.standard_normal((rows, batch, layer.hidden_size))
    if cell == "lstm":
        return h0, rng.standard_normal((rows, batch, layer.hidden_size))
    return h0


class Wrapped(nn.Module):
    """Feeds a recurrent layer only part of the gradient a loss would send it.

    ``"last_step"``: the output is ``output[:, -1]`` (a loss on the last step only:
    the output gradient is zero at every other step); ``"final_state"``: the
    output is ``h_n`` alone (backward receives ``(None, grad_h_n)``).
    """

    def __init__(self, layer: nn.RNNBase, what: str):
        super().__init__()
        self.layer = layer
        self.what = what

    def forward(self, x, *hx):
        output, state = self.layer(x, *hx)
        self._cache = output.shape
        if self.what == "last_step":
            return output[:, -1]
        return state[0] if isinstance(state, tuple) else state

    def backward(self, grad):
        if self.what == "last_step":
            grad_output = np.zeros(self._saved(), dtype=grad.dtype)
            grad_output[:, -1] = grad
            return self.layer.backward(grad_output)
        state_grad = (grad, None) if isinstance(self.layer, nn.LSTM) else grad
        return self.layer.backward((None, state_grad))


# --------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    "config",
    [
        {},
        {"num_layers": 2, "hx": True},
        {"num_layers": 2, "bidirectional": True, "hx": True},
        {"bias": False, "batch_first": False, "hx": True},
    ],
    ids=["one_layer", "two_layers_hx", "bidirectional_hx", "no_bias_time_major_hx"],
)
def test_gradcheck_every_step(cell, config):
    """Loss on every output step and on the final state(s)."""
    config = dict(config)
    with_hx = config.pop("hx", False)
    layer = make(cell, dtype=np.float64, **config)
    rng = np.random.default_rng(1)
    batch, steps = 2, 4
    shape = (batch, steps, 3) if layer.batch_first else (steps, batch, 3)
    inputs = [rng.standard_normal(shape)]
    if with_hx:
        inputs.append(initial_state(cell, layer, batch, rng))
    result = gradcheck(layer, *inputs)
    # Every parameter and every input tensor was compared.
    assert len(result.checks) == len(list(layer.parameters())) + (3 if with_hx and cell == "lstm" else 1 + with_hx)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("what", ["last_step", "final_state"])
def test_gradcheck_loss_on_the_end_only(cell, what):
    """A loss on the last output step only, or on h_n only, through two layers from an initial state."""
    layer = make(cell, num_layers=2, dtype=np.float64)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3))
    gradcheck(Wrapped(layer, what), x, initial_state(cell, layer, 2, rng))


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_dropout_between_layers_in_training(cell):
    layer = make(cell, num_layers=3, dropout=0.4, dtype=np.float64)
    x = np.random.default_rng(3).standard_normal((2, 4, 3))
    out_a, _ = layer(x)
    out_b, _ = layer(x)
    assert not np.allclose(out_a, out_b), "training mode should draw new dropout masks"
    gradcheck(layer, x)


@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_unbatched(cell):
    layer = make(cell, num_layers=2, dtype=np.float64)
    rng = np.random.default_rng(4)
    h0 = initial_state(cell, layer, 1, rng)
    h0 = tuple(h[:, 0] for h in h0) if cell == "lstm" else h0[:, 0]
    gradcheck(layer, rng.standard_normal((5, 3)), h0)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_accumulate(cell):
    layer = make(cell, num_layers=2, bidirectional=True, dtype=np.float64)
    rng = np.random.default_rng(5)
    check_grad_accumulates(layer, rng.standard_normal((3, 4, 3)), initial_state(cell, layer, 3, rng))


# ------------------------------------------------------------ the state contract
@pytest.mark.parametrize("cell", CELLS)
def test_state_dict_keys_shapes_and_init(cell):
    layer = make(cell, input_size=5, hidden_size=6, num_layers=2, bidirectional=True)
    gates = N_GATES[cell] * 6
    expected = {}
    for k in range(2):
        for suffix in ("", "_reverse"):
            expected[f"weight_ih_l{k}{suffix}"] = (gates, 5 if k == 0 else 12)
            expected[f"weight_hh_l{k}{suffix}"] = (gates, 6)
            expected[f"bias_ih_l{k}{suffix}"] = (gates,)
            expected[f"bias_hh_l{k}{suffix}"] = (gates,)
    state = layer.state_dict()
    assert list(state) == list(expected)  # PyTorch's order: layer, direction, then ih, hh, biases
    assert {key: value.shape for key, value in state.items()} == expected
    bound = 1 / math.sqrt(6)
    for key, value in state.items():
        assert value.dtype == np.float32
        assert np.abs(value).max() <= bound, key
    every = np.concatenate([value.ravel() for value in state.values()])
    assert every.min() < -0.95 * bound and every.max() > 0.95 * bound, "init does not fill U(-1/sqrt(H), 1/sqrt(H))"
    no_bias = make(cell, bias=False)
    assert list(no_bias.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cell", CELLS)
def test_same_seed_same_numbers(cell):
    x = np.random.default_rng(6).standard_normal((2, 5, 3))
    a, b, c = make(cell, rng=7), make(cell, rng=7), make(cell, rng=8)
    assert all(np.array_equal(u, v) for u, v in zip(a.state_dict().values(), b.state_dict().values()))
    assert np.array_equal(a(x)[0], b(x)[0])
    assert not np.allclose(a(x)[0], c(x)[0])


@pytest.mark.parametrize("cell", CELLS)
def test_output_and_state_shapes(cell):
    layer = make(cell, input_size=3, hidden_size=5, num_layers=3, bidirectional=True)
    output, state = layer(np.zeros((4, 7, 3)))
    assert output.shape == (4, 7, 10)
    states = state if cell == "lstm" else (state,)
    for s in states:
        assert s.shape == (6, 4, 5)
    # The forward direction's last step is the last layer's forward h_n; the reverse
    # direction's "final" state is its output at step 0.
    h_n = states[0]
    np.testing.assert_array_equal(output[:, -1, :5], h_n[4])
    np.testing.assert_array_equal(output[:, 0, 5:], h_n[5])


@pytest.mark.parametrize("cell", CELLS)
def test_layouts_agree(cell):
    """Batch-first, time-major and unbatched inputs are the same computation."""
    rng = np.random.default_rng(9)
    first = make(cell, num_layers=2, dtype=np.float64)
    time_major = make(cell, num_layers=2, batch_first=False, dtype=np.float64)
    time_major.load_state_dict(first.state_dict())
    x = rng.standard_normal((3, 6, 3))
    hx = initial_state(cell, first, 3, rng)
    out_first, state_first = first(x, hx)
    out_time, state_time = time_major(x.transpose(1, 0, 2), hx)
    np.testing.assert_allclose(out_time.transpose(1, 0, 2), out_first, rtol=1e-13, atol=1e-14)
    g = rng.standard_normal(out_first.shape)
    dx_first, _ = first.backward(g)
    dx_time, _ = time_major.backward(g.transpose(1, 0, 2))
    np.testing.assert_allclose(dx_time.transpose(1, 0, 2), dx_first, rtol=1e-13, atol=1e-14)
    # Sample 1 alone, without a batch axis.
    h_one = tuple(h[:, 1] for h in hx) if cell == "lstm" else hx[:, 1]
    out_one, state_one = first(x[1], h_one)
    np.testing.assert_allclose(out_one, out_first[1], rtol=1e-13, atol=1e-14)
    state_one = state_one[0] if cell == "lstm" else state_one
    state_first = state_first[0] if cell == "lstm" else state_first
    np.testing.assert_allclose(state_one, state_first[:, 1], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_float32_stays_float32(cell):
    layer = make(cell, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    hx = initial_state(cell, layer, 2, rng)
    hx = tuple(h.astype(np.float32) for h in hx) if cell == "lstm" else hx.astype(np.float32)
    output, state = layer(x, hx)
    assert_dtype_tree((output, state), np.float32)
    grads = layer.backward((np.ones_like(output), None))
    assert_dtype_tree(grads, np.float32)
    assert_dtype_tree([p.grad for p in layer.parameters()], np.float32)
    # float64 data in is cast to the layer's dtype, not the other way round.
    assert_dtype_tree(layer(x.astype(np.float64)), np.float32)


@pytest.mark.parametrize("cell", CELLS)
def test_eval_mode_turns_dropout_off(cell):
    x = np.random.default_rng(11).standard_normal((2, 4, 3))
    with_dropout = make(cell, num_layers=2, dropout=0.5, dtype=np.float64)
    without = make(cell, num_layers=2, dtype=np.float64)
    without.load_state_dict(with_dropout.state_dict())
    with_dropout.eval()
    np.testing.assert_array_equal(with_dropout(x)[0], without(x)[0])


# ------------------------------------------------------- truncated BPTT and norms
@pytest.mark.parametrize("cell", CELLS)
def test_truncated_bptt_chunks_reproduce_the_whole_sequence(cell):
    """Carrying h_n (a plain array: no gradient flows into it) across chunks gives
    the whole sequence's outputs; feeding each chunk's dL/dh0 back into the
    chunk before it (what truncation drops) gives the whole sequence's gradients."""
    rng = np.random.default_rng(12)
    layer = make(cell, num_layers=2, dtype=np.float64)
    x = rng.standard_normal((2, 12, 3))
    g = rng.standard_normal((2, 12, 4))
    whole, whole_state = layer(x)
    layer.zero_grad()
    dx_whole = layer.backward(g)
    grads_whole = [p.grad.copy() for p in layer.parameters()]

    state, outputs, starts = None, [], (0, 5, 9)
    ends = starts[1:] + (12,)
    for start, end in zip(starts, ends):
        out, state = layer(x[:, start:end], state)
        outputs.append(out)
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), whole, rtol=1e-13, atol=1e-14)
    for mine, full in zip(state if cell == "lstm" else (state,), whole_state if cell == "lstm" else (whole_state,)):
        np.testing.assert_allclose(mine, full, rtol=1e-13, atol=1e-14)

    # Backward chunk by chunk, last chunk first, carrying dL/dh0 into the chunk before.
    layer.zero_grad()
    carried, dx_parts, state_in = None, [], [None]
    for start, end in zip(starts[:-1], ends[:-1]):  # the initial state each chunk saw
        _, s = layer(x[:, start:end], state_in[-1])
        state_in.append(s)
    for start, end, hx in reversed(list(zip(starts, ends, state_in))):
        layer(x[:, start:end], hx)
        grads = layer.backward((g[:, start:end], carried))
        if hx is None:
            dx_parts.append(grads)
        else:
            dx_parts.append(grads[0])
            carried = grads[1]
    np.testing.assert_allclose(np.concatenate(dx_parts[::-1], axis=1), dx_whole, rtol=1e-12, atol=1e-13)
    for p, full in zip(layer.parameters(), grads_whole):
        np.testing.assert_allclose(p.grad, full, rtol=1e-12, atol=1e-13)


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"nonlinearity: expected one of 'tanh', 'relu', received 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(TypeError, match="input_size"):
        nn.GRU(3.5, 4)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(TypeError, match="bidirectional"):
        nn.GRU(3, 4, bidirectional="yes")
    with pytest.raises(TypeError, match="dtype"):
        nn.RNN(3, 4, dtype=np.int32)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.2)


@pytest.mark.parametrize("cell", CELLS)
def test_input_errors_name_the_layer_and_shapes(cell):
    layer = make(cell, input_size=3, hidden_size=4)
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}\(input_size=3, hidden_size=4\).*\(batch, seq_len, 3\).*received \(2, 5, 7\)"):
        layer(np.zeros((2, 5, 7)))
    with pytest.raises(ValueError, match=r"received \(2, 0, 3\)"):
        layer(np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match=r"received \(3,\)"):
        layer(np.zeros(3))
    with pytest.raises(TypeError, match=name):
        layer(np.array([["a"]]))


@pytest.mark.parametrize("cell", CELLS)
def test_state_errors(cell):
    layer = make(cell, num_layers=2)
    x = np.zeros((3, 5, 3))
    good = np.zeros((2, 3, 4))
    bad = np.zeros((1, 3, 4))
    if cell == "lstm":
        with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 3, 4\), received \(1, 3, 4\)"):
            layer(x, (good, bad))
        with pytest.raises(TypeError, match=r"hx must be a tuple \(h0, c0\)"):
            layer(x, good)
    else:
        with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3, 4\), received \(1, 3, 4\)"):
            layer(x, bad)
        with pytest.raises(TypeError, match="hx must be one array h0"):
            layer(x, (good, good))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 4\)"):
        layer(x[0], (good, good) if cell == "lstm" else good)  # unbatched input, batched state


@pytest.mark.parametrize("cell", CELLS)
def test_backward_errors(cell):
    layer = make(cell)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((2, 5, 4)))
    out, _ = layer(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"expected grad of output of shape \(2, 5, 4\), received \(2, 4, 4\)"):
        layer.backward(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"expected grad of h_n of shape \(1, 2, 4\)"):
        layer.backward((out, (np.zeros((2, 4)), None) if cell == "lstm" else np.zeros((2, 4))))
    with pytest.raises(ValueError, match="received 3 items"):
        layer.backward((out, None, None))
