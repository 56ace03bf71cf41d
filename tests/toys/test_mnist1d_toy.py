"""The mnist1d toy: quick mode's CNN reaches its 92% on the paper's test signals; the others land near the paper."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("mnist1d", make_config(get_toy("mnist1d"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text) for t in report.targets]
    metrics = report.metrics
    assert metrics["cnn"]["test_accuracy"] >= 0.92  # quick mode's own target (seed 0 reached 94.5%)
    assert metrics["logistic"]["test_accuracy"] < metrics["mlp"]["test_accuracy"] < metrics["cnn"]["test_accuracy"]
    assert metrics["equivariance_error"] < 1e-5  # a shifted input shifts the first-layer maps
    assert "gru" not in metrics and (tmp_path / "mnist1d_shift.png").is_file()


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="cnn_dropout"):
        make_config(get_toy("mnist1d"), {"cnn_dropout": 1.0})
