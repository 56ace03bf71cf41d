"""Steps: what the training loop does with one batch.

The loop (:class:`~dltoys.train.Trainer`) owns epochs, callbacks, history, the
progress bar, non-finite checks, validation and checkpoints; it knows nothing
about supervision. A *step* is called once per batch, trains on it, and returns
the batch's logs: named Python floats (``{"loss": 0.31}``, ``{"d_loss": ...,
"g_loss": ...}``). A step names what it trains so the loop can put it in train or
eval mode, check it for non-finite values, checkpoint it and show it to
callbacks:

- ``modules``: the named :class:`~dltoys.nn.Module` s it trains
  (``{"model": net}``, ``{"generator": g, "discriminator": d}``);
- ``optimizers``: the named optimizers it steps (empty for a rule with no
  optimizer, such as a self-organizing map's update).

Shipped steps: :class:`SupervisedStep` (forward, loss, backward, optimizer
step: what :func:`~dltoys.train.fit` uses), :class:`ClosureStep` (the
gradient-free optimizers, which call ``step(closure)``) and
:class:`~dltoys.train.TruncatedBPTTStep` (``bptt.py``: recurrent state carried
across consecutive chunks, the gradient cut between them). Families with their own
kind of update write their step beside their model; a GAN's reads::

    class GANStep(train.Step):
        def __call__(self, batch):
            (real,) = batch
            fake = self.generator(self.noise(len(real)))              # (B, D)
            self.d_opt.zero_grad()
            d_loss = self.bce(self.discriminator(real), 1) + self.bce(self.discriminator(fake), 0)
            ...
            self.before_update("discriminator")
            self.d_opt.step()
            ...
            return {"d_loss": d_loss, "g_loss": g_loss}

A step that fills ``.grad`` without a backward pass (contrastive divergence)
still calls ``before_update`` and an ordinary ``optimizer.step()``, so gradient
clipping and learning-rate schedules work unchanged.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..nn.module import Module, eval_mode
from ..optim.optimizer import Optimizer
from .metrics import Metric, resolve_metrics


def _named(kind: str, value: Any, default_name: str, cls: type) -> dict[str, Any]:
    """``{name: object}`` from one object, a mapping, or None (empty)."""
    if value is None:
        return {}
    if isinstance(value, cls):
        return {default_name: value}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{kind}: expected a {cls.__name__} or a dict of name -> {cls.__name__}, received {type(value).__name__}"
        )
    named = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{kind}: names must be non-empty strings, received {name!r}")
        if not isinstance(item, cls):
            raise TypeError(f"{kind}[{name!r}]: expected a {cls.__name__}, received {type(item).__name__}")
        named[name] = item
    return named


def loss_value(value: Any, where: str) -> float:
    """A loss as a Python float; a clear error when it is not a scalar."""
    if np.ndim(value) != 0:
        raise ValueError(
            f"{where}: the loss must reduce to a scalar (reduction='mean' or 'sum'), received shape {np.shape(value)}"
        )
    return float(value)


class Step:
    """Base class of the per-batch update: subclass it and write ``__call__``.

    Parameters
    ----------
    modules : Module or dict of str -> Module
        What the step trains. One module is named ``"model"``.
    optimizers : Optimizer or dict of str -> Optimizer, optional
        What it steps. One optimizer is named ``"optimizer"``; None: no optimizer.

    Notes
    -----
    The loop calls, in order: :meth:`on_train_begin` once, then per epoch
    :meth:`on_epoch_begin` and ``step(batch)`` for each batch (every module in
    train mode), :meth:`evaluate` on each validation batch (every module in eval
    mode), and :meth:`on_train_end` once, also after an error.
    """

    def __init__(self, modules: Module | Mapping[str, Module], optimizers: Optimizer | Mapping[str, Optimizer] | None = None):
        self.modules: dict[str, Module] = _named("modules", modules, "model", Module)
        if not self.modules:
            raise ValueError("modules: a step must name at least one Module it trains")
        self.optimizers: dict[str, Optimizer] = _named("optimizers", optimizers, "optimizer", Optimizer)
        self._before_update: Callable[[str | None], None] | None = None

    # ------------------------------------------------------------ the step
    def __call__(self, batch: Any) -> Mapping[str, float]:
        """Train on one batch and return its logs (named floats)."""
        raise NotImplementedError(f"{type(self).__name__} must define __call__(batch) -> dict of logs")

    def evaluate(self, batch: Any) -> Mapping[str, float]:
        """Logs on one validation batch, without training (modules are in eval mode)."""
        raise NotImplementedError(
            f"{type(self).__name__} defines no evaluate(batch), so it cannot be given validation data"
        )

    def batch_size(self, batch: Any) -> int:
        """The batch's weight in the epoch means: the length of its first array."""
        first = batch[0] if isinstance(batch, (tuple, list)) else batch
        return len(first) if hasattr(first, "__len__") else 1

    # --------------------------------------------------------------- hooks
    def before_update(self, optimizer: str | None = None) -> None:
        """Call right before an optimizer's ``step()``: callbacks may change the gradients
        (clipping). ``optimizer`` names which one is about to step."""
        if self._before_update is not None:
            self._before_update(optimizer)

    def on_train_begin(self) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_train_end(self) -> None:
        pass

    def parameters_of(self, optimizer: str | None) -> list:
        """The parameters an optimizer updates (all modules' for None)."""
        if optimizer is not None and optimizer in self.optimizers:
            return list(self.optimizers[optimizer].params)
        return [p for module in self.modules.values() for p in module.parameters()]


class SupervisedStep(Step):
    """Forward, loss, backward, optimizer step: supervised learning on ``(inputs..., target)`` batches.

    Parameters
    ----------
    model : Module
    loss : Loss
        ``loss(output, target)`` -> 0-d array; ``loss.backward()`` -> d loss / d output.
    optimizer : Optimizer
    metrics : names or callables, optional
        ``["accuracy"]`` or ``{"acc": fn}``: ``fn(output, target)`` per batch.

    Notes
    -----
    One batch::

        model.zero_grad()
        output = model(*inputs)
        value = loss(output, target)
        model.backward(loss.backward())   # gradients accumulate into .grad
        before_update()                   # callbacks: gradient clipping
        optimizer.step()

    The loss is checked before the update, so a non-finite loss leaves the weights
    at their last finite values. While it trains, the model skips the gradient of
    the data input (``needs_input_grad = False``, restored afterwards), as PyTorch
    skips the gradient of a tensor that does not require one.
    """

    def __init__(
        self,
        model: Module,
        loss: Module,
        optimizer: Optimizer,
        *,
        metrics: Mapping[str, Metric | str] | Sequence[Metric | str] | None = None,
    ):
        if not isinstance(model, Module):
            raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
        if not isinstance(loss, Module) or not callable(getattr(loss, "backward", None)):
            raise TypeError(f"loss: expected a dltoys.nn loss (a Module with backward), received {type(loss).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer: expected a dltoys.optim Optimizer, received {type(optimizer).__name__}")
        super().__init__({"model": model}, {"optimizer": optimizer})
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.metrics = resolve_metrics(metrics)
        self._needed_input_grad = model.needs_input_grad

    def on_train_begin(self) -> None:
        # The inputs are data: the loop never uses their gradient, so the first layer may skip
        # computing it (the largest matmul of an MLP's first layer).
        self._needed_input_grad = self.model.needs_input_grad
        self.model.needs_input_grad = False

    def on_train_end(self) -> None:
        self.model.needs_input_grad = self._needed_input_grad

    def batch_size(self, batch: Any) -> int:
        return len(batch[-1])

    def _logs(self, output: Any, target: Any, value: float) -> dict[str, float]:
        logs = {"loss": value}
        for name, metric in self.metrics.items():
            logs[name] = float(metric(output, target))
        return logs

    def _loss_and_update(self, output: Any, target: Any) -> float:
        """The loss of ``output``, then backward and one optimizer step; returns the loss."""
        value = loss_value(self.loss(output, target), "fit")
        if math.isfinite(value):  # a non-finite loss: no update, the loop reports it
            self.model.backward(self.loss.backward())
            self.before_update("optimizer")
            self.optimizer.step()
        return value

    def __call__(self, batch: Any) -> dict[str, float]:
        *inputs, target = batch
        self.model.zero_grad()
        output = self.model(*inputs)
        return self._logs(output, target, self._loss_and_update(output, target))

    def evaluate(self, batch: Any) -> dict[str, float]:
        *inputs, target = batch
        output = self.model(*inputs)
        return self._logs(output, target, loss_value(self.loss(output, target), "evaluate"))


class ClosureStep(SupervisedStep):
    """A gradient-free optimizer's batch: ``optimizer.step(closure)``.

    ``closure()`` runs the forward pass and the loss on the batch (no backward)
    and returns the loss as a float; the optimizer calls it as often as its
    search needs and returns the loss of the weights it kept. The metrics are
    measured at those weights.
    """

    def __call__(self, batch: Any) -> dict[str, float]:
        *inputs, target = batch

        def closure() -> float:
            return loss_value(self.loss(self.model(*inputs), target), "fit")

        value = self.optimizer.step(closure)
        if value is None:
            raise TypeError(
                f"{type(self.optimizer).__name__}.step(closure) returned None; a gradient-free optimizer "
                "must return the loss of the weights it kept"
            )
        value = float(value)
        output = self.model(*inputs) if self.metrics else None
        return self._logs(output, target, value)


def supervised_step(model: Module, loss: Module, optimizer: Optimizer, metrics: Any = None) -> SupervisedStep:
    """The step :func:`~dltoys.train.fit` uses: :class:`ClosureStep` for gradient-free optimizers."""
    cls = SupervisedStep if getattr(optimizer, "needs_gradients", True) else ClosureStep
    return cls(model, loss, optimizer, metrics=metrics)


__all__ = ["ClosureStep", "Step", "SupervisedStep", "eval_mode", "loss_value", "supervised_step"]
