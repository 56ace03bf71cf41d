"""The som toy: MiniSom's digits figures reached, equal to MiniSom on the same order, the batch rule, the plots."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_minisoms_figures(tmp_path):
    """Seed 0: QE 3.030 and TE 0.134 (MiniSom on the same order: the same to 1e-6); batch rule 2.88 in 5 passes."""
    report = run_toy("som", make_config(get_toy("som"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    metrics = report.metrics
    assert 2.98 <= metrics["qe"] <= 3.05 and 0.13 <= metrics["te"] <= 0.16
    if "minisom_same_order" in metrics:
        assert metrics["qe"] == pytest.approx(metrics["minisom_same_order"]["qe"], rel=1e-5)
        assert len(report.targets) == 5
    assert metrics["batch_qe"] < metrics["qe"] and metrics["colour_qe"] < 0.1
    assert metrics["labelled_map_purity"] > 0.95
    for name in ("som_colours.png", "som_digits.png"):
        assert name in report.plots and (tmp_path / name).is_file()


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="neighborhood_function"):
        make_config(get_toy("som"), {"neighborhood_function": "cone"})
