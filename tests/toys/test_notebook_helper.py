"""The notebooks' helper: a toy run from a notebook cell, its report shown inline."""

from __future__ import annotations

import pytest

from dltoys.toys.notebook import quick_mode, run_and_show


def test_quick_mode_follows_the_environment(monkeypatch):
    monkeypatch.delenv("DLTOYS_QUICK", raising=False)
    assert quick_mode()
    monkeypatch.setenv("DLTOYS_QUICK", "0")
    assert not quick_mode()


@pytest.mark.slow
def test_run_and_show_runs_the_toy_and_displays_its_plots(tmp_path, monkeypatch):
    shown = []
    display_module = pytest.importorskip("IPython.display")
    monkeypatch.setattr(display_module, "display", lambda obj: shown.append(type(obj).__name__))
    report = run_and_show("karate", quick=True, out=tmp_path / "karate")
    assert report.verdict == "PASS" and (tmp_path / "karate" / report.plots[0]).is_file()
    assert shown == ["Markdown"] + ["Image"] * len(report.plots)
