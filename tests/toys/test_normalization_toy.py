"""The normalization toy: batch norm trains the deep net the plain one cannot; dropout narrows the gap."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_shows_both_differences(tmp_path):
    report = run_toy("normalization", make_config(get_toy("normalization"), quick=True), run_dir=tmp_path,
                     progress=False)
    assert report.passed, [(t.name, t.value_text) for t in report.targets]
    deep = report.metrics["batch_norm"]
    assert deep["plain"]["test_accuracy"] < 0.2 and deep["batch norm"]["test_accuracy"] > 0.9  # seed 0
    plain_std = deep["plain"]["std_init"]
    assert plain_std[-1] < 0.5 * plain_std[0]  # the plain net's signal shrinks with depth at initialisation
    dropout = report.metrics["dropout"]
    assert dropout["no dropout"]["train_accuracy"] == 1.0  # it memorises the 60 noisy points
    assert dropout["dropout 0.5"]["test_accuracy"] > dropout["no dropout"]["test_accuracy"]
    for name in ("normalization_batchnorm.png", "normalization_dropout.png"):
        assert (tmp_path / name).is_file()


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="dropout"):
        make_config(get_toy("normalization"), {"dropout": 1.0})
