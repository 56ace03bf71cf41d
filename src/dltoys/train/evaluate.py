"""Evaluation and prediction in batches, in eval mode: :func:`evaluate`, :func:`predict`."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..data.batches import Minibatches
from ..nn.module import Module, eval_mode
from .metrics import Metric, resolve_metrics
from .step import loss_value

Inputs = Any  # an array, or a tuple of arrays for a model with several inputs


def _as_inputs(x: Inputs) -> tuple:
    """A tuple of model inputs: a tuple stays several inputs, anything else is one."""
    return tuple(x) if isinstance(x, tuple) else (x,)


def _input_names(name: str, inputs: tuple) -> list[str]:
    return [name] if len(inputs) == 1 else [f"{name}[{index}]" for index in range(len(inputs))]


class _Averages:
    """Sample-weighted means of the loss and metrics over the batches of a pass."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, values: dict[str, float], n: int) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * n
        self.count += n

    def means(self, prefix: str = "") -> dict[str, float]:
        return {prefix + key: total / self.count for key, total in self.sums.items()}


def evaluate(
    model: Module,
    loss: Module | None,
    x: Inputs,
    y: Any,
    *,
    batch_size: int | None = 256,
    metrics: Mapping[str, Metric | str] | Sequence[Metric | str] | None = None,
) -> dict[str, float]:
    """Loss and metrics of ``model`` on a data set, in evaluation mode.

    Every module is switched to eval mode (dropout off, batch norm on running
    statistics) and put back in the mode it had, also on error.

    Parameters
    ----------
    model : Module
    loss : Loss or None
        None reports the metrics only.
    x : ndarray of shape (N, ...), or a tuple of such arrays for several model inputs
    y : ndarray of shape (N, ...)
    batch_size : int or None, default 256
        None evaluates the whole set in one batch.
    metrics : names or callables, see :func:`dltoys.train.metrics.resolve_metrics`

    Returns
    -------
    dict
        ``{"loss": ..., "<metric>": ...}``: means over the samples (each batch
        weighted by its size).
    """
    metric_fns = resolve_metrics(metrics)
    inputs = _as_inputs(x)
    batches = Minibatches(*inputs, y, batch_size=batch_size, names=[*_input_names("x", inputs), "y"])
    averages = _Averages()
    with eval_mode(model):
        for batch in batches:
            *batch_inputs, target = batch
            output = model(*batch_inputs)
            values = {} if loss is None else {"loss": loss_value(loss(output, target), "evaluate")}
            for name, metric in metric_fns.items():
                values[name] = float(metric(output, target))
            averages.add(values, len(target))
    return averages.means()


def predict(model: Module, x: Inputs, *, batch_size: int | None = 256) -> Any:
    """The model's outputs on ``x``, batch by batch in evaluation mode, concatenated.

    Parameters
    ----------
    model : Module
    x : ndarray of shape (N, ...), or a tuple of arrays for several model inputs
    batch_size : int or None, default 256

    Returns
    -------
    ndarray of shape (N, ...), or a tuple of them when the model returns a tuple.
    """
    inputs = _as_inputs(x)
    batches = Minibatches(*inputs, batch_size=batch_size, names=_input_names("x", inputs))
    with eval_mode(model):
        outputs = [model(*batch) for batch in batches]
    if isinstance(outputs[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*outputs))
    return np.concatenate(outputs)
