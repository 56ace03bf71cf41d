"""The semisupervised toy: label spreading far above the labelled-only MLP, scikit-learn's example reproduced."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy
from dltoys.toys.semisupervised import draw_labels, sklearn_example

pytest.importorskip("sklearn")


def test_sklearns_label_spreading_example_is_reproduced():
    assert sklearn_example() == pytest.approx(269 / 300)  # scikit-learn's example reports 0.897


def test_draw_labels_keeps_one_of_each_digit():
    y = np.repeat(np.arange(10), 20)
    chosen = draw_labels(y, 13, np.random.default_rng(0))
    assert len(chosen) == len(set(chosen)) == 13 and set(y[chosen]) == set(range(10))


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    """Seed 0, 2 self-training rounds: label spreading 0.755 / 0.879 / 0.918 / 0.957 at 1/2/5/10% labels,
    the labelled-only MLP 0.540 / 0.703 / 0.846 / 0.907, the fully supervised MLP 0.968."""
    report = run_toy("semisupervised", make_config(get_toy("semisupervised"), quick=True), run_dir=tmp_path,
                     progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets]
    accuracy = {method: np.array(values)[0] for method, values in report.metrics["accuracy"].items()}
    spreading, alone = accuracy["label spreading"], accuracy["MLP on the labelled digits"]
    assert np.all(spreading > alone + 0.04)  # the unlabelled digits help at every fraction
    assert np.all(np.diff(spreading) > 0) and np.all(spreading < report.metrics["supervised"][0])
    assert (tmp_path / "semisupervised.png").is_file()


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="fractions"):
        make_config(get_toy("semisupervised"), {"fractions": (0.0, 0.1)})
