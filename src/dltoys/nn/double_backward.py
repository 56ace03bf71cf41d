"""Double backward: the gradient, with respect to the weights, of a loss on a network's input gradient.

WGAN-GP's penalty ``lambda * mean_n (||dD/dx (x_n)|| - 1)^2`` is a function of the
critic's *input gradient*, which is itself computed by a backward pass. Its
gradient with respect to the critic's weights is a backward pass through that
backward pass. PyTorch gets it from ``autograd.grad(..., create_graph=True)``;
here it is written out for the layers a fully connected critic uses:
``Linear``, ``ReLU``, ``LeakyReLU``, ``Tanh`` (and ``Identity``), in any
``Sequential`` of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import check_float
from .activation import LeakyReLU, ReLU, Tanh
from .linear import Identity, Linear
from .module import Module, Sequential

SUPPORTED = (Linear, ReLU, LeakyReLU, Tanh, Identity)


def _flat_layers(module: Module) -> list[Module]:
    """The layers of a (possibly nested) Sequential, in order; an error for any unsupported layer."""
    if isinstance(module, Sequential):
        return [layer for child in module.children() for layer in _flat_layers(child)]
    if not isinstance(module, SUPPORTED):
        names = ", ".join(cls.__name__ for cls in SUPPORTED)
        raise TypeError(f"gradient_penalty: the critic may hold {names} (in Sequentials); "
                        f"received a {type(module).__name__}")
    return [module]


def _derivatives(layer: Module, z: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``f'(z)`` and ``f''(z)`` of an activation (None when ``f''`` is zero almost everywhere)."""
    if isinstance(layer, ReLU):
        return (z > 0).astype(z.dtype), None
    if isinstance(layer, LeakyReLU):
        slope = layer.negative_slope
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(slope)), None
    if isinstance(layer, Tanh):
        first = 1 - out * out  # tanh' = 1 - tanh^2
        return first, -2 * out * first  # tanh'' = -2 tanh (1 - tanh^2)
    return np.ones_like(z), None  # Identity


def gradient_penalty(critic: Module, x: Any, weight: float = 10.0, target: float = 1.0) -> tuple[float, np.ndarray]:
    r"""Add the gradient of ``weight * mean_n (||dD/dx_n|| - target)^2`` into the critic's ``.grad``.

    Parameters
    ----------
    critic : Sequential of Linear, ReLU, LeakyReLU, Tanh, Identity
        Its output must have one unit per sample, shape (N, 1).
    x : array of shape (N, in_features)
        Where the input gradient is taken (WGAN-GP: points between real and fake samples).
    weight : float, default 10
        ``lambda``.
    target : float, default 1
        The norm the penalty pulls the input gradient towards.

    Returns
    -------
    penalty : float
        The penalty's value.
    grad_norms : ndarray of shape (N,)
        ``||dD/dx_n||``.

    Notes
    -----
    Write the critic as ``z_l = a_{l-1} W_l^T + b_l`` (Linear) and ``a_l = f(z_l)``
    (activation), with ``a_0 = x``. Three passes:

    1. **Forward** (kept: each layer's input and output).
    2. **Backward** with ``g = 1`` at the output, which gives the input gradient
       ``g_x``: ``g_{in} = g_{out} W`` through a Linear and ``g_{in} = g_{out} f'(z)``
       through an activation (each layer's ``g_{out}`` is kept).
    3. **Backward of the backward.** The penalty ``P`` depends on ``g_x``:
       ``r = dP/dg_x = (2 weight / N) (||g_x|| - target) g_x / ||g_x||``. Walking the
       layers forward (the backward pass reversed), each op of pass 2 sends ``r``
       on and collects what it owes its weights:

       - ``g_{in} = g_{out} W``: ``dP/dW += g_{out}^T r``, then ``r <- r W^T``;
       - ``g_{in} = g_{out} f'(z)``: ``r <- r f'(z)``, and ``f'(z)`` depends on the
         forward pass: ``s_z = r\, g_{out} f''(z)`` is a gradient on ``z``
         (zero for ReLU and LeakyReLU, where ``f'' = 0`` almost everywhere).

    4. **Backward of the forward** for the ``s_z`` (when any is non-zero): an
       ordinary backward pass seeded with ``s_z`` at every activation:
       ``t <- t f'(z) + s_z`` through an activation, ``dP/dW += t^T a_{in}``,
       ``dP/db += sum t``, ``t <- t W`` through a Linear.

    Biases enter only through ``f''`` terms, so a ReLU critic's biases get no
    penalty gradient.

    References
    ----------
    Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville (2017), Improved training of
    Wasserstein GANs. Pearlmutter (1994), Fast exact multiplication by the Hessian.
    """
    weight = check_float("weight", weight, low=0.0)
    target = check_float("target", target)
    layers = _flat_layers(critic)
    # 1. forward, keeping every layer's input and output
    inputs, outputs = [], []
    a = x
    for layer in layers:
        inputs.append(a)
        a = layer(a)
        outputs.append(a)
    if a.ndim != 2 or a.shape[1] != 1:
        raise ValueError(f"gradient_penalty: the critic's output must have shape (N, 1), received {a.shape}")
    dtype = a.dtype
    # 2. backward from g = 1: the input gradient; keep each layer's g_out and each activation's f', f''
    g = np.ones_like(a)  # (N, 1)
    grad_outs, first, second = [None] * len(layers), [None] * len(layers), [None] * len(layers)
    for index in reversed(range(len(layers))):
        layer = layers[index]
        grad_outs[index] = g
        if isinstance(layer, Linear):
            g = g @ layer.weight.data  # (N, in)
        else:
            first[index], second[index] = _derivatives(layer, np.asarray(inputs[index]), outputs[index])
            g = g * first[index]
    grad_x = g  # (N, D)
    norms = np.sqrt(np.sum(grad_x * grad_x, axis=1))  # (N,)
    n = len(norms)
    penalty = weight * float(np.mean((norms - target) ** 2))
    # 3. backward of the backward, walking the layers forward
    scale = (2 * weight / n) * (norms - target) / np.maximum(norms, np.finfo(dtype).tiny)  # (N,)
    r = (scale[:, None] * grad_x).astype(dtype, copy=False)  # dP/dg_x (N, D)
    seeds = [None] * len(layers)
    for index, layer in enumerate(layers):
        if isinstance(layer, Linear):
            if layer.weight.requires_grad:
                layer.weight.grad += grad_outs[index].T @ r  # (out, in)
            r = r @ layer.weight.data.T  # (N, out)
        else:
            if second[index] is not None:
                seeds[index] = r * grad_outs[index] * second[index]  # s_z (N, units)
            r = r * first[index]
    # 4. backward of the forward pass, seeded with s_z at the activations
    if any(seed is not None for seed in seeds):
        t = None
        for index in reversed(range(len(layers))):
            layer = layers[index]
            if isinstance(layer, Linear):
                if t is None:
                    continue
                if layer.weight.requires_grad:
                    layer.weight.grad += t.T @ np.asarray(inputs[index], dtype=dtype)
                if layer.bias is not None and layer.bias.requires_grad:
                    layer.bias.grad += t.sum(axis=0)
                t = t @ layer.weight.data
            else:
                t = None if t is None else t * first[index]
                if seeds[index] is not None:
                    t = seeds[index] if t is None else t + seeds[index]
    return penalty, norms
