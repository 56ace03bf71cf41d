"""The karate toy: 33 of 34 members from the two leaders' labels, the miss is member 9 (node 8)."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy

pytest.importorskip("networkx")


def test_quick_mode_places_33_members_and_misses_member_9(tmp_path):
    report = run_toy("karate", make_config(get_toy("karate"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text) for t in report.targets]
    assert report.metrics["correct"] == 33 and report.metrics["misplaced"] == [8]
    share = np.array(report.metrics["officer_share"])
    assert share[0] == 0 and share[33] == 1  # the leaders stay clamped
    assert (tmp_path / "karate.png").is_file() and any("member 9 (node 8)" in note for note in report.notes)


def test_bad_settings_name_the_option():
    with pytest.raises(ConfigError, match="alpha"):
        make_config(get_toy("karate"), {"alpha": 1.0})
