"""Evaluation and prediction in batches, in eval mode: :func:`evaluate`, :func:`predict`."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from ..data.batches import Minibatches
from ..nn.module import Module, eval_mode
from ..utils import check_finite_data
from .metrics import Metric, resolve_metrics
from .step import loss_value

Inputs = Any  # an array, or a tuple of arrays for a model with several inputs


def _as_inputs(x: Inputs) -> tuple:
    """A tuple of model inputs: a tuple stays several inputs, anything else is one."""
    return tuple(x) if isinstance(x, tuple) else (x,)


def _input_names(name: str, inputs: tuple) -> list[str]:
    return [name] if len(inputs) == 1 else [f"{name}[{index}]" for index in range(len(inputs))]


@contextlib.contextmanager
def targets_checked(loss: Any, *targets: Any) -> Iterator[None]:
    """Check every target array's domain once with ``loss.check_target``, then let the loss skip it per call.

    Losses without ``check_target`` (a user's own) are left as they are.
    """
    check = getattr(loss, "check_target", None)
    if not callable(check) or not hasattr(loss, "targets_checked"):
        yield
        return
    for target in targets:
        if target is not None:
            check(target)
    before = loss.targets_checked
    loss.targets_checked = True
    try:
        yield
    finally:
        loss.targets_checked = before


def check_data(x_name: str, inputs: tuple, y: Any, y_name: str) -> None:
    """Every float array of the inputs and the targets is finite (one pass each, once per fit/evaluate)."""
    for name, array in zip(_input_names(x_name, inputs), inputs):
        check_finite_data(name, array)
    check_finite_data(y_name, y)


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

    Raises
    ------
    ValueError
        If ``x`` or ``y`` holds NaN or infinite values (checked once, before the
        first batch): a mean that is NaN says nothing about the model.
    """
    metric_fns = resolve_metrics(metrics)
    inputs = _as_inputs(x)
    check_data("x", inputs, y, "y")
    batches = Minibatches(*inputs, y, batch_size=batch_size, names=[*_input_names("x", inputs), "y"])
    averages = _Averages()
    with eval_mode(model), targets_checked(loss, y):
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
