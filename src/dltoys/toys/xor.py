"""XOR and n-bit parity: what one hidden layer adds to a single neuron, and where data runs out."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import nn, optim, plot, train
from ..data import MAX_TRUTH_TABLE_BITS, make_parity, pack_rows, parity_truth_table
from ..models import MLP, LogisticRegression
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "xor"
TITLE = "XOR with a 2-10-1 tanh network, then n-bit parity"
SHOWS = (
    "No line separates XOR's classes, so no single neuron can get all four points; one hidden layer of tanh "
    "units bends the boundary and reaches 100%. Parity of n bits is XOR of all of them: a hidden layer learns "
    "it from 10k rows for n ≤ 8 (every pattern seen) and well beyond, on patterns it never saw, while "
    "logistic regression stays at chance for every n."
)

#: MLP accuracy below this counts as at chance (50%) in the notes.
CHANCE_BAND = 0.6


@dataclass(frozen=True)
class Config(ToyConfig):
    hidden_size: int = option(10, "width of the hidden tanh layer of the XOR network", min=1)
    lr: float = option(0.5, "SGD learning rate of the XOR network", above=0)
    momentum: float = option(0.9, "SGD momentum of the XOR network", min=0, below=1)
    epochs: int = option(2000, "full-batch epochs of the XOR network (at most)", min=1)
    stop_loss: float = option(0.01, "the XOR network trains past 100% until its BCE is this low (a clear margin)", above=0)
    parity_bits: tuple[int, ...] = option(
        (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 24, 28), "numbers of bits n of the parity sweep", min=2, max=64)
    parity_rows: int = option(10_000, "training rows per n, drawn uniformly (with repeats)", min=1)
    test_rows: int = option(2000, "held-out rows per n, patterns absent from the training rows", min=1)
    held_out_min: int = option(
        100, "fewest unseen patterns for a held-out test; below it, all 2^n patterns are scored", min=1)
    parity_hidden: int = option(128, "width of the parity MLP's hidden tanh layer", min=1)
    parity_lr: float = option(0.01, "Adam learning rate of the parity MLP", above=0)
    parity_batch: int = option(128, "minibatch size of the parity MLP", min=1)
    parity_epochs: int = option(1000, "epochs of the parity MLP at most (stops at 100% training accuracy)", min=1)
    lr_epochs: int = option(200, "full-batch epochs of logistic regression on parity", min=1)
    seed: int = option(0, "seed of the weights and the data", min=0)


#: The tour's budget: n <= 8 (the target) and one n scored on held-out patterns, with fewer epochs.
QUICK: dict = {"parity_bits": (2, 3, 4, 5, 6, 7, 8, 12), "parity_epochs": 300}


def _xor_network(config: Config, ctx: RunContext) -> tuple[dict, list[str]]:
    X, y = parity_truth_table(2)  # the four corners of the unit square, once each
    target = y.astype(np.float32)[:, None]  # (4, 1)
    model = MLP((2, config.hidden_size, 1), activation="tanh", rng=config.seed)
    optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), optimizer, X, target,
        metrics={"accuracy": train.binary_accuracy_logits},
        callbacks=[train.StopAtTarget("loss", config.stop_loss)],
        epochs=config.epochs, batch_size=None, shuffle=False, progress=ctx.progress,
    )
    accuracy = float(train.binary_accuracy_logits(train.predict(model, X), target))
    first_full = next((epoch for epoch, acc in zip(history.epochs, history["accuracy"]) if acc == 1.0), None)

    fig, (ax_loss, ax_boundary) = plot.figure(1, 2, title="XOR: a hidden layer bends the boundary")
    if first_full is not None:
        ax_loss.axvline(first_full, linestyle=":", color="black", label=f"all 4 right from epoch {first_full}")
    plot.curves(ax_loss, {"training loss": history["loss"]}, title="training loss (full batch, SGD with momentum)",
                ylabel="binary cross-entropy", log_y=True, target=config.stop_loss,
                target_label=f"stop at loss {config.stop_loss:g}")
    plot.decision_boundary(
        ax_boundary, lambda grid: (train.predict(model, grid)[:, 0] > 0).astype(int), X, y,
        title=f"2-{config.hidden_size}-1 tanh network: {accuracy:.0%}", margin=0.4,
    )
    result = {"accuracy": accuracy, "epochs_run": len(history), "first_full_epoch": first_full,
              "final_loss": history.last("loss"), "history": history.to_dict()}
    return result, [ctx.save_figure(fig, "xor")]


@dataclass
class _ParityPoint:
    n_bits: int
    seen: int  # distinct patterns among the training rows
    held_out: bool  # scored on unseen patterns (True) or on all 2^n patterns (False)
    n_eval: int
    lr_accuracy: float
    mlp_accuracy: float
    mlp_train_accuracy: float
    epochs: int
    seconds: float

    @property
    def coverage(self) -> float:
        return self.seen / 2.0**self.n_bits

    def row(self) -> list:
        unseen = self.n_eval - self.seen
        scored = (f"{self.n_eval} held-out patterns" if self.held_out else
                  f"all {self.n_eval} patterns" + (f" ({unseen} not in training)" if unseen else " (all in training)"))
        return [self.n_bits, f"{2 ** self.n_bits:,}", f"{self.coverage:.3g}", scored, f"{self.lr_accuracy:.1%}",
                f"{self.mlp_train_accuracy:.2%}", f"{self.mlp_accuracy:.2%}", self.epochs, f"{self.seconds:.1f}"]


def _parity_point(n_bits: int, config: Config, ctx: RunContext) -> _ParityPoint:
    started = time.perf_counter()
    rng = np.random.default_rng([config.seed, n_bits])  # each n its own stream: the same in quick and full mode
    bits, labels = make_parity(config.parity_rows, n_bits, rng=rng, dtype=np.uint8)  # (N, n) 0/1
    seen = len(np.unique(pack_rows(bits)))
    unseen = 2**n_bits - seen
    held_out = unseen >= config.held_out_min or n_bits > MAX_TRUTH_TABLE_BITS
    if held_out:  # patterns the training rows never show: generalisation, not recall
        X_eval, y_eval = make_parity(min(config.test_rows, unseen), n_bits, exclude=bits, replace=False, rng=rng)
    else:  # (almost) every pattern is in the training rows: score the whole finite set
        X_eval, y_eval = parity_truth_table(n_bits)
    X = bits.astype(np.float32)  # (N, n)
    target = labels.astype(np.float32)[:, None]  # (N, 1)

    # plain full-batch gradient descent from zero weights: no penalty, every epoch run
    linear = LogisticRegression(penalty=None, learning_rate_init=1.0, batch_size=None, max_iter=config.lr_epochs, tol=None)
    linear.fit(X, labels)

    model = MLP((n_bits, config.parity_hidden, 1), activation="tanh", rng=rng)
    # Stop once the weights at the end of an epoch get every training row right: the "validation"
    # set here is the training rows themselves (the running accuracy of an epoch mixes weights).
    history = train.fit(
        model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=config.parity_lr), X, target,
        validation_data=(X, target), metrics={"accuracy": train.binary_accuracy_logits},
        callbacks=[train.StopAtTarget("val_accuracy", 1.0)], epochs=config.parity_epochs,
        batch_size=config.parity_batch, rng=rng, progress=ctx.progress,
    )
    # Batches as small as the training ones on purpose: OpenBLAS spreads a (4096, n) @ (n, width) product
    # over both cores, which on a busy machine is tens of times slower than one thread on 128 rows.
    mlp_accuracy = float(train.binary_accuracy_logits(
        train.predict(model, X_eval, batch_size=config.parity_batch), y_eval[:, None]))
    return _ParityPoint(
        n_bits, seen, held_out, len(y_eval), linear.score(X_eval, y_eval), mlp_accuracy,
        float(history.last("val_accuracy")), len(history), time.perf_counter() - started,
    )


def _plot_parity(points: list[_ParityPoint], config: Config, ctx: RunContext) -> str:
    n = np.array([p.n_bits for p in points])
    held_out = np.array([p.held_out for p in points])
    fig, (ax_acc, ax_cover) = plot.figure(1, 2, size=(11.0, 4.2), title=f"n-bit parity from {config.parity_rows:,} rows")
    if held_out.any():
        ax_acc.axvspan(n[held_out].min() - 0.5, n.max() + 0.5, color="0.9", label="scored on held-out patterns")
    for values, label, marker in (
        ([p.mlp_accuracy for p in points], f"MLP n-{config.parity_hidden}-1 tanh, Adam", "o"),
        ([p.mlp_train_accuracy for p in points], "MLP on its training rows", "."),
        ([p.lr_accuracy for p in points], "logistic regression", "s"),
    ):  # no solid line across n that were not measured (dotted there)
        plot.gapped_line(ax_acc, n, values, marker=marker, linestyle="-" if marker != "." else "--", label=label)
    ax_acc.axhline(0.5, linestyle="--", color="0.4", linewidth=1, label="chance (50%)")
    ax_acc.set_ylim(0.35, 1.05)
    plot.finish(ax_acc, "accuracy against the number of bits (white: all $2^n$ patterns scored)",
                "number of bits n (dotted: n between not measured)" if np.any(np.diff(n) > 1) else "number of bits n",
                "accuracy")
    coverage = [p.coverage for p in points]
    plot.gapped_line(ax_cover, n, coverage, marker="o", label="distinct patterns in the training rows / $2^n$")
    plot.finish(ax_cover, "how much of the input space the training rows show", "number of bits n",
                "fraction of all patterns", log_y=min(coverage) < 0.1, legend=True)
    if min(coverage) >= 0.1:
        ax_cover.set_ylim(0, 1.05)
    return ctx.save_figure(fig, "parity")


def _xor_note(xor: dict, config: Config) -> str:
    """What the XOR network did in this run: all four points and a clear margin, or how far it got."""
    network = f"XOR: the 2-{config.hidden_size}-1 tanh network"
    if xor["first_full_epoch"] is None:
        return (f"{network} did NOT get all four points in {xor['epochs_run']} epochs (final accuracy "
                f"{xor['accuracy']:.0%}, loss {xor['final_loss']:.3g}): raise --epochs, or try another --lr or --seed.")
    reached = (f"{network} got all four points from epoch {xor['first_full_epoch']} and trained on to a loss of "
               f"{xor['final_loss']:.3g} (epoch {xor['epochs_run']})")
    if xor["accuracy"] < 1:
        return reached + f", but ended at {xor['accuracy']:.0%}: it lost a point again (try a smaller --lr)."
    if xor["final_loss"] <= config.stop_loss:
        return reached + ", so the boundary passes well clear of every point."
    return (reached + f", short of the stopping loss {config.stop_loss:g}: all four points are right, but the "
            "boundary may pass close to some of them.")


def _parity_notes(points: list[_ParityPoint], config: Config) -> list[str]:
    notes = [
        "Parity is finite: for small n the training rows contain every pattern, so a held-out pattern does not "
        f"exist. Where fewer than {config.held_out_min} patterns are missing from the training rows, the table "
        "scores all 2^n patterns (the rows the network trained on, i.e. whether it can represent and fit n-bit "
        f"parity); from there on it scores up to {config.test_rows} patterns that no training row contains.",
        f"Logistic regression: {min(p.lr_accuracy for p in points):.1%} to {max(p.lr_accuracy for p in points):.1%}. "
        "Over all patterns, every bit and every weighted sum of bits is uncorrelated with the parity of n >= 2 "
        "bits, so a line carries no information about it; its departures from 50% come from the uneven counts "
        "of a finite sample.",
    ]
    chance = [p for p in points if p.mlp_accuracy < CHANCE_BAND]
    worst = min(points, key=lambda p: p.mlp_accuracy)
    if chance and chance[0].mlp_train_accuracy < CHANCE_BAND:
        first = chance[0]
        notes.append(
            f"The MLP is at chance from n = {first.n_bits} ({first.mlp_accuracy:.1%} scored), and on its own "
            f"training rows too ({first.mlp_train_accuracy:.1%} after {first.epochs} epochs): it did not fit them "
            "within this run's budget, so the run says nothing about generalisation (raise --parity-epochs)."
        )
    elif chance:
        first = chance[0]
        scored = "held-out patterns" if first.held_out else f"all {first.n_eval} patterns"
        notes.append(
            f"The MLP falls to chance at n = {first.n_bits} ({first.mlp_accuracy:.1%} on {scored}, "
            f"{first.mlp_train_accuracy:.1%} on its training rows): the training rows cover {first.coverage:.2g} "
            f"of the 2^{first.n_bits} patterns. Parity of n bits needs the network to represent an n-way XOR, and "
            "changing any one bit flips the label, so no pattern's neighbours say anything about it; unless "
            "gradient descent finds the rule itself, memorised rows tell it nothing about the rest."
        )
    else:
        notes.append(
            f"The MLP stays above chance for every n measured here (lowest {worst.mlp_accuracy:.1%} at "
            f"n = {worst.n_bits}, where the training rows cover {worst.coverage:.2g} of the patterns); the full mode "
            "runs larger n to show where it falls."
        )
    slow = [p for p in points if p.mlp_train_accuracy < 1]
    if slow:
        notes.append(
            "Not at 100% on its own training rows within the epoch budget: "
            + ", ".join(f"n = {p.n_bits} ({round((1 - p.mlp_train_accuracy) * config.parity_rows)} of "
                        f"{config.parity_rows} rows wrong after {p.epochs} epochs)" for p in slow) + "."
        )
    return notes


def run(config: Config, ctx: RunContext) -> Report:
    xor, plots = _xor_network(config, ctx)
    points = []
    for n_bits in sorted(set(config.parity_bits)):
        with ctx.phase(f"n={n_bits}"):  # the progress bar says which n is training
            points.append(_parity_point(n_bits, config, ctx))
    plots.append(_plot_parity(points, config, ctx))

    targets = [Target(f"2-{config.hidden_size}-1 network on the 4 XOR patterns", xor["accuracy"], 1.0, percent=True)]
    small = [p for p in points if p.n_bits <= 8]
    if small:
        targets.append(Target("MLP parity accuracy, lowest over n ≤ 8", min(p.mlp_accuracy for p in small), 1.0,
                              percent=True))
    notes = [_xor_note(xor, config)] + _parity_notes(points, config)
    table = Table(
        "n-bit parity: logistic regression and the MLP",
        ["n", "patterns", "training coverage", "scored on", "logistic regression", "MLP (training rows)",
         "MLP (scored)", "MLP epochs", "seconds"],
        [p.row() for p in points],
    )
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS, targets=targets, tables=[table], notes=notes, plots=plots,
        metrics={"xor": xor, "parity": [vars(p) for p in points]},
    )
