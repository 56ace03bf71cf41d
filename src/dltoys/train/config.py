"""TrainConfig: the settings of one training run, frozen, with checked types."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..utils import check_bool, check_int


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`dltoys.train.fit` (override by name: ``fit(..., epochs=50)``)."""

    epochs: int = 10  # passes over the training data
    batch_size: int | None = 32  # samples per optimizer step; None = the whole set (full batch)
    shuffle: bool = True  # a new order every epoch, drawn from fit's rng
    drop_last: bool = False  # skip a final batch shorter than batch_size
    eval_batch_size: int | None = None  # batch size for validation; None = batch_size
    progress: bool | None = None  # tqdm bar on stderr; None = only when stderr is a terminal
    tune_allocator: bool = True  # keep big freed buffers in the process (dltoys.runtime)
    check_finite: bool = True  # after every epoch, check every parameter is finite

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)
        for name in ("batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if value is not None:
                check_int(name, value, minimum=1)
        for name in ("shuffle", "drop_last", "tune_allocator", "check_finite"):
            check_bool(name, getattr(self, name))
        if self.progress is not None and not isinstance(self.progress, bool):
            raise TypeError(f"progress: expected True, False or None (auto), received {self.progress!r}")

    def replace(self, **overrides: Any) -> "TrainConfig":
        """A copy with some fields changed; unknown names are an error that lists the known ones."""
        known = [field.name for field in dataclasses.fields(self)]
        unknown = [name for name in overrides if name not in known]
        if unknown:
            raise TypeError(f"TrainConfig: unknown setting(s) {unknown}; known: {', '.join(known)}")
        return dataclasses.replace(self, **overrides)
