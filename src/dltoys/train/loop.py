"""The one training loop of dltoys: :class:`Trainer`, :func:`fit`, :func:`evaluate`, :func:`predict`.

The loop and the step are apart. :class:`Trainer` iterates epochs over any
re-iterable source of batches and calls a :class:`~dltoys.train.Step` on each
batch; the step trains on it and returns the batch's logs (named floats). The
loop owns the rest: callbacks, history, the progress bar, non-finite checks,
validation, early stopping, checkpoints. It does not know what supervision is.

:func:`fit` is supervised training on arrays: a :class:`SupervisedStep` (forward,
loss, backward, optimizer step) over :class:`~dltoys.data.Minibatches`.

Batches are passed to the step as they are stored (uint8 pixels, int64 token
ids): layers cast their inputs to their dtype, so the loop never upcasts and
integer ids stay integers. A float32 model trains in float32 throughout.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..data.batches import Minibatches
from ..nn.module import Module, ModuleDict, eval_mode
from ..optim.optimizer import Optimizer, OptimizerDict
from ..utils import RngLike, as_rng
from .. import runtime
from .callbacks import Callback
from .config import TrainConfig
from .history import History
from .metrics import Metric
from .errors import NonFiniteError, NonFiniteLossError, NonFiniteParameterError, NonFiniteValidationError, _first_non_finite
from .evaluate import Inputs, _as_inputs, _Averages, _input_names, check_data, targets_checked
from .progress import ProgressBar, progress_enabled, step_name
from .resume import apply_resume, read_resume
from .step import Step, supervised_step

def _is_reiterable(data: Any) -> bool:
    try:
        iterator = iter(data)
    except TypeError:
        return False
    return iterator is not data  # a generator or iterator would be empty from the second epoch on


def _check_logs(logs: Any, step: Step, where: str) -> dict[str, float]:
    if not isinstance(logs, Mapping):
        raise TypeError(f"{type(step).__name__}.{where} must return a dict of named floats, received {type(logs).__name__}")
    checked = {}
    for key, value in logs.items():
        try:
            checked[str(key)] = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(step).__name__}.{where}: log {key!r} must be a number, received {type(value).__name__}"
            ) from None
    return checked


class Trainer:
    """The one training loop: epochs over batches, a :class:`~dltoys.train.Step` per batch.

    The loop owns everything around the step: callbacks, the :class:`History`,
    the progress bar, non-finite checks (every logged value of every batch, every
    parameter of every module after each epoch), validation, early stopping and
    checkpoints (through callbacks), and the train/eval mode of the step's modules.

    Parameters
    ----------
    step : Step
        What happens to one batch (:class:`SupervisedStep`, :class:`ClosureStep`,
        or a family's own: a GAN's, contrastive divergence, a SOM's update).
    callbacks : iterable of Callback, optional
        Called in the given order.
    config : TrainConfig, optional
        Settings; keyword ``overrides`` replace single fields (``epochs=50``).
        ``batch_size``, ``shuffle`` and ``drop_last`` are used by :func:`fit`,
        which builds the batches; :meth:`fit` takes batches as they come.

    Attributes
    ----------
    step : Step
    modules, optimizers : dict
        The step's named modules and optimizers.
    model, optimizer
        The step's only module / optimizer (an error names them when there are several).
    history : History
        Of the last (or running) :meth:`fit`.
    epoch : int
        The current (or last) epoch, counted from 1; 0 before training.
    rng : numpy.random.Generator or None
        The data source's shuffling generator (``batches.rng``), if it has one.
    batches_per_epoch : int or None
        ``len(batches)`` when the source has a length.
    updating : str or None
        While a step calls ``before_update(name)``: the optimizer about to step.
    batch_logs : dict
        The logs of the last batch.
    stop_reason : str or None
        Set by :meth:`stop`.

    Examples
    --------
    >>> step = SupervisedStep(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()))
    >>> trainer = Trainer(step, callbacks=[EarlyStopping(patience=3)], epochs=20)
    >>> history = trainer.fit(Minibatches(x, y, batch_size=64, shuffle=True, rng=0),
    ...                       validation=Minibatches(x_val, y_val, batch_size=256))
    """

    def __init__(
        self,
        step: Step,
        *,
        callbacks: Iterable[Callback] = (),
        config: TrainConfig | None = None,
        **overrides: Any,
    ):
        if not isinstance(step, Step):
            raise TypeError(
                f"step: expected a dltoys.train.Step (SupervisedStep(model, loss, optimizer) for supervised "
                f"training, or train.fit(...)), received {type(step).__name__}"
            )
        if config is None:
            config = TrainConfig()
        elif not isinstance(config, TrainConfig):
            raise TypeError(f"config: expected a TrainConfig, received {type(config).__name__}")
        self.config = config.replace(**overrides) if overrides else config
        self.step = step
        if isinstance(callbacks, Callback) or not isinstance(callbacks, Iterable):
            raise TypeError(f"callbacks: expected a list of Callback, received {type(callbacks).__name__}")
        self.callbacks = list(callbacks)
        for index, callback in enumerate(self.callbacks):
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks[{index}]: expected a Callback, received {type(callback).__name__}")
        self.history = History()
        self.epoch = 0
        self.rng: np.random.Generator | None = None
        self.batches_per_epoch: int | None = 0
        self.updating: str | None = None
        self.batch_logs: dict[str, float] = {}
        self.stop_reason: str | None = None

    # ------------------------------------------------------------ the step's parts
    @property
    def modules(self) -> dict[str, Module]:
        return self.step.modules

    @property
    def optimizers(self) -> dict[str, Optimizer]:
        return self.step.optimizers

    @property
    def model(self) -> Module:
        """The step's only module, or all of them as one ModuleDict (state dicts, checkpoints)."""
        modules = self.step.modules
        return next(iter(modules.values())) if len(modules) == 1 else ModuleDict(modules)

    @property
    def optimizer(self) -> Optimizer | None:
        """The step's only optimizer, an OptimizerDict of several, or None without one."""
        optimizers = self.step.optimizers
        if not optimizers:
            return None
        return next(iter(optimizers.values())) if len(optimizers) == 1 else OptimizerDict(optimizers)

    @property
    def loss(self) -> Module:
        loss = getattr(self.step, "loss", None)
        if loss is None:
            raise AttributeError(f"{type(self.step).__name__} has no single loss")
        return loss

    @property
    def metrics(self) -> dict[str, Metric]:
        return getattr(self.step, "metrics", {})

    def parameters(self) -> list:
        """Every parameter of every module of the step, once each."""
        seen, params = set(), []
        for module in self.step.modules.values():
            for param in module.parameters():
                if id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        return params

    def stop(self, reason: str) -> None:
        """Ask the run to end after the current epoch (the first reason given is kept)."""
        if self.stop_reason is None:
            self.stop_reason = str(reason)

    def _check_optimizers(self) -> None:
        owned = {id(param) for param in self.parameters()}
        for name, optimizer in self.step.optimizers.items():
            foreign = sum(1 for param in optimizer.params if id(param) not in owned)
            if foreign:
                raise ValueError(
                    f"optimizer {name!r}: {foreign} of its {len(optimizer.params)} parameters belong to no module "
                    f"the step trains ({', '.join(self.step.modules)}); build it over that model's parameters()"
                )

    def _before_update(self, optimizer: str | None) -> None:
        self.updating = optimizer
        try:
            for callback in self.callbacks:
                callback.on_before_step(self)
        finally:
            self.updating = None

    def _first_non_finite(self) -> tuple[str, int, int] | None:
        several = len(self.step.modules) > 1
        for module_name, module in self.step.modules.items():
            bad = _first_non_finite(module)
            if bad is not None:
                name, count, size = bad
                return (f"{module_name}.{name}" if several else name), count, size
        return None

    def _lr_logs(self) -> dict[str, float]:
        optimizers = self.step.optimizers
        if len(optimizers) == 1:
            return {"lr": float(next(iter(optimizers.values())).lr)}
        return {f"lr_{name}": float(optimizer.lr) for name, optimizer in optimizers.items()}

    # ----------------------------------------------------------------- fit
    def fit(self, batches: Iterable, *, validation: Iterable | None = None, resume: Any = None) -> History:
        """Train for ``config.epochs`` epochs (fewer if a callback stops the run).

        Parameters
        ----------
        batches : re-iterable of batches
            Each ``for`` loop over it is one epoch (:class:`~dltoys.data.Minibatches`,
            a list of batches, a one-element list holding a whole graph).
            Batches reach the step as they are.
        validation : re-iterable of batches, optional
            After every epoch, ``step.evaluate`` on each batch in eval mode; the
            sample-weighted means are logged as ``val_<name>``.
        resume : str or PathLike, optional
            A checkpoint written by :class:`ModelCheckpoint` during a run of the
            same step, callbacks and batches: the weights, the optimizer, the
            epoch counter, the history, the shuffling and module generators and
            every callback's state are restored (all checked before anything
            changes), and training continues at the next epoch, ending
            bit-identical to the run that was never interrupted.

        Returns
        -------
        History

        Raises
        ------
        NonFiniteLossError
            A batch logged a NaN or infinite value (names the value, epoch and batch).
        NonFiniteParameterError
            A parameter is not finite after an epoch (names the parameter).
        NonFiniteValidationError
            A validation value is NaN or infinite (names it and the epoch): the
            run stops instead of early stopping on "no improvement".
        """
        config, step = self.config, self.step
        if not _is_reiterable(batches):
            raise TypeError(
                f"batches: expected a re-iterable source of batches (a list, data.Minibatches, ...), received "
                f"{type(batches).__name__}; each epoch iterates it again, so a generator would be empty after one"
            )
        if validation is not None and not _is_reiterable(validation):
            raise TypeError(f"validation: expected a re-iterable source of batches, received {type(validation).__name__}")
        if validation is not None and type(step).evaluate is Step.evaluate:
            step.evaluate(None)  # raises: found before training, not after the first epoch
        self._check_optimizers()
        runtime.tune_allocator(config.tune_allocator)  # process-wide, from here on (dltoys.runtime)
        self.history = History()
        self.epoch = 0
        self.stop_reason = None
        self.rng = getattr(batches, "rng", None)
        self.batches_per_epoch = len(batches) if hasattr(batches, "__len__") else None
        resumed = read_resume(self, resume) if resume is not None else None
        bar = (ProgressBar(config.epochs, self.batches_per_epoch or 0, name=step_name(step))
               if progress_enabled(config.progress) else None)
        step._before_update = self._before_update
        step.on_train_begin()
        try:
            for callback in self.callbacks:
                callback.on_train_begin(self)
            if resumed is not None:
                apply_resume(self, *resumed)
            first = self.epoch + 1
            if self.stop_reason is not None:  # the saved run had been asked to stop after that epoch
                first = config.epochs + 1
            for epoch in range(first, config.epochs + 1):
                self.epoch = epoch
                if bar is not None:
                    bar.epoch_begin(epoch)
                step.on_epoch_begin(epoch)
                for callback in self.callbacks:
                    callback.on_epoch_begin(self, epoch)
                started = time.perf_counter()
                lr = self._lr_logs()  # before the epoch's schedule steps
                # With check_finite the loop itself reports the first non-finite value with its
                # epoch and batch; NumPy's overflow warnings on the way there are only noise.
                quiet = "ignore" if config.check_finite else "warn"
                with np.errstate(over=quiet, invalid=quiet, divide=quiet):
                    averages, batch_losses = self._train_epoch(batches, epoch, bar)
                if config.check_finite:
                    bad = self._first_non_finite()
                    if bad is not None:
                        raise NonFiniteParameterError(epoch, *bad)
                logs = averages.means()
                if validation is not None:
                    logs.update(self._validate(validation))
                logs.update(lr)
                logs["time"] = time.perf_counter() - started
                self.history.record(epoch, logs, batch_losses)
                if bar is not None:
                    bar.epoch_end(logs)
                for callback in self.callbacks:
                    callback.on_epoch_end(self, epoch, logs)
                for callback in self.callbacks:
                    callback.after_epoch(self, epoch, logs)
                if self.stop_reason is not None:
                    self.history.stop_reason = self.stop_reason
                    break
            for callback in self.callbacks:
                callback.on_train_end(self)
        except NonFiniteError as exc:
            exc.history = self.history
            raise
        finally:
            step.on_train_end()
            step._before_update = None
            if bar is not None:
                bar.close()
        return self.history

    def _train_epoch(self, batches: Iterable, epoch: int, bar: ProgressBar | None) -> tuple[_Averages, list[float]]:
        step = self.step
        for module in step.modules.values():
            module.train()
        averages = _Averages()
        batch_losses: list[float] = []
        check = self.config.check_finite
        for index, batch in enumerate(batches, start=1):
            logs = _check_logs(step(batch), step, "__call__")
            if check:
                for key, value in logs.items():
                    if not math.isfinite(value):
                        raise NonFiniteLossError(epoch, index, self.batches_per_epoch, value, key)
            averages.add(logs, step.batch_size(batch))
            loss = logs.get("loss", math.nan)
            if "loss" in logs:
                batch_losses.append(loss)
            self.batch_logs = logs
            for callback in self.callbacks:
                callback.on_batch_end(self, index, loss)
            if bar is not None:
                bar.advance()
        if averages.count == 0:
            raise ValueError("batches: the source yielded no batch in this epoch")
        return averages, batch_losses

    def _validate(self, validation: Iterable) -> dict[str, float]:
        step = self.step
        averages = _Averages()
        with contextlib.ExitStack() as stack:
            for module in step.modules.values():
                stack.enter_context(eval_mode(module))
            for batch in validation:
                averages.add(_check_logs(step.evaluate(batch), step, "evaluate"), step.batch_size(batch))
        if averages.count == 0:
            raise ValueError("validation: the source yielded no batch")
        logs = averages.means(prefix="val_")
        if self.config.check_finite:
            for key, value in logs.items():
                if not math.isfinite(value):
                    raise NonFiniteValidationError(self.epoch, key, value)
        return logs


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
    resume: Any = None,
    config: TrainConfig | None = None,
    **overrides: Any,
) -> History:
    """Supervised training on arrays: the one loop with a :class:`SupervisedStep`.

    Builds the step (a :class:`ClosureStep` for gradient-free optimizers), the
    minibatches of ``(x, y)`` (``batch_size``, ``shuffle``, ``drop_last`` from
    the config, shuffled by ``rng``) and the validation batches, then runs
    :meth:`Trainer.fit`.

    Parameters
    ----------
    model : Module
    loss : Loss
        A :mod:`dltoys.nn` loss with ``forward(output, target)`` -> 0-d array and ``backward()``.
    optimizer : Optimizer
        Over ``model.parameters()``.
    x : ndarray of shape (N, ...), or a tuple of arrays for a model with several inputs
        Stored in any dtype; layers cast each batch.
    y : ndarray of shape (N, ...)
        Targets, as the loss takes them.
    validation_data : (x_val, y_val), optional
        Evaluated after every epoch in eval mode: ``val_loss`` and ``val_<metric>``.
    metrics : names or callables, optional
        ``["accuracy"]``, ``{"acc": accuracy}``; see :mod:`dltoys.train.metrics`.
    callbacks : iterable of Callback, optional
    rng : int, numpy.random.Generator or None
        Source of the per-epoch shuffles (the only randomness of the loop; the
        model's own randomness, such as dropout, comes from the model's rng).
        The same seed and the same initial weights give bit-identical weights
        (with the same BLAS thread count, on the same machine).
    resume : str or PathLike, optional
        A :class:`ModelCheckpoint` file of an interrupted run of the same
        model, optimizer, callbacks and ``rng`` seed: continue it exactly (see
        :meth:`Trainer.fit`); ``epochs`` is the total, as in the first run.
    config : TrainConfig, optional
        ``overrides`` are :class:`TrainConfig` fields (``epochs=30, batch_size=64``).

    Returns
    -------
    History

    Raises
    ------
    ValueError
        If ``x``, ``y`` or the validation data hold NaN or infinite values
        (checked once, before the first epoch).

    Examples
    --------
    >>> history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
    ...               x, y, validation_data=(x_val, y_val), metrics=["accuracy"],
    ...               callbacks=[EarlyStopping(patience=3)], rng=0, epochs=30, batch_size=64)
    >>> history["val_accuracy"][-1]
    """
    step = supervised_step(model, loss, optimizer, metrics)
    trainer = Trainer(step, callbacks=callbacks, config=config, **overrides)
    config = trainer.config
    inputs = _as_inputs(x)
    check_data("x", inputs, y, "y")
    batches = Minibatches(
        *inputs,
        y,
        batch_size=config.batch_size,
        shuffle=config.shuffle,
        rng=as_rng(rng) if config.shuffle else None,
        drop_last=config.drop_last,
        names=[*_input_names("x", inputs), "y"],
    )
    validation = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data: expected a pair (x_val, y_val)")
        x_val, y_val = validation_data
        val_inputs = _as_inputs(x_val)
        check_data("x_val", val_inputs, y_val, "y_val")
        validation = Minibatches(
            *val_inputs,
            y_val,
            batch_size=config.eval_batch_size or config.batch_size,
            names=[*_input_names("x_val", val_inputs), "y_val"],
        )
    # The targets' domain once here, not per batch: the loss skips its own check while training.
    with targets_checked(loss, y, None if validation_data is None else validation_data[1]):
        return trainer.fit(batches, validation=validation, resume=resume)
