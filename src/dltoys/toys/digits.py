"""Digits: an MLP on scikit-learn's 8x8 handwritten digits, next to scikit-learn's own models."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, runtime, train
from ..data import load_digits, train_val_test_split
from ..models import MLP
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "digits"
TITLE = "Digits: a 64-128-10 MLP on the 8x8 handwritten digits"
SHOWS = (
    "One hidden layer of 128 ReLUs, trained with Adam (decoupled weight decay) and dropout, reads "
    "held-out handwritten digits; scikit-learn's MLPClassifier and LogisticRegression, trained on the "
    "same split, are the reference rows, and the confusion matrix shows which digits it mixes up."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    hidden_sizes: tuple[int, ...] = option((128,), "widths of the hidden ReLU layers", min=1)
    dropout: float = option(0.2, "dropout after each hidden layer", min=0, below=1)
    lr: float = option(0.003, "AdamW learning rate", above=0)
    weight_decay: float = option(0.01, "AdamW decoupled weight decay", min=0)
    batch_size: int = option(32, "minibatch size", min=1)
    epochs: int = option(60, "passes over the training set", min=1)
    test_target: float = option(0.97, "test accuracy the MLP must reach", above=0, max=1)
    references: bool = option(True, "also train scikit-learn's MLPClassifier and LogisticRegression on the same split")
    seed: int = option(0, "seed of the split, the initial weights, dropout and the shuffles", min=0)


QUICK: dict = {"epochs": 30}


#: Train / validation / test shares, stratified by digit.
FRACTIONS = (0.7, 0.1, 0.2)


def _fit_mlp(config: Config, split, progress) -> dict:
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = split
    model = MLP((64, *config.hidden_sizes, 10), activation="relu", dropout=config.dropout, rng=config.seed)
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    started = time.perf_counter()
    history = train.fit(
        model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, validation_data=(X_val, y_val),
        metrics=["accuracy"], epochs=config.epochs, batch_size=config.batch_size, rng=config.seed, progress=progress,
    )
    seconds = time.perf_counter() - started
    predicted = train.predict(model, X_test).argmax(axis=1)  # (n_test,)
    return {"model": model, "history": history, "seconds": seconds, "predicted": predicted,
            "test_accuracy": float(np.mean(predicted == y_test)),
            "parameters": model.num_parameters()}


def _fit_references(config: Config, split) -> dict[str, dict]:
    """scikit-learn's MLPClassifier (same hidden layers) and LogisticRegression, on the training part."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    (X_train, y_train), _, (X_test, y_test) = split
    models = {
        f"scikit-learn MLPClassifier {tuple(config.hidden_sizes)} (Adam, its defaults)":
            MLPClassifier(hidden_layer_sizes=tuple(config.hidden_sizes), max_iter=300, random_state=config.seed),
        "scikit-learn LogisticRegression (L2, C=1)": LogisticRegression(max_iter=2000),
    }
    results = {}
    for label, model in models.items():
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
        if hasattr(model, "coefs_"):  # MLPClassifier: one weight matrix and bias vector per layer
            parameters = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        else:
            parameters = model.coef_.size + model.intercept_.size
        results[label] = {
            "test_accuracy": float(model.score(X_test, y_test)), "seconds": seconds, "parameters": int(parameters),
            "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        }
    return results


def run(config: Config, ctx: RunContext) -> Report:
    X, y = load_digits()  # (1797, 64) pixels in [0, 1], labels 0..9
    split = train_val_test_split(X, y, fractions=FRACTIONS, stratify=y, rng=config.seed)
    (X_train, _), (X_val, _), (X_test, y_test) = split
    # One BLAS thread for all three models, so their times compare: on a busy 2-core machine a
    # second OpenBLAS thread made scikit-learn's MLPClassifier over ten times slower.
    with runtime.blas_threads(1):
        ours = _fit_mlp(config, split, ctx.progress)
        references = _fit_references(config, split) if config.references else {}

    sizes = "-".join(str(s) for s in (64, *config.hidden_sizes, 10))
    label = f"dltoys MLP {sizes} (ReLU, dropout {config.dropout:g}, AdamW, {config.epochs} epochs)"
    rows = [[label, f"{ours['test_accuracy']:.1%}", f"{ours['seconds']:.2f}", ours["parameters"]]]
    for name, result in references.items():
        note = "" if result["converged"] else " (hit max_iter)"
        rows.append([name + note, f"{result['test_accuracy']:.1%}", f"{result['seconds']:.2f}", result["parameters"]])
    table = Table(
        f"Test accuracy on the same {len(X_test)} held-out digits (trained on {len(X_train)}; one BLAS thread each)",
        ["model", "test accuracy", "training s", "parameters"], rows,
    )

    counts = plot.confusion_counts(y_test, ours["predicted"], n_classes=10)
    true_digits, said_digits = np.nonzero(counts - np.diag(np.diag(counts)))  # the off-diagonal cells
    mistakes = ", ".join(f"{t} read as {s}" + (f" ({counts[t, s]} times)" if counts[t, s] > 1 else "")
                         for t, s in zip(true_digits, said_digits)) or "none"
    notes = [
        f"Split {FRACTIONS[0]:.0%} / {FRACTIONS[1]:.0%} / {FRACTIONS[2]:.0%} (train / validation / test), "
        f"stratified by digit, seed {config.seed}; the validation part ({len(X_val)} digits) only draws the curve "
        "in the plot, the test part is touched once, at the end. scikit-learn's models train on the same "
        "training part.",
        f"The MLP gets {int(np.trace(counts))} of {len(y_test)} test digits right; its mistakes: {mistakes}.",
    ]
    if references:
        best_name, best = max(references.items(), key=lambda item: item[1]["test_accuracy"])
        gap = ours["test_accuracy"] - best["test_accuracy"]
        notes.append(
            f"Against the best reference ({best_name.split(' (')[0]}, {best['test_accuracy']:.1%}): "
            f"{'+' if gap >= 0 else ''}{100 * gap:.1f} points, "
            f"{abs(gap) * len(y_test):.0f} digit{'s' if round(abs(gap) * len(y_test)) != 1 else ''} of {len(y_test)}; "
            f"on a test set this size one digit is {100 / len(y_test):.2g} points, so differences of a point or two "
            "are within the noise of the split."
        )
    plots = [_plot_results(ctx, config, ours, counts), _plot_mistakes(ctx, X_test, y_test, ours["predicted"])]
    plots = [p for p in plots if p]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target(f"MLP test accuracy on {len(y_test)} held-out digits", ours["test_accuracy"],
                        config.test_target, percent=True)],
        plots=plots, tables=[table], notes=notes,
        metrics={
            "test_accuracy": ours["test_accuracy"],
            "references": references,
            "confusion_matrix": counts.tolist(),
            "history": ours["history"].to_dict(),
        },
    )


def _plot_results(ctx: RunContext, config: Config, ours: dict, counts: np.ndarray) -> str:
    fig, (ax_curves, ax_matrix) = plot.figure(1, 2, size=(11, 4.6), title="8x8 digits: MLP training and "
                                              "its confusion matrix on the test digits")
    history = ours["history"]
    plot.curves(ax_curves, {"training (dropout on)": history["accuracy"], "validation": history["val_accuracy"]},
                title="accuracy against epochs", ylabel="accuracy",
                target=config.test_target, target_label=f"test target ({config.test_target:.0%})")
    lowest = min(min(history["accuracy"]), min(history["val_accuracy"]))  # every epoch stays in the plot
    ax_curves.set_ylim(max(0.0, lowest - 0.02), 1.005)
    plot.confusion_matrix(ax_matrix, counts, title=f"test digits: {ours['test_accuracy']:.1%} correct",
                          xlabel="predicted digit", ylabel="true digit")
    return ctx.save_figure(fig, "digits")


def _plot_mistakes(ctx: RunContext, X_test: np.ndarray, y_test: np.ndarray, predicted: np.ndarray,
                   most: int = 12) -> str | None:
    wrong = np.flatnonzero(predicted != y_test)[:most]
    if len(wrong) == 0:
        return None
    ncols = min(len(wrong), 6)
    nrows = -(-len(wrong) // ncols)
    fig, axes = plot.figure(nrows, ncols, size=(1.7 * ncols, 1.9 * nrows + 0.4), squeeze=False,
                            title=f"Misclassified test digits ({len(wrong)} of {int(np.sum(predicted != y_test))})")
    plot.image_grid(axes, X_test[wrong], [f"true {y_test[i]}, said {predicted[i]}" for i in wrong])
    return ctx.save_figure(fig, "digits_mistakes")
