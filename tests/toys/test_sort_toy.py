"""The sort toy: minGPT's layout of the examples, and the quick mode reaching its target."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.toys.registry import get_toy, make_config, run_toy
from dltoys.toys.sort import sorting_examples


def test_examples_follow_mingpts_layout():
    x, y = sorting_examples(np.array([[2, 0, 1, 1, 0, 2]]))
    np.testing.assert_array_equal(x, [[2, 0, 1, 1, 0, 2, 0, 0, 1, 1, 2]])
    np.testing.assert_array_equal(y, [[-1, -1, -1, -1, -1, 0, 0, 1, 1, 2, 2]])


@pytest.mark.slow
def test_quick_mode_sorts_every_held_out_sequence(tmp_path):
    """Seed 0: 182 held-out sequences, all sorted right (the target is 99.5%)."""
    report = run_toy("sort", make_config(get_toy("sort"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, report.to_markdown()
    assert report.metrics["n_test"] == 182 and report.metrics["test_accuracy"] == 1.0
    assert report.metrics["best_head_share"] > report.metrics["best_head_even_share"] + 0.1
    assert (tmp_path / "sort_attention.png").is_file() and (tmp_path / "sort_loss.png").is_file()
