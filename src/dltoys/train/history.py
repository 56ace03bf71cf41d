"""History: what a training run measured, epoch by epoch and batch by batch."""

from __future__ import annotations

import math
from typing import Any, Iterator


class History:
    """Per-epoch logs and per-batch losses of one :func:`~dltoys.train.fit` run.

    Read a series as ``history["val_loss"]``, ``history.val_loss`` or, as in
    Keras, ``history.history["val_loss"]`` (all the same list).
    Per-epoch series are keyed by the names the callbacks monitor:
    ``loss`` and each metric (on the training batches, averaged over the epoch),
    ``val_loss`` and ``val_<metric>`` (with validation data), ``lr`` (the
    optimizer's learning rate during the epoch) and ``time`` (seconds for the
    epoch, validation included). ``history["val_loss"][-1]`` is the last value.

    Attributes
    ----------
    epochs : list of int
        The epoch numbers recorded (1, 2, ...).
    batch_losses : list of list of float
        The training loss of every batch, one list per epoch.
    stop_reason : str or None
        Why a callback stopped the run early (None when it ran every epoch).
    """

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.series: dict[str, list[float | None]] = {}
        self.batch_losses: list[list[float]] = []
        self.stop_reason: str | None = None

    def record(self, epoch: int, logs: dict[str, float], batch_losses: list[float]) -> None:
        """Append one epoch; a key missing on some epochs reads None there."""
        for key in logs:
            if key not in self.series:
                self.series[key] = [None] * len(self.epochs)
        for key, values in self.series.items():
            value = logs.get(key)
            values.append(None if value is None else float(value))
        self.epochs.append(int(epoch))
        self.batch_losses.append([float(v) for v in batch_losses])

    # ------------------------------------------------------------- reading
    @property
    def history(self) -> dict[str, list[float | None]]:
        """The per-epoch series as one dict, ``{"loss": [...], "val_loss": [...]}`` (Keras's ``History.history``).

        The dict itself, not a copy: it grows as the run goes on.
        """
        return self.series

    def __getattr__(self, name: str) -> list[float | None]:
        """A series as an attribute: ``history.val_loss`` is ``history["val_loss"]``.

        Only for names that are not attributes or methods of History itself
        (``epochs``, ``keys``, ``last``, ``steps``, ...): ``history["epochs"]``
        always works. A name that is neither raises AttributeError listing the series.
        """
        series = self.__dict__.get("series")
        if series is not None and name in series:
            return series[name]
        recorded = ", ".join(series) if series else "none"
        raise AttributeError(f"History has no attribute or series {name!r}; series recorded: {recorded}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {k for k in self.__dict__.get("series", {}) if k.isidentifier()})

    def __getitem__(self, key: str) -> list[float | None]:
        try:
            return self.series[key]
        except KeyError:
            raise KeyError(f"History: no series {key!r}; recorded: {', '.join(self.series) or 'none'}") from None

    def __contains__(self, key: object) -> bool:
        return key in self.series

    def __len__(self) -> int:
        return len(self.epochs)

    def keys(self) -> Iterator[str]:
        return iter(self.series)

    def last(self, key: str) -> float | None:
        """The value of ``key`` at the last recorded epoch."""
        values = self[key]
        return values[-1] if values else None

    def steps(self) -> list[float]:
        """Every batch loss in training order (one point per optimizer step)."""
        return [loss for epoch in self.batch_losses for loss in epoch]

    # -------------------------------------------------------------- export
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; non-finite numbers become None (strict JSON has no NaN)."""

        def clean(value: float | None) -> float | None:
            return value if value is not None and math.isfinite(value) else None

        return {
            "epoch": list(self.epochs),
            **{key: [clean(v) for v in values] for key, values in self.series.items()},
            "batch_loss": [[clean(v) for v in epoch] for epoch in self.batch_losses],
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        """Rebuild a History from :meth:`to_dict` output (a checkpoint's extra)."""
        history = cls()
        history.epochs = [int(e) for e in data.get("epoch", [])]
        history.batch_losses = [list(epoch) for epoch in data.get("batch_loss", [])]
        history.stop_reason = data.get("stop_reason")
        for key, values in data.items():
            if key not in ("epoch", "batch_loss", "stop_reason"):
                if len(values) != len(history.epochs):
                    raise ValueError(f"History.from_dict: series {key!r} has {len(values)} values for {len(history.epochs)} epochs")
                history.series[key] = list(values)
        return history

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in ((k, self.last(k)) for k in self.series) if v is not None)
        return f"History(epochs={len(self)}{', ' + last if last else ''})"
