"""The elementwise thread split (nn.parallel): it covers every row once, and the layers that use it
give bit-identical results on one thread and on several."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn import attention, parallel
from dltoys.runtime import BLAS_THREAD_TIMEOUT, blas_threads


def _covered(n_rows: int, row_size: int, threads: int) -> list[tuple[int, int]]:
    ranges = []
    lock = threading.Lock()

    def func(start, stop):
        with lock:
            ranges.append((start, stop))

    with parallel.threads(threads):
        parallel.run_blocks(func, n_rows, row_size)
    return sorted(ranges)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("n_rows", [1, 2, 5, 1000, 1 << 19])
def test_blocks_cover_every_row_once(threads, n_rows):
    ranges = _covered(n_rows, parallel.MIN_ELEMENTS, threads)  # large enough to split
    rows = np.concatenate([np.arange(a, b) for a, b in ranges])
    np.testing.assert_array_equal(rows, np.arange(n_rows))
    assert all(b > a for a, b in ranges)
    assert len(ranges) == min(threads, n_rows)


def test_small_work_runs_inline_in_one_call():
    assert _covered(100, 10, threads=4) == [(0, 100)]  # 1,000 elements: below MIN_ELEMENTS
    assert _covered(0, 10, threads=4) == [(0, 0)]
    assert _covered(1 << 20, 1, threads=1) == [(0, 1 << 20)]


def test_blocks_run_on_several_threads_and_nested_calls_run_inline():
    idents, inner = set(), []
    lock = threading.Lock()

    def func(start, stop):
        with lock:
            idents.add(threading.get_ident())
        parallel.run_blocks(lambda a, b: inner.append((a, b)), parallel.MIN_ELEMENTS)  # would split outside

    with parallel.threads(2):
        parallel.run_blocks(func, 2, parallel.MIN_ELEMENTS)
    assert len(idents) == 2
    assert inner == [(0, parallel.MIN_ELEMENTS)] * 2


def test_an_error_in_a_worker_reaches_the_caller():
    def func(start, stop):
        if start > 0:
            raise ValueError(f"rows {start}:{stop}")

    with parallel.threads(2), pytest.raises(ValueError, match="rows"):
        parallel.run_blocks(func, 1 << 20)


def test_thread_settings_are_checked_and_restored():
    before = parallel.num_threads()
    with parallel.threads(3):
        assert parallel.num_threads() == 3
    assert parallel.num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        parallel.set_num_threads(0)
    with blas_threads(2):  # the command's --threads N sets both pools
        assert parallel.num_threads() == 2
    assert parallel.num_threads() == before


class _Spy:
    """Wraps run_blocks: the threads that ran blocks, per call."""

    def __init__(self, monkeypatch):
        self.threads: list[set] = []
        original = parallel.run_blocks

        def spy(func, n_rows, row_size=1):
            seen = set()
            self.threads.append(seen)

            def recorded(start, stop):
                seen.add(threading.get_ident())
                func(start, stop)

            original(recorded, n_rows, row_size)

        monkeypatch.setattr(parallel, "run_blocks", spy)

    def split(self) -> bool:
        return bool(self.threads) and all(len(seen) == 2 for seen in self.threads)


def _on(threads: int, compute):
    with parallel.threads(threads):
        return compute()


def _same_on_one_and_two_threads(run, monkeypatch) -> None:
    """``run()`` gives bit-identical arrays on 1 and 2 threads, and on 2 every split ran on both."""
    one = _on(1, run)
    spy = _Spy(monkeypatch)
    two = _on(2, run)
    assert spy.split()
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_gelu_equal_on_one_and_two_threads(monkeypatch):
    x = np.random.default_rng(0).standard_normal((512, 640)).astype(np.float32)
    gelu = nn.GELU()
    _same_on_one_and_two_threads(lambda: (gelu(x), gelu.backward(np.ones_like(x))), monkeypatch)


def test_layer_norm_equal_on_one_and_two_threads(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 256, 96)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    layer = nn.LayerNorm(96)
    layer.weight.data[:] = rng.standard_normal(96)
    layer.bias.data[:] = rng.standard_normal(96)

    def run():
        layer.zero_grad()
        out = layer(x)
        return out, layer.backward(g), layer.weight.grad.copy(), layer.bias.grad.copy()

    _same_on_one_and_two_threads(run, monkeypatch)


def test_attention_softmax_equal_on_one_and_two_threads(monkeypatch):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((8, 4, 96, 32)).astype(np.float32) for _ in range(3))
    g = rng.standard_normal((8, 4, 96, 32)).astype(np.float32)
    bias = attention.causal_bias(96, 96, np.float32)

    def run():
        out, weights, cache = attention.attend(q, k, v, bias, scale=np.float32(0.2))
        return (out, weights.copy(), *attention.attend_backward(cache, g))

    _same_on_one_and_two_threads(run, monkeypatch)


def test_the_command_sets_the_openblas_timeout_before_numpy_loads():
    from dltoys import launch

    assert launch._BLAS_THREAD_TIMEOUT == BLAS_THREAD_TIMEOUT
    code = ("import os, sys; from dltoys.launch import main; main(['list']); "
            "print('TIMEOUT', os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")
    for given, expected in ((None, BLAS_THREAD_TIMEOUT), ("25", "25")):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
        if given:
            env["OPENBLAS_THREAD_TIMEOUT"] = given  # the user's own setting wins
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert f"TIMEOUT {expected}" in done.stdout
