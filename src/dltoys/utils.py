"""The basement below ``dltoys.nn``: randomness, dtypes and argument checks.

Every package of dltoys may import this module; it imports nothing of dltoys.
The helpers here validate at the public boundary and raise errors that name the
argument, the value received and what is allowed.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

RngLike = Union[int, np.random.Generator, None]

#: The floating dtypes a dltoys model can be built in.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DEFAULT_DTYPE = np.dtype(np.float32)


def as_rng(rng: RngLike) -> np.random.Generator:
    """Normalise ``rng`` to a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : int, numpy.random.Generator or None
        A seed (non-negative int), an existing generator (returned as is, so that
        several components drawing from it in turn get different numbers), or
        ``None`` for fresh, unpredictable entropy.

    Returns
    -------
    numpy.random.Generator
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: a seed must be a non-negative integer, received {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng: expected an int seed, a numpy.random.Generator or None, "
        f"received {type(rng).__name__}"
    )


def resolve_dtype(dtype: Any) -> np.dtype:
    """Return the floating dtype to build a module in (float32 unless asked otherwise).

    Raises
    ------
    TypeError
        If ``dtype`` is not float32 or float64.
    """
    if dtype is None:
        return DEFAULT_DTYPE
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected float32 or float64, received {dtype!r}") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, received {resolved}")
    return resolved


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) in ``[minimum, maximum]`` (either bound optional)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer, received {value!r}")
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        if maximum is None:
            allowed = f">= {minimum}"
        elif minimum is None:
            allowed = f"<= {maximum}"
        else:
            allowed = f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name}: expected an integer {allowed}, received {value}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """Check that a flag is a real ``bool`` (``"False"``, ``"no"`` and ``1`` would be truthy).

    PyTorch reads ``bias="no"`` as True; dltoys refuses it (a string flag is always a mistake).
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, received {value!r}")
    return bool(value)


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number inside the given interval."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}: expected a number, received {value!r}")
    value = float(value)
    ok = np.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        # An absent bound is an open infinity: inf itself is never accepted.
        left = ("[" if low_inclusive else "(") + f"{low:g}" if low is not None else "(-inf"
        right = f"{high:g}" + ("]" if high_inclusive else ")") if high is not None else "inf)"
        raise ValueError(f"{name}: expected a number in {left}, {right}, received {value:g}")
    return value


def check_choice(name: str, value: Any, allowed: tuple) -> Any:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}: expected one of {options}, received {value!r}")
    return value


def as_array(name: str, value: Any) -> np.ndarray:
    """Convert an input to an ndarray, with a clear error for things that are not arrays.

    Ragged nested lists (rows of different lengths) and lists of arbitrary
    objects are refused with a ``TypeError`` naming ``name``, instead of NumPy's
    "inhomogeneous shape" ``ValueError`` from deep inside a layer.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"{name}: expected a numeric array, received an array of Python objects")
        return value
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        ragged = "inhomogeneous" in str(exc) or "sequence" in str(exc)
        what = "a ragged nested list (rows of different lengths)" if ragged else type(value).__name__
        raise TypeError(f"{name}: expected a rectangular array, received {what}") from None
    if array.dtype.hasobject:
        raise TypeError(f"{name}: expected a numeric array, received {type(value).__name__} of objects")
    return array


def check_real_array(name: str, value: Any, *, finite: bool = True) -> np.ndarray:
    """An ndarray of real numbers (bool, int or float; optionally all finite), or a clear error.

    The one check of data arrays at a public boundary (``fit``, ``evaluate``,
    an estimator's ``X``). Complex, string, datetime and object arrays are refused:
    NumPy would drop the imaginary part or fail deep inside.
    """
    array = as_array(name, value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, received dtype {array.dtype}")
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name}: expected finite values, received {bad} NaN or infinite value(s)")
    return array


def check_finite_data(name: str, value: Any) -> np.ndarray:
    """``value`` as an array; if it holds floats they must all be finite (one pass, once per call).

    For the data given to ``fit`` and ``evaluate``: a NaN there would make the
    loss NaN and, in validation data, let early stopping end a run on "no valid
    value". Integer, boolean (and other non-float) arrays pass unchanged.
    """
    array = as_array(name, value)
    if array.dtype.kind in "fc":
        finite = np.isfinite(array)
        if not finite.all():
            bad = finite.reshape(len(finite), -1).all(axis=1) if array.ndim else finite
            rows = np.flatnonzero(~bad)[:5].tolist() if array.ndim else []
            where = f" (rows {rows}{', ...' if (~bad).sum() > 5 else ''})" if rows else ""
            raise ValueError(
                f"{name}: holds {array.size - int(np.count_nonzero(finite))} NaN or infinite value(s){where}; "
                "remove or impute them before training or evaluating"
            )
    return array


def check_target_range(
    owner: str, target: np.ndarray, low: float, high: float, hint: str = ""
) -> None:
    """Every value of ``target`` in ``[low, high]`` (NaN refused), or a ``ValueError`` naming ``owner``.

    Two reductions (min and max) over the target: a fraction of what the loss itself costs.
    """
    if target.size == 0:
        return
    smallest, largest = target.min(), target.max()
    # NaN propagates through min/max, and every comparison with NaN is False.
    if not (smallest >= low and largest <= high):
        raise ValueError(
            f"{owner}: target values must lie in [{low:g}, {high:g}], received values from "
            f"{smallest:g} to {largest:g}{hint}"
        )


def check_weights(owner: str, name: str, weights: Any, *, allow_all_zero: bool = False) -> np.ndarray:
    """Per-class weights: a 1-D float64 array, finite, >= 0 and not all zero, or a clear error."""
    weights = as_array(name, weights)
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be real numbers, received dtype {weights.dtype}")
    weights = np.array(weights, dtype=np.float64)  # a copy: loads write into it
    if weights.ndim != 1:
        raise ValueError(f"{owner}: {name} must be 1-D (C,), received shape {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(f"{owner}: {name} must be finite and >= 0, received {weights.tolist()[:8]}")
    if not allow_all_zero and weights.size and not weights.any():
        raise ValueError(f"{owner}: {name} is all zeros, so every loss would be 0/0")
    return weights


def check_features(owner: str, X: Any, n_features: int) -> np.ndarray:
    """A non-empty ``(N, n_features)`` array of finite real numbers, or a clear error.

    ``owner`` names the model in the message, e.g. ``"Perceptron(n_features=2)"``.
    The array is returned as given (no dtype change).
    """
    X = as_array("X", X)
    if X.ndim != 2 or X.shape[1] != n_features or X.shape[0] == 0:
        raise ValueError(f"{owner}: expected X of shape (N >= 1, {n_features}), received {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X: expected real numbers, received dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise ValueError("X: expected finite values, received NaN or inf")
    return X


def check_binary_labels(y: Any, n_rows: int) -> np.ndarray:
    """0/1 labels of shape ``(n_rows,)`` or ``(n_rows, 1)``, returned as ``(n_rows,)``, or a clear error."""
    y = as_array("y", y)
    if y.shape not in ((n_rows,), (n_rows, 1)):
        raise ValueError(f"y: expected shape ({n_rows},) to match X's rows, received {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y: expected labels 0 and 1, received {np.unique(y)[:5].tolist()}")
    return y.reshape(n_rows)
