"""The perceptron toy in quick mode: its targets, its report and its plot."""

from __future__ import annotations

import json

from dltoys.toys.registry import TOY_MODULES, get_toy, make_config, run_toy


def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("perceptron", make_config(get_toy("perceptron"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets if not t.passed]
    assert (tmp_path / "perceptron.png").is_file()
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    # Separable blobs converge (the last epoch is mistake-free); XOR never does.
    for name in ("separated_blobs", "offset_blobs"):
        assert metrics[name]["converged"] and metrics[name]["mistakes_per_epoch"][-1] == 0
        assert 1 <= metrics[name]["updates"] <= metrics[name]["novikoff_bound"]
    assert "never stops" in " ".join(report.notes)


def test_the_classic_toys_open_the_road():
    assert list(TOY_MODULES)[:3] == ["perceptron", "logistic", "xor"]
