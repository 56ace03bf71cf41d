"""50-bit parity: logistic regression, MLPs and recurrent networks at 10k, 100k and 1M rows (quick: 10k).

The seeds' headline experiment, done right: every label is the parity of its own
row (also in the sequence view), test rows are never training rows, and the
recurrent networks read one bit per step. Fixed-size models see 50 inputs and one
label per row and stay at chance; an RNN and an LSTM that carry one bit of state
through time are exact on rows they never saw.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
import typing
from typing import Any, Literal

import numpy as np

from .. import nn, optim, plot, train
from ..data import Minibatches, as_sequences, make_parity
from ..models import MLP, SequenceModel
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "parity"
TITLE = "50-bit parity: why memory matters"
SHOWS = (
    "Logistic regression, a small and a wide MLP, and an RNN and an LSTM reading one bit per step, on 50-bit "
    "parity (10k training rows in the tour's quick mode; 10k, 100k and 1M in full mode): who generalises to "
    "rows never seen in training, how each was supervised, and why a fixed-size model cannot."
)

#: model name -> (label in tables and plots, what it is trained on)
MODELS = {
    "logistic": ("logistic regression", "row label"),
    "mlp_small": ("MLP [{n},4,3,1] ReLU", "row label"),  # {n}: the number of bits
    "mlp_wide": ("wide MLP", "row label"),
    "rnn_last": ("RNN, row label only", "row label"),
    "rnn": ("RNN", "running parity at every step"),
    "lstm": ("LSTM", "running parity at every step"),
}
ModelName = Literal["logistic", "mlp_small", "mlp_wide", "rnn_last", "rnn", "lstm"]
assert set(typing.get_args(ModelName)) == set(MODELS)
#: the models trained on the running parity of every prefix
PER_STEP = ("rnn", "lstm")
#: the figure at which training stops, and the one the fixed-size models cannot pass
MEMORISED = 0.99


@dataclass(frozen=True)
class Config(ToyConfig):
    n_bits: int = option(50, "bits per row (the sequence length of the recurrent nets)", min=2)
    sizes: tuple[int, ...] = option((10_000, 100_000, 1_000_000), "training rows, one column of the grid each", min=1)
    models: tuple[ModelName, ...] = option(tuple(MODELS), "models to train, rows of the grid")
    n_test: int = option(10_000, "held-out rows for the table, disjoint from every training row", min=1)
    n_val: int = option(2_000, "validation rows (disjoint) for the curves and for stopping at the target", min=1)
    sample_budget: int = option(400_000, "most training samples per model (at least 2 epochs)", min=1)
    target: float = option(  # above chance (50%)
        0.99, "held-out accuracy the recurrent nets must reach (training stops there)", above=0.5, max=1)
    batch_size: int = option(128, "rows per optimizer step", min=1)
    lr: float = option(0.003, "Adam learning rate of logistic regression and the MLPs", above=0)
    recurrent_lr: float = option(0.03, "Adam learning rate of the RNNs and the LSTM", above=0)
    hidden_size: int = option(8, "hidden units of the RNNs and the LSTM", min=1)
    wide: int = option(256, "width of both hidden layers of the wide MLP", min=1)
    clip: float = option(1.0, "gradient-norm clipping of the recurrent nets (0: none)", min=0)
    eval_every: int = option(
        1_000, "training samples between two points of the held-out curve (at most ~200 points)", min=1)
    seed: int = option(
        0, "seed of the data (train: seed, test: seed+1, validation: seed+2) and of the models", min=0)



# The tour runs the 10k column.
QUICK: dict = {"sizes": (10_000,)}


# ---------------------------------------------------------------- the data
def model_label(name: str, n_bits: int) -> str:
    """A model's name in the report, with the width of its input filled in."""
    return MODELS[name][0].format(n=n_bits)


def running_parity(bits: np.ndarray) -> np.ndarray:
    """The parity of every prefix of every row, (N, T) -> (N, T, 1) uint8.

    ``out[i, t, 0]`` is the label of the row ``bits[i, :t + 1]``, so the last
    step is the label of the whole row.
    """
    return np.bitwise_xor.accumulate(bits, axis=1)[:, :, None]  # (N, T, 1)


def full_row_accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """Accuracy of the whole-row prediction: the last step's for per-step outputs (B, T, 1)."""
    if output.ndim == 3:
        output, target = output[:, -1], target[:, -1]  # (B, 1): the prediction after all bits
    return train.binary_accuracy_logits(output, target)


def draw_data(config: Config) -> dict[str, np.ndarray]:
    """Training rows for the largest size (smaller sizes use its first rows), disjoint test and validation rows."""
    n_train = max(config.sizes)
    x_train, y_train = make_parity(n_train, config.n_bits, rng=config.seed, dtype=np.uint8)
    x_test, y_test = make_parity(config.n_test, config.n_bits, rng=config.seed + 1, exclude=x_train, dtype=np.uint8)
    seen = np.concatenate([x_train, x_test])
    x_val, y_val = make_parity(config.n_val, config.n_bits, rng=config.seed + 2, exclude=seen, dtype=np.uint8)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, "x_val": x_val, "y_val": y_val}


# ------------------------------------------------------------- the models
def build(name: str, config: Config) -> nn.Module:
    n, seed = config.n_bits, config.seed
    if name == "logistic":  # a Linear layer through a sigmoid: logistic regression
        return MLP((n, 1), rng=seed)
    if name == "mlp_small":
        return MLP((n, 4, 3, 1), activation="relu", rng=seed)
    if name == "mlp_wide":
        return MLP((n, config.wide, config.wide, 1), activation="relu", rng=seed)
    cell = "lstm" if name == "lstm" else "rnn"
    readout = "all" if name in PER_STEP else "last"
    return SequenceModel(cell, 1, config.hidden_size, 1, readout=readout, rng=seed)


class Periods:
    """The minibatches of shuffled passes over the training rows, handed out ``per_period`` at a time.

    One epoch of the loop is one period, so the loop's epoch end (where callbacks measure)
    comes every ``per_period`` batches; a period never spans two passes (the last one of a
    pass may be shorter). The passes are those :func:`dltoys.train.fit` would make: the
    same :class:`~dltoys.data.Minibatches`, one permutation per pass.
    """

    def __init__(self, minibatches: Minibatches, per_period: int):
        self.minibatches, self.per_period = minibatches, per_period
        self.periods_per_pass = math.ceil(len(minibatches) / per_period)
        self.passes = 0  # passes over the rows completed
        self.in_pass = 0  # batches handed out in the current pass
        self.samples = 0  # rows handed out in all
        self.period_samples = 0  # rows handed out in the last period
        self.pass_done = False  # the last period ended a pass
        self._batches = None

    def __iter__(self):  # a generator: nothing moves until the loop asks for the first batch
        if self._batches is None:
            self._batches, self.in_pass = iter(self.minibatches), 0
        self.period_samples, self.pass_done = 0, False
        for _ in range(self.per_period):
            batch = next(self._batches, None)
            if batch is None:
                break
            self.in_pass += 1
            self.period_samples += len(batch[-1])
            yield batch
        self.samples += self.period_samples
        if self.in_pass == len(self.minibatches):
            self.passes, self.pass_done, self._batches = self.passes + 1, True, None


class Curves(train.Callback):
    """Training and held-out error after every period; stops at the target or on memorisation.

    Both errors are measured with the current weights, on whole rows only (the last step
    for the per-step models): on ``n_val`` held-out rows and on as many training rows. The
    training loss is the mean of the period's batch losses, as trained (every step's loss
    for the per-step models). At the end of each pass over the rows: stop once the held-out
    accuracy reaches ``target``, or once the pass's training accuracy says the rows are
    memorised. The time spent measuring is kept apart from the training time.
    """

    def __init__(self, periods: Periods, fitted: tuple, held_out: tuple, target: float):
        self.periods, self.fitted, self.held_out, self.target = periods, fitted, held_out, target  # (x, y (N, 1))
        self.samples: list[int] = []
        self.train_loss: list[float] = []
        self.train_error: list[float] = []
        self.error: list[float] = []
        self.seconds = 0.0
        self._correct = 0.0  # training accuracy times rows, over the current pass

    @staticmethod
    def _error(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
        return 1.0 - full_row_accuracy(train.predict(model, x, batch_size=2048), y)

    def _measure(self, trainer: train.Trainer, loss: float) -> None:
        started = time.perf_counter()
        self.samples.append(self.periods.samples)
        self.train_loss.append(loss)
        self.train_error.append(self._error(trainer.model, *self.fitted))
        self.error.append(self._error(trainer.model, *self.held_out))
        self.seconds += time.perf_counter() - started

    def on_train_begin(self, trainer: train.Trainer) -> None:
        self._measure(trainer, float("nan"))

    def on_epoch_end(self, trainer: train.Trainer, epoch: int, logs: dict[str, float]) -> None:
        self._measure(trainer, float(np.mean(trainer.history.batch_losses[-1])))
        self._correct += logs["accuracy"] * self.periods.period_samples
        if not self.periods.pass_done:
            return
        accuracy, self._correct = self._correct / self.periods.minibatches.n_samples, 0.0
        if 1.0 - self.error[-1] >= self.target:
            trainer.stop(f"validation accuracy {1 - self.error[-1]:.4f} >= {self.target}")
        elif accuracy >= MEMORISED:
            trainer.stop(f"training rows memorised ({accuracy:.4f}); nothing more to learn from them")


def train_one(name: str, n_rows: int, data: dict[str, np.ndarray], config: Config, ctx: RunContext) -> dict[str, Any]:
    """Train model ``name`` on the first ``n_rows`` training rows; its curves and figures."""
    bits, labels = data["x_train"][:n_rows], data["y_train"][:n_rows]
    x_val, y_val = data["x_val"], data["y_val"][:, None]
    if name in PER_STEP or name == "rnn_last":
        x, x_val, x_test = as_sequences(bits), as_sequences(x_val), as_sequences(data["x_test"])  # (N, T, 1) views
    else:
        x, x_test = bits, data["x_test"]
    y = running_parity(bits) if name in PER_STEP else labels[:, None]  # (N, T, 1) or (N, 1)
    model = build(name, config)
    lr = config.recurrent_lr if isinstance(model, SequenceModel) else config.lr
    callbacks: list[train.Callback] = []
    if isinstance(model, SequenceModel) and config.clip > 0:
        callbacks.append(train.ClipGradNorm(config.clip))
    passes = max(2, math.ceil(config.sample_budget / n_rows))
    every = max(config.eval_every, math.ceil(passes * n_rows / 200))  # at most ~200 points per curve
    periods = Periods(Minibatches(x, y, batch_size=config.batch_size, shuffle=True, rng=config.seed),
                      per_period=math.ceil(every / config.batch_size))
    n_probe = min(n_rows, config.n_val)
    curve = Curves(periods, (x[:n_probe], labels[:n_probe, None]), (x_val, y_val), config.target)
    step = train.SupervisedStep(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=lr),
                                metrics={"accuracy": full_row_accuracy})
    trainer = train.Trainer(step, callbacks=[*callbacks, curve], epochs=passes * periods.periods_per_pass,
                            progress=ctx.progress)
    history = trainer.fit(periods)
    seconds = float(np.sum(history["time"]))  # the loop's epoch times: the curve's measurements are outside them
    n_seen = min(n_rows, 10_000)  # training accuracy on (at most) 10k of the training rows
    train_acc = full_row_accuracy(train.predict(model, x[:n_seen], batch_size=2048), y[:n_seen])
    test_acc = full_row_accuracy(train.predict(model, x_test, batch_size=2048), data["y_test"][:, None])
    return {
        "model": name, "rows": n_rows, "epochs": periods.passes, "samples": periods.passes * n_rows,
        "seconds": seconds, "train_accuracy": train_acc, "test_accuracy": test_acc,
        "curve_samples": curve.samples, "curve_train_loss": curve.train_loss,
        "curve_train_error": curve.train_error, "curve_error": curve.error,
        "stop_reason": history.stop_reason,
    }


# ---------------------------------------------------------------- the plot
def plot_grid(results: dict, config: Config) -> Any:
    models, sizes = config.models, config.sizes
    if len(sizes) > 1:  # rows: models, columns: training rows
        shape = (len(models), len(sizes))
        title = f"{config.n_bits}-bit parity: loss and error (rows: models, columns: training rows)"
        cells = {(name, n_rows): (i, j) for i, name in enumerate(models) for j, n_rows in enumerate(sizes)}
    else:  # one size (quick mode): the models side by side, three to a row, not a tall strip
        ncols = min(len(models), 3)
        shape = (-(-len(models) // ncols), ncols)
        title = f"{config.n_bits}-bit parity from {sizes[0]:,} training rows: loss and error per model"
        cells = {(name, sizes[0]): divmod(k, ncols) for k, name in enumerate(models)}
    fig, axes = plot.figure(*shape, squeeze=False, size=(4.4 * shape[1] + 0.6, 2.6 * shape[0] + 1.0), title=title)
    for ax in axes.ravel()[len(cells):]:
        ax.set_axis_off()
    for (name, n_rows), (i, j) in cells.items():
        r = results[name, n_rows]
        ax = axes[i, j]
        plot.curves(
            ax,
            {"training loss (BCE, as trained)": r["curve_train_loss"],
             "training error": r["curve_train_error"],
             "held-out error": r["curve_error"]},
            x=np.asarray(r["curve_samples"]) / 1e3,
            title=f"{model_label(name, config.n_bits)}, {n_rows:,} rows: {r['test_accuracy']:.1%} held out",
            xlabel="training samples seen (thousands)", ylabel="loss / error",
            target=0.5, target_label="chance (error 0.5)",
        )
        ax.set_ylim(-0.02, 0.78)
    plot.figure_legend(fig, [axes[i, j] for i, j in cells.values()], ncol=4)
    return fig


# -------------------------------------------------------------------- run
def run(config: Config, ctx: RunContext) -> Report:
    started = time.perf_counter()
    data = draw_data(config)
    data_seconds = time.perf_counter() - started
    results: dict[tuple[str, int], dict] = {}
    for n_rows in config.sizes:
        for name in config.models:
            results[name, n_rows] = train_one(name, n_rows, data, config, ctx)

    rows = [
        [model_label(r["model"], config.n_bits), MODELS[r["model"]][1], f"{r['rows']:,}", r["epochs"], f"{r['samples']:,}",
         f"{r['train_accuracy']:.1%}", f"{r['test_accuracy']:.1%}", f"{r['seconds']:.1f}"]
        for r in results.values()
    ]
    table = Table(
        f"Held-out accuracy on {config.n_test:,} rows never seen in training (whole rows only)",
        ["model", "trained on", "training rows", "epochs", "samples seen", "training accuracy", "held-out accuracy", "training time (s)"],
        rows,
    )
    targets = []
    for (name, n_rows), r in results.items():
        label = f"{model_label(name, config.n_bits)}, {n_rows:,} rows"
        if name in PER_STEP:
            targets.append(Target(f"{label}: held-out accuracy", r["test_accuracy"], config.target, percent=True))
        else:
            # At chance: within 3 points of 50% (the standard error on 10k rows is 0.5 points).
            targets.append(Target(f"{label}: |held-out accuracy − 50%|", abs(r["test_accuracy"] - 0.5), 0.03, at_least=False, percent=True))
    smallest = min(config.sizes)
    if ("mlp_wide", smallest) in results and smallest <= 10_000:
        wide = results["mlp_wide", smallest]
        targets.append(Target(f"wide MLP, {smallest:,} rows: training accuracy (memorised)", wide["train_accuracy"], MEMORISED, percent=True))

    plots = [ctx.save_figure(plot_grid(results, config), "parity_grid")]
    notes = _notes(results, config, data_seconds, odd_share=float(data["y_test"].mean()))
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=[table], notes=notes,
        metrics={"results": [dict(r) for r in results.values()], "data_seconds": data_seconds},
    )


def _wide_mlp_summary(results: dict) -> str:
    """What the wide MLP did at each size, from the run's numbers."""
    runs = [r for (name, _), r in results.items() if name == "mlp_wide"]
    if not runs:
        return "it was not run here."
    parts = [
        f"{r['rows']:,} rows, {r['epochs']} epochs: training accuracy {r['train_accuracy']:.1%}, held out "
        f"{r['test_accuracy']:.1%}"
        for r in runs
    ]
    short = [f"{r['rows']:,}" for r in runs if r["train_accuracy"] < 0.9]
    tail = f" (at {' and '.join(short)} rows the sample budget allows too few passes to memorise)" if short else ""
    return "here: " + "; ".join(parts) + tail + "."


def _notes(results: dict, config: Config, data_seconds: float, odd_share: float) -> list[str]:
    n = config.n_bits
    sizes = " and ".join(f"{size:,}" for size in config.sizes)
    notes = [
        f"This run trained on {sizes} rows" + (
            " only; the full mode (`dltoys run parity`) trains on "
            + ", ".join(f"{size:,}" for size in Config.__dataclass_fields__["sizes"].default) + "."
            if len(config.sizes) == 1 else "."),
        f"Data: {max(config.sizes):,} training rows of {n} random bits (uint8, {max(config.sizes) * n / 1e6:.1f} MB; a "
        f"size of N uses the first N rows), {config.n_test:,} test and {config.n_val:,} validation rows from other "
        "seeds, each excluded from the training rows (and the validation rows from the test rows). The label of a "
        f"row is the XOR of its {n} bits. Drawn in {data_seconds:.1f} s. {odd_share:.1%} of the test rows are odd, so "
        f"a model that always answers the same scores {odd_share:.1%} or {1 - odd_share:.1%} held out.",
        "Supervision. Logistic regression and the MLPs get each row's label: they read the whole row at once, so "
        "there is no step for a per-step target to attach to (the nearest equivalent, each row's zero-padded "
        "prefixes as extra rows, is not tried here). 'RNN' and 'LSTM' read one bit per step and get "
        "a loss at every step against the running parity of the prefix read so far — the label of the prefix row "
        "x[:t+1], computed from the same row, its last step the row's own label. 'RNN, row label only' is the same "
        "RNN trained on the row label alone. Every held-out figure is for whole rows only (the last step).",
        "Logistic regression is at chance because no proper subset of the bits carries any information about the "
        "label: for every k < n bits, flipping one of the other bits flips the parity, so each feature (and every "
        "weighted sum of them) is uncorrelated with the label; parity is not linearly separable either (Minsky & "
        "Papert, 1969). A linear model has no signal to follow.",
        f"The [{n},4,3,1] MLP cannot even represent the function. Along the path that turns the bits on one by one "
        f"the label alternates {n} times, so the output must change sign {n} times; along any line a ReLU network "
        "with layers of 4 and 3 units is piecewise linear with at most (4+1)(3+1) = 20 pieces, each crossing zero "
        "at most once. Lacking capacity, and with no partial credit to follow, it stays at chance.",
        f"The wide MLP ({config.wide}x{config.wide} ReLU) can represent parity but has no reason to find it: "
        f"the rows it trains on are a vanishing part of the 2^{n} ≈ {2**n:.1e} patterns, and nothing in a fully "
        "connected layer prefers the XOR of all bits over any other function that fits them. Given enough passes "
        "it memorises its rows and still guesses on new ones; "
        + _wide_mlp_summary(results),
        "The recurrent nets need one bit of state: h_t = h_{t-1} XOR x_t, the same small map at every step. With a "
        f"loss at every step they learn it from the short prefixes first and it then holds for all {n} steps. "
        f"Trained on the row label alone, the same RNN stays at chance on {n}-bit rows: the only signal is the "
        f"correlation of the output with all {n} bits at once, which is zero until the network is already right "
        "(the fixed-length-50 warm-up in OpenAI's Requests for Research).",
        f"Training: Adam (lr {config.lr} for logistic regression and the MLPs, {config.recurrent_lr} for the "
        f"recurrent nets, hidden size {config.hidden_size}, gradient norm clipped at {config.clip}), batches of "
        f"{config.batch_size}, at most {config.sample_budget:,} samples (and at least 2 epochs) per model; a run stops "
        f"at the end of the epoch in which the validation accuracy reaches {config.target:.0%} or the training "
        f"accuracy {MEMORISED:.0%} (nothing left to fit). Training time excludes the held-out curve's evaluations.",
    ]
    total = sum(r["seconds"] for r in results.values())
    notes.append(f"Total training time of the {len(results)} runs: {total:.1f} s.")
    return notes
