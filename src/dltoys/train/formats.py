"""The two checkpoint file formats, read within a byte budget: NumPy's ``.npz`` and safetensors.

:mod:`dltoys.train.checkpoint` decides what goes into a checkpoint; this module
only moves named arrays to and from bytes, and never trusts a size it reads
from the file:

- ``.npz`` (a zip of ``.npy`` files, what :func:`numpy.savez` writes): every
  entry's declared uncompressed size is checked against the caller's limit
  *before* anything is inflated (a 1 MiB zip entry cannot expand to 1 GiB), the
  ``.npy`` header is parsed by NumPy's safe header reader (no pickle, no
  ``eval``) and the array's byte count is checked against the limit before it
  is allocated (a header declaring ``2**40`` floats is refused, not attempted).
- safetensors (https://github.com/huggingface/safetensors, the format PyTorch
  users load with ``safetensors.torch.load_file``): an 8-byte little-endian
  header length, a JSON header ``{name: {"dtype", "shape", "data_offsets"}}``
  plus an optional ``"__metadata__"`` of strings, then the raw little-endian
  bytes of every tensor, back to back. Written here with the standard library
  and NumPy (no dependency); read with every offset checked against the real
  file size before anything is allocated.

Every problem raises :class:`FormatError` with a short reason; the caller adds the path.
Only real numbers are accepted (bool, integers, floats): complex, structured,
datetime, string and object arrays are refused by name.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from typing import IO, Iterable

import numpy as np

#: The ``.npy`` header of an entry may take this many bytes beyond its data.
NPY_HEADER_SLACK = 65_536
#: The largest safetensors JSON header read (the reference implementation allows 100 MB).
MAX_SAFETENSORS_HEADER = 100_000_000

#: safetensors dtype codes and the NumPy dtype (little-endian) of each.
SAFETENSORS_DTYPES = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_SAFETENSORS_CODES = {dtype: code for code, dtype in SAFETENSORS_DTYPES.items()}


class FormatError(ValueError):
    """The bytes are not a well-formed archive of real-valued arrays (the message says why)."""


def check_real_dtype(where: str, dtype: np.dtype) -> None:
    """Refuse every dtype that is not a plain real number (bool, integer or float)."""
    if dtype.hasobject:
        raise FormatError(
            f"{where} is an object array (pickled Python objects); refused, because loading it could run "
            "arbitrary code"
        )
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biuf":
        raise FormatError(f"{where} has dtype {dtype}; a checkpoint holds real numbers only (bool, int, float)")


def _nbytes(shape: Iterable[int], dtype: np.dtype) -> int:
    return math.prod(int(n) for n in shape) * dtype.itemsize  # Python ints: no overflow


def sniff(path: str) -> str:
    """``"npz"``, ``"npy"``, ``"safetensors"`` or ``"unknown"``, from the first bytes of the file."""
    with open(path, "rb") as handle:
        head = handle.read(9)
    if head.startswith(b"PK"):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if len(head) == 9 and head[8:9] == b"{":
        return "safetensors"
    return "unknown"


# ----------------------------------------------------------------------- npz
class NpzReader:
    """The entries of an ``.npz`` archive, each read within a byte limit."""

    format = "npz"

    def __init__(self, path: str, max_entries: int = 100_000):
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise FormatError(f"the zip archive is truncated or corrupt ({type(exc).__name__}: {exc})") from None
        if len(infos) > max_entries:
            self.close()
            raise FormatError(f"the archive holds {len(infos)} entries, more than any checkpoint ({max_entries})")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                self.close()
                raise FormatError(f"entry {info.filename!r} is not an .npy array (the file is corrupt)")
            name = info.filename[: -len(".npy")]
            if name in self._infos:
                self.close()
                raise FormatError(f"entry {name!r} appears twice (the file is corrupt)")
            self._infos[name] = info

    def names(self) -> list[str]:
        return list(self._infos)

    def read(self, name: str, max_bytes: int, expect: tuple[np.dtype, tuple] | None = None) -> np.ndarray:
        """The array ``name``, refused if its data would exceed ``max_bytes`` (or differ from ``expect``)."""
        info = self._infos[name]
        if info.file_size > max_bytes + NPY_HEADER_SLACK:
            raise FormatError(
                f"entry {name!r} declares {info.file_size:,} bytes, more than the {max_bytes:,} it may hold"
            )
        try:
            with self._zip.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                elif version in ((2, 0), (3, 0)):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
                else:
                    raise FormatError(f"entry {name!r} has an unknown .npy version {version}")
                check_real_dtype(f"entry {name!r}", dtype)
                _check_expected(name, dtype, shape, expect)
                expected = _nbytes(shape, dtype)
                if expected > max_bytes:
                    raise FormatError(
                        f"entry {name!r} declares shape {shape} of {dtype} ({expected:,} bytes), more than the "
                        f"{max_bytes:,} it may hold"
                    )
                raw = handle.read()  # bounded by file_size, checked above; reading to the end checks the CRC
        except FormatError:
            raise
        except Exception as exc:  # zlib.error, BadZipFile (CRC), EOFError, NotImplementedError, ValueError, ...
            raise FormatError(f"entry {name!r} is truncated or corrupt ({type(exc).__name__}: {exc})") from None
        if len(raw) != expected:
            raise FormatError(
                f"entry {name!r} is truncated or corrupt (it holds {len(raw):,} bytes for shape {shape} of {dtype})"
            )
        array = np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        return np.array(array, order="C")  # writable, C order, the saved dtype

    def close(self) -> None:
        self._zip.close()


def write_npz(handle: IO[bytes], arrays: dict[str, np.ndarray], compress: bool) -> None:
    writer = np.savez_compressed if compress else np.savez
    writer(handle, allow_pickle=False, **arrays)


# --------------------------------------------------------------- safetensors
def safetensors_dtype(where: str, dtype: np.dtype) -> str:
    """The safetensors code of a NumPy dtype (any byte order), or a FormatError."""
    check_real_dtype(where, dtype)
    code = _SAFETENSORS_CODES.get(dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype)
    if code is None:
        raise FormatError(f"{where} has dtype {dtype}, which safetensors cannot store")
    return code


def write_safetensors(handle: IO[bytes], arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write ``arrays`` (in order, back to back) and ``metadata`` (str to str) as one safetensors file."""
    header: dict = {}
    offset = 0
    for name, array in arrays.items():
        code = safetensors_dtype(f"array {name!r}", array.dtype)
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the reference writer aligns the data on 8 bytes
    handle.write(struct.pack("<Q", len(raw)))
    handle.write(raw)
    for name, array in arrays.items():
        little = SAFETENSORS_DTYPES[header[name]["dtype"]]
        handle.write(np.ascontiguousarray(array, dtype=little).tobytes())


def _no_duplicates(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise FormatError("the safetensors header repeats a name")
    return dict(pairs)


class SafetensorsReader:
    """The tensors of a safetensors file; every offset is checked against the file size first."""

    format = "safetensors"

    def __init__(self, path: str):
        try:
            self._handle = open(path, "rb")
        except OSError as exc:
            raise FormatError(f"cannot open the file ({exc})") from None
        try:
            self._parse()
        except BaseException:
            self.close()
            raise

    def _parse(self) -> None:
        size = os.fstat(self._handle.fileno()).st_size
        head = self._handle.read(8)
        if len(head) < 8:
            raise FormatError("the safetensors file is truncated (no header length)")
        (length,) = struct.unpack("<Q", head)
        if length > MAX_SAFETENSORS_HEADER or 8 + length > size:
            raise FormatError(f"the safetensors header declares {length:,} bytes; the file has {size:,}")
        try:
            header = json.loads(self._handle.read(length).decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise FormatError(f"the safetensors header is not valid UTF-8 JSON ({exc})") from None
        if not isinstance(header, dict):
            raise FormatError("the safetensors header is not a JSON object")
        metadata = header.pop("__metadata__", None)
        if metadata is not None and not (
            isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
        ):
            raise FormatError("the safetensors __metadata__ must map strings to strings")
        self.metadata: dict[str, str] = metadata or {}
        self._specs: dict[str, tuple[np.dtype, tuple, int, int]] = {}
        for name, spec in header.items():
            if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
                raise FormatError(f"tensor {name!r}: expected dtype, shape and data_offsets, received {spec!r:.200}")
            dtype = SAFETENSORS_DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
            if dtype is None:
                raise FormatError(
                    f"tensor {name!r} has dtype {spec['dtype']!r:.40}, which dltoys does not read "
                    f"(it reads {', '.join(SAFETENSORS_DTYPES)}; convert bfloat16/float8 weights to float32 first)"
                )
            shape, offsets = spec["shape"], spec["data_offsets"]
            if not (isinstance(shape, list) and all(_is_count(n) for n in shape)):
                raise FormatError(f"tensor {name!r} has an invalid shape {shape!r:.200}")
            if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(n) for n in offsets)):
                raise FormatError(f"tensor {name!r} has invalid data_offsets {offsets!r:.200}")
            begin, end = offsets
            if end - begin != _nbytes(shape, dtype):
                raise FormatError(
                    f"tensor {name!r}: shape {tuple(shape)} of {spec['dtype']} needs {_nbytes(shape, dtype):,} bytes, "
                    f"its data_offsets span {end - begin:,}"
                )
            self._specs[name] = (dtype, tuple(shape), begin, end)
        # The data must be exactly the tensors, back to back (what the reference reader requires).
        position = 0
        for name, (_, _, begin, end) in sorted(self._specs.items(), key=lambda item: item[1][2:]):
            if begin != position:
                raise FormatError(f"tensor {name!r} starts at byte {begin:,}, expected {position:,} (holes or overlaps)")
            position = end
        if 8 + length + position != size:
            raise FormatError(
                f"the tensors take {position:,} bytes but the file holds {size - 8 - length:,} after the header "
                "(truncated or corrupt)"
            )
        self._data_start = 8 + length

    def names(self) -> list[str]:
        return list(self._specs)

    def spec(self, name: str) -> tuple[np.dtype, tuple]:
        """The dtype and shape the header declares for ``name`` (nothing read)."""
        dtype, shape, _, _ = self._specs[name]
        return dtype.newbyteorder("="), shape

    def read(self, name: str, max_bytes: int, expect: tuple[np.dtype, tuple] | None = None) -> np.ndarray:
        dtype, shape, begin, end = self._specs[name]
        _check_expected(name, dtype, shape, expect)
        if end - begin > max_bytes:
            raise FormatError(f"tensor {name!r} holds {end - begin:,} bytes, more than the {max_bytes:,} it may hold")
        self._handle.seek(self._data_start + begin)
        raw = self._handle.read(end - begin)
        if len(raw) != end - begin:
            raise FormatError(f"tensor {name!r} is truncated")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=True)

    def close(self) -> None:
        self._handle.close()


def _check_expected(name: str, dtype: np.dtype, shape: tuple, expect: tuple[np.dtype, tuple] | None) -> None:
    if expect is not None and (dtype.str != expect[0].str or tuple(shape) != tuple(expect[1])):
        raise FormatError(
            f"{name!r} is {dtype.str}{tuple(shape)} in the archive but {expect[0].str}{tuple(expect[1])} in the "
            "metadata (the file is corrupt)"
        )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
