"""Semi-supervised digits: a few labels, many unlabelled digits; label spreading and self-training against MLPs."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from .. import plot
from ..data import load_digits
from ..models import ConvergenceWarning, LabelSpreading, MLPClassifier, SelfTrainingClassifier
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "semisupervised"
TITLE = "Semi-supervised digits: 1% to 10% of the labels"
SHOWS = (
    "Of 1,258 training digits only 1%, 2%, 5% or 10% keep their labels. An MLP trained on those alone is the "
    "floor, the same MLP on every label the ceiling; label spreading (Zhou et al. 2004) lets the labels flow "
    "along an RBF graph of all the training digits, and self-training adds the MLP's own confident guesses as "
    "labels, round after round. scikit-learn's label-spreading example (340 digits, 40 labels) is reproduced."
)

#: scikit-learn's example (plot_label_propagation_digits): 300 unlabelled digits, 269 right.
SKLEARN_EXAMPLE_ACCURACY = 269 / 300


@dataclass(frozen=True)
class Config(ToyConfig):
    fractions: tuple[float, ...] = option((0.01, 0.02, 0.05, 0.10), "shares of the training digits that keep "
                                          "their labels", above=0, max=1)
    n_seeds: int = option(5, "seeds (label draws, splits and MLP starts) per fraction", min=1)
    gamma: float = option(64.0, "label spreading's RBF gamma (scikit-learn's example: 0.25 on 0..16 pixels, "
                          "64 on the [0, 1] pixels used here)", above=0)
    alpha: float = option(0.2, "label spreading's share from the neighbours", above=0, below=1)
    threshold: float = option(0.95, "self-training adopts predictions more confident than this", min=0, below=1)
    self_training_rounds: int = option(10, "rounds of self-training at most", min=1)
    mlp_epochs: int = option(200, "full-batch Adam epochs of every MLP fit at most (MLPClassifier's max_iter; its "
                             "tol rule may stop earlier)", min=1)
    spreading_target_low: float = option(0.70, "label spreading's mean test accuracy at the smallest fraction",
                                         above=0, max=1)
    spreading_target_high: float = option(0.92, "label spreading's mean test accuracy at the largest fraction",
                                          above=0, max=1)
    supervised_target: float = option(0.96, "the fully supervised MLP's mean test accuracy", above=0, max=1)


QUICK: dict = {"n_seeds": 1, "self_training_rounds": 2}

#: Digits held out for testing (stratification is not needed at this size: ~54 per digit).
N_TEST = 539


def labelled_mlp(config: "Config", seed: int) -> MLPClassifier:
    """The one MLP of the toy: 64-64-10 ReLU, full-batch Adam (lr 0.01, L2 1e-3), at most ``mlp_epochs`` epochs."""
    return MLPClassifier(hidden_layer_sizes=(64,), batch_size=None, learning_rate_init=1e-2, alpha=1e-3,
                         max_iter=config.mlp_epochs, random_state=seed)


def draw_labels(y_pool: np.ndarray, n_labels: int, rng: np.random.Generator) -> np.ndarray:
    """Positions in the pool that keep their labels: one of each digit first, the rest at random."""
    one_each = np.array([rng.choice(np.flatnonzero(y_pool == digit)) for digit in np.unique(y_pool)])
    rest = np.setdiff1d(np.arange(len(y_pool)), one_each)
    extra = rng.choice(rest, max(n_labels - len(one_each), 0), replace=False)
    return np.concatenate([one_each, extra])


def sklearn_example() -> float:
    """scikit-learn's example: LabelSpreading(gamma=0.25, max_iter=20) on 340 digits (RandomState(2)), 40 labelled.

    Returns the accuracy on the 300 unlabelled digits. The legacy ``RandomState`` is the
    example's own generator, needed to draw the same 340 digits.
    """
    X, y = load_digits(dtype=np.float64)
    X = X * 16  # the example's 0..16 pixels
    indices = np.arange(len(X))
    np.random.RandomState(2).shuffle(indices)
    X, y = X[indices[:340]], y[indices[:340]]
    y_train = y.copy()
    y_train[40:] = -1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example stops at max_iter=20 too
        model = LabelSpreading(gamma=0.25, max_iter=20).fit(X, y_train)
    return float(np.mean(model.transduction_[40:] == y[40:]))


def run(config: Config, ctx: RunContext) -> Report:
    X, y = load_digits(dtype=np.float64)  # (1797, 64) pixels in [0, 1]
    methods = ("MLP on the labelled digits", "label spreading", "self-training (MLP + pseudo-labels)")
    accuracy = {m: np.zeros((config.n_seeds, len(config.fractions))) for m in methods}  # (S, F) each
    supervised = np.zeros(config.n_seeds)
    seconds = {m: 0.0 for m in (*methods, "fully supervised MLP")}
    for seed in range(config.n_seeds):
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(X))
        test, pool = order[:N_TEST], order[N_TEST:]
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            supervised[seed] = labelled_mlp(config, seed).fit(X[pool], y[pool]).score(X[test], y[test])
        seconds["fully supervised MLP"] += time.perf_counter() - started
        for column, fraction in enumerate(config.fractions):
            labelled = draw_labels(y[pool], max(int(round(fraction * len(pool))), 1), rng)
            y_semi = np.full(len(pool), -1)
            y_semi[labelled] = y[pool][labelled]
            mlp = labelled_mlp(config, seed)
            fits = {
                methods[0]: lambda: mlp.fit(X[pool][labelled], y[pool][labelled]),
                methods[1]: lambda: LabelSpreading(gamma=config.gamma, alpha=config.alpha, max_iter=100).fit(
                    X[pool], y_semi),
                methods[2]: lambda: SelfTrainingClassifier(labelled_mlp(config, seed),
                                                           threshold=config.threshold,
                                                           max_iter=config.self_training_rounds).fit(X[pool], y_semi),
            }
            for method, fit in fits.items():
                started = time.perf_counter()
                with warnings.catch_warnings():
                    # A fixed budget of epochs: stopping there (max_iter) is the plan, not a failure.
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    accuracy[method][seed, column] = fit().score(X[test], y[test])
                seconds[method] += time.perf_counter() - started
    example = sklearn_example()
    mean = {m: a.mean(axis=0) for m, a in accuracy.items()}  # (F,) each
    n_pool = len(X) - N_TEST
    labels_per_fraction = [max(int(round(f * n_pool)), 1) for f in config.fractions]
    rows = []
    for column, (fraction, n_labels) in enumerate(zip(config.fractions, labels_per_fraction)):
        rows.append([f"{fraction:.0%} ({n_labels} labels)"] + [_cell(accuracy[m][:, column]) for m in methods]
                    + [_cell(supervised)])
    rows.append(["scikit-learn's example: label spreading, 340 digits, 40 labels (on the 300 unlabelled)", "",
                 f"{example:.3f} (scikit-learn: 0.897)", "", ""])
    seeds_text = f"mean ± sd over {config.n_seeds} seeds" if config.n_seeds > 1 else "seed 0"
    tables = [Table(f"Test accuracy on {N_TEST} held-out digits ({seeds_text}; {n_pool} training digits)",
                    ["labels kept", *methods, "fully supervised MLP (all labels)"], rows)]
    targets = [
        Target(f"label spreading at {config.fractions[0]:.0%} labels ({seeds_text})", float(mean[methods[1]][0]),
               config.spreading_target_low),
        Target(f"label spreading at {config.fractions[-1]:.0%} labels ({seeds_text})", float(mean[methods[1]][-1]),
               config.spreading_target_high),
        Target(f"fully supervised MLP ({seeds_text})", float(supervised.mean()), config.supervised_target),
        Target("scikit-learn's example reproduced (269 of 300 unlabelled digits right)", example,
               SKLEARN_EXAMPLE_ACCURACY),
    ]
    gains = mean[methods[1]] - mean[methods[0]]
    st_gains = mean[methods[2]] - mean[methods[0]]
    notes = [
        "Label spreading over the labelled-only MLP: " + ", ".join(
            f"{100 * g:+.1f} points at {f:.0%}" for g, f in zip(gains, config.fractions)) + "; self-training over it: "
        + ", ".join(f"{100 * g:+.1f} points at {f:.0%}" for g, f in zip(st_gains, config.fractions)) + ".",
        f"Self-training ran at most {config.self_training_rounds} rounds, adopting predictions above "
        f"{config.threshold:g}; in this run it gained "
        + ("less than label spreading at every fraction" if np.all(st_gains < gains) else
           "more than label spreading at " + ", ".join(f"{f:.0%}" for f, a, b in zip(config.fractions, st_gains, gains)
                                                        if a >= b))
        + ". Its pseudo-labels come from the MLP alone, mistakes included; label spreading's come from a graph "
        "of where all the training digits lie.",
        "Seconds in total per method: " + ", ".join(f"{m} {s:.1f}" for m, s in seconds.items()) + ".",
    ]
    plots = [_plot(ctx, config, accuracy, supervised, methods)]
    return Report(toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=tables, notes=notes,
                  metrics={"fractions": list(config.fractions), "labels": labels_per_fraction,
                           "accuracy": {m: a.tolist() for m, a in accuracy.items()},
                           "supervised": supervised.tolist(), "sklearn_example": example})


def _cell(values: np.ndarray) -> str:
    return f"{values.mean():.3f} ± {values.std():.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def _plot(ctx: RunContext, config: Config, accuracy: dict, supervised: np.ndarray, methods) -> str:
    fig, ax = plot.figure(size=(7, 4.6), title="Digits with few labels: test accuracy against the labelled share")
    fractions = 100 * np.asarray(config.fractions)
    for method in methods:
        values = accuracy[method]
        ax.errorbar(fractions, values.mean(axis=0), yerr=values.std(axis=0) if len(values) > 1 else None,
                    marker="o", capsize=3, label=method)
    ax.axhline(supervised.mean(), color="black", linestyle="--", label="fully supervised MLP (all labels)")
    ax.set_xscale("log")
    ax.set_xticks(fractions, [f"{f:g}%" for f in fractions])
    plot.finish(ax, f"{config.n_seeds} seed(s) per point", "labelled share of the training digits",
                "test accuracy", legend=True)
    return ctx.save_figure(fig, "semisupervised")
