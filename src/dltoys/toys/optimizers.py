"""Optimizers: six ways to train the same network on 3-class spirals, on the same budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import nn, optim, plot, train
from ..data import make_spirals, train_val_test_split
from ..models import MLP
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "optimizers"
TITLE = "Optimizers: random search to Adam on 3-class spirals"
SHOWS = (
    "The same network from the same initial weights sees the same minibatches in the same order under "
    "six optimizers, each with its step size tuned on validation data: guessing (random search, hill "
    "climbing) barely moves a network's loss, gradients do, and per-weight step sizes (RMSprop, Adam) "
    "get there in the fewest epochs."
)


class Contender(NamedTuple):
    """An optimizer of the race: how to build it from one hyperparameter, and the values tried."""

    label: str
    knob: str  # the hyperparameter the sweep tunes
    grid: tuple[float, ...]  # four factor-of-3 steps around the usual default
    build: Callable[[list, float, int], optim.Optimizer]
    gradient_free: bool = False


CONTENDERS = (
    Contender("random search", "scale", (0.1, 0.3, 1.0, 3.0),
              lambda params, value, seed: optim.RandomSearch(params, scale=value, rng=seed), gradient_free=True),
    Contender("hill climbing", "step_size", (0.003, 0.01, 0.03, 0.1),
              lambda params, value, seed: optim.HillClimb(params, step_size=value, rng=seed), gradient_free=True),
    Contender("SGD", "lr", (0.03, 0.1, 0.3, 1.0), lambda params, value, seed: optim.SGD(params, lr=value)),
    Contender("SGD + momentum 0.9", "lr", (0.003, 0.01, 0.03, 0.1),
              lambda params, value, seed: optim.SGD(params, lr=value, momentum=0.9)),
    Contender("RMSprop", "lr", (0.001, 0.003, 0.01, 0.03), lambda params, value, seed: optim.RMSprop(params, lr=value)),
    Contender("Adam", "lr", (0.01, 0.03, 0.1, 0.3), lambda params, value, seed: optim.Adam(params, lr=value)),
)


@dataclass(frozen=True)
class Config(ToyConfig):
    # Ten points per class at least.
    n_samples: int = option(900, "spiral points, 3 classes (60% train, 20% validation, 20% test)", min=30)
    noise: float = option(0.2, "standard deviation of the angle noise of the spirals (radians)", min=0)
    hidden_sizes: tuple[int, ...] = option((64, 64), "widths of the hidden ReLU layers", min=1)
    epochs: int = option(100, "passes over the training set: the budget every optimizer gets", min=1)
    batch_size: int = option(32, "minibatch size (one optimizer step per minibatch)", min=1)
    adam_target: float = option(0.90, "held-out accuracy Adam must reach", above=0, max=1)
    seed: int = option(0, "seed of the data, the split, the initial weights, the shuffles and the searches", min=0)


QUICK: dict = {"epochs": 40}


def _race(config: Config, contender: Contender, value: float, split, progress) -> dict:
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split
    # Same seed: the same initial weights for every optimizer and every value of the sweep.
    model = MLP((2, *config.hidden_sizes, 3), activation="relu", rng=config.seed)
    optimizer = contender.build(model.parameters(), value, config.seed)
    history = train.fit(
        model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, validation_data=(X_val, y_val),
        metrics=["accuracy"], epochs=config.epochs, batch_size=config.batch_size,
        rng=config.seed,  # the same shuffles, so the same minibatches in the same order
        progress=progress,
    )
    last_quarter = max(1, config.epochs // 4)
    return {
        "value": value, "model": model, "history": history,
        # What the sweep ranks by: averaged over the last quarter of the run, so that one lucky or
        # unlucky epoch of a high learning rate does not decide.
        "score": float(np.mean(history["val_accuracy"][-last_quarter:])),
        "val_accuracy": history.last("val_accuracy"),
        "test_accuracy": train.evaluate(model, None, X_test, y_test, metrics=["accuracy"])["accuracy"],
        "seconds": float(np.sum(history["time"])),
    }


def run(config: Config, ctx: RunContext) -> Report:
    X, y = make_spirals(config.n_samples, 3, noise=config.noise, rng=config.seed)
    split = train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), stratify=y, rng=config.seed)
    sweeps: dict[str, list[dict]] = {}
    best: dict[str, dict] = {}
    for contender in CONTENDERS:
        sweeps[contender.label] = [_race(config, contender, value, split, ctx.progress) for value in contender.grid]
        # Tuned on validation data only; the first of equal scores (the smaller step) wins.
        best[contender.label] = max(sweeps[contender.label], key=lambda r: r["score"])

    steps = len(best["Adam"]["history"].steps())
    rows = []
    for contender in CONTENDERS:
        result = best[contender.label]
        tried = ", ".join(f"{r['value']:g}: {r['score']:.1%}" for r in sweeps[contender.label])
        rows.append([
            contender.label, f"{contender.knob} = {result['value']:g}", tried,
            "3 forward + a random draw per weight" if contender.gradient_free else "1 forward + 1 backward",
            _first_epoch_at(result["history"], config.adam_target),
            f"{result['history'].last('loss'):.3g}", f"{result['val_accuracy']:.1%}", f"{result['test_accuracy']:.1%}",
            f"{result['seconds']:.2f}",
        ])
    table = Table(
        f"Every optimizer: {config.epochs} epochs = {steps} steps on the same minibatches, from the same weights",
        ["optimizer", "picked", "value tried: mean validation accuracy, last quarter of the epochs", "work per step",
         f"first epoch at {config.adam_target:.0%} validation accuracy", "final training loss",
         "validation accuracy", "test accuracy", "training s"],
        rows,
    )
    adam = best["Adam"]
    # The toy's claim: with the same budget, every gradient method beats both searches (measured with
    # seed 0: 95% worst gradient method against 74% best search, quick and full mode).
    worst_gradient = min(best[c.label]["test_accuracy"] for c in CONTENDERS if not c.gradient_free)
    best_search = max(best[c.label]["test_accuracy"] for c in CONTENDERS if c.gradient_free)
    targets = [
        Target("Adam held-out (test) accuracy on 3-class spirals", adam["test_accuracy"], config.adam_target, percent=True),
        Target("worst gradient method minus best gradient-free search, held-out accuracy", worst_gradient - best_search,
               0.10, percent=True),
    ]
    ranked = sorted(CONTENDERS, key=lambda c: best[c.label]["test_accuracy"])
    notes = [
        f"Budget: {config.epochs} epochs of the same {steps} minibatch steps for everyone (batch size "
        f"{config.batch_size}). A gradient step costs one forward and one backward pass. A gradient-free step "
        "costs three forward passes (the search re-measures the best weights on the new batch and then its "
        "proposal; the training loop scores the weights kept for the training accuracy) and a random number "
        "for every weight: comparable work, so the top-right panel compares against wall time as well.",
        "Each optimizer's one hyperparameter was picked from the grid in the table (factor-of-3 steps around "
        "the usual defaults) by its mean validation accuracy over the last quarter of the epochs; the test "
        "split was used only for the test column.",
        "Ranking on held-out data: " + " < ".join(f"{c.label} {best[c.label]['test_accuracy']:.0%}" for c in ranked)
        + (f". Every gradient method beats both searches here. The network has {adam['model'].num_parameters()} "
           "weights: a random guess is right in all of them at once with vanishing odds, and a hill-climbing nudge "
           "is nearly orthogonal to the downhill direction, which the gradient gives for free."
           if worst_gradient > best_search else
           f". In this run a gradient-free search ({best_search:.0%}) did at least as well as the worst gradient "
           f"method ({worst_gradient:.0%}): the budget or the learning-rate grid was too small for the gradient "
           "methods to pull ahead."),
        *_random_search_note(best["random search"], config),
        "Wall time is measured in this run on a shared machine (validation included, the same for every "
        "optimizer); take its ratios, not its seconds.",
    ]
    plots = [_plot_race(config, ctx, best, split)]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=[table], notes=notes,
        metrics={
            "steps": steps,
            "picked": {label: r["value"] for label, r in best.items()},
            "test_accuracy": {label: r["test_accuracy"] for label, r in best.items()},
            "sweep_score": {label: {str(r["value"]): r["score"] for r in runs} for label, runs in sweeps.items()},
            "history": {label: r["history"].to_dict() for label, r in best.items()},
        },
    )


def _first_epoch_at(history: train.History, level: float) -> str:
    reached = [epoch for epoch, value in zip(history.epochs, history["val_accuracy"]) if value >= level]
    return str(reached[0]) if reached else "never"


def _random_search_note(result: dict, config: Config) -> list[str]:
    """Why random search's loss can end above ln 3, the loss of a uniform guess, when it did in this run."""
    losses = np.asarray(result["history"]["loss"])
    worst = int(np.argmax(losses))
    if losses[worst] <= np.log(3):
        return []
    return [
        f"Random search's training loss rises above ln 3 = {np.log(3):.3f}, the loss of a uniform guess (to "
        f"{losses[worst]:.2f} in epoch {worst + 1}). It keeps a fresh draw whenever the draw beats the kept "
        f"weights on one minibatch of {config.batch_size} rows, so a draw that is lucky on those rows replaces "
        f"better weights; and weights drawn from U[-{result['value']:g}, {result['value']:g}] make confident "
        "predictions, each confident mistake costing more than the uniform guess's ln 3. Accuracy (bottom left) "
        "is the fairer view of it."
    ]


def _plot_race(config: Config, ctx: RunContext, best: dict, split) -> str:
    fig, axes = plot.figure(2, 2, size=(11, 8), title=f"Six optimizers, one network, {config.epochs} epochs on "
                                                        "3-class spirals (each with its tuned step size)")
    losses = {label: r["history"]["loss"] for label, r in best.items()}
    uniform = {"target": float(np.log(3)), "target_label": "ln 3: the loss of a uniform guess"}
    plot.curves(axes[0, 0], losses, title="training loss against epochs", ylabel="cross-entropy (training)", log_y=True,
                **uniform)
    plot.curves(axes[0, 1], losses, x={label: np.cumsum(r["history"]["time"]) for label, r in best.items()},
                title="training loss against wall time", xlabel="seconds (measured in this run)",
                ylabel="cross-entropy (training)", log_y=True, **uniform)
    plot.curves(axes[1, 0], {label: r["history"]["val_accuracy"] for label, r in best.items()},
                title="validation accuracy against epochs", ylabel="accuracy (validation)")
    # Three reference lines in one legend: each its own style (ln 3 is the curves' dashed target line).
    axes[1, 0].axhline(config.adam_target, color="black", linestyle="-.", linewidth=1,
                       label=f"Adam's target ({config.adam_target:.0%}, on test data)")
    axes[1, 0].axhline(1 / 3, color="0.6", linestyle=":", linewidth=1.2, label="chance accuracy (1/3)")
    axes[1, 0].set_ylim(0, 1.02)
    plot.figure_legend(fig, [axes[0, 0], axes[0, 1], axes[1, 0]], ncol=3)
    adam = best["Adam"]
    X_test, y_test = split.test
    plot.decision_boundary(
        axes[1, 1], lambda grid: train.predict(adam["model"], grid, batch_size=None).argmax(axis=1), X_test, y_test,
        title=f"Adam's network: {adam['test_accuracy']:.1%} on the test points shown", margin=0.2,
    )
    return ctx.save_figure(fig, "optimizers")
