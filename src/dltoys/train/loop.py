"""The one training loop of dltoys: :class:`Trainer`, :func:`fit`, :func:`evaluate`, :func:`predict`.

One optimizer step per minibatch::

    model.zero_grad()
    output = model(*inputs)                # (batch, ...) in the model's dtype
    value = loss(output, target)           # a 0-d array
    model.backward(loss.backward())        # gradients accumulate into .grad
    callbacks: on_before_step              # e.g. gradient clipping
    optimizer.step()

A gradient-free optimizer (``optimizer.needs_gradients`` False) gets
``optimizer.step(closure)`` instead, where ``closure()`` runs the forward pass
and the loss on the batch (no backward) and returns the loss as a float.

Batches are passed to the model as they are stored (uint8 pixels, int64 token
ids): layers cast their inputs to their dtype, so the loop never upcasts and
integer ids stay integers. A float32 model trains in float32 throughout.
"""

from __future__ import annotations

import math
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..data.batches import Minibatches
from ..nn.module import Module, eval_mode
from ..optim.optimizer import Optimizer
from ..utils import RngLike, as_rng
from .allocator import tune_allocator
from .callbacks import Callback
from .config import TrainConfig
from .history import History
from .metrics import Metric, resolve_metrics
from .progress import ProgressBar, progress_enabled

Inputs = Any  # an array, or a tuple of arrays for a model with several inputs


class NonFiniteError(FloatingPointError):
    """Training diverged: a loss or a parameter became NaN or infinite.

    Attributes
    ----------
    history : History or None
        The epochs completed before the divergence (set by the training loop),
        so a caller can still plot the curve up to where it stopped.
    """

    history: "History | None" = None


class NonFiniteLossError(NonFiniteError):
    """The training loss of a batch was not finite (raised before that batch's update).

    Attributes
    ----------
    epoch, batch : int
        Where it happened, both counted from 1.
    value : float
    """

    def __init__(self, epoch: int, batch: int, n_batches: int, value: float):
        self.epoch, self.batch, self.value = epoch, batch, value
        super().__init__(
            f"the training loss became {value} at epoch {epoch}, batch {batch} of {n_batches}; the "
            "weights are those before this batch. Usual causes: a learning rate too high, inputs "
            "that are not scaled, or a log/division of zero in a custom loss."
        )


class NonFiniteParameterError(NonFiniteError):
    """A parameter held NaN or infinite values after an epoch.

    Attributes
    ----------
    epoch : int
    parameter : str
        The first parameter (``named_parameters`` order) that is not finite.
    """

    def __init__(self, epoch: int, parameter: str, count: int, size: int):
        self.epoch, self.parameter = epoch, parameter
        super().__init__(
            f"parameter {parameter!r} holds {count} non-finite values (of {size}) after epoch {epoch}; "
            "training diverged (lower the learning rate or clip the gradients)"
        )


def _as_inputs(x: Inputs) -> tuple:
    """A tuple of model inputs: a tuple stays several inputs, anything else is one."""
    return tuple(x) if isinstance(x, tuple) else (x,)


def _input_names(name: str, inputs: tuple) -> list[str]:
    return [name] if len(inputs) == 1 else [f"{name}[{index}]" for index in range(len(inputs))]


def _scalar(value: Any, where: str) -> float:
    if np.ndim(value) != 0:
        raise ValueError(
            f"{where}: the loss must reduce to a scalar (reduction='mean' or 'sum'), received shape {np.shape(value)}"
        )
    return float(value)


def _first_non_finite(model: Module) -> tuple[str, int, int] | None:
    for name, param in model.named_parameters():
        finite = np.isfinite(param.data)
        if not finite.all():
            return name, int(finite.size - np.count_nonzero(finite)), finite.size
    return None


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
            values = {} if loss is None else {"loss": _scalar(loss(output, target), "evaluate")}
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


class Trainer:
    """Trains a model with a loss and an optimizer; callbacks and metrics attach here.

    Parameters
    ----------
    model : Module
    loss : Loss
        A :mod:`dltoys.nn` loss with ``forward(output, target)`` -> 0-d array and ``backward()``.
    optimizer : Optimizer
        Over ``model.parameters()``. Gradient-free ones (``needs_gradients=False``)
        get ``step(closure)``.
    metrics : names or callables, optional
        ``["accuracy"]``, ``{"acc": accuracy}``; see :mod:`dltoys.train.metrics`.
    callbacks : iterable of Callback, optional
        Called in the given order.
    config : TrainConfig, optional
        Settings; keyword ``overrides`` replace single fields (``epochs=50``).

    Attributes
    ----------
    history : History
        Of the last (or running) :meth:`fit`.
    epoch : int
        The current (or last) epoch, counted from 1; 0 before training.
    rng : numpy.random.Generator or None
        The shuffling generator of the running fit.
    batches_per_epoch : int
    stop_reason : str or None
        Set by :meth:`stop`.
    """

    def __init__(
        self,
        model: Module,
        loss: Module,
        optimizer: Optimizer,
        *,
        metrics: Mapping[str, Metric | str] | Sequence[Metric | str] | None = None,
        callbacks: Iterable[Callback] = (),
        config: TrainConfig | None = None,
        **overrides: Any,
    ):
        if not isinstance(model, Module):
            raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
        if not isinstance(loss, Module) or not callable(getattr(loss, "backward", None)):
            raise TypeError(f"loss: expected a dltoys.nn loss (a Module with backward), received {type(loss).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a dltoys.optim Optimizer, received {type(optimizer).__name__}")
        if config is None:
            config = TrainConfig()
        elif not isinstance(config, TrainConfig):
            raise TypeError(f"config: expected a TrainConfig, received {type(config).__name__}")
        self.config = config.replace(**overrides) if overrides else config
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.metrics = resolve_metrics(metrics)
        self.callbacks = list(callbacks)
        for index, callback in enumerate(self.callbacks):
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks[{index}]: expected a Callback, received {type(callback).__name__}")
        self.history = History()
        self.epoch = 0
        self.rng: np.random.Generator | None = None
        self.batches_per_epoch = 0
        self.stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        """Ask the run to end after the current epoch (the first reason given is kept)."""
        if self.stop_reason is None:
            self.stop_reason = str(reason)

    # ----------------------------------------------------------------- fit
    def fit(self, x: Inputs, y: Any, *, validation_data: tuple | None = None, rng: RngLike = None) -> History:
        """Train for ``config.epochs`` epochs (fewer if a callback stops the run).

        Parameters
        ----------
        x : ndarray of shape (N, ...), or a tuple of arrays for a model with several inputs
            Stored in any dtype; layers cast each batch.
        y : ndarray of shape (N, ...)
            Targets, as the loss takes them.
        validation_data : (x_val, y_val), optional
            Evaluated after every epoch in eval mode: ``val_loss`` and ``val_<metric>``.
        rng : int, numpy.random.Generator or None
            Source of the per-epoch shuffles (the only randomness of the loop; the
            model's own randomness, such as dropout, comes from the model's rng).
            The same seed and the same initial weights give bit-identical weights.

        Returns
        -------
        History

        Raises
        ------
        NonFiniteLossError
            A batch's training loss is NaN or infinite (names the epoch and batch).
        NonFiniteParameterError
            A parameter is not finite after an epoch (names the parameter).
        """
        config = self.config
        inputs = _as_inputs(x)
        self.rng = as_rng(rng) if config.shuffle else None
        batches = Minibatches(
            *inputs,
            y,
            batch_size=config.batch_size,
            shuffle=config.shuffle,
            rng=self.rng,
            drop_last=config.drop_last,
            names=[*_input_names("x", inputs), "y"],
        )
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data: expected a pair (x_val, y_val)")
        eval_batch_size = config.eval_batch_size or config.batch_size
        tune_allocator(config.tune_allocator)

        self.history = History()
        self.epoch = 0
        self.stop_reason = None
        self.batches_per_epoch = len(batches)
        bar = ProgressBar(config.epochs, len(batches)) if progress_enabled(config.progress) else None
        # The inputs are data: the loop never uses the gradient backward returns for them, so the
        # first layer may skip computing it (the largest matmul of an MLP's first layer).
        needed_input_grad = self.model.needs_input_grad
        self.model.needs_input_grad = False
        try:
            for callback in self.callbacks:
                callback.on_train_begin(self)
            for epoch in range(1, config.epochs + 1):
                self.epoch = epoch
                if bar is not None:
                    bar.epoch_begin(epoch)
                for callback in self.callbacks:
                    callback.on_epoch_begin(self, epoch)
                started = time.perf_counter()
                lr = float(self.optimizer.lr)  # before the epoch's schedule steps
                # With check_finite the loop itself reports the first non-finite loss with its
                # epoch and batch; NumPy's overflow warnings on the way there are only noise.
                quiet = "ignore" if config.check_finite else "warn"
                with np.errstate(over=quiet, invalid=quiet, divide=quiet):
                    averages, batch_losses = self._train_epoch(batches, epoch, bar)
                if config.check_finite:
                    bad = _first_non_finite(self.model)
                    if bad is not None:
                        raise NonFiniteParameterError(epoch, *bad)
                logs = averages.means()
                if validation_data is not None:
                    x_val, y_val = validation_data
                    scores = evaluate(self.model, self.loss, x_val, y_val, batch_size=eval_batch_size, metrics=self.metrics)
                    logs.update({"val_" + key: value for key, value in scores.items()})
                logs["lr"] = lr
                logs["time"] = time.perf_counter() - started
                self.history.record(epoch, logs, batch_losses)
                if bar is not None:
                    bar.epoch_end(logs)
                for callback in self.callbacks:
                    callback.on_epoch_end(self, epoch, logs)
                if self.stop_reason is not None:
                    self.history.stop_reason = self.stop_reason
                    break
            for callback in self.callbacks:
                callback.on_train_end(self)
        except NonFiniteError as exc:
            exc.history = self.history
            raise
        finally:
            self.model.needs_input_grad = needed_input_grad
            if bar is not None:
                bar.close()
        return self.history

    def _train_epoch(self, batches: Minibatches, epoch: int, bar: ProgressBar | None) -> tuple[_Averages, list[float]]:
        model, loss, optimizer = self.model, self.loss, self.optimizer
        gradient_free = not optimizer.needs_gradients
        n_batches = len(batches)
        averages = _Averages()
        batch_losses: list[float] = []
        model.train()
        for index, batch in enumerate(batches, start=1):
            *inputs, target = batch
            if gradient_free:
                value = self._gradient_free_step(inputs, target)
                if not math.isfinite(value):
                    raise NonFiniteLossError(epoch, index, n_batches, value)
                output = model(*inputs) if self.metrics else None  # at the weights the step kept
            else:
                model.zero_grad()
                output = model(*inputs)
                value = _scalar(loss(output, target), "fit")
                if not math.isfinite(value):  # before the update: the weights stay the last finite ones
                    raise NonFiniteLossError(epoch, index, n_batches, value)
                model.backward(loss.backward())
                for callback in self.callbacks:
                    callback.on_before_step(self)
                optimizer.step()
            values = {"loss": value}
            for name, metric in self.metrics.items():
                values[name] = float(metric(output, target))
            averages.add(values, len(target))
            batch_losses.append(value)
            for callback in self.callbacks:
                callback.on_batch_end(self, index, value)
            if bar is not None:
                bar.advance()
        return averages, batch_losses

    def _gradient_free_step(self, inputs: list, target: np.ndarray) -> float:
        model, loss = self.model, self.loss

        def closure() -> float:
            return _scalar(loss(model(*inputs), target), "fit")

        value = self.optimizer.step(closure)
        if value is None:
            raise TypeError(
                f"{type(self.optimizer).__name__}.step(closure) returned None; a gradient-free optimizer "
                "must return the loss of the weights it kept"
            )
        return float(value)


def fit(
    model: Module,
    loss: Module,
    optimizer: Optimizer,
    x: Inputs,
    y: Any,
    *,
    validation_data: tuple | None = None,
    metrics: Mapping[str, Metric | str] | Sequence[Metric | str] | None = None,
    callbacks: Iterable[Callback] = (),
    rng: RngLike = None,
    config: TrainConfig | None = None,
    **overrides: Any,
) -> History:
    """Train ``model`` on ``(x, y)``: ``Trainer(...).fit(...)`` in one call.

    Examples
    --------
    >>> history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
    ...               x, y, validation_data=(x_val, y_val), metrics=["accuracy"],
    ...               callbacks=[EarlyStopping(patience=3)], rng=0, epochs=30, batch_size=64)
    >>> history["val_accuracy"][-1]

    See :class:`Trainer` and :meth:`Trainer.fit` for the arguments; ``overrides``
    are :class:`TrainConfig` fields.
    """
    trainer = Trainer(model, loss, optimizer, metrics=metrics, callbacks=callbacks, config=config, **overrides)
    return trainer.fit(x, y, validation_data=validation_data, rng=rng)
