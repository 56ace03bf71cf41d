"""The benchmark's smoke run and its guard (``make bench-smoke``; no timing claims).

The smoke run is what CI runs of the benchmark: a few interleaved steps of every
reference model that dltoys has, with the loss guard, and the whole-toy rows at a
tiny size (no tour). The guard tests check that a
step computing something else than PyTorch's is caught.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_passes_and_names_every_model():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.cases import CASES
    finally:
        sys.path.remove(str(ROOT))
    for case in CASES.values():
        rows = [line for line in done.stdout.splitlines() if line.startswith(f"| {case.title} |")]
        assert rows, f"no row for {case.name}"
        assert "not built yet" in rows[0] or "skipped: " in rows[0] or "| SGD | 1 |" in rows[0]
    assert "**NO**" not in done.stdout
    lines = done.stdout.splitlines()
    assert "## Whole toys" in lines
    for toy in ("cnn-digits", "transformer-lm"):  # at a tiny size, figures not judged
        assert any(line.startswith(f"| `{toy}` |") and "not judged (smoke run)" in line for line in lines), toy


def _pair(bench, optimizer="SGD"):
    cases, worker = bench
    model, torch_model, batches = worker.build_pair(cases.MLP, n_batches=2)
    return worker, worker.DltoysSide(model, optimizer, batches), worker.TorchSide(torch_model, optimizer, batches)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_guard_accepts_the_same_step(bench, optimizer):
    worker, dltoys, torch_side = _pair(bench, optimizer)
    measured = worker.interleave({"dltoys": dltoys, "torch": torch_side}, seconds=0, min_steps=4, max_steps=4, warmup=1)
    summary = worker.summarise(measured, "dltoys")
    assert summary["guard_ok"], summary
    check = worker.resynchronised_step(dltoys, torch_side, summary["first_loss"]["torch"])
    assert check["resync_ok"], check
    assert check["resync_update_diff"] < 1e-4


def test_guard_catches_a_different_model(bench):
    worker, dltoys, torch_side = _pair(bench)
    bias = list(dltoys.model.parameters())[-1].data
    bias[0] += 0.05  # one output's bias differs: the loss moves by ~1e-3
    measured = worker.interleave({"dltoys": dltoys, "torch": torch_side}, seconds=0, min_steps=2, max_steps=2, warmup=0)
    assert not worker.summarise(measured, "dltoys")["guard_ok"]


@pytest.mark.parametrize("sabotage", ["learning rate", "bias gradient"])
def test_guard_catches_a_wrong_step_after_the_timed_steps(bench, sabotage):
    worker, dltoys, torch_side = _pair(bench, "Adam")
    for _ in range(3):
        dltoys(), torch_side()
    if sabotage == "learning rate":
        dltoys.optimizer.lr *= 1.01
    else:  # the last layer forgets its bias gradient
        last = list(dltoys.model.children())[-1]
        backward = last.backward

        def without_bias(grad_out):
            result = backward(grad_out)
            last.bias.grad[...] = 0
            return result

        last.backward = without_bias
    check = worker.resynchronised_step(dltoys, torch_side, 2.3)
    assert not check["resync_ok"], check


@pytest.mark.parametrize("name", ["cnn", "gpt"])
def test_pytorch_side_of_the_models_dltoys_lacks_is_ready(bench, name):
    """The CNN and GPT light up when their dltoys layers land: their PyTorch side runs already."""
    cases, _ = bench
    case = cases.CASES[name]
    model = case.build_torch(torch.nn)
    x, y = case.make_batch(np.random.default_rng(0))
    logits = model(torch.from_numpy(x))
    assert logits.shape == (len(y), int(y.max()) + 1 if name == "cnn" else cases.VOCAB)
    assert logits.shape[0] == y.shape[0]
