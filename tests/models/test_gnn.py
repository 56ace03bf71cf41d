"""models.GCN and models.GAT, FeatureDropout, and the node-classification step of the one loop."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import optim, train
from dltoys.data import make_sbm
from dltoys.models import GAT, GCN, NodeClassificationStep, masked_accuracy
from dltoys.models.gnn import FeatureDropout
from dltoys.testing import check_grad_accumulates, float64_operations, gradcheck


def small_graph(rng, n_nodes=10, n_features=6):
    edge_index = rng.integers(0, n_nodes - 1, (2, 30))  # the last node is isolated
    # no zero entries: FeatureDropout treats zeros as structural (sparse), so moving one off zero
    # changes which entries draw a mask (see its docstring)
    x = rng.standard_normal((n_nodes, n_features))
    return x, edge_index


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize(
    "make",
    [
        lambda d: GCN(6, 4, 3, dropout=0.3, dtype=d, rng=0),
        lambda d: GCN(6, 4, 3, activation="tanh", cached=True, dtype=d, rng=0),
        lambda d: GAT(6, 2, 3, heads=3, out_heads=2, dropout=0.3, dtype=d, rng=0),
    ],
    ids=["gcn", "gcn-tanh-cached", "gat"],
)
def test_models_gradcheck_and_stay_float32(make, mode):
    rng = np.random.default_rng(0)
    x, edge_index = small_graph(rng)
    model = make(np.float64).train(mode == "train")
    for param in model.parameters():
        # moderate values: the objective stays O(10), so central differences stay near 1e-10
        param.data[...] = 0.5 * rng.standard_normal(param.shape)
    gradcheck(model, x, edge_index)
    check_grad_accumulates(model, x, edge_index)
    model32 = make(np.float32).train(mode == "train")
    assert not float64_operations(model32, x.astype(np.float32), edge_index,
                                  optimizer=lambda ps: optim.Adam(ps, lr=0.01))


def test_feature_dropout_draws_only_for_nonzero_entries():
    x = np.zeros((200, 50), np.float32)
    x[:, :5] = 1.0
    layer = FeatureDropout(0.4, rng=0)
    out = layer(x)
    assert (out[:, 5:] == 0).all()
    kept = out[:, :5] != 0
    assert abs(kept.mean() - 0.6) < 0.03  # 1000 draws: standard error 0.015
    np.testing.assert_allclose(out[:, :5][kept], 1 / 0.6, rtol=1e-6)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)
    gradcheck(FeatureDropout(0.4, rng=1), np.random.default_rng(0).standard_normal((5, 4)))
    layer.eval()
    assert layer(x) is x


def _sbm_problem(seed=0):
    graph = make_sbm([40, 40, 40], np.full((3, 3), 0.01) + np.eye(3) * 0.14, n_features=8, class_sep=0.6, rng=seed)
    rng = np.random.default_rng(seed)
    train_mask = np.zeros(graph.n_nodes, bool)
    train_mask[[rng.choice(np.flatnonzero(graph.y == c), 3, replace=False) for c in range(3)]] = True
    return graph, train_mask


def test_the_step_uses_only_the_masked_labels():
    graph, train_mask = _sbm_problem()
    scrambled = graph.y.copy()
    scrambled[~train_mask] = (scrambled[~train_mask] + 1) % 3  # every unlabelled node wrong
    states = []
    for labels in (graph.y, scrambled):
        model = GCN(8, 8, 3, rng=1)
        step = NodeClassificationStep(model, optim.Adam(list(model.parameters()), lr=0.05))
        history = train.Trainer(step, epochs=5, progress=False).fit([(graph.x, graph.edge_index, labels, train_mask)])
        states.append((model.state_dict(), history["loss"]))
    for key, value in states[0][0].items():
        np.testing.assert_array_equal(states[1][0][key], value)
    assert states[0][1] == states[1][1]


def test_gcn_learns_a_block_model_from_three_labels_per_block():
    """9 labelled nodes of 120: the graph carries the labels to the rest (seed 0: 100% of the 111
    others, against 55.9% for the same network without edges, which sees the noisy features alone)."""
    graph, train_mask = _sbm_problem()
    accuracies = {}
    for name, edge_index in (("graph", graph.edge_index), ("no edges", np.zeros((2, 0), np.int64))):
        model = GCN(8, 16, 3, dropout=0.5, rng=0)
        step = NodeClassificationStep(model, optim.Adam(list(model.parameters()), lr=0.02, weight_decay=5e-4),
                                      metrics=["accuracy"])
        history = train.Trainer(step, epochs=100, progress=False).fit(
            [(graph.x, edge_index, graph.y, train_mask)], validation=[(graph.x, edge_index, graph.y, ~train_mask)])
        accuracies[name] = masked_accuracy(model, graph.x, edge_index, graph.y, ~train_mask)
        assert history.last("val_accuracy") == pytest.approx(accuracies[name])
    assert accuracies["graph"] >= 0.90
    assert accuracies["no edges"] <= 0.70
    assert model.needs_input_grad  # restored after training


def test_step_errors_name_the_problem():
    model = GCN(3, 2, 2, rng=0)
    step = NodeClassificationStep(model, optim.Adam(list(model.parameters())))
    with pytest.raises(ValueError, match=r"\(x, edge_index, y, mask\)"):
        step((np.ones((3, 3)), np.zeros((2, 0), int), np.zeros(3, int)))
    with pytest.raises(ValueError, match=r"boolean mask of shape \(3,\)"):
        step((np.ones((3, 3)), np.zeros((2, 0), int), np.zeros(3, int), np.ones(4, bool)))
    with pytest.raises(ValueError, match="at least one optimizer"):
        NodeClassificationStep(model, {})
