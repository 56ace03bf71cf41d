"""The perceptron: Rosenblatt's rule separates two blobs in a few updates and never learns XOR."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import plot
from ..data import make_blobs, parity_truth_table
from ..models import ConvergenceWarning, Perceptron, novikoff_bound
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "perceptron"
TITLE = "Rosenblatt's perceptron: separable blobs and XOR"
SHOWS = (
    "On linearly separable data the perceptron rule stops after a finite number of updates, at most "
    "(R/γ)² (Novikoff), and the line it finds classifies held-out points; on XOR no line gets more than "
    "three of the four points, so the rule never stops and no epoch ends above 75%."
)

#: Well-separated blobs: centres 4·√2 apart around the origin; with noise 0.6 a point crosses the
#: bisector with probability ~1e-6, and the first update already gives a line close to it.
CENTERS = ((-2.0, -2.0), (2.0, 2.0))
#: Blobs away from the origin with a narrower gap: the bias has to travel, so the rule needs more
#: updates, and the first separating line it finds passes close to some training points.
OFFSET_CENTERS = ((1.0, 1.0), (4.0, 4.0))


@dataclass(frozen=True)
class Config(ToyConfig):
    n_train: int = option(200, "training points per blob set, half in each blob", min=2)  # one point per blob
    n_test: int = option(1000, "held-out points per blob set, from the same blobs", min=1)
    noise: float = option(0.6, "standard deviation of the well-separated blobs (centres (-2, -2) and (2, 2))", min=0)
    offset_noise: float = option(0.4, "standard deviation of the offset blobs (centres (1, 1) and (4, 4))", min=0)
    max_epochs: int = option(100, "epoch limit on the blobs (the rule stops once an epoch makes no mistake)", min=1)
    xor_epochs: int = option(100, "epochs on XOR's four points (the rule never stops there by itself)", min=1)
    seed: int = option(0, "seed of the data and of the visiting orders", min=0)


QUICK: dict = {}


def _tightest_bound(X: np.ndarray, y: np.ndarray, model: Perceptron) -> tuple[float, str]:
    """Novikoff's bound from the better of two separators: the rule's own line and the means' bisector.

    Any separating hyperplane gives a valid bound, the largest margin the tightest one.
    """
    mean_0, mean_1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    candidates = {
        "the perceptron's own line": (model.coef_[0], model.intercept_[0]),
        "the bisector of the class means": (mean_1 - mean_0, -(mean_1 - mean_0) @ (mean_0 + mean_1) / 2),
    }
    bounds = {}
    for name, (weight, bias) in candidates.items():
        try:
            bounds[name] = novikoff_bound(X, y, weight, bias)
        except ValueError:  # this hyperplane does not separate the sample
            pass
    if not bounds:
        return float("nan"), "no candidate line separates the sample"
    name = min(bounds, key=bounds.get)
    return bounds[name], name


@dataclass
class _BlobRun:
    name: str
    X: np.ndarray
    y: np.ndarray
    model: Perceptron
    test_accuracy: float
    bound: float
    bound_from: str

    @property
    def updates(self) -> int:
        return sum(self.model.mistakes_per_epoch_)

    def row(self, n_test: int) -> list:
        return [self.name, "yes" if self.model.converged_ else "no", self.model.n_iter_, self.updates,
                f"{self.bound:.0f}", f"{self.model.accuracy_per_epoch_[-1]:.1%}", f"{self.test_accuracy:.1%} of {n_test} held-out"]

    def note(self) -> str:
        if not self.model.converged_:
            return (f"{self.name}: the rule did NOT converge in {self.model.n_iter_} epochs ({self.updates} updates): "
                    "this sample is not linearly separable (lower the noise).")
        within = "within" if self.updates <= self.bound else "ABOVE (the theorem forbids that: a bug to report)"
        return (f"{self.name}: converged after {self.model.n_iter_} epochs and {self.updates} update(s), {within} "
                f"Novikoff's bound (R/γ)² = {self.bound:.0f} (γ the margin of {self.bound_from}); "
                f"{self.test_accuracy:.1%} of the held-out points right.")


def _blob_run(name: str, centers, noise: float, config: Config, rng: np.random.Generator) -> _BlobRun:
    X, y = make_blobs(config.n_train, centers=centers, noise=noise, rng=rng)
    X_test, y_test = make_blobs(config.n_test, centers=centers, noise=noise, rng=rng)
    # tol=None: Rosenblatt's own stop (an epoch without a mistake), not scikit-learn's loss plateau
    model = Perceptron(max_iter=config.max_epochs, tol=None, random_state=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a run that does not converge says so in its note
        model.fit(X, y)
    bound, bound_from = _tightest_bound(X, y, model)
    return _BlobRun(name, X, y, model, model.score(X_test, y_test), bound, bound_from)


def run(config: Config, ctx: RunContext) -> Report:
    rng = np.random.default_rng(config.seed)
    separated = _blob_run("separated blobs", CENTERS, config.noise, config, rng)
    offset = _blob_run("offset blobs", OFFSET_CENTERS, config.offset_noise, config, rng)
    X_xor, y_xor = parity_truth_table(2)
    xor = Perceptron(max_iter=config.xor_epochs, tol=None, random_state=rng, pocket=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # never converging on XOR is the point
        xor.fit(X_xor, y_xor)
    xor_updates = sum(xor.mistakes_per_epoch_)
    xor_best = max(xor.accuracy_per_epoch_)
    xor_best_epoch = xor.accuracy_per_epoch_.index(xor_best) + 1

    fig, axes = plot.figure(2, 2, title="The perceptron: a line for separable blobs, none for XOR")
    for ax, blobs in zip(axes[0], (separated, offset)):
        plot.decision_boundary(
            ax, blobs.model.predict, blobs.X, blobs.y, margin=0.8,
            title=f"{blobs.name}: {blobs.updates} update(s), {blobs.test_accuracy:.1%} held-out",
        )
    plot.decision_boundary(
        axes[1, 0], xor.predict, X_xor, y_xor, margin=0.4,
        title=f"XOR: never converges; best epoch {xor_best:.0%} (its weights)",
    )
    plot.curves(
        axes[1, 1],
        {f"{blobs.name} ({'converged' if blobs.model.converged_ else 'not converged'})": blobs.model.mistakes_per_epoch_
         for blobs in (separated, offset)} | {"XOR (never converges)": xor.mistakes_per_epoch_},
        title="mistakes (= updates) per epoch", ylabel="updates in the epoch",
    )
    axes[1, 1].set_xscale("log")
    axes[1, 1].set_ylim(bottom=-0.5)
    plots = [ctx.save_figure(fig, "perceptron")]

    rows = [separated.row(config.n_test), offset.row(config.n_test)]
    rows.append(["XOR (4 points)", "yes" if xor.converged_ else "no", xor.n_iter_, xor_updates, "none",
                 f"{xor.accuracy_per_epoch_[-1]:.0%} last, {xor_best:.0%} best", "the 4 points are the whole set"])
    notes = [separated.note(), offset.note()]
    if offset.test_accuracy < 1:
        notes.append(
            "The rule stops at the first line that separates the training points, not the widest-margin "
            "one: on the offset blobs that line passes close to some of them, and held-out points beyond it "
            "land on the wrong side. Well-separated blobs leave room for any separating line."
        )
    notes.append(
        f"XOR: {xor_updates} updates in {xor.n_iter_} epochs, at least {min(xor.mistakes_per_epoch_)} "
        f"mistake(s) in every epoch; the best epoch ended at {xor_best:.0%} (epoch {xor_best_epoch}). "
        "No line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other, so no weights get all four "
        "points and the rule never stops; the plot shows the best epoch's weights (Gallant's pocket)."
    )
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[
            Target("held-out accuracy on separated blobs", separated.test_accuracy, 1.0, percent=True),
            Target("offset blobs: updates / Novikoff's bound (R/γ)²", offset.updates / offset.bound, 1.0, at_least=False),
            Target(f"best epoch accuracy on XOR in {xor.n_iter_} epochs", xor_best, 0.75, at_least=False, percent=True),
            Target("XOR: fewest mistakes in one epoch (0 would mean converged)", min(xor.mistakes_per_epoch_), 1),
        ],
        tables=[Table("perceptron runs", ["data", "converged", "epochs", "updates", "Novikoff bound",
                                          "training accuracy", "evaluation"], rows)],
        notes=notes,
        plots=plots,
        metrics={
            **{blobs.name.replace(" ", "_"): {
                "converged": blobs.model.converged_, "epochs": blobs.model.n_iter_, "updates": blobs.updates,
                "mistakes_per_epoch": blobs.model.mistakes_per_epoch_, "test_accuracy": blobs.test_accuracy,
                "novikoff_bound": blobs.bound, "bound_from": blobs.bound_from,
                "weight": blobs.model.coef_[0], "bias": blobs.model.intercept_[0]} for blobs in (separated, offset)},
            "xor": {"converged": xor.converged_, "epochs": xor.n_iter_, "updates": xor_updates,
                    "mistakes_per_epoch": xor.mistakes_per_epoch_,
                    "accuracy_per_epoch": xor.accuracy_per_epoch_, "best_accuracy": xor_best,
                    "best_epoch": xor_best_epoch},
        },
    )
