"""Learning-rate schedules with PyTorch's names and semantics (``torch.optim.lr_scheduler``).

A schedule sets ``optimizer.lr`` when it is built (epoch 0) and on every
``step()``; call ``scheduler.step()`` after ``optimizer.step()``, once per
epoch or once per batch, whichever your schedule counts::

    optimizer = SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)
        scheduler.step()

Each docstring gives the closed form. The code computes the next rate from
the optimizer's current one (PyTorch's "chainable" recursions), so two
schedules stepped together compose (a LinearLR warm-up and an ExponentialLR
decay multiply), and the sequences equal PyTorch's to the last bit.
``get_last_lr()`` returns a one-element list, as PyTorch's returns one rate
per parameter group (a dltoys optimizer has one group).
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..nn.module import Parameter
from ..utils import check_float, check_int
from .optimizer import Optimizer, checked_hyperparams, saved_hyperparams
from .sgd import SGD


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets ``optimizer.lr`` to :meth:`_next_lr`.

    Attributes
    ----------
    optimizer : Optimizer
    base_lrs : list of float
        ``[optimizer.initial_lr]``: the rate before any schedule touched it.
    last_epoch : int
        How many times ``step()`` has run (0 right after construction).
    """

    #: Constructor arguments saved in ``state_dict()``.
    hyperparam_names: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer, received {type(optimizer).__name__}")
        self.optimizer = optimizer
        if optimizer.initial_lr is None:
            optimizer.initial_lr = float(optimizer.lr)
        self.base_lrs = [optimizer.initial_lr]
        self.last_epoch = -1
        self._last_lr = [float(optimizer.lr)]
        # Epoch 0: some schedules change the rate right away (a warm-up starts low).
        self.step()

    def _next_lr(self) -> float:
        """The rate for ``self.last_epoch``, from ``self.optimizer.lr`` (the previous one)."""
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        lr = float(self._next_lr())
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"{type(self).__name__}: the schedule produced lr={lr} at epoch {self.last_epoch}")
        self.optimizer.lr = lr
        self._last_lr = [lr]

    def get_last_lr(self) -> list[float]:
        """The rate the last ``step()`` set, as ``[lr]`` (PyTorch's one-per-group list)."""
        return list(self._last_lr)

    @property
    def _lr(self) -> float:
        return float(self.optimizer.lr)

    # ------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """JSON-able state (the optimizer keeps its own ``lr``; save both)."""
        return {
            "type": type(self).__name__,
            "hyperparams": saved_hyperparams(self),
            "base_lrs": list(self.base_lrs),
            "last_epoch": self.last_epoch,
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the optimizer's ``lr`` comes from its own state dict."""
        name = type(self).__name__
        hyperparams = checked_hyperparams(self, state)

        def rates(key: str) -> list[float]:
            values = state.get(key)
            if not isinstance(values, list) or len(values) != 1:
                raise ValueError(f"{name}.load_state_dict: {key} must be a list of one rate, received {values!r}")
            try:
                return [check_float(key, values[0], low=0.0)]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}.load_state_dict: {exc}") from None

        self._probe_hyperparams(hyperparams)
        base_lrs, last_lr = rates("base_lrs"), rates("last_lr")
        last_epoch = state.get("last_epoch")
        if not isinstance(last_epoch, numbers.Integral) or isinstance(last_epoch, bool) or last_epoch < -1:
            raise ValueError(f"{name}.load_state_dict: last_epoch must be an integer >= -1, received {last_epoch!r}")
        for key, value in hyperparams.items():
            setattr(self, key, value)
        self.base_lrs, self.last_epoch, self._last_lr = base_lrs, int(last_epoch), last_lr

    def _probe_hyperparams(self, hyperparams: dict[str, Any]) -> None:
        """Run the constructor's checks on saved settings, on a throwaway optimizer (``gamma=-1`` is refused)."""
        accepted = inspect.signature(type(self)).parameters
        required = [n for n, p in accepted.items() if n != "optimizer" and p.default is p.empty
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not all(key in accepted for key in hyperparams) or not all(n in hyperparams for n in required):
            return  # a schedule built from a function (LambdaLR): nothing to probe
        throwaway = SGD([Parameter(np.zeros(1))], lr=max(float(self.optimizer.lr), 0.0))
        try:
            type(self)(throwaway, **hyperparams)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}.load_state_dict: invalid saved hyperparameters: {exc}") from None

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparam_names)
        return f"{type(self).__name__}({args})"


def _check_gamma(gamma: float) -> float:
    return check_float("gamma", gamma, low=0.0, low_inclusive=False)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Period of the decay, ``>= 1``.
    gamma : float, default 0.1
        Factor, ``> 0``.

    Notes
    -----
    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / \text{step\_size} \rfloor}
    """

    hyperparam_names = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = check_int("step_size", step_size, minimum=1)
        self.gamma = _check_gamma(gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lr
        return self._lr * self.gamma


class MultiStepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` at each milestone epoch.

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        Epochs, ``>= 1``, in non-decreasing order; a milestone listed ``n``
        times multiplies by ``gamma ** n`` (as PyTorch's Counter does).
    gamma : float, default 0.1
        Factor, ``> 0``.

    Notes
    -----
    .. math:: \eta_t = \eta_0\, \gamma^{\#\{m \in \text{milestones} : m \le t\}}
    """

    hyperparam_names = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1):
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(f"milestones: expected a list of epochs, received {milestones!r}")
        milestones = [check_int(f"milestones[{i}]", m, minimum=1) for i, m in enumerate(milestones)]
        if milestones != sorted(milestones):
            raise ValueError(f"milestones: expected epochs in non-decreasing order, received {milestones}")
        self.milestones = milestones
        self.gamma = _check_gamma(gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._lr
        return self._lr * self.gamma**hits


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch.

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        Factor, ``> 0`` (above 1 the rate grows: a learning-rate range test).

    Notes
    -----
    .. math:: \eta_t = \eta_0\, \gamma^t
    """

    hyperparam_names = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = _check_gamma(gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        if self.last_epoch == 0:
            return self._lr
        return self._lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    r"""Follow half a cosine from the base rate down to ``eta_min`` over ``T_max`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs from the base rate to ``eta_min``, ``>= 1``.
    eta_min : float, default 0
        The lowest rate, ``>= 0``.

    Notes
    -----
    .. math::

        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \Big(1 + \cos\frac{t\pi}{T_{\max}}\Big)

    computed, as in PyTorch, by the recursion

    .. math::

        \eta_t = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
                 \frac{1 + \cos(t\pi / T_{\max})}{1 + \cos((t - 1)\pi / T_{\max})}

    Past ``T_max`` the rate climbs back along the same cosine (period
    ``2 T_max``), PyTorch's behaviour: stop stepping, or pick ``T_max`` as
    the length of the run, to stay at ``eta_min``.

    References
    ----------
    .. [1] Loshchilov, Hutter, "SGDR: Stochastic Gradient Descent with Warm
       Restarts", ICLR 2017.
    """

    hyperparam_names = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = check_int("T_max", T_max, minimum=1)
        self.eta_min = check_float("eta_min", eta_min, low=0.0)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        epoch, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if epoch == 0:
            return self._lr
        if (epoch - 1 - T_max) % (2 * T_max) == 0:
            # Leaving the trough: the recursion's denominator 1 + cos(pi) is 0 here.
            return self._lr + (self.base_lrs[0] - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
        return (
            (1 + math.cos(math.pi * epoch / T_max))
            / (1 + math.cos(math.pi * (epoch - 1) / T_max))
            * (self._lr - eta_min)
            + eta_min
        )


class LinearLR(LRScheduler):
    r"""Scale the rate by a factor that moves linearly from ``start_factor`` to ``end_factor`` (a warm-up).

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float, default 1/3
        Factor at epoch 0, in ``(0, 1]``.
    end_factor : float, default 1
        Factor from epoch ``total_iters`` on, in ``[0, 1]``.
    total_iters : int, default 5
        Epochs the change takes, ``>= 1``.

    Notes
    -----
    .. math::

        \eta_t = \eta_0 \Big(s + (e - s)\,\frac{\min(t, T)}{T}\Big)

    with ``s, e, T`` the start factor, end factor and total_iters; computed
    as PyTorch does, by multiplying the previous rate by
    ``1 + (e - s) / (T s + (t - 1)(e - s))``.
    """

    hyperparam_names = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ):
        self.start_factor = check_float("start_factor", start_factor, low=0.0, high=1.0, low_inclusive=False)
        self.end_factor = check_float("end_factor", end_factor, low=0.0, high=1.0)
        self.total_iters = check_int("total_iters", total_iters, minimum=1)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        if self.last_epoch == 0:
            return self._lr * start
        if self.last_epoch > total:
            return self._lr
        return self._lr * (1.0 + (end - start) / (total * start + (self.last_epoch - 1) * (end - start)))


class LambdaLR(LRScheduler):
    r"""Set the rate to the base rate times ``lr_lambda(epoch)``.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable
        ``int -> float``: the factor at each epoch (``lambda epoch: 0.95 ** epoch``).
        It must return a finite number ``>= 0``.

    Notes
    -----
    .. math:: \eta_t = \eta_0\, \lambda(t)

    The function is not saved in ``state_dict()`` (functions do not go into
    JSON): rebuild the scheduler with the same function, then load the state.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]):
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda: expected a function of the epoch, received {lr_lambda!r}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        factor = self.lr_lambda(self.last_epoch)
        if not isinstance(factor, numbers.Real) or isinstance(factor, bool):
            raise TypeError(f"lr_lambda({self.last_epoch}) returned {factor!r}, expected a number")
        return self.base_lrs[0] * float(factor)
