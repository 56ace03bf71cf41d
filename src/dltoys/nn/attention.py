"""Attention: scaled dot-product attention and ``MultiheadAttention`` (PyTorch's names and layouts).

The core, :func:`attend` and :func:`attend_backward`, works on ``(..., L, E)``
queries against ``(..., S, E)`` keys; ``MultiheadAttention`` projects its inputs,
splits the heads into a batch axis and calls it once for all of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_float, check_int, resolve_dtype
from . import init, parallel
from .linear import Linear
from .module import Module, Parameter, as_float_input, check_grad_out


# ------------------------------------------------------------------ the core
def attend(query, key, value, bias=None, scale=1.0, dropout_p=0.0, rng=None, out=None):
    """Softmax attention with its cache: ``softmax(q k^T * scale + bias) v``.

    Parameters
    ----------
    query : ndarray of shape (..., L, E)
    key : ndarray of shape (..., S, E)
    value : ndarray of shape (..., S, Ev)
    bias : ndarray broadcastable to (..., L, S), or None
        Added to the scores: ``-inf`` where a query may not look (masks become this).
    scale : float
    dropout_p : float
        Probability of zeroing each attention weight (survivors scaled by ``1/(1-p)``).
    rng : Generator, needed when ``dropout_p > 0``
    out : ndarray of shape (..., L, Ev), optional
        Where to write the result (a strided view into the caller's layout, say).

    Returns
    -------
    out : ndarray of shape (..., L, Ev)
    weights : ndarray of shape (..., L, S)
        The attention weights after dropout (what multiplies ``value``).
    cache : tuple for :func:`attend_backward`

    Notes
    -----
    Forward, with ``P`` the softmax and ``D`` the dropout mask (``D = 1`` without dropout)::

        A = scale * Q K^T + bias      P = softmax_rows(A)      W = P * D      O = W V

    Backward, with ``G = dL/dO`` (and ``dL/dW`` from outside, when the weights are an output)::

        dL/dV = W^T G          dL/dW = G V^T           dL/dP = D * dL/dW
        dL/dA = P * (dL/dP - rowsum(dL/dP * P))        (the softmax Jacobian)
        dL/dQ = scale * dL/dA K                        dL/dK = scale * dL/dA^T Q

    The softmax is computed in place in the score buffer (subtract the row
    maximum, exponentiate, divide by the row sum): one (L, S) array per head.
    """
    query = query * scale  # (..., L, E): scaling the smaller operand saves a pass over the scores
    scores = query @ np.swapaxes(key, -1, -2)  # (..., L, S)
    probs = _softmax_in_place(scores, bias)  # (..., L, S)
    if dropout_p > 0.0:
        if dropout_p >= 1.0:
            keep = np.zeros_like(probs)
        else:
            keep = (rng.random(probs.shape, dtype=probs.dtype) >= dropout_p).astype(probs.dtype)
            keep *= 1.0 / (1.0 - dropout_p)
        weights = probs * keep
    else:
        keep, weights = None, probs
    out = np.matmul(weights, value, out=out)  # (..., L, Ev)
    return out, weights, (query, key, value, probs, keep, weights, scale)


def _softmax_in_place(scores: np.ndarray, bias) -> np.ndarray:
    """``softmax(scores + bias)`` over the last axis, written into ``scores``; blocks of the leading
    axis on the threads of :mod:`~dltoys.nn.parallel` (rows are independent)."""
    full_bias = None if bias is None else np.broadcast_to(bias, scores.shape)
    ones = np.ones((scores.shape[-1], 1), dtype=scores.dtype)  # (S, 1)

    def block(start: int, stop: int) -> None:
        rows = scores[start:stop]
        if full_bias is not None:
            rows += full_bias[start:stop]
        rows -= rows.max(axis=-1, keepdims=True)  # the row maximum: exp never overflows
        np.exp(rows, out=rows)
        total = rows @ ones  # (..., L, 1): the row sums; a matmul beats .sum(-1) over short rows
        rows *= np.reciprocal(total, out=total)

    parallel.run_blocks(block, len(scores), scores[0].size)
    return scores


def attend_backward(cache, grad_out, grad_weights=None, out=None):
    """Gradients ``(dL/dquery, dL/dkey, dL/dvalue)`` of :func:`attend` (see its Notes).

    ``out``, optional: three arrays of the gradients' shapes to write them into
    (views into one packed buffer, say); returned as the result.
    """
    query, key, value, probs, keep, weights, scale = cache  # query is scale * Q
    grad_query, grad_key, grad_value = out if out is not None else (None, None, None)
    grad_value = np.matmul(np.swapaxes(weights, -1, -2), grad_out, out=grad_value)  # (..., S, Ev)
    grad_scores = grad_out @ np.swapaxes(value, -1, -2)  # (..., L, S): dL/dW
    if grad_weights is not None:
        grad_scores += grad_weights
    if keep is not None:
        grad_scores *= keep  # dL/dP

    def softmax_backward(start: int, stop: int) -> None:  # rows start:stop of the leading axis
        g, p = grad_scores[start:stop], probs[start:stop]
        inner = np.einsum("...ls,...ls->...l", g, p)[..., None]  # (..., L, 1)
        g -= inner
        g *= p  # dL/dA

    parallel.run_blocks(softmax_backward, len(grad_scores), grad_scores[0].size)
    grad_key = np.matmul(np.swapaxes(grad_scores, -1, -2), query, out=grad_key)  # (..., S, E), scale folded in query
    grad_query = np.matmul(grad_scores, key, out=grad_query)  # (..., L, E)
    grad_query *= scale
    return grad_query, grad_key, grad_value


def causal_bias(target_len: int, source_len: int, dtype) -> np.ndarray:
    """``(L, S)`` additive mask, ``-inf`` above the diagonal: query ``i`` sees keys ``0..i``."""
    return np.triu(np.full((target_len, source_len), -np.inf, dtype=dtype), k=1)


def _as_bias(mask: Any, name: str, dtype, masked_value: bool) -> np.ndarray:
    """A boolean or float mask as an additive float bias.

    ``masked_value`` is the boolean value that means "may not attend": True for
    ``MultiheadAttention`` (PyTorch's convention there), False for
    :func:`scaled_dot_product_attention` (True means "takes part" there).
    """
    mask = np.asarray(mask)
    if mask.dtype == bool:
        blocked = mask if masked_value else ~mask
        return np.where(blocked, dtype(-np.inf), dtype(0))
    if mask.dtype.kind == "f":
        return mask.astype(dtype, copy=False)
    raise TypeError(f"{name}: expected a bool or float mask, received dtype {mask.dtype}")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 rng: RngLike = None) -> np.ndarray:
    """``softmax(Q K^T / sqrt(E) + mask) V`` (``torch.nn.functional.scaled_dot_product_attention``).

    Parameters
    ----------
    query : ndarray of shape (..., L, E)
    key : ndarray of shape (..., S, E)
    value : ndarray of shape (..., S, Ev)
    attn_mask : bool or float ndarray broadcastable to (..., L, S), or None
        Boolean: True where a query **may** attend (PyTorch's convention for this
        function, the opposite of ``MultiheadAttention``'s). Float: added to the scores.
    dropout_p : float, default 0.0
        Dropout on the attention weights (always applied when > 0, as PyTorch).
    is_causal : bool, default False
        Query ``i`` attends to keys ``0..i`` (top-left aligned); ``attn_mask`` must be None.
    scale : float or None
        Default ``1 / sqrt(E)``.
    rng : int, Generator or None
        Source of the dropout mask.

    Returns
    -------
    ndarray of shape (..., L, Ev), in ``query``'s dtype.

    Notes
    -----
    A stateless function, as PyTorch's: the gradient formulas are those of
    :func:`attend` (Notes there), which ``MultiheadAttention`` runs with its cache.
    """
    query = np.asarray(query)
    if query.dtype.kind != "f":
        raise TypeError(f"query: expected a float array, received dtype {query.dtype}")
    dtype = query.dtype.type
    key, value = np.asarray(key, dtype=dtype), np.asarray(value, dtype=dtype)
    if query.ndim < 2 or key.ndim != query.ndim or value.ndim != query.ndim or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            "scaled_dot_product_attention: expected query (..., L, E), key (..., S, E), value (..., S, Ev); "
            f"received {query.shape}, {key.shape}, {value.shape}"
        )
    dropout_p = check_float("dropout_p", dropout_p, low=0.0, high=1.0)
    check_bool("is_causal", is_causal)
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
    bias = None
    if is_causal:
        bias = causal_bias(query.shape[-2], key.shape[-2], dtype)
    elif attn_mask is not None:
        bias = _as_bias(attn_mask, "attn_mask", dtype, masked_value=False)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else check_float("scale", scale)
    out, _, _ = attend(query, key, value, bias, dtype(scale), dropout_p, as_rng(rng) if dropout_p > 0 else None)
    return out


# --------------------------------------------------------- the module
class MultiheadAttention(Module):
    """Multi-head attention (``torch.nn.MultiheadAttention``).

    Parameters
    ----------
    embed_dim : int
        ``E``, the model width; split into ``num_heads`` heads of ``E / num_heads``.
    num_heads : int
    dropout : float, default 0.0
        Dropout on the attention weights, in training mode.
    bias : bool, default True
        ``in_proj_bias`` (3E,) and ``out_proj.bias``.
    add_bias_kv, add_zero_attn : bool, default False
        PyTorch's arguments; only False is implemented.
    kdim, vdim : int or None
        Feature sizes of ``key`` and ``value`` (default ``E``). When either differs
        from ``E`` the projections are three separate parameters
        ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight``
        (E, vdim), as PyTorch; otherwise one packed ``in_proj_weight`` (3E, E).
    batch_first : bool, default False
        PyTorch's default: inputs are ``(L, N, E)``; True takes ``(N, L, E)``.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights (Xavier-uniform projections, zero biases, ``out_proj`` as
        ``Linear``: PyTorch's init) and the dropout masks.

    Notes
    -----
    With ``X_q, X_k, X_v`` the inputs and, per head ``h``, ``Q_h = X_q W_q,h^T + b_q,h``
    (likewise ``K_h, V_h``)::

        head_h = softmax(Q_h K_h^T / sqrt(E / H) + mask) V_h
        out = concat_h(head_h) W_o^T + b_o

    The backward pass runs this in reverse: ``out_proj``'s backward, the
    attention core's (see :func:`attend`), then the projections'
    (``dL/dW_q = dL/dQ^T X_q``, ``dL/dX_q = dL/dQ W_q``, likewise for keys and
    values). Self-attention (``query is key is value``) projects with one
    ``(N L, E) x (E, 3E)`` matmul and forms the packed weight's gradient with one.
    Masks are added to the scores as ``-inf`` (boolean, True = may not attend) or
    as given (float): ``attn_mask`` (L, S) or (N * H, L, S), ``key_padding_mask`` (N, S).
    ``is_causal=True`` without an ``attn_mask`` builds the causal mask (PyTorch
    requires the mask with that hint; given both, the mask is used, as PyTorch).

    ``backward(grad_out)`` takes the output's gradient, or ``(grad_out, grad_weights)``
    when the returned weights feed the loss too, and returns
    ``(dL/dquery, dL/dkey, dL/dvalue)`` in the inputs' layouts (None when
    ``needs_input_grad`` is False).

    References
    ----------
    Vaswani et al. (2017), Attention is all you need.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype=None, rng: RngLike = None):
        super().__init__()
        self.embed_dim = check_int("embed_dim", embed_dim, minimum=1)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim: must be divisible by num_heads={num_heads}, received {embed_dim}")
        self.head_dim = embed_dim // num_heads
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0)
        check_bool("bias", bias)
        if check_bool("add_bias_kv", add_bias_kv) or check_bool("add_zero_attn", add_zero_attn):
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not implemented")
        self.kdim = embed_dim if kdim is None else check_int("kdim", kdim, minimum=1)
        self.vdim = embed_dim if vdim is None else check_int("vdim", vdim, minimum=1)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(init.xavier_uniform((3 * E, E), rng=rng, dtype=self.dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(init.xavier_uniform((E, E), rng=rng, dtype=self.dtype))
            self.k_proj_weight = Parameter(init.xavier_uniform((E, self.kdim), rng=rng, dtype=self.dtype))
            self.v_proj_weight = Parameter(init.xavier_uniform((E, self.vdim), rng=rng, dtype=self.dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=self.dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=self.dtype, rng=rng)
        if bias:
            self.out_proj.bias.data[...] = 0
        self.rng = rng

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, batch_first={self.batch_first}"

    # ----------------------------------------------------------- helpers
    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three projection matrices (views into the packed one when packed)."""
        if self._qkv_same_embed_dim:
            W = self.in_proj_weight.data
            E = self.embed_dim
            return W[:E], W[E:2 * E], W[2 * E:]
        return self.q_proj_weight.data, self.k_proj_weight.data, self.v_proj_weight.data

    def _check_inputs(self, query, key, value):
        query = as_float_input(self, query, self.dtype)
        key = query if key is query else as_float_input(self, key, self.dtype)
        value = key if value is key else as_float_input(self, value, self.dtype)
        unbatched = query.ndim == 2
        expected = 2 if unbatched else 3
        layout = "(L, E)" if unbatched else ("(N, L, E)" if self.batch_first else "(L, N, E)")
        problems = []
        for name, x, width in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if x.ndim != expected or x.shape[-1] != width:
                problems.append(f"{name} of shape {x.shape} (expected {expected} dimensions, last {width})")
        if not problems:
            seq_axis = 0 if unbatched or not self.batch_first else 1
            if key.shape[seq_axis] != value.shape[seq_axis]:
                problems.append(f"key and value of different lengths ({key.shape}, {value.shape})")
            if not unbatched and not (query.shape[1 - seq_axis] == key.shape[1 - seq_axis] == value.shape[1 - seq_axis]):
                problems.append(f"different batch sizes ({query.shape}, {key.shape}, {value.shape})")
        if problems:
            raise ValueError(f"MultiheadAttention({self.embed_dim}, {self.num_heads}): inputs are {layout}; received "
                             + "; ".join(problems))
        return query, key, value, unbatched

    def _to_batch_first(self, x: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return x[None]
        return x if self.batch_first else x.swapaxes(0, 1)

    def _from_batch_first(self, x: np.ndarray, unbatched: bool) -> np.ndarray:
        if unbatched:
            return x[0]
        return x if self.batch_first else x.swapaxes(0, 1)

    def _bias(self, attn_mask, key_padding_mask, is_causal, N, L, S):
        """The additive mask, broadcastable to (N, H, L, S), or None."""
        dtype = self.dtype.type
        H = self.num_heads
        bias = None
        if attn_mask is None and check_bool("is_causal", is_causal):
            attn_mask = causal_bias(L, S, dtype)  # PyTorch requires the mask with the hint; we build it
        if attn_mask is not None:
            bias = _as_bias(attn_mask, "attn_mask", dtype, masked_value=True)
            if bias.shape == (L, S):
                bias = bias[None, None]  # (1, 1, L, S)
            elif bias.shape == (N * H, L, S):
                bias = bias.reshape(N, H, L, S)
            else:
                raise ValueError(f"attn_mask: expected shape ({L}, {S}) or ({N * H}, {L}, {S}), received {bias.shape}")
        if key_padding_mask is not None:
            padding = _as_bias(key_padding_mask, "key_padding_mask", dtype, masked_value=True)
            if padding.shape != (N, S):
                if padding.shape == (S,) and N == 1:
                    padding = padding[None]
                else:
                    raise ValueError(f"key_padding_mask: expected shape ({N}, {S}), received {padding.shape}")
            padding = padding[:, None, None, :]  # (N, 1, 1, S)
            bias = padding if bias is None else bias + padding
        return bias

    def _split_heads(self, x2d: np.ndarray, N: int, length: int) -> np.ndarray:
        return x2d.reshape(N, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)  # (N, H, len, hd)

    # ----------------------------------------------------------- forward
    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from ``query`` to ``key``/``value``.

        Returns
        -------
        attn_output : ndarray of shape (L, N, E), or (N, L, E) with ``batch_first``, or (L, E) unbatched
        attn_weights : ndarray of shape (N, L, S) (averaged over heads), (N, H, L, S)
            with ``average_attn_weights=False``, or None with ``need_weights=False``;
            in training mode with ``dropout > 0``, the weights after dropout (as PyTorch)
        """
        self_attention = query is key and key is value
        query, key, value, unbatched = self._check_inputs(query, key, value)
        need_weights = check_bool("need_weights", need_weights)
        average_attn_weights = check_bool("average_attn_weights", average_attn_weights)
        q_in = self._to_batch_first(query, unbatched)  # (N, L, E)
        N, L, E = q_in.shape
        k_in = q_in if self_attention else self._to_batch_first(key, unbatched)  # (N, S, kdim)
        v_in = k_in if self_attention else self._to_batch_first(value, unbatched)  # (N, S, vdim)
        S = k_in.shape[1]
        bias = self._bias(attn_mask, key_padding_mask, is_causal, N, L, S)
        b = self.in_proj_bias.data if self.in_proj_bias is not None else None

        if self_attention and self._qkv_same_embed_dim:
            x2d = q_in.reshape(N * L, E)  # (N L, E)
            qkv = x2d @ self.in_proj_weight.data.T  # (N L, 3E)
            if b is not None:
                qkv += b
            # one copy to head-major (3, N, H, L, hd): the batched matmuls then read contiguous blocks
            qkv = np.ascontiguousarray(qkv.reshape(N, L, 3, self.num_heads, self.head_dim).transpose(2, 0, 3, 1, 4))
            q, k, v = qkv[0], qkv[1], qkv[2]
            inputs2d = (x2d,)
        else:
            Wq, Wk, Wv = self._weights()
            inputs2d = (q_in.reshape(N * L, E), k_in.reshape(N * S, self.kdim), v_in.reshape(N * S, self.vdim))
            heads = []
            for index, (x2d, W, length) in enumerate(zip(inputs2d, (Wq, Wk, Wv), (L, S, S))):
                projected = x2d @ W.T  # (N len, E)
                if b is not None:
                    projected += b[index * E:(index + 1) * E]
                heads.append(self._split_heads(projected, N, length))
            q, k, v = heads
        dropout_p = self.dropout if self.training else 0.0
        merged = np.empty((N, L, self.num_heads, self.head_dim), dtype=self.dtype)  # the heads side by side
        _, weights, core = attend(q, k, v, bias, self.dtype.type(1.0 / math.sqrt(self.head_dim)), dropout_p,
                                  self.rng, out=merged.transpose(0, 2, 1, 3))  # (N, H, L, hd), (N, H, L, S)
        merged = merged.reshape(N * L, E)  # (N L, E)
        out = self.out_proj(merged).reshape(N, L, E)
        self._cache = (core, inputs2d, self_attention and self._qkv_same_embed_dim, (N, L, S), unbatched,
                       (query.shape, key.shape, value.shape), need_weights, average_attn_weights)
        out = self._from_batch_first(out, unbatched)
        if not need_weights:
            return out, None
        returned = weights.mean(axis=1) if average_attn_weights else weights  # (N, L, S) or (N, H, L, S)
        return out, (returned[0] if unbatched else returned)

    # ---------------------------------------------------------- backward
    def backward(self, grad_out):
        core, inputs2d, packed, (N, L, S), unbatched, shapes, need_weights, averaged = self._saved()
        grad_weights = None
        if isinstance(grad_out, tuple):
            grad_out, grad_weights = grad_out
        grad_out = check_grad_out(self, grad_out, shapes[0], self.dtype)
        H, E = self.num_heads, self.embed_dim
        if grad_weights is not None:
            if not need_weights:
                raise ValueError("MultiheadAttention.backward: received a gradient for weights that forward did not return")
            shape = ((N, L, S) if averaged else (N, H, L, S))[1 if unbatched else 0:]
            grad_weights = check_grad_out(self, grad_weights, shape, self.dtype).reshape(N, -1, L, S)
            if averaged:
                grad_weights = np.broadcast_to(grad_weights * self.dtype.type(1.0 / H), (N, H, L, S))
        g = self._to_batch_first(grad_out, unbatched).reshape(N * L, E)  # (N L, E)
        grad_merged = self.out_proj.backward(g)  # (N L, E)
        grad_heads = grad_merged.reshape(N, L, H, self.head_dim).transpose(0, 2, 1, 3)  # (N, H, L, hd)
        def merge(grad, length):
            return grad.transpose(0, 2, 1, 3).reshape(N * length, E)  # (N len, E)

        bias = self.in_proj_bias
        if packed:
            # the three gradients written straight into (N, L, 3, H, hd): (N L, 3E) with no concatenation
            grad_qkv = np.empty((N, L, 3, H, self.head_dim), dtype=grad_merged.dtype)
            heads_view = grad_qkv.transpose(2, 0, 3, 1, 4)  # (3, N, H, L, hd)
            attend_backward(core, grad_heads, grad_weights, out=(heads_view[0], heads_view[1], heads_view[2]))
            grad_qkv = grad_qkv.reshape(N * L, 3 * E)
            (x2d,) = inputs2d
            if self.in_proj_weight.requires_grad:
                self.in_proj_weight.grad += grad_qkv.T @ x2d  # (3E, E)
            if bias is not None and bias.requires_grad:
                bias.grad += np.ones(len(grad_qkv), dtype=grad_qkv.dtype) @ grad_qkv
            if not self.needs_input_grad:
                return None
            W = self.in_proj_weight.data
            grads2d = [grad_qkv[:, i * E:(i + 1) * E] @ W[i * E:(i + 1) * E] for i in range(3)]
        else:
            grad_q, grad_k, grad_v = attend_backward(core, grad_heads, grad_weights)  # (N, H, len, hd) each
            grads_proj = (merge(grad_q, L), merge(grad_k, S), merge(grad_v, S))
            if self._qkv_same_embed_dim:
                params = [(self.in_proj_weight, slice(i * E, (i + 1) * E)) for i in range(3)]
            else:
                params = [(p, slice(None)) for p in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)]
            grads2d = []
            for index, ((param, rows), grad, x2d) in enumerate(zip(params, grads_proj, inputs2d)):
                if param.requires_grad:
                    param.grad[rows] += grad.T @ x2d
                if bias is not None and bias.requires_grad:
                    bias.grad[index * E:(index + 1) * E] += np.ones(len(grad), dtype=grad.dtype) @ grad
                grads2d.append(grad @ param.data[rows] if self.needs_input_grad else None)
            if not self.needs_input_grad:
                return None
        lengths = (L, S, S)
        return tuple(
            self._from_batch_first(grad.reshape(N, length, -1), unbatched).reshape(shape)
            for grad, length, shape in zip(grads2d, lengths, shapes)
        )
