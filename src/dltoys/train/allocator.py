"""Keep glibc from handing big freed buffers back to the kernel between steps.

Why: a training step allocates the same large temporaries (activations,
im2col columns, gate buffers) every time. With its default, *dynamic*
thresholds, glibc serves blocks above ~128 KiB with ``mmap`` and returns them
with ``munmap`` (and trims the heap top) as soon as they are freed, so the
next step faults every page back in: 6,500 page faults (~20 ms) per LSTM step
and 13,000 (~36 ms) per GPT step on this project's machines. Raising the trim
and mmap thresholds keeps the memory in the process for reuse; it measured
18-35 % faster steps for the CNN, LSTM and GPT models (``/work/shared/PERFORMANCE.md``).

The cost: freed memory below the thresholds stays mapped, so the resident
size follows the *peak* of a step rather than dropping between steps. That is
what a training process wants; a long-lived service embedding dltoys may not.

This is an explicit setting, never an import-time side effect. The trainer
(:func:`dltoys.train.fit`) calls :func:`tune_allocator` at the start of a run
unless ``TrainConfig(tune_allocator=False)``; the environment variable
``DLTOYS_TUNE_ALLOCATOR=0`` switches it off everywhere. It does nothing when
the C library is not glibc (macOS, Windows, musl), and it leaves the settings
alone when the user configured glibc through ``MALLOC_TRIM_THRESHOLD_`` /
``MALLOC_MMAP_THRESHOLD_``.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: Environment variable that disables :func:`tune_allocator` ("0", "false", "no", "off").
ENV_VAR = "DLTOYS_TUNE_ALLOCATOR"

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
