"""Checks that toy configs share beyond ``dltoys.utils``' ``check_int`` and ``check_float``."""

from __future__ import annotations

from typing import Any

from ..utils import check_int


def check_widths(hidden_sizes: Any, name: str = "hidden_sizes") -> tuple[int, ...]:
    """One or more hidden-layer widths, each an integer >= 1 (the error names the bad entry)."""
    if not isinstance(hidden_sizes, tuple) or not hidden_sizes:
        raise ValueError(f"{name}: expected one or more layer widths, received {hidden_sizes!r}")
    return tuple(check_int(f"{name}[{index}]", width, minimum=1) for index, width in enumerate(hidden_sizes))
