"""Transformer layers (PyTorch's names and state-dict keys) and positional encodings.

``TransformerEncoderLayer``, ``TransformerEncoder`` and ``TransformerDecoderLayer``
are compositions of ``MultiheadAttention``, ``Linear``, ``LayerNorm``, ``Dropout`` and
an activation: forward calls the children in order, backward calls their backward
passes in reverse, adding the residual paths' gradients.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_float, check_int, resolve_dtype
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList, Parameter, as_float_input, check_grad_out
from .normalization import LayerNorm


def _activation(activation) -> Module:
    if isinstance(activation, Module):
        return activation
    if activation == "relu":
        return ReLU()
    if activation == "gelu":
        return GELU()
    raise ValueError(f"activation: expected 'relu', 'gelu' or a Module, received {activation!r}")


class _Block(Module):
    """What the encoder and decoder layers share: the feed-forward sublayer and the residual plumbing."""

    def _init_feedforward(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, rng):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, rng=rng)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, rng=rng)

    def _feedforward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _feedforward_backward(self, grad):
        return self.linear1.backward(self.activation.backward(self.dropout.backward(self.linear2.backward(grad))))

    def _sublayer(self, x, norm, body):
        """``x + body(norm(x))`` (norm_first) or ``norm(x + body(x))``."""
        if self.norm_first:
            return x + body(norm(x))
        return norm(x + body(x))

    def _sublayer_backward(self, grad, norm, body_backward):
        """The gradient of :meth:`_sublayer` with respect to ``x``; ``body_backward`` maps the body's output gradient to its input's."""
        if self.norm_first:
            return grad + norm.backward(body_backward(grad))
        grad = norm.backward(grad)
        return grad + body_backward(grad)


class TransformerEncoderLayer(_Block):
    """Self-attention and a feed-forward network, each in a residual sublayer (``torch.nn.TransformerEncoderLayer``).

    Parameters
    ----------
    d_model : int
    nhead : int
    dim_feedforward : int, default 2048
    dropout : float, default 0.1
        On the attention weights, inside the feed-forward network, and on each sublayer's output.
    activation : 'relu' (default), 'gelu' or a Module
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False
        ``(S, N, E)`` inputs by default, ``(N, S, E)`` with True.
    norm_first : bool, default False
        Post-norm (Vaswani et al.) by default; True is pre-norm (GPT-2).
    bias : bool, default True
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights and dropout masks.

    Notes
    -----
    With ``SA(x) = dropout1(self_attn(x, x, x))`` and
    ``FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))``::

        post-norm:  x = norm1(x + SA(x));      x = norm2(x + FF(x))
        pre-norm:   x = x + SA(norm1(x));      x = x + FF(norm2(x))

    Backward of ``x + f(x)`` is ``g + f'(x)^T g``: the gradient flows around each
    sublayer unchanged and through it; the attention's three input gradients
    (query, key, value are the same ``x``) are added.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, rng: RngLike = None):
        super().__init__()
        rng = as_rng(rng)
        dtype = resolve_dtype(dtype)
        check_int("dim_feedforward", dim_feedforward, minimum=1)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, rng=rng)
        self._init_feedforward(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, rng)
        self.norm_first = check_bool("norm_first", norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.activation = _activation(activation)
        self.batch_first = batch_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """``src`` of shape (S, N, E), or (N, S, E) with ``batch_first``; masks as ``MultiheadAttention``'s."""
        src = as_float_input(self, src, self.norm1.dtype)

        def attention(x):
            out, _ = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                                    need_weights=False, is_causal=is_causal)
            return self.dropout1(out)

        x = self._sublayer(src, self.norm1, attention)
        x = self._sublayer(x, self.norm2, lambda h: self.dropout2(self._feedforward(h)))
        self._cache = src.shape
        return x

    def _attention_backward(self, grad):
        grads = self.self_attn.backward(self.dropout1.backward(grad))
        return grads[0] + grads[1] + grads[2]

    def backward(self, grad_out):
        grad = check_grad_out(self, grad_out, self._saved(), self.norm1.dtype)
        grad = self._sublayer_backward(grad, self.norm2, lambda g: self._feedforward_backward(self.dropout2.backward(g)))
        return self._sublayer_backward(grad, self.norm1, self._attention_backward)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` and an optional final norm (``torch.nn.TransformerEncoder``).

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Deep-copied ``num_layers`` times (PyTorch's behaviour); each copy's
        dropout layers get their own random stream.
    num_layers : int
    norm : Module or None
        Applied after the last layer (a LayerNorm for a pre-norm stack).
    rng : int, Generator or None
        Seeds the copies' dropout streams.

    State-dict keys ``layers.0.self_attn.in_proj_weight``, ..., ``norm.weight``, as PyTorch.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None, rng: RngLike = None):
        super().__init__()
        check_int("num_layers", num_layers, minimum=1)
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"encoder_layer: expected a Module, received {type(encoder_layer).__name__}")
        rng = as_rng(rng)
        layers = []
        for _ in range(num_layers):
            layer = copy.deepcopy(encoder_layer)
            for module in layer.modules():
                if isinstance(getattr(module, "rng", None), np.random.Generator):
                    module.rng = np.random.default_rng(rng.integers(2**63))
            layers.append(layer)
        self.layers = ModuleList(layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        return self.norm(x) if self.norm is not None else x

    def backward(self, grad_out):
        grad = self.norm.backward(grad_out) if self.norm is not None else grad_out
        for layer in reversed(list(self.layers)):
            grad = layer.backward(grad)
        return grad


class TransformerDecoderLayer(_Block):
    """Self-attention, attention to the encoder's output, and a feed-forward network (``torch.nn.TransformerDecoderLayer``).

    Parameters are those of :class:`TransformerEncoderLayer`.

    Notes
    -----
    With ``SA`` the (usually causal) self-attention over the target ``x``, ``MHA(x, m)``
    the attention from ``x`` to the memory ``m`` and ``FF`` the feed-forward network,
    each followed by its dropout::

        post-norm:  x = norm1(x + SA(x));  x = norm2(x + MHA(x, m));  x = norm3(x + FF(x))
        pre-norm:   x = x + SA(norm1(x));  x = x + MHA(norm2(x), m);  x = x + FF(norm3(x))

    ``backward`` returns ``(dL/dtgt, dL/dmemory)``; the memory's gradient is the
    cross-attention's key and value gradients added.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, rng: RngLike = None):
        super().__init__()
        rng = as_rng(rng)
        dtype = resolve_dtype(dtype)
        check_int("dim_feedforward", dim_feedforward, minimum=1)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, rng=rng)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 dtype=dtype, rng=rng)
        self._init_feedforward(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, rng)
        self.norm_first = check_bool("norm_first", norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.dropout3 = Dropout(dropout, rng=rng)
        self.activation = _activation(activation)
        self.batch_first = batch_first

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        dtype = self.norm1.dtype
        tgt = as_float_input(self, tgt, dtype)
        memory = as_float_input(self, memory, dtype)

        def self_attention(x):
            out, _ = self.self_attn(x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                                    need_weights=False, is_causal=tgt_is_causal)
            return self.dropout1(out)

        def cross_attention(x):
            out, _ = self.multihead_attn(x, memory, memory, attn_mask=memory_mask,
                                         key_padding_mask=memory_key_padding_mask, need_weights=False,
                                         is_causal=memory_is_causal)
            return self.dropout2(out)

        x = self._sublayer(tgt, self.norm1, self_attention)
        x = self._sublayer(x, self.norm2, cross_attention)
        x = self._sublayer(x, self.norm3, lambda h: self.dropout3(self._feedforward(h)))
        self._cache = (tgt.shape, memory.shape)
        return x

    def backward(self, grad_out):
        tgt_shape, memory_shape = self._saved()
        grad = check_grad_out(self, grad_out, tgt_shape, self.norm1.dtype)
        grad_memory = []

        def cross_backward(g):
            grad_q, grad_k, grad_v = self.multihead_attn.backward(self.dropout2.backward(g))
            grad_memory.append(grad_k + grad_v)
            return grad_q

        def self_backward(g):
            grads = self.self_attn.backward(self.dropout1.backward(g))
            return grads[0] + grads[1] + grads[2]

        grad = self._sublayer_backward(grad, self.norm3, lambda g: self._feedforward_backward(self.dropout3.backward(g)))
        grad = self._sublayer_backward(grad, self.norm2, cross_backward)
        grad = self._sublayer_backward(grad, self.norm1, self_backward)
        return grad, grad_memory[0]


# ------------------------------------------------------------- positions
class PositionalEncoding(Module):
    """Adds Vaswani et al.'s fixed sinusoids to a sequence of embeddings (then dropout).

    Parameters
    ----------
    d_model : int
    max_len : int, default 5000
    dropout : float, default 0.0
    batch_first : bool, default False
        ``(S, N, E)`` input by default (PyTorch's tutorial layout), ``(N, S, E)`` with True.
    dtype : float32 (default) or float64
    rng : int, Generator or None (dropout masks)

    Notes
    -----
    For position ``p`` and ``i < d_model / 2``::

        pe[p, 2i] = sin(p / 10000^(2i / d_model))      pe[p, 2i + 1] = cos(p / 10000^(2i / d_model))

    ``y = dropout(x + pe[:S])``; ``pe`` is a buffer (state-dict key ``pe``, shape
    ``(max_len, d_model)``), not learned: ``dL/dx = dropout'(dL/dy)``. Every
    dimension pair is a rotation at its own frequency, so ``pe[p + k]`` is a
    fixed linear map of ``pe[p]`` and attention can read relative offsets.

    References
    ----------
    Vaswani et al. (2017), Attention is all you need, section 3.5.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, batch_first: bool = False,
                 dtype=None, rng: RngLike = None):
        super().__init__()
        self.d_model = check_int("d_model", d_model, minimum=1)
        self.max_len = check_int("max_len", max_len, minimum=1)
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = resolve_dtype(dtype)
        position = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
        frequency = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(position * frequency)
        pe[:, 1::2] = np.cos(position * frequency[: d_model // 2])
        self.register_buffer("pe", pe.astype(self.dtype))
        self.dropout = Dropout(dropout, rng=rng)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"

    def _positions(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"{type(self).__name__}: expected input of shape "
                             f"({'N, S' if self.batch_first else 'S, N'}, {self.d_model}), received {x.shape}")
        length = x.shape[1] if self.batch_first else x.shape[0]
        if length > self.max_len:
            raise ValueError(f"{type(self).__name__}: sequence of length {length} is longer than max_len={self.max_len}")
        return length

    def forward(self, x):
        x = as_float_input(self, x, self.dtype)
        length = self._positions(x)
        table = self.pe[:length]  # (S, E)
        return self.dropout(x + (table[None] if self.batch_first else table[:, None]))

    def backward(self, grad_out):
        return self.dropout.backward(grad_out)


class LearnedPositionalEncoding(PositionalEncoding):
    """Adds a learned vector per position (GPT's ``wpe``), then dropout.

    Parameters as :class:`PositionalEncoding`; the table is the parameter ``weight``
    of shape ``(max_len, d_model)``, drawn ``N(0, 0.02^2)`` (GPT-2's init).

    Notes
    -----
    ``y = dropout(x + W[:S])``; ``dL/dW[p] = sum over the batch of dL/d(x + W[:S])[p]``
    and ``dL/dx = dropout'(dL/dy)``.
    """

    def __init__(self, d_model: int, max_len: int = 1024, dropout: float = 0.0, batch_first: bool = False,
                 dtype=None, rng: RngLike = None):
        Module.__init__(self)
        self.d_model = check_int("d_model", d_model, minimum=1)
        self.max_len = check_int("max_len", max_len, minimum=1)
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        self.weight = Parameter(init.normal((max_len, d_model), 0.02, rng, self.dtype))
        self.dropout = Dropout(dropout, rng=rng)

    def forward(self, x):
        x = as_float_input(self, x, self.dtype)
        length = self._positions(x)
        table = self.weight.data[:length]  # (S, E)
        self._cache = length
        return self.dropout(x + (table[None] if self.batch_first else table[:, None]))

    def backward(self, grad_out):
        length = self._saved()
        grad = self.dropout.backward(grad_out)  # (N, S, E) or (S, N, E)
        if self.weight.requires_grad:
            self.weight.grad[:length] += grad.sum(axis=0 if self.batch_first else 1)
        return grad
