"""adding: the adding problem, where gated memory (LSTM, GRU) succeeds and a tanh RNN does not."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .. import nn, optim, plot, train
from ..data import ADDING_BASELINE_MSE, Minibatches, make_adding
from ..models import SequenceModel
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "adding"
TITLE = "The adding problem: memory across 100 steps"
SHOWS = (
    "Each sequence holds 100 random numbers, two of them marked; the answer is their sum. LSTM "
    "and GRU learn to store the marked numbers and reach a test MSE below 0.01, while a tanh RNN "
    "stays near 0.167, the score of always answering the mean."
)

#: The figure the gated cells must reach (Hochreiter & Schmidhuber's criterion is similar).
TARGET_MSE = 0.01
CELL_NAMES = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}


@dataclass(frozen=True)
class Config(ToyConfig):
    seq_len: int = option(100, "sequence length T; the marked numbers sit one in each half", min=2)
    cells: tuple[Literal["rnn", "lstm", "gru"], ...] = option(("rnn", "lstm", "gru"), "recurrent cells to compare")
    hidden_size: int = option(32, "hidden units of every cell", min=1)
    batch_size: int = option(64, "sequences per step (fresh ones every step)", min=1)
    lr: float = option(0.01, "Adam learning rate", above=0)
    clip: float = option(1.0, "largest gradient norm per step", above=0)
    max_steps: int = option(4000, "training steps per cell at most", min=1)
    eval_every: int = option(50, "steps between two validation measurements", min=1)
    stop_below: float = option(0.001, "stop a cell once its validation MSE is at most this (0: never stop early)", min=0)
    n_val: int = option(1000, "validation sequences (the curves, early stopping)", min=1)
    n_test: int = option(10000, "test sequences (the final figures)", min=1)
    seed: int = option(0, "seed of the weights and of the data", min=0)

    def validate(self) -> None:
        # Each cell once: the plots key their curves by the cell's name.
        if len(set(self.cells)) != len(self.cells):
            raise ValueError(f"cells: expected each of rnn, lstm, gru at most once, received {self.cells}")


QUICK: dict = {"max_steps": 2000, "stop_below": 0.005, "n_test": 2000}


@dataclass
class _Result:
    cell: str
    steps: list[int]  # steps at each validation
    val_mse: list[float]
    seconds: float
    test_mse: float
    predictions: np.ndarray  # (n_shown,) on the first test sequences
    n_params: int

    @property
    def steps_to_target(self) -> int | None:
        return next((s for s, m in zip(self.steps, self.val_mse) if m <= TARGET_MSE), None)


class FreshSequences:
    """An endless supply of training batches, in "epochs" of ``eval_every`` batches.

    Each pass (an epoch of the loop) draws ``eval_every`` batches of new sequences from
    ``rng``, so no sequence is seen twice and the loop validates every ``eval_every``
    steps; the last pass is shorter when ``max_steps`` is not a multiple.
    """

    def __init__(self, config: Config, rng: np.random.Generator):
        self.config, self.rng = config, rng
        self.steps = 0  # batches handed out so far

    def epochs(self) -> int:
        return math.ceil(self.config.max_steps / self.config.eval_every)

    def __iter__(self):  # a generator: nothing is drawn until the loop asks for the first batch
        config = self.config
        n_steps = min(config.eval_every, config.max_steps - self.steps)
        x, y = make_adding(n_steps * config.batch_size, config.seq_len, rng=self.rng)
        self.steps += n_steps
        yield from Minibatches(x, y, batch_size=config.batch_size)


def _train_cell(cell: str, config: Config, val: tuple, test: tuple, data_seed: np.random.SeedSequence) -> _Result:
    """Train one cell on fresh sequences through the loop, validating every ``eval_every`` steps,
    until the validation MSE is at most ``stop_below`` or ``max_steps`` steps have run."""
    model = SequenceModel(cell, 2, config.hidden_size, 1, readout="last", rng=config.seed)
    step = train.SupervisedStep(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=config.lr))
    batches = FreshSequences(config, np.random.default_rng(data_seed))  # the same sequences for every cell
    callbacks = [train.ClipGradNorm(config.clip), train.StopAtTarget("val_loss", config.stop_below, mode="min")]
    trainer = train.Trainer(step, callbacks=callbacks, epochs=batches.epochs(), progress=False)
    started = time.perf_counter()
    history = trainer.fit(batches, validation=Minibatches(*val, batch_size=1000))
    seconds = time.perf_counter() - started
    steps = [min(epoch * config.eval_every, config.max_steps) for epoch in history.epochs]
    val_mse = history["val_loss"]
    predictions = train.predict(model, test[0], batch_size=1000)[:, 0]  # (n_test,)
    test_mse = train.mse(predictions, test[1][:, 0])
    return _Result(cell, steps, val_mse, seconds, test_mse, predictions[:400], model.num_parameters())


def run(config: Config, ctx: RunContext) -> Report:
    data_seed, val_seed, test_seed = np.random.SeedSequence(config.seed).spawn(3)
    val = make_adding(config.n_val, config.seq_len, rng=np.random.default_rng(val_seed))
    test = make_adding(config.n_test, config.seq_len, rng=np.random.default_rng(test_seed))
    results = [_train_cell(cell, config, val, test, data_seed) for cell in config.cells]

    fig, (ax_curve, ax_scatter) = plot.figure(1, 2, size=(11, 4.2), title=f"The adding problem at T = {config.seq_len}")
    ax_curve.axhline(ADDING_BASELINE_MSE, color="0.55", linestyle=":", linewidth=1.2, label="predict the mean (1/6)")
    plot.curves(
        ax_curve, {CELL_NAMES[r.cell]: r.val_mse for r in results}, x={CELL_NAMES[r.cell]: r.steps for r in results},
        title=f"validation MSE, hidden size {config.hidden_size}", xlabel="training step (batch of "
        f"{config.batch_size} fresh sequences)", ylabel="mean squared error", log_y=True,
        target=TARGET_MSE, target_label=f"target {TARGET_MSE}",
    )
    truth = test[1][: len(results[0].predictions), 0]
    for r in results:
        ax_scatter.scatter(truth, r.predictions, s=6, alpha=0.6, label=f"{CELL_NAMES[r.cell]} (MSE {r.test_mse:.3g})")
    ax_scatter.plot([0, 2], [0, 2], color="0.4", linewidth=1, linestyle="--", label="perfect")
    plot.finish(ax_scatter, f"test predictions ({len(truth)} of {config.n_test} sequences)", "true sum of the two marked numbers",
                "predicted sum", legend=True)
    plots = [ctx.save_figure(fig, "adding")]

    def reached(r: _Result) -> str:
        return "never" if r.steps_to_target is None else f"{r.steps_to_target}"

    table = Table(
        f"Test MSE on {config.n_test} sequences of length {config.seq_len} (baseline {ADDING_BASELINE_MSE:.3f})",
        ["cell", "parameters", "steps run", f"first step with val MSE ≤ {TARGET_MSE}", "test MSE", "seconds", "ms / step"],
        [[CELL_NAMES[r.cell], r.n_params, r.steps[-1], reached(r), r.test_mse, round(r.seconds, 1),
          round(1000 * r.seconds / r.steps[-1], 1)] for r in results],
    )
    targets = [Target(f"{CELL_NAMES[r.cell]} test MSE at T={config.seq_len}", r.test_mse, TARGET_MSE, at_least=False)
               for r in results if r.cell != "rnn"]
    notes = [
        f"Every step draws {config.batch_size} new sequences, the same ones for every cell; Adam lr {config.lr:g}, "
        f"gradient norm clipped to {config.clip:g}, PyTorch's default initialisation. A cell stops early once its "
        f"validation MSE is at most {config.stop_below:g}"
        + (f", or after {config.max_steps} steps." if config.stop_below > 0 else f"; all run {config.max_steps} steps."),
    ]
    for r in results:
        if r.cell == "rnn":
            share = r.test_mse / ADDING_BASELINE_MSE
            if share > 0.8:
                notes.append(f"The tanh RNN ends at a test MSE of {r.test_mse:.3f}, {share:.0%} of the baseline: after "
                             f"{r.steps[-1]} steps it still answers close to the mean, because the error signal from the "
                             "end of the sequence vanishes before it reaches the marked steps (the vanishing gradient).")
            else:
                notes.append(f"The tanh RNN reaches a test MSE of {r.test_mse:.3f} ({share:.0%} of the baseline) in "
                             f"{r.steps[-1]} steps: better than answering the mean, short of the gated cells.")
        elif r.steps_to_target is not None:
            plateau = max((s for s, m in zip(r.steps, r.val_mse) if m > 0.8 * ADDING_BASELINE_MSE), default=0)
            notes.append(f"The {CELL_NAMES[r.cell]}'s validation MSE stays within 20% of the baseline up to step "
                         f"{plateau}, then falls below {TARGET_MSE} by step {r.steps_to_target}: it has found how to "
                         "store the marked numbers, and from there it improves quickly.")
        else:
            notes.append(f"The {CELL_NAMES[r.cell]} did not reach {TARGET_MSE} in {r.steps[-1]} steps "
                         f"(test MSE {r.test_mse:.3g}); more steps (--max-steps) or another seed may be needed.")
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=[table], notes=notes,
        metrics={r.cell: {"steps": r.steps, "val_mse": r.val_mse, "test_mse": r.test_mse, "seconds": r.seconds,
                          "steps_to_target": r.steps_to_target} for r in results},
    )
