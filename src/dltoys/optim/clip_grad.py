"""Gradient clipping by the global norm (``torch.nn.utils.clip_grad_norm_``)."""

from __future__ import annotations

import math
import numbers
from typing import Iterable

import numpy as np

from ..nn.module import Parameter
from ..utils import check_bool


def _check_norm_type(norm_type: float | str) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if isinstance(norm_type, numbers.Real) and not isinstance(norm_type, bool) and norm_type > 0:
        return float(norm_type)  # inf passes here too
    raise ValueError(f"norm_type: expected a number > 0 or inf, received {norm_type!r}")


def clip_grad_norm_(
    parameters: Parameter | Iterable[Parameter],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    Exploding gradients (recurrent networks, a bad batch) turn into a step of
    bounded length in the same direction.

    Parameters
    ----------
    parameters : Parameter or iterable of Parameter
        Whose ``.grad`` to clip (all of them, ``requires_grad`` or not, as
        PyTorch clips every gradient it is given; a frozen parameter's
        gradient is zero and changes neither the norm nor itself).
    max_norm : float
        Largest allowed norm, ``>= 0``.
    norm_type : float or "inf", default 2.0
        The ``p`` of the p-norm, ``> 0``; ``inf`` (``math.inf`` or ``"inf"``)
        for the largest absolute entry.
    error_if_nonfinite : bool, default False
        Raise if the total norm is nan or inf instead of scaling by it.

    Returns
    -------
    float
        The total norm of the gradients before clipping.

    Notes
    -----
    All gradients are treated as one vector ``g``:

    .. math::

        \|g\|_p = \Big(\sum_i \|g^{(i)}\|_p^p\Big)^{1/p}, \qquad
        g^{(i)} \leftarrow g^{(i)} \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Big)

    The ``1e-6`` (PyTorch's) keeps an all-zero gradient finite. Norms are
    computed in the gradients' dtype, so float32 stays float32.

    References
    ----------
    .. [1] Pascanu, Mikolov, Bengio, "On the difficulty of training recurrent
       neural networks", ICML 2013.
    """
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    for index, param in enumerate(params):
        if not isinstance(param, Parameter):
            raise TypeError(f"parameters[{index}]: expected a Parameter, received {type(param).__name__}")
    if not isinstance(max_norm, numbers.Real) or isinstance(max_norm, bool) or not max_norm >= 0:
        raise ValueError(f"max_norm: expected a number >= 0, received {max_norm!r}")
    norm_type = _check_norm_type(norm_type)
    error_if_nonfinite = check_bool("error_if_nonfinite", error_if_nonfinite)
    if not params:
        return 0.0
    # The norm of the per-tensor norms equals the norm of all entries at once.
    norms = np.stack([np.linalg.vector_norm(param.grad, ord=norm_type) for param in params])
    total_norm = np.linalg.vector_norm(norms, ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total_norm}; "
            "pass error_if_nonfinite=False to scale by it anyway"
        )
    # Computed in the gradients' dtype, like PyTorch; multiplying by 1 leaves small gradients exact.
    coef = np.minimum(float(max_norm) / (total_norm + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # an inf gradient times 0 is nan, as in PyTorch: asked for
        for param in params:
            param.grad *= coef
    return float(total_norm)
