"""The gan toy: quick mode's ring GAN reaches its targets; the figures exist."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("gan", make_config(get_toy("gan"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    for name in ("gan_ring.png", "gan_digits.png"):
        assert name in report.plots and (tmp_path / name).is_file()
    (run,) = report.metrics["ring/gan"]
    assert 0 <= run["high_quality"] <= 1 and 0 <= run["modes"] <= 8


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="mixtures"):
        make_config(get_toy("gan"), {"mixtures": ("spiral",)})
