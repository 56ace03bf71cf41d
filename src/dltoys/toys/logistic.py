"""Logistic regression: gradient descent on the cross-entropy, a line for blobs, none for XOR, and the learning rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import plot
from ..data import make_blobs, parity_truth_table
from ..models import LogisticRegression
from ..nn.functional import sigmoid
from ..train import NonFiniteLossError, NonFiniteParameterError
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "logistic"
TITLE = "Logistic regression by gradient descent"
SHOWS = (
    "One sigmoid unit trained by gradient descent on the binary cross-entropy (dL/dz = a - y) finds a line "
    "that classifies separable blobs, stays at chance on XOR, and needs a learning rate that is neither too "
    "small (slow) nor too large (the loss jumps around the minimum instead of settling)."
)

#: The two blob centres, 4·√2 apart (as in the perceptron toy).
CENTERS = ((-2.0, -2.0), (2.0, 2.0))
#: A rate's final loss within this factor of the best rate's counts as having reached the minimum.
SETTLED = 1.02


@dataclass(frozen=True)
class Config(ToyConfig):
    n_train: int = option(200, "training points, half in each blob", min=1)
    n_test: int = option(1000, "held-out points from the same blobs", min=1)
    noise: float = option(0.8, "standard deviation of the separable blobs (centres (-2, -2) and (2, 2))", min=0)
    lr: float = option(1.0, "learning rate of full-batch gradient descent on the blobs and on XOR", above=0)
    epochs: int = option(200, "full-batch epochs on the blobs and on XOR", min=1)
    sweep_noise: float = option(2.0, "standard deviation of the overlapping blobs of the learning-rate sweep", min=0)
    sweep_lrs: tuple[float, ...] = option(
        (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0), "learning rates of the sweep",
        above=0)
    shown_lrs: tuple[float, ...] = option((0.003, 3.0, 30.0), "rates of the sweep drawn as loss curves (1 to 4)")
    sweep_epochs: int = option(200, "full-batch epochs per rate of the sweep", min=1)
    seed: int = option(0, "seed of the data", min=0)

    def validate(self) -> None:
        # Up to four curves keep the loss plot readable; each must be a rate the sweep ran.
        if len(self.shown_lrs) > 4 or not set(self.shown_lrs) <= set(self.sweep_lrs):
            raise ValueError(f"shown_lrs: expected 1 to 4 of the sweep_lrs {self.sweep_lrs}, received {self.shown_lrs}")


QUICK: dict = {}


@dataclass
class _RateRun:
    """One full-batch run of the sweep: its loss curve and where (if anywhere) it stopped."""

    lr: float
    losses: list[float]
    stopped: str | None  # why training stopped early (a non-finite loss), None if it ran every epoch
    rises: int  # epochs whose loss is above the previous epoch's (beyond rounding)
    final: float  # mean loss of the last 10 epochs (a jumping curve's last value is luck)
    weight: np.ndarray
    bias: float
    verdict: str = ""


def _gradient_descent(lr: float, epochs: int) -> LogisticRegression:
    """Plain full-batch gradient descent from zero weights: no penalty, every epoch run (tol=None)."""
    return LogisticRegression(penalty=None, solver="sgd", learning_rate_init=lr, batch_size=None, max_iter=epochs,
                              tol=None)


def _sweep_one(X: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> _RateRun:
    model = _gradient_descent(lr, epochs)
    stopped = None
    try:
        model.fit(X, y)
    except NonFiniteLossError as error:  # a rate far too large overflows: keep the curve up to there
        stopped = f"loss not finite at epoch {error.epoch}"
    except NonFiniteParameterError as error:
        stopped = f"weights not finite after epoch {error.epoch}"
    losses = list(model.loss_curve_)  # the epochs before a failure too
    # A rise counts when it exceeds float32 rounding of the loss (a settled run wobbles by ~1e-7).
    rises = int(np.sum(np.diff(losses) > 1e-5 * np.asarray(losses[:-1]))) if losses else 0
    final = float(np.mean(losses[-10:])) if losses else float("nan")
    return _RateRun(lr, losses, stopped, rises, final, model.coef_[0].copy(), float(model.intercept_[0]))


def _curvature(X: np.ndarray, weight: np.ndarray, bias: float) -> float:
    """The largest eigenvalue of the mean BCE's Hessian at (weight, bias): Z^T diag(a(1 - a)) Z / N, Z = [X, 1]."""
    Z = np.column_stack([X.astype(np.float64), np.ones(len(X))])  # (N, F + 1)
    a = sigmoid(Z @ np.append(weight, bias))  # (N,)
    return float(np.linalg.eigvalsh((Z * (a * (1 - a))[:, None]).T @ Z / len(X))[-1])


def _learning_rate_sweep(config: Config, rng: np.random.Generator) -> tuple[list[_RateRun], float, float]:
    X, y = make_blobs(2 * config.n_train, centers=CENTERS, noise=config.sweep_noise, rng=rng)
    runs = [_sweep_one(X, y, lr, config.sweep_epochs) for lr in config.sweep_lrs]
    best = min((run for run in runs if run.stopped is None), key=lambda run: run.final, default=None)
    # Gradient descent settles at a minimum only if lr < 2 / lambda_max(Hessian there).
    limit = 2 / _curvature(X, best.weight, best.bias) if best is not None else float("nan")
    for run in runs:
        if run.stopped is not None:
            run.verdict = "too large: diverged"
        elif run.final <= SETTLED * best.final and run.rises <= 1:
            run.verdict = "right: settled at the minimum"
        elif run.rises > 1 and run.lr > limit:
            run.verdict = "too large: jumps around the minimum"
        else:
            run.verdict = "too small: still descending" if run.rises <= 1 else "unsettled"
    return runs, limit, best.final if best is not None else float("nan")


def run(config: Config, ctx: RunContext) -> Report:
    rng = np.random.default_rng(config.seed)
    X, y = make_blobs(config.n_train, centers=CENTERS, noise=config.noise, rng=rng)
    X_test, y_test = make_blobs(config.n_test, centers=CENTERS, noise=config.noise, rng=rng)
    blobs = _gradient_descent(config.lr, config.epochs).fit(X, y)
    losses = blobs.loss_curve_
    test_accuracy = blobs.score(X_test, y_test)

    X_xor, y_xor = parity_truth_table(2)
    xor = _gradient_descent(config.lr, config.epochs).fit(X_xor, y_xor)
    xor_accuracy = xor.score(X_xor, y_xor)
    # The gradient at w = 0, b = 0 is exactly zero on XOR's four points, so the weights never move.
    xor_distance = float(np.sqrt(sum(np.sum(p.data.astype(np.float64) ** 2) for p in xor.module_.parameters())))

    runs, limit, best_loss = _learning_rate_sweep(config, rng)

    fig, axes = plot.figure(1, 3, title="Logistic regression: gradient descent on the cross-entropy")
    plot.curves(axes[0], {"training loss": losses}, title=f"cost curve (full batch, lr={config.lr:g})",
                ylabel="mean binary cross-entropy", log_y=True)
    plot.decision_boundary(axes[1], blobs.predict, X_test, y_test, margin=0.8,
                           title=f"separable blobs: {test_accuracy:.1%} of {config.n_test} held-out")
    plot.decision_boundary(axes[2], xor.predict, X_xor, y_xor, margin=0.4,
                           title=f"XOR: {xor_accuracy:.0%} (w = 0: every p = {xor.predict_proba(X_xor)[0, 1]:.2f})")
    plots = [ctx.save_figure(fig, "logistic")]

    shown = [run for run in runs if run.lr in config.shown_lrs]
    fig, (ax_curves, ax_sweep) = plot.figure(1, 2, size=(11.0, 4.2),
                                             title="Learning rate: too small, right, too large")
    colors = {}
    for run in shown:
        label = f"lr={run.lr:g}: {run.verdict.split(':')[0]} (last 10 epochs {run.final:.3g})"
        if run.stopped:
            label = f"lr={run.lr:g}: stopped, {run.stopped}"
        line, = ax_curves.plot(np.arange(1, len(run.losses) + 1), run.losses, label=label, linewidth=1.3)
        colors[run.lr] = line.get_color()
        if run.stopped and run.losses:
            ax_curves.plot(len(run.losses), run.losses[-1], "x", color=colors[run.lr], markersize=9)
    highest = max((max(run.losses) for run in shown if run.losses), default=1.0)
    ax_curves.set_ylim(top=highest * 6)  # head room for the legend above the jumping curve
    ax_curves.axhline(best_loss, linestyle="--", color="0.4", linewidth=1, label=f"lowest loss reached ({best_loss:.3g})")
    plot.finish(ax_curves, "full-batch gradient descent on overlapping blobs", "epoch", "mean binary cross-entropy",
                log_y=True)
    finished = [run for run in runs if run.stopped is None]
    ax_sweep.plot([run.lr for run in finished], [run.final for run in finished], "o-", color="0.3",
                  label=f"mean loss of the last 10 of {config.sweep_epochs} epochs")
    stopped = [run for run in runs if run.stopped is not None and run.losses]
    if stopped:
        ax_sweep.plot([run.lr for run in stopped], [run.losses[-1] for run in stopped], "x", color="black",
                      markersize=9, label="stopped: last finite loss")
    for run in shown:
        if run.stopped is None:
            ax_sweep.plot(run.lr, run.final, "o", markersize=10, color=colors[run.lr], label=f"lr={run.lr:g}")
    ax_sweep.axvline(limit, linestyle=":", color="black", label=f"2 / λmax(Hessian at the minimum) = {limit:.3g}")
    ax_sweep.set_xscale("log")
    plot.finish(ax_sweep, "where each rate ends", "learning rate", "mean binary cross-entropy", log_y=True)
    plots.append(ctx.save_figure(fig, "logistic_lr_sweep"))

    rows = [[f"{run.lr:g}", run.verdict, f"{run.final:.4g}", run.rises, run.stopped or "no"] for run in runs]
    notes = [
        f"Blobs: full-batch gradient descent, lr {config.lr:g}, {blobs.n_iter_} epochs: training loss "
        f"{losses[0]:.3f} -> {losses[-1]:.4f}, {test_accuracy:.1%} of {config.n_test} held-out points.",
        f"XOR: {xor_accuracy:.0%} on the four points. The gradient at w = 0, b = 0 is sum (1/2 - y) x = 0 there, so "
        "gradient descent never leaves the origin, which is also the minimum: no line does better than chance "
        "in cross-entropy.",
        f"Learning-rate sweep on overlapping blobs (noise {config.sweep_noise:g}, {2 * config.n_train} points), where "
        f"the loss has a minimum: gradient descent settles there only for rates below 2 / λmax of the Hessian "
        f"at the minimum, measured {limit:.3g}. Rates above it jump around the minimum; the cross-entropy's "
        "gradient is bounded by max |x|, so the weights grow at most linearly in the steps instead of blowing "
        "up as with a squared error" + (", and no rate of this sweep made the loss overflow." if not any(
            run.stopped for run in runs) else "; a rate large enough still overflows (below)."),
        "On separable data the loss has no minimum (it falls as |w| grows), and large rates only make the first "
        "epochs erratic before the loss falls again: the sweep uses overlapping classes to show a rate that is "
        "really too large.",
    ]
    if any(run.stopped for run in runs):
        notes.append("Stopped early: " + "; ".join(f"lr={run.lr:g}: {run.stopped}" for run in runs if run.stopped) + ".")
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[
            Target("held-out accuracy on separable blobs", test_accuracy, 0.99, percent=True),
            Target("accuracy on the 4 XOR points", xor_accuracy, 0.75, at_least=False, percent=True),
            Target("XOR: distance of (w, b) from the origin after training", xor_distance, 1e-6, at_least=False),
        ],
        tables=[Table("learning-rate sweep (full batch, overlapping blobs)",
                      ["lr", "verdict", "mean loss, last 10 epochs", "epochs the loss rose", "stopped early"], rows)],
        notes=notes,
        plots=plots,
        metrics={
            "loss_curve": losses,
            "weight": blobs.coef_[0], "bias": float(blobs.intercept_[0]),
            "xor_accuracy": xor_accuracy,
            "stability_limit": limit,
            "sweep": [{"lr": run.lr, "verdict": run.verdict, "final": run.final, "rises": run.rises,
                       "stopped": run.stopped, "losses": run.losses} for run in runs],
        },
    )
