"""The README's reproducibility promise, condition by condition.

Promised: with every ``rng`` seeded, the same thread count and the same machine
(same NumPy/OpenBLAS build and CPU), a run is bit-identical, in one process or
in another. Not promised: bit-identity across BLAS thread counts (OpenBLAS
splits some matrix products differently, e.g. (128, 784) @ (784, 256)); there
runs agree within float32 rounding carried through training, bounded here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dltoys import nn, optim, train

SRC = Path(__file__).resolve().parents[2] / "src"

RUN = """
import hashlib, sys
import numpy as np
from dltoys import nn, optim, train

def run(threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    model = nn.Sequential(nn.Linear(784, 256, rng=0), nn.ReLU(), nn.Dropout(0.2, rng=1), nn.Linear(256, 10, rng=2))
    with train.blas_threads(threads):
        history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), x, y,
                            epochs=2, batch_size=128, rng=0, progress=False)
    weights = np.concatenate([p.data.ravel() for p in model.parameters()])
    return weights, history.steps()

if __name__ == "__main__":
    weights, losses = run(int(sys.argv[1]))
    print(hashlib.sha256(weights.tobytes() + np.array(losses).tobytes()).hexdigest())
"""

namespace: dict = {}
exec(compile(RUN, "determinism_run", "exec"), namespace)
run = namespace["run"]


def digest(weights, losses):
    return hashlib.sha256(weights.tobytes() + np.array(losses).tobytes()).hexdigest()


def test_same_seed_same_threads_is_bit_identical_in_one_process():
    a, losses_a = run(1)
    b, losses_b = run(1)
    assert a.tobytes() == b.tobytes() and losses_a == losses_b


def test_same_seed_same_threads_is_bit_identical_in_another_process():
    env = dict(os.environ, PYTHONPATH=str(SRC), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", RUN, "1"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == digest(*run(1))


def test_one_and_two_blas_threads_agree_within_float32_rounding():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if all(info["num_threads"] < 2 for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"):
            pytest.skip("the BLAS library cannot run 2 threads here")
    one, losses_one = run(1)
    two, losses_two = run(2)
    # 4 Adam steps of lr 1e-3: weights move up to 4e-3; the thread count may change them by
    # float32 rounding amplified by Adam's normalisation, measured at most 2.7e-5 (3 epochs).
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-4)
    np.testing.assert_allclose(losses_two, losses_one, rtol=1e-5)
