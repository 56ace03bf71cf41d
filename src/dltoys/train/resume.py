"""Exact resume: the state of a run that lives outside the model and the optimizer.

A run interrupted after any epoch and resumed from the checkpoint written then
(:class:`~dltoys.train.ModelCheckpoint`) ends bit-identical to the run that was
never interrupted: same weights, optimizer state and history. Besides the
weights and the optimizer (which :func:`~dltoys.train.save` stores), that needs:

- the epoch counter (the resumed run continues at the next epoch, so
  ``"ckpt-{epoch}.npz"`` names stay right) and the history so far;
- the state of the shuffling generator (``trainer.rng``);
- the state of every generator a module holds (Dropout's masks, sampling);
- the state of every callback (the learning-rate schedule's position, early
  stopping's best value, patience count and best weights, ...), through
  :meth:`Callback.state_dict` / :meth:`Callback.load_state_dict`;
- whether the run had already been asked to stop.

:func:`trainer_state` collects it as a JSON-like dict (arrays allowed) for a
checkpoint's ``extra["trainer"]``; :func:`check_trainer_state` validates it
against a trainer before anything changes; :func:`restore_trainer_state` applies it.
"""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn.module import Module
from .history import History

if TYPE_CHECKING:  # pragma: no cover
    from .loop import Trainer

#: Bumped when the layout of the trainer state changes.
TRAINER_STATE_VERSION = 1


def module_generators(modules: dict[str, Module]) -> dict[str, np.random.Generator]:
    """Every ``numpy.random.Generator`` held by a module, by a stable name (``"model.2.rng"``)."""
    found: dict[str, np.random.Generator] = {}
    for top, module in modules.items():
        for name, sub in module.named_modules():
            for attr, value in vars(sub).items():
                if isinstance(value, np.random.Generator):
                    found[".".join(part for part in (top, name, attr) if part)] = value
    return found


def trainer_state(trainer: "Trainer") -> dict[str, Any]:
    """What :func:`restore_trainer_state` needs to continue ``trainer``'s run exactly."""
    return {
        "version": TRAINER_STATE_VERSION,
        "epoch": trainer.epoch,
        "stop_reason": trainer.stop_reason,
        "history": trainer.history.to_dict(),
        "rng_state": None if trainer.rng is None else copy.deepcopy(trainer.rng.bit_generator.state),
        "generators": {
            name: copy.deepcopy(generator.bit_generator.state)
            for name, generator in module_generators(trainer.modules).items()
        },
        "callbacks": [
            {"type": type(callback).__name__, "state": callback.state_dict()} for callback in trainer.callbacks
        ],
    }


def _probe_generator_state(name: str, generator: np.random.Generator, state: Any) -> None:
    probe = type(generator.bit_generator)()
    try:
        probe.state = copy.deepcopy(state)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{name}: the saved generator state does not fit ({exc})") from None


def check_trainer_state(trainer: "Trainer", state: Any, rng: np.random.Generator | None) -> None:
    """Raise ValueError naming the first part of ``state`` that cannot be applied to ``trainer``."""
    if not isinstance(state, dict) or state.get("version") != TRAINER_STATE_VERSION:
        raise ValueError("the checkpoint holds no trainer state of this version (write it with ModelCheckpoint)")
    epoch = state.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise ValueError(f"the saved epoch must be an integer >= 1, received {epoch!r}")
    if epoch >= trainer.config.epochs and state.get("stop_reason") is None:
        raise ValueError(
            f"the checkpoint was written after epoch {epoch}; resuming needs epochs > {epoch} "
            f"(received epochs={trainer.config.epochs})"
        )
    History.from_dict(state.get("history") or {})
    saved_rng = state.get("rng_state")
    if (saved_rng is None) != (rng is None):
        raise ValueError(
            "the checkpoint's run " + ("shuffled" if saved_rng is not None else "did not shuffle")
            + " its batches, this one " + ("does not" if rng is None else "does") + ": use the same shuffle setting"
        )
    if rng is not None:
        _probe_generator_state("rng_state", rng, saved_rng)
    generators = module_generators(trainer.modules)
    saved = state.get("generators")
    if not isinstance(saved, dict) or set(saved) != set(generators):
        names = sorted(saved) if isinstance(saved, dict) else saved
        raise ValueError(f"the saved module generators {names} are not this model's {sorted(generators)}")
    for name, generator in generators.items():
        _probe_generator_state(name, generator, saved[name])
    callbacks = state.get("callbacks")
    types = [type(callback).__name__ for callback in trainer.callbacks]
    if not isinstance(callbacks, list) or [c.get("type") if isinstance(c, dict) else c for c in callbacks] != types:
        saved_types = [c.get("type") if isinstance(c, dict) else c for c in callbacks] if isinstance(callbacks, list) else callbacks
        raise ValueError(f"the checkpoint's run had callbacks {saved_types}, this one has {types}: give the same ones")


def restore_trainer_state(trainer: "Trainer", state: dict[str, Any], rng: np.random.Generator | None) -> None:
    """Apply a :func:`check_trainer_state`-checked state: counters, history, generators, callbacks."""
    trainer.epoch = state["epoch"]
    trainer.stop_reason = state.get("stop_reason")
    trainer.history = History.from_dict(state.get("history") or {})
    trainer.history.stop_reason = trainer.stop_reason
    if rng is not None:
        rng.bit_generator.state = copy.deepcopy(state["rng_state"])
    generators = module_generators(trainer.modules)
    for name, generator in generators.items():
        generator.bit_generator.state = copy.deepcopy(state["generators"][name])
    for callback, saved in zip(trainer.callbacks, state["callbacks"]):
        callback.load_state_dict(saved.get("state") or {})


def read_resume(trainer: "Trainer", path: Any) -> tuple:
    """Read the checkpoint at ``path`` and check its trainer state against ``trainer``; nothing changes yet."""
    from .checkpoint import MAX_EXTRA_BYTES, CheckpointError, read  # checkpoint imports nn/optim only

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"resume: expected the path of a checkpoint, received {type(path).__name__}")
    model_bytes = sum(value.nbytes for value in trainer.model.state_dict().values())
    limit = MAX_EXTRA_BYTES + 2 * model_bytes  # early stopping's best weights travel in extra
    checkpoint = read(path, max_extra_bytes=limit)
    state = checkpoint.extra.get("trainer") if isinstance(checkpoint.extra, dict) else None
    try:
        check_trainer_state(trainer, state, trainer.rng)
    except ValueError as exc:
        raise CheckpointError(f"{checkpoint.path}: cannot resume this run: {exc}") from None
    return path, state, limit


def apply_resume(trainer: "Trainer", path: Any, state: dict, limit: int) -> None:
    """Load the weights and optimizer (all or nothing), then the trainer state read by :func:`read_resume`."""
    from .checkpoint import load

    load(path, trainer.model, trainer.optimizer, max_extra_bytes=limit)
    restore_trainer_state(trainer, state, trainer.rng)
