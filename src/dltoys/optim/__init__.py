"""dltoys.optim: optimizers, learning-rate schedules and gradient clipping."""

from .optimizer import Optimizer

__all__ = ["Optimizer"]
