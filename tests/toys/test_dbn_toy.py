"""The dbn toy: quick mode shows pretraining's gain with few labels."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("dbn", make_config(get_toy("dbn"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    assert "dbn.png" in report.plots and (tmp_path / "dbn.png").is_file()
    assert len(report.tables[0].rows) == 2


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="label_fractions"):
        make_config(get_toy("dbn"), {"label_fractions": (0.0,)})
