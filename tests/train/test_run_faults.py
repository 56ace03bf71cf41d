"""Faults of a training run: exact resume after any epoch, NaN in data, stray optimizers, patience.

The resume test is the issue's case: a model with dropout, Adam, a learning-rate
schedule and early stopping, interrupted after every possible epoch and resumed
from the checkpoint written then, must end bit-identical (weights, optimizer
state, history) to the run that was never interrupted.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim, train
from dltoys.train import (
    CheckpointError,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    NonFiniteValidationError,
    fit,
)
from train_doubles import xor_data


def dropout_mlp(seed):
    return nn.Sequential(
        nn.Linear(2, 16, rng=seed), nn.Tanh(), nn.Dropout(0.3, rng=seed + 1), nn.Linear(16, 2, rng=seed + 2)
    )


def run(folder, epochs, resume=None, seed=0):
    """Train the issue's model; checkpoints every epoch into folder as ckpt-<epoch>.npz."""
    folder.mkdir(exist_ok=True)
    x, y = xor_data(n=96)
    x_val, y_val = xor_data(n=64, seed=1)
    y_val = np.where(np.arange(64) % 3 == 0, 1 - y_val, y_val)  # a third mislabelled: val_loss turns up
    model = dropout_mlp(seed)
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    stopper = EarlyStopping(monitor="val_loss", patience=3, min_delta=1e-3)
    callbacks = [ModelCheckpoint(folder / "ckpt-{epoch}.npz", save_best_only=False), stopper,
                 LearningRateScheduler(scheduler)]
    history = fit(model, nn.CrossEntropyLoss(), optimizer, x, y, validation_data=(x_val, y_val),
                  rng=0, epochs=epochs, batch_size=16, callbacks=callbacks, resume=resume)
    return model, optimizer, history, stopper


def comparable(history):
    data = history.to_dict()
    data.pop("time")
    return data


def test_a_run_resumed_after_any_epoch_ends_bit_identical(tmp_path):
    straight, straight_opt, history, stopper = run(tmp_path, epochs=12)
    ran = len(history)
    assert stopper.stopped_epoch is not None and ran < 12  # early stopping ended it: its state matters
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"ckpt-{e}.npz" for e in range(1, ran + 1))
    expected_state = straight_opt.state_dict()
    for epoch in range(1, ran + 1):
        # a fresh process would build everything anew, with other initial weights and generators
        again = tmp_path / f"again-{epoch}"
        model, optimizer, resumed, _ = run(again, epochs=12, resume=tmp_path / f"ckpt-{epoch}.npz", seed=50)
        assert sorted(p.name for p in again.iterdir()) == sorted(f"ckpt-{e}.npz" for e in range(epoch + 1, ran + 1))
        for key, value in straight.state_dict().items():
            np.testing.assert_array_equal(model.state_dict()[key], value, err_msg=f"resumed after {epoch}: {key}")
        state = optimizer.state_dict()
        assert state["step_count"] == expected_state["step_count"] and state["hyperparams"] == expected_state["hyperparams"]
        for name in ("exp_avg", "exp_avg_sq"):
            for a, b in zip(state["state"][name], expected_state["state"][name]):
                np.testing.assert_array_equal(a, b)
        assert comparable(resumed) == comparable(history), f"resumed after epoch {epoch}"


def test_the_epoch_counter_continues_so_checkpoint_names_stay_right(tmp_path):
    run(tmp_path, epochs=2)
    first = train.read(tmp_path / "ckpt-2.npz")
    # Before: the resume recipe restarted at epoch 1 and overwrote ckpt-1 with later weights.
    x, y = xor_data(n=96)
    x_val, y_val = xor_data(n=64, seed=1)
    model = dropout_mlp(0)
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    callbacks = [ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", save_best_only=False),
                 EarlyStopping(monitor="val_loss", patience=50), LearningRateScheduler(scheduler)]
    fit(model, nn.CrossEntropyLoss(), optimizer, x, y, validation_data=(x_val, y_val), rng=0, epochs=4,
        batch_size=16, callbacks=callbacks, resume=tmp_path / "ckpt-2.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-1.npz", "ckpt-2.npz", "ckpt-3.npz", "ckpt-4.npz"]
    assert train.read(tmp_path / "ckpt-4.npz").extra["epoch"] == 4
    assert train.read(tmp_path / "ckpt-2.npz").extra["history"] == first.extra["history"]


def test_resume_checks_everything_before_changing_anything(tmp_path):
    run(tmp_path, epochs=2)
    x, y = xor_data(n=96)
    model = dropout_mlp(7)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    # other callbacks than the saved run's
    with pytest.raises(CheckpointError, match=r"cannot resume this run: the checkpoint's run had callbacks"):
        fit(model, nn.CrossEntropyLoss(), optimizer, x, y, rng=0, epochs=5, resume=tmp_path / "ckpt-1.npz")
    # no epochs left
    with pytest.raises(CheckpointError, match=r"resuming needs epochs > 2"):
        fit(model, nn.CrossEntropyLoss(), optimizer, x, y, rng=0, epochs=2, resume=tmp_path / "ckpt-2.npz",
            callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz", save_best_only=False),
                       EarlyStopping(patience=2), LearningRateScheduler(optim.lr_scheduler.StepLR(optimizer, 2))])
    # a model without the dropout layer has no generator to restore
    plain = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    with pytest.raises(CheckpointError):
        fit(plain, nn.CrossEntropyLoss(), optim.Adam(plain.parameters()), x, y, rng=0, epochs=5,
            resume=tmp_path / "ckpt-1.npz")
    for key, value in before.items():
        np.testing.assert_array_equal(model.state_dict()[key], value)
    assert optimizer.step_count == 0


# ----------------------------------------------------------------- NaN data
@pytest.mark.parametrize("where", ["x", "y", "x_val", "y_val"])
def test_nan_in_training_or_validation_data_is_refused_before_training(where):
    # Before: val_loss was nan and early stopping ended the run on "no valid value".
    x, y = xor_data(n=32)
    data = {"x": x.copy(), "y": y.astype(np.float64), "x_val": x.copy(), "y_val": y.copy()}
    data[where] = data[where].astype(np.float64)
    data[where][3] = np.nan
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    with pytest.raises(ValueError, match=rf"{where}: holds \d+ NaN or infinite value\(s\) \(rows \[3\]\)"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), data["x"], data["y"].reshape(-1, 1),
            validation_data=(data["x_val"], data["y_val"].reshape(-1, 1)), epochs=1, callbacks=[EarlyStopping()])


def test_evaluate_refuses_nan_data():
    # Before: evaluate returned {'loss': nan}.
    x, y = xor_data(n=16)
    x[0, 1] = np.inf
    with pytest.raises(ValueError, match=r"x: holds 1 NaN or infinite value\(s\) \(rows \[0\]\)"):
        train.evaluate(nn.Sequential(nn.Linear(2, 2, rng=0)), nn.CrossEntropyLoss(), x, y)


def test_a_validation_value_that_is_not_finite_stops_the_run_by_name():
    class NanOnValidation(train.SupervisedStep):
        def evaluate(self, batch):
            return {"loss": float("nan")}

    x, y = xor_data(n=32)
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    step = NanOnValidation(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    trainer = train.Trainer(step, callbacks=[EarlyStopping(patience=1)], epochs=5, progress=False)
    batches = train_batches = [(x, y)]
    with pytest.raises(NonFiniteValidationError, match=r"val_loss became nan at epoch 1"):
        trainer.fit(train_batches, validation=batches)


# ------------------------------------------------- callbacks and patience
@pytest.mark.parametrize("patience", [0, 1, 3])
def test_early_stopping_stops_after_exactly_patience_epochs_without_improvement(patience):
    # Before: patience=5 stopped after 6 epochs without improvement.
    class Scripted(train.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            logs["score"] = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1][epoch - 1]  # best at epoch 2

    x, y = xor_data(n=16)
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    stopper = EarlyStopping(monitor="score", mode="min", patience=patience)
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), x, y, epochs=8,
                  callbacks=[Scripted(), stopper])
    # Keras and Lightning: stop once `patience` epochs in a row did not improve (0: at the first one)
    assert stopper.best_epoch == 2 and len(history) == 2 + max(patience, 1) == stopper.stopped_epoch
    assert stopper.wait == max(patience, 1)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: EarlyStopping(restore_best_weights="no"), "restore_best_weights: expected True or False, received 'no'"),
        (lambda: ModelCheckpoint("m.npz", save_best_only="no"), "save_best_only: expected True or False, received 'no'"),
        (lambda: ModelCheckpoint("m.npz", save_optimizer=1), "save_optimizer: expected True or False, received 1"),
        (lambda: ModelCheckpoint(None), "path: expected a str or Path file name, received NoneType"),
    ],
)
def test_callback_flags_are_checked(build, message):
    with pytest.raises(TypeError, match=message):
        build()


@pytest.mark.parametrize("template", ["ckpt-{epch}.npz", "ckpt-{0}.npz", "ckpt-{epoch:q}.npz", "missing/dir/c-{epoch}.npz"])
def test_a_bad_checkpoint_template_is_found_before_training(tmp_path, template, monkeypatch):
    # Before: a KeyError after the first epoch's work.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"path: "):
        ModelCheckpoint(template, save_best_only=False)


def test_an_optimizer_over_another_model_is_refused():
    # Before: fit(model_b, loss, SGD(model_a.parameters())) trained nothing and returned a history.
    x, y = xor_data(n=16)
    model_a, model_b = nn.Linear(2, 2, rng=0), nn.Linear(2, 2, rng=1)
    with pytest.raises(ValueError, match=r"2 of its 2 parameters belong to no module the step trains"):
        fit(model_b, nn.CrossEntropyLoss(), optim.SGD(model_a.parameters(), lr=0.1), x, y, epochs=1)


def test_history_reads_like_keras():
    x, y = xor_data(n=16)
    model = nn.Linear(2, 2, rng=0)
    history = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), x, y, epochs=3,
                  validation_data=(x, y))
    assert history.history["val_loss"] is history["val_loss"] is history.val_loss
    assert len(history.loss) == 3 and "val_loss" in dir(history)
    with pytest.raises(AttributeError, match=r"no attribute or series 'val_acc'; series recorded: loss, val_loss"):
        history.val_acc


def test_fit_checks_the_target_domain_once_and_the_step_pays_nothing():
    x, y = xor_data(n=32)
    y_bce = y.reshape(-1, 1).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 1, rng=0))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loss = nn.BCEWithLogitsLoss()
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target values must lie in \[0, 1\]"):
        fit(model, loss, optimizer, x, 2 * y_bce - 1, epochs=3)  # +-1 labels: refused before the first step
    assert optimizer.step_count == 0 and not loss.targets_checked
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target values"):
        fit(model, loss, optimizer, x, y_bce, validation_data=(x, 5 * y_bce), epochs=3)
    assert optimizer.step_count == 0

    seen = []

    class Spy(train.Callback):
        def on_batch_end(self, trainer, batch, value):
            seen.append(loss.targets_checked)

    fit(model, loss, optimizer, x, y_bce, epochs=1, batch_size=8, callbacks=[Spy()])
    assert seen == [True] * 4 and loss.targets_checked is False  # skipped per batch, restored after
    with pytest.raises(ValueError, match="target values must lie"):  # direct calls still check
        loss(np.zeros((2, 1), np.float32), np.full((2, 1), 3.0, np.float32))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: .*row 0 sums to 2"):
        train.evaluate(nn.Linear(2, 3, rng=0), nn.CrossEntropyLoss(), x[:2], np.array([[1, 1, 0], [1, 0, 0]], np.float32))
