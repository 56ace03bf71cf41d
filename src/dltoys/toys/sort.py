"""sort: a small GPT learns to sort six digits (minGPT's demo), and its attention maps show how."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .. import optim, plot, train
from ..data import Minibatches
from ..models import GPT
from ..models.transformer import LanguageModelStep
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "sort"
TITLE = "A small GPT sorts digits"
SHOWS = (
    "minGPT's demo: a 2-layer GPT reads six digits from {0, 1, 2} and writes them sorted, one token at a time, "
    "on sequences it never saw in training; its attention maps show a head that, at each output step, looks "
    "back at the input digits equal to the one it is about to write."
)


@dataclass(frozen=True)
class Config(ToyConfig):
    length: int = option(6, "digits per sequence", min=2, max=10)
    num_digits: int = option(3, "digits are 0 .. num_digits - 1", min=2, max=10)
    test_fraction: float = option(0.25, "share of all possible inputs held out (never trained on)", above=0, below=1)
    n_layer: int = option(2, "Transformer blocks", min=1)
    n_head: int = option(4, "attention heads per block", min=1)
    n_embd: int = option(32, "model width (divisible by n_head)", min=1)
    lr: float = option(5e-3, "Adam learning rate", above=0)
    batch_size: int = option(64, "sequences per step", min=1)
    epochs: int = option(80, "passes over the training sequences", min=1)
    target: float = option(0.995, "exact-match accuracy to reach on held-out sequences", above=0, max=1)
    n_maps: int = option(3, "held-out inputs whose attention maps are drawn", min=1)
    seed: int = option(0, "seed of the split, the weights and the shuffles", min=0)

    def validate(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd: must be divisible by n_head={self.n_head}, received {self.n_embd}")
        if self.num_digits ** self.length > 2_000_000:
            raise ValueError(f"length: {self.num_digits}^{self.length} possible inputs is too many to enumerate")


QUICK: dict = {"epochs": 30}


def sorting_examples(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """minGPT's layout: the model reads ``input + sorted[:-1]`` and predicts the next token at every position;
    the targets of the first ``length - 1`` positions (still inside the input) are -1, ignored by the loss."""
    length = inputs.shape[1]
    sequence = np.concatenate([inputs, np.sort(inputs, axis=1)], axis=1)  # (N, 2L)
    x, y = sequence[:, :-1], sequence[:, 1:].copy()  # (N, 2L - 1) each
    y[:, : length - 1] = -1
    return x, y


def sort_accuracy(model: GPT, inputs: np.ndarray) -> tuple[float, np.ndarray]:
    """Exact-match accuracy of greedy decoding, and the decoded outputs (N, L)."""
    length = inputs.shape[1]
    decoded = model.generate(inputs, length, temperature=0.0)[:, length:]  # (N, L)
    return float(np.mean(np.all(decoded == np.sort(inputs, axis=1), axis=1))), decoded


def _explain_heads(maps: list[np.ndarray], inputs: np.ndarray, length: int) -> tuple[list[list], tuple]:
    """For every head, at the output positions: the share of its attention on the input digits, on the
    input digits equal to the digit about to be written (the next target), and what that share would be
    if the head spread its input attention evenly. Returns table rows and the head most above even."""
    sorted_inputs = np.sort(inputs, axis=1)  # (N, L)
    rows, best = [], (-np.inf, "", 0.0, 0.0)
    for layer, weights in enumerate(maps):  # (N, H, T, T)
        # position length - 1 + j reads positions 0 .. length - 1 + j and predicts output digit j
        queries = weights[:, :, length - 1 : 2 * length - 1, :length]  # (N, H, L, L): output step j -> input i
        match = (inputs[:, None, :] == sorted_inputs[:, :, None]).astype(float)  # (N, L, L): input i equals digit j
        on_input = queries.sum(axis=-1)  # (N, H, L)
        on_match = np.einsum("nhji,nji->nhj", queries, match)  # (N, H, L)
        even = on_input * match.mean(axis=-1)[:, None, :]  # (N, H, L)
        for head in range(weights.shape[1]):
            shares = [float(np.mean(a[:, head])) for a in (on_input, on_match, even)]
            name = f"layer {layer + 1}, head {head + 1}"
            rows.append([name] + [f"{share:.0%}" for share in shares])
            if shares[1] - shares[2] > best[0]:
                best = (shares[1] - shares[2], name, shares[1], shares[2])
    return rows, best


def run(config: Config, ctx: RunContext) -> Report:
    L = config.length
    rng = np.random.default_rng(config.seed)
    every_input = np.array(list(itertools.product(range(config.num_digits), repeat=L)))  # (D^L, L)
    order = rng.permutation(len(every_input))
    n_test = max(1, int(round(config.test_fraction * len(every_input))))
    test_inputs, train_inputs = every_input[order[:n_test]], every_input[order[n_test:]]
    x, y = sorting_examples(train_inputs)

    model = GPT(config.num_digits, 2 * L - 1, n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd,
                rng=config.seed)
    step = LanguageModelStep(model, optim.Adam(model.parameters(), lr=config.lr), ignore_index=-1)
    history = train.Trainer(step, epochs=config.epochs, progress=ctx.progress).fit(
        Minibatches(x, y, batch_size=config.batch_size, shuffle=True, rng=config.seed))
    train_accuracy, _ = sort_accuracy(model, train_inputs)
    test_accuracy, decoded = sort_accuracy(model, test_inputs)
    wrong = np.flatnonzero(np.any(decoded != np.sort(test_inputs, axis=1), axis=1))

    # Attention maps of a few held-out inputs, and what each head attends to over all of them.
    shown = test_inputs[: config.n_maps]
    x_test, _ = sorting_examples(test_inputs)
    maps = model.attention_maps(x_test)  # n_layer x (N, H, T, T)
    head_rows, (_, best_head, best_share, best_even) = _explain_heads(maps, test_inputs, L)
    fig, axes = plot.figure(config.n_maps, config.n_layer * config.n_head, squeeze=False,
                            size=(2.0 * config.n_layer * config.n_head, 2.2 * config.n_maps),
                            title="sort: attention of every head on held-out inputs (row: reading position)")
    for row_index in range(config.n_maps):
        tokens = [str(t) for t in x_test[row_index]]
        for layer in range(config.n_layer):
            for head in range(config.n_head):
                ax = axes[row_index, layer * config.n_head + head]
                ax.imshow(maps[layer][row_index, head], cmap="Blues", vmin=0, vmax=1)
                ax.grid(False)
                ax.set_xticks(range(len(tokens)), tokens, fontsize=6)
                ax.set_yticks(range(len(tokens)), tokens, fontsize=6)
                ax.axvline(L - 0.5, color="0.5", linewidth=0.6)
                ax.axhline(L - 1.5, color="0.5", linewidth=0.6)
                if row_index == 0:
                    ax.set_title(f"layer {layer + 1} head {head + 1}", fontsize=8)
    plots = [ctx.save_figure(fig, "sort_attention")]

    fig, ax = plot.figure(size=(6.5, 3.6), title=f"sort: GPT {config.n_layer}x{config.n_head} heads, width {config.n_embd}")
    plot.curves(ax, {"training loss": history["loss"]}, title="cross-entropy on the sorted half",
                xlabel="epoch", ylabel="nats per token", log_y=True)
    plots.append(ctx.save_figure(fig, "sort_loss"))

    def as_text(digits) -> str:
        return "".join(str(d) for d in digits)

    examples = [[as_text(test_inputs[i]), as_text(decoded[i]), "yes" if i not in wrong else "NO"]
                for i in range(min(6, len(test_inputs)))]
    notes = [
        f"All {len(every_input)} inputs of {L} digits from 0..{config.num_digits - 1}; {len(test_inputs)} "
        f"({config.test_fraction:.0%}, seed {config.seed}) are held out and never trained on; "
        f"{len(train_inputs)} train for {config.epochs} epochs of batch {config.batch_size} (Adam lr {config.lr:g}).",
        "Outputs are decoded greedily, one token at a time; a sequence counts only if all its digits are right. "
        + (f"{len(wrong)} held-out sequence(s) are wrong: " + ", ".join(
            f"{as_text(test_inputs[i])} -> {as_text(decoded[i])}" for i in wrong[:5]) if len(wrong) else
           "No held-out sequence is wrong."),
        "The attention table reads the heads at the positions that write the output (from the last input digit "
        "on): 'on the input' is the weight they put on the input digits, 'on equal digits' the weight on input "
        "digits equal to the digit being written, and 'if spread evenly' what that would be if the head spread "
        "its input weight evenly. Sorting a small alphabet is counting: to write the next digit the model must "
        f"know how many copies of each digit the input holds. In this run {best_head} looks at equal digits most "
        f"above chance ({best_share:.0%} against {best_even:.0%}); the maps show where in the input each head's "
        "weight goes at every step (rows: reading positions; the grey lines separate input from output).",
    ]
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target("held-out exact-match accuracy", test_accuracy, config.target, percent=True)],
        plots=plots,
        tables=[
            Table("Accuracy (exact match, greedy decoding)", ["sequences", "count", "accuracy"],
                  [["training", len(train_inputs), f"{train_accuracy:.2%}"],
                   ["held-out", len(test_inputs), f"{test_accuracy:.2%}"]]),
            Table("Held-out examples", ["input", "output", "correct"], examples),
            Table("Where the heads look at the output positions (mean over held-out inputs)",
                  ["head", "on the input", "on equal digits", "if spread evenly"], head_rows),
        ],
        notes=notes,
        metrics={"test_accuracy": test_accuracy, "train_accuracy": train_accuracy, "n_test": len(test_inputs),
                 "wrong": [as_text(test_inputs[i]) for i in wrong], "history": history.to_dict(),
                 "best_head": best_head, "best_head_share": best_share, "best_head_even_share": best_even},
    )
