"""TruncatedBPTTStep: the state carried across chunks, the gradient cut at their boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import data, nn, optim, train
from dltoys.models import CharLM, stream_chunks


def tiny_lm(seed: int = 0) -> CharLM:
    return CharLM(5, embedding_dim=3, hidden_size=4, dtype=np.float64, rng=seed)


class Recorder(train.Callback):
    """The parameter gradients of every batch (the step leaves them in .grad)."""

    def __init__(self):
        self.grads = []

    def on_batch_end(self, trainer, batch, loss):
        self.grads.append({name: p.grad.copy() for name, p in trainer.model.named_parameters()})


def test_chunks_carry_the_state_and_cut_the_gradient():
    """Each chunk's loss is that chunk's share of one long forward (the state is carried), and its
    gradient is that of the chunk read from the carried state with dL/d(state) dropped."""
    ids = np.random.default_rng(1).integers(0, 5, size=40)
    inputs, targets = stream_chunks(ids, n_streams=3, seq_len=4)  # (K * 3, 4): K = 3 chunks of 3 streams
    model = tiny_lm()
    reference = tiny_lm()
    recorder = Recorder()
    step = train.TruncatedBPTTStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e-300))
    history = train.Trainer(step, callbacks=[recorder], epochs=1, progress=False).fit(
        data.Minibatches(inputs, targets, batch_size=3))

    loss, state = nn.CrossEntropyLoss(), None
    for k in range(3):
        chunk_in, chunk_out = inputs[3 * k: 3 * k + 3], targets[3 * k: 3 * k + 3]
        reference.zero_grad()
        value = loss(reference(chunk_in, state), chunk_out)
        state = reference.final_state
        reference.backward(loss.backward())
        assert history.batch_losses[0][k] == pytest.approx(float(value), rel=1e-12)
        for name, p in reference.named_parameters():
            np.testing.assert_allclose(recorder.grads[k][name], p.grad, rtol=1e-10, atol=1e-14, err_msg=name)


def test_every_epoch_and_every_validation_pass_start_from_a_zero_state():
    ids = np.random.default_rng(2).integers(0, 5, size=50)
    inputs, targets = stream_chunks(ids, n_streams=2, seq_len=5)
    model = tiny_lm()
    step = train.TruncatedBPTTStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e-300))
    batches = data.Minibatches(inputs, targets, batch_size=2)
    history = train.Trainer(step, epochs=2, progress=False).fit(batches, validation=batches)
    assert history.batch_losses[0] == pytest.approx(history.batch_losses[1], rel=1e-12)  # weights ~unchanged
    assert history["val_loss"][0] == pytest.approx(history["loss"][0], rel=1e-12)  # same chunks, same states


def test_a_batch_of_other_streams_is_an_error():
    model = tiny_lm()
    step = train.TruncatedBPTTStep(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    ids = np.random.default_rng(3).integers(0, 5, size=(7, 4))
    batches = data.Minibatches(ids, ids, batch_size=3)  # 3, 3, then a batch of 1
    with pytest.raises(ValueError, match=r"the carried state holds 3 streams, the batch has 1 rows"):
        train.Trainer(step, epochs=1, progress=False).fit(batches)
