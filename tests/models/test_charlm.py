"""CharLM: gradients, truncated BPTT over carried chunks, stream layout, sampling, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys import nn
from dltoys.models.charlm import CharLM, _sample, stream_chunks
from dltoys.testing import gradcheck


def tiny(**kwargs) -> CharLM:
    return CharLM(5, embedding_dim=3, hidden_size=4, **{"dtype": np.float64, "rng": 0, **kwargs})


def test_gradcheck_every_parameter_of_a_tiny_model():
    ids = np.random.default_rng(1).integers(0, 5, size=(2, 4))
    result = gradcheck(tiny(num_layers=2), ids)
    names = {c.name for c in result.checks}
    assert names == {f"parameter '{name}'" for name, _ in tiny(num_layers=2).named_parameters()}
    assert "parameter 'embedding.weight'" in names


def test_gradcheck_through_an_explicit_initial_state():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 5, size=(3, 4))
    hx = (rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 3, 4)))
    result = gradcheck(tiny(), ids, hx)
    assert {"input 1[0]", "input 1[1]"} <= {c.name for c in result.checks}


def test_logits_layout_fits_cross_entropy_over_sequences():
    model = CharLM(7, embedding_dim=4, hidden_size=6, rng=0)
    ids = np.random.default_rng(0).integers(0, 7, size=(3, 5))
    logits = model(ids)
    assert logits.shape == (3, 7, 5) and logits.dtype == np.float32
    loss = nn.CrossEntropyLoss()
    value = loss(logits, ids)
    assert model.backward(loss.backward()) is None
    assert value.dtype == np.float32
    for name, param in model.named_parameters():
        assert param.grad.dtype == np.float32, name
        assert np.any(param.grad != 0), name


def test_chunks_started_from_the_final_state_give_the_outputs_of_the_whole_sequence():
    """Chunks each read from the previous one's final_state produce exactly the logits of one long forward."""
    model = tiny()
    ids = np.random.default_rng(3).integers(0, 5, size=(2, 9))
    whole = model(ids)
    pieces, state = [], None
    for chunk in (ids[:, :4], ids[:, 4:7], ids[:, 7:]):
        pieces.append(model(chunk, state))
        state = model.final_state
    np.testing.assert_allclose(np.concatenate(pieces, axis=2), whole, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model(ids[:, :4]), whole[:, :, :4])


def test_an_explicit_initial_state_gets_its_gradient():
    ids = np.random.default_rng(4).integers(0, 5, size=(2, 8))
    grad = np.random.default_rng(5).standard_normal((2, 5, 4))
    model = tiny()
    model(ids[:, :4])
    model(ids[:, 4:], model.final_state)
    none, (dh0, dc0) = model.backward(grad)
    assert none is None and np.any(dh0 != 0) and np.any(dc0 != 0)


def test_a_dtype_conversion_drops_the_final_state():
    model = CharLM(5, embedding_dim=3, hidden_size=4, rng=0)
    ids = np.random.default_rng(0).integers(0, 5, size=(2, 6))
    model(ids[:, :3])
    assert model.final_state[0].dtype == np.float32
    model.double()
    assert model.final_state is None
    logits = model(ids[:, 3:])
    assert logits.dtype == np.float64 and model.final_state[0].dtype == np.float64
    np.testing.assert_array_equal(logits, CharLM(5, embedding_dim=3, hidden_size=4, rng=0).double()(ids[:, 3:]))


def test_stream_chunks_lays_out_consecutive_chunks_of_parallel_streams():
    ids = np.arange(23)
    inputs, targets = stream_chunks(ids, n_streams=3, seq_len=3)
    # M = 22 // 3 = 7 characters per stream, K = 2 chunks of 3; stream s starts at 7 s
    assert inputs.shape == targets.shape == (6, 3)
    np.testing.assert_array_equal(inputs[:3], [[0, 1, 2], [7, 8, 9], [14, 15, 16]])
    np.testing.assert_array_equal(inputs[3:], [[3, 4, 5], [10, 11, 12], [17, 18, 19]])
    np.testing.assert_array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="too few for 3 streams of at least one chunk of seq_len=8"):
        stream_chunks(ids, n_streams=3, seq_len=8)


def test_cross_entropy_stream_scores_every_position_with_carried_state():
    model = tiny()
    ids = np.random.default_rng(6).integers(0, 5, size=31)
    nats, count = model.cross_entropy_stream(ids, n_streams=2, seq_len=4)
    assert count == 30
    # the same figure by one forward per stream over its whole length
    expected = 0.0
    for stream in (ids[:16], ids[15:31]):
        logits = model(stream[None, :-1])  # (1, V, 15)
        expected += float(nn.CrossEntropyLoss(reduction="sum")(logits, stream[None, 1:]))
    assert math.isclose(nats, expected, rel_tol=1e-12)
    assert math.isclose(model.bits_per_char(ids, n_streams=2, seq_len=4), nats / count / math.log(2))


def test_generate_is_reproducible_per_seed_and_differs_across_seeds():
    model = CharLM(6, embedding_dim=4, hidden_size=8, rng=0)
    prompt = np.array([1, 2, 3])
    first = model.generate(prompt, 40, temperature=1.0, rng=7)
    assert first.shape == (40,) and first.dtype == np.int64
    assert first.min() >= 0 and first.max() < 6
    np.testing.assert_array_equal(model.generate(prompt, 40, temperature=1.0, rng=7), first)
    assert not np.array_equal(model.generate(prompt, 40, temperature=1.0, rng=8), first)
    assert model.generate(prompt, 0, rng=0).shape == (0,)


def test_zero_temperature_is_greedy_and_ignores_the_seed():
    model = CharLM(6, embedding_dim=4, hidden_size=8, rng=0)
    prompt = np.array([0, 4])
    greedy = model.generate(prompt, 15, temperature=0.0, rng=1)
    np.testing.assert_array_equal(model.generate(prompt, 15, temperature=0.0, rng=2), greedy)
    np.testing.assert_array_equal(model.generate(prompt, 15, temperature=1e-300, rng=3), greedy)
    # greedy by hand: feed the whole sequence so far, take the argmax of the last logits
    sequence = list(prompt)
    for _ in range(15):
        sequence.append(int(np.argmax(model(np.array([sequence]))[0, :, -1])))
    np.testing.assert_array_equal(greedy, sequence[2:])


def test_sampling_follows_the_softmax_at_the_temperature():
    """Frequencies of 10,000 draws match softmax(z / T); generate draws its first character the same way."""
    model = CharLM(4, embedding_dim=3, hidden_size=5, dtype=np.float64, rng=0)
    model.lm.head.weight.data *= 20  # a peaked distribution, so the temperature matters
    prompt = np.array([2])
    logits = model(prompt[None])[0, :, -1]
    for temperature in (0.5, 2.0):
        rng = np.random.default_rng(0)
        draws = np.array([_sample(logits, temperature, rng) for _ in range(10_000)])
        p = np.exp(logits / temperature - np.max(logits / temperature))
        p /= p.sum()
        assert p.max() < 0.9 and p.min() > 0.005  # the check is not about a near-certain draw
        freq = np.bincount(draws, minlength=4) / draws.size
        np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(0.25 / draws.size))
        first = [model.generate(prompt, 1, temperature, rng=seed)[0] for seed in range(5)]
        assert first == [_sample(logits, temperature, np.random.default_rng(seed)) for seed in range(5)]


def test_generate_leaves_the_mode_alone():
    model = tiny(num_layers=2, dropout=0.5)
    model.generate(np.array([1]), 5, rng=0)
    assert model.training and all(m.training for m in model.modules())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"temperature": -0.1}, ValueError, r"temperature: expected a number in \[0, inf\), received -0.1"),
        ({"temperature": float("nan")}, ValueError, "temperature: expected a number"),
        ({"temperature": "hot"}, TypeError, "temperature: expected a number, received 'hot'"),
        ({"n_chars": -1}, ValueError, "n_chars: expected an integer >= 0, received -1"),
        ({"prompt": []}, ValueError, "prompt: expected a non-empty 1-D array of integer ids"),
        ({"prompt": [0.5]}, ValueError, "prompt: expected a non-empty 1-D array of integer ids"),
    ],
)
def test_generate_validates_its_arguments(kwargs, error, message):
    arguments = {"prompt": [1], "n_chars": 3, **kwargs}
    with pytest.raises(error, match=message):
        tiny().generate(rng=0, **arguments)


def test_ids_must_be_a_batch_of_sequences():
    with pytest.raises(ValueError, match=r"CharLM: expected ids of shape \(batch, seq_len\), received shape \(4,\)"):
        tiny()(np.arange(4))
