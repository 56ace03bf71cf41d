"""Message passing on graphs: the edge bookkeeping, ``MessagePassing``, ``GCNConv`` and ``SAGEConv``.

Names, arguments, parameter layouts and ``state_dict()`` keys follow PyTorch
Geometric. A layer is called as ``conv(x, edge_index)``: ``x`` of shape
``(N, F)``, ``edge_index`` an integer array of shape ``(2, E)`` whose column
``(j, i)`` sends a message from node ``j`` (source) to node ``i`` (destination),
PyG's ``flow="source_to_target"``. An undirected graph lists both directions.

How the sums over edges are done without a Python loop or ``np.add.at``: the
edges are sorted by destination once (:class:`EdgeIndex`), so the messages
arriving at one node are one contiguous segment and ``np.add.reduceat`` (or
``np.maximum.reduceat``) reduces every segment in one call. The backward pass
of a gather ``x[src]`` is a sum by *source*, done the same way with a second
sort. ``backward`` returns ``(dL/dx, None)``: one entry per input, as every module
with several inputs does, and ``edge_index`` is data (``(None, None)`` when
``needs_input_grad`` is False).

References
----------
Gilmer et al. (2017), Neural message passing for quantum chemistry.
Fey & Lenssen (2019), Fast graph representation learning with PyTorch Geometric.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_choice, check_int, resolve_dtype
from . import init
from .linear import Linear
from .module import Module, Parameter, check_grad_out


# ------------------------------------------------------------------ edges
def check_edge_index(owner: str, edge_index: Any, n_nodes: int) -> np.ndarray:
    """``edge_index`` as an int64 array of shape ``(2, E)`` with entries in ``[0, n_nodes)``, or a clear error."""
    array = np.asarray(edge_index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{owner}: edge_index must hold integers, received dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] != 2:
        raise ValueError(f"{owner}: expected edge_index of shape (2, E), received {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= n_nodes):
        raise ValueError(
            f"{owner}: edge_index entries must lie in [0, {n_nodes}) for x with {n_nodes} nodes, "
            f"received values from {array.min()} to {array.max()}"
        )
    return array.astype(np.int64, copy=False)


def remove_self_loops(edge_index: np.ndarray, edge_weight: np.ndarray | None = None):
    """Drop every column ``(i, i)`` (PyG's ``remove_self_loops``); returns ``(edge_index, edge_weight)``."""
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (None if edge_weight is None else edge_weight[keep])


def add_self_loops(edge_index: np.ndarray, n_nodes: int) -> np.ndarray:
    """Append ``(i, i)`` for every node ``i`` (PyG's ``add_self_loops``)."""
    loops = np.arange(n_nodes, dtype=edge_index.dtype)
    return np.concatenate([edge_index, np.stack([loops, loops])], axis=1)


def add_remaining_self_loops(edge_index: np.ndarray, edge_weight: np.ndarray | None, n_nodes: int, fill: float = 1.0):
    """One self-loop per node, PyG's ``add_remaining_self_loops``.

    Existing self-loops are dropped and ``(i, i)`` appended for every node; with
    weights, a node that had a self-loop keeps its (last) weight, the others get ``fill``.
    """
    keep = edge_index[0] != edge_index[1]
    loops = np.arange(n_nodes, dtype=edge_index.dtype)
    out_index = np.concatenate([edge_index[:, keep], np.stack([loops, loops])], axis=1)
    if edge_weight is None:
        return out_index, None
    loop_weight = np.full(n_nodes, fill, dtype=edge_weight.dtype)
    loop_weight[edge_index[0, ~keep]] = edge_weight[~keep]  # plain assignment: the last duplicate wins
    return out_index, np.concatenate([edge_weight[keep], loop_weight])


class Segments:
    """Items grouped by an integer key in ``[0, n)``, for reductions by key without ``np.add.at``.

    ``order`` sorts the items by key (stably); the items of key ``k`` are then
    ``sorted[starts[k]:starts[k] + counts[k]]``. Keys without items get 0.

    Parameters
    ----------
    keys : int array of shape (E,)
    n : int
        The number of keys (nodes).
    presorted : bool
        The keys are already in ascending order (``order`` is the identity).
    """

    def __init__(self, keys: np.ndarray, n: int, presorted: bool = False):
        self.n = n
        self.order = None if presorted else np.argsort(keys, kind="stable")
        self.counts = np.bincount(keys, minlength=n)  # (n,)
        self.present = np.flatnonzero(self.counts)  # keys with at least one item
        self.starts = (np.cumsum(self.counts) - self.counts)[self.present]

    def _sorted(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """``out[k] = sum of values[e] over items e with key k``; values ``(E, *F)`` -> ``(n, *F)``."""
        out = np.zeros((self.n, *values.shape[1:]), dtype=values.dtype)
        if self.present.size:
            out[self.present] = np.add.reduceat(self._sorted(values), self.starts, axis=0)
        return out

    def max(self, values: np.ndarray) -> np.ndarray:
        """``out[k] = max of values[e] over items e with key k`` (0 for a key without items, as PyG)."""
        out = np.zeros((self.n, *values.shape[1:]), dtype=values.dtype)
        if self.present.size:
            out[self.present] = np.maximum.reduceat(self._sorted(values), self.starts, axis=0)
        return out


class EdgeIndex:
    """A graph's edges sorted by destination, with the segments every layer reduces over.

    Attributes
    ----------
    src, dst : int64 arrays of shape (E,)
        Sources and destinations, sorted by destination (stably: parallel
        edges keep their order).
    order : int64 array of shape (E,)
        ``src = edge_index[0][order]``: where each sorted edge came from.
    by_dst, by_src : Segments
        Reductions onto destinations (aggregation) and onto sources (the
        backward pass of gathering ``x[src]``).
    in_degree : int64 array of shape (N,)
    """

    def __init__(self, edge_index: np.ndarray, n_nodes: int):
        self.n_nodes = n_nodes
        self.order = np.argsort(edge_index[1], kind="stable")
        self.src = edge_index[0][self.order]
        self.dst = edge_index[1][self.order]
        self.by_dst = Segments(self.dst, n_nodes, presorted=True)
        self.by_src = Segments(self.src, n_nodes)
        self.in_degree = self.by_dst.counts

    @property
    def n_edges(self) -> int:
        return len(self.src)


# ------------------------------------------------------------------ base
class MessagePassing(Module):
    """Base of the graph layers: gather ``x[src]``, weight, reduce onto ``dst``.

    Parameters
    ----------
    aggr : 'add', 'sum', 'mean' or 'max', default 'add'
        How the messages arriving at a node are combined; a node without
        incoming edges gets 0 (PyG's convention).

    Notes
    -----
    :meth:`propagate` computes, for every node ``i``, with ``N(i)`` its incoming
    edges ``e = (j, i)`` and ``w_e`` an optional edge weight::

        out_i = AGGR_{e in N(i)} w_e x_j

    and :meth:`propagate_backward` the gradient of ``x`` (the transpose: a sum
    by source). With ``G = dL/d out``:

    - add: ``dL/dx_j = sum_{e=(j,i)} w_e G_i``
    - mean: the same with ``w_e / |N(i)|``
    - max: ``G_i`` goes to the maximising message (split evenly between ties,
      as ``torch.scatter_reduce``'s ``amax`` does).
    """

    def __init__(self, aggr: str = "add"):
        super().__init__()
        self.aggr = check_choice("aggr", aggr, ("add", "sum", "mean", "max"))

    def propagate(self, edges: EdgeIndex, x: np.ndarray, edge_weight: np.ndarray | None = None):
        """Aggregated messages ``(N, *F)`` and the context :meth:`propagate_backward` needs."""
        messages = x[edges.src]  # (E, *F)
        if edge_weight is not None:
            messages *= edge_weight.reshape(-1, *([1] * (x.ndim - 1)))
        if self.aggr == "max":
            out = edges.by_dst.max(messages)  # (N, *F)
            winners = (messages == out[edges.dst]).astype(x.dtype)  # (E, *F)
            ties = edges.by_dst.sum(winners)
            winners /= np.maximum(ties, 1)[edges.dst]
            return out, (edge_weight, winners)
        out = edges.by_dst.sum(messages)
        scale = None
        if self.aggr == "mean":
            scale = (1 / np.maximum(edges.in_degree, 1)).astype(x.dtype)  # (N,)
            out *= scale.reshape(-1, *([1] * (x.ndim - 1)))
        return out, (edge_weight, scale)

    def propagate_backward(self, edges: EdgeIndex, grad_out: np.ndarray, context) -> np.ndarray:
        """``dL/dx`` from ``dL/d out`` (both ``(N, *F)``)."""
        edge_weight, extra = context
        shape = (-1, *([1] * (grad_out.ndim - 1)))
        if self.aggr == "mean":
            grad_out = grad_out * extra.reshape(shape)
        grad_messages = grad_out[edges.dst]  # (E, *F)
        if self.aggr == "max":
            grad_messages *= extra
        if edge_weight is not None:
            grad_messages *= edge_weight.reshape(shape)
        return edges.by_src.sum(grad_messages)

    def _check_x(self, x: Any, in_features: int) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != in_features:
            raise ValueError(f"{self!r}: expected x of shape (N, {in_features}), received {x.shape}")
        return x


# ------------------------------------------------------------------ GCN
class GCNConv(MessagePassing):
    r"""Graph convolution of Kipf & Welling (2017) (``torch_geometric.nn.GCNConv``).

    Parameters
    ----------
    in_channels, out_channels : int
    improved : bool, default False
        Self-loops of weight 2 instead of 1.
    cached : bool, default False
        Normalise the graph on the first call and reuse it afterwards (for a
        fixed graph, as in transductive training); the cache keeps the first
        graph whatever ``edge_index`` later calls pass.
    add_self_loops : bool or None, default None (= ``normalize``)
    normalize : bool, default True
        Symmetric normalisation ``D^-1/2 (A + I) D^-1/2``; without it the layer
        sums its neighbours' messages.
    bias : bool, default True
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Source of the Glorot-uniform weight (PyG's initialisation); the bias starts at 0.

    Shapes
    ------
    ``forward(x, edge_index, edge_weight=None)``: ``x`` ``(N, in_channels)``,
    ``edge_index`` ``(2, E)``, ``edge_weight`` ``(E,)`` or None -> ``(N, out_channels)``.
    ``lin.weight`` is ``(out_channels, in_channels)``, ``bias`` ``(out_channels,)``.

    Notes
    -----
    With ``A`` the weighted adjacency (``A_ij = w`` for an edge ``j -> i``, parallel
    edges adding up), ``Â = A + I`` (existing self-loops replaced by one loop, PyG's
    ``add_remaining_self_loops``) and ``d_i = sum_j Â_ij`` (in-degree)::

        H = X Θ^T                  Y = D^-1/2 Â D^-1/2 H + b = P H + b

    with ``P_ij = d_i^-1/2 Â_ij d_j^-1/2`` (0 where ``d = 0``). Backward, with ``G = dL/dY``::

        dL/db = sum_i G_i      dL/dH = P^T G      dL/dΘ = (dL/dH)^T X      dL/dX = (dL/dH) Θ

    References
    ----------
    Kipf & Welling (2017), Semi-supervised classification with graph convolutional networks.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        improved: bool = False,
        cached: bool = False,
        add_self_loops: bool | None = None,
        normalize: bool = True,
        bias: bool = True,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__(aggr="add")
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.improved = check_bool("improved", improved)
        self.cached = check_bool("cached", cached)
        self.normalize = check_bool("normalize", normalize)
        self.add_self_loops = self.normalize if add_self_loops is None else check_bool("add_self_loops", add_self_loops)
        if self.add_self_loops and not self.normalize:
            raise ValueError("GCNConv: add_self_loops=True needs normalize=True (as in PyG)")
        rng = as_rng(rng)
        self.dtype = resolve_dtype(dtype)
        # bias first: PyG registers its own parameters before the child's (named_parameters order)
        self.bias = Parameter(np.zeros(out_channels, dtype=self.dtype)) if check_bool("bias", bias) else None
        self.lin = Linear(in_channels, out_channels, bias=False, dtype=self.dtype, rng=rng)
        self.lin.weight.data[...] = init.xavier_uniform((out_channels, in_channels), rng=rng, dtype=self.dtype)
        self._cached_graph = None

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"

    def _graph(self, edge_index: Any, edge_weight: Any, n_nodes: int):
        """The sorted edges and their normalised weights ``P_ij`` (None: all 1)."""
        if self.cached and self._cached_graph is not None:
            return self._cached_graph
        edge_index = check_edge_index("GCNConv", edge_index, n_nodes)
        if edge_weight is not None:
            edge_weight = np.asarray(edge_weight, dtype=self.dtype)
            if edge_weight.shape != (edge_index.shape[1],):
                raise ValueError(
                    f"GCNConv: expected edge_weight of shape ({edge_index.shape[1]},), received {edge_weight.shape}"
                )
        if self.normalize:
            if self.add_self_loops:
                edge_index, edge_weight = add_remaining_self_loops(
                    edge_index, edge_weight, n_nodes, 2.0 if self.improved else 1.0
                )
                if edge_weight is None and self.improved:
                    edge_weight = np.where(edge_index[0] == edge_index[1], 2.0, 1.0).astype(self.dtype)
            edges = EdgeIndex(edge_index, n_nodes)
            weight = np.ones(edges.n_edges, self.dtype) if edge_weight is None else edge_weight[edges.order]
            degree = edges.by_dst.sum(weight)  # (N,)
            with np.errstate(divide="ignore"):
                inv_sqrt = np.where(degree > 0, 1 / np.sqrt(degree), 0).astype(self.dtype)
            weight = inv_sqrt[edges.src] * weight * inv_sqrt[edges.dst]  # (E,)
        else:
            edges = EdgeIndex(edge_index, n_nodes)
            weight = None if edge_weight is None else edge_weight[edges.order]
        graph = (edges, weight)
        if self.cached:
            self._cached_graph = graph
        return graph

    def forward(self, x: np.ndarray, edge_index: Any, edge_weight: Any = None) -> np.ndarray:
        x = self._check_x(x, self.in_channels)
        edges, weight = self._graph(edge_index, edge_weight, len(x))
        if weight is not None and weight.dtype != self.dtype:  # a cached graph from before .to(dtype)
            weight = weight.astype(self.dtype)
        hidden = self.lin(x)  # (N, out)
        out, context = self.propagate(edges, hidden, weight)  # (N, out)
        if self.bias is not None:
            out += self.bias.data
        self._cache = (edges, context, out.shape)
        return out

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray | None, None]:
        edges, context, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, self.dtype)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += grad_out.sum(axis=0)
        grad_hidden = self.propagate_backward(edges, grad_out, context)  # (N, out)
        self.lin.needs_input_grad = self.needs_input_grad
        return self.lin.backward(grad_hidden), None  # edge_index (and edge_weight) have no gradient


# ------------------------------------------------------------------ GraphSAGE
class SAGEConv(MessagePassing):
    r"""GraphSAGE layer of Hamilton et al. (2017) (``torch_geometric.nn.SAGEConv``).

    Parameters
    ----------
    in_channels, out_channels : int
    aggr : 'mean' (default), 'max', 'add' or 'sum'
    root_weight : bool, default True
        Add the node's own transformed features ``lin_r(x_i)``.
    bias : bool, default True
        The bias of ``lin_l``.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Source of the initial weights (``torch.nn.Linear``'s default, as PyG).

    Shapes
    ------
    ``x`` ``(N, in_channels)``, ``edge_index`` ``(2, E)`` -> ``(N, out_channels)``;
    ``lin_l.weight``, ``lin_r.weight`` ``(out_channels, in_channels)``, ``lin_l.bias`` ``(out_channels,)``.

    Notes
    -----
    ::

        m_i = AGGR_{(j, i)} x_j            y_i = W_l m_i + b + W_r x_i

    (``m_i = 0`` for a node without incoming edges). Backward: ``dL/dm = G W_l``,
    ``dL/dx = propagate^T(dL/dm) + G W_r`` (see :class:`MessagePassing`).

    References
    ----------
    Hamilton, Ying & Leskovec (2017), Inductive representation learning on large graphs.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        aggr: str = "mean",
        root_weight: bool = True,
        bias: bool = True,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__(aggr=aggr)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.root_weight = check_bool("root_weight", root_weight)
        rng = as_rng(rng)
        self.lin_l = Linear(in_channels, out_channels, bias=check_bool("bias", bias), dtype=dtype, rng=rng)
        self.dtype = self.lin_l.dtype
        self.lin_r = Linear(in_channels, out_channels, bias=False, dtype=dtype, rng=rng) if self.root_weight else None

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}"

    def forward(self, x: np.ndarray, edge_index: Any) -> np.ndarray:
        x = self._check_x(x, self.in_channels).astype(self.dtype, copy=False)
        edges = EdgeIndex(check_edge_index("SAGEConv", edge_index, len(x)), len(x))
        aggregated, context = self.propagate(edges, x)  # (N, in)
        out = self.lin_l(aggregated)  # (N, out)
        if self.lin_r is not None:
            out += self.lin_r(x)
        self._cache = (edges, context, out.shape)
        return out

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray | None, None]:
        edges, context, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, self.dtype)
        self.lin_l.needs_input_grad = self.needs_input_grad
        grad_aggregated = self.lin_l.backward(grad_out)  # (N, in)
        if self.lin_r is not None:
            self.lin_r.needs_input_grad = self.needs_input_grad
            grad_root = self.lin_r.backward(grad_out)
        if not self.needs_input_grad:
            return None, None
        grad_x = self.propagate_backward(edges, grad_aggregated, context)
        if self.lin_r is not None:
            grad_x += grad_root
        return grad_x, None
