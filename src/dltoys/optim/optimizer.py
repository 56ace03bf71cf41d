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
import inspect
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..nn.module import Module, Parameter
from ..utils import check_float


def saved_hyperparams(owner: Any) -> dict[str, Any]:
    """``owner``'s hyperparameters (``owner.hyperparam_names``) as JSON-able values: tuples become lists."""
    values = {}
    for name in owner.hyperparam_names:
        value = getattr(owner, name)
        values[name] = list(value) if isinstance(value, tuple) else copy.deepcopy(value)
    return values


def checked_hyperparams(owner: Any, state: Any) -> dict[str, Any]:
    """The hyperparameters ``state`` would set on ``owner`` (current ones where absent), set nothing.

    Checks that ``state`` is a dict saved by an object of ``owner``'s class and
    names only hyperparameters ``owner`` has. Lists come back as tuples where
    ``owner`` holds a tuple (JSON has no tuples).
    """
    name = type(owner).__name__
    if not isinstance(state, dict):
        raise TypeError(f"{name}.load_state_dict: expected a dict (from state_dict()), received {type(state).__name__}")
    if state.get("type") != name:
        raise ValueError(f"{name}.load_state_dict: the state belongs to a {state.get('type')!r}, not a {name}")
    saved = state.get("hyperparams", {})
    if not isinstance(saved, dict):
        raise TypeError(f"{name}.load_state_dict: hyperparams must be a dict, received {type(saved).__name__}")
    values = saved_hyperparams(owner)
    for key, value in saved.items():
        if key not in owner.hyperparam_names:
            raise KeyError(f"{name}.load_state_dict: unknown hyperparameter {key!r}")
        current = getattr(owner, key)
        if isinstance(current, tuple) and isinstance(value, list):
            value = tuple(value)
        values[key] = copy.deepcopy(value)
    return values


def load_hyperparams(owner: Any, state: dict[str, Any]) -> None:
    """Check that ``state`` was saved by an object of ``owner``'s class and set the hyperparameters it holds."""
    for key, value in checked_hyperparams(owner, state).items():
        setattr(owner, key, value)


def _check_count(owner: str, key: str, value: Any, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}.load_state_dict: {key} must be an integer >= {minimum}, received {value!r}")
    return int(value)


def _check_rate(owner: str, key: str, value: Any) -> float:
    try:
        return check_float(key, value, low=0.0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}.load_state_dict: {exc}") from None


class Optimizer:
    """Base class. Subclasses set their hyperparameters and implement :meth:`_update`."""

    #: False for gradient-free strategies, which evaluate a closure instead.
    needs_gradients: bool = True
    #: Names of the per-parameter state entries (lists parallel to ``params``).
    state_names: tuple[str, ...] = ()
    #: Names of the hyperparameters saved in ``state_dict()``.
    hyperparam_names: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Parameter], lr: float):
        name = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(
                f"{name}: params must be the model's parameters, received the {type(params).__name__} module "
                f"itself (pass model.parameters())"
            )
        if isinstance(params, Parameter):
            raise TypeError(f"{name}: params must be an iterable of Parameters, received one Parameter (pass [param])")
        try:
            self.params: list[Parameter] = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Parameters (model.parameters()), "
                f"received {type(params).__name__}"
            ) from None
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
        """Restore a :meth:`state_dict`, all or nothing: when this raises, the optimizer is unchanged.

        The saved hyperparameters go through the constructor's own checks
        (``lr=-0.5``, ``lr='fast'`` or ``betas=[1.5, 7]`` are refused as they
        would be by ``Adam(params, lr=-0.5)``), the counters must be
        non-negative integers and every state buffer must fit its parameter.
        """
        name = type(self).__name__
        hyperparams = checked_hyperparams(self, state)
        self._probe_hyperparams(hyperparams)
        initial_lr = state.get("initial_lr")
        if initial_lr is not None:
            initial_lr = _check_rate(name, "initial_lr", initial_lr)
        step_count = _check_count(name, "step_count", state.get("step_count", 0), 0)
        entries = state.get("state", {})
        if not isinstance(entries, dict):
            raise TypeError(f"{name}.load_state_dict: state must be a dict, received {type(entries).__name__}")
        unknown = sorted(set(entries) - set(self.state_names))
        if unknown:
            raise KeyError(f"{name}.load_state_dict: unknown state {unknown}, expected {list(self.state_names)}")
        restored = {}
        for key in self.state_names:
            saved = entries.get(key, [None] * len(self.params))
            if not isinstance(saved, (list, tuple)) or len(saved) != len(self.params):
                length = len(saved) if isinstance(saved, (list, tuple)) else type(saved).__name__
                raise ValueError(
                    f"{name}.load_state_dict: state {key!r} has {length} entries, "
                    f"the optimizer has {len(self.params)} parameters"
                )
            restored[key] = [
                self._restore_entry(key, index, param, value)
                for index, (param, value) in enumerate(zip(self.params, saved))
            ]
        # Everything checked: now change the optimizer.
        for key, value in hyperparams.items():
            setattr(self, key, value)
        self.initial_lr = initial_lr
        self.step_count = step_count
        self.state.update(restored)

    def _probe_hyperparams(self, hyperparams: dict[str, Any]) -> None:
        """Run the constructor's checks on ``hyperparams`` (a throwaway instance over the same parameters)."""
        try:
            accepted = inspect.signature(type(self)).parameters
        except (TypeError, ValueError):
            return
        if not all(key in accepted for key in hyperparams):
            return  # a subclass whose constructor takes other arguments: no probe
        try:
            type(self)(self.params, **hyperparams)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}.load_state_dict: invalid saved hyperparameters: {exc}") from None

    def _restore_entry(self, key: str, index: int, param: Parameter, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return _check_count(type(self).__name__, f"state {key!r}[{index}]", value, 0)  # a per-parameter step count
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: state {key!r}[{index}] must be a real-valued array, "
                f"received {kind}"
            )
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
