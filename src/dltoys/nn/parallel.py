"""Large elementwise passes split over a small thread pool.

BLAS runs a matrix product on every thread it is allowed; NumPy runs an elementwise
pass (``tanh``, ``*``, a pooling window's ``maximum``) on one core. NumPy releases
the GIL inside a ufunc's inner loop, so a pass over a large array split into row
ranges, one per thread, runs on several cores at once. This module is that split
and nothing more:

- :func:`run_blocks` calls ``func(start, stop)`` on contiguous row ranges that cover
  ``range(n_rows)``, the first range on the calling thread and the others on the
  pool's workers, and returns when all are done. ``func`` writes its results into
  arrays it was given (each range its own rows), so the result is the same whatever
  the number of threads: the same operations on the same elements in the same
  order, only different rows on different cores.
- The number of threads follows the BLAS library's: when first asked, the thread
  count NumPy's BLAS runs with (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, or the
  library's default); :func:`dltoys.runtime.blas_threads` sets both inside its
  block, so ``dltoys run`` (one thread unless ``--threads``) starts no thread.
- Work below :data:`MIN_ELEMENTS` elements runs inline: handing a block to a worker
  costs tens of microseconds, the time of a pass over that many elements.

No matrix product runs inside a block: BLAS has its own threads, and two callers of
a threaded BLAS at once wait for each other. Timings in ``benchmarks/NOTES.md``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

from ..utils import check_int

#: Fewer elements than this in a call run on the calling thread alone.
MIN_ELEMENTS = 1 << 18

_threads: int | None = None  # None until first asked: then the BLAS library's thread count
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()
_inside = threading.local()  # set in a block: a nested run_blocks runs inline (no waiting on itself)


def _blas_thread_count() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return 1
    counts = [info.get("num_threads") or 1 for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(1, min(max(counts, default=1), os.cpu_count() or 1))


def num_threads() -> int:
    """The threads :func:`run_blocks` uses: set by :func:`set_num_threads`, else the BLAS library's count."""
    global _threads
    if _threads is None:
        _threads = _blas_thread_count()
    return _threads


def set_num_threads(n: int | None) -> None:
    """Use ``n`` threads (1: none) for large elementwise passes; None: the BLAS library's count again."""
    global _threads
    _threads = None if n is None else check_int("threads", n, minimum=1)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """``set_num_threads(n)`` inside a ``with`` block, the previous setting restored after it."""
    global _threads
    previous = _threads
    set_num_threads(n)
    try:
        yield
    finally:
        _threads = previous


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dltoys")
            _pool_size = workers
        return _pool


def _run_inside(func: Callable[[int, int], None], start: int, stop: int) -> None:
    _inside.active = True
    try:
        func(start, stop)
    finally:
        _inside.active = False


def run_blocks(func: Callable[[int, int], None], n_rows: int, row_size: int = 1) -> None:
    """Call ``func(start, stop)`` on row ranges covering ``range(n_rows)``, in parallel when worth it.

    Parameters
    ----------
    func : callable ``(start, stop) -> None``
        Does the work for rows ``start:stop``, writing into preallocated outputs.
    n_rows : int
        Rows to cover (the leading axis of the arrays ``func`` reads and writes).
    row_size : int, default 1
        Elements per row, to judge whether the call is large enough to split.
    """
    n = num_threads()
    if n > 1 and not getattr(_inside, "active", False) and n_rows * row_size >= MIN_ELEMENTS:
        n = min(n, n_rows, max(1, n_rows * row_size // (MIN_ELEMENTS // 2)))
    else:
        n = 1
    if n == 1:
        func(0, n_rows)
        return
    bounds = [n_rows * k // n for k in range(n + 1)]
    pool = _executor(n - 1)
    futures = [pool.submit(_run_inside, func, bounds[k], bounds[k + 1]) for k in range(1, n)]
    try:
        _run_inside(func, bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()  # waits; re-raises a worker's exception


__all__ = ["MIN_ELEMENTS", "num_threads", "run_blocks", "set_num_threads", "threads"]
