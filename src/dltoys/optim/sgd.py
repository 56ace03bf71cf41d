"""Stochastic gradient descent, with heavy-ball or Nesterov momentum (``torch.optim.SGD``)."""

from __future__ import annotations

from typing import Iterable

from ..nn.module import Parameter
from ..utils import check_bool, check_float
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Gradient descent on whatever gradient the last backward passes accumulated.

    Parameters
    ----------
    params : iterable of Parameter
        Usually ``model.parameters()``.
    lr : float
        Learning rate, ``>= 0``.
    momentum : float, default 0
        Momentum factor ``mu`` in ``[0, 1]`` (0: plain gradient descent).
        PyTorch accepts any ``mu >= 0``; above 1 the velocity grows without
        bound, so dltoys refuses it.
    dampening : float, default 0
        Dampening ``tau`` in ``[0, 1]``: the new gradient enters the
        velocity with weight ``1 - tau``.
    weight_decay : float, default 0
        L2 penalty ``lambda >= 0``, added to the gradient as ``lambda * theta``.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening = 0``
        (PyTorch refuses the other combinations too).

    Attributes
    ----------
    state["momentum_buffer"] : list of ndarray or None
        The velocity ``b`` of each parameter (``None`` before its first step
        or without momentum).

    Notes
    -----
    PyTorch's algorithm, step ``t`` with gradient ``g_t`` of parameters ``theta``:

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
        b_t &= g_t \ \text{if } t = 1, \quad
               \mu\, b_{t-1} + (1 - \tau)\, g_t \ \text{otherwise} \\
        g_t &\leftarrow g_t + \mu\, b_t \ \text{(Nesterov)} \quad\text{or}\quad b_t \\
        \theta_t &= \theta_{t-1} - \eta\, g_t

    The first velocity is the gradient itself (not ``(1 - tau) g``), as in
    PyTorch. This is Sutskever et al.'s formulation with the learning rate
    outside the velocity, so changing ``lr`` mid-run does not rescale the
    velocity already accumulated.

    References
    ----------
    .. [1] Polyak, "Some methods of speeding up the convergence of iteration
       methods", USSR Computational Mathematics and Mathematical Physics, 1964.
    .. [2] Sutskever, Martens, Dahl, Hinton, "On the importance of
       initialization and momentum in deep learning", ICML 2013.
    """

    state_names = ("momentum_buffer",)
    hyperparam_names = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(params, lr)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.dampening = check_float("dampening", dampening, low=0.0, high=1.0)
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0)
        self.nesterov = check_bool("nesterov", nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening = 0, "
                f"received momentum={self.momentum:g}, dampening={self.dampening:g}"
            )

    def _update(self, index: int, param: Parameter) -> None:
        grad = param.grad
        if self.weight_decay != 0:
            # A new array: param.grad keeps the loss gradient, as in PyTorch.
            grad = grad + self.weight_decay * param.data
        if self.momentum != 0:
            velocity = self.state["momentum_buffer"][index]
            if velocity is None:
                velocity = self.state["momentum_buffer"][index] = grad.copy()
            else:
                velocity *= self.momentum
                # without dampening, no (1 - 0) * grad temporary: a fifth of the step's memory passes
                velocity += grad if self.dampening == 0 else (1 - self.dampening) * grad
            # Nesterov: step along the gradient plus the velocity's look-ahead.
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        param.data -= float(self.lr) * grad
