"""Text files and Python's own source as corpora; the contiguous train/validation split."""

import os
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from dltoys.data import python_source_text, read_text_file, split_text


def test_reads_utf8_and_normalises_newlines(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("\ufeffÉté\r\nnaïve 🙂\rend\n".encode("utf-8"))
    assert read_text_file(path) == "Été\nnaïve 🙂\nend\n"
    assert read_text_file(str(path)) == "Été\nnaïve 🙂\nend\n"


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.txt"
    with pytest.raises(FileNotFoundError, match=f"path: no such text file: '{path}'"):
        read_text_file(path)


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="path: expected a text file, received a directory"):
        read_text_file(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=f"path: '{path}' is empty"):
        read_text_file(path)
    path.write_bytes(b"\xef\xbb\xbf")  # a byte-order mark and nothing else
    with pytest.raises(ValueError, match="holds no text, only a byte-order mark"):
        read_text_file(path)


def test_binary_file_names_the_nul_offset(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ValueError, match=f"path: '{path}' looks binary: it contains a NUL byte at byte offset 8"):
        read_text_file(path)


@pytest.mark.parametrize(
    "raw, offset, byte",
    [
        ("café".encode("latin-1"), 3, "0xe9"),  # Latin-1, not UTF-8
        (b"ok \xff\xfe", 3, "0xff"),
        ("abc€".encode("utf-8")[:-1], 3, "0xe2"),  # a multi-byte character cut short
    ],
)
def test_non_utf8_file_names_the_byte_offset(tmp_path, raw, offset, byte):
    path = tmp_path / "legacy.txt"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=f"is not valid UTF-8: .* at byte offset {offset} \\(byte {byte}\\)"):
        read_text_file(path)


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike, received int"):
        read_text_file(3)


def _tree(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def test_source_text_reads_py_files_in_path_order_and_skips_the_rest(tmp_path):
    _tree(tmp_path, {
        "zeta.py": b"z = 1\n",
        "alpha.py": b"a = 1\r\n",
        "pkg/mod.py": b"m = '\xc3\xa9'\n",
        "pkg/latin.py": b"l = '\xe9'\n",  # not UTF-8: skipped
        "pkg/blob.py": b"b = 1\x00\n",  # NUL byte: skipped
        "notes.txt": b"not python\n",
        "site-packages/third.py": b"third party\n",
        "pkg/__pycache__/cached.py": b"cached\n",
    })
    assert python_source_text(None, root=tmp_path) == "a = 1\nm = 'é'\nz = 1\n"
    assert python_source_text(9, root=tmp_path) == "a = 1\nm ="


def test_source_text_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="root: expected a directory of .py files"):
        python_source_text(root=tmp_path / "missing")
    _tree(tmp_path, {"bad.py": b"\xff\n"})
    with pytest.raises(ValueError, match="root: no readable UTF-8 .py file under"):
        python_source_text(root=tmp_path)
    with pytest.raises(ValueError, match="max_chars: expected an integer >= 1, received 0"):
        python_source_text(0)


def test_standard_library_text_is_deterministic_and_within_budget():
    text = python_source_text(200_000)
    assert len(text) == 200_000 and text == python_source_text(200_000)
    assert "\r" not in text and "\x00" not in text
    assert text.count("def ") > 100
    # It starts with the first standard-library module in path order.
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    first = min(name for name in os.listdir(stdlib) if name.endswith(".py"))
    assert text.startswith(read_text_file(stdlib / first)[:1000])


def test_split_text_is_contiguous():
    text = "abcdefghij" * 10
    train, val = split_text(text, 0.25)
    assert train + val == text and len(val) == 25
    ids = np.arange(1000)
    train_ids, val_ids = split_text(ids, 0.1)
    np.testing.assert_array_equal(np.concatenate([train_ids, val_ids]), ids)
    assert train_ids.max() < val_ids.min()  # no position is in both parts
    assert split_text(text, 0.0) == (text, "")


def test_split_text_errors():
    with pytest.raises(ValueError, match=r"val_fraction: expected a number in \[0, 1\), received 1"):
        split_text("abc", 1.0)
    with pytest.raises(ValueError, match="data: expected a non-empty text"):
        split_text("", 0.1)
    with pytest.raises(ValueError, match=r"data: expected a str or a 1-D array, received shape \(2, 2\)"):
        split_text(np.zeros((2, 2)), 0.1)
