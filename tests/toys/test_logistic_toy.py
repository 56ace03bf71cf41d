"""The logistic toy in quick mode, and its learning-rate sweep when a rate overflows."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


def test_quick_mode_reaches_its_targets_and_shows_three_regimes(tmp_path):
    report = run_toy("logistic", make_config(get_toy("logistic"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets if not t.passed]
    for plot in ("logistic.png", "logistic_lr_sweep.png"):
        assert (tmp_path / plot).is_file()
    sweep = {run["lr"]: run for run in report.metrics["sweep"]}
    shown = make_config(get_toy("logistic"), quick=True).shown_lrs
    verdicts = [sweep[lr]["verdict"].split(":")[0] for lr in shown]
    assert verdicts == ["too small", "right", "too large"]
    small, right, large = (sweep[lr] for lr in shown)
    assert small["rises"] == 0 and small["final"] > 1.2 * right["final"]
    assert large["rises"] > 10 and large["final"] > 2 * right["final"]
    assert large["lr"] > report.metrics["stability_limit"] > right["lr"]


def test_a_rate_that_overflows_is_drawn_up_to_where_it_stopped(tmp_path):
    toy = get_toy("logistic")
    config = make_config(toy, {"sweep_lrs": (0.3, 1e37, 1e39), "shown_lrs": (0.3, 1e37, 1e39), "sweep_epochs": 20,
                               "epochs": 50})
    report = run_toy("logistic", config, run_dir=tmp_path, progress=False)
    sweep = {run["lr"]: run for run in report.metrics["sweep"]}
    assert sweep[1e37]["stopped"] == "loss not finite at epoch 2" and len(sweep[1e37]["losses"]) == 1
    assert sweep[1e39]["stopped"] == "weights not finite after epoch 1" and sweep[1e39]["losses"] == []
    assert sweep[0.3]["stopped"] is None and len(sweep[0.3]["losses"]) == 20
    assert any(note.startswith("Stopped early: lr=1e+37: loss not finite at epoch 2") for note in report.notes)
    assert (tmp_path / "logistic_lr_sweep.png").is_file()


@pytest.mark.parametrize(
    "overrides",
    [{"shown_lrs": (0.003, 0.5)}, {"shown_lrs": (0.001, 0.003, 0.01, 0.03, 0.1)}, {"sweep_lrs": (0.1, 1.0)}],
)
def test_shown_rates_must_be_at_most_four_of_the_sweep(overrides):
    with pytest.raises(ConfigError, match=r"^logistic: shown_lrs: expected 1 to 4 of the sweep_lrs \("):
        make_config(get_toy("logistic"), overrides)
