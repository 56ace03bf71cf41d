"""The parity tests' shared fixture."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """These tensors are tiny: torch's thread pool only adds waiting (0.1 s per BatchNorm
    step on a busy 2-core machine, against 0.1 ms on one thread)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
