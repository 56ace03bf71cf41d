"""The errors of a training run that diverged: a logged value or a parameter became NaN or infinite."""

from __future__ import annotations

import numpy as np

from ..nn.module import Module
from .history import History


class NonFiniteError(FloatingPointError):
    """Training diverged: a loss or a parameter became NaN or infinite.

    Attributes
    ----------
    history : History or None
        The epochs completed before the divergence (set by the training loop),
        so a caller can still plot the curve up to where it stopped.
    """

    history: "History | None" = None


class NonFiniteLossError(NonFiniteError):
    """A batch's logged value (the training loss, or another log of the step) was not finite.

    Raised after the step that produced it; the built-in steps skip their update
    when the loss is not finite, so the weights are those before that batch.

    Attributes
    ----------
    epoch, batch : int
        Where it happened, both counted from 1.
    value : float
    key : str
        The name of the logged value (``"loss"``, ``"d_loss"``, ...).
    """

    def __init__(self, epoch: int, batch: int, n_batches: int | None, value: float, key: str = "loss"):
        self.epoch, self.batch, self.value, self.key = epoch, batch, value, key
        what = "the training loss" if key == "loss" else f"the logged value {key!r}"
        of = f" of {n_batches}" if n_batches else ""
        super().__init__(
            f"{what} became {value} at epoch {epoch}, batch {batch}{of}. Usual causes: a learning rate "
            "too high, inputs that are not scaled, or a log/division of zero in a custom loss."
        )


class NonFiniteValidationError(NonFiniteError):
    """A validation value (``val_loss``, ``val_<metric>``) was NaN or infinite after an epoch.

    With finite validation data this means the model's evaluation output was not
    finite; :func:`~dltoys.train.fit` refuses NaN in the data itself before
    training. Raised rather than logged, so that early stopping never ends a
    run on "no improvement" over a value that was never a number.

    Attributes
    ----------
    epoch : int
    key : str
    value : float
    """

    def __init__(self, epoch: int, key: str, value: float):
        self.epoch, self.key, self.value = epoch, key, value
        super().__init__(
            f"{key} became {value} at epoch {epoch}: the validation data or the model's output on it holds "
            "NaN or infinite values (check the validation data; a model that overflows in eval mode, e.g. "
            "BatchNorm with broken running statistics, does this too)"
        )


class NonFiniteParameterError(NonFiniteError):
    """A parameter held NaN or infinite values after an epoch.

    Attributes
    ----------
    epoch : int
    parameter : str
        The first parameter (``named_parameters`` order) that is not finite.
    """

    def __init__(self, epoch: int, parameter: str, count: int, size: int):
        self.epoch, self.parameter = epoch, parameter
        super().__init__(
            f"parameter {parameter!r} holds {count} non-finite values (of {size}) after epoch {epoch}; "
            "training diverged (lower the learning rate or clip the gradients)"
        )


def _first_non_finite(model: Module) -> tuple[str, int, int] | None:
    for name, param in model.named_parameters():
        finite = np.isfinite(param.data)
        if not finite.all():
            return name, int(finite.size - np.count_nonzero(finite)), finite.size
    return None
