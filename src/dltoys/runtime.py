"""Process-wide settings: the BLAS thread pool, OpenBLAS's idle spinning, glibc's malloc thresholds.

They act on the whole process, not on one model, so they live here, apart from
the layers and the loop, and nothing applies them on import. Who calls them, and
where they take effect:

- :func:`blas_threads` limits the BLAS library's thread pool (OpenBLAS, MKL) inside
  a ``with`` block: every matrix multiply of NumPy in the process, from that point
  until the block ends. The CLI wraps every toy run in it: one thread unless the
  toy module sets ``THREADS`` or the user passes ``--threads N`` (``--threads auto``
  leaves the library's setting), because the toys' matrices are small and, when
  other processes keep the cores busy, the threads wait for each other at every
  small matmul of a training step (a quick toy measured up to 7x slower on two
  threads than on one; figures in the README and ``benchmarks/NOTES.md``). The
  digits toy runs scikit-learn's reference models under ``blas_threads(1)``. The
  library leaves the BLAS library's default alone in user code.
- :func:`tune_allocator` raises glibc's malloc trim and mmap thresholds, from the
  call until the process ends. Why: a training step allocates the same large
  temporaries (activations, im2col columns, gate buffers) every time; with its
  default, *dynamic* thresholds, glibc serves blocks above ~128 KiB with ``mmap``
  and returns them with ``munmap`` (and trims the heap top) as soon as they are
  freed, so the next step faults every page back in. Raising the thresholds keeps
  the memory in the process for reuse (the measured gains are in
  ``benchmarks/NOTES.md``). The cost: freed memory below the thresholds stays
  mapped, so the resident size follows the *peak* of a step rather than dropping
  between steps; that is what a training process wants, a long-lived service
  embedding dltoys may not. The training loop (:meth:`dltoys.train.Trainer.fit`)
  calls it at the start of a run unless ``TrainConfig(tune_allocator=False)``; the
  benchmark workers call it explicitly (and once without it); the environment
  variable ``DLTOYS_TUNE_ALLOCATOR=0`` switches it off everywhere. It does nothing
  when the C library is not glibc (macOS, Windows, musl), and it leaves the settings
  alone when the user configured glibc through ``MALLOC_TRIM_THRESHOLD_`` /
  ``MALLOC_MMAP_THRESHOLD_``.

- :data:`BLAS_THREAD_TIMEOUT` is what to export as ``OPENBLAS_THREAD_TIMEOUT`` before
  NumPy loads OpenBLAS (the ``dltoys`` command does, and ``make bench``). After a matrix
  product OpenBLAS's idle threads spin for 2**28 cycles (~0.1 s) before they sleep; the
  large elementwise passes that :mod:`dltoys.nn.parallel` splits over a second thread
  (GELU, softmax, LayerNorm) come right after a product, so on a 2-core machine that
  thread found its core taken by the spinning one and gained nothing. 2**18 cycles
  (~0.1 ms) still covers the gaps between the back-to-back products of a recurrent
  step; the figures are in ``benchmarks/NOTES.md``. An environment variable is the only
  way: OpenBLAS reads it once, when it loads.

``dltoys.train.tune_allocator`` and ``dltoys.train.blas_threads`` are the first two,
re-exported.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from typing import Iterator

from .utils import check_int

#: Environment variable that disables :func:`tune_allocator` ("0", "false", "no", "off").
ENV_VAR = "DLTOYS_TUNE_ALLOCATOR"

#: ``OPENBLAS_THREAD_TIMEOUT`` for dltoys (log2 of the cycles an idle OpenBLAS thread spins; its default is 28).
BLAS_THREAD_TIMEOUT = "18"

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Free memory at the heap top that glibc keeps instead of returning it (1 GiB).
TRIM_THRESHOLD = 1 << 30
#: Blocks at least this large get their own mmap. glibc refuses values above
#: half its maximum heap size (32 MiB on 64-bit): bigger blocks keep using mmap.
MMAP_THRESHOLD = 32 << 20

_applied: bool | None = None  # None: not tried yet; then whether the settings are in effect


def _glibc() -> ctypes.CDLL | None:
    """The running glibc, or None for any other C library."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it (musl has a mallopt stub)
        libc.mallopt
    except (OSError, AttributeError):
        return None
    return libc


def _disabled_by_environment() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() in ("0", "false", "no", "off")


def tune_allocator(enable: bool = True) -> bool:
    """Raise glibc's malloc trim and mmap thresholds for the whole process (once).

    Parameters
    ----------
    enable : bool, default True
        False does nothing (the switch the trainer passes through from
        ``TrainConfig.tune_allocator``).

    Returns
    -------
    bool
        Whether the tuned settings are in effect. False when switched off (by
        ``enable`` or ``DLTOYS_TUNE_ALLOCATOR=0``), when the C library is not
        glibc, when ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_`` is
        set (the user's choice wins), or when glibc rejected a value.

    Notes
    -----
    Idempotent: the first successful call sets ``M_TRIM_THRESHOLD`` to
    :data:`TRIM_THRESHOLD` and ``M_MMAP_THRESHOLD`` to :data:`MMAP_THRESHOLD`
    with ``mallopt(3)``; later calls return the same answer without touching
    glibc again. Setting either value also turns off glibc's dynamic threshold
    adjustment, which is what lets the freed buffers be reused. The setting
    lasts for the life of the process.
    """
    global _applied
    if not enable or _disabled_by_environment():
        return bool(_applied)
    if _applied is not None:
        return _applied
    if "MALLOC_TRIM_THRESHOLD_" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        _applied = False
        return _applied
    libc = _glibc()
    if libc is None:
        _applied = False
        return _applied
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success, 0 on a rejected value.
    ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    _applied = ok_trim and ok_mmap
    return _applied


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit the BLAS thread pool, and dltoys's own elementwise threads, to ``n`` inside the ``with`` block.

    Parameters
    ----------
    n : int >= 1, or None to leave the library's setting (e.g. ``OPENBLAS_NUM_THREADS``) as it is.

    Uses threadpoolctl, which changes the thread count of the BLAS library NumPy
    already loaded (an environment variable only works before NumPy is imported),
    and :func:`dltoys.nn.parallel.threads`; both are restored on exit.
    """
    if n is None:
        yield
        return
    n = check_int("threads", n, minimum=1)
    from threadpoolctl import threadpool_limits

    from .nn import parallel

    with threadpool_limits(limits=n, user_api="blas"), parallel.threads(n):
        yield


__all__ = ["BLAS_THREAD_TIMEOUT", "ENV_VAR", "blas_threads", "tune_allocator"]
