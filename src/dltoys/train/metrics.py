"""Metrics: ``metric(output, target) -> float``, a mean over the samples of a batch.

The trainer averages a metric over an epoch weighting each batch by its number
of samples, which is exact for any metric that is a mean over samples (all of
these are). A metric never changes its inputs and never upcasts them to float64
beyond the final float.

Refer to them by name in ``fit(..., metrics=["accuracy"])`` or pass any callable:
``metrics={"acc": accuracy, "err": lambda out, y: 1 - accuracy(out, y)}``.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np

Metric = Callable[[Any, Any], float]


def accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """Fraction of samples whose highest-scoring class is the target class.

    Parameters
    ----------
    output : ndarray of shape (N, C) or (N, C, d1, ...)
        Logits or probabilities (the argmax is the same), classes on axis 1 as
        ``CrossEntropyLoss`` takes them.
    target : ndarray of shape (N,) / (N, d1, ...) of class indices, or of the
        output's shape (one-hot or class probabilities: its argmax is the class).

    Returns
    -------
    float in [0, 1]
    """
    output = np.asarray(output)
    target = np.asarray(target)
    if output.ndim < 2 or output.shape[1] < 2:
        raise ValueError(
            f"accuracy: expected scores of shape (N, C, ...) with C >= 2 classes on axis 1, received "
            f"{output.shape} (for one output per sample use binary_accuracy)"
        )
    predicted = output.argmax(axis=1)  # (N, d1, ...)
    if target.shape == output.shape and target.dtype.kind == "f":
        target = target.argmax(axis=1)
    if target.shape != predicted.shape:
        raise ValueError(
            f"accuracy: target must hold class indices of shape {predicted.shape} or one-hot rows of "
            f"shape {output.shape}, received {target.shape}"
        )
    return float(np.mean(predicted == target))


def binary_accuracy(output: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of outputs on the target's side of ``threshold``.

    Parameters
    ----------
    output : ndarray of shape (N,), (N, 1) or (N, K) (K independent labels)
        Probabilities (``threshold=0.5``) or logits (``threshold=0``; use
        :func:`binary_accuracy_logits`).
    target : ndarray with as many elements as ``output``, 0/1 or bool
        (a target above 0.5 counts as 1).
    threshold : float, default 0.5
        An output above it predicts 1.

    Returns
    -------
    float in [0, 1]: the mean over every label of every sample.
    """
    output = np.asarray(output)
    target = np.asarray(target)
    if output.size != target.size or (output.shape != target.shape and output.size != len(output)):
        # (N, 1) against (N,) is fine; anything else must match exactly.
        raise ValueError(
            f"binary_accuracy: target shape {target.shape} does not match output shape {output.shape}"
        )
    return float(np.mean((output.reshape(target.shape) > threshold) == (target > 0.5)))


#: :func:`binary_accuracy` for logits (``BCEWithLogitsLoss`` outputs): threshold 0.
binary_accuracy_logits = partial(binary_accuracy, threshold=0.0)


def mse(output: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error over every element (``MSELoss`` as a metric)."""
    output = np.asarray(output)
    target = np.asarray(target)
    if output.shape != target.shape:
        raise ValueError(f"mse: target shape {target.shape} does not match output shape {output.shape}")
    diff = output - target
    return float(np.mean(diff * diff))


#: The metrics that can be named by string.
METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "binary_accuracy_logits": binary_accuracy_logits,
    "mse": mse,
}


def resolve_metrics(metrics: Mapping[str, Metric | str] | Sequence[Metric | str] | None) -> dict[str, Metric]:
    """Normalise the ``metrics`` argument to ``{name: callable}``.

    Accepts None, a sequence of names / callables (a callable is named by its
    ``__name__``) or a mapping from name to name / callable.
    """
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, Mapping) else ((None, m) for m in metrics)
    resolved: dict[str, Metric] = {}
    for name, metric in items:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"metrics: unknown metric {metric!r}; known: {', '.join(METRICS)} (or pass a callable)")
            name = name or metric
            metric = METRICS[metric]
        elif callable(metric):
            name = name or getattr(metric, "__name__", None)
            if not name or name == "<lambda>":
                raise ValueError("metrics: name a lambda by passing a dict, e.g. metrics={'error': fn}")
        else:
            raise TypeError(f"metrics: expected a metric name or a callable, received {metric!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"metrics: names must be non-empty strings, received {name!r}")
        if name == "loss" or name.startswith("val_") or name in ("lr", "time", "epoch"):
            raise ValueError(f"metrics: {name!r} is reserved for the trainer's own logs; choose another name")
        if name in resolved:
            raise ValueError(f"metrics: the name {name!r} appears twice")
        resolved[name] = metric
    return resolved
