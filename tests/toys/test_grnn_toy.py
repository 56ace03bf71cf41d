"""The grnn toy: leave-one-out finds the sigma between too small and too large; diabetes beside k-NN and an MLP."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    """Seed 0: MSE against the truth 0.012 (LOO) vs 0.079 and 0.164; diabetes test R^2 0.367 (k-NN 0.370)."""
    report = run_toy("grnn", make_config(get_toy("grnn"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    fits = report.metrics["curve"]
    assert fits["leave-one-out"]["loo"] < min(fits["too small (LOO / 10)"]["loo"], fits["too large (LOO x 10)"]["loo"])
    rows = report.metrics["diabetes"]
    assert len(rows) == 6 and rows["the training mean"]["r2"] < 0.01
    assert all(row["mse"] < 0.75 * rows["the training mean"]["mse"] for name, row in rows.items() if "mean" not in name)
    assert (tmp_path / "grnn.png").is_file()


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="n_train"):
        make_config(get_toy("grnn"), {"n_train": 3})
