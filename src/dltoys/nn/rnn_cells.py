"""One time step of a recurrent network: RNNCell, LSTMCell, GRUCell (PyTorch's modules).

These are the readable reference: each forward is the cell's equations line by line, in
PyTorch's gate order, and each backward is that forward read in reverse. The fused
multi-step layers of :mod:`dltoys.nn.recurrent` (``RNN``, ``LSTM``, ``GRU``) compute the
same numbers for whole sequences, faster; the tests hold them equal to a loop of these
cells. Same constructor arguments, ``state_dict()`` keys (``weight_ih``, ``weight_hh``,
``bias_ih``, ``bias_hh``) and initialisation as ``torch.nn.RNNCell/LSTMCell/GRUCell``.

A cell's forward takes ``input`` of shape ``(batch, input_size)`` (or ``(input_size,)``
unbatched) and the state ``hx`` (zeros when None); its backward returns ``dL/dinput``
alone when forward had no ``hx``, else ``(dL/dinput, dL/dhx)`` in ``hx``'s structure.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_choice, check_int, resolve_dtype
from . import init
from .functional import sigmoid
from .module import Module, Parameter, as_float_input, check_grad_out


class RNNCellBase(Module):
    """Parameters, input checks and gradient accumulation shared by the three cells."""

    _n_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, rng: RngLike = None):
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.bias = check_bool("bias", bias)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        bound = 1.0 / math.sqrt(self.hidden_size)  # PyTorch: every weight and bias U(-1/sqrt(H), 1/sqrt(H))
        rows = self._n_gates * self.hidden_size
        self.weight_ih = Parameter(init.uniform((rows, self.input_size), bound, rng, self.dtype))
        self.weight_hh = Parameter(init.uniform((rows, self.hidden_size), bound, rng, self.dtype))
        self.bias_ih = Parameter(init.uniform((rows,), bound, rng, self.dtype)) if self.bias else None
        self.bias_hh = Parameter(init.uniform((rows,), bound, rng, self.dtype)) if self.bias else None

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _describe(self) -> str:
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def _input(self, x: Any) -> np.ndarray:
        """The input as ``(B, input_size)``; a 1-D input is one sample."""
        x = as_float_input(self, x, self.dtype)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{self._describe()}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},), received {x.shape}")
        return x.reshape(-1, self.input_size)

    def _state(self, name: str, value: Any, batch: int, batched: bool) -> np.ndarray:
        """A state (or a state gradient) as ``(B, H)``; zeros when None."""
        if value is None:
            return np.zeros((batch, self.hidden_size), dtype=self.dtype)
        value = as_float_input(self, value, self.dtype)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if value.shape != expected:
            raise ValueError(f"{self._describe()}: expected {name} of shape {expected}, received {value.shape}")
        return value.reshape(batch, self.hidden_size)

    def _add_weight_grads(self, grad_ih: np.ndarray, grad_hh: np.ndarray, x: np.ndarray, h: np.ndarray) -> None:
        """``dW_ih += grad_ih^T x``, ``dW_hh += grad_hh^T h``, each bias its rows' sum."""
        if self.weight_ih.requires_grad:
            self.weight_ih.grad += grad_ih.T @ x  # (G, I)
        if self.weight_hh.requires_grad:
            self.weight_hh.grad += grad_hh.T @ h  # (G, H)
        if self.bias:
            if self.bias_ih.requires_grad:
                self.bias_ih.grad += grad_ih.sum(axis=0)
            if self.bias_hh.requires_grad:
                self.bias_hh.grad += grad_hh.sum(axis=0)

    def _affine(self, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x W_ih^T + b_ih, h W_hh^T + b_hh)``, each (B, G)."""
        from_x = x @ self.weight_ih.data.T
        from_h = h @ self.weight_hh.data.T
        if self.bias:
            from_x += self.bias_ih.data
            from_h += self.bias_hh.data
        return from_x, from_h

    def _out(self, array: np.ndarray, batched: bool) -> np.ndarray:
        return array if batched else array[0]

    def _input_grad(self, grad_x: np.ndarray | None, grad_state: Any, batched: bool, had_hx: bool) -> Any:
        dx = None if grad_x is None else self._out(grad_x, batched)
        return (dx, grad_state) if had_hx else dx


class RNNCell(RNNCellBase):
    """An Elman cell (``torch.nn.RNNCell``): ``h' = phi(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool, default True
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
    dtype : float32 (default) or float64
    rng : int, Generator or None

    Notes
    -----
    Backward, with ``g = dL/dh'``::

        da = g * phi'(a)        phi'(a) = 1 - h'^2 (tanh) or 1[h' > 0] (ReLU)
        dW_ih = da^T x    dW_hh = da^T h    db_ih = db_hh = sum_batch da
        dx = da W_ih      dh = da W_hh
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", dtype=None,
                 rng: RngLike = None):
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, input: Any, hx: Any = None) -> np.ndarray:
        x = self._input(input)  # (B, I)
        batched = np.ndim(input) == 2
        h = self._state("hx", hx, len(x), batched)  # (B, H)
        from_x, from_h = self._affine(x, h)
        a = from_x + from_h  # (B, H)
        h_new = np.tanh(a) if self.nonlinearity == "tanh" else np.maximum(a, 0)
        self._cache = (x, h, h_new, batched, hx is not None)
        return self._out(h_new, batched)

    def backward(self, grad_out: Any) -> Any:
        x, h, h_new, batched, had_hx = self._saved()
        g = self._state("grad of h'", check_grad_out(self, grad_out, self._out(h_new, batched).shape, self.dtype),
                        len(x), batched)
        da = g * (1 - h_new * h_new) if self.nonlinearity == "tanh" else g * (h_new > 0)
        self._add_weight_grads(da, da, x, h)
        dx = da @ self.weight_ih.data if self.needs_input_grad else None
        dh = da @ self.weight_hh.data
        return self._input_grad(dx, self._out(dh, batched), batched, had_hx)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell (``torch.nn.LSTMCell``), gates in PyTorch's order i, f, g, o.

    ``forward(input, (h, c)) -> (h', c')``; ``backward((dL/dh', dL/dc'))`` (either may be None).

    Notes
    -----
    Forward (``s`` = sigmoid)::

        [a_i, a_f, a_g, a_o] = x W_ih^T + b_ih + h W_hh^T + b_hh
        i = s(a_i)   f = s(a_f)   g = tanh(a_g)   o = s(a_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    Backward, the same lines reversed (``s' = s (1 - s)``, ``tanh' = 1 - tanh^2``)::

        do  = dh' * tanh(c')
        dc' = dc' + dh' * o * (1 - tanh(c')^2)
        di = dc' * g    df = dc' * c    dg = dc' * i    dc = dc' * f
        da = [di * s'(i), df * s'(f), dg * (1 - g^2), do * s'(o)]
        dx = da W_ih    dh = da W_hh
    """

    _n_gates = 4

    def forward(self, input: Any, hx: Any = None) -> tuple[np.ndarray, np.ndarray]:
        x = self._input(input)  # (B, I)
        batched = np.ndim(input) == 2
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"{self._describe()}: hx must be a tuple (h, c) of two arrays, received {type(hx).__name__}")
        h = self._state("h", None if hx is None else hx[0], len(x), batched)  # (B, H)
        c = self._state("c", None if hx is None else hx[1], len(x), batched)  # (B, H)
        from_x, from_h = self._affine(x, h)
        a_i, a_f, a_g, a_o = np.split(from_x + from_h, 4, axis=1)  # (B, H) each
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c_new = f * c + i * g
        tanh_c = np.tanh(c_new)
        h_new = o * tanh_c
        self._cache = (x, h, c, i, f, g, o, tanh_c, batched, hx is not None)
        return self._out(h_new, batched), self._out(c_new, batched)

    def backward(self, grad: Any) -> Any:
        x, h, c, i, f, g, o, tanh_c, batched, had_hx = self._saved()
        if not (isinstance(grad, (tuple, list)) and len(grad) == 2):
            raise TypeError(f"{type(self).__name__}.backward: expected (grad of h', grad of c'), received {type(grad).__name__}")
        dh_new = self._state("grad of h'", grad[0], len(x), batched)
        dc_new = self._state("grad of c'", grad[1], len(x), batched)
        do = dh_new * tanh_c
        dc_new = dc_new + dh_new * o * (1 - tanh_c * tanh_c)
        di, df, dg, dc = dc_new * g, dc_new * c, dc_new * i, dc_new * f
        da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)  # (B, 4H)
        self._add_weight_grads(da, da, x, h)
        dx = da @ self.weight_ih.data if self.needs_input_grad else None
        dh = da @ self.weight_hh.data
        return self._input_grad(dx, (self._out(dh, batched), self._out(dc, batched)), batched, had_hx)


class GRUCell(RNNCellBase):
    """A gated recurrent unit (``torch.nn.GRUCell``), gates in PyTorch's order r, z, n.

    Notes
    -----
    Forward, PyTorch's variant (the reset gate multiplies ``h W_hn^T + b_hn``)::

        [x_r, x_z, x_n] = x W_ih^T + b_ih        [h_r, h_z, h_n] = h W_hh^T + b_hh
        r = s(x_r + h_r)    z = s(x_z + h_z)    n = tanh(x_n + r * h_n)
        h' = (1 - z) * n + z * h

    Backward, reversed::

        dn = dh' * (1 - z)    dz = dh' * (h - n)    dh = dh' * z
        da_n = dn * (1 - n^2)       dr = da_n * h_n
        da_r = dr * s'(r)           da_z = dz * s'(z)
        the input weights see [da_r, da_z, da_n], the recurrent ones [da_r, da_z, r * da_n]
        dx = [da_r, da_z, da_n] W_ih      dh += [da_r, da_z, r * da_n] W_hh
    """

    _n_gates = 3

    def forward(self, input: Any, hx: Any = None) -> np.ndarray:
        x = self._input(input)  # (B, I)
        batched = np.ndim(input) == 2
        h = self._state("hx", hx, len(x), batched)  # (B, H)
        from_x, from_h = self._affine(x, h)
        x_r, x_z, x_n = np.split(from_x, 3, axis=1)  # (B, H) each
        h_r, h_z, h_n = np.split(from_h, 3, axis=1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * h_n)
        h_new = (1 - z) * n + z * h
        self._cache = (x, h, r, z, n, h_n, batched, hx is not None)
        return self._out(h_new, batched)

    def backward(self, grad_out: Any) -> Any:
        x, h, r, z, n, h_n, batched, had_hx = self._saved()
        g = self._state("grad of h'", check_grad_out(self, grad_out, self._out(n, batched).shape, self.dtype),
                        len(x), batched)
        dn, dz, dh = g * (1 - z), g * (h - n), g * z
        da_n = dn * (1 - n * n)
        dr = da_n * h_n
        da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)
        grad_ih = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H)
        grad_hh = np.concatenate([da_r, da_z, r * da_n], axis=1)  # (B, 3H)
        self._add_weight_grads(grad_ih, grad_hh, x, h)
        dx = grad_ih @ self.weight_ih.data if self.needs_input_grad else None
        dh = dh + grad_hh @ self.weight_hh.data
        return self._input_grad(dx, self._out(dh, batched), batched, had_hx)
