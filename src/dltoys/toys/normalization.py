"""Normalization: why batch normalization and dropout help, each measured against the same net without.

Measured while building this toy: on the noisy moons (60 points), dropout 0.5 narrowed the
train/test gap by 4.5-7.8 points and raised test accuracy by 0.8-2.8 points over seeds 0-3;
on the 8x8 digits with 50-100 training digits it did not help reliably (hence the moons).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, train
from ..data import load_digits, make_moons, train_val_test_split
from ..models import MLP
from .base import Report, RunContext, Table, Target, ToyConfig, option
from .digits import FRACTIONS

NAME = "normalization"
TITLE = "Normalization: batch norm lets a deep net train; dropout narrows the train/test gap"
SHOWS = (
    "(a) A 10-layer ReLU network on the 8x8 digits, with and without batch normalisation, same "
    "initialisation and learning rate: without it the signal shrinks layer after layer and the loss stays "
    "at chance; with it every layer's activations keep unit scale and the net trains. (b) A wide MLP on "
    "60 noisy two-moons points, with and without dropout: dropout stops it memorising the noise."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    depth: int = option(10, "(a) hidden layers of the deep network", min=2)
    width: int = option(64, "(a) units per hidden layer", min=1)
    lr: float = option(0.5, "(a) SGD learning rate (momentum 0.9) for both networks", above=0)
    epochs: int = option(20, "(a) passes over the digits' training part", min=1)
    accuracy_gain: float = option(0.5, "(a) test accuracy batch norm must add over the plain network", min=0, max=1)
    n_train: int = option(60, "(b) training points of the noisy moons", min=4)
    noise: float = option(0.35, "(b) noise of the moons", min=0)
    dropout: float = option(0.5, "(b) dropout after each hidden layer", above=0, below=1)
    dropout_epochs: int = option(300, "(b) passes over the small training set", min=1)
    gap_reduction: float = option(0.03, "(b) how much dropout must narrow the train/test accuracy gap", min=0)
    seed: int = option(0, "seed of the data, the weights, dropout and the shuffles", min=0)


QUICK: dict = {"epochs": 12}


def _relu_outputs(model: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Every hidden ReLU's output on ``x`` (in the model's current mode)."""
    outputs = []
    for layer in model:
        x = layer(x)
        if isinstance(layer, nn.ReLU):
            outputs.append(x)
    return outputs


def _activation_std(model: nn.Sequential, x: np.ndarray, training: bool) -> list[float]:
    probe = copy.deepcopy(model).train(training)  # a copy: measuring must not move running statistics
    return [float(h.std()) for h in _relu_outputs(probe, x)]


def _part_a(config: Config, progress) -> dict:
    X, y = load_digits()
    (X_train, y_train), _, (X_test, y_test) = train_val_test_split(X, y, fractions=FRACTIONS, stratify=y,
                                                                   rng=config.seed)
    probe = X_train[:256]
    runs = {}
    for label, batch_norm in (("plain", False), ("batch norm", True)):
        model = MLP((64, *(config.width,) * config.depth, 10), activation="relu", batch_norm=batch_norm,
                    rng=config.seed)
        before = _activation_std(model, probe, training=True)
        optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
        try:
            history = train.fit(model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, epochs=config.epochs,
                                batch_size=64, rng=config.seed, progress=progress)
            losses, diverged = list(history["loss"]), None
        except train.NonFiniteError as error:  # the plain net may blow up instead of stalling: that is the point
            losses, diverged = [], str(error).split("\n")[0]
        accuracy = 0.0 if diverged else float(np.mean(train.predict(model, X_test).argmax(axis=1) == y_test))
        runs[label] = {"losses": losses, "diverged": diverged, "test_accuracy": accuracy, "std_init": before,
                       "std_trained": [] if diverged else _activation_std(model, probe, training=False)}
    return runs


def _part_b(config: Config, progress) -> dict:
    X_train, y_train = make_moons(config.n_train, noise=config.noise, rng=config.seed)
    X_test, y_test = make_moons(2000, noise=config.noise, rng=config.seed + 1000)
    runs = {}
    for label, p in (("no dropout", 0.0), (f"dropout {config.dropout:g}", config.dropout)):
        model = MLP((2, 256, 256, 2), activation="relu", dropout=p, rng=config.seed)
        optimizer = optim.Adam(model.parameters(), lr=3e-3)
        train.fit(model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, epochs=config.dropout_epochs,
                  batch_size=16, rng=config.seed, progress=progress)
        train_acc = float(np.mean(train.predict(model, X_train).argmax(axis=1) == y_train))
        test_acc = float(np.mean(train.predict(model, X_test).argmax(axis=1) == y_test))
        runs[label] = {"model": model, "train_accuracy": train_acc, "test_accuracy": test_acc,
                       "gap": train_acc - test_acc}
    return {"runs": runs, "train": (X_train, y_train), "test": (X_test, y_test)}


def run(config: Config, ctx: RunContext) -> Report:
    with train.blas_threads(1):  # small matmuls: a second BLAS thread only waits
        deep = _part_a(config, ctx.progress)
        small = _part_b(config, ctx.progress)
    plain, normed = deep["plain"], deep["batch norm"]
    without, with_dropout = small["runs"].values()
    targets = [
        Target(f"(a) test accuracy batch norm adds to the {config.depth}-layer net (points)",
               100 * (normed["test_accuracy"] - plain["test_accuracy"]), 100 * config.accuracy_gain),
        Target("(b) train/test accuracy gap dropout removes (points)", 100 * (without["gap"] - with_dropout["gap"]),
               100 * config.gap_reduction),
    ]
    ratio = plain["std_init"][-1] / plain["std_init"][0] if plain["std_init"][0] else 0.0
    dead = sum(std == 0 for std in plain["std_trained"])
    plain_outcome = (f"diverged ({plain['diverged']})" if plain["diverged"] else
                     f"ended at training loss {plain['losses'][-1]:.3f} (chance is ln 10 = {np.log(10):.3f}), "
                     f"with {dead} of its {config.depth} hidden layers entirely silent (every ReLU at 0: not drawn "
                     "on the log scale)")
    notes = [
        f"(a) Same initialisation (PyTorch's), same SGD (lr {config.lr:g}, momentum 0.9), {config.epochs} epochs on "
        f"the digits toy's split. At initialisation the plain net's activations shrink from std "
        f"{plain['std_init'][0]:.3g} after layer 1 to {plain['std_init'][-1]:.3g} after layer {config.depth} "
        f"(x{ratio:.2g}), and the gradient flowing back shrinks alike. The plain net {plain_outcome}; "
        f"with batch norm every layer starts at std ~{np.mean(normed['std_init']):.2f} and the net reaches "
        f"{normed['test_accuracy']:.1%} on the test digits against the plain net's {plain['test_accuracy']:.1%}.",
        f"(b) {config.n_train} training points of two moons with noise {config.noise:g}, a 2-256-256-2 ReLU MLP, Adam, "
        f"{config.dropout_epochs} epochs, 2,000 test points. Without dropout: train {without['train_accuracy']:.1%}, "
        f"test {without['test_accuracy']:.1%} (gap {100 * without['gap']:.1f} points); with dropout "
        f"{config.dropout:g}: train {with_dropout['train_accuracy']:.1%}, test {with_dropout['test_accuracy']:.1%} "
        f"(gap {100 * with_dropout['gap']:.1f} points).",
    ]
    table = Table("Both parts, test accuracy", ["part", "without", "with", "difference (points)"], [
        [f"(a) {config.depth}-layer ReLU net, test digits", f"{plain['test_accuracy']:.1%}",
         f"{normed['test_accuracy']:.1%}", f"{100 * (normed['test_accuracy'] - plain['test_accuracy']):+.1f}"],
        ["(b) noisy moons, train/test gap", f"{100 * without['gap']:.1f}", f"{100 * with_dropout['gap']:.1f}",
         f"{100 * (with_dropout['gap'] - without['gap']):+.1f}"],
    ])
    plots = [_plot_batch_norm(ctx, config, deep), _plot_dropout(ctx, small)]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=[table], notes=notes,
        metrics={"batch_norm": deep,
                 "dropout": {k: {m: v for m, v in r.items() if m != "model"} for k, r in small["runs"].items()}},
    )


def _plot_batch_norm(ctx: RunContext, config: Config, deep: dict) -> str:
    fig, (ax_loss, ax_std) = plot.figure(1, 2, size=(11, 4.4), title=f"(a) A {config.depth}-layer ReLU net on the "
                                         f"digits, SGD lr {config.lr:g}: with and without batch norm")
    plot.curves(ax_loss, {label: r["losses"] for label, r in deep.items() if r["losses"]},
                title="training loss", ylabel="cross-entropy", target=float(np.log(10)), target_label="chance (ln 10)")
    layers = np.arange(1, config.depth + 1)
    series, xs = {}, {}
    for label, r in deep.items():
        for when in ("init", "trained"):
            values = r[f"std_{when}"]
            if values:
                series[f"{label}, {'at initialisation' if when == 'init' else 'after training'}"] = values
                xs[f"{label}, {'at initialisation' if when == 'init' else 'after training'}"] = layers
    plot.curves(ax_std, series, x=xs, log_y=True, title="std of each hidden layer's ReLU output (256 digits)",
                xlabel="hidden layer", ylabel="activation std")
    return ctx.save_figure(fig, "normalization_batchnorm")


def _plot_dropout(ctx: RunContext, small: dict) -> str:
    X_train, y_train = small["train"]
    fig, axes = plot.figure(1, 2, size=(11, 4.6), title="(b) The same wide MLP on 60 noisy points: "
                                                         "without and with dropout (training points shown)")
    for ax, (label, r) in zip(axes, small["runs"].items()):
        model = r["model"]
        plot.decision_boundary(ax, lambda grid, m=model: train.predict(m, grid).argmax(axis=1), X_train, y_train,
                               title=f"{label}: train {r['train_accuracy']:.0%}, test {r['test_accuracy']:.1%}")
    return ctx.save_figure(fig, "normalization_dropout")
