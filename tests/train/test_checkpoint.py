"""Safe checkpoints: round trip, exact resume, refusal of pickles, clear errors, atomic writes."""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import stat

import numpy as np
import pytest

from dltoys import nn
from dltoys.train import CheckpointError, ModelCheckpoint, fit, load, read, save
from dltoys.train import checkpoint as checkpoint_module
from train_doubles import mlp, weights, xor_data
from dltoys.optim import SGD, RandomSearch


def trained(seed=0, epochs=1):
    model = mlp(seed)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, nn.CrossEntropyLoss(), optimizer, *xor_data(n=64), rng=0, epochs=epochs, batch_size=16)
    return model, optimizer


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)


def test_round_trip_model_optimizer_and_extra(tmp_path):
    model, optimizer = trained()
    extra = {"epoch": 3, "config": {"lr": 0.1, "sizes": (2, 16, 2)}, "mask": np.arange(4, dtype=np.int16),
             "nested": [{"a": np.ones((2, 2), np.float32)}, None, True, "text"]}
    path = save(tmp_path / "model.npz", model, optimizer, extra=extra)
    assert path == tmp_path / "model.npz"
    fresh = mlp(99)
    fresh_optimizer = SGD(fresh.parameters(), lr=5.0, momentum=0.1)
    checkpoint = load(path, fresh, fresh_optimizer)
    assert_same_weights(model, fresh)
    assert all(v.dtype == np.float32 for v in weights(fresh).values())
    assert (fresh_optimizer.lr, fresh_optimizer.momentum) == (0.1, 0.9)
    assert fresh_optimizer.step_count == optimizer.step_count == 4
    for a, b in zip(optimizer.state["momentum_buffer"], fresh_optimizer.state["momentum_buffer"]):
        np.testing.assert_array_equal(a, b)
    got = checkpoint.extra
    assert got["epoch"] == 3 and got["config"] == {"lr": 0.1, "sizes": [2, 16, 2]}
    assert got["mask"].dtype == np.int16 and got["mask"].tolist() == [0, 1, 2, 3]
    assert got["nested"][0]["a"].dtype == np.float32 and got["nested"][1:] == [None, True, "text"]
    meta = checkpoint.metadata
    assert meta["format"] == "dltoys-checkpoint" and meta["format_version"] == 1
    assert meta["model"]["class"] == "Sequential" and meta["optimizer"]["type"] == "SGD"
    assert meta["model"]["state"]["0.weight"] == {"shape": [16, 2], "dtype": "<f4"}


def test_the_file_is_a_plain_npz_with_json_metadata(tmp_path):
    model, optimizer = trained()
    save(tmp_path / "m.npz", model, optimizer, compress=True)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        names = set(archive.files)
        metadata = json.loads(archive["__metadata__"].tobytes().decode("utf-8"))
    assert {"model/0.weight", "model/0.bias", "model/2.weight", "model/2.bias", "__metadata__"} <= names
    assert {n for n in names if n.startswith("optimizer/")} == {f"optimizer/{i}" for i in range(4)}
    assert metadata["dltoys_version"]


def test_resume_equals_an_uninterrupted_run(tmp_path):
    x, y = xor_data(n=96)
    loss = nn.CrossEntropyLoss()

    def run(model, optimizer, rng, epochs):
        fit(model, loss, optimizer, x, y, rng=rng, epochs=epochs, batch_size=16)

    straight = mlp(0)
    run(straight, SGD(straight.parameters(), lr=0.1, momentum=0.9), np.random.default_rng(7), epochs=2)

    first = mlp(0)
    first_optimizer = SGD(first.parameters(), lr=0.1, momentum=0.9)
    shuffle_rng = np.random.default_rng(7)
    run(first, first_optimizer, shuffle_rng, epochs=1)
    save(tmp_path / "ckpt.npz", first, first_optimizer, extra={"rng_state": shuffle_rng.bit_generator.state})

    def resumed(with_optimizer):
        model = mlp(123)  # other initial weights, other hyperparameters: all overwritten by load
        optimizer = SGD(model.parameters(), lr=3.0, momentum=0.5) if with_optimizer else SGD(model.parameters(), lr=0.1, momentum=0.9)
        checkpoint = load(tmp_path / "ckpt.npz", model, optimizer if with_optimizer else None)
        rng = np.random.default_rng()
        rng.bit_generator.state = checkpoint.extra["rng_state"]
        run(model, optimizer, rng, epochs=1)
        return model

    assert_same_weights(straight, resumed(with_optimizer=True))
    # control: without the momentum buffers the continuation differs
    other = resumed(with_optimizer=False)
    assert any(not np.array_equal(weights(straight)[k], v) for k, v in weights(other).items())


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_an_object_array_is_refused_and_nothing_runs(tmp_path):
    model, optimizer = trained()
    save(tmp_path / "good.npz", model, optimizer)
    with np.load(tmp_path / "good.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    marker = tmp_path / "pwned"
    arrays["model/0.bias"] = np.array([Payload(marker)], dtype=object)
    with open(tmp_path / "evil.npz", "wb") as handle:
        np.savez(handle, allow_pickle=True, **arrays)
    before = weights(model)
    with pytest.raises(CheckpointError, match=r"entry 'model/0\.bias' is an object array .*refused"):
        load(tmp_path / "evil.npz", model, optimizer)
    assert not marker.exists()
    assert_same_weights_dict(before, weights(model))
    # the payload is live: loading the same file with pickle allowed runs it
    with np.load(tmp_path / "evil.npz", allow_pickle=True) as archive:
        archive["model/0.bias"]
    assert marker.exists()


def assert_same_weights_dict(a, b):
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_a_pickle_file_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "model.npz").write_bytes(pickle.dumps({"weights": Payload(marker)}))
    with pytest.raises(CheckpointError, match="may be a pickle, which is refused"):
        load(tmp_path / "model.npz", mlp(0))
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 1, 10, 100, 0.5, -22, -1])
def test_a_truncated_file_gives_the_clear_error(tmp_path, keep):
    model, optimizer = trained()
    save(tmp_path / "m.npz", model, optimizer)
    data = (tmp_path / "m.npz").read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep % len(data) if keep < 0 else keep
    (tmp_path / "m.npz").write_bytes(data[:size])
    target = mlp(5)
    before = weights(target)
    with pytest.raises(CheckpointError, match=r"m\.npz: .*(truncated or corrupt|not a dltoys checkpoint)"):
        load(tmp_path / "m.npz", target)
    assert_same_weights_dict(before, weights(target))


def test_flipped_bytes_inside_an_array_are_caught(tmp_path):
    model, _ = trained()
    save(tmp_path / "m.npz", model)
    data = bytearray((tmp_path / "m.npz").read_bytes())
    start = data.index(b"model/2.weight.npy") + 200  # inside that array's data
    data[start : start + 8] = bytes(8)
    (tmp_path / "m.npz").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"entry 'model/2\.weight' is truncated or corrupt"):
        read(tmp_path / "m.npz")


@pytest.mark.parametrize("content", [b"", bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)),
                                     b"PK\x03\x04" + bytes(500)])
def test_random_bytes_give_the_clear_error(tmp_path, content):
    (tmp_path / "junk.npz").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"junk\.npz: not a"):
        load(tmp_path / "junk.npz", mlp(0))


def test_other_files_that_are_not_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        load(tmp_path / "missing.npz", mlp(0))
    with pytest.raises(CheckpointError, match="is a directory"):
        load(tmp_path, mlp(0))
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="single .npy array"):
        load(tmp_path / "array.npy", mlp(0))
    np.savez(tmp_path / "plain.npz", weight=np.zeros(3))
    with pytest.raises(CheckpointError, match="no __metadata__ entry"):
        load(tmp_path / "plain.npz", mlp(0))


def rewrite_metadata(path, change):
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    metadata = json.loads(arrays["__metadata__"].tobytes())
    change(metadata)
    arrays["__metadata__"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def test_unknown_format_and_newer_version_are_refused(tmp_path):
    model, _ = trained()
    save(tmp_path / "new.npz", model)
    rewrite_metadata(tmp_path / "new.npz", lambda m: m.update(format_version=2, dltoys_version="9.0"))
    with pytest.raises(CheckpointError, match="format version 2 by dltoys 9.0; this dltoys .* reads versions up to 1"):
        load(tmp_path / "new.npz", mlp(0))
    save(tmp_path / "other.npz", model)
    rewrite_metadata(tmp_path / "other.npz", lambda m: m.update(format="keras"))
    with pytest.raises(CheckpointError, match="unknown checkpoint format 'keras'"):
        load(tmp_path / "other.npz", mlp(0))
    save(tmp_path / "lying.npz", model)
    rewrite_metadata(tmp_path / "lying.npz", lambda m: m["model"]["state"]["0.bias"].update(shape=[3]))
    with pytest.raises(CheckpointError, match=r"'0\.bias' is <f4\(16,\) in the archive but <f4\(3,\) in the metadata"):
        read(tmp_path / "lying.npz")
    # load compares the declared shapes with the model's before reading any array
    with pytest.raises(CheckpointError, match=r"0\.bias: checkpoint \(3,\), model \(16,\)"):
        load(tmp_path / "lying.npz", mlp(0))


def test_another_architecture_names_the_keys_and_changes_nothing(tmp_path):
    model, optimizer = trained()
    save(tmp_path / "m.npz", model, optimizer)
    narrow = mlp(0, hidden=8)
    before = weights(narrow)
    with pytest.raises(CheckpointError, match=r"0\.weight: checkpoint \(16, 2\), model \(8, 2\).*2\.weight: checkpoint \(2, 16\), model \(2, 8\)"):
        load(tmp_path / "m.npz", narrow)
    assert_same_weights_dict(before, weights(narrow))
    deeper = nn.Sequential(nn.Linear(2, 16, rng=0), nn.Tanh(), nn.Linear(16, 2, rng=0), nn.Tanh(), nn.Linear(2, 2, rng=0))
    with pytest.raises(CheckpointError, match=r"missing from the checkpoint: \['4\.weight', '4\.bias'\]"):
        load(tmp_path / "m.npz", deeper)
    with pytest.raises(CheckpointError, match="holds the state of a Sequential, but the model is a Linear"):
        load(tmp_path / "m.npz", nn.Linear(2, 16))


def test_non_strict_load_skips_keys_on_one_side(tmp_path):
    model, _ = trained()
    save(tmp_path / "m.npz", model)
    deeper = nn.Sequential(nn.Linear(2, 16, rng=3), nn.Tanh(), nn.Linear(16, 2, rng=3), nn.Tanh(), nn.Linear(2, 2, rng=3))
    last = weights(deeper)["4.weight"]
    load(tmp_path / "m.npz", deeper, strict=False)
    np.testing.assert_array_equal(weights(deeper)["0.weight"], weights(model)["0.weight"])
    np.testing.assert_array_equal(weights(deeper)["4.weight"], last)


def test_optimizer_mismatches(tmp_path):
    model, optimizer = trained()
    save(tmp_path / "with.npz", model, optimizer)
    save(tmp_path / "without.npz", model)
    target = mlp(1)
    with pytest.raises(CheckpointError, match="holds the state of a SGD optimizer, not a RandomSearch"):
        load(tmp_path / "with.npz", target, RandomSearch(target.parameters()))
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load(tmp_path / "without.npz", target, SGD(target.parameters(), lr=0.1, momentum=0.9))
    # an optimizer over other parameters: its state does not fit, and nothing changes
    small = nn.Linear(2, 16, rng=0)
    small_optimizer = SGD(small.parameters(), lr=0.7, momentum=0.9)
    with pytest.raises(CheckpointError, match="does not fit this optimizer"):
        load(tmp_path / "with.npz", target, small_optimizer)
    assert small_optimizer.lr == 0.7 and small_optimizer.state["momentum_buffer"] == [None, None]
    load(tmp_path / "with.npz", target)  # the model alone loads fine
    assert_same_weights(model, target)


def test_unsaveable_extra_is_refused_before_writing(tmp_path):
    model, _ = trained()
    with pytest.raises(TypeError, match=r"extra\['tags'\]: cannot store a set"):
        save(tmp_path / "m.npz", model, extra={"tags": {"a"}})
    with pytest.raises(TypeError, match=r"extra\[0\]: an object array cannot be saved"):
        save(tmp_path / "m.npz", model, extra=[np.array([{}], dtype=object)])
    with pytest.raises(TypeError, match="dict keys must be strings"):
        save(tmp_path / "m.npz", model, extra={1: 2})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CheckpointError, match="does not exist"):
        save(tmp_path / "nowhere" / "m.npz", model)


def test_atomic_write_leaves_only_the_file(tmp_path):
    model, optimizer = trained()
    for _ in range(2):  # the second save replaces the first
        save(tmp_path / "m.npz", model, optimizer)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "m.npz").stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, optimizer = trained()
    save(tmp_path / "m.npz", model, optimizer)
    good = (tmp_path / "m.npz").read_bytes()
    changed, _ = trained(seed=1, epochs=2)

    def disk_error(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint_module.os, "fsync", disk_error)
    with pytest.raises(OSError, match="No space left"):
        save(tmp_path / "m.npz", changed)
    monkeypatch.undo()
    assert (tmp_path / "m.npz").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    target = mlp(3)
    load(tmp_path / "m.npz", target)
    assert_same_weights(model, target)


def test_model_checkpoint_callback_keeps_the_best_epoch(tmp_path):
    x, y = xor_data(n=128)
    validation = (x, 1 - y)  # val_loss gets worse as training goes on
    model = mlp(0)
    callback = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss")
    history = fit(model, nn.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9), x, y,
                  validation_data=validation, rng=0, epochs=6, batch_size=16, callbacks=[callback])
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    checkpoint = read(tmp_path / "best.npz")
    assert checkpoint.extra["epoch"] == best_epoch
    assert checkpoint.extra["logs"]["val_loss"] == history["val_loss"][best_epoch - 1]
    assert checkpoint.extra["history"]["epoch"] == list(range(1, best_epoch + 1))
    assert [p.name for p in tmp_path.iterdir()] == ["best.npz"]


def test_model_checkpoint_every_epoch_with_a_pattern(tmp_path):
    model = mlp(0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    callback = ModelCheckpoint(tmp_path / "e{epoch:02d}.npz", save_best_only=False, every=2)
    fit(model, nn.CrossEntropyLoss(), optimizer, *xor_data(n=64), rng=0, epochs=5, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e02.npz", "e04.npz"]
    assert callback.saved == [str(tmp_path / "e02.npz"), str(tmp_path / "e04.npz")]
    assert read(tmp_path / "e04.npz").optimizer_state["step_count"] == 4 * 2
