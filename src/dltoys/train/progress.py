"""The progress bar: tqdm on a terminal, silence in CI logs and pipes.

One live bar at a time: each ``fit`` draws its bar, named after the phase of the
run and the model it trains (``xor · MLP · epoch 3/300``), and removes it when it
ends, so a toy that trains twenty models leaves the terminal as it found it. The
bar has a fixed width and the postfix a bounded length, so a long list of logs
never squeezes the bar at 120 columns.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Any, Iterator, Mapping

#: The phase a bar names first (a toy's name, "sweep lr=0.3"); set with :func:`phase`.
_PHASE: contextvars.ContextVar[str | None] = contextvars.ContextVar("dltoys_progress_phase", default=None)

#: Bar geometry: a fixed-width bar, a description and a postfix of bounded length: with
#: "100%|", the counts "12345/60000" and "[00:12<00:30]", at most 117 columns.
BAR_WIDTH = 20
MAX_DESCRIPTION = 32
MAX_POSTFIX = 30
#: Logs shown in the postfix, the first two present in this order, with short names.
_SHOWN = (("loss", "loss"), ("val_accuracy", "val_acc"), ("accuracy", "acc"), ("val_loss", "val_loss"))


def progress_enabled(progress: bool | None) -> bool:
    """Resolve ``progress``: None means "only if stderr is a terminal or a Jupyter kernel".

    CI logs and pipes are not terminals, so they stay free of bar redraws.
    """
    if progress is not None:
        return bool(progress)
    if type(sys.stderr).__name__ == "OutStream" and "ipykernel" in sys.modules:
        return True  # a notebook: tqdm.auto draws a widget
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextlib.contextmanager
def phase(label: str) -> Iterator[None]:
    """Name the bars of the ``fit`` calls inside the block: ``with phase("n=12"): fit(...)``.

    The label leads each bar's description; blocks nest (``xor / n=12``) and the
    outer label is restored on exit.
    """
    outer = _PHASE.get()
    token = _PHASE.set(f"{outer} / {label}" if outer else str(label))
    try:
        yield
    finally:
        _PHASE.reset(token)


def step_name(step: Any) -> str:
    """What a step trains, for its bar: the model's class (``MLP``), or the modules' names (``generator+discriminator``)."""
    modules: Mapping[str, Any] = getattr(step, "modules", None) or {}
    if len(modules) == 1:
        return type(next(iter(modules.values()))).__name__
    return "+".join(modules) or type(step).__name__


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def postfix_text(logs: Mapping[str, Any]) -> str:
    """The epoch's headline logs, short: ``loss=0.0312 val_acc=0.985`` (at most MAX_POSTFIX characters)."""
    parts = [f"{short}={logs[key]:.3g}" for key, short in _SHOWN if key in logs][:2]
    return _shorten(" ".join(parts), MAX_POSTFIX)


class ProgressBar:
    """One bar over all the optimizer steps of one ``fit``, removed when it ends.

    Parameters
    ----------
    epochs : int
    batches_per_epoch : int, 0 when the source has no length (the bar then counts steps)
    name : str, optional
        What is trained (:func:`step_name`); the current :func:`phase`, if any, comes first.
    file : stream, default ``sys.stderr``
    ncols : int, optional, the line width (default: the terminal's)
    """

    def __init__(self, epochs: int, batches_per_epoch: int, name: str | None = None, *, file: Any = None,
                 ncols: int | None = None):
        from tqdm.auto import tqdm  # imported only when a bar is shown

        self.epochs = epochs
        label = " · ".join(part for part in (_PHASE.get(), name) if part)
        self.label = _shorten(label, MAX_DESCRIPTION - len(f" · epoch {epochs}/{epochs}"))
        self.bar = tqdm(
            total=epochs * batches_per_epoch or None, unit="step", desc=self._description(1), file=file if file is not None else sys.stderr,
            dynamic_ncols=ncols is None, ncols=ncols, leave=False,
            bar_format="{desc} {percentage:3.0f}%|{bar:" + str(BAR_WIDTH) + "}| {n_fmt}/{total_fmt} "
                       "[{elapsed}<{remaining}]{postfix}",
        )

    def _description(self, epoch: int) -> str:
        return " · ".join(part for part in (self.label, f"epoch {epoch}/{self.epochs}") if part)

    def epoch_begin(self, epoch: int) -> None:
        self.bar.set_description_str(self._description(epoch), refresh=False)

    def advance(self) -> None:
        self.bar.update(1)

    def epoch_end(self, logs: dict[str, Any]) -> None:
        self.bar.set_postfix_str(postfix_text(logs), refresh=True)

    def close(self) -> None:
        self.bar.close()
