"""The digits toy: quick mode reaches 97% on held-out digits, with scikit-learn's reference rows."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_quick_mode_reaches_the_target_with_reference_rows_and_plots(tmp_path):
    report = run_toy("digits", make_config(get_toy("digits"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text) for t in report.targets]
    for name in ("digits.png", "digits_mistakes.png"):
        assert name in report.plots and (tmp_path / name).is_file()
    references = report.metrics["references"]
    assert len(references) == 2 and len(report.tables[0].rows) == 3
    for result in references.values():
        assert 0.9 < result["test_accuracy"] <= 1.0  # the references are real fits, not placeholders
    counts = np.array(report.metrics["confusion_matrix"])
    n_test = counts.sum()
    assert counts.shape == (10, 10) and np.trace(counts) / n_test == pytest.approx(report.metrics["test_accuracy"])


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match=r"dropout: expected a number in \[0, 1\), received 1"):
        make_config(get_toy("digits"), {"dropout": 1.0})
