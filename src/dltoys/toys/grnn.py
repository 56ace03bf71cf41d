"""GRNN: kernel regression whose only learned number is the kernel's width, chosen by leave-one-out."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import plot
from ..models import GRNN, MLPRegressor
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "grnn"
TITLE = "GRNN: Specht's kernel regression, sigma by leave-one-out"
SHOWS = (
    "A general regression neural network stores its training set and answers with a Gaussian-weighted mean of "
    "the stored targets. On a noisy 1-D curve a sigma ten times too small copies the noise and one ten times "
    "too large flattens the curve; the closed-form leave-one-out error finds the width between them. On "
    "scikit-learn's diabetes set it stands beside k-nearest neighbours, an MLP and least squares."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    n_train: int = option(150, "noisy samples of the 1-D curve", min=10)
    noise: float = option(0.3, "standard deviation of the 1-D curve's noise", min=0)
    curve_target: float = option(0.02, "MSE against the true curve the leave-one-out sigma must reach", above=0)
    diabetes_r2_target: float = option(0.35, "test R^2 the per-feature GRNN must reach on diabetes", max=1)
    mlp_epochs: int = option(300, "most epochs of the diabetes MLP (early stopping on a validation fifth)", min=1)
    seed: int = option(0, "seed of the samples, the splits and the MLP", min=0)


QUICK: dict = {}


def curve(x: np.ndarray) -> np.ndarray:
    """The 1-D truth, ``sin(x) + sin(3x) / 2`` on [0, 2 pi]."""
    return np.sin(x) + 0.5 * np.sin(3 * x)


def run(config: Config, ctx: RunContext) -> Report:
    rng = np.random.default_rng(config.seed)
    x = rng.uniform(0, 2 * np.pi, (config.n_train, 1))  # (N, 1)
    y = curve(x[:, 0]) + config.noise * rng.standard_normal(config.n_train)
    grid = np.linspace(0, 2 * np.pi, 1000)[:, None]  # (1000, 1)
    chosen = GRNN(dtype=np.float64).fit(x, y)
    best = float(chosen.sigma_[0])
    fits = {}
    for label, sigma in (("too small (LOO / 10)", best / 10), ("leave-one-out", best), ("too large (LOO x 10)", best * 10)):
        model = GRNN(sigma=sigma, dtype=np.float64).fit(x, y)
        predicted = model.predict(grid)
        fits[label] = {"sigma": sigma, "predicted": predicted, "loo": chosen.loo_error(sigma),
                       "mse": float(np.mean((predicted - curve(grid[:, 0])) ** 2))}
    curve_rows = [[label, f"{fit['sigma']:.4g}", f"{fit['loo']:.4f}", f"{fit['mse']:.4f}"] for label, fit in fits.items()]

    diabetes = _diabetes(config)
    r2 = diabetes["rows"]["GRNN, one sigma per feature (LOO coordinate search)"]["r2"]
    targets = [
        Target("1-D: MSE against the true curve, leave-one-out sigma", fits["leave-one-out"]["mse"],
               config.curve_target, at_least=False),
        Target("1-D: the LOO sigma's MSE below both mistuned sigmas' (their smaller MSE is the goal)",
               fits["leave-one-out"]["mse"], min(fits["too small (LOO / 10)"]["mse"], fits["too large (LOO x 10)"]["mse"]),
               at_least=False),
        Target("diabetes: test R^2 of the per-feature GRNN", r2, config.diabetes_r2_target),
    ]
    tables = [
        Table(f"Noisy 1-D curve ({config.n_train} samples, noise {config.noise:g}): three sigmas",
              ["sigma", "value", "leave-one-out MSE", "MSE against the truth"], curve_rows),
        Table(f"Diabetes: test MSE on {diabetes['n_test']} held-out patients (trained on {diabetes['n_train']})",
              ["model", "test MSE", "test R^2", "how it was tuned", "s"],
              [[name, f"{row['mse']:.0f}", f"{row['r2']:.3f}", row["tuned"], f"{row['seconds']:.2f}"]
               for name, row in diabetes["rows"].items()]),
    ]
    ranked = sorted(diabetes["rows"].items(), key=lambda item: item[1]["mse"])
    notes = [
        f"Leave-one-out picked sigma = {best:.3g} from {len(chosen.loo_curve_[0])} candidates: its MSE against the "
        f"true curve is {fits['leave-one-out']['mse']:.4f}, against {fits['too small (LOO / 10)']['mse']:.4f} (too "
        f"small) and {fits['too large (LOO x 10)']['mse']:.4f} (too large). The noise variance is {config.noise ** 2:.3f}, "
        f"which the leave-one-out error ({fits['leave-one-out']['loo']:.4f}) cannot go below.",
        "Diabetes, best to worst: " + ", ".join(f"{name.split(' (')[0]} {row['mse']:.0f}" for name, row in ranked) +
        f". With {diabetes['n_test']} test patients the standard error of a test MSE is about "
        f"{diabetes['mse_se']:.0f}, so neighbouring rows are within the noise of the split.",
        "Per-feature sigmas (standardised features): " + ", ".join(
            f"{name} {s:.2g}" for name, s in zip(diabetes["feature_names"], diabetes["sigmas"])) +
        " — a wide sigma means the feature barely matters to the estimate.",
    ]
    plots = [_plot_curve(ctx, x, y, grid, fits, chosen)]
    return Report(toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=tables, notes=notes,
                  metrics={"sigma_loo": best, "curve": {k: {"sigma": v["sigma"], "mse": v["mse"], "loo": v["loo"]}
                                                        for k, v in fits.items()},
                           "diabetes": {k: {kk: vv for kk, vv in v.items()} for k, v in diabetes["rows"].items()},
                           "diabetes_sigmas": diabetes["sigmas"]})


def _diabetes(config: Config) -> dict:
    """Standardised diabetes (70/30 split by seed): two GRNNs, k-NN, an MLP, least squares and the mean."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    X, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.float64)
    order = np.random.default_rng(config.seed).permutation(len(X))
    n_train = int(round(0.7 * len(X)))
    train_rows, test_rows = order[:n_train], order[n_train:]
    mean, spread = X[train_rows].mean(axis=0), X[train_rows].std(axis=0)
    X = (X - mean) / spread
    X_train, y_train, X_test, y_test = X[train_rows], y[train_rows], X[test_rows], y[test_rows]
    baseline = float(np.mean((y_test - y_test.mean()) ** 2))
    rows: dict[str, dict] = {}

    def add(name: str, predicted: np.ndarray, tuned: str, seconds: float) -> None:
        errors = (predicted - y_test) ** 2
        rows[name] = {"mse": float(errors.mean()), "r2": 1 - float(errors.mean()) / baseline, "tuned": tuned,
                      "seconds": seconds}

    started = time.perf_counter()
    common = GRNN(dtype=np.float64).fit(X_train, y_train)
    add("GRNN, one sigma (LOO)", common.predict(X_test), f"sigma {common.sigma_[0]:.2f} by leave-one-out",
        time.perf_counter() - started)
    started = time.perf_counter()
    separate = GRNN(per_feature=True, dtype=np.float64).fit(X_train, y_train)
    add("GRNN, one sigma per feature (LOO coordinate search)", separate.predict(X_test),
        "10 sigmas by leave-one-out", time.perf_counter() - started)
    started = time.perf_counter()
    k, predicted = _knn(X_train, y_train, X_test)
    add("k-nearest neighbours (mean of k)", predicted, f"k = {k} by leave-one-out", time.perf_counter() - started)
    started = time.perf_counter()
    predicted, epochs = _mlp(X_train, y_train, X_test, config)
    add("MLPRegressor 10-32-1 (tanh, Adam)", predicted, f"early stopping on a validation fifth ({epochs} epochs)",
        time.perf_counter() - started)
    design = np.column_stack([X_train, np.ones(len(X_train))])
    coef = np.linalg.lstsq(design, y_train, rcond=None)[0]
    add("least squares (linear)", np.column_stack([X_test, np.ones(len(X_test))]) @ coef, "none", 0.0)
    add("the training mean", np.full(len(y_test), y_train.mean()), "none", 0.0)
    mse_se = float(np.std((separate.predict(X_test) - y_test) ** 2) / np.sqrt(len(y_test)))
    return {"rows": rows, "n_train": n_train, "n_test": len(test_rows), "sigmas": separate.sigma_.tolist(),
            "feature_names": list(bunch.feature_names), "mse_se": mse_se}


def _knn(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, most: int = 50) -> tuple[int, np.ndarray]:
    """k-NN regression with k (1..most) by leave-one-out on the training part."""
    squared = ((X_train[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2)  # (N, N), small N
    np.fill_diagonal(squared, np.inf)
    neighbours = np.argsort(squared, axis=1)[:, :most]  # (N, most)
    running = np.cumsum(y_train[neighbours], axis=1) / np.arange(1, most + 1)  # (N, most): mean of the first k
    k = int(np.argmin(((running - y_train[:, None]) ** 2).mean(axis=0))) + 1
    to_test = ((X_test[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=2)  # (M, N)
    return k, y_train[np.argsort(to_test, axis=1)[:, :k]].mean(axis=1)


def _mlp(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, config: Config) -> tuple[np.ndarray, int]:
    """MLPRegressor 10-32-1 (tanh) on standardised targets, early stopping on a validation fifth of the training part."""
    centre, scale = y_train.mean(), y_train.std()
    model = MLPRegressor(hidden_layer_sizes=(32,), activation="tanh", early_stopping=True, validation_fraction=0.2,
                         n_iter_no_change=20, max_iter=config.mlp_epochs, random_state=config.seed)
    model.fit(X_train, (y_train - centre) / scale)
    return model.predict(X_test) * scale + centre, model.n_iter_


def _plot_curve(ctx: RunContext, x, y, grid, fits: dict, chosen: GRNN) -> str:
    fig, axes = plot.figure(1, 4, size=(17, 3.8), title="GRNN on a noisy curve: sigma too small, chosen, too large")
    truth = curve(grid[:, 0])
    for ax, (label, fit) in zip(axes[:3], fits.items()):
        ax.scatter(x[:, 0], y, s=8, color="0.6", label="noisy samples")
        ax.plot(grid[:, 0], truth, color="black", linestyle="--", linewidth=1, label="truth")
        ax.plot(grid[:, 0], fit["predicted"], linewidth=2, label="GRNN")
        plot.finish(ax, f"sigma {fit['sigma']:.3g}, {label}: MSE {fit['mse']:.3f}", "x", "y")
    sigmas, errors = chosen.loo_curve_
    plot.curves(axes[3], {"leave-one-out MSE": errors}, x={"leave-one-out MSE": sigmas},
                title="leave-one-out error against sigma", xlabel="sigma", ylabel="MSE", log_y=True)
    axes[3].set_xscale("log")
    axes[3].axvline(chosen.sigma_[0], color="black", linestyle=":", label="chosen")
    return ctx.save_figure(fig, "grnn")
