"""How many threads the BLAS library (OpenBLAS, MKL) may use for matrix multiplies.

Measured on the project's 2-core machines: on a quiet machine both cores pay
(the quick char-level LSTM: 7.4 s with 2 threads, 9.7 s with 1), but when other
processes keep the cores busy, OpenBLAS's threads wait for each other at every
small matmul of a training step and the same run took 3-10x longer than with 1
thread (37 s against 10 s). So dltoys leaves the library's default alone and
offers an explicit switch: ``dltoys run TOY --threads 1`` or :func:`blas_threads`.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from ..utils import check_int


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit the BLAS thread pool to ``n`` threads inside the ``with`` block.

    Parameters
    ----------
    n : int >= 1, or None to leave the library's setting (e.g. ``OPENBLAS_NUM_THREADS``) as it is.

    Uses threadpoolctl, which changes the thread count of the BLAS library NumPy
    already loaded (an environment variable only works before NumPy is imported),
    and restores it on exit.
    """
    if n is None:
        yield
        return
    n = check_int("threads", n, minimum=1)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield
