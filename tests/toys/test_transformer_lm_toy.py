"""The transformer-lm toy: quick mode on the standard library, a user's --text file, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys.registry import get_toy, make_config, run_toy


@pytest.mark.slow
def test_quick_mode_reaches_its_target(tmp_path):
    """Seed 0: the GPT's held-out bits per character (about 3.0 here) at most 3.3, far below the unigram's 4.27."""
    report = run_toy("transformer-lm", make_config(get_toy("transformer-lm"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, report.to_markdown()
    metrics = report.metrics
    assert metrics["gpt_bits_per_char"] < metrics["unigram_bits_per_char"] - 1.0
    assert metrics["lstm_bits_per_char"] < metrics["unigram_bits_per_char"] - 0.5  # the LSTM trained too
    assert metrics["gpt_held_out"][-1] < metrics["gpt_held_out"][0]
    assert (tmp_path / "transformer_lm.png").is_file() and (tmp_path / "samples.txt").is_file()
    assert set(metrics["samples"]) == {"0.5", "0.8", "1.0"}


def test_a_user_text_and_its_errors(tmp_path):
    words = "the quick brown fox jumps over a lazy dog and then sleeps in the warm sun".split()
    rng = np.random.default_rng(0)
    path = tmp_path / "words.txt"
    path.write_text("\n".join(" ".join(rng.choice(words, size=10)) for _ in range(300)), encoding="utf-8")
    small = {"text": str(path), "n_layer": 1, "n_embd": 16, "n_head": 2, "block_size": 16, "iters": 60,
             "lr": 1e-2, "warmup_iters": 5, "eval_every": 30, "lstm_hidden": 16, "lstm_streams": 8,
             "lstm_seq_len": 16, "target_bits": 3.0, "sample_chars": 20}
    report = run_toy("transformer-lm", make_config(get_toy("transformer-lm"), small), run_dir=tmp_path, progress=False)
    assert report.passed, report.to_markdown()  # ~2.6 bits after 60 steps, from log2(26) = 4.7 at the start
    assert report.metrics["vocab_size"] == len(set(path.read_text()))
    (tmp_path / "short.txt").write_text("abc" * 10, encoding="utf-8")
    with pytest.raises(ValueError, match="text: .* gives 30 characters"):
        make_config(get_toy("transformer-lm"), {"text": str(tmp_path / "short.txt")})
    with pytest.raises(ValueError, match="n_embd: must be divisible by n_head=3"):
        make_config(get_toy("transformer-lm"), {"n_head": 3})
