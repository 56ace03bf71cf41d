"""The xor toy: the 2-10-1 network, the parity sweep's honest scoring, and quick mode (slow)."""

from __future__ import annotations

import pytest

from dltoys.toys.registry import get_toy, make_config, run_toy


def test_small_sets_are_scored_whole_and_large_ones_on_unseen_patterns(tmp_path):
    # 200 rows draw all 16 patterns of 4 bits, so all 16 are scored; of 2^8 = 256 patterns at most
    # 200 are drawn, so at least 56 are unseen (>= held_out_min) and 40 of them are scored.
    config = make_config(get_toy("xor"), {"parity_bits": (8, 4), "parity_rows": 200, "test_rows": 40,
                                          "held_out_min": 10, "parity_epochs": 3, "lr_epochs": 3})
    report = run_toy("xor", config, run_dir=tmp_path, progress=False)
    four, eight = report.metrics["parity"]  # sorted by n
    assert (four["held_out"], four["n_eval"], four["seen"]) == (False, 16, 16)
    assert (eight["held_out"], eight["n_eval"]) == (True, 40) and eight["seen"] <= 200
    assert report.tables[0].rows[0][3] == "all 16 patterns (all in training)"
    assert report.tables[0].rows[1][3] == "40 held-out patterns"
    # The 2-10-1 network trains past 100% to the stop loss.
    xor = report.metrics["xor"]
    assert xor["accuracy"] == 1.0 and xor["final_loss"] <= config.stop_loss
    assert xor["first_full_epoch"] < xor["epochs_run"]
    for plot in ("xor.png", "parity.png"):
        assert (tmp_path / plot).is_file()


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("xor", make_config(get_toy("xor"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, [(t.name, t.value_text, t.goal_text) for t in report.targets if not t.passed]
    parity = report.metrics["parity"]
    assert max(p["lr_accuracy"] for p in parity if p["held_out"]) < 0.6
    for plot in ("xor.png", "parity.png"):
        assert (tmp_path / plot).is_file()


def test_a_run_that_misses_says_so_instead_of_the_success_narrative(tmp_path):
    from dltoys.toys.registry import get_toy, make_config, run_toy

    config = make_config(get_toy("xor"), {"epochs": 3, "parity_bits": (2, 3), "parity_rows": 50,
                                          "parity_epochs": 2, "lr_epochs": 2, "test_rows": 10})
    report = run_toy("xor", config, run_dir=tmp_path, progress=False, html=False)
    notes = " ".join(report.notes)
    assert report.verdict == "MISSED" and report.notes[0].startswith("This run MISSED 2 of its 2 targets")
    assert "did NOT get all four points in 3 epochs" in notes and "well clear" not in notes
    assert "on held-out patterns" not in notes  # n = 3 is scored on all 8 patterns
    assert "did not fit them within this run's budget" in notes
