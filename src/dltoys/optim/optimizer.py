"""The optimizer base class: one list of parameters, state in lists parallel to it.

Interface (PyTorch's, single parameter group):

- ``Optimizer(params, lr=..., ...)`` takes an iterable of :class:`~dltoys.nn.Parameter`
  (``model.parameters()``).
- ``zero_grad()`` zeroes every parameter's ``.grad`` in place.
- ``step(closure=None)`` updates the parameters in place from their ``.grad``.
  Parameters with ``requires_grad=False`` are skipped (PyTorch skips those
  whose ``.grad`` is ``None``): their values and their state stay untouched.
  Gradient-free optimizers (``needs_gradients = False``) require ``closure``:
  a function that evaluates the loss at the current weights and returns it as
  a float; ``step`` returns the loss it kept.
- ``lr`` is a plain attribute; learning-rate schedules change it.
  ``initial_lr`` is ``None`` until the first schedule is attached, which sets
  it to ``lr`` (PyTorch's ``param_group["initial_lr"]``): a second schedule
  chained onto the same optimizer starts from the same base rate.
- ``state_dict()`` returns a nested structure of dicts and lists whose leaves
  are ndarrays or JSON scalars (int, float, str, bool, None);
  ``load_state_dict()`` accepts it back (with lists where tuples were), which
  is what a checkpoint stores.

Per-parameter state lives in ``self.state[name][index]``: ``None`` until the
parameter's first update, then an ndarray of the parameter's shape and dtype
(a moving average) or an int (a per-parameter step count, as PyTorch keeps).
"""

from __future__ import annotations

import copy
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..nn.module import Parameter
from ..utils import check_float


def saved_hyperparams(owner: Any) -> dict[str, Any]:
    """``owner``'s hyperparameters (``owner.hyperparam_names``) as JSON-able values: tuples become lists."""
    values = {}
    for name in owner.hyperparam_names:
        value = getattr(owner, name)
        values[name] = list(value) if isinstance(value, tuple) else copy.deepcopy(value)
    return values


def load_hyperparams(owner: Any, state: dict[str, Any]) -> None:
    """Check that ``state`` was saved by an object of ``owner``'s class and set the hyperparameters it holds."""
    name = type(owner).__name__
    if state.get("type") != name:
        raise ValueError(f"{name}.load_state_dict: the state belongs to a {state.get('type')!r}, not a {name}")
    for key, value in state.get("hyperparams", {}).items():
        if key not in owner.hyperparam_names:
            raise KeyError(f"{name}.load_state_dict: unknown hyperparameter {key!r}")
        current = getattr(owner, key)
        setattr(owner, key, tuple(value) if isinstance(current, tuple) else copy.deepcopy(value))


class Optimizer:
    """Base class. Subclasses set their hyperparameters and implement :meth:`_update`."""

    #: False for gradient-free strategies, which evaluate a closure instead.
    needs_gradients: bool = True
    #: Names of the per-parameter state entries (lists parallel to ``params``).
    state_names: tuple[str, ...] = ()
    #: Names of the hyperparameters saved in ``state_dict()``.
    hyperparam_names: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Parameter], lr: float):
        self.params: list[Parameter] = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError(f"{name}: received an empty parameter list")
        seen: dict[int, int] = {}
        for index, param in enumerate(self.params):
            if not isinstance(param, Parameter):
                raise TypeError(
                    f"{name}: params[{index}] must be a Parameter, "
                    f"received {type(param).__name__} (pass model.parameters())"
                )
            if id(param) in seen:
                # Listed twice, it would be updated twice per step.
                raise ValueError(f"{name}: params[{index}] is the same Parameter as params[{seen[id(param)]}]")
            seen[id(param)] = index
        self.lr = check_float("lr", lr, low=0.0)
        self.initial_lr: float | None = None
        self.step_count = 0
        self.state: dict[str, list[Any]] = {name: [None] * len(self.params) for name in self.state_names}

    def zero_grad(self) -> None:
        for param in self.params:
            param.zero_grad()

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Update every trainable parameter once; returns ``closure()`` if given.

        ``closure`` (optional here) should zero the gradients, run forward and
        backward and return the loss; it is called before the update.
        """
        loss = closure() if closure is not None else None
        self.step_count += 1
        for index, param in enumerate(self.params):
            if param.requires_grad:
                self._update(index, param)
        return loss

    def _update(self, index: int, param: Parameter) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------- state dicts
    def hyperparams(self) -> dict[str, Any]:
        return saved_hyperparams(self)

    def state_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "hyperparams": self.hyperparams(),
            "initial_lr": self.initial_lr,
            "step_count": self.step_count,
            "state": {
                name: [b.copy() if isinstance(b, np.ndarray) else b for b in entries]
                for name, entries in self.state.items()
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_hyperparams(self, state)
        name = type(self).__name__
        self.initial_lr = state.get("initial_lr")
        self.step_count = int(state.get("step_count", 0))
        entries = state.get("state", {})
        unknown = sorted(set(entries) - set(self.state_names))
        if unknown:
            raise KeyError(f"{name}.load_state_dict: unknown state {unknown}, expected {list(self.state_names)}")
        for key in self.state_names:
            saved = entries.get(key, [None] * len(self.params))
            if len(saved) != len(self.params):
                raise ValueError(
                    f"{name}.load_state_dict: state {key!r} has {len(saved)} entries, "
                    f"the optimizer has {len(self.params)} parameters"
                )
            self.state[key] = [
                self._restore_entry(key, index, param, value)
                for index, (param, value) in enumerate(zip(self.params, saved))
            ]

    def _restore_entry(self, key: str, index: int, param: Parameter, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)  # a per-parameter step count
        value = np.asarray(value)
        if value.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: state {key!r}[{index}] has shape {value.shape}, "
                f"the parameter has {param.shape}"
            )
        return value.astype(param.dtype, copy=True)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.hyperparams().items())
        return f"{type(self).__name__}({args})"


class OptimizerDict(Optimizer):
    """Several named optimizers as one (a GAN's two), for checkpoints and the training loop.

    ``step`` and ``zero_grad`` act on every optimizer; ``state_dict`` nests each
    one's state under its name, and ``load_state_dict`` loads all of them or, if
    one does not fit, none (each is put back as it was).

    Parameters
    ----------
    optimizers : dict of str -> Optimizer
    """

    hyperparam_names: tuple[str, ...] = ()

    def __init__(self, optimizers: dict[str, Optimizer]):
        if not isinstance(optimizers, dict) or not optimizers:
            raise TypeError(f"OptimizerDict: expected a non-empty dict of name -> Optimizer, received {optimizers!r}")
        for name, optimizer in optimizers.items():
            if not isinstance(name, str) or not isinstance(optimizer, Optimizer):
                raise TypeError(
                    f"OptimizerDict: entry {name!r} must be a str -> Optimizer, received {type(optimizer).__name__}"
                )
        self.optimizers = dict(optimizers)
        self.params = [param for optimizer in self.optimizers.values() for param in optimizer.params]
        self.state = {}

    @property
    def lr(self) -> dict[str, float]:  # type: ignore[override]
        return {name: optimizer.lr for name, optimizer in self.optimizers.items()}

    def zero_grad(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.zero_grad()

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        raise TypeError("OptimizerDict: step each optimizer by name (optimizers['generator'].step())")

    def state_dict(self) -> dict[str, Any]:
        return {"type": "OptimizerDict", "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("type") != "OptimizerDict":
            raise ValueError(f"OptimizerDict.load_state_dict: the state belongs to a {state.get('type')!r}")
        saved = state.get("optimizers")
        if not isinstance(saved, dict) or set(saved) != set(self.optimizers):
            names = sorted(saved) if isinstance(saved, dict) else saved
            raise KeyError(f"OptimizerDict.load_state_dict: holds optimizers {names}, expected {sorted(self.optimizers)}")
        before = {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()}
        try:
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(saved[name])
        except Exception:
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(before[name])
            raise

    def __repr__(self) -> str:
        return f"OptimizerDict({', '.join(f'{k}={v!r}' for k, v in self.optimizers.items())})"
