"""The gcn-karate toy: its variants and figures, and quick mode (slow)."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("networkx")


def test_variants_table_and_plots_from_a_short_run(tmp_path):
    config = make_config(get_toy("gcn-karate"), {"epochs": 30, "seeds": 2, "snapshots": (0, 30)})
    report = run_toy("gcn-karate", config, run_dir=tmp_path, progress=False)
    assert report.metrics["labelled"] == [8, 0, 24, 4]  # the first member of each of PyG's communities
    assert [row[0] for row in report.tables[0].rows] == [
        "graph + identities", "graph alone (features removed)", "identities alone (edges removed)"]
    for name in ("graph + identities", "identities alone (edges removed)"):
        assert len(report.metrics[name]["accuracies"]) == 2
    assert (tmp_path / "embedding.png").is_file() and (tmp_path / "variants.png").is_file()


def test_snapshots_past_the_last_epoch_are_refused():
    with pytest.raises(ConfigError, match="snapshots"):
        make_config(get_toy("gcn-karate"), {"epochs": 10, "snapshots": (0, 20)})


@pytest.mark.slow
def test_quick_mode_reaches_its_target(tmp_path):
    report = run_toy("gcn-karate", make_config(get_toy("gcn-karate"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets if not t.passed]
    # The graph is what carries the labels: without edges the same network is far worse.
    assert report.metrics["graph + identities"]["mean"] >= report.metrics["identities alone (edges removed)"]["mean"] + 0.3
