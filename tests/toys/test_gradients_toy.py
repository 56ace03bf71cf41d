"""The gradients toy: vanishing (tanh RNN), carried (LSTM with open forget gates), exploding, clipped."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys import gradients
from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


def test_quick_mode_reaches_every_target(tmp_path):
    report = run_toy("gradients", make_config(get_toy("gradients"), quick=True), run_dir=tmp_path, progress=False)
    failed = [f"{t.name}: {t.value_text} (target {t.goal_text})" for t in report.targets if not t.passed]
    assert not failed, failed
    assert (tmp_path / "gradients.png").is_file()
    clip = report.metrics["clip"]
    # One common factor for every parameter: the per-parameter norms keep their proportions.
    np.testing.assert_allclose(np.array(clip["after"]) / np.array(clip["before"]), clip["total_after"] / clip["total_before"], rtol=1e-9)


def test_the_recorded_norms_are_those_of_the_hidden_state_gradients():
    # Independent of record_hidden_grad_norms: backpropagate a loss on h_t directly
    # through a 2-step tanh RNN by hand and compare.
    config = gradients.Config(seq_len=2, hidden_size=3, seed=4)
    model = gradients.build("rnn", config)
    x = np.array([[[1.0], [0.0]]])
    label = np.array([[1.0]])
    norms = gradients.hidden_grad_norms(model, x, label)
    W_ih, W_hh = model.rnn.weight_ih_l0.data, model.rnn.weight_hh_l0.data
    b = model.rnn.bias_ih_l0.data + model.rnn.bias_hh_l0.data
    h0 = np.tanh(x[0, 0] @ W_ih.T + b)
    h1 = np.tanh(x[0, 1] @ W_ih.T + h0 @ W_hh.T + b)
    logit = h1 @ model.head.weight.data.T + model.head.bias.data
    dlogit = 1 / (1 + np.exp(-logit)) - label[0]  # BCE with logits, mean over one element
    dh1 = dlogit @ model.head.weight.data
    dh0 = (dh1 * (1 - h1**2)) @ W_hh
    np.testing.assert_allclose(norms, [np.linalg.norm(dh1), np.linalg.norm(dh0)], rtol=1e-10)


def test_the_cases_change_only_what_they_say():
    config = gradients.Config(hidden_size=4)
    base, open_gates = gradients.build("lstm", config), gradients.build("lstm_open", config)
    delta = open_gates.rnn.bias_ih_l0.data - base.rnn.bias_ih_l0.data
    np.testing.assert_array_equal(delta, np.r_[np.zeros(4), np.full(4, 3.0), np.zeros(8)])  # the f rows only
    large = gradients.build("rnn_large", config)
    np.testing.assert_allclose(np.linalg.svd(large.rnn.weight_hh_l0.data, compute_uv=False), 3.0, rtol=1e-12)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"seq_len": 1}, "gradients: seq_len: expected an integer >= 2, received 1"),
        ({"scale": 0.0}, r"gradients: scale: expected a number in \(0, inf\), received 0"),
        ({"clip": 0.0}, r"gradients: clip: expected a number in \(0, inf\), received 0"),
    ],
)
def test_bad_configs_are_rejected(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config(get_toy("gradients"), overrides)
