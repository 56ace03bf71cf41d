"""charlm: a character-level LSTM language model on Python's own source (or any UTF-8 text)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import nn, optim, plot, train
from ..data import CharVocab, Minibatches, lm_windows, python_source_text, read_text_file, split_text
from ..models import CharLM, stream_chunks
from .base import Report, RunContext, Table, Target, ToyConfig, option
from .registry import ConfigError

NAME = "charlm"
TITLE = "Character-level LSTM language model"
SHOWS = (
    "An LSTM reads text one character at a time and predicts the next; trained by truncated "
    "backpropagation through time on the standard library's own .py files (or --text FILE), it "
    "beats the unigram baseline by more than 2 bits per character and writes Python-looking text."
)

#: Held-out text is scored as this many parallel streams (fewer for a short text).
_EVAL_STREAMS = 16
#: Samples are shown in the report cut to this many characters (samples.txt has them whole).
_SHOWN_CHARS = 240


@dataclass(frozen=True)
class Config(ToyConfig):
    text: Optional[str] = option(None, "a UTF-8 text file to learn; default: the standard library's .py files")
    max_chars: int = option(1_000_000, "characters of text to use (the first ones)", min=2)
    val_fraction: float = option(0.1, "share of the text, at its end, held out for bits per character", above=0, below=1)
    embedding_dim: int = option(32, "length of each character's vector", min=1)
    hidden_size: int = option(256, "LSTM state size", min=1)
    num_layers: int = option(1, "stacked LSTM layers", min=1)
    seq_len: int = option(64, "characters per chunk: backpropagation stops at chunk boundaries", min=1)
    n_streams: int = option(32, "parallel streams of the text (the batch size)", min=1)
    stateful: bool = option(True, "carry the LSTM state from chunk to chunk (false: independent shuffled windows)")
    lr: float = option(3e-3, "Adam learning rate", above=0)
    clip: float = option(1.0, "largest gradient norm per step", above=0)
    epochs: int = option(6, "passes over the training text", min=1)
    temperatures: tuple[float, ...] = option((0.5, 0.8, 1.0), "sampling temperatures (0 = greedy)", min=0)
    sample_chars: int = option(400, "characters to sample at each temperature", min=0)
    prompt: str = option("", "text the samples continue; default: the first 20 characters of the held-out text")
    seed: int = option(0, "seed of the initial weights and of the shuffles", min=0)
    sample_seed: int = option(0, "seed of the samples (one generator per temperature, each from this seed)", min=0)

    def validate(self) -> None:
        if self.text is not None:
            # Read the file now, so that a bad --text is a clear error before any work.
            self.check_length(_read_user_text(self.text)[: self.max_chars], self.text)

    def check_length(self, text: str, where: str) -> None:
        """Enough text for one training chunk per stream and a held-out part to score."""
        n_val = int(np.floor(self.val_fraction * len(text) + 0.5))
        n_train = len(text) - n_val
        needed = self.n_streams * self.seq_len + 1
        if n_train < needed or n_val < 2:
            raise ValueError(
                f"text: {where!r} gives {len(text)} characters ({n_train} to train on, {n_val} held out); "
                f"training needs at least n_streams * seq_len + 1 = {needed} and the held-out part at least 2: "
                "use a longer text or smaller --n-streams / --seq-len"
            )


QUICK: dict = {"max_chars": 300_000, "hidden_size": 128, "epochs": 3, "sample_chars": 240}


def _read_user_text(path: str) -> str:
    """read_text_file with the config's name for the argument in its errors."""
    try:
        return read_text_file(path)
    except (OSError, ValueError) as exc:  # missing, a directory, empty, binary, not UTF-8
        raise ValueError("text: " + str(exc).removeprefix("path: ")) from None


class _HeldOutBits(train.Callback):
    """Bits per character on the held-out text after every epoch (carried streams, eval mode)."""

    def __init__(self, ids: np.ndarray, n_streams: int):
        self.ids, self.n_streams = ids, n_streams
        self.bits: list[float] = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.bits.append(trainer.model.bits_per_char(self.ids, n_streams=self.n_streams))


def unigram_bits(train_ids: np.ndarray, scored_ids: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy in bits/char of ``scored_ids`` under the add-one smoothed character
    frequencies of ``train_ids`` (every character of the vocabulary counted once more)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0  # (V,)
    return float(-np.mean(np.log2(counts[scored_ids] / counts.sum())))


def run(config: Config, ctx: RunContext) -> Report:
    if config.text is None:
        text, source = python_source_text(config.max_chars), "the standard library's .py files"
    else:
        text, source = _read_user_text(config.text)[: config.max_chars], repr(config.text)
        config.check_length(text, config.text)
    # The vocabulary is every character of the whole text: held-out characters that never
    # occur in training still get an id (the unigram baseline smooths their counts).
    vocab = CharVocab(text)
    train_ids, val_ids = split_text(vocab.encode(text), config.val_fraction)
    eval_streams = max(1, min(_EVAL_STREAMS, (len(val_ids) - 1) // 64))
    # The model scores val_ids[1 : 1 + count] (see CharLM.cross_entropy_stream); so does the baseline.
    n_scored = eval_streams * ((len(val_ids) - 1) // eval_streams)
    unigram = unigram_bits(train_ids, val_ids[1 : 1 + n_scored], len(vocab))

    prompt = config.prompt or vocab.decode(val_ids[:20])
    missing = sorted(set(prompt) - set(vocab.chars))
    if missing:
        raise ConfigError(f"{NAME}: prompt: the characters {missing} never occur in the text, so the model has no id for them")

    model = CharLM(len(vocab), config.embedding_dim, config.hidden_size, config.num_layers, rng=config.seed)
    held_out = _HeldOutBits(val_ids, eval_streams)
    callbacks = [train.ClipGradNorm(config.clip), held_out]
    loss, optimizer = nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=config.lr)
    if config.stateful:
        # Batch k is chunk k of every stream; the step carries the LSTM state from one to the next.
        inputs, targets = stream_chunks(train_ids, config.n_streams, config.seq_len)
        trainer = train.Trainer(train.TruncatedBPTTStep(model, loss, optimizer), callbacks=callbacks,
                                epochs=config.epochs, progress=ctx.progress)
        history = trainer.fit(Minibatches(inputs, targets, batch_size=config.n_streams))
    else:  # independent shuffled windows, each read from a zero state
        inputs, targets = lm_windows(train_ids, config.seq_len)
        history = train.fit(model, loss, optimizer, inputs, targets, callbacks=callbacks, rng=config.seed,
                            epochs=config.epochs, progress=ctx.progress, shuffle=True, batch_size=config.n_streams,
                            drop_last=True)
    bits = held_out.bits[-1]

    # Samples, each temperature from its own generator seeded with sample_seed.
    samples = {t: vocab.decode(model.generate(vocab.encode(prompt), config.sample_chars, t, rng=config.sample_seed))
               for t in config.temperatures}
    with open(ctx.path("samples.txt"), "w", encoding="utf-8") as handle:
        for t, sample in samples.items():
            handle.write(f"=== temperature {t} (sample_seed {config.sample_seed}) ===\n{prompt}{sample}\n\n")

    steps_per_epoch = len(history.batch_losses[0])
    step_bits = np.asarray(history.steps()) / math.log(2)
    fig, ax = plot.figure(size=(7.5, 4.2), title=f"charlm: LSTM-{config.hidden_size} on {len(text):,} characters of {source}")
    ax.axhline(unigram, color="0.55", linestyle=":", linewidth=1.2, label=f"unigram baseline ({unigram:.2f})")
    plot.curves(
        ax,
        {"training batches": step_bits, "held-out text": held_out.bits},
        x={"training batches": np.arange(1, len(step_bits) + 1),
           "held-out text": steps_per_epoch * np.arange(1, len(held_out.bits) + 1)},
        title="next-character cross-entropy (held-out: after each epoch)",
        xlabel="optimizer step", ylabel="bits per character",
        target=unigram - 2, target_label="target: unigram − 2 bits",
    )
    next(line for line in ax.lines if line.get_label() == "held-out text").set_marker("o")  # a few points
    ax.legend(fontsize=8, frameon=False)
    plots = [ctx.save_figure(fig, "charlm")]

    def one_line(text: str) -> str:  # a table cell: no line breaks, no pipes (they split Markdown cells)
        return text.replace("\n", "⏎").replace("|", "¦")

    shown = [[f"{t:g}", one_line(prompt), one_line(sample[:_SHOWN_CHARS])] for t, sample in samples.items()]
    notes = [
        f"Text: {len(text):,} characters of {source}, {len(vocab)} distinct; the last {len(val_ids):,} "
        f"({config.val_fraction:.0%}) are held out, and {n_scored:,} of them are scored by both models.",
        f"Training: {config.n_streams} parallel streams cut into chunks of {config.seq_len} characters; "
        + ("the LSTM state is carried from chunk to chunk and the gradient stops at chunk boundaries "
           "(truncated BPTT)." if config.stateful else "independent shuffled windows, each from a zero state.")
        + f" {len(history)} epochs of {steps_per_epoch} steps, Adam lr {config.lr:g}, gradient norm clipped to {config.clip:g}.",
        "Held-out bits per character read the held-out text as long streams with the state carried, "
        "so every prediction sees the whole text before it (within its stream).",
    ]
    last_epoch_bits = float(np.mean(history.batch_losses[-1])) / math.log(2)
    if bits < last_epoch_bits:
        notes.append(
            f"The held-out text scores better ({bits:.2f}) than the last epoch's training batches ({last_epoch_bits:.2f}): "
            "the training figure averages batches while the weights still change, and the held-out tail is a few "
            "files (or the end of one) whose difficulty differs from the training text's average."
        )
    return Report(
        toy=NAME, title=TITLE, shows=SHOWS,
        targets=[Target("held-out bits per character (unigram − 2)", bits, unigram - 2.0, at_least=False)],
        plots=plots,
        tables=[
            Table("Held-out bits per character", ["model", "bits/char"],
                  [["unigram (add-one smoothed training frequencies)", unigram],
                   [f"LSTM, after each epoch ({'stateful' if config.stateful else 'independent windows'})",
                    ", ".join(f"{b:.3f}" for b in held_out.bits)]]),
            Table(f"Samples, seed {config.sample_seed} (⏎ = newline, ¦ = |; the first {_SHOWN_CHARS} characters, "
                  "all of them in samples.txt)", ["temperature", "prompt", "continuation"], shown),
        ],
        notes=notes,
        metrics={
            "bits_per_char": bits, "unigram_bits_per_char": unigram, "held_out_bits": held_out.bits,
            "vocab_size": len(vocab), "n_chars": len(text), "n_scored": n_scored,
            "samples": {str(t): s for t, s in samples.items()}, "prompt": prompt,
            "history": history.to_dict(),
        },
    )
