"""The cora toy: skipped (with how to get the data) without the Planetoid files; label propagation's
fixed point; quick mode on ../shared/data (slow; skipped without the files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dltoys.data import Graph
from dltoys.toys.cora import _label_propagation
from dltoys.toys.registry import get_toy, make_config, run_toy
from dltoys.toys.report import summary_rows

SHARED_DATA = Path(os.environ.get("DLTOYS_SHARED_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data")


def test_without_data_the_toy_is_skipped_and_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DLTOYS_SHARED_DATA", raising=False)
    report = run_toy("cora", make_config(get_toy("cora"), {"data_dir": str(tmp_path)}), run_dir=tmp_path / "run",
                     progress=False)
    assert report.skipped == "no Cora data" and report.verdict == "SKIPPED" and report.passed and not report.targets
    assert "tkipf/gcn" in report.notes[0] and str(tmp_path) in report.notes[0]
    assert summary_rows([report])[0][4] == "SKIPPED"
    assert "SKIPPED" in (tmp_path / "run" / "report.md").read_text()


def test_label_propagation_reaches_the_harmonic_solution_on_a_path():
    """Path 0-1-2-3-4, node 0 in class 0 and node 4 in class 1: the harmonic function is linear, i/4."""
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    graph = Graph(n_nodes=5, edge_index=np.concatenate([edges, edges[:, ::-1]]).T, y=np.array([0, 0, 0, 1, 1]))
    scores, iterations = _label_propagation(graph, np.array([0, 4]), 2, 10_000)
    np.testing.assert_allclose(scores[:, 1], np.arange(5) / 4, atol=1e-5)
    np.testing.assert_allclose(scores.sum(1), 1.0, atol=1e-5)
    assert iterations < 10_000


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "planetoid" / "ind.cora.x").exists(), reason=f"no Planetoid files in {SHARED_DATA}")
def test_quick_mode_reaches_its_targets(tmp_path):
    config = make_config(get_toy("cora"), {"data_dir": str(SHARED_DATA)}, quick=True)
    report = run_toy("cora", config, run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets if not t.passed]
    assert {"GCN", "GAT", "MLP", "label propagation"} <= set(report.metrics)
    assert report.metrics["GCN"]["mean"] > 0.78 and (tmp_path / "cora.png").is_file()


def test_label_propagation_predicts_as_the_estimator_on_the_karate_club():
    """The toy's sparse iteration against models.LabelPropagation on the dense adjacency
    (the estimator takes ~60x longer on Cora, with the same 71.7% test accuracy)."""
    pytest.importorskip("networkx")
    from dltoys.data import load_karate_club
    from dltoys.models import LabelPropagation

    club = load_karate_club()
    graph = Graph(n_nodes=club.n_nodes, edge_index=club.edge_index, y=club.extra["communities"])
    labelled = np.array([0, 4, 8, 24])
    scores, _ = _label_propagation(graph, labelled, 4, 1000)
    partial = np.full(club.n_nodes, -1)
    partial[labelled] = graph.y[labelled]
    estimator = LabelPropagation(kernel="precomputed").fit(club.adjacency(np.float64), partial)
    np.testing.assert_array_equal(scores.argmax(1), estimator.transduction_)
