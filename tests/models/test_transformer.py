"""models.GPT: gradient check, tied head, causality, and generation (reproducible from a seed; top-k and temperature as documented)."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.models import GPT
from dltoys.models.transformer import sample_next
from dltoys.testing import gradcheck


def tiny_gpt(dtype=np.float64, **kwargs):
    options = dict(n_layer=2, n_head=2, n_embd=4, rng=0, dtype=dtype)
    options.update(kwargs)
    return GPT(7, 5, **options)


def test_gradcheck_tied_and_untied():
    ids = np.random.default_rng(0).integers(0, 7, (2, 5))
    for tie in (True, False):
        model = tiny_gpt(tie_weights=tie)
        for name, param in model.named_parameters():  # off GPT-2's small init, so every term matters
            param.data += np.random.default_rng(1).normal(0, 0.3, param.shape)
        result = gradcheck(model, ids, max_full=30)  # larger tensors: random directions and entries
        assert {c.name for c in result.checks} == {f"parameter '{n}'" for n, _ in model.named_parameters()}


def test_head_is_tied_to_the_token_embedding():
    model = tiny_gpt()
    assert model.head.weight is model.tok_emb.weight
    names = [name for name, _ in model.named_parameters()]
    assert "head.weight" not in names and "tok_emb.weight" in names
    assert "head.weight" in model.state_dict()  # as PyTorch lists a tied weight under both keys
    assert tiny_gpt(tie_weights=False).num_parameters() == model.num_parameters() + 7 * 4


def test_no_future_token_changes_a_past_logit():
    model = tiny_gpt()
    ids = np.random.default_rng(2).integers(0, 7, (3, 5))
    changed = ids.copy()
    changed[:, 3] = (changed[:, 3] + 1) % 7
    np.testing.assert_array_equal(model(changed)[:, :3], model(ids)[:, :3])
    assert not np.allclose(model(changed)[:, 3:], model(ids)[:, 3:])


def test_generation_is_reproducible_and_keeps_the_prompt():
    model = tiny_gpt(np.float32)
    prompt = np.array([[1, 2], [3, 4]])
    first = model.generate(prompt, 8, temperature=1.0, rng=7)
    assert first.shape == (2, 10) and np.array_equal(first[:, :2], prompt)
    np.testing.assert_array_equal(model.generate(prompt, 8, rng=7), first)
    assert not np.array_equal(model.generate(prompt, 8, rng=8), first)
    assert model.generate(np.array([1, 2, 3, 4, 5, 6]), 3, rng=0).shape == (9,)  # 1-D prompt longer than block_size
    assert model.training  # the mode is restored


def test_temperature_and_top_k_behave_as_documented():
    rng = np.random.default_rng(4)
    logits = np.tile(np.log([0.5, 0.25, 0.15, 0.1]), (20_000, 1))
    # temperature 1: the model's own probabilities (within 5 standard errors)
    counts = np.bincount(sample_next(logits, 1.0, None, rng), minlength=4) / len(logits)
    assert np.all(np.abs(counts - [0.5, 0.25, 0.15, 0.1]) < 5 * np.sqrt(0.25 / len(logits)))
    # temperature 0.5 squares and renormalises the probabilities; 0 is the argmax
    sharp = np.array([0.5, 0.25, 0.15, 0.1]) ** 2
    counts = np.bincount(sample_next(logits, 0.5, None, rng), minlength=4) / len(logits)
    assert np.all(np.abs(counts - sharp / sharp.sum()) < 0.02)
    assert np.all(sample_next(logits, 0.0, None, rng) == 0)
    # top_k=2: only the two likeliest, renormalised (2/3, 1/3); top_k=1 is greedy
    counts = np.bincount(sample_next(logits, 1.0, 2, rng), minlength=4) / len(logits)
    assert counts[2] == counts[3] == 0 and abs(counts[0] - 2 / 3) < 0.02
    assert np.all(sample_next(logits, 5.0, 1, rng) == 0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_embd: must be divisible by n_head=3"):
        GPT(5, 4, n_head=3, n_embd=8)
    model = tiny_gpt()
    with pytest.raises(ValueError, match="block_size=5"):
        model(np.zeros((1, 6), dtype=int))
    with pytest.raises(ValueError, match=r"idx: expected integer token ids of shape \(B, T\)"):
        model(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="top_k"):
        model.generate(np.array([1]), 2, top_k=0)
