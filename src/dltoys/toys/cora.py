"""cora: GCN and GAT on the Cora citation graph, against the features alone and the graph alone."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from .. import nn, optim, plot, train
from ..data import load_cora
from ..data.graphs import CORA_HOWTO
from ..models import GAT, GCN, MLP, NodeClassificationStep, masked_accuracy
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "cora"
TITLE = "Cora: GCN and GAT from 140 labelled papers, against the words alone and the citations alone"
SHOWS = (
    "On the Planetoid split of Cora (140 labelled papers, 1,000 test papers), a two-layer GCN and a GAT use "
    "each paper's words and its citations; an MLP sees the words alone and label propagation the citations "
    "alone. Mean ± std over seeds against the published figures (Kipf & Welling 2017, Veličković et al. 2018)."
)

#: Published test accuracies on this split: Kipf & Welling (2017) Table 2 (GCN, label propagation);
#: Veličković et al. (2018) Table 2 (GAT, and the MLP row, which Kipf & Welling do not have).
PUBLISHED = {"GCN": 0.815, "GAT": 0.830, "MLP": 0.551, "label propagation": 0.680}

#: How close to the published figure label propagation must land, and by how much the graph networks
#: must beat each baseline.
BASELINE_BAND = 0.05
MIN_GAP = 0.05

Model = Literal["gcn", "gat", "mlp", "lp"]


@dataclass(frozen=True)
class Config(ToyConfig):
    data_dir: Optional[str] = option(
        None, "directory holding the Planetoid files ind.cora.* (or a planetoid/ folder); default: $DLTOYS_SHARED_DATA")
    models: tuple[Model, ...] = option(("gcn", "gat", "mlp", "lp"), "which models to run")
    seeds: int = option(10, "seeds (weights, dropout) per trained model", min=1)
    gcn_epochs: int = option(200, "GCN epochs (Kipf & Welling: 200, Adam lr 0.01, weight decay 5e-4 on layer 1)", min=1)
    gat_epochs: int = option(1000, "GAT epochs at most (Adam lr 0.005, weight decay 5e-4)", min=1)
    gat_patience: int = option(100, "GAT: stop after this many epochs without a lower validation loss", min=1)
    mlp_epochs: int = option(200, "MLP epochs (1433-16-7, dropout 0.5, as the GCN)", min=1)
    lp_iterations: int = option(1000, "label propagation: iterations at most", min=1)
    gcn_target: float = option(0.815, "mean GCN test accuracy to reach (Kipf & Welling: 81.5%)", above=0, max=1)
    gat_target: float = option(0.830, "mean GAT test accuracy to reach (Veličković et al.: 83.0%)", above=0, max=1)
    published_targets_from: int = option(
        10, "the published figures are targets when at least this many seeds run (fewer: the gaps are)", min=1)


#: One seed and a shorter GAT: the published figures are means over many seeds, so quick mode checks
#: what one seed can show, where the baselines stand and the gaps between the models.
QUICK: dict = {"seeds": 1, "gat_epochs": 100, "gat_patience": 50}


def _data_dir(config: Config) -> Path | None:
    """The directory with the Planetoid files, or None (the toy is then skipped)."""
    for candidate in (config.data_dir, os.environ.get("DLTOYS_SHARED_DATA")):
        if candidate:
            root = Path(candidate)
            if (root / "ind.cora.x").exists() or (root / "planetoid" / "ind.cora.x").exists():
                return root
    return None


def _label_propagation(graph, labelled: np.ndarray, n_classes: int, iterations: int) -> tuple[np.ndarray, int]:
    """Zhu, Ghahramani & Lafferty's (2003) label propagation: ``F <- D^-1 A F``, labelled rows clamped.

    The iteration of :class:`dltoys.models.LabelPropagation` (``kernel='precomputed'``) on
    the sparse edge list instead of the dense (N, N) adjacency, which that estimator
    takes: the same predictions (a test checks it on the karate club; both score 71.7%
    on Cora's test papers) in a fraction of the time. Returns the class scores ``(N, C)``
    and the iterations run (until no score moves by more than 1e-6).
    """
    edges = nn.EdgeIndex(graph.edge_index, graph.n_nodes)
    inverse_degree = (1.0 / np.maximum(edges.in_degree, 1))[:, None]  # (N, 1)
    clamp = np.zeros((len(labelled), n_classes))
    clamp[np.arange(len(labelled)), graph.y[labelled]] = 1.0
    scores = np.zeros((graph.n_nodes, n_classes))  # (N, C)
    scores[labelled] = clamp
    for iteration in range(1, iterations + 1):
        new = edges.by_dst.sum(scores[edges.src]) * inverse_degree  # mean of the neighbours' scores
        new[labelled] = clamp
        change = np.abs(new - scores).max()
        scores = new
        if change < 1e-6:
            break
    return scores, iteration


def _train_gcn(x, graph, masks, config: Config, seed: int):
    model = GCN(x.shape[1], 16, 7, dropout=0.5, cached=True, rng=seed)
    optimizers = {  # Kipf & Welling's weight decay is on the first layer only
        "conv1": optim.Adam(list(model.conv1.parameters()), lr=0.01, weight_decay=5e-4),
        "conv2": optim.Adam(list(model.conv2.parameters()), lr=0.01),
    }
    stopper = train.EarlyStopping("val_loss", patience=config.gcn_epochs)  # keeps the best validation loss
    history = train.Trainer(NodeClassificationStep(model, optimizers), callbacks=[stopper], epochs=config.gcn_epochs,
                            progress=False).fit([(x, graph.edge_index, graph.y, masks["train"])],
                                                validation=[(x, graph.edge_index, graph.y, masks["val"])])
    return model, history


def _train_gat(x, graph, masks, config: Config, seed: int):
    model = GAT(x.shape[1], 8, 7, heads=8, dropout=0.6, rng=seed)
    optimizer = optim.Adam(list(model.parameters()), lr=0.005, weight_decay=5e-4)
    stopper = train.EarlyStopping("val_loss", patience=config.gat_patience)
    history = train.Trainer(NodeClassificationStep(model, optimizer), callbacks=[stopper], epochs=config.gat_epochs,
                            progress=False).fit([(x, graph.edge_index, graph.y, masks["train"])],
                                                validation=[(x, graph.edge_index, graph.y, masks["val"])])
    return model, history


def _train_mlp(x, graph, masks, config: Config, seed: int):
    model = MLP((x.shape[1], 16, 7), activation="relu", dropout=0.5, rng=seed)
    train_idx, val_idx = masks["train"], masks["val"]
    stopper = train.EarlyStopping("val_loss", patience=config.mlp_epochs)
    history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4),
                        x[train_idx], graph.y[train_idx], validation_data=(x[val_idx], graph.y[val_idx]),
                        metrics=["accuracy"], callbacks=[stopper], epochs=config.mlp_epochs, batch_size=None,
                        shuffle=False, progress=False)
    return model, history


def _skipped(config: Config) -> Report:
    report = Report(toy=NAME, title=TITLE, shows=SHOWS, skipped="no Cora data")
    where = config.data_dir or os.environ.get("DLTOYS_SHARED_DATA")
    missing = f"no Planetoid files in {where}" if where else "no data (no --data-dir given, no $DLTOYS_SHARED_DATA)"
    report.notes.append(f"skipped: {missing}; here is how to get it: {CORA_HOWTO}. Then: dltoys run cora --data-dir DIR")
    return report


def run(config: Config, ctx: RunContext) -> Report:
    root = _data_dir(config)
    if root is None:
        return _skipped(config)
    graph = load_cora(root)
    x = graph.x / np.maximum(graph.x.sum(axis=1, keepdims=True), 1)  # row-normalised words (Kipf & Welling)
    masks = {name: graph.extra[f"{name}_mask"] for name in ("train", "val", "test")}

    trainers = {"gcn": ("GCN", _train_gcn), "gat": ("GAT", _train_gat), "mlp": ("MLP", _train_mlp)}
    results: dict[str, dict] = {}
    curves: dict[str, list] = {}
    for key in config.models:
        if key == "lp":
            started = time.perf_counter()
            scores, iterations = _label_propagation(graph, graph.extra["idx_train"], 7, config.lp_iterations)
            accuracy = float(np.mean(scores[masks["test"]].argmax(1) == graph.y[masks["test"]]))
            results["label propagation"] = {"accuracies": [accuracy], "epoch_ms": None, "epochs": [iterations],
                                            "seconds": time.perf_counter() - started}
            continue
        name, fit = trainers[key]
        accuracies, epoch_ms, epochs, started = [], [], [], time.perf_counter()
        for seed in range(config.seeds):
            model, history = fit(x, graph, masks, config, seed)
            if key == "mlp":
                accuracy = float(np.mean(train.predict(model, x[masks["test"]]).argmax(1) == graph.y[masks["test"]]))
            else:
                accuracy = masked_accuracy(model, x, graph.edge_index, graph.y, masks["test"])
            accuracies.append(accuracy)
            epoch_ms.append(1000 * float(np.median(history["time"])))
            epochs.append(len(history))
            if seed == 0:
                curves[name] = history["val_accuracy"]
        results[name] = {"accuracies": accuracies, "epoch_ms": float(np.median(epoch_ms)), "epochs": epochs,
                         "seconds": time.perf_counter() - started}

    report = Report(toy=NAME, title=TITLE, shows=SHOWS)
    rows = []
    for name, result in results.items():
        acc = np.array(result["accuracies"])
        result.update(mean=float(acc.mean()), std=float(acc.std()))
        spread = f" ± {acc.std():.1%}" if len(acc) > 1 else ""
        rows.append([name, f"{acc.mean():.1%}{spread}", f"{PUBLISHED[name]:.1%}", len(acc),
                     "-" if result["epoch_ms"] is None else f"{result['epoch_ms']:.1f}",
                     f"{result['seconds']:.1f}"])
    report.tables.append(Table("Test accuracy on the 1,000 Planetoid test papers (seeds 0, 1, ...)",
                               ["model", "mean ± std", "published", "seeds", "ms / epoch (median)", "seconds"], rows))
    _targets(report, results, config)
    report.plots.append(_plot(results, curves, ctx))
    report.metrics = {"data_dir": str(root), **results}
    return report


def _targets(report: Report, results: dict, config: Config) -> None:
    published = config.seeds >= config.published_targets_from
    for name, goal in (("GCN", config.gcn_target), ("GAT", config.gat_target)):
        if name in results and published:
            report.targets.append(Target(f"{name} test accuracy, mean of {config.seeds} seeds",
                                         results[name]["mean"], goal, percent=True))
    # Where label propagation stands (deterministic: no seed to average; Kipf & Welling's figure comes
    # from another implementation, so within 5 points), and what each baseline alone misses: both graph
    # networks beat both baselines by 5 points or more (13.5 and 26 published). The MLP's published
    # figure (Veličković et al.) is shown beside it, not a target: MLP set-ups differ by several points.
    if "label propagation" in results:
        report.targets.append(Target(f"|label propagation − published {PUBLISHED['label propagation']:.1%}| (points)",
                                     abs(results["label propagation"]["mean"] - PUBLISHED["label propagation"]),
                                     BASELINE_BAND, at_least=False, percent=True))
    for name in ("GCN", "GAT"):
        for baseline in ("MLP", "label propagation"):
            if name in results and baseline in results:
                gap = results[name]["mean"] - results[baseline]["mean"]
                report.targets.append(Target(f"{name} minus {baseline} (points)", gap, MIN_GAP, percent=True))
    if not published and ("GCN" in results or "GAT" in results):
        report.notes.append(
            f"{config.seeds} seed(s): the published figures (GCN 81.5%, GAT 83.0%) are means over many runs, so they "
            f"are targets from {config.published_targets_from} seeds on (full mode); here the table shows them beside "
            "this run's means.")
    for target in report.targets:
        if not target.passed:
            report.notes.append(f"This run missed a target: {target.name} reached {target.value_text}, "
                                f"target {target.goal_text}.")


def _plot(results: dict, curves: dict, ctx: RunContext) -> str:
    fig, (ax_bars, ax_curves) = plot.figure(1, 2, size=(10.5, 3.8), title="Cora, Planetoid split")
    names = list(results)
    plot.bars(ax_bars, {"this run (mean)": [results[n]["mean"] for n in names],
                        "published": [PUBLISHED[n] for n in names]}, names,
              title="test accuracy", ylabel="accuracy")
    if curves:
        plot.curves(ax_curves, curves, title="validation accuracy while training (seed 0)", ylabel="accuracy")
    return ctx.save_figure(fig, "cora")
