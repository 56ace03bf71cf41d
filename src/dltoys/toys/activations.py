"""Activations: one deep MLP, five nonlinearities, two curved data sets."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, train
from ..data import make_circles, make_moons, train_val_test_split
from ..models import MLP
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "activations"
TITLE = "Activations: sigmoid, tanh, ReLU, LeakyReLU and linear in one deep MLP"
SHOWS = (
    "The same 3-hidden-layer network, from the same initial weights and with the same SGD, on moons "
    "and circles: tanh and the ReLUs bend the boundary around the data; sigmoid's small derivative "
    "starves the first layers of gradient; the linear network, however deep, is one affine map whose "
    "boundary is a straight line."
)

#: Activations in the order of the grid's columns (names of dltoys.models.MLP).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "linear": "linear"}
#: Line styles of the loss plot: sigmoid and linear can both sit on the ln 2 line (circles), so the
#: linear one is dotted black over a thick sigmoid; every colour is one no other series is close to.
LOSS_STYLES = {
    "sigmoid": {"color": "#0072B2", "linewidth": 3.0, "alpha": 0.6},
    "tanh": {"color": "#D55E00"},
    "ReLU": {"color": "#009E73"},
    "LeakyReLU": {"color": "#CC79A7", "linestyle": (0, (4, 1.5))},
    "linear": {"color": "black", "linestyle": ":", "linewidth": 1.6},  # the ln 2 line is dashed grey
}
#: The nonlinear activations that must reach ``Config.nonlinear_target`` on both data sets.
MUST_LEARN = ("tanh", "relu", "leaky_relu")


@dataclass(frozen=True)
class Config(ToyConfig):
    # The test set is a fifth of the points: ten of them at least.
    n_samples: int = option(1000, "points per data set (60% train, 20% validation, 20% test)", min=50)
    moons_noise: float = option(0.2, "standard deviation of the noise on the moons", min=0)
    circles_noise: float = option(0.1, "standard deviation of the noise on the circles", min=0)
    circles_factor: float = option(0.5, "radius of the inner circle relative to the outer one", min=0, below=1)
    hidden_sizes: tuple[int, ...] = option((32, 32, 32), "widths of the hidden layers", min=1)
    lr: float = option(0.05, "SGD learning rate (the same for every activation)", above=0)
    momentum: float = option(0.9, "SGD momentum", min=0, max=1)
    batch_size: int = option(32, "minibatch size", min=1)
    epochs: int = option(400, "passes over the training set", min=1)
    nonlinear_target: float = option(
        0.95, "held-out accuracy tanh, ReLU and LeakyReLU must reach on both data sets", above=0, max=1)
    seed: int = option(0, "seed of the data, the split, the initial weights and the shuffles", min=0)


QUICK: dict = {"epochs": 100}


def linear_ceiling(config: Config) -> dict[str, float]:
    """The held-out accuracy a straight line should not beat: the linear network's ceiling.

    Moons: measured, not derived: logistic regression (the best line by log loss) reaches
    88-89% at noise 0.2, the nonlinear networks 96-98%; 92% leaves room for a luckier line
    on a 200-point test set.
    Circles (inner radius ``f``, before noise): the best line cuts off the arc of the outer
    ring beyond ``x = f``, a fraction ``arccos(f) / pi`` of it, and calls everything else
    inner: ``1/2 + arccos(f) / (2 pi)``, 67% for ``f = 1/2``.
    """
    return {"moons": 0.92, "circles": 0.5 + float(np.arccos(config.circles_factor)) / (2 * np.pi)}


def affine_map(model: MLP) -> tuple[np.ndarray, np.ndarray]:
    """Multiply out a network without nonlinearities into one affine map ``x -> x W^T + b``.

    Parameters
    ----------
    model : MLP built with ``activation="linear"`` (only Linear and Identity layers)

    Returns
    -------
    W : float64 ndarray of shape (n_outputs, n_inputs)
    b : float64 ndarray of shape (n_outputs,)

    Notes
    -----
    ``W_k(...(W_2(W_1 x + b_1) + b_2)...) + b_k = W x + b`` with
    ``W = W_k ... W_1`` and ``b = W_k(...(W_2 b_1 + b_2)...) + b_k``: the product is
    accumulated layer by layer in float64.
    """
    weight = np.eye(model.layer_sizes[0])  # (n_in, n_in)
    bias = np.zeros(model.layer_sizes[0])  # (n_in,)
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer_weight = layer.weight.data.astype(np.float64)  # (out, in)
            weight = layer_weight @ weight  # (out, n_in)
            bias = layer_weight @ bias + layer.bias.data  # (out,)
        elif not isinstance(layer, nn.Identity):
            raise TypeError(f"affine_map: {type(layer).__name__} is not affine; build the MLP with activation='linear'")
    return weight, bias


def _datasets(config: Config) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "moons": make_moons(config.n_samples, noise=config.moons_noise, rng=config.seed),
        "circles": make_circles(config.n_samples, noise=config.circles_noise, factor=config.circles_factor,
                                rng=config.seed),
    }


def _first_layer_grad_norm(model: MLP, X: np.ndarray, target: np.ndarray) -> float:
    """The gradient norm of the first layer's weights on the whole training set, at the current weights."""
    loss_fn = nn.BCEWithLogitsLoss()
    model.zero_grad()
    loss_fn(model(X), target)
    model.backward(loss_fn.backward())
    norm = float(np.linalg.norm(model[0].weight.grad))
    model.zero_grad()
    return norm


def _train(config: Config, layer_sizes: tuple[int, ...], activation: str, split, progress) -> dict:
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split
    target = y_train.astype(np.float32)[:, None]  # (N, 1)
    # The same seed gives every activation the same initial weights (activations have none).
    model = MLP(layer_sizes, activation=activation, rng=config.seed)
    grad_norm = _first_layer_grad_norm(model, X_train, target)
    started = time.perf_counter()
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum),
        X_train, target, validation_data=(X_val, y_val.astype(np.float32)[:, None]),
        metrics={"accuracy": train.binary_accuracy_logits},
        epochs=config.epochs, batch_size=config.batch_size, rng=config.seed, progress=progress,
    )
    seconds = time.perf_counter() - started
    test_logits = train.predict(model, X_test)  # (n_test, 1)
    return {
        "model": model, "history": history, "grad_norm": grad_norm, "seconds": seconds,
        "test_logits": test_logits,
        "test_accuracy": float(train.binary_accuracy_logits(test_logits, y_test)),
        "train_accuracy": float(train.binary_accuracy_logits(train.predict(model, X_train), y_train)),
    }


def run(config: Config, ctx: RunContext) -> Report:
    layer_sizes = (2, *config.hidden_sizes, 1)
    results: dict[str, dict[str, dict]] = {}
    splits = {}
    for data_name, (X, y) in _datasets(config).items():
        splits[data_name] = train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), stratify=y, rng=config.seed)
        results[data_name] = {
            activation: _train(config, layer_sizes, activation, splits[data_name], ctx.progress)
            for activation in ACTIVATIONS
        }
        # The best a straight line does: logistic regression, one Linear layer, trained the same way.
        results[data_name]["logistic"] = _train(config, (2, 1), "linear", splits[data_name], ctx.progress)

    # The deep linear network is one affine map: its logits equal x W^T + b for the composed W, b.
    collapse = {}
    for data_name, split in splits.items():
        X_test = split.test[0]
        weight, bias = affine_map(results[data_name]["linear"]["model"])
        affine_logits = X_test.astype(np.float64) @ weight.T + bias  # (n_test, 1)
        network_logits = results[data_name]["linear"]["test_logits"]
        scale = max(float(np.abs(affine_logits).max()), 1.0)
        collapse[data_name] = {
            "relative_difference": float(np.abs(network_logits - affine_logits).max() / scale),
            "weight": weight.ravel().tolist(), "bias": bias.tolist(),
        }

    plots = [_plot_boundaries(config, ctx, results, splits), _plot_losses(config, ctx, results)]
    targets = []
    for data_name in results:
        for activation in MUST_LEARN:
            reached = results[data_name][activation]["test_accuracy"]
            targets.append(Target(f"{LABELS[activation]} held-out accuracy on {data_name}", reached,
                                  config.nonlinear_target, percent=True))
    ceiling = linear_ceiling(config)
    for data_name in results:
        targets.append(Target(f"linear network held-out accuracy on {data_name} (no better than a line)",
                              results[data_name]["linear"]["test_accuracy"], ceiling[data_name],
                              at_least=False, percent=True))
    worst_collapse = max(c["relative_difference"] for c in collapse.values())
    targets.append(Target("linear network vs its composed affine map x W^T + b: max relative logit difference",
                          worst_collapse, 1e-5, at_least=False))

    rows = []
    for data_name, by_activation in results.items():
        for activation, result in by_activation.items():
            label = "logistic regression (one Linear layer)" if activation == "logistic" else LABELS[activation]
            rows.append([
                data_name, label, f"{result['train_accuracy']:.1%}", f"{result['test_accuracy']:.1%}",
                f"{result['history'].last('loss'):.3g}", f"{result['grad_norm']:.3g}", f"{result['seconds']:.1f}",
            ])
    table = Table(
        f"Held-out (test) accuracy after {config.epochs} epochs of SGD (lr {config.lr}, momentum {config.momentum})",
        ["data", "activation", "train accuracy", "test accuracy", "final training loss",
         "first-layer gradient norm at init", "training s"],
        rows,
    )
    def each(key):  # {data set: {activation: value}}
        return {d: {a: key(r) for a, r in by.items()} for d, by in results.items()}

    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=[table],
        notes=_notes(config, results, collapse),
        metrics={
            "layer_sizes": list(layer_sizes),
            "test_accuracy": each(lambda r: r["test_accuracy"]),
            "first_layer_grad_norm_at_init": each(lambda r: r["grad_norm"]),
            "linear_collapse": collapse,
            "history": each(lambda r: r["history"].to_dict()),
        },
    )


def _notes(config: Config, results: dict, collapse: dict) -> list[str]:
    notes = [
        "Every network starts from the same weights (one seed) and sees the same minibatches in the same "
        "order; only the nonlinearity differs. Accuracies are on the 20% test split, never trained on.",
    ]
    linear = {d: results[d]["linear"]["test_accuracy"] for d in results}
    logistic = {d: results[d]["logistic"]["test_accuracy"] for d in results}
    difference = max(c["relative_difference"] for c in collapse.values())
    circles_loss = results["circles"]["logistic"]["history"].last("loss")
    notes.append(
        f"The linear network has {len(config.hidden_sizes)} hidden layers, yet its logits equal one affine map "
        f"x W^T + b (largest relative difference {difference:.1e}, float32 rounding): it draws a straight line, "
        f"reaching {linear['moons']:.1%} on moons (logistic regression: {logistic['moons']:.1%}) and "
        f"{linear['circles']:.1%} on circles (logistic regression: {logistic['circles']:.1%}). On circles "
        f"log-loss training of a line ends at a loss of {circles_loss:.3f}"
        + (", ln 2, a coin toss" if abs(circles_loss - np.log(2)) < 0.01 else f" (ln 2 = {np.log(2):.3f} is a coin toss)")
        + "; the best line for accuracy, cutting off one side of the outer ring, would reach "
        f"{linear_ceiling(config)['circles']:.0%}, the target's ceiling."
    )
    sigmoid = {d: results[d]["sigmoid"]["test_accuracy"] for d in results}
    best = {d: max(results[d][a]["test_accuracy"] for a in MUST_LEARN) for d in results}
    grad_ratio = {d: results[d]["tanh"]["grad_norm"] / max(results[d]["sigmoid"]["grad_norm"], 1e-30)
                  for d in results}
    note = (
        "Sigmoid reaches " + " and ".join(f"{sigmoid[d]:.1%} on {d} (best of tanh/ReLU/LeakyReLU: {best[d]:.1%})"
                                          for d in results)
        + f" after {config.epochs} epochs. Its derivative is at most 1/4, so every sigmoid layer shrinks the "
        "gradient on its way back: at initialisation the first layer's gradient is "
        + " and ".join(f"{grad_ratio[d]:.0f} times smaller than tanh's on {d}" for d in results) + "."
    )
    lagging = [d for d in results if sigmoid[d] < best[d] - 0.02]
    if lagging:
        note += (
            " With the same learning rate and budget it has not caught up on " + " and ".join(lagging)
            + " (the loss curves show where it stalls); tanh, the same S-shape but zero-centred with slope 1 "
            "at 0, does not have this handicap."
        )
    notes.append(note)
    return notes


def _plot_boundaries(config: Config, ctx: RunContext, results: dict, splits: dict) -> str:
    fig, axes = plot.figure(len(results), len(ACTIVATIONS), size=(3.6 * len(ACTIVATIONS), 3.3 * len(results)),
                            title=f"One {len(config.hidden_sizes)}-hidden-layer MLP, five activations: decision "
                                  "boundaries and held-out accuracy (test points shown)")
    for row, (data_name, by_activation) in enumerate(results.items()):
        X_test, y_test = splits[data_name].test
        for col, activation in enumerate(ACTIVATIONS):
            model = by_activation[activation]["model"]
            plot.decision_boundary(
                axes[row, col], lambda grid, m=model: (train.predict(m, grid, batch_size=None)[:, 0] > 0).astype(int),
                X_test, y_test, resolution=150, margin=0.4,
                title=f"{data_name}, {LABELS[activation]}: {by_activation[activation]['test_accuracy']:.1%}",
            )
    plot.figure_legend(fig, axes.ravel(), ncol=2)  # every panel has the same two classes
    return ctx.save_figure(fig, "activations_boundaries")


def _plot_losses(config: Config, ctx: RunContext, results: dict) -> str:
    fig, axes = plot.figure(1, len(results), title="Training loss per activation (same weights, same batches)")
    for ax, (data_name, by_activation) in zip(axes, results.items()):
        plot.curves(ax, {LABELS[a]: by_activation[a]["history"]["loss"] for a in ACTIVATIONS},
                    title=f"{data_name}: SGD, lr {config.lr}, momentum {config.momentum}",
                    ylabel="binary cross-entropy (training)", log_y=True,
                    target=float(np.log(2)), target_label="ln 2: a coin toss", styles=LOSS_STYLES)
    plot.figure_legend(fig, axes, ncol=6)
    return ctx.save_figure(fig, "activations_losses")
