"""The rbm toy: quick mode reaches its targets, with its filters and likelihood curves."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("rbm", make_config(get_toy("rbm"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    for name in ("rbm_filters.png", "rbm_likelihood.png"):
        assert name in report.plots and (tmp_path / name).is_file()
    curves = report.metrics["likelihood"]
    assert set(curves) == {"CD-1", "CD-10", "PCD-1"}
    for curve in curves.values():  # training raised the exact likelihood of held-out digits
        assert curve["test"][-1] > curve["test"][0]


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="small_hidden"):
        make_config(get_toy("rbm"), {"small_hidden": 21})
