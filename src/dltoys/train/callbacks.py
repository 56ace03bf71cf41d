"""Callbacks: code the training loop runs at fixed points of a run.

A callback subclasses :class:`Callback` and overrides the hooks it needs. Each
hook receives the :class:`~dltoys.train.Trainer`, whose attributes it may read
(``step``, ``modules`` and ``optimizers`` by name, ``model`` and ``optimizer``
(the only one, or all of them as one ``ModuleDict`` / ``OptimizerDict``),
``config``, ``history``, ``epoch``, ``rng``, ``batch_logs``) and whose
``stop(reason)`` ends the run after the current epoch.

Order of the hooks in a run::

    on_train_begin
    for each epoch:   on_epoch_begin
        for each batch:   [the step: ... on_before_step before each optimizer step ...]  on_batch_end
        [validation; the epoch's logs go into trainer.history]  on_epoch_end(logs)
        after_epoch(logs)   (every callback has seen the epoch: the run's state is final; checkpoints)
    on_train_end      (only when the run ends normally, not after an exception)

A callback that keeps state across epochs returns it from :meth:`Callback.state_dict`
(JSON-like: dicts, lists, numbers, strings, arrays) and takes it back in
:meth:`Callback.load_state_dict`: :class:`ModelCheckpoint` stores it, so that a
run resumed with ``fit(..., resume=path)`` continues exactly.

Names of monitored values are the keys of the epoch logs: ``loss``,
``val_loss``, a metric name such as ``accuracy``, or ``val_accuracy``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..optim.clip_grad import clip_grad_norm_
from ..utils import check_bool, check_choice, check_float, check_int
from .checkpoint import save

if TYPE_CHECKING:  # pragma: no cover
    from .loop import Trainer


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer: "Trainer") -> None:
        pass

    def on_epoch_begin(self, trainer: "Trainer", epoch: int) -> None:
        pass

    def on_before_step(self, trainer: "Trainer") -> None:
        """After the gradients are computed, before an ``optimizer.step()`` (gradient clipping goes here).

        ``trainer.updating`` names the optimizer about to step (a step with two
        optimizers calls this once for each). Not called for gradient-free
        optimizers, which have no gradients.
        """

    def on_batch_end(self, trainer: "Trainer", batch: int, loss: float) -> None:
        pass

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        pass

    def after_epoch(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        """After every callback's ``on_epoch_end``: the epoch's state is final (whether the run stops included)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """What this callback carries from epoch to epoch (nothing by default), for exact resume."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back a :meth:`state_dict` (after ``on_train_begin`` of the resumed run)."""


class Monitor:
    """A named value of the epoch logs and the direction in which it improves.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs (``val_loss``, ``accuracy``, ...).
    mode : 'min', 'max' or 'auto'
        'auto' picks 'max' for names containing "acc" and 'min' for names
        containing "loss", "mse", "mae" or "error"; other names need an explicit mode.
    min_delta : float, default 0
        How much better than the best so far a value must be to count as better.
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor: expected the name of a logged value, received {monitor!r}")
        self.name = monitor
        mode = check_choice("mode", mode, ("auto", "min", "max"))
        if mode == "auto":
            lowered = monitor.lower()
            if "acc" in lowered:
                mode = "max"
            elif any(word in lowered for word in ("loss", "mse", "mae", "error")):
                mode = "min"
            else:
                raise ValueError(f"mode: cannot guess whether {monitor!r} should go up or down; pass mode='min' or 'max'")
        self.mode = mode
        self.min_delta = check_float("min_delta", min_delta, low=0.0)

    def value(self, logs: dict[str, float]) -> float:
        """The monitored value in ``logs`` (clear error when it is not logged)."""
        if self.name not in logs:
            hint = " (val_* values need validation_data)" if self.name.startswith("val_") else ""
            raise KeyError(f"monitor: {self.name!r} is not in the epoch logs{hint}; logged: {', '.join(logs)}")
        return float(logs[self.name])

    def improved(self, value: float, best: float | None) -> bool:
        """Whether ``value`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
        if math.isnan(value):
            return False
        if best is None:
            return True
        return value < best - self.min_delta if self.mode == "min" else value > best + self.min_delta

    def reached(self, value: float, target: float) -> bool:
        return value <= target if self.mode == "min" else value >= target


class EarlyStopping(Callback):
    """Stop when the monitored value has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default 'val_loss'
    patience : int, default 5
        Stop after this many consecutive epochs without improvement (as Keras
        and PyTorch Lightning: with 5, a best value at epoch 3 stops the run
        after epoch 8; 0 stops at the first epoch that does not improve).
    min_delta : float, default 0
        The smallest change that counts as an improvement.
    mode : 'auto', 'min' or 'max'
    restore_best_weights : bool, default True
        At the end of the run, put back the weights (the model's state dict)
        of the best epoch, whether the run stopped early or not. The optimizer
        state is not rewound.

    Attributes
    ----------
    best : float or None
    best_epoch : int or None
    stopped_epoch : int or None
        The epoch after which it stopped the run (None if it did not).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ):
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience = check_int("patience", patience, minimum=0)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)

    def on_train_begin(self, trainer: "Trainer") -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_state: dict | None = None
        self.wait = 0

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        value = self.monitor.value(logs)
        if self.monitor.improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = trainer.model.state_dict()  # copies
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            if self.best is None:
                reason = f"{self.monitor.name} had no finite value in {self.wait} epochs"
            else:
                reason = f"{self.monitor.name} did not improve on {self.best:.6g} (epoch {self.best_epoch}) for {self.wait} epochs"
            trainer.stop(f"early stopping: {reason}")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
                "wait": self.wait, "best_state": None if self.best_state is None else dict(self.best_state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.stopped_epoch = state["best"], state["best_epoch"], state["stopped_epoch"]
        self.wait = int(state["wait"])
        self.best_state = None if state["best_state"] is None else dict(state["best_state"])

    def on_train_end(self, trainer: "Trainer") -> None:
        if self.best_state is not None and self.best_epoch != trainer.epoch:
            trainer.model.load_state_dict(self.best_state)


class StopAtTarget(Callback):
    """Stop as soon as the monitored value reaches ``target`` (a toy's success figure).

    Parameters
    ----------
    monitor : str
        E.g. ``"accuracy"`` or ``"val_loss"``.
    target : float
        Reached when the value is ``>= target`` (mode 'max') or ``<= target`` (mode 'min').
    mode : 'auto', 'min' or 'max'

    Notes
    -----
    Training metrics (``loss``, ``accuracy``) are averages over the epoch's batches,
    measured while the weights were still changing; ``val_*`` metrics are measured
    after the epoch, at the final weights. To stop when the final weights reach a
    figure on the training set itself, pass the training set as ``validation_data``
    and monitor ``val_accuracy``.

    Attributes
    ----------
    reached_epoch : int or None
        The first epoch at which the target was reached (None if never).
    """

    def __init__(self, monitor: str, target: float, mode: str = "auto"):
        self.monitor = Monitor(monitor, mode)
        self.target = check_float("target", target)

    def on_train_begin(self, trainer: "Trainer") -> None:
        self.reached_epoch: int | None = None

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        value = self.monitor.value(logs)
        if self.monitor.reached(value, self.target):
            self.reached_epoch = epoch
            sign = "<=" if self.monitor.mode == "min" else ">="
            trainer.stop(f"target reached: {self.monitor.name} = {value:.6g} {sign} {self.target:g} at epoch {epoch}")

    def state_dict(self) -> dict[str, Any]:
        return {"reached_epoch": self.reached_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reached_epoch = state["reached_epoch"]


class ClipGradNorm(Callback):
    """Clip the gradients' joint norm before every optimizer step (:func:`dltoys.optim.clip_grad_norm_`).

    Parameters
    ----------
    max_norm : float
        Largest allowed norm of the gradients together, ``>= 0``: those of the
        optimizer about to step (a GAN clips each network's on its own).
    norm_type : float or "inf", default 2.0

    Attributes
    ----------
    norms : list of float
        The norm before clipping at every step of the run: spikes are exploding
        gradients, a steady fall towards zero is a vanishing signal.
    """

    def __init__(self, max_norm: float, norm_type: float | str = 2.0):
        self.max_norm = check_float("max_norm", max_norm, low=0.0)
        self.norm_type = norm_type
        clip_grad_norm_([], self.max_norm, norm_type)  # checks norm_type now, not at the first step

    def on_train_begin(self, trainer: "Trainer") -> None:
        self.norms: list[float] = []

    def on_before_step(self, trainer: "Trainer") -> None:
        # The parameters of the optimizer about to step (all modules' for a step that names none).
        params = trainer.step.parameters_of(trainer.updating)
        self.norms.append(clip_grad_norm_(params, self.max_norm, self.norm_type))

    def state_dict(self) -> dict[str, Any]:
        return {"norms": list(self.norms)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.norms = [float(norm) for norm in state["norms"]]


class LearningRateScheduler(Callback):
    """Step a learning-rate schedule (``dltoys.optim`` schedulers, PyTorch semantics).

    Parameters
    ----------
    scheduler : object with ``step()``
        Changes ``optimizer.lr`` when stepped (``StepLR``, ``CosineAnnealingLR``, ...).
    interval : 'epoch' or 'batch', default 'epoch'
        Step after every epoch (PyTorch's usual loop) or after every optimizer step
        (warm-up and per-step schedules).
    monitor : str, optional
        For schedules that react to a value (``ReduceLROnPlateau``): the logged
        value passed as ``scheduler.step(value)`` at each epoch end.
    """

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str | None = None):
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler: expected an object with a step() method, received {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.interval = check_choice("interval", interval, ("epoch", "batch"))
        if monitor is not None and self.interval != "epoch":
            raise ValueError("monitor: a monitored schedule steps once per epoch; use interval='epoch'")
        # The direction is the scheduler's business; Monitor is only used to read the value.
        self.monitor = None if monitor is None else Monitor(monitor, mode="min")

    def on_batch_end(self, trainer: "Trainer", batch: int, loss: float) -> None:
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        if self.interval != "epoch":
            return
        if self.monitor is None:
            self.scheduler.step()
        else:
            self.scheduler.step(self.monitor.value(logs))

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position (``scheduler.state_dict()``, when it has one)."""
        saver = getattr(self.scheduler, "state_dict", None)
        return {"scheduler": saver()} if callable(saver) else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


class ModelCheckpoint(Callback):
    """Save the model and optimizer with :func:`dltoys.train.save` during training.

    Parameters
    ----------
    path : str or Path
        Where to write. May contain ``{epoch}`` (``"ckpt-{epoch:03d}.npz"``)
        to keep one file per saved epoch; otherwise each save replaces the last
        (atomically: a crash never leaves a half-written file).
    monitor : str, default 'val_loss'
        With ``save_best_only``, the value that decides what "best" is.
    mode : 'auto', 'min' or 'max'
    save_best_only : bool, default True
        Save only when the monitored value improves; False saves every
        ``every`` epochs (and ignores ``monitor``).
    every : int, default 1
        With ``save_best_only=False``, save every ``every``-th epoch.
    save_optimizer : bool, default True
        Include the optimizer state, so training can resume exactly.

    Notes
    -----
    Each file's ``extra`` holds ``epoch``, the epoch ``logs``, the ``history``
    so far (:meth:`History.to_dict`), ``rng_state`` (the trainer's shuffling
    generator after the epoch) and ``trainer``: everything else an exact resume
    needs (module generators such as Dropout's, every callback's state; see
    :mod:`dltoys.train.resume`). The file is written once every callback has
    seen the epoch. Resuming, in a new process, with the same callbacks::

        fit(model, loss, optimizer, x, y, rng=0, epochs=20, callbacks=[...],
            resume="ckpt-007.npz")   # epochs 8..20, bit-identical to a run never interrupted

    The path template is checked when training starts (an unknown field such
    as ``{epch}`` or a missing directory is an error before the first epoch).
    """

    def __init__(
        self,
        path: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = True,
        every: int = 1,
        save_optimizer: bool = True,
    ):
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path: expected a str or Path file name, received {type(path).__name__}")
        self.path = str(path)
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.monitor = Monitor(monitor, mode) if self.save_best_only else None
        self.every = check_int("every", every, minimum=1)
        self.save_optimizer = check_bool("save_optimizer", save_optimizer)
        self._check_template()

    def _check_template(self) -> None:
        """The path template formats with ``epoch`` only, into an existing directory."""
        try:
            example = self.path.format(epoch=1)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"path: {self.path!r} is not a valid template: the only field is {{epoch}} "
                f"(e.g. 'ckpt-{{epoch:03d}}.npz'); {type(exc).__name__}: {exc}"
            ) from None
        if not Path(example).parent.is_dir():
            raise ValueError(f"path: the directory of {example!r} does not exist")

    def on_train_begin(self, trainer: "Trainer") -> None:
        self._check_template()  # the directory may have gone since construction
        self.best: float | None = None
        self.saved: list[str] = []  # paths written, in order
        self._due: dict[str, float] | None = None

    def on_epoch_end(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        self._due = None
        if self.monitor is not None:
            value = self.monitor.value(logs)
            if not self.monitor.improved(value, self.best):
                return
            self.best = value
        elif epoch % self.every:
            return
        self._due = logs  # written in after_epoch, once every callback has seen the epoch

    def after_epoch(self, trainer: "Trainer", epoch: int, logs: dict[str, float]) -> None:
        if self._due is None:
            return
        from .resume import trainer_state  # resume imports History only; no cycle at import time

        path = self.path.format(epoch=epoch)
        extra = {
            "epoch": epoch,
            "logs": {k: (v if math.isfinite(v) else None) for k, v in logs.items()},
            "history": trainer.history.to_dict(),
            "rng_state": trainer.rng.bit_generator.state if trainer.rng is not None else None,
        }
        self.saved.append(path)  # before the save: the saved state lists this file too
        extra["trainer"] = trainer_state(trainer)
        save(path, trainer.model, trainer.optimizer if self.save_optimizer else None, extra=extra)
        self._due = None

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "saved": list(self.saved)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.saved = state["best"], [str(path) for path in state["saved"]]
