"""DBN: what greedy RBM pretraining buys an MLP on the digits, from 1% to 100% of the labels."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import plot, train
from ..data import load_digits
from ..models.dbn import DBN
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "dbn"
TITLE = "DBN: RBM pretraining against random initialisation, with few labels"
SHOWS = (
    "A stack of RBMs learns from every training digit without its label; its weights then start a sigmoid MLP "
    "that backpropagation fine-tunes on the few labelled ones. The same MLP from a random start, fine-tuned the "
    "same way, shows what the pretraining bought."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    hidden_layer_sizes: tuple[int, ...] = option((256, 128, 64), "hidden layers (one RBM each)", min=1)
    label_fractions: tuple[float, ...] = option((0.01, 0.05, 0.2, 1.0), "shares of the training digits whose "
                                                "labels fine-tuning sees (stratified, at least one per digit)",
                                                above=0, max=1)
    seeds: tuple[int, ...] = option((0, 1, 2), "seeds of the split, the labelled subset and the weights", min=0)
    rbm_n_iter: int = option(20, "passes of each RBM over the training digits", min=1)
    rbm_learning_rate: float = option(0.05, "SGD learning rate of the RBMs (PCD-1)", above=0)
    updates: int = option(1000, "fine-tuning updates (batches of 32), the same for both starts", min=1)
    learning_rate: float = option(0.1, "SGD (momentum 0.9) learning rate of the fine-tuning", above=0)
    adam_reference: bool = option(True, "also fine-tune the random start with Adam (lr 1e-3)")
    scarce_fraction: float = option(0.05, "the label share where pretraining's gain is a target", above=0, max=1)
    gain_target: float = option(10.0, "points pretraining must gain at scarce_fraction", min=0)


QUICK: dict = {"seeds": (0,), "label_fractions": (0.05, 1.0), "adam_reference": False}


def labelled_subset(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of a stratified ``fraction`` of the rows, at least one per class."""
    picked = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        picked.append(rng.choice(rows, size=max(1, round(fraction * len(rows))), replace=False))
    return np.sort(np.concatenate(picked))


def run(config: Config, ctx: RunContext) -> Report:
    X, y = load_digits()  # (1797, 64) in [0, 1]
    starts = ("dbn", "random", "adam") if config.adam_reference else ("dbn", "random")
    accuracy = {(f, start): [] for f in config.label_fractions for start in starts}
    seconds = dict.fromkeys(starts, 0.0)
    n_labels = {}
    with train.blas_threads(1):
        for seed in config.seeds:
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(X))
            n_test = len(X) // 5
            test, training = order[:n_test], order[n_test:]
            for fraction in config.label_fractions:
                chosen = labelled_subset(y[training], fraction, rng)
                n_labels[fraction] = len(chosen)
                targets = np.full(len(training), -1)
                targets[chosen] = y[training][chosen]  # -1: unlabelled, seen by the RBMs only
                epochs = math.ceil(config.updates / math.ceil(len(chosen) / 32))
                for start in starts:
                    solver = {"solver": "adam", "learning_rate": 1e-3} if start == "adam" else {
                        "solver": "sgd", "learning_rate": config.learning_rate}
                    started = time.perf_counter()
                    model = DBN(config.hidden_layer_sizes, rbm_n_iter=config.rbm_n_iter,
                                rbm_learning_rate=config.rbm_learning_rate, pretrain=start == "dbn",
                                max_iter=epochs, batch_size=32, random_state=seed, **solver).fit(X[training], targets)
                    seconds[start] += time.perf_counter() - started
                    accuracy[fraction, start].append(model.score(X[test], y[test]))

    mean = {key: float(np.mean(values)) for key, values in accuracy.items()}
    sizes = "-".join(str(s) for s in (64, *config.hidden_layer_sizes, 10))
    rows = []
    for fraction in config.label_fractions:
        gain = mean[fraction, "dbn"] - mean[fraction, "random"]
        row = [f"{fraction:.0%}", n_labels[fraction], f"{mean[fraction, 'dbn']:.1%}",
               f"{mean[fraction, 'random']:.1%}", f"{100 * gain:+.1f}"]
        if config.adam_reference:
            row.append(f"{mean[fraction, 'adam']:.1%}")
        rows.append(row + [" / ".join(f"{a:.0%}" for a in accuracy[fraction, "dbn"]),
                           " / ".join(f"{a:.0%}" for a in accuracy[fraction, "random"])])
    headers = ["labels", "labelled digits", "DBN (pretrained, SGD)", "random start, SGD", "gain (points)"]
    headers += ["random start, Adam"] if config.adam_reference else []
    table = Table(f"Test accuracy of the {sizes} sigmoid MLP on {len(X) // 5} held-out digits (mean over seeds "
                  f"{', '.join(map(str, config.seeds))})", headers + ["DBN per seed", "random per seed"], rows)
    scarce = min(config.label_fractions, key=lambda f: abs(f - config.scarce_fraction))
    full = max(config.label_fractions)
    gains = {f: mean[f, "dbn"] - mean[f, "random"] for f in config.label_fractions}
    notes = [
        "Pretraining: greedy PCD-1 RBMs on all training digits, unlabelled; fine-tuning: "
        f"{config.updates} updates of SGD with momentum 0.9 (the papers' optimizer) on the labelled ones, for "
        "both starts, so the only difference is the initial weights.",
        "In this run pretraining " + "; ".join(
            f"{'gained' if g >= 0 else 'lost'} {abs(100 * g):.1f} points at {f:.0%} of the labels"
            for f, g in gains.items()) + ".",
    ]
    if config.adam_reference:
        ahead = [100 * (mean[f, "dbn"] - mean[f, "adam"]) for f in config.label_fractions]
        notes.append("The Adam column is the honest footnote: the randomly started network that SGD barely moves "
                     "trains with an adaptive optimizer (" + ", ".join(
                         f"{mean[f, 'adam']:.1%} at {f:.0%}" for f in config.label_fractions) + "); the pretrained "
                     f"network (SGD) minus it: {min(ahead):+.1f} to {max(ahead):+.1f} points in this run.")
    plots = [_plot(ctx, config, mean)]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target(f"pretraining's gain at {scarce:.0%} of the labels (points)", 100 * gains[scarce],
                        config.gain_target),
                 Target(f"DBN test accuracy with {full:.0%} of the labels", mean[full, "dbn"], 0.9, percent=True)],
        tables=[table], notes=notes, plots=plots,
        metrics={"accuracy": {f"{f}/{start}": v for (f, start), v in accuracy.items()}, "seconds": seconds},
    )


def _plot(ctx: RunContext, config: Config, mean: dict) -> str:
    fig, ax = plot.figure(1, 1, size=(6, 4), title="What RBM pretraining buys, by share of labelled digits")
    fractions = list(config.label_fractions)
    series = {"DBN (RBM pretraining), SGD": [mean[f, "dbn"] for f in fractions],
              "same MLP, random start, SGD": [mean[f, "random"] for f in fractions]}
    if config.adam_reference:
        series["same MLP, random start, Adam"] = [mean[f, "adam"] for f in fractions]
    plot.curves(ax, series,
                x=[100 * f for f in fractions], title="held-out accuracy (mean over seeds)",
                xlabel="labelled training digits (%)", ylabel="test accuracy")
    ax.set_xscale("log")
    return ctx.save_figure(fig, "dbn")
