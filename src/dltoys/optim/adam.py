"""Adam and AdamW: bias-corrected moving averages of the gradient and its square (``torch.optim.Adam``, ``AdamW``)."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..nn.module import Parameter
from ..utils import check_bool, check_float
from .optimizer import Optimizer


def _check_betas(betas: Sequence[float]) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas: expected a pair (beta1, beta2), received {betas!r}")
    return (
        check_float("betas[0]", betas[0], low=0.0, high=1.0, high_inclusive=False),
        check_float("betas[1]", betas[1], low=0.0, high=1.0, high_inclusive=False),
    )


class Adam(Optimizer):
    r"""Momentum and RMSprop in one, with the start-up bias of both averages removed.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-3
        Learning rate ``eta >= 0``.
    betas : (float, float), default (0.9, 0.999)
        Decay rates ``beta1, beta2`` of the first and second moment averages,
        each in ``[0, 1)``.
    eps : float, default 1e-8
        Added to the denominator, ``>= 0``.
    weight_decay : float, default 0
        ``lambda >= 0``. Adam adds ``lambda * theta`` to the gradient (an L2
        penalty, which the second-moment normalisation then weakens for
        weights with large gradients); AdamW decays the weights directly.
    amsgrad : bool, default False
        Normalise by the largest second-moment average seen so far, so a
        weight's effective step size never grows.
    decoupled_weight_decay : bool, default False (keyword only)
        True makes this optimizer AdamW, as in PyTorch.

    Attributes
    ----------
    state["step"] : list of int or None
        How many updates each parameter has had (the bias corrections use it;
        a parameter frozen for a while keeps its own count, as in PyTorch).
    state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"] : list of ndarray or None
        ``m``, ``v`` and (with amsgrad) ``v_max`` of each parameter.

    Notes
    -----
    PyTorch's algorithm, step ``t`` with gradient ``g_t``:

    .. math::

        \theta_{t-1} &\leftarrow (1 - \eta\lambda)\, \theta_{t-1}
            \quad\text{(AdamW)} \qquad\text{or}\qquad
            g_t \leftarrow g_t + \lambda\, \theta_{t-1} \quad\text{(Adam)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \quad v_t \ \text{otherwise} \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    ``m_0 = v_0 = 0``, so without the corrections ``1 - beta^t`` the first
    averages would be shrunk towards zero. Note where ``eps`` sits: outside
    the corrected square root, as in PyTorch (the paper's form).

    References
    ----------
    .. [1] Kingma, Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    .. [2] Reddi, Kale, Kumar, "On the Convergence of Adam and Beyond",
       ICLR 2018 (amsgrad).
    .. [3] Loshchilov, Hutter, "Decoupled Weight Decay Regularization",
       ICLR 2019 (AdamW).
    """

    state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    hyperparam_names = ("lr", "betas", "eps", "weight_decay", "amsgrad", "decoupled_weight_decay")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_float("eps", eps, low=0.0)
        self.weight_decay = check_float("weight_decay", weight_decay, low=0.0)
        self.amsgrad = check_bool("amsgrad", amsgrad)
        self.decoupled_weight_decay = check_bool("decoupled_weight_decay", decoupled_weight_decay)

    def _update(self, index: int, param: Parameter) -> None:
        state = self.state
        lr = float(self.lr)
        beta1, beta2 = self.betas
        grad = param.grad
        if self.weight_decay != 0:
            if self.decoupled_weight_decay:
                param.data *= 1 - lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * param.data
        if state["step"][index] is None:
            state["step"][index] = 0
            state["exp_avg"][index] = np.zeros_like(param.data)
            state["exp_avg_sq"][index] = np.zeros_like(param.data)
            if self.amsgrad:
                state["max_exp_avg_sq"][index] = np.zeros_like(param.data)
        state["step"][index] += 1
        step = state["step"][index]
        exp_avg, exp_avg_sq = state["exp_avg"][index], state["exp_avg_sq"][index]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        second_moment = exp_avg_sq
        if self.amsgrad:
            second_moment = np.maximum(state["max_exp_avg_sq"][index], exp_avg_sq, out=state["max_exp_avg_sq"][index])
        # The corrections are Python floats: they keep a float32 update float32.
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(second_moment)
        denom /= (1 - beta2**step) ** 0.5
        denom += self.eps
        update = np.divide(exp_avg, denom, out=denom)
        update *= step_size
        param.data -= update


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the weights shrink by ``lr * weight_decay`` each step.

    Same parameters as :class:`Adam`, but ``weight_decay`` defaults to
    ``1e-2`` and never enters the gradient, so every weight decays at the
    same rate whatever its gradient history (with Adam's L2 penalty, weights
    with large gradients are barely regularised). See :class:`Adam` for the
    update and the references (Loshchilov and Hutter, ICLR 2019).
    """

    hyperparam_names = ("lr", "betas", "eps", "weight_decay", "amsgrad")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
