"""Truncated backpropagation through time: a step that carries recurrent state across chunks.

A long sequence (or ``S`` long streams side by side) is cut into chunks of ``T`` steps;
batch ``k`` holds chunk ``k`` of every stream. The step starts each chunk from the state
the previous chunk ended in, so the forward pass reads every stream from its start;
the gradient stops at the chunk boundary, because the carried state is a plain array
(nothing backpropagates into it), which keeps the memory and time of a step fixed.
"""

from __future__ import annotations

from typing import Any

from .step import SupervisedStep, loss_value


class TruncatedBPTTStep(SupervisedStep):
    """Supervised training on consecutive chunks, the recurrent state carried from one to the next.

    Parameters
    ----------
    model : Module
        A recurrent model whose ``forward(*inputs, hx)`` starts from the state ``hx``
        (zeros for None) and which exposes the state it ended in as ``model.final_state``
        after every forward (:class:`dltoys.models.SequenceModel`, :class:`dltoys.models.CharLM`).
    loss, optimizer, metrics
        As :class:`SupervisedStep`.

    Notes
    -----
    One batch (chunk ``k`` of every stream)::

        model.zero_grad()
        output = model(*inputs, state)        # from where chunk k - 1 ended
        state = model.final_state             # carried; a plain array, so the gradient stops here
        value = loss(output, target)
        model.backward(loss.backward())       # dL/d(initial state) is dropped: the truncation
        before_update(); optimizer.step()

    The batches must be the chunks in order, every one with the same streams in the same
    rows (``data.Minibatches`` over :func:`dltoys.models.stream_chunks`'s arrays with
    ``batch_size=n_streams`` and no shuffling). Every epoch starts again from a zero
    state, as it reads the streams from their start again; validation batches carry
    their own state the same way, from zero at every validation pass.

    References
    ----------
    Williams & Peng (1990), An efficient gradient-based algorithm for on-line training
    of recurrent network trajectories. Sutskever (2013), Training recurrent neural
    networks, section 2.8.6.
    """

    def on_epoch_begin(self, epoch: int) -> None:
        self.state = None  # the streams are read from their start again
        self.eval_state = None  # the validation pass that follows this epoch starts from zero

    def on_train_begin(self) -> None:
        super().on_train_begin()
        self.state = self.eval_state = None

    def _check_rows(self, state: Any, inputs: tuple, where: str) -> None:
        """The carried state's streams must be the batch's rows."""
        if state is None:
            return
        h = state[0] if isinstance(state, tuple) else state
        rows, batch = h.shape[-2], len(inputs[0])
        if rows != batch:
            raise ValueError(
                f"TruncatedBPTTStep.{where}: the carried state holds {rows} streams, the batch has {batch} rows; "
                "every batch must be the next chunk of the same streams (batch_size = number of streams, "
                "no shuffling, no shorter last batch)"
            )

    def __call__(self, batch: Any) -> dict[str, float]:
        *inputs, target = batch
        self._check_rows(self.state, inputs, "__call__")
        self.model.zero_grad()
        output = self.model(*inputs, self.state)
        self.state = self.model.final_state
        return self._logs(output, target, self._loss_and_update(output, target))

    def evaluate(self, batch: Any) -> dict[str, float]:
        *inputs, target = batch
        self._check_rows(self.eval_state, inputs, "evaluate")
        output = self.model(*inputs, self.eval_state)
        self.eval_state = self.model.final_state
        return self._logs(output, target, loss_value(self.loss(output, target), "evaluate"))


__all__ = ["TruncatedBPTTStep"]
