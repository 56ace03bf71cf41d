"""The progress bar: tqdm on a terminal, silence in CI logs and pipes."""

from __future__ import annotations

import sys
from typing import Any


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


class ProgressBar:
    """One bar over all the optimizer steps of a run, with the last epoch's logs as postfix."""

    def __init__(self, epochs: int, batches_per_epoch: int):
        from tqdm.auto import tqdm  # imported only when a bar is shown

        self.epochs = epochs
        self.bar = tqdm(total=epochs * batches_per_epoch, unit="step", file=sys.stderr, dynamic_ncols=True)

    def epoch_begin(self, epoch: int) -> None:
        self.bar.set_description(f"epoch {epoch}/{self.epochs}", refresh=False)

    def advance(self) -> None:
        self.bar.update(1)

    def epoch_end(self, logs: dict[str, Any]) -> None:
        shown = {key: f"{value:.4g}" for key, value in logs.items() if key != "time"}
        self.bar.set_postfix(shown, refresh=True)

    def close(self) -> None:
        self.bar.close()
