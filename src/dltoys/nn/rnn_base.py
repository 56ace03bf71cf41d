"""RNNBase: the machinery the fused recurrent layers (RNN, LSTM, GRU) share.

How the work is laid out (the readable one-step reference is :mod:`dltoys.nn.rnn_cells`,
and the tests hold the two equal; the measurements behind these choices are in
``benchmarks/NOTES.md``):

- Inside a layer everything is time-major ``(T, B, .)``, so one time step is
  one contiguous ``(B, .)`` block; the LSTM also keeps its gates gate-major,
  ``(4, B, H)`` per step, so each gate is a contiguous block too.
- The input projections ``x_t W_ih^T + b`` of all time steps are one matmul
  before the loop; the loop over time is the only Python loop, and each step
  is one small matmul ``h_{t-1} W_hh^T`` plus a few fused elementwise calls
  writing into preallocated buffers (``out=``).
- Gates are computed with one ``tanh`` over the whole gate row, using
  ``sigmoid(a) = (1 + tanh(a / 2)) / 2``: the halving is folded into the
  sigmoid gates' rows of the weights (exact, a power of two), and the LSTM
  gates are stored internally as ``i, f, o, g`` so the three sigmoid gates are
  adjacent. ``state_dict()`` and gradients are in PyTorch's order and scale.
- Backward never recomputes the forward pass: it reads the saved activations,
  stacks the per-step gate gradients, and forms every weight gradient after the
  loop with one matmul over all ``T * B`` rows.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_float, check_int, resolve_dtype
from . import init
from .dropout import Dropout
from .module import Module, ModuleList, Parameter, as_float_input


class _Weights(NamedTuple):
    """One direction of one layer, in the internal gate order and scale (see RNNBase)."""

    w_ih: np.ndarray  # (G, I)  G = n_gates * H
    w_hh_t: np.ndarray  # (H, G)  transposed once so each step is h @ w_hh_t
    bias: "np.ndarray | None"  # (G,)  every bias that sits outside the recurrence
    bias_hn: "np.ndarray | None"  # (H,)  GRU only: b_hn, which the reset gate multiplies
    scale: np.ndarray  # (G,)  1/2 on sigmoid-gate rows, 1 elsewhere


class RNNBase(Module):
    """The machinery shared by :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Subclasses define the cell: ``_scan`` (forward through time for one
    direction of one layer), ``_scan_backward``, and class attributes that
    describe their gates.

    The internal weights (built at every forward from the parameters) differ
    from PyTorch's layout in two ways, both invisible from outside:

    - Gate blocks are permuted by ``_gate_order`` (indices into PyTorch's
      order) so that the ``_n_sigmoid`` sigmoid gates come first, side by side.
    - The rows of the sigmoid gates are multiplied by ``scale = 1/2`` (exact),
      so one ``tanh`` over a gate row gives ``tanh(a / 2)`` for them and
      ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` is two cheap passes.

    Backward carries ``u = dL/d(gate) * (1 - tanh^2)`` per gate; since
    ``sigmoid'(a) = (1 - tanh(a / 2)^2) / 4``, the gradient of a true
    pre-activation is ``u * scale^2``. That factor multiplies the weights
    (for ``dL/dh`` and ``dL/dx``) and the finished weight gradients, never a
    per-step array.

    proj_size (LSTM projections) is not implemented.
    """

    _n_gates: int = 1
    _gate_order: tuple = (0,)
    _n_sigmoid: int = 0
    _has_cell: bool = False  # LSTM: a second state c
    _hidden_bias_in_gate: bool = False  # GRU: b_hn stays inside the reset gate's product

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.input_size = check_int("input_size", input_size, minimum=1)
        self.hidden_size = check_int("hidden_size", hidden_size, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = check_bool("bidirectional", bidirectional)
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(
                f"{type(self).__name__}: dropout={self.dropout} acts between stacked layers only, "
                "so it does nothing with num_layers=1 (as in PyTorch)",
                stacklevel=2,
            )
        self.dtype = resolve_dtype(dtype)
        self.rng = as_rng(rng)

        # PyTorch's parameter order and its init: U(-1/sqrt(H), 1/sqrt(H)) for all of them.
        bound = 1.0 / math.sqrt(self.hidden_size)
        gate_rows = self._n_gates * self.hidden_size
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * self._directions
            for direction in range(self._directions):
                suffix = self._suffix(layer, direction)
                shapes = [("weight_ih", (gate_rows, layer_input)), ("weight_hh", (gate_rows, self.hidden_size))]
                if self.bias:
                    shapes += [("bias_ih", (gate_rows,)), ("bias_hh", (gate_rows,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(init.uniform(shape, bound, self.rng, self.dtype)))
        # One Dropout per gap between stacked layers, sharing the layer's generator.
        if self.dropout > 0 and self.num_layers > 1:
            self.dropout_layers = ModuleList([Dropout(self.dropout, rng=self.rng) for _ in range(self.num_layers - 1)])
        else:
            self.dropout_layers = None

    # --------------------------------------------------------------- naming
    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _describe(self) -> str:
        return f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)

    # ------------------------------------------------------------- weights
    def _internal(self, array: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """PyTorch's gate order -> internal order, rows multiplied by ``scale``: a new array."""
        blocks = array.reshape(self._n_gates, self.hidden_size, -1)[list(self._gate_order)]
        out = blocks.reshape(array.shape[0], -1) * scale[:, None]
        return out.reshape(array.shape)

    def _forward_weights(self, layer: int, direction: int) -> _Weights:
        suffix = self._suffix(layer, direction)
        H = self.hidden_size
        scale = np.ones(self._n_gates * H, dtype=self.dtype)
        scale[: self._n_sigmoid * H] = 0.5
        w_ih = self._internal(getattr(self, "weight_ih" + suffix).data, scale)  # (G, I)
        w_hh_t = np.ascontiguousarray(self._internal(getattr(self, "weight_hh" + suffix).data, scale).T)  # (H, G)
        bias = bias_hn = None
        if self.bias:
            b_ih = getattr(self, "bias_ih" + suffix).data
            b_hh = getattr(self, "bias_hh" + suffix).data
            if self._hidden_bias_in_gate:
                bias = self._internal(b_ih, scale)
                bias[: -H] += self._internal(b_hh, scale)[: -H]
                bias_hn = b_hh[-H:]
            else:
                bias = self._internal(b_ih + b_hh, scale)
        return _Weights(w_ih, w_hh_t, bias, bias_hn, scale)

    def _accumulate(self, param: Parameter, grad_internal: np.ndarray, scale: np.ndarray) -> None:
        """Add a gradient computed in internal units (``u``, internal order) to ``param.grad``."""
        if not param.requires_grad:
            return
        grad_internal *= (scale * scale).reshape(-1, *([1] * (grad_internal.ndim - 1)))
        H, order = self.hidden_size, list(self._gate_order)
        if order == sorted(order):
            param.grad += grad_internal
        else:
            target = param.grad.reshape(self._n_gates, H, -1)
            target[order] += grad_internal.reshape(self._n_gates, H, -1)

    # ------------------------------------------------------------ checking
    def _time_major_input(self, x: Any) -> tuple[np.ndarray, bool]:
        """The input as a contiguous ``(T, B, I)`` array, and whether it had a batch axis."""
        x = as_float_input(self, x, self.dtype)
        I = self.input_size
        layout = f"(batch, seq_len, {I})" if self.batch_first else f"(seq_len, batch, {I})"
        time_axis = (1 if self.batch_first else 0) if x.ndim == 3 else 0
        # An empty batch is refused by name (PyTorch returns an empty output; nothing here would learn from it).
        empty = x.ndim in (2, 3) and x.size == 0
        if x.ndim not in (2, 3) or x.shape[-1] != I or x.shape[time_axis] == 0 or empty:
            raise ValueError(
                f"{self._describe()}: expected input of shape {layout} (batch_first={self.batch_first}) "
                f"or (seq_len, {I}) unbatched, with seq_len >= 1 and batch >= 1; received {x.shape}"
            )
        if x.ndim == 2:
            return np.ascontiguousarray(x[:, None, :]), False  # (T, 1, I)
        if self.batch_first:
            return np.ascontiguousarray(x.transpose(1, 0, 2)), True  # (T, B, I)
        return np.ascontiguousarray(x), True

    def _state_shape(self, batch: int, batched: bool) -> tuple:
        rows = self.num_layers * self._directions
        return (rows, batch, self.hidden_size) if batched else (rows, self.hidden_size)

    def _check_state(self, name: str, value: Any, batch: int, batched: bool) -> np.ndarray:
        """An initial state or a state gradient as ``(L * D, B, H)`` in the layer's dtype."""
        value = as_float_input(self, value, self.dtype)
        expected = self._state_shape(batch, batched)
        if value.shape != expected:
            raise ValueError(f"{self._describe()}: expected {name} of shape {expected}, received {value.shape}")
        return value if batched else value[:, None, :]

    def _initial_state(self, hx: Any, batch: int, batched: bool) -> tuple:
        """``(h0, c0)`` as ``(L * D, B, H)`` arrays; ``(None, None)`` for zeros."""
        if hx is None:
            return None, None
        name = type(self).__name__
        if self._has_cell:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h0, c0) of two arrays, received {type(hx).__name__}")
            return self._check_state("h0", hx[0], batch, batched), self._check_state("c0", hx[1], batch, batched)
        if isinstance(hx, (tuple, list)):
            raise TypeError(f"{name}: hx must be one array h0 of shape (num_layers * num_directions, batch, hidden_size), received a {type(hx).__name__}")
        return self._check_state("h0", hx, batch, batched), None

    def _split_grad(self, grad: Any, T: int, B: int, batched: bool) -> tuple:
        """The gradient of the outputs -> (grad_output (T, B, D*H) or None, grad_h_n, grad_c_n)."""
        name = type(self).__name__
        grad_h_n = grad_c_n = None
        if isinstance(grad, (tuple, list)):
            if len(grad) != 2:
                raise ValueError(f"{name}.backward: expected the gradient of (output, h_n{', c_n' if self._has_cell else ''}), received {len(grad)} items")
            grad_output, grad_state = grad
            if self._has_cell and grad_state is not None:
                if not (isinstance(grad_state, (tuple, list)) and len(grad_state) == 2):
                    raise TypeError(f"{name}.backward: the gradient of the state must be (grad_h_n, grad_c_n), received {type(grad_state).__name__}")
                grad_h_n, grad_c_n = grad_state
            else:
                grad_h_n = grad_state
        else:
            grad_output = grad
        if grad_output is not None:
            grad_output = as_float_input(self, grad_output, self.dtype)
            DH = self.hidden_size * self._directions
            expected = ((B, T, DH) if self.batch_first else (T, B, DH)) if batched else (T, DH)
            if grad_output.shape != expected:
                raise ValueError(f"{name}.backward: expected grad of output of shape {expected}, received {grad_output.shape}")
            if not batched:
                grad_output = grad_output[:, None, :]
            elif self.batch_first:
                # One contiguous copy: the loop then reads whole (B, H) blocks, not strided rows.
                grad_output = np.ascontiguousarray(grad_output.transpose(1, 0, 2))  # (T, B, D*H)
        if grad_h_n is not None:
            grad_h_n = self._check_state("grad of h_n", grad_h_n, B, batched)
        if grad_c_n is not None:
            grad_c_n = self._check_state("grad of c_n", grad_c_n, B, batched)
        return grad_output, grad_h_n, grad_c_n

    def _to_output_layout(self, array: np.ndarray, batched: bool) -> np.ndarray:
        """A new array in the caller's layout from a time-major ``(T, B, F)`` one."""
        if not batched:
            return array[:, 0, :].copy()
        if self.batch_first:
            return np.ascontiguousarray(array.transpose(1, 0, 2))
        return array.copy()

    # ------------------------------------------------------------- forward
    def forward(self, x: Any, hx: Any = None) -> tuple:
        """Run the whole sequence.

        Parameters
        ----------
        x : array of shape (seq_len, batch, input_size)
            ``(batch, seq_len, input_size)`` with ``batch_first=True``;
            ``(seq_len, input_size)`` for one unbatched sequence.
        hx : array, tuple of two arrays (LSTM) or None
            Initial state ``h0`` (LSTM: ``(h0, c0)``), each of shape
            ``(num_layers * num_directions, batch, hidden_size)`` (without the
            batch axis for unbatched input); zeros when None.

        Returns
        -------
        output : array of shape (seq_len, batch, num_directions * hidden_size)
            The last layer's hidden state at every step (the input's layout).
        h_n : array of shape (num_layers * num_directions, batch, hidden_size)
            Every layer's final state; LSTM returns ``(h_n, c_n)``. For the
            reverse direction "final" is the state after reading ``x_0``.
        """
        x_tm, batched = self._time_major_input(x)  # (T, B, I)
        T, B, _ = x_tm.shape
        h0, c0 = self._initial_state(hx, B, batched)  # (L*D, B, H) each, or None
        H, D = self.hidden_size, self._directions
        h_n = np.empty((self.num_layers * D, B, H), dtype=self.dtype)
        c_n = np.empty_like(h_n) if self._has_cell else None
        zeros = np.zeros((B, H), dtype=self.dtype)

        layers = []
        layer_input = x_tm  # (T, B, I) then (T, B, D*H)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout_layers is not None:
                layer_input = self.dropout_layers[layer - 1](layer_input)
            saved_directions, outputs = [], []
            for direction in range(D):
                k = layer * D + direction
                weights = self._forward_weights(layer, direction)
                xp = self._project(layer_input.reshape(T * B, -1), weights, T, B)  # (T, ...) every step's x W_ih^T + b
                if direction == 1:
                    xp = xp[::-1]  # the reverse direction reads time backwards; steps stay contiguous
                saved = self._scan(
                    xp,
                    zeros if h0 is None else h0[k],
                    (zeros if c0 is None else c0[k]) if self._has_cell else None,
                    weights,
                )
                h_n[k] = saved["hs"][-1]
                if self._has_cell:
                    c_n[k] = saved["cs"][-1]
                states = saved["hs"][1:]  # (T, B, H) in processing order
                outputs.append(states if direction == 0 else states[::-1])
                saved_directions.append((weights, saved))
            layers.append((layer_input, saved_directions))
            layer_input = outputs[0] if D == 1 else np.concatenate(outputs, axis=2)  # (T, B, D*H)

        self._cache = {"layers": layers, "T": T, "B": B, "batched": batched, "had_hx": hx is not None}
        output = self._to_output_layout(layer_input, batched)
        if not batched:
            h_n = h_n[:, 0, :]
            c_n = None if c_n is None else c_n[:, 0, :]
        return (output, (h_n, c_n)) if self._has_cell else (output, h_n)

    # ------------------------------------------------------------ backward
    def backward(self, grad: Any) -> Any:
        """Backpropagate through every layer and time step.

        Parameters
        ----------
        grad : array or tuple
            The gradient of ``output`` (an array, same shape), or the gradient
            of the whole result: ``(grad_output, grad_h_n)`` (LSTM:
            ``(grad_output, (grad_h_n, grad_c_n))``). Any entry may be None
            (zero), e.g. ``(None, grad_h_n)`` for a loss on the final state only.

        Returns
        -------
        dx : array shaped like ``x``, or None when ``needs_input_grad`` is False
            Returned alone when forward had no ``hx``; otherwise ``(dx, dh0)``
            (LSTM: ``(dx, (dh0, dc0))``) with the initial states' shapes.
        Parameter gradients are added into each parameter's ``.grad``.
        """
        cache = self._saved()
        T, B, batched = cache["T"], cache["B"], cache["batched"]
        grad_output, grad_h_n, grad_c_n = self._split_grad(grad, T, B, batched)
        H, D, L = self.hidden_size, self._directions, self.num_layers
        dh0 = np.empty((L * D, B, H), dtype=self.dtype)
        dc0 = np.empty_like(dh0) if self._has_cell else None

        grad_layer_output = grad_output  # (T, B, D*H) or None
        for layer in reversed(range(L)):
            layer_input, saved_directions = cache["layers"][layer]
            x2d = layer_input.reshape(T * B, -1)  # (T*B, I)
            grad_input = None
            for direction, (weights, saved) in enumerate(saved_directions):
                k = layer * D + direction
                grad_h = None
                if grad_layer_output is not None:
                    grad_h = grad_layer_output[:, :, direction * H : (direction + 1) * H]  # (T, B, H)
                    if direction == 1:
                        grad_h = grad_h[::-1]  # processing order
                dh = np.zeros((B, H), dtype=self.dtype) if grad_h_n is None else grad_h_n[k].copy()
                dc = None
                if self._has_cell:
                    dc = np.zeros((B, H), dtype=self.dtype) if grad_c_n is None else grad_c_n[k].copy()
                ux, uh = self._scan_backward(saved, weights, grad_h, dh, dc)  # dh, dc now at t = -1
                dh0[k] = dh
                if self._has_cell:
                    dc0[k] = dc
                if direction == 1:
                    ux = ux[::-1]  # time order, to pair with layer_input rows
                want_input = layer > 0 or self.needs_input_grad  # the first layer's input may be data
                grad_input = self._direction_gradients(
                    layer, direction, weights, ux, uh, x2d, saved["hs"][:-1], grad_input, want_input
                )
            if grad_input is None:
                grad_layer_output = None
                break
            grad_input = grad_input.reshape(T, B, -1)  # (T, B, I)
            if layer > 0 and self.dropout_layers is not None:
                grad_input = self.dropout_layers[layer - 1].backward(grad_input)
            grad_layer_output = grad_input

        if grad_layer_output is None:
            dx = None  # needs_input_grad is False
        else:
            dx = self._to_output_layout(grad_layer_output, batched) if batched else grad_layer_output[:, 0, :]
        if not cache["had_hx"]:
            return dx
        if not batched:
            dh0 = dh0[:, 0, :]
            dc0 = None if dc0 is None else dc0[:, 0, :]
        return (dx, (dh0, dc0)) if self._has_cell else (dx, dh0)

    def _direction_gradients(self, layer, direction, weights, ux, uh, x2d, h_prev, grad_input, want_input=True):
        """Weight gradients of one direction (one matmul each over all steps) and its share of dL/dx.

        ``ux`` (T, B, G) in time order is ``u`` for the input projection;
        ``uh`` (T, B, G) in processing order is ``u`` for the recurrent one,
        paired with ``h_prev`` (T, B, H), the states each step read. Without
        ``want_input`` the share of dL/dx is skipped and ``grad_input`` returned.
        """
        suffix = self._suffix(layer, direction)
        rows = x2d.shape[0]
        ux2d = ux.reshape(rows, -1)  # (T*B, G); copies only for the reverse direction
        uh2d = uh.reshape(rows, -1)  # (T*B, G)
        scale = weights.scale
        self._accumulate(getattr(self, "weight_ih" + suffix), ux2d.T @ x2d, scale)  # (G, I)
        self._accumulate(getattr(self, "weight_hh" + suffix), uh2d.T @ h_prev.reshape(rows, -1), scale)  # (G, H)
        if self.bias:
            ones = np.ones(rows, dtype=self.dtype)
            grad_b_ih = ones @ ux2d  # (G,); a matmul beats .sum(0) on tall arrays
            grad_b_hh = grad_b_ih.copy() if uh is ux else ones @ uh2d  # RNN, LSTM: both biases act alike
            self._accumulate(getattr(self, "bias_ih" + suffix), grad_b_ih, scale)
            self._accumulate(getattr(self, "bias_hh" + suffix), grad_b_hh, scale)
        if not want_input:
            return grad_input
        share = ux2d @ (weights.w_ih * scale[:, None])  # (T*B, I): true gate gradients times W_ih
        return share if grad_input is None else grad_input + share

    # ----------------------------------------------------- cell interface
    def _project(self, x2d: np.ndarray, weights: _Weights, T: int, B: int) -> np.ndarray:
        """Every step's input projection ``x_t W_ih^T + b`` in one matmul: (T*B, I) -> (T, B, G).

        Time comes first in whatever layout the cell's ``_scan`` reads (the LSTM's is gate-major).
        """
        xp = (x2d @ weights.w_ih.T).reshape(T, B, -1)  # (T, B, G)
        if weights.bias is not None:
            xp += weights.bias
        return xp

    def _scan(self, xp, h0, c0, weights: _Weights) -> dict:
        """Forward through time for one direction: xp from ``_project`` -> saved arrays incl. hs (T+1, B, H)."""
        raise NotImplementedError

    def _scan_backward(self, saved, weights: _Weights, grad_h, dh, dc) -> tuple:
        """Backward through time; updates dh (and dc) in place to dL/dh0, returns (ux, uh)."""
        raise NotImplementedError

