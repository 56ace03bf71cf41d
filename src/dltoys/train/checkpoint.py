"""Safe checkpoints: one ``.npz`` archive of arrays plus a JSON description, never pickle.

Layout of a checkpoint file (a plain zip of ``.npy`` files, readable by
``np.load(path, allow_pickle=False)``):

- ``model/<key>``: one array per entry of ``model.state_dict()`` (PyTorch's keys);
- ``optimizer/<n>``: the ndarray leaves of ``optimizer.state_dict()``;
- ``extra/<n>``: the ndarray leaves of the caller's ``extra``, if any;
- ``__metadata__``: UTF-8 JSON stored as a uint8 array: the format name and
  version, the dltoys version, the model's class, repr and state keys with
  shapes and dtypes, the optimizer's type and state (with each array replaced
  by ``{"__ndarray__": "optimizer/<n>"}``), and ``extra`` (likewise).

Why no pickle: unpickling runs arbitrary code, so a checkpoint from the
internet could own the machine. Here every entry is read with
``allow_pickle=False``, and an archive holding an object array is refused.

Why atomic: :func:`save` writes a temporary file in the target's directory,
flushes and fsyncs it, then renames it over the target (``os.replace``). A
crash mid-save leaves the previous checkpoint intact, never half a file.

Every failure to read or apply a checkpoint raises :class:`CheckpointError`
with the path and the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..nn.module import Module, ModuleDict
from ..optim.optimizer import Optimizer, OptimizerDict

#: Written into every checkpoint and checked on reading.
FORMAT_NAME = "dltoys-checkpoint"
#: Bump when the layout changes; readers refuse versions newer than theirs.
FORMAT_VERSION = 1

_METADATA = "__metadata__"
_ARRAY_TAG = "__ndarray__"
_JSON_SCALARS = (str, int, float, bool, type(None))


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


# ---------------------------------------------------------------- flattening
def _flatten(tree: Any, prefix: str, arrays: dict[str, np.ndarray], where: str) -> Any:
    """Replace every ndarray leaf of a dict/list tree by a tag; collect the arrays.

    ``arrays`` collects this tree's arrays only: they are named ``<prefix>/0``, ``<prefix>/1``, ...

    Tuples become lists (JSON has no tuples); NumPy scalars become Python ones.
    """
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise TypeError(f"{where}: an object array cannot be saved without pickle; use numeric arrays")
        name = f"{prefix}/{len(arrays)}"
        arrays[name] = tree
        return {_ARRAY_TAG: name}
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, _JSON_SCALARS):
        return tree
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict keys must be strings to be stored as JSON, received {key!r}")
            out[key] = _flatten(value, prefix, arrays, f"{where}[{key!r}]")
        return out
    if isinstance(tree, (list, tuple)):
        return [_flatten(value, prefix, arrays, f"{where}[{index}]") for index, value in enumerate(tree)]
    raise TypeError(
        f"{where}: cannot store a {type(tree).__name__} in a checkpoint (allowed: dicts with str keys, "
        "lists, tuples, ndarrays, str, int, float, bool, None)"
    )


def _unflatten(tree: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_TAG}:
            name = tree[_ARRAY_TAG]
            if name not in arrays:
                raise CheckpointError(f"{path}: the metadata refers to an array {name!r} that the archive lacks")
            return arrays[name]
        return {key: _unflatten(value, arrays, path) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_unflatten(value, arrays, path) for value in tree]
    return tree


# ---------------------------------------------------------------------- save
def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomically(path: Path, arrays: dict[str, np.ndarray], compress: bool) -> None:
    directory = path.parent
    writer = np.savez_compressed if compress else np.savez
    while True:  # a fresh name in the same directory (same file system: the rename is atomic)
        temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            # 0o666 filtered by the umask: the file gets the permissions any new file would.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle, allow_pickle=False, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _as_one(model: Any, optimizer: Any) -> tuple[Any, Any]:
    """Several named models or optimizers (dicts) become one ModuleDict / OptimizerDict."""
    if isinstance(model, dict):
        model = ModuleDict(model)
    if isinstance(optimizer, dict):
        optimizer = OptimizerDict(optimizer)
    return model, optimizer


def save(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    extra: Any = None,
    *,
    compress: bool = False,
) -> Path:
    """Write ``model`` (and ``optimizer``) to one ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or PathLike
        The file to write, used exactly as given (no suffix is added; ``.npz``
        is the convention). Its directory must exist. An existing file is
        replaced only once the new one is completely on disk.
    model : Module, or dict of str -> Module
        A dict (a GAN's generator and discriminator) is saved as one
        :class:`~dltoys.nn.ModuleDict`: keys ``"<name>.<key>"``.
    optimizer : Optimizer, or dict of str -> Optimizer, optional
        Its ``state_dict()`` (hyperparameters, step count, state buffers) is
        stored so that :func:`load` can resume training exactly.
    extra : JSON-like, optional
        Anything made of dicts with str keys, lists, tuples, str, numbers,
        bool, None and ndarrays (the epoch, a config, a history); returned as
        :attr:`Checkpoint.extra` by :func:`load` and :func:`read`.
    compress : bool, default False
        Deflate the arrays (smaller, slower).

    Returns
    -------
    Path
        The path written.
    """
    model, optimizer = _as_one(model, optimizer)
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a dltoys Optimizer or None, received {type(optimizer).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise CheckpointError(f"{path}: the directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory; give a file name such as {str(path / 'model.npz')!r}")

    arrays: dict[str, np.ndarray] = {}
    state = model.state_dict()
    for key, value in state.items():
        arrays[f"model/{key}"] = value
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
            "state": _flatten(optimizer.state_dict(), "optimizer", optimizer_arrays, "optimizer.state_dict()"),
        }
        arrays.update(optimizer_arrays)
    if extra is not None:
        extra_arrays: dict[str, np.ndarray] = {}
        metadata["extra"] = _flatten(extra, "extra", extra_arrays, "extra")
        arrays.update(extra_arrays)
    arrays[_METADATA] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    _write_atomically(path, arrays, compress)
    return path


# ---------------------------------------------------------------------- read
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError)


def read(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint file without applying it to anything.

    Raises
    ------
    CheckpointError
        If the file is missing, not a zip archive, truncated or corrupt, holds
        an object (pickled) array, lacks the metadata, is of an unknown format
        or a newer format version, or if its arrays disagree with its metadata.
    """
    path = str(path)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise CheckpointError(
                f"{path}: not a dltoys checkpoint (the file is neither an .npz archive nor an .npy array; "
                "it may be a pickle, which is refused because loading it could run code)"
            ) from None
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    except (*_CORRUPT,) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint, the file is truncated or corrupt ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path}: holds a single .npy array, not a dltoys checkpoint archive")

    arrays: dict[str, np.ndarray] = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as exc:
                if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                    raise CheckpointError(
                        f"{path}: entry {name!r} is an object array (pickled Python objects); refused, "
                        "because loading it could run arbitrary code"
                    ) from None
                raise CheckpointError(f"{path}: entry {name!r} is corrupt ({exc})") from None
            except _CORRUPT as exc:
                raise CheckpointError(f"{path}: entry {name!r} is truncated or corrupt ({type(exc).__name__}: {exc})") from None

    metadata = _decode_metadata(path, arrays.pop(_METADATA, None))
    model_state = {}
    declared = metadata["model"]["state"]
    for key, spec in declared.items():
        value = arrays.get(f"model/{key}")
        if value is None:
            raise CheckpointError(f"{path}: the metadata lists model state {key!r} but the archive lacks it")
        if list(value.shape) != list(spec["shape"]) or value.dtype.str != spec["dtype"]:
            raise CheckpointError(
                f"{path}: model state {key!r} is {value.dtype.str}{value.shape} in the archive but "
                f"{spec['dtype']}{tuple(spec['shape'])} in the metadata (the file is corrupt)"
            )
        model_state[key] = value
    stray = sorted(name for name in arrays if name.startswith("model/") and name[6:] not in declared)
    if stray:
        raise CheckpointError(f"{path}: arrays {stray} are not described by the metadata (the file is corrupt)")

    optimizer_meta = metadata.get("optimizer")
    optimizer_state = None
    if optimizer_meta is not None:
        optimizer_state = _unflatten(optimizer_meta.get("state"), arrays, path)
    extra = None if metadata.get("extra") is None else _unflatten(metadata["extra"], arrays, path)
    return Checkpoint(path, metadata, model_state, optimizer_state, extra)


def _decode_metadata(path: str, raw: np.ndarray | None) -> dict:
    if raw is None:
        raise CheckpointError(f"{path}: no {_METADATA} entry; this .npz was not written by dltoys.train.save")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: the {_METADATA} entry must be a 1-D uint8 array, found {raw.dtype}{raw.shape}")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: the metadata is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        found = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise CheckpointError(f"{path}: unknown checkpoint format {found!r}, expected {FORMAT_NAME!r}")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path}: the metadata has no valid format_version (found {version!r})")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written in checkpoint format version {version} by dltoys "
            f"{metadata.get('dltoys_version', '?')}; this dltoys ({__version__}) reads versions up to "
            f"{FORMAT_VERSION}: upgrade dltoys"
        )
    model = metadata.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("state"), dict) or "class" not in model:
        raise CheckpointError(f"{path}: the metadata does not describe a model")
    return metadata


# ---------------------------------------------------------------------- load
def load(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    *,
    strict: bool = True,
) -> Checkpoint:
    """Load a checkpoint into ``model`` (and ``optimizer``), all or nothing.

    Everything is checked before anything is changed: when this raises, the
    model and the optimizer are as they were.

    Parameters
    ----------
    path : str or PathLike
    model : Module, or dict of str -> Module
        Built with the same architecture as the saved one (a dict: the same names); its parameters and
        buffers are overwritten in place (cast to the model's dtype).
    optimizer : Optimizer, optional
        Built over ``model.parameters()`` with the same type as the saved one;
        its hyperparameters, step count and state are restored. Omit it to
        load the weights only.
    strict : bool, default True
        Require the model's class and state keys to equal the saved ones. With
        False, keys present on one side only are skipped (shapes must still match).

    Returns
    -------
    Checkpoint
        What was read; ``.extra`` holds the caller's ``extra``.

    Raises
    ------
    CheckpointError
        Everything :func:`read` refuses, plus: another model class, missing or
        unexpected keys, mismatched shapes (each named), an optimizer requested
        from a file that holds none, another optimizer type, or optimizer state
        that does not fit the optimizer's parameters.
    """
    model, optimizer = _as_one(model, optimizer)
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a dltoys Module, received {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a dltoys Optimizer or None, received {type(optimizer).__name__}")
    checkpoint = read(path)
    path = checkpoint.path
    saved_class = checkpoint.metadata["model"]["class"]
    if strict and saved_class != type(model).__qualname__:
        raise CheckpointError(
            f"{path}: holds the state of a {saved_class}, but the model is a {type(model).__qualname__}"
        )
    current = model.state_dict()
    problems = []
    missing = [key for key in current if key not in checkpoint.model_state]
    unexpected = [key for key in checkpoint.model_state if key not in current]
    if strict and missing:
        problems.append(f"missing from the checkpoint: {missing}")
    if strict and unexpected:
        problems.append(f"not in the model: {unexpected}")
    for key, value in checkpoint.model_state.items():
        if key in current and value.shape != current[key].shape:
            problems.append(f"{key}: checkpoint {value.shape}, model {current[key].shape}")
    if problems:
        raise CheckpointError(
            f"{path}: the checkpoint's {saved_class} does not fit this model (another architecture?); "
            + "; ".join(problems)
        )

    if optimizer is not None:
        _load_optimizer(checkpoint, optimizer)
    model.load_state_dict(checkpoint.model_state, strict=strict)  # checked above: cannot fail
    return checkpoint


def _load_optimizer(checkpoint: Checkpoint, optimizer: Optimizer) -> None:
    path = checkpoint.path
    if checkpoint.optimizer_state is None:
        raise CheckpointError(f"{path}: holds no optimizer state; call load without optimizer to load the model only")
    saved_type = checkpoint.metadata["optimizer"].get("type")
    if saved_type != type(optimizer).__name__:
        raise CheckpointError(f"{path}: holds the state of a {saved_type} optimizer, not a {type(optimizer).__name__}")
    before = optimizer.state_dict()  # copies: put back if the saved state does not fit
    try:
        optimizer.load_state_dict(checkpoint.optimizer_state)
    except (ValueError, KeyError, TypeError) as exc:
        optimizer.load_state_dict(before)
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise CheckpointError(f"{path}: the optimizer state does not fit this optimizer: {message}") from None
