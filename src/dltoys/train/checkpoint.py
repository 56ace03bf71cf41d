"""Safe checkpoints: arrays plus a JSON description, never pickle, in ``.npz`` or safetensors.

Two file formats, chosen by the suffix of the path (or ``format=``):

- ``.npz`` (the default; a plain zip of ``.npy`` files, readable by
  ``np.load(path, allow_pickle=False)``):

  - ``model/<key>``: one array per entry of ``model.state_dict()`` (PyTorch's keys);
  - ``optimizer/<n>``: the ndarray leaves of ``optimizer.state_dict()``;
  - ``extra/<n>``: the ndarray leaves of the caller's ``extra``, if any;
  - ``__metadata__``: UTF-8 JSON stored as a uint8 array: the format name and
    version, the dltoys version, the model's class, repr and state keys with
    shapes and dtypes, the optimizer's type and state (with each array replaced
    by ``{"__ndarray__": "optimizer/<n>"}``), and ``extra`` (likewise).

- ``.safetensors`` (https://github.com/huggingface/safetensors): the model's
  state under its own keys (so ``safetensors.torch.load_file(path)`` is a
  state dict PyTorch loads with ``torch_model.load_state_dict``),
  ``optimizer/<n>`` and ``extra/<n>`` as above, and the same JSON in the
  header's ``__metadata__`` under ``"dltoys"``. A safetensors file written by
  someone else (no dltoys metadata) loads as model weights alone.

Why no pickle: unpickling runs arbitrary code, so a checkpoint from the
internet could own the machine. Here no entry is ever unpickled; an entry
holding objects is refused, and so are complex, structured, datetime and
string arrays (a checkpoint holds real numbers only).

Why bounded: every size read from the file is checked before anything is
allocated or inflated. Model entries must have exactly the declared (and, in
:func:`load`, the model's) shapes; optimizer entries at most the largest
parameter's size; ``extra`` at most ``max_extra_bytes`` (64 MiB by default) in
total; the JSON description at most 64 MiB. A header declaring ``2**40``
floats or a zip entry that would inflate 1 MiB into 1 GiB is refused.

Why atomic: :func:`save` writes a temporary file in the target's directory
(``.<name>.<pid>-<random>.tmp``), flushes and fsyncs it, then renames it over
the target (``os.replace``). A crash mid-save leaves the previous checkpoint
intact, never half a file; the next save into that directory removes the
temporaries of writers that are no longer running.

Every failure to read or apply a checkpoint raises :class:`CheckpointError`
with the path and the reason, and :func:`load` changes nothing when it raises.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..nn.module import Module, ModuleDict
from ..optim.optimizer import Optimizer, OptimizerDict
from .atomic import STALE_TEMPORARY_SECONDS, _remove_stale_temporaries, _write_atomically  # noqa: F401 (re-exported)
from .formats import FormatError, NpzReader, SafetensorsReader, check_real_dtype, sniff, write_npz, write_safetensors
from .metadata import FORMAT_NAME, FORMAT_VERSION, array_names, check_description, flatten, unflatten

#: The file formats :func:`save` writes.
FILE_FORMATS = ("npz", "safetensors")
#: The largest JSON description read (a long History in ``extra`` takes a few MB).
MAX_METADATA_BYTES = 64 * 2**20
#: The default limit on the arrays of ``extra``, in total.
MAX_EXTRA_BYTES = 64 * 2**20
#: A temporary file older than this is removed by the next save even if its writer's
#: process id is alive (the id may have been reused).

_METADATA = "__metadata__"


class CheckpointError(Exception):
    """A checkpoint could not be written, read or applied; the message says why."""


@dataclass
class Checkpoint:
    """The contents of a checkpoint file, as :func:`read` returns them.

    Attributes
    ----------
    path : str
    metadata : dict
        The decoded JSON description (format, versions, model, optimizer, extra).
    model_state : dict of str to ndarray
        The model's state dict.
    optimizer_state : dict or None
        The optimizer's state dict (arrays restored), or None if none was saved.
    extra : Any
        The caller's ``extra`` (arrays restored), or None.
    """

    path: str
    metadata: dict
    model_state: dict
    optimizer_state: dict | None
    extra: Any


# ---------------------------------------------------------------------- save
def _as_one(model: Any, optimizer: Any) -> tuple[Any, Any]:
    """Several named models or optimizers (dicts) become one ModuleDict / OptimizerDict."""
    if isinstance(model, dict):
        model = ModuleDict(model)
    if isinstance(optimizer, dict):
        optimizer = OptimizerDict(optimizer)
    return model, optimizer


def _file_format(path: Path, format: str | None) -> str:
    if format is None:
        return "safetensors" if path.suffix == ".safetensors" else "npz"
    if format not in FILE_FORMATS:
        raise ValueError(f"format: expected one of {', '.join(map(repr, FILE_FORMATS))} or None, received {format!r}")
    return format


def save(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    extra: Any = None,
    *,
    compress: bool = False,
    format: str | None = None,
) -> Path:
    """Write ``model`` (and ``optimizer``) to one file, atomically.

    Parameters
    ----------
    path : str or PathLike
        The file to write, used exactly as given (no suffix is added). Its
        directory must exist. An existing file is replaced only once the new
        one is completely on disk.
    model : Module, or dict of str -> Module
        A dict (a GAN's generator and discriminator) is saved as one
        :class:`~dltoys.nn.ModuleDict`: keys ``"<name>.<key>"``.
    optimizer : Optimizer, or dict of str -> Optimizer, optional
        Its ``state_dict()`` (hyperparameters, step count, state buffers) is
        stored so that :func:`load` can resume training exactly.
    extra : JSON-like, optional
        Anything made of dicts with str keys, lists, tuples, str, numbers,
        bool, None and real-valued ndarrays (the epoch, a config, a history);
        returned as :attr:`Checkpoint.extra` by :func:`load` and :func:`read`.
    compress : bool, default False
        Deflate the arrays (smaller, slower; ``.npz`` only).
    format : 'npz', 'safetensors' or None
        None: safetensors if ``path`` ends in ``.safetensors``, else npz.
        PyTorch reads the model's weights from a safetensors file with
        ``safetensors.torch.load_file(path)``.

    Returns
    -------
    Path
        The path written.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike file name, received {type(path).__name__}")
    model, optimizer = _as_one(model, optimizer)
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a dltoys Optimizer or None, received {type(optimizer).__name__}")
    if not isinstance(compress, (bool, np.bool_)):
        raise TypeError(f"compress: expected True or False, received {compress!r}")
    path = Path(path)
    file_format = _file_format(path, format)
    if compress and file_format == "safetensors":
        raise ValueError("compress: safetensors files are not compressed; use an .npz path to compress")
    if not path.parent.is_dir():
        raise CheckpointError(f"{path}: the directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory; give a file name such as {str(path / 'model.npz')!r}")

    state = model.state_dict()
    for key, value in state.items():
        try:
            check_real_dtype(f"model state {key!r}", value.dtype)
        except FormatError as exc:
            raise TypeError(str(exc)) from None
    model_prefix = "model/" if file_format == "npz" else ""
    arrays: dict[str, np.ndarray] = {f"{model_prefix}{key}": value for key, value in state.items()}
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "dltoys_version": __version__,
        "model": {
            "class": type(model).__qualname__,
            "module": type(model).__module__,
            "repr": repr(model),
            "state": {key: {"shape": list(v.shape), "dtype": v.dtype.str} for key, v in state.items()},
        },
        "optimizer": None,
        "extra": None,
    }
    if optimizer is not None:
        optimizer_arrays: dict[str, np.ndarray] = {}
        metadata["optimizer"] = {
            "type": type(optimizer).__name__,
            "state": flatten(optimizer.state_dict(), "optimizer", optimizer_arrays, "optimizer.state_dict()"),
        }
        arrays.update(optimizer_arrays)
    if extra is not None:
        extra_arrays: dict[str, np.ndarray] = {}
        metadata["extra"] = flatten(extra, "extra", extra_arrays, "extra")
        arrays.update(extra_arrays)
    text = json.dumps(metadata)
    if file_format == "npz":
        arrays[_METADATA] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        _write_atomically(path, lambda handle: write_npz(handle, arrays, compress))
    else:
        header = {"format": FORMAT_NAME, "dltoys": text}
        _write_atomically(path, lambda handle: write_safetensors(handle, arrays, header))
    return path


# ---------------------------------------------------------------------- read
def _open(path: str) -> "NpzReader | SafetensorsReader":
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: is not a regular file (a FIFO, device or socket)")
    try:
        kind = sniff(path)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc})") from None
    if kind == "npy":
        raise CheckpointError(f"{path}: holds a single .npy array, not a dltoys checkpoint archive")
    if kind == "unknown":
        raise CheckpointError(
            f"{path}: not a dltoys checkpoint (the file is neither an .npz archive nor a safetensors file; "
            "it may be a pickle, which is refused because loading it could run code)"
        )
    try:
        return NpzReader(path) if kind == "npz" else SafetensorsReader(path)
    except FormatError as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint, {exc}") from None


def _read_metadata(path: str, reader: "NpzReader | SafetensorsReader") -> dict:
    if reader.format == "safetensors":
        text = reader.metadata.get("dltoys")
        if text is None:  # written by someone else: the tensors are a model's state dict
            return {
                "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "dltoys_version": None,
                "model": {"class": None, "state": {
                    name: {"shape": list(reader.spec(name)[1]), "dtype": reader.spec(name)[0].str}
                    for name in reader.names()}},
                "optimizer": None, "extra": None, "foreign": True,
            }
        raw = text.encode("utf-8", errors="surrogatepass")
    else:
        if _METADATA not in reader.names():
            raise CheckpointError(f"{path}: no {_METADATA} entry; this .npz was not written by dltoys.train.save")
        array = reader.read(_METADATA, MAX_METADATA_BYTES)
        if array.dtype != np.uint8 or array.ndim != 1:
            raise CheckpointError(
                f"{path}: the {_METADATA} entry must be a 1-D uint8 array, found {array.dtype}{array.shape}"
            )
        raw = array.tobytes()
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"{path}: the metadata is not valid UTF-8 JSON ({str(exc)[:200]})") from None
    try:
        check_description(metadata)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return metadata


def _spec_bytes(spec: dict) -> int:
    dtype = np.dtype(spec["dtype"])
    count = 1
    for n in spec["shape"]:
        count *= n
    return count * dtype.itemsize


def _read(
    path: str | os.PathLike,
    check_declared: Callable[[str, dict], None] | None = None,
    max_extra_bytes: int = MAX_EXTRA_BYTES,
) -> Checkpoint:
    """Read a checkpoint; ``check_declared(path, metadata)`` runs before any array is read."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike file name, received {type(path).__name__}")
    path = str(path)
    reader = _open(path)
    try:
        metadata = _read_metadata(path, reader)
        if check_declared is not None:
            check_declared(path, metadata)
        return _read_arrays(path, reader, metadata, max_extra_bytes)
    except FormatError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except CheckpointError:
        raise
    except Exception as exc:  # every other failure is still the checkpoint's: say so, with the cause
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {str(exc)[:200]})") from exc
    finally:
        reader.close()


def _read_arrays(path: str, reader: "NpzReader | SafetensorsReader", metadata: dict, max_extra_bytes: int) -> Checkpoint:
    declared = metadata["model"]["state"]
    model_prefix = "model/" if reader.format == "npz" else ""
    names = set(reader.names()) - {_METADATA}
    # Every array the archive holds must be described; strays are refused unread.
    optimizer_meta = metadata.get("optimizer")
    optimizer_names = array_names(optimizer_meta["state"], []) if optimizer_meta else []
    extra_names = array_names(metadata.get("extra"), [])
    expected = {model_prefix + key for key in declared} | set(optimizer_names) | set(extra_names)
    stray = sorted(names - expected)
    if stray:
        raise CheckpointError(f"{path}: arrays {stray[:10]} are not described by the metadata (the file is corrupt)")

    model_state = {}
    for key, spec in declared.items():
        name = model_prefix + key
        if name not in names:
            raise CheckpointError(f"{path}: the metadata lists model state {key!r} but the archive lacks it")
        # exactly what the metadata declares, checked before the data is read
        expect = (np.dtype(spec["dtype"]), tuple(spec["shape"]))
        try:
            model_state[key] = reader.read(name, _spec_bytes(spec), expect)
        except FormatError as exc:
            message = str(exc)
            if message.startswith(repr(name)):  # a mismatch: name the state dict's key
                message = f"model state {key!r}" + message[len(repr(name)):]
            raise CheckpointError(f"{path}: {message}") from None

    # Optimizer buffers are parameter-shaped: none may exceed the largest model entry (in float64).
    largest = max((_spec_bytes(spec) // np.dtype(spec["dtype"]).itemsize for spec in declared.values()), default=0)
    arrays: dict[str, np.ndarray] = {}
    for name in optimizer_names:
        if name in names and name not in arrays:
            arrays[name] = reader.read(name, largest * 8)
    budget = max_extra_bytes
    for name in extra_names:
        if name in names and name not in arrays:
            arrays[name] = reader.read(name, budget)
            budget -= arrays[name].nbytes

    used: set[str] = set()
    try:
        optimizer_state = None if optimizer_meta is None else unflatten(optimizer_meta["state"], arrays, used)
        extra = None if metadata.get("extra") is None else unflatten(metadata["extra"], arrays, used)
    except ValueError as exc:  # an invalid or dangling array reference in the metadata
        raise CheckpointError(f"{path}: {exc}") from None
    return Checkpoint(path, metadata, model_state, optimizer_state, extra)


def read(path: str | os.PathLike, *, max_extra_bytes: int = MAX_EXTRA_BYTES) -> Checkpoint:
    """Read and check a checkpoint file without applying it to anything.

    Parameters
    ----------
    path : str or PathLike
        An ``.npz`` or safetensors file written by :func:`save` (or a
        safetensors state dict written by anyone).
    max_extra_bytes : int, default 64 MiB
        The most the arrays of ``extra`` may take, in total.

    Raises
    ------
    CheckpointError
        If the file is missing, not a regular file, not a zip archive or
        safetensors file, truncated or corrupt, holds an object (pickled),
        complex, structured, datetime or string array, lacks the metadata, is
        of an unknown format or a newer format version, declares sizes beyond
        its limits, or if its arrays disagree with its metadata.
    """
    return _read(path, max_extra_bytes=max_extra_bytes)


# ---------------------------------------------------------------------- load
def load(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    *,
    strict: bool = True,
    max_extra_bytes: int = MAX_EXTRA_BYTES,
) -> Checkpoint:
    """Load a checkpoint into ``model`` (and ``optimizer``), all or nothing.

    Everything is checked before anything is changed: when this raises, the
    model and the optimizer are as they were. The file's declared shapes are
    compared with the model's before any array is read, so no entry can make
    this allocate more than the model (and its optimizer state) needs.

    Parameters
    ----------
    path : str or PathLike
    model : Module, or dict of str -> Module
        Built with the same architecture as the saved one (a dict: the same names); its parameters and
        buffers are overwritten in place (cast to the model's dtype).
    optimizer : Optimizer, optional
        Built over ``model.parameters()`` with the same type as the saved one;
        its hyperparameters (checked as its constructor checks them), step
        count and state are restored. Omit it to load the weights only.
    strict : bool, default True
        Require the model's class and state keys to equal the saved ones. With
        False, keys present on one side only are skipped (shapes must still match).
    max_extra_bytes : int, default 64 MiB
        The most the arrays of ``extra`` may take, in total.

    Returns
    -------
    Checkpoint
        What was read; ``.extra`` holds the caller's ``extra``.

    Raises
    ------
    CheckpointError
        Everything :func:`read` refuses, plus: another model class, missing or
        unexpected keys, mismatched shapes (each named), an optimizer requested
        from a file that holds none, another optimizer type, an optimizer over
        other parameters than the model's, or optimizer state or settings that
        do not fit the optimizer (``lr=-0.5``, ``betas=[1.5, 7]``).
    """
    model, optimizer = _as_one(model, optimizer)
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a dltoys Optimizer or None, received {type(optimizer).__name__}")
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"strict: expected True or False, received {strict!r}")
    current = model.state_dict()
    if optimizer is not None:
        own = {id(p) for p in model.parameters()}
        if any(id(p) not in own for p in optimizer.params):
            raise CheckpointError(
                f"{path}: the optimizer state does not fit this optimizer: its parameters are not the model's "
                "(build it over model.parameters())"
            )

    def fits(path: str, metadata: dict) -> None:
        saved_class = metadata["model"]["class"]
        if strict and saved_class is not None and saved_class != type(model).__qualname__:
            raise CheckpointError(
                f"{path}: holds the state of a {saved_class}, but the model is a {type(model).__qualname__}"
            )
        declared = metadata["model"]["state"]
        problems = []
        missing = [key for key in current if key not in declared]
        unexpected = [key for key in declared if key not in current]
        if strict and missing:
            problems.append(f"missing from the checkpoint: {missing}")
        if strict and unexpected:
            problems.append(f"not in the model: {unexpected}")
        for key, spec in declared.items():
            if key in current and tuple(spec["shape"]) != current[key].shape:
                problems.append(f"{key}: checkpoint {tuple(spec['shape'])}, model {current[key].shape}")
        if problems:
            raise CheckpointError(
                f"{path}: the checkpoint's {saved_class or 'state dict'} does not fit this model "
                "(another architecture?); " + "; ".join(problems)
            )
        if optimizer is not None and metadata.get("optimizer") is None:
            raise CheckpointError(
                f"{path}: holds no optimizer state; call load without optimizer to load the model only"
            )
        if optimizer is not None and metadata["optimizer"]["type"] != type(optimizer).__name__:
            raise CheckpointError(
                f"{path}: holds the state of a {metadata['optimizer']['type']} optimizer, "
                f"not a {type(optimizer).__name__}"
            )

    checkpoint = _read(path, fits, max_extra_bytes)
    path = checkpoint.path
    usable = {key: value for key, value in checkpoint.model_state.items() if key in current}
    if optimizer is not None:  # all or nothing itself: raises before changing anything
        try:
            optimizer.load_state_dict(checkpoint.optimizer_state)
        except Exception as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            raise CheckpointError(f"{path}: the optimizer state does not fit this optimizer: {message}") from None
    model.load_state_dict(usable, strict=strict)  # keys, shapes and dtypes checked above: cannot fail
    return checkpoint
