"""SequenceModel: gradient checks, shapes, dtype, carried state, errors, and a learning test."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dltoys import nn, optim, train
from dltoys.data import as_sequences, make_parity, parity_of, parity_truth_table
from dltoys.models import SequenceModel
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, gradcheck

CELLS = ("rnn", "lstm", "gru")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("readout", ["last", "all"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_gradients_match_central_differences(cell, readout, num_layers):
    model = SequenceModel(cell, 3, 4, 2, num_layers=num_layers, readout=readout, dtype=np.float64, rng=0)
    x = np.random.default_rng(1).standard_normal((3, 5, 3))
    result = gradcheck(model, x)
    assert result.ok
    # Every parameter of the recurrent layer and of the head was checked.
    checked = {check.name for check in result.checks}
    assert checked == {"input 0"} | {f"parameter {name!r}" for name, _ in model.named_parameters()}


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_with_an_initial_state(cell):
    model = SequenceModel(cell, 2, 3, 1, readout="last", dtype=np.float64, rng=0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 2))
    h0 = rng.standard_normal((1, 2, 3))
    hx = (h0, rng.standard_normal((1, 2, 3))) if cell == "lstm" else h0
    gradcheck(model, x, hx)


def test_relu_rnn_gradients():
    model = SequenceModel("rnn", 2, 3, 1, nonlinearity="relu", dtype=np.float64, rng=3)
    gradcheck(model, np.random.default_rng(0).standard_normal((4, 6, 2)))


@pytest.mark.parametrize("cell", CELLS)
def test_last_readout_equals_the_head_on_the_layers_last_step(cell):
    model = SequenceModel(cell, 1, 5, 3, num_layers=2, rng=0)
    bits = make_parity(7, 9, rng=0, dtype=np.uint8)[0]
    out = model(as_sequences(bits))
    assert out.shape == (7, 3) and out.dtype == np.float32
    hidden, state = model.rnn(as_sequences(bits))
    np.testing.assert_array_equal(out, model.head(hidden[:, -1]))
    h_n = state[0] if cell == "lstm" else state
    np.testing.assert_array_equal(hidden[:, -1], h_n[-1])  # the last step is the top layer's final state
    every_step = SequenceModel(cell, 1, 5, 3, num_layers=2, readout="all", rng=0)
    all_out = every_step(as_sequences(bits))
    assert all_out.shape == (7, 9, 3)
    np.testing.assert_allclose(all_out[:, -1], out, rtol=1e-6)  # same seed, same weights


@pytest.mark.parametrize("cell", CELLS)
def test_float32_stays_float32_and_float64_on_request(cell):
    x = np.random.default_rng(0).standard_normal((2, 3, 2)).astype(np.float32)
    model = SequenceModel(cell, 2, 3, 1, rng=0)
    out = model(x)
    dx = model.backward(np.ones_like(out))
    assert_dtype_tree((out, dx, *[p.grad for p in model.parameters()]), np.float32)
    model64 = SequenceModel(cell, 2, 3, 1, readout="all", dtype="float64", rng=0)
    out64 = model64(x)
    assert_dtype_tree((out64, model64.backward(np.ones_like(out64))), np.float64)


def test_conversion_drops_the_carried_state():
    model = SequenceModel("lstm", 2, 3, 1, rng=0)
    model(np.zeros((1, 4, 2)))
    assert model.final_state[0].dtype == np.float32
    model.double()
    assert model.final_state is None and model.dtype == np.float64
    assert_dtype_tree((model(np.zeros((1, 4, 2))), model.final_state), np.float64)


@pytest.mark.parametrize("readout", ["last", "all"])
def test_gradients_accumulate(readout):
    model = SequenceModel("lstm", 2, 3, 2, readout=readout, dtype=np.float64, rng=0)
    check_grad_accumulates(model, np.random.default_rng(0).standard_normal((2, 4, 2)))


def test_same_seed_same_numbers():
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    a, b = (SequenceModel("gru", 2, 4, 1, rng=7) for _ in range(2))
    np.testing.assert_array_equal(a(x), b(x))
    assert not np.array_equal(SequenceModel("gru", 2, 4, 1, rng=8)(x), a(x))


@pytest.mark.parametrize("cell", CELLS)
def test_carrying_the_final_state_equals_reading_the_whole_sequence(cell):
    model = SequenceModel(cell, 2, 4, 3, readout="all", dtype=np.float64, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 10, 2))
    whole = model(x)
    first = model(x[:, :6])
    second = model(x[:, 6:], model.final_state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12, atol=1e-14)


def test_state_dict_keys_are_those_of_the_layer_and_the_head():
    model = SequenceModel("lstm", 1, 4, 1, num_layers=2, rng=0)
    keys = list(model.state_dict())
    assert keys == [
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
        "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
        "head.weight", "head.bias",
    ]
    assert model.state_dict()["rnn.weight_hh_l1"].shape == (16, 4)


def test_matches_pytorch_lstm_plus_linear():
    torch = pytest.importorskip("torch")
    model = SequenceModel("lstm", 2, 5, 3, num_layers=2, dtype=np.float64, rng=0)
    lstm = torch.nn.LSTM(2, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(5, 3, dtype=torch.float64)
    state = model.state_dict()
    lstm.load_state_dict({k[4:]: torch.tensor(v) for k, v in state.items() if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: torch.tensor(v) for k, v in state.items() if k.startswith("head.")})
    x = np.random.default_rng(0).standard_normal((4, 6, 2))
    grad = np.random.default_rng(1).standard_normal((4, 3))
    out = model(x)
    dx = model.backward(grad)
    xt = torch.tensor(x, requires_grad=True)
    out_t = head(lstm(xt)[0][:, -1])
    out_t.backward(torch.tensor(grad))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    torch_grads = {"rnn." + k: p.grad.numpy() for k, p in lstm.named_parameters()}
    torch_grads.update({"head." + k: p.grad.numpy() for k, p in head.named_parameters()})
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad, torch_grads[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_errors_name_the_argument_and_the_value():
    with pytest.raises(ValueError, match=r"cell.*'transformer'"):
        SequenceModel("transformer", 1, 2, 1)
    with pytest.raises(ValueError, match=r"readout.*'first'"):
        SequenceModel("rnn", 1, 2, 1, readout="first")
    with pytest.raises(TypeError, match="output_size"):
        SequenceModel("rnn", 1, 2, 1.5)
    with pytest.raises(ValueError, match="output_size"):
        SequenceModel("rnn", 1, 2, 0)
    with pytest.raises(ValueError, match=r"nonlinearity.*'relu'.*cell='lstm'"):
        SequenceModel("lstm", 1, 2, 1, nonlinearity="relu")
    with pytest.raises(ValueError, match=r"nonlinearity.*'gelu'"):
        SequenceModel("rnn", 1, 2, 1, nonlinearity="gelu")
    model = SequenceModel("gru", 3, 2, 1, rng=0)
    with pytest.raises(ValueError, match=r"expected x of shape \(batch, seq_len, 3\), received \(5, 3\)"):
        model(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"input of shape.*received \(2, 5, 4\)"):
        model(np.zeros((2, 5, 4)))


def test_the_rnn_learns_8_bit_parity_and_is_exact_on_held_out_patterns():
    # 128 of the 256 8-bit patterns for training, the other 128 held out. The
    # RNN reads one bit per step and is trained on the running parity of every
    # prefix (readout='all'); it is judged on the whole held-out rows only.
    table, labels = parity_truth_table(8, dtype=np.uint8)
    order = np.random.default_rng(0).permutation(len(table))
    train_rows, test_rows = order[:128], order[128:]
    running = np.cumsum(table, axis=1, dtype=np.int64) % 2  # (256, 8): parity of each prefix, by counting
    x_train, y_train = as_sequences(table[train_rows]), running[train_rows, :, None]
    model = SequenceModel("rnn", 1, 8, 1, readout="all", rng=0)
    started = time.perf_counter()
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.03), x_train, y_train,
        rng=0, epochs=150, batch_size=16, progress=False,
    )
    seconds = time.perf_counter() - started
    logits = train.predict(model, as_sequences(table[test_rows]))[:, -1]  # (128, 1): after all 8 bits
    held_out = train.binary_accuracy_logits(logits, labels[test_rows, None])
    assert held_out == 1.0, f"held-out accuracy {held_out:.3f} after {len(history)} epochs"
    assert seconds < 10
    np.testing.assert_array_equal(labels, parity_of(table))


def test_needs_input_grad_reaches_the_recurrent_layer():
    """fit sets it on the model; the recurrent layer that reads the data then skips dL/dx."""
    model = SequenceModel("lstm", 3, 5, 2, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 6, 3)).astype(np.float32)
    model.needs_input_grad = False
    assert model.rnn.needs_input_grad is False
    out = model(x)
    assert model.backward(np.ones_like(out)) is None
    assert model.rnn.weight_ih_l0.grad.any()  # the parameters still learn
    model.needs_input_grad = True
    model.zero_grad()
    assert model.backward(np.ones_like(model(x))).shape == x.shape
