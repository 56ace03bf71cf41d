"""The graph layers (GCNConv, GATConv, SAGEConv on MessagePassing): float64 gradient checks
on graphs with isolated nodes, self-loops and repeated edges; accumulation; float32 kept;
permutation equivariance; the segment reductions against a plain loop; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim
from dltoys.nn.graph import Segments
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, float64_operations, gradcheck


def random_graph(rng, n_nodes: int = 9, n_edges: int = 24) -> np.ndarray:
    """Random directed edges among the first n_nodes - 2 nodes (the last two are isolated),
    with two self-loops on node 0 and edge (1, 2) three times."""
    edges = rng.integers(0, n_nodes - 2, (2, n_edges))
    extra = np.array([[0, 0, 1, 1, 1], [0, 0, 2, 2, 2]])
    return np.concatenate([edges, extra], axis=1)


LAYERS = {
    "gcn": lambda d, r: nn.GCNConv(5, 3, dtype=d, rng=r),
    "gcn-improved": lambda d, r: nn.GCNConv(5, 3, improved=True, dtype=d, rng=r),
    "gcn-no-loops": lambda d, r: nn.GCNConv(5, 3, add_self_loops=False, bias=False, dtype=d, rng=r),
    "gcn-sum": lambda d, r: nn.GCNConv(5, 3, normalize=False, dtype=d, rng=r),
    "gat": lambda d, r: nn.GATConv(5, 3, dtype=d, rng=r),
    "gat-heads": lambda d, r: nn.GATConv(5, 3, heads=3, negative_slope=0.1, dtype=d, rng=r),
    "gat-mean": lambda d, r: nn.GATConv(5, 2, heads=2, concat=False, add_self_loops=False, dtype=d, rng=r),
    "gat-dropout": lambda d, r: nn.GATConv(5, 2, heads=2, dropout=0.4, dtype=d, rng=r),
    "sage": lambda d, r: nn.SAGEConv(5, 3, dtype=d, rng=r),
    "sage-max": lambda d, r: nn.SAGEConv(5, 3, aggr="max", dtype=d, rng=r),
    "sage-add-no-root": lambda d, r: nn.SAGEConv(5, 3, aggr="add", root_weight=False, bias=False, dtype=d, rng=r),
}


def _randomized(name, dtype, seed=0):
    """A layer with every parameter random and away from zero (PyG starts biases at 0)."""
    rng = np.random.default_rng(seed)
    layer = LAYERS[name](dtype, seed)
    for param in layer.parameters():
        param.data[...] = rng.standard_normal(param.shape)
    return layer


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", LAYERS)
def test_gradcheck(name, mode):
    rng = np.random.default_rng(1)
    layer = _randomized(name, np.float64).train(mode == "train")
    x = rng.standard_normal((9, 5))
    edge_index = random_graph(rng)
    result = gradcheck(layer, x, edge_index)
    assert [c.name for c in result.checks][0] == "input 0"  # the features; edge_index has no gradient
    check_grad_accumulates(layer, x, edge_index)


@pytest.mark.parametrize("name", LAYERS)
def test_float32_kept_end_to_end(name):
    rng = np.random.default_rng(2)
    layer = _randomized(name, np.float32)
    x = rng.standard_normal((9, 5)).astype(np.float32)
    edge_index = random_graph(rng)
    out = layer(x, edge_index)
    grad_x, _ = layer.backward(np.ones_like(out))
    assert_dtype_tree((out, grad_x, [p.grad for p in layer.parameters()]), np.float32)
    assert not float64_operations(layer, x, edge_index, optimizer=lambda ps: optim.Adam(ps, lr=0.01))


@pytest.mark.parametrize("name", LAYERS)
def test_relabelling_the_nodes_permutes_the_outputs_and_nothing_else(name):
    rng = np.random.default_rng(3)
    layer = _randomized(name, np.float64).eval()
    x = rng.standard_normal((9, 5))
    edge_index = random_graph(rng)
    perm = rng.permutation(9)  # new label of old node i is inverse[i]: x_new[k] = x[perm[k]]
    inverse = np.argsort(perm)
    out = layer(x, edge_index)
    grad_out = rng.standard_normal(out.shape)
    grad_x, grad_edges = layer.backward(grad_out)
    assert grad_edges is None  # edge_index is data
    grads = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    shuffled = rng.permutation(edge_index.shape[1])  # the order of the edge list does not matter either
    out_new = layer(x[perm], inverse[edge_index[:, shuffled]])
    grad_x_new, _ = layer.backward(grad_out[perm])
    np.testing.assert_allclose(out_new, out[perm], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x_new, grad_x[perm], rtol=1e-12, atol=1e-12)
    for before, param in zip(grads, layer.parameters()):
        np.testing.assert_allclose(param.grad, before, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
def test_data_input_skips_its_gradient_and_keeps_the_parameter_gradients(name):
    rng = np.random.default_rng(4)
    layer = _randomized(name, np.float64).eval()
    x, edge_index = rng.standard_normal((9, 5)), random_graph(rng)
    out = layer(x, edge_index)
    layer.backward(np.ones_like(out))
    full = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    layer.needs_input_grad = False
    layer(x, edge_index)
    assert layer.backward(np.ones_like(out)) == (None, None)
    for before, param in zip(full, layer.parameters()):
        np.testing.assert_allclose(param.grad, before, rtol=1e-12)


def test_segments_equal_a_loop_over_items():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 6, 40)
    keys[keys == 3] = 4  # key 3 has no items
    values = rng.standard_normal((40, 2))
    segments = Segments(keys, 7)
    sums, maxima = np.zeros((7, 2)), np.zeros((7, 2))
    for k in range(7):
        if (keys == k).any():
            sums[k] = values[keys == k].sum(0)
            maxima[k] = values[keys == k].max(0)
    np.testing.assert_allclose(segments.sum(values), sums, rtol=1e-12)
    np.testing.assert_array_equal(segments.max(values), maxima)


def test_gcn_on_a_path_worked_by_hand():
    """Path 0 - 1 - 2 with self-loops: degrees 2, 3, 2; P = D^-1/2 (A + I) D^-1/2."""
    conv = nn.GCNConv(1, 1, bias=False, dtype=np.float64, rng=0)
    conv.lin.weight.data[...] = 1.0
    x = np.array([[1.0], [10.0], [100.0]])
    out = conv(x, np.array([[0, 1, 1, 2], [1, 0, 2, 1]]))
    expected = [1 / 2 + 10 / np.sqrt(6), 1 / np.sqrt(6) + 10 / 3 + 100 / np.sqrt(6), 10 / np.sqrt(6) + 100 / 2]
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-12)


def test_gat_attention_sums_to_one_over_incoming_edges_and_dropout_is_off_in_eval():
    rng = np.random.default_rng(6)
    conv = nn.GATConv(4, 2, heads=3, dropout=0.5, dtype=np.float64, rng=0)
    x, edge_index = rng.standard_normal((9, 4)), random_graph(rng)
    conv.eval()
    out = conv(x, edge_index)
    edges, _, _, alpha, mask, kept, _ = conv._cache
    np.testing.assert_allclose(edges.by_dst.sum(alpha), 1.0, rtol=1e-12)  # every node has its self-loop
    assert mask is None
    np.testing.assert_array_equal(conv(x, edge_index), out)
    conv.train()
    assert not np.allclose(conv(x, edge_index), out)


def test_cached_gcn_reuses_the_first_graph_in_the_current_dtype():
    conv = nn.GCNConv(2, 2, cached=True, dtype=np.float64, rng=0)
    x = np.ones((3, 2))
    first = conv(x, np.array([[0, 1], [1, 0]]))
    np.testing.assert_array_equal(conv(x, np.array([[0, 1, 1, 2], [1, 0, 2, 1]])), first)
    conv.float()
    assert not float64_operations(conv, x.astype(np.float32), np.array([[0, 1], [1, 0]]))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nn.GCNConv(3, 2)(np.ones((4, 2)), np.zeros((2, 1), int)), r"expected x of shape \(N, 3\)"),
        (lambda: nn.GCNConv(3, 2)(np.ones((4, 3)), np.zeros((3, 1), int)), r"edge_index of shape \(2, E\)"),
        (lambda: nn.GATConv(3, 2)(np.ones((4, 3)), np.array([[0], [4]])), r"\[0, 4\).*from 0 to 4"),
        (lambda: nn.SAGEConv(3, 2)(np.ones((4, 3)), np.array([[0.0], [1.0]])), "must hold integers"),
        (lambda: nn.GCNConv(3, 2)(np.ones((4, 3)), np.array([[0], [1]]), np.ones(2)), r"edge_weight of shape \(1,\)"),
        (lambda: nn.GCNConv(3, 2, add_self_loops=True, normalize=False), "needs normalize=True"),
        (lambda: nn.GATConv(3, 2, dropout=1.0), "dropout"),
        (lambda: nn.SAGEConv(3, 2, aggr="lstm"), "aggr: expected one of"),
        (lambda: nn.GATConv(3, 2, heads=0), "heads"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
