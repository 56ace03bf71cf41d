"""The Planetoid reader: Cora equal to the reference arrays, and any other pickle refused unread."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from dltoys.data import load_cora

SHARED_DATA = Path(os.environ.get("DLTOYS_SHARED_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
needs_cora = pytest.mark.skipif(
    not (SHARED_DATA / "planetoid" / "ind.cora.x").exists() or not (SHARED_DATA / "cora.npz").exists(),
    reason=f"the Planetoid files and cora.npz are not in {SHARED_DATA}",
)
PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


@needs_cora
def test_cora_equals_the_reference_arrays_without_scipy(monkeypatch):
    for name in ("scipy", "scipy.sparse", "scipy.sparse.csr"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of scipy would now fail
    graph = load_cora(SHARED_DATA)  # finds the planetoid/ folder inside
    with np.load(SHARED_DATA / "cora.npz", allow_pickle=False) as reference:
        assert graph.n_nodes == int(reference["n_nodes"])
        assert graph.x.shape == (int(reference["n_nodes"]), int(reference["n_features"]))
        assert graph.x.dtype == np.float32
        rows, cols = np.nonzero(graph.x)
        expected = np.zeros_like(graph.x)
        expected[reference["feature_rows"], reference["feature_cols"]] = 1
        np.testing.assert_array_equal(graph.x, expected)
        np.testing.assert_array_equal(graph.y, reference["labels"])
        edges = reference["edges"].astype(np.int64)
        both = np.concatenate([edges, edges[:, ::-1]])
        assert sorted(map(tuple, graph.edge_index.T.tolist())) == sorted(map(tuple, both.tolist()))
        for name in ("idx_train", "idx_val", "idx_test"):
            np.testing.assert_array_equal(graph.extra[name], reference[name])
            mask = graph.extra[name.replace("idx_", "") + "_mask"]
            assert mask.sum() == len(reference[name]) and mask[reference[name]].all()


class RunsAShellCommand:
    def __init__(self, flag: Path):
        self.flag = flag

    def __reduce__(self):
        return os.system, (f"touch {self.flag}",)


def _planetoid_folder(tmp_path: Path, x_bytes: bytes) -> Path:
    for part in PARTS:
        (tmp_path / f"ind.cora.{part}").write_bytes(b"")
    (tmp_path / "ind.cora.x").write_bytes(x_bytes)
    return tmp_path


def test_a_pickle_naming_another_global_is_refused_without_running_it(tmp_path):
    flag = tmp_path / "ran"
    root = _planetoid_folder(tmp_path, pickle.dumps(RunsAShellCommand(flag), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load: the pickle names the global (posix|os)\.system"):
        load_cora(root)
    assert not flag.exists()


def test_a_pickle_with_a_python_object_inside_is_refused(tmp_path):
    root = _planetoid_folder(tmp_path, pickle.dumps({"data": Path("x")}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="pathlib"):
        load_cora(root)


def test_missing_files_say_where_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lacks ind\.cora\.x.*tkipf/gcn"):
        load_cora(tmp_path)
