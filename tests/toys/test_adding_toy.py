"""The adding toy: quick mode reaches its targets; a short-sequence run learns in seconds."""

from __future__ import annotations

import pytest

from dltoys.data import ADDING_BASELINE_MSE
from dltoys.toys.registry import ConfigError, get_toy, make_config, parse_overrides, run_toy


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("adding", make_config(get_toy("adding"), quick=True), run_dir=tmp_path, progress=False)
    assert [t.name for t in report.targets] == ["LSTM test MSE at T=100", "GRU test MSE at T=100"]
    assert report.passed, report.to_markdown()
    assert (tmp_path / "adding.png").is_file() and (tmp_path / "report.md").is_file()
    # the tanh RNN is reported, not targeted: at T = 100 it stays near the baseline
    assert report.metrics["rnn"]["test_mse"] > 0.8 * ADDING_BASELINE_MSE


def test_short_sequences_are_learned_by_a_gru_and_the_report_says_so(tmp_path):
    """At T = 8 a GRU gets below 0.01 in a few hundred steps (about a second)."""
    config = make_config(get_toy("adding"), {"seq_len": 8, "cells": ("gru",), "hidden_size": 16, "max_steps": 600,
                                            "stop_below": 0.005, "n_val": 500, "n_test": 1000})
    report = run_toy("adding", config, run_dir=tmp_path, progress=False)
    assert [t.name for t in report.targets] == ["GRU test MSE at T=8"]
    assert report.passed, report.to_markdown()
    gru = report.metrics["gru"]
    assert gru["steps"] == sorted(gru["steps"]) and gru["steps"][-1] <= 600
    assert gru["val_mse"][-1] <= 0.005 and gru["steps_to_target"] is not None
    assert (tmp_path / "adding.png").is_file()


def test_cells_are_parsed_and_checked():
    toy = get_toy("adding")
    assert parse_overrides(toy.Config, ["--cells", "lstm,gru"]) == {"cells": ("lstm", "gru")}
    with pytest.raises(ConfigError, match="--cells expects a comma-separated list"):
        parse_overrides(toy.Config, ["--cells", "lstm,transformer"])
    with pytest.raises(ConfigError, match="adding: cells: expected each of rnn, lstm, gru at most once"):
        make_config(toy, {"cells": ("gru", "gru")})
    with pytest.raises(ConfigError, match=r"adding: cells\[1\]: expected one of 'rnn', 'lstm', 'gru', received 'transformer'"):
        make_config(toy, {"cells": ("lstm", "transformer")})  # a Config built in Python, past the CLI's parsing
    with pytest.raises(ConfigError, match="adding: seq_len: expected an integer >= 2, received 1"):
        make_config(toy, {"seq_len": 1})
