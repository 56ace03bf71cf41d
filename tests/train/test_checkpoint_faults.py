"""Checkpoints under attack and accident: crafted files, corrupt bytes, size bombs, killed writers.

The contract: every failure to read or apply a checkpoint is a CheckpointError,
``load`` changes nothing when it raises, and no file makes the reader allocate
more than the model needs.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltoys import nn
from dltoys.optim import SGD, Adam
from dltoys.train import CheckpointError, load, read, save
from dltoys.train.checkpoint import _remove_stale_temporaries
from train_doubles import mlp, weights

SRC = Path(__file__).resolve().parents[2] / "src"


def stepped(seed=0):
    model = mlp(seed)
    optimizer = Adam(model.parameters(), lr=0.01)
    for param in model.parameters():
        param.grad[...] = 0.5
    optimizer.step()
    return model, optimizer


def snapshot(model, optimizer):
    """Everything load may change, as one comparable value (weights, settings, counters, buffers)."""
    state = optimizer.state_dict()
    buffers = b"".join(b"-" if a is None else a.tobytes() for a in state["state"]["exp_avg"] + state["state"]["exp_avg_sq"])
    weights_bytes = b"".join(p.data.tobytes() for p in model.parameters())
    return weights_bytes, repr(state["hyperparams"]), state["step_count"], state["initial_lr"], buffers


def assert_unchanged(before, after):
    assert before == after


def rewrite(path, change_arrays=None, change_metadata=None, out=None):
    """Rewrite an .npz checkpoint's entries (without going through dltoys)."""
    with zipfile.ZipFile(path) as archive:
        arrays = {}
        for name in archive.namelist():
            with archive.open(name) as handle:
                arrays[name[:-4]] = np.lib.format.read_array(handle, allow_pickle=False)
    metadata = json.loads(arrays.pop("__metadata__").tobytes())
    if change_arrays:
        change_arrays(arrays)
    if change_metadata:
        change_metadata(metadata)
    arrays["__metadata__"] = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    np.savez(out or path, **arrays)


# ---------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((16, 2), np.complex64),
        np.zeros((16, 2), dtype=[("re", "<f4"), ("im", "<f4")]),
        np.zeros((16, 2), dtype="datetime64[s]"),
        np.zeros((16, 2), dtype="timedelta64[s]"),
        np.zeros((16, 2), dtype="<U3"),
    ],
    ids=["complex", "structured", "datetime", "timedelta", "string"],
)
@pytest.mark.parametrize("where", ["model", "optimizer"])
def test_non_real_arrays_are_refused_and_nothing_changes(tmp_path, bad, where):
    # Before: a complex weight loaded as its real part, a structured one as zeros.
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)

    def swap(arrays):
        name = "model/0.weight" if where == "model" else "optimizer/0"
        arrays[name] = bad

    def describe(metadata):
        if where == "model":
            metadata["model"]["state"]["0.weight"]["dtype"] = bad.dtype.str

    rewrite(tmp_path / "m.npz", swap, describe)
    target, target_optimizer = stepped(seed=5)
    before = snapshot(target, target_optimizer)
    with pytest.raises(CheckpointError, match=r"real numbers only|object array"):
        load(tmp_path / "m.npz", target, target_optimizer)
    assert_unchanged(before, snapshot(target, target_optimizer))


def test_complex_arrays_cannot_be_saved_either(tmp_path):
    model = mlp(0)
    with pytest.raises(TypeError, match=r"extra\['z'\] has dtype complex128; a checkpoint holds real numbers only"):
        save(tmp_path / "m.npz", model, extra={"z": np.zeros(2, complex)})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ all or nothing
def test_a_bad_last_entry_leaves_model_and_optimizer_untouched(tmp_path):
    # Before: the optimizer state and the model's first entries were overwritten,
    # then the last entry raised.
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)
    rewrite(tmp_path / "m.npz", lambda a: a.update({"model/2.bias": np.array(["x", "y"])}),
            lambda m: m["model"]["state"]["2.bias"].update(dtype="<U1"))
    target, target_optimizer = stepped(seed=3)
    before = snapshot(target, target_optimizer)
    with pytest.raises(CheckpointError):
        load(tmp_path / "m.npz", target, target_optimizer)
    assert_unchanged(before, snapshot(target, target_optimizer))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h: h.update(lr=-0.5), r"lr: expected a number in \[0, inf\), received -0\.5"),
        (lambda h: h.update(lr="fast"), r"lr: expected a number, received 'fast'"),
        (lambda h: h.update(betas=[1.5, 7]), r"betas\[0\]: expected a number in \[0, 1\)"),
    ],
)
def test_optimizer_settings_from_a_file_are_checked(tmp_path, change, message):
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)
    rewrite(tmp_path / "m.npz", change_metadata=lambda m: change(m["optimizer"]["state"]["hyperparams"]))
    target, target_optimizer = stepped(seed=2)
    before = snapshot(target, target_optimizer)
    with pytest.raises(CheckpointError, match=rf"does not fit this optimizer: .*{message}"):
        load(tmp_path / "m.npz", target, target_optimizer)
    assert_unchanged(before, snapshot(target, target_optimizer))


def test_an_optimizer_over_another_model_is_refused(tmp_path):
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)
    other = mlp(1)
    with pytest.raises(CheckpointError, match=r"its parameters are not the model's"):
        load(tmp_path / "m.npz", mlp(2), Adam(other.parameters()))


# ------------------------------------------------------------ metadata
CRAFTED = [
    lambda m: m["model"]["state"].update({"0.weight": "16x2"}),
    lambda m: m["model"]["state"].update({"0.weight": {"shape": "16,2", "dtype": "<f4"}}),
    lambda m: m["model"]["state"].update({"0.weight": {"shape": [16, -2], "dtype": "<f4"}}),
    lambda m: m["model"]["state"].update({"0.weight": {"shape": [16, 2], "dtype": "not a dtype"}}),
    lambda m: m["model"]["state"].update({"0.weight": {"shape": [16, 2], "dtype": "|O"}}),
    lambda m: m["model"]["state"].update({"0.weight": {"shape": [16, 2], "dtype": 4}}),
    lambda m: m["model"].update(state=[1, 2]),
    lambda m: m["model"].update({"class": ["Sequential"]}),
    lambda m: m.update(model="Sequential"),
    lambda m: m.update(optimizer=5),
    lambda m: m.update(optimizer={"type": "Adam", "state": 3}),
    lambda m: m.update(optimizer={"type": ["Adam"], "state": {}}),
    lambda m: m["optimizer"]["state"].update(hyperparams=[0.1]),
    lambda m: m["optimizer"]["state"].update(step_count={"n": 1}),
    lambda m: m["optimizer"]["state"]["state"].update(exp_avg={"__ndarray__": 7}),
    lambda m: m["optimizer"]["state"]["state"].update(exp_avg=[{"__ndarray__": "optimizer/99"}] * 4),
    lambda m: m["optimizer"]["state"]["state"].update(exp_avg=[{"__ndarray__": "model/0.weight"}] * 4),
    lambda m: m["optimizer"]["state"].update(state=None),
    lambda m: m.update(extra={"__ndarray__": ["x"]}),
    lambda m: m.update(format_version="1"),
    lambda m: m.update(format_version=True),
]


@pytest.mark.parametrize("change", CRAFTED, ids=range(len(CRAFTED)))
def test_crafted_metadata_gives_only_checkpoint_errors(tmp_path, change):
    # Before: several of these raised AttributeError or TypeError.
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)
    rewrite(tmp_path / "m.npz", change_metadata=change)
    target, target_optimizer = stepped(seed=4)
    before = snapshot(target, target_optimizer)
    with pytest.raises(CheckpointError):
        load(tmp_path / "m.npz", target, target_optimizer)
    assert_unchanged(before, snapshot(target, target_optimizer))


def test_an_unknown_compression_method_is_a_checkpoint_error(tmp_path):
    # Before: zipfile's NotImplementedError escaped.
    model, _ = stepped()
    save(tmp_path / "m.npz", model)
    raw = bytearray((tmp_path / "m.npz").read_bytes())
    for signature in (b"PK\x03\x04", b"PK\x01\x02"):  # local and central headers: method field
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            offset = start + (8 if signature == b"PK\x03\x04" else 10)
            raw[offset : offset + 2] = (99).to_bytes(2, "little")
            start += 4
    (tmp_path / "m.npz").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        load(tmp_path / "m.npz", mlp(0))


# ----------------------------------------------------------------- sizes
def npy_header(shape, dtype="<f8"):
    """The bytes of an .npy header declaring ``shape`` (whatever data follows)."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_a_header_declaring_2_to_the_40_floats_is_refused_without_allocating(tmp_path):
    model, _ = stepped()
    save(tmp_path / "m.npz", model)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["model/0.weight.npy"] = npy_header((2**40,)) + bytes(64)
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    tracemalloc.start()
    with pytest.raises(CheckpointError):
        read(tmp_path / "huge.npz")
    with pytest.raises(CheckpointError):
        load(tmp_path / "huge.npz", mlp(0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**22


def test_metadata_declaring_2_to_the_40_floats_is_refused_before_reading(tmp_path):
    model, _ = stepped()
    save(tmp_path / "m.npz", model)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(np.lib.format.read_array(zipfile.ZipFile(tmp_path / "m.npz").open("__metadata__.npy")).tobytes())
    metadata["model"]["state"]["0.weight"] = {"shape": [2**40], "dtype": "<f8"}
    entries["model/0.weight.npy"] = npy_header((2**40,)) + bytes(64)
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(json.dumps(metadata).encode(), np.uint8))
    entries["__metadata__.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    tracemalloc.start()
    with pytest.raises(CheckpointError, match=r"truncated or corrupt"):
        read(tmp_path / "huge.npz")  # declared 8 TB, holds 64 bytes: found before any allocation
    with pytest.raises(CheckpointError, match=r"0\.weight: checkpoint \(1099511627776,\), model \(16, 2\)"):
        load(tmp_path / "huge.npz", mlp(0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**22


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path):
    # 64 MiB of zeros deflate to ~64 KiB; the model needs 128 bytes for 0.weight.
    model, optimizer = stepped()
    save(tmp_path / "m.npz", model, optimizer)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            if name == "optimizer/0.npy":
                with archive.open(name, "w", force_zip64=True) as handle:
                    handle.write(npy_header((2**23,), "<f8"))
                    zeros = bytes(2**20)
                    for _ in range(64):
                        handle.write(zeros)
            else:
                archive.writestr(name, content)
    assert (tmp_path / "bomb.npz").stat().st_size < 2**20
    target, target_optimizer = stepped(seed=1)
    before = snapshot(target, target_optimizer)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"entry 'optimizer/0' declares 67,108,\d+ bytes, more than the 256 it may hold"):
        load(tmp_path / "bomb.npz", target, target_optimizer)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**22 and elapsed < 1.0
    assert_unchanged(before, snapshot(target, target_optimizer))


def test_extra_arrays_have_a_total_limit(tmp_path):
    model = mlp(0)
    save(tmp_path / "m.npz", model, extra={"big": np.zeros(2**16, np.float64)})  # 512 KiB
    assert read(tmp_path / "m.npz").extra["big"].shape == (2**16,)
    with pytest.raises(CheckpointError, match="more than the 1,000 it may hold"):
        read(tmp_path / "m.npz", max_extra_bytes=1000)


# ------------------------------------------------------------------ fuzz
def mutate_and_load(data: bytes, path: Path, seed: int, n: int) -> tuple[int, int]:
    """``n`` loads of ``data`` with 1 to 3 random bytes replaced; returns (CheckpointErrors, clean loads).

    The file is opened once and patched in place (re-creating it 3,000 times
    costs more than the loads on some file systems).
    """
    rng = np.random.default_rng(seed)
    target, target_optimizer = stepped(seed=9)
    before = snapshot(target, target_optimizer)
    errors = loads = 0
    path.write_bytes(data)
    with open(path, "r+b", buffering=0) as handle:
        for _ in range(n):
            positions = rng.integers(0, len(data), size=int(rng.integers(1, 4)))
            for position in positions:
                handle.seek(int(position))
                handle.write(bytes([int(rng.integers(0, 256))]))
            try:
                load(path, target, target_optimizer)
            except CheckpointError:
                errors += 1
                assert_unchanged(before, snapshot(target, target_optimizer))
            else:
                loads += 1
                before = snapshot(target, target_optimizer)
            for position in positions:  # back to the original bytes
                handle.seek(int(position))
                handle.write(data[int(position) : int(position) + 1])
    return errors, loads


@pytest.mark.parametrize("fmt, n", [("npz", 2000), ("safetensors", 1500)])  # 3,500 mutations
def test_fuzz_byte_mutations_give_a_checkpoint_error_or_a_clean_load(tmp_path, fmt, n):
    model, optimizer = stepped()
    path = save(tmp_path / f"m.{fmt}", model, optimizer, extra={"epoch": 3, "mask": np.arange(3)})
    errors, loads = mutate_and_load(path.read_bytes(), tmp_path / f"fuzz.{fmt}", seed=0, n=n)
    assert errors + loads == n
    assert errors > n // 2  # most mutations hit a CRC, a header or an offset: refused by name


# ------------------------------------------------------------ killed save
KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from dltoys import nn
    from dltoys.train import checkpoint, save

    model = nn.Sequential(nn.Linear(64, 512, rng=1), nn.Tanh(), nn.Linear(512, 64, rng=1))
    real_fsync = os.fsync

    def stall(fd):  # the temporary is fully written: tell the parent, then hang until killed
        open(sys.argv[2], "w").close()
        time.sleep(60)

    checkpoint.os.fsync = stall
    save(sys.argv[1], model)
    """
)


def test_a_process_killed_during_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    model, optimizer = stepped()
    target = tmp_path / "m.npz"
    save(target, model, optimizer)
    good = target.read_bytes()
    ready = tmp_path / "ready"
    env = dict(os.environ, PYTHONPATH=str(SRC), OPENBLAS_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), str(ready)], env=env)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert child.poll() is None, "the writer exited before it stalled"
            assert time.monotonic() < deadline, "the writer never got to fsync"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 100_000  # a full-size temporary
    assert leftovers[0].name.startswith(f".m.npz.{child.pid}-")
    assert target.read_bytes() == good  # the old checkpoint is intact
    load(target, mlp(1))
    save(target, model)  # the next save removes the dead writer's temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "ready"]


def test_temporaries_of_live_writers_are_left_alone(tmp_path):
    target = tmp_path / "m.npz"
    live = tmp_path / f".m.npz.{os.getppid()}-0123abcd.tmp"  # our parent: alive
    live.write_bytes(b"in progress")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".m.npz.{int(finished.stdout)}-89abcdef.tmp"
    dead.write_bytes(b"abandoned")
    other = tmp_path / ".other.npz.1-00000000.tmp"
    other.write_bytes(b"another file's")
    removed = _remove_stale_temporaries(target)
    assert removed == [dead]
    assert live.exists() and other.exists()


# ----------------------------------------------------------- safetensors
def test_safetensors_round_trip_with_optimizer_and_extra(tmp_path):
    model, optimizer = stepped()
    path = save(tmp_path / "m.safetensors", model, optimizer, extra={"epoch": 2, "ids": np.arange(5)})
    target, target_optimizer = stepped(seed=7)
    checkpoint = load(path, target, target_optimizer)
    for key, value in weights(model).items():
        np.testing.assert_array_equal(weights(target)[key], value)
    assert target_optimizer.state_dict()["step_count"] == 1
    np.testing.assert_array_equal(target_optimizer.state["exp_avg"][0], optimizer.state["exp_avg"][0])
    assert checkpoint.extra["epoch"] == 2 and checkpoint.extra["ids"].tolist() == list(range(5))
    with pytest.raises(ValueError, match="safetensors files are not compressed"):
        save(tmp_path / "c.safetensors", model, compress=True)


def test_safetensors_files_are_read_by_the_reference_library(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Linear(4, 2, dtype=None, rng=1))
    model(np.ones((5, 3), np.float32))  # running statistics and num_batches_tracked (int64) move
    save(tmp_path / "m.safetensors", model)
    tensors = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    assert list(tensors) == list(model.state_dict()) or set(tensors) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert tensors[key].dtype == value.dtype
        np.testing.assert_array_equal(tensors[key], value)
    # and the reverse: a file the reference library wrote loads into a dltoys model
    safetensors_numpy.save_file({k: np.asarray(v * 2) for k, v in model.state_dict().items()}, str(tmp_path / "ref.safetensors"))
    twin = nn.Sequential(nn.Linear(3, 4, rng=5), nn.BatchNorm1d(4), nn.Linear(4, 2, rng=6))
    load(tmp_path / "ref.safetensors", twin)
    np.testing.assert_array_equal(twin.state_dict()["0.weight"], 2 * model.state_dict()["0.weight"])


def test_pytorch_loads_a_dltoys_safetensors_file_and_computes_the_same(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = nn.Sequential(nn.Linear(3, 8, dtype=np.float64, rng=0), nn.Tanh(), nn.Linear(8, 2, dtype=np.float64, rng=1))
    save(tmp_path / "m.safetensors", model)
    twin = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    twin.load_state_dict(safetensors_torch.load_file(str(tmp_path / "m.safetensors")))
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), model(x), rtol=1e-12)
    # and PyTorch's file back into dltoys
    safetensors_torch.save_file(twin.state_dict(), str(tmp_path / "torch.safetensors"))
    back = nn.Sequential(nn.Linear(3, 8, dtype=np.float64, rng=9), nn.Tanh(), nn.Linear(8, 2, dtype=np.float64, rng=9))
    load(tmp_path / "torch.safetensors", back)
    np.testing.assert_allclose(back(x), model(x), rtol=1e-12)


@pytest.mark.parametrize(
    "header",
    [
        b'{"w":{"dtype":"F64","shape":[1099511627776],"data_offsets":[0,8796093022208]}}',
        b'{"w":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}}',
        b'{"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}',
        b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}',
        b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        b'{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}',
        b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
        b'{"__metadata__":{"dltoys":5},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
        b'{"__metadata__":{"dltoys":"{\\"format\\": 3}"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
        b"[1, 2]",
    ],
)
def test_crafted_safetensors_headers_are_refused(tmp_path, header):
    header = header + b" " * (-len(header) % 8)
    path = tmp_path / "m.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    with pytest.raises(CheckpointError):
        load(path, nn.Linear(2, 1))
    huge = tmp_path / "h.safetensors"
    huge.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    with pytest.raises(CheckpointError, match="header declares"):
        read(huge)


@settings(max_examples=80, deadline=None)
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x93NUMPY", b"\x10\x00\x00\x00\x00\x00\x00\x00{", b"\x80\x04"]),
       body=st.binary(max_size=300))
def test_property_arbitrary_bytes_give_only_checkpoint_errors(tmp_path_factory, prefix, body):
    path = tmp_path_factory.getbasetemp() / "arbitrary.ckpt"
    path.write_bytes(prefix + body)
    model = mlp(0)
    before = weights(model)
    with pytest.raises(CheckpointError):
        load(path, model)
    assert all(np.array_equal(before[k], v) for k, v in weights(model).items())
