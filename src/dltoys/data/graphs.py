"""Graphs as plain arrays: a :class:`Graph` record, Zachary's karate club, stochastic block
models and Cora (from the Planetoid files a user downloads).

A graph is its node count and an ``edge_index`` of shape (2, E), PyTorch
Geometric's layout: column ``e`` is the directed edge ``edge_index[0, e] ->
edge_index[1, e]`` (source, destination). An undirected graph stores each edge
once in each direction.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dltoys.utils import RngLike, as_rng, check_bool, check_float, check_int, resolve_dtype

#: PyTorch Geometric's four karate-club communities (``torch_geometric.datasets.KarateClub``),
#: found by modularity-based clustering as in Kipf & Welling (2017), node by node.
KARATE_COMMUNITIES = (
    1, 1, 1, 1, 3, 3, 3, 1, 0, 1, 3, 1, 1, 1, 0, 0, 3, 1, 0, 1, 0, 1,
    0, 0, 2, 2, 0, 0, 2, 0, 0, 2, 0, 0,
)


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph with optional node features and labels.

    Attributes
    ----------
    n_nodes : int
    edge_index : ndarray of shape (2, E), int64
        Directed edges (source row 0, destination row 1); undirected graphs hold
        both directions.
    x : ndarray of shape (n_nodes, n_features) or None
        Node features.
    y : ndarray of shape (n_nodes,), int64, or None
        Node labels.
    extra : dict
        Other per-node arrays (other labelings, masks, names).
    """

    n_nodes: int
    edge_index: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (columns of ``edge_index``)."""
        return int(self.edge_index.shape[1])

    def adjacency(self, dtype: Any = None) -> np.ndarray:
        """The dense adjacency matrix ``A[i, j] = number of edges i -> j``, of shape (N, N)."""
        adjacency = np.zeros((self.n_nodes, self.n_nodes), dtype=resolve_dtype(dtype))
        flat = self.edge_index[0] * self.n_nodes + self.edge_index[1]  # (E,)
        counts = np.bincount(flat, minlength=self.n_nodes * self.n_nodes)
        adjacency += counts.reshape(self.n_nodes, self.n_nodes).astype(adjacency.dtype)
        return adjacency


def undirected_edge_index(edges: np.ndarray, n_nodes: int) -> np.ndarray:
    """Both directions of each undirected edge, sorted by (source, destination).

    Parameters
    ----------
    edges : ndarray of shape (E, 2)
        Each undirected edge once.
    n_nodes : int

    Returns
    -------
    ndarray of shape (2, 2E), int64
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    both = np.concatenate([edges, edges[:, ::-1]])  # (2E, 2)
    order = np.lexsort((both[:, 1], both[:, 0]))
    return np.ascontiguousarray(both[order].T)


def load_karate_club(*, features: bool = True, dtype: Any = None) -> Graph:
    """Zachary's karate club (1977): 34 members, 78 friendships, the club's split.

    networkx ships the graph and each member's club after the split; networkx is
    imported only when this function runs.

    Parameters
    ----------
    features : bool, default True
        Give each node a one-hot identity feature (``x`` = the 34x34 identity,
        as PyTorch Geometric's ``KarateClub`` does); False leaves ``x`` None.
    dtype : float32 or float64
        Dtype of ``x``.

    Returns
    -------
    Graph
        ``edge_index`` (2, 156) int64 (both directions), ``y`` the club each
        member joined (0: Mr. Hi's, 1: the Officer's), ``extra["communities"]``
        PyTorch Geometric's four communities (int64, (34,)), ``extra["leaders"]``
        the two leaders' node ids ``(0, 33)`` (Mr. Hi and the Officer, John A.).

    References
    ----------
    W. W. Zachary, "An information flow model for conflict and fission in small
    groups", Journal of Anthropological Research 33(4), 1977.
    """
    features = check_bool("features", features)
    import networkx as nx

    karate = nx.karate_club_graph()
    n_nodes = karate.number_of_nodes()
    edge_index = undirected_edge_index(np.array(sorted(karate.edges()), dtype=np.int64), n_nodes)
    club = np.array([0 if karate.nodes[node]["club"] == "Mr. Hi" else 1 for node in range(n_nodes)], dtype=np.int64)
    x = np.eye(n_nodes, dtype=resolve_dtype(dtype)) if features else None
    extra = {"communities": np.array(KARATE_COMMUNITIES, dtype=np.int64), "leaders": (0, 33)}
    return Graph(n_nodes=n_nodes, edge_index=edge_index, x=x, y=club, extra=extra)


def make_sbm(
    block_sizes: Any,
    edge_probs: Any,
    *,
    n_features: int = 0,
    class_sep: float = 1.0,
    rng: RngLike = None,
    dtype: Any = None,
) -> Graph:
    """A stochastic block model: nodes in blocks, edges drawn independently by block pair.

    Parameters
    ----------
    block_sizes : sequence of int, of length B
        Nodes per block; the nodes of block 0 come first, then block 1, ...
    edge_probs : array_like of shape (B, B), symmetric, entries in [0, 1]
        ``edge_probs[a, b]`` is the probability of an edge between a node of
        block ``a`` and a node of block ``b`` (``p_in`` on the diagonal, ``p_out`` off it
        for the classic planted partition).
    n_features : int, default 0
        If positive, node features ``x = mu_y + noise``: a random mean per block,
        scaled by ``class_sep``, plus standard normal noise; 0 leaves ``x`` None.
    class_sep : float, default 1.0
    rng : int, Generator or None
    dtype : float32 (default) or float64, of ``x``

    Returns
    -------
    Graph
        ``edge_index`` (both directions, no self-loops, sorted), ``y`` the block of each node.

    References
    ----------
    Holland, Laskey & Leinhardt (1983), Stochastic blockmodels: first steps.
    """
    sizes = np.asarray(block_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError(f"block_sizes: expected a non-empty sequence of positive integers, received {block_sizes!r}")
    probs = np.asarray(edge_probs, dtype=np.float64)
    n_blocks = len(sizes)
    if probs.shape != (n_blocks, n_blocks):
        raise ValueError(f"edge_probs: expected shape ({n_blocks}, {n_blocks}) for {n_blocks} blocks, received {probs.shape}")
    if not np.array_equal(probs, probs.T) or not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError("edge_probs: expected a symmetric matrix of probabilities in [0, 1]")
    n_features = check_int("n_features", n_features, minimum=0)
    class_sep = check_float("class_sep", class_sep, low=0.0)
    rng = as_rng(rng)
    y = np.repeat(np.arange(n_blocks, dtype=np.int64), sizes)  # (N,)
    n_nodes = len(y)
    rows, cols = np.triu_indices(n_nodes, k=1)  # every unordered pair once
    keep = rng.random(len(rows)) < probs[y[rows], y[cols]]
    edge_index = undirected_edge_index(np.stack([rows[keep], cols[keep]], axis=1), n_nodes)
    x = None
    if n_features:
        dtype = resolve_dtype(dtype)
        means = class_sep * rng.standard_normal((n_blocks, n_features))  # (B, F)
        x = (means[y] + rng.standard_normal((n_nodes, n_features))).astype(dtype)
    return Graph(n_nodes=n_nodes, edge_index=edge_index, x=x, y=y)


# ------------------------------------------------------------------ Cora (Planetoid files)
CORA_HOWTO = (
    "the eight Planetoid files ind.cora.{x,y,tx,ty,allx,ally,graph,test.index} are in the gcn/data folder "
    "of https://github.com/tkipf/gcn (MIT licence) and the data/ folder of "
    "https://github.com/kimiyoung/planetoid; put them in one directory and pass it as root (--data-dir)"
)
_CORA_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")


class _CSRRecord:
    """What a pickled ``scipy.sparse.csr_matrix`` becomes: its attributes, nothing else (no scipy needed)."""


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """``numpy.core.multiarray._reconstruct`` for plain ndarrays only; the data arrives in BUILD."""
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to reconstruct an array of type {subtype!r}")
    return np.ndarray.__new__(np.ndarray, shape, _numeric_dtype(dtype))


def _numeric_dtype(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """``numpy.dtype(spec, align, copy)`` for numbers only (an object dtype could hold anything)."""
    dtype = np.dtype(spec, bool(align), True)  # a copy: BUILD sets its state, which must not touch numpy's own
    if dtype.kind not in "biuf":
        raise pickle.UnpicklingError(f"refusing a dtype of kind {dtype.kind!r} ({dtype}): numbers only")
    return dtype


#: The only globals the Planetoid pickles (protocol 2, written by Python 2) name, and what each becomes.
_PLANETOID_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "dtype"): _numeric_dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("scipy.sparse.csr", "csr_matrix"): _CSRRecord,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
}


class _PlanetoidUnpickler(pickle.Unpickler):
    """Python's "restricting globals" unpickler: the six globals above and nothing else.

    Any other global (``os.system``, ``builtins.eval``, ...) stops the load in
    ``find_class``, before anything it names could be called.
    """

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")  # Python 2 byte strings (the arrays' raw data)
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _PLANETOID_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _PLANETOID_GLOBALS)
            raise pickle.UnpicklingError(
                f"{self.path}: refusing to load: the pickle names the global {module}.{name}, which no "
                f"Planetoid file uses (allowed: {allowed}); nothing it names was run"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(f"{self.path}: refusing a persistent id, which no Planetoid file uses")


def _read_pickle(path: Path) -> Any:
    with open(path, "rb") as file:
        try:
            return _PlanetoidUnpickler(file, path).load()
        except pickle.UnpicklingError:
            raise
        except Exception as exc:  # truncated or malformed: say which file
            raise ValueError(f"{path}: not a readable Planetoid pickle ({type(exc).__name__}: {exc})") from None


def _dense(record: Any, path: Path) -> np.ndarray:
    """A dense ``(rows, cols)`` array from a pickled CSR matrix (or an ndarray, as the label files are)."""
    if isinstance(record, np.ndarray):
        return record
    state = vars(record) if isinstance(record, _CSRRecord) else {}
    try:
        shape = tuple(int(n) for n in state.get("_shape", state.get("shape")))
        data, indices, indptr = (np.asarray(state[key]) for key in ("data", "indices", "indptr"))
        if len(indptr) != shape[0] + 1 or len(indices) != len(data) or indptr[-1] != len(data):
            raise ValueError("inconsistent sizes")
        dense = np.zeros(shape, dtype=data.dtype)
        dense[np.repeat(np.arange(shape[0]), np.diff(indptr)), indices] = data
    except Exception as exc:
        raise ValueError(f"{path}: expected a CSR matrix or an array, could not read one ({exc})") from None
    return dense


def load_cora(root: Any, *, dtype: Any = None) -> Graph:
    """Cora (2,708 papers, 5,278 citations, 1,433 words, 7 topics) from the Planetoid files, with its split.

    Parameters
    ----------
    root : str or Path
        A directory holding ``ind.cora.*`` (or holding them in a ``planetoid/`` folder).
        The files are Python pickles: they are read with an unpickler that admits exactly
        the six globals they use and refuses any other, without running it.
    dtype : float32 (default) or float64, of ``x``

    Returns
    -------
    Graph
        ``x`` the binary bag-of-words features (2708, 1433); ``y`` the topics (int64);
        ``edge_index`` (2, 10556), each citation in both directions, no self-loops;
        ``extra``: ``idx_train`` (the first 140 nodes), ``idx_val`` (the next 500),
        ``idx_test`` (the 1,000 sorted test indices) and the boolean ``train_mask``,
        ``val_mask``, ``test_mask``.

    Notes
    -----
    Assembled as tkipf/gcn's ``load_data``: features are ``allx`` then ``tx``, the
    test rows moved to the positions listed in ``ind.cora.test.index``; labels
    likewise from ``ally`` and ``ty``.

    References
    ----------
    Sen et al. (2008), Collective classification in network data. Yang, Cohen &
    Salakhutdinov (2016), Revisiting semi-supervised learning with graph embeddings.
    """
    root = Path(root)
    if not (root / "ind.cora.x").exists() and (root / "planetoid" / "ind.cora.x").exists():
        root = root / "planetoid"
    missing = [f"ind.cora.{part}" for part in (*_CORA_PARTS, "test.index") if not (root / f"ind.cora.{part}").exists()]
    if missing:
        raise FileNotFoundError(f"load_cora: {root} lacks {', '.join(missing)}; {CORA_HOWTO}")
    parts = {part: _read_pickle(root / f"ind.cora.{part}") for part in _CORA_PARTS}
    arrays = {part: _dense(parts[part], root / f"ind.cora.{part}") for part in _CORA_PARTS if part != "graph"}
    test_index = np.array((root / "ind.cora.test.index").read_text().split(), dtype=np.int64)
    test_range = np.sort(test_index)

    features = np.concatenate([arrays["allx"], arrays["tx"]])  # (N, F)
    labels = np.concatenate([arrays["ally"], arrays["ty"]])  # (N, C) one-hot
    n_nodes = len(features)
    if len(labels) != n_nodes or test_range[-1] >= n_nodes or len(test_index) != len(arrays["tx"]):
        raise ValueError(f"load_cora: the files in {root} disagree on the number of nodes")
    features[test_index] = features[test_range]
    labels[test_index] = labels[test_range]

    adjacency = parts["graph"]
    if not isinstance(adjacency, dict):
        raise ValueError(f"load_cora: {root / 'ind.cora.graph'} does not hold a dict of neighbour lists")
    sources = np.repeat(np.fromiter(adjacency.keys(), np.int64), [len(v) for v in adjacency.values()])
    targets = np.fromiter((j for v in adjacency.values() for j in v), np.int64, count=len(sources))
    pairs = np.stack([np.minimum(sources, targets), np.maximum(sources, targets)], axis=1)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)  # each citation once, no self-loops
    if len(pairs) and pairs.max() >= n_nodes:
        raise ValueError(f"load_cora: the graph names node {pairs.max()}, but there are {n_nodes} nodes")

    n_train = len(arrays["y"])
    split = {
        "idx_train": np.arange(n_train),
        "idx_val": np.arange(n_train, n_train + 500),
        "idx_test": test_range,
    }
    for name, index in list(split.items()):
        mask = np.zeros(n_nodes, dtype=bool)
        mask[index] = True
        split[name.replace("idx_", "") + "_mask"] = mask
    return Graph(
        n_nodes=n_nodes,
        edge_index=undirected_edge_index(pairs, n_nodes),
        x=features.astype(resolve_dtype(dtype)),
        y=labels.argmax(axis=1).astype(np.int64),
        extra=split,
    )
