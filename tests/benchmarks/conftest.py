"""The ``benchmarks`` package of this checkout (it lives beside ``src``, not in it), at one thread."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(monkeypatch):
    """``(benchmarks.cases, benchmarks.worker)`` at one BLAS and one PyTorch thread.

    One thread each, as in the smoke run: two threads each in one process on a busy
    2-core machine slow these few steps down by 10-100x.
    """
    torch = pytest.importorskip("torch")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import cases, worker

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            yield cases, worker
    finally:
        torch.set_num_threads(torch_threads)
