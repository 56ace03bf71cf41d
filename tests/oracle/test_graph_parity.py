"""PyTorch Geometric parity for GCNConv, GATConv and SAGEConv.

Our state dict is copied into PyG's layer (the same keys and shapes), both run
on the same random graph (isolated nodes, self-loops, repeated edges, edges in
random order) and the same ``grad_out``; outputs, input gradients and every
parameter gradient agree within the tolerances of ``parity_helpers``, and so do
the weights after a few Adam steps on a node-classification loss.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim

torch = pytest.importorskip("torch")
pyg = pytest.importorskip("torch_geometric.nn")

from parity_helpers import TORCH_DTYPE, assert_close  # noqa: E402  (after importorskip)

DTYPES = [np.float32, np.float64]


def random_graph(rng, n_nodes: int) -> np.ndarray:
    """Random edges among all but the last two nodes (isolated), plus self-loops (one doubled)
    and a repeated edge."""
    n_edges = int(rng.integers(1, 4 * n_nodes))
    edges = rng.integers(0, n_nodes - 2, (2, n_edges))
    extra = np.array([[0, 0, 1, 2, 1, 1], [0, 0, 1, 2, 2, 2]]) % (n_nodes - 2)
    both = np.concatenate([edges, extra], axis=1)
    return both[:, rng.permutation(both.shape[1])]


def pairs(rng, dtype):
    """(what, ours, theirs) over the layers' options, with random in/out sizes."""
    n_in, n_out, heads = (int(n) for n in rng.integers(1, 6, 3))
    seed = int(rng.integers(1 << 30))
    make = [
        (f"GCNConv({n_in}, {n_out})", lambda **k: (nn.GCNConv(n_in, n_out, **k), pyg.GCNConv(n_in, n_out, **k)), {}),
        # PyG applies `improved` (self-loops of weight 2) only to weighted graphs; an unweighted
        # graph keeps loops of weight 1 there (gcn_norm fills the weights after adding the loops)
        ("GCNConv improved, weighted", lambda **k: (nn.GCNConv(n_in, n_out, **k), pyg.GCNConv(n_in, n_out, **k)),
         {"improved": True}),
        ("GCNConv normalize=False", lambda **k: (nn.GCNConv(n_in, n_out, **k), pyg.GCNConv(n_in, n_out, **k)),
         {"normalize": False, "bias": False}),
        ("GCNConv add_self_loops=False", lambda **k: (nn.GCNConv(n_in, n_out, **k), pyg.GCNConv(n_in, n_out, **k)),
         {"add_self_loops": False}),
        (f"GATConv({n_in}, {n_out}, heads={heads})",
         lambda **k: (nn.GATConv(n_in, n_out, heads, **k), pyg.GATConv(n_in, n_out, heads, **k)), {}),
        ("GATConv concat=False, slope 0.1",
         lambda **k: (nn.GATConv(n_in, n_out, heads, **k), pyg.GATConv(n_in, n_out, heads, **k)),
         {"concat": False, "negative_slope": 0.1}),
        ("GATConv add_self_loops=False",
         lambda **k: (nn.GATConv(n_in, n_out, heads, **k), pyg.GATConv(n_in, n_out, heads, **k)),
         {"add_self_loops": False, "bias": False}),
        (f"SAGEConv({n_in}, {n_out})", lambda **k: (nn.SAGEConv(n_in, n_out, **k), pyg.SAGEConv(n_in, n_out, **k)), {}),
        ("SAGEConv max", lambda **k: (nn.SAGEConv(n_in, n_out, **k), pyg.SAGEConv(n_in, n_out, **k)), {"aggr": "max"}),
        ("SAGEConv add, no root", lambda **k: (nn.SAGEConv(n_in, n_out, **k), pyg.SAGEConv(n_in, n_out, **k)),
         {"aggr": "add", "root_weight": False}),
    ]
    for what, build, kwargs in make:
        torch.manual_seed(seed)
        ours, theirs = build(**kwargs)
        ours = type(ours)(*_args(ours), **kwargs, dtype=dtype, rng=seed)
        yield what, n_in, ours, theirs.to(TORCH_DTYPE[np.dtype(dtype)])


def _args(layer):
    return (layer.in_channels, layer.out_channels) + ((layer.heads,) if isinstance(layer, nn.GATConv) else ())


def _edge_weight(what, rng, edge_index, dtype) -> tuple:
    """Random positive edge weights for the weighted cases (an extra forward argument), else none."""
    return (rng.uniform(0.5, 2.0, edge_index.shape[1]).astype(dtype),) if "weighted" in what else ()


def attention_scale(conv, grad_out) -> float:
    """The size of the terms of GATConv's attention-vector gradients.

    ``dL/da_dst = sum_i (sum_{e into i} dL/ds_e) z_i``, and the softmax makes the
    inner sums differences of terms ``alpha_e (dL/dalpha_e)`` that cancel exactly
    (with slope 1), so the gradient can be rounding noise; this is the largest it
    could be from terms of that size.
    """
    edges, z, _, alpha, _, _, _ = conv._cache
    heads = grad_out.reshape(len(z), conv.heads, -1) if conv.concat else grad_out[:, None, :]
    terms = alpha * np.abs(np.einsum("ehc,ehc->eh", heads[edges.dst], z[edges.src]))  # (E, H)
    return float(terms.sum() * np.abs(z).max())


def copy_into_pyg(ours, theirs, rng):
    """Random parameters (PyG starts the biases at 0) into ours, then the same into theirs."""
    for param in ours.parameters():
        param.data[...] = rng.standard_normal(param.shape)
    state = ours.state_dict()
    assert set(state) == set(theirs.state_dict())
    theirs.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_and_backward_equal_pyg(dtype):
    rng = np.random.default_rng(0)
    for trial in range(4):
        n_nodes = int(rng.integers(4, 12))
        edge_index = random_graph(rng, n_nodes)
        for what, n_in, ours, theirs in pairs(rng, dtype):
            what = f"{what} on {n_nodes} nodes, {edge_index.shape[1]} edges ({np.dtype(dtype)})"
            copy_into_pyg(ours, theirs, rng)
            x = rng.standard_normal((n_nodes, n_in)).astype(dtype)
            x_torch = torch.tensor(x, requires_grad=True)
            weight = _edge_weight(what, rng, edge_index, dtype)
            out = ours(x, edge_index, *weight)
            out_torch = theirs(x_torch, torch.from_numpy(edge_index), *map(torch.from_numpy, weight))
            assert_close(out, out_torch, f"{what}: output")
            grad_out = rng.standard_normal(out.shape).astype(dtype)
            grad_x, grad_edges = ours.backward(grad_out)
            assert grad_edges is None
            out_torch.backward(torch.from_numpy(grad_out))
            assert_close(grad_x, x_torch.grad, f"{what}: input gradient")
            theirs_params = dict(theirs.named_parameters())
            for name, param in ours.named_parameters():
                scale = attention_scale(ours, grad_out) if name.startswith("att_") else 0.0
                assert_close(param.grad, theirs_params[name].grad, f"{what}: grad of {name}", scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_on_a_masked_node_loss_equal_pyg(dtype):
    rng = np.random.default_rng(1)
    n_nodes, n_classes = 10, 3
    edge_index = random_graph(rng, n_nodes)
    labels = rng.integers(0, n_classes, n_nodes)
    mask = rng.random(n_nodes) < 0.5
    for what, n_in, ours, theirs in pairs(rng, dtype):
        copy_into_pyg(ours, theirs, rng)
        x = rng.standard_normal((n_nodes, n_in)).astype(dtype)
        weight = _edge_weight(what, rng, edge_index, dtype)
        weight_torch = tuple(map(torch.from_numpy, weight))
        readout = rng.standard_normal((ours(x, edge_index, *weight).shape[1], n_classes)).astype(dtype)
        opt = optim.Adam(list(ours.parameters()), lr=0.05, weight_decay=5e-4)
        opt_torch = torch.optim.Adam(theirs.parameters(), lr=0.05, weight_decay=5e-4)
        loss = nn.CrossEntropyLoss()
        for _ in range(4):
            ours.zero_grad()
            logits = ours(x, edge_index, *weight) @ readout
            loss(logits[mask], labels[mask])
            grad_logits = np.zeros_like(logits)
            grad_logits[mask] = loss.backward()
            ours.backward(grad_logits @ readout.T)
            opt.step()
            opt_torch.zero_grad()
            logits_torch = theirs(torch.from_numpy(x), torch.from_numpy(edge_index), *weight_torch) @ torch.from_numpy(readout)
            torch.nn.functional.cross_entropy(logits_torch[mask], torch.from_numpy(labels[mask])).backward()
            opt_torch.step()
        theirs_params = dict(theirs.named_parameters())
        for name, param in ours.named_parameters():
            assert_close(param.data, theirs_params[name], f"{what} ({np.dtype(dtype)}): {name} after 4 Adam steps")
