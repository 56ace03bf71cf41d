"""Fixtures every test module may use.

Tests import the package from ``src`` (``PYTHONPATH=src``, or an editable install);
nothing here changes global state: randomness comes from explicit generators.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so every test sees the same numbers on every run."""
    return np.random.default_rng(12345)
