"""Graph attention: ``GATConv`` (Veličković et al. 2018) with PyTorch Geometric's names and layout.

The attention of every edge is a softmax over the edges arriving at the same
node: a *segment* softmax, computed on the edges sorted by destination (see
:mod:`dltoys.nn.graph`) with one ``np.maximum.reduceat`` and one ``np.add.reduceat``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_float, check_int
from . import init
from .graph import EdgeIndex, MessagePassing, Segments, add_self_loops, check_edge_index, remove_self_loops
from .linear import Linear
from .module import Parameter, check_grad_out


def segment_softmax(scores: np.ndarray, segments: Segments, keys: np.ndarray) -> np.ndarray:
    """Softmax of ``scores`` ``(E, *F)`` within each group of equal ``keys`` (PyG's ``utils.softmax``).

    ``alpha_e = exp(s_e - m_k) / sum_{e' in k} exp(s_e' - m_k)`` with ``m_k`` the
    group's maximum, so no exponential overflows.
    """
    shifted = scores - segments.max(scores)[keys]
    np.exp(shifted, out=shifted)
    return shifted / segments.sum(shifted)[keys]


class GATConv(MessagePassing):
    r"""Graph attention layer (``torch_geometric.nn.GATConv``).

    Parameters
    ----------
    in_channels, out_channels : int
        ``out_channels`` per head.
    heads : int, default 1
    concat : bool, default True
        Concatenate the heads (``(N, heads * out_channels)``) or average them (``(N, out_channels)``).
    negative_slope : float, default 0.2
        Of the LeakyReLU applied to the attention scores.
    dropout : float in [0, 1), default 0
        Dropout on the normalised attention coefficients, in training mode.
    add_self_loops : bool, default True
        Remove existing self-loops, then give every node one (it attends to itself).
    bias : bool, default True
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Source of the Glorot-uniform weights (PyG's initialisation; bias 0) and of
        the attention-dropout masks.

    Shapes
    ------
    ``x`` ``(N, in_channels)``, ``edge_index`` ``(2, E)`` -> ``(N, heads * out_channels)`` or ``(N, out_channels)``;
    ``lin.weight`` ``(heads * out_channels, in_channels)``, ``att_src``, ``att_dst``
    ``(1, heads, out_channels)``, ``bias`` ``(heads * out_channels,)`` or ``(out_channels,)``.

    Notes
    -----
    Per head ``h`` (dropping the index), for an edge ``e = (j, i)``::

        z = x Θ^T                                    (N, H, C)
        s_e = LeakyReLU(a_src . z_j + a_dst . z_i)
        α_e = exp(s_e) / sum_{e' = (k, i)} exp(s_e')  (softmax over i's incoming edges)
        y_i = sum_{e = (j, i)} dropout(α_e) z_j       (concat or mean over heads) + b

    Backward, with ``g_i = dL/dy_i`` for the head and ``ᾱ_e = dropout(α_e)``, ``M_e`` its mask::

        dL/dz_j  += sum_{e=(j,i)} ᾱ_e g_i
        dL/dα_e   = M_e (g_i . z_j)
        dL/ds_e   = α_e (dL/dα_e - sum_{e'=(k,i)} α_e' dL/dα_e')       (softmax)
        dL/dt_e   = dL/ds_e * (1 if t_e > 0 else negative_slope)        (t_e the LeakyReLU input)
        dL/da_src = sum_j (sum_{e=(j,.)} dL/dt_e) z_j   and  dL/dz_j += (sum_{e=(j,.)} dL/dt_e) a_src
        dL/da_dst = sum_i (sum_{e=(.,i)} dL/dt_e) z_i   and  dL/dz_i += (sum_{e=(.,i)} dL/dt_e) a_dst
        dL/dΘ = (dL/dz)^T x        dL/dx = (dL/dz) Θ

    References
    ----------
    Veličković et al. (2018), Graph attention networks.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__(aggr="add")
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.heads = check_int("heads", heads, minimum=1)
        self.concat = check_bool("concat", concat)
        self.negative_slope = check_float("negative_slope", negative_slope, low=0.0)
        self.dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        self.add_self_loops = check_bool("add_self_loops", add_self_loops)
        self.rng = as_rng(rng)
        total = heads * out_channels
        lin = Linear(in_channels, total, bias=False, dtype=dtype, rng=self.rng)
        self.dtype = lin.dtype
        lin.weight.data[...] = init.xavier_uniform((total, in_channels), rng=self.rng, dtype=self.dtype)
        bound = math.sqrt(6.0 / (heads + out_channels))  # PyG's glorot on a (1, heads, out) tensor
        # PyG's order of named_parameters: its own (att_src, att_dst, bias), then the child's (lin.weight)
        self.att_src = Parameter(init.uniform((1, heads, out_channels), bound, self.rng, self.dtype))
        self.att_dst = Parameter(init.uniform((1, heads, out_channels), bound, self.rng, self.dtype))
        bias_size = total if concat else out_channels
        self.bias = Parameter(np.zeros(bias_size, dtype=self.dtype)) if check_bool("bias", bias) else None
        self.lin = lin

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"

    def forward(self, x: np.ndarray, edge_index: Any) -> np.ndarray:
        x = self._check_x(x, self.in_channels)
        n_nodes, heads, channels = len(x), self.heads, self.out_channels
        edge_index = check_edge_index("GATConv", edge_index, n_nodes)
        if self.add_self_loops:
            edge_index = add_self_loops(remove_self_loops(edge_index)[0], n_nodes)
        edges = EdgeIndex(edge_index, n_nodes)
        src, dst = edges.src, edges.dst

        z = self.lin(x).reshape(n_nodes, heads, channels)  # (N, H, C)
        score_src = np.einsum("nhc,hc->nh", z, self.att_src.data[0])  # (N, H)
        score_dst = np.einsum("nhc,hc->nh", z, self.att_dst.data[0])  # (N, H)
        pre = score_src[src] + score_dst[dst]  # (E, H)
        slope = np.where(pre > 0, 1, self.negative_slope).astype(self.dtype)  # (E, H)
        alpha = segment_softmax(pre * slope, edges.by_dst, dst)  # (E, H)
        mask = None
        if self.training and self.dropout > 0:
            mask = (self.rng.random(alpha.shape, dtype=self.dtype) >= self.dropout).astype(self.dtype)
            mask *= 1 / (1 - self.dropout)
        kept = alpha if mask is None else alpha * mask  # (E, H)
        out = edges.by_dst.sum(kept[:, :, None] * z[src])  # (N, H, C)
        out = out.reshape(n_nodes, heads * channels) if self.concat else out.mean(axis=1)
        if self.bias is not None:
            out += self.bias.data
        self._cache = (edges, z, slope, alpha, mask, kept, out.shape)
        return out

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray | None, None]:
        edges, z, slope, alpha, mask, kept, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, self.dtype)
        src, dst = edges.src, edges.dst
        n_nodes, heads, channels = z.shape
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += grad_out.sum(axis=0)
        if self.concat:
            grad_heads = grad_out.reshape(n_nodes, heads, channels)  # (N, H, C)
        else:
            grad_heads = np.broadcast_to(grad_out[:, None, :] / heads, (n_nodes, heads, channels))
        grad_messages = grad_heads[dst]  # (E, H, C)
        grad_z = edges.by_src.sum(kept[:, :, None] * grad_messages)  # (N, H, C)
        grad_kept = np.einsum("ehc,ehc->eh", grad_messages, z[src])  # (E, H)
        grad_alpha = grad_kept if mask is None else grad_kept * mask
        weighted = alpha * grad_alpha
        grad_pre = (weighted - alpha * edges.by_dst.sum(weighted)[dst]) * slope  # (E, H)
        grad_score_src = edges.by_src.sum(grad_pre)  # (N, H)
        grad_score_dst = edges.by_dst.sum(grad_pre)  # (N, H)
        if self.att_src.requires_grad:
            self.att_src.grad += np.einsum("nh,nhc->hc", grad_score_src, z)[None]
        if self.att_dst.requires_grad:
            self.att_dst.grad += np.einsum("nh,nhc->hc", grad_score_dst, z)[None]
        grad_z += grad_score_src[:, :, None] * self.att_src.data + grad_score_dst[:, :, None] * self.att_dst.data
        self.lin.needs_input_grad = self.needs_input_grad
        return self.lin.backward(grad_z.reshape(n_nodes, heads * channels)), None  # edge_index: no gradient
