"""Callbacks: early stopping with best-weight restore, stop-at-target, monitors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.train import Callback, EarlyStopping, Monitor, StopAtTarget, fit
from train_doubles import mlp, weights, xor_data
from dltoys.optim import SGD


class StatePerEpoch(Callback):
    def on_train_begin(self, trainer):
        self.states = {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.states[epoch] = weights(trainer.model)


def diverging_validation():
    """Validation labels are the opposite of the training labels: val_loss rises as training fits."""
    x, y = xor_data(n=128)
    return x, y, (x, 1 - y)


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_stops_and_restores_the_best_weights(restore):
    x, y, validation = diverging_validation()
    model = mlp(0)
    spy = StatePerEpoch()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=restore)
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), x, y,
                  validation_data=validation, rng=0, epochs=30, batch_size=16, callbacks=[spy, stopper])
    val = history["val_loss"]
    best_epoch = int(np.argmin(val)) + 1
    assert stopper.best_epoch == best_epoch and stopper.best == val[best_epoch - 1]
    assert len(history) == best_epoch + 2 == stopper.stopped_epoch  # best, then `patience` worse epochs (Keras, Lightning)
    assert all(v > stopper.best for v in val[best_epoch:])
    assert history.stop_reason.startswith("early stopping: val_loss did not improve")
    expected = spy.states[best_epoch] if restore else spy.states[len(history)]
    for key, value in weights(model).items():
        np.testing.assert_array_equal(value, expected[key])


def test_early_stopping_min_delta_and_max_mode():
    x, y = xor_data(n=128)
    model = mlp(0)
    # accuracy reaches 1.0 quickly and cannot improve by more than 0.5 after epoch 1
    stopper = EarlyStopping(monitor="accuracy", patience=1, min_delta=0.5)
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), x, y,
                  metrics=["accuracy"], rng=0, epochs=10, batch_size=16, callbacks=[stopper])
    assert stopper.monitor.mode == "max" and stopper.best_epoch == 1 and len(history) == 2  # patience=1: one epoch without improvement


def test_stop_at_target():
    x, y = xor_data()
    model = mlp(0)
    target = StopAtTarget("accuracy", 0.95)
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9), x, y,
                  metrics=["accuracy"], rng=0, epochs=50, batch_size=32, callbacks=[target])
    accuracy = history["accuracy"]
    assert accuracy[-1] >= 0.95 and all(a < 0.95 for a in accuracy[:-1])
    assert 1 < len(history) < 50 and target.reached_epoch == len(history)
    assert history.stop_reason.startswith("target reached: accuracy = ")


def test_stop_at_target_min_mode_on_a_loss():
    x, y = xor_data()
    model = mlp(0)
    target = StopAtTarget("loss", 0.2)
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.05, momentum=0.9), x, y,
                  rng=0, epochs=50, batch_size=32, callbacks=[target])
    assert history["loss"][-1] <= 0.2 < min(history["loss"][:-1])


def test_the_first_stop_reason_wins():
    x, y = xor_data(n=64)
    model = mlp(0)
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, rng=0,
                  epochs=5, callbacks=[StopAtTarget("loss", 100.0), StopAtTarget("loss", 50.0)])
    assert len(history) == 1 and "100" in history.stop_reason


def test_monitor_errors_are_clear():
    x, y = xor_data(n=64)
    model = mlp(0)
    with pytest.raises(KeyError, match=r"'val_loss' is not in the epoch logs \(val_\* values need validation_data\)"):
        fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, rng=0,
            epochs=2, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="cannot guess whether 'f1' should go up or down"):
        Monitor("f1")
    assert Monitor("f1", mode="max").mode == "max"
    assert Monitor("val_mse").mode == "min" and Monitor("val_accuracy").mode == "max"
    with pytest.raises(ValueError, match="patience: expected an integer >= 0"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode: expected one of"):
        StopAtTarget("loss", 0.1, mode="down")


def test_monitor_improvement_rules():
    low = Monitor("loss", min_delta=0.1)
    assert low.improved(1.0, None) and low.improved(0.85, 1.0) and not low.improved(0.95, 1.0)
    assert not low.improved(float("nan"), 1.0) and not low.improved(float("nan"), None)
    high = Monitor("accuracy")
    assert high.improved(0.6, 0.5) and not high.improved(0.5, 0.5)


def test_clip_grad_norm_bounds_every_step_and_records_the_norms_before_clipping():
    from dltoys.train import ClipGradNorm

    x, y = xor_data(n=8)
    model = mlp(dtype=np.float64)
    before = weights(model)
    # the unclipped gradient norm of the first (and only) batch, measured by hand
    model.zero_grad()
    loss = nn.CrossEntropyLoss()
    loss(model(x), y)
    model.backward(loss.backward())
    expected = float(np.sqrt(sum(np.sum(p.grad**2) for p in model.parameters())))
    assert expected > 0.01

    clip = ClipGradNorm(0.01)
    fit(model, loss, SGD(model.parameters(), lr=1.0), x, y, callbacks=[clip], epochs=1, batch_size=None, shuffle=False, progress=False)
    assert clip.norms == [pytest.approx(expected, rel=1e-12)]
    after = weights(model)
    moved = np.sqrt(sum(np.sum((after[key] - before[key]) ** 2) for key in before))
    # SGD with lr 1 moves by the clipped norm: max_norm * norm / (norm + 1e-6), PyTorch's coefficient
    assert moved == pytest.approx(0.01 * expected / (expected + 1e-6), rel=1e-9)


def test_clip_grad_norm_checks_its_arguments_at_construction():
    from dltoys.train import ClipGradNorm

    with pytest.raises(ValueError, match=r"max_norm: expected a number in \[0, inf\), received -1"):
        ClipGradNorm(-1.0)
    with pytest.raises(ValueError, match="norm_type: expected a number > 0 or inf, received 0"):
        ClipGradNorm(1.0, norm_type=0)
