"""RMSprop: divide each gradient by a running root-mean-square of its history (``torch.optim.RMSprop``)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..nn.module import Parameter
from ..utils import check_bool, check_float
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""Per-weight step sizes from a moving average of squared gradients.

    A weight whose gradient is always large takes small steps and one whose
    gradient is small takes large steps, so one learning rate suits weights
    whose gradients differ by orders of magnitude.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 0.01
        Learning rate, ``>= 0``.
    alpha : float, default 0.99
        Smoothing constant of the moving averages, in ``[0, 1]``.
    eps : float, default 1e-8
        Added to the denominator, ``>= 0``.
    weight_decay : float, default 0
        L2 penalty ``lambda >= 0`` added to the gradient.
    momentum : float, default 0
        Momentum factor ``mu`` in ``[0, 1]`` applied to the normalised step.
    centered : bool, default False
        Divide by an estimate of the gradient's standard deviation (subtract
        the squared running mean) instead of its root mean square.

    Attributes
    ----------
    state["square_avg"], state["grad_avg"], state["momentum_buffer"] : list of ndarray or None
        ``v``, ``g_avg`` (only when centered) and ``b`` (only with momentum)
        of each parameter, zeros before its first step.

    Notes
    -----
    PyTorch's algorithm, step ``t`` with gradient ``g_t``:

    .. math::

        g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
        v_t &= \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2 \\
        \tilde v_t &= v_t - \bar g_t^2 \ \text{with}\
            \bar g_t = \alpha\, \bar g_{t-1} + (1 - \alpha)\, g_t
            \quad\text{(centered)}, \qquad \tilde v_t = v_t \ \text{otherwise} \\
        b_t &= \mu\, b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \eta\, b_t
        \quad\text{(without momentum: } \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{\tilde v_t} + \epsilon))

    All averages start at zero and, unlike Adam, are not bias-corrected: the
    first steps are larger than ``lr`` (``g / sqrt(0.01 g^2) = 10`` for
    ``alpha = 0.99``).

    References
    ----------
    .. [1] Tieleman, Hinton, "Lecture 6.5 - rmsprop: Divide the gradient by a
       running average of its recent magnitude", COURSERA: Neural Networks for
       Machine Learning, 2012.
    .. [2] Graves, "Generating sequences with recurrent neural networks",
       arXiv:1308.0850, 2013 (the centered variant).
    """

    state_names = ("square_avg", "grad_avg", "momentum_buffer")
    hyperparam_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(params, lr)
        self.alpha = check_float("alpha", alpha, low=0.0, high=1.0)
        self.eps = check_float("eps", eps, low=0.0)
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0)
        self.momentum = check_float("momentum", momentum, low=0.0, high=1.0)
        self.centered = check_bool("centered", centered)

    def _buffer(self, name: str, index: int, param: Parameter) -> np.ndarray:
        if self.state[name][index] is None:
            self.state[name][index] = np.zeros_like(param.data)
        return self.state[name][index]

    def _update(self, index: int, param: Parameter) -> None:
        alpha = self.alpha
        grad = param.grad
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param.data
        square_avg = self._buffer("square_avg", index, param)
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if self.centered:
            grad_avg = self._buffer("grad_avg", index, param)
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            denom = square_avg - grad_avg * grad_avg  # the variance estimate
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(square_avg)
        denom += self.eps
        if self.momentum > 0:
            velocity = self._buffer("momentum_buffer", index, param)
            velocity *= self.momentum
            velocity += grad / denom
            param.data -= float(self.lr) * velocity
        else:
            step = np.divide(grad, denom, out=denom)
            step *= float(self.lr)
            param.data -= step
