"""XOR: the problem one neuron cannot solve and a 2-10-1 tanh network can."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, train
from ..data import parity_truth_table
from ..models import MLP
from .base import Report, RunContext, Target, option

NAME = "xor"
TITLE = "XOR with a 2-10-1 tanh network"
SHOWS = (
    "No line separates XOR's classes, so no single neuron can get all four points; one hidden "
    "layer of tanh units bends the boundary and reaches 100%."
)


@dataclass(frozen=True)
class Config:
    hidden_size: int = option(10, "width of the hidden tanh layer")
    lr: float = option(0.5, "SGD learning rate")
    momentum: float = option(0.9, "SGD momentum")
    epochs: int = option(500, "full-batch epochs (stops early once all four points are right)")
    seed: int = option(0, "seed of the initial weights")

    def __post_init__(self):
        if self.hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, received {self.hidden_size}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, received {self.epochs}")


QUICK: dict = {}


def run(config: Config, ctx: RunContext) -> Report:
    X, y = parity_truth_table(2)  # the four corners of the unit square, once each
    target = y.astype(np.float32)[:, None]  # (4, 1)
    model = MLP((2, config.hidden_size, 1), activation="tanh", rng=config.seed)
    optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), optimizer, X, target,
        metrics={"accuracy": train.binary_accuracy_logits},
        callbacks=[train.StopAtTarget("accuracy", 1.0)],
        epochs=config.epochs, batch_size=None, shuffle=False, progress=ctx.progress,
    )
    logits = train.predict(model, X)
    accuracy = float(train.binary_accuracy_logits(logits, target))

    fig, (ax_loss, ax_boundary) = plot.figure(1, 2, title="XOR: a hidden layer bends the boundary")
    plot.curves(ax_loss, {"BCE loss": history["loss"]}, title="training loss", ylabel="binary cross-entropy", log_y=True)
    plot.decision_boundary(
        ax_boundary, lambda grid: (train.predict(model, grid)[:, 0] > 0).astype(int), X, y,
        title=f"2-{config.hidden_size}-1 tanh network: {accuracy:.0%}", margin=0.4,
    )
    plots = [ctx.save_figure(fig, "xor")]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target("accuracy on the 4 XOR patterns", accuracy, 1.0, percent=True)],
        plots=plots,
        metrics={"epochs_run": len(history), "final_loss": history.last("loss"), "history": history.to_dict()},
    )
