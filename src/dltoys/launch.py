"""The ``dltoys`` command's entry point: the environment OpenBLAS reads when it loads, then the CLI.

OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when NumPy loads it, so the command
sets it (unless the user has) before anything imports NumPy; why, in
:mod:`dltoys.runtime` (``BLAS_THREAD_TIMEOUT``, the same value, tested).
"""

from __future__ import annotations

import os
import sys

#: dltoys.runtime.BLAS_THREAD_TIMEOUT (that module imports NumPy, which must not load yet).
_BLAS_THREAD_TIMEOUT = "18"


def main(argv: list[str] | None = None) -> int:
    """Set the OpenBLAS environment if NumPy is not loaded yet, then run :func:`dltoys.cli.main`."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", _BLAS_THREAD_TIMEOUT)
    from .cli import main as cli_main

    return cli_main(argv)
