"""Shared by the dltoys.optim tests: the JSON checkpoint round trip and the regression problem."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _encode(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


def _decode(value):
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.array(value["__ndarray__"], dtype=value["dtype"])
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


@pytest.fixture
def json_roundtrip():
    """What a checkpoint does to a state dict: arrays to lists, through JSON text, and back.

    ``json.dumps`` raises on anything that is not a dict, list or JSON
    scalar, so this also checks the state-dict contract; floats (float32
    included) come back exactly.
    """
    return lambda tree: _decode(json.loads(json.dumps(_encode(tree))))


@pytest.fixture
def regression():
    """64 float32 samples of y = x . (1.5, -2, 0.5) + 0.3 + N(0, 0.1^2); least-squares MSE 0.0110."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(64)
    return x, y.astype(np.float32)[:, None]
