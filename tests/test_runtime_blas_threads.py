"""The explicit BLAS thread limit (dltoys run --threads N)."""

from __future__ import annotations

import pytest

from dltoys.runtime import blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


def test_limits_inside_the_block_and_restores_after():
    before = _blas_threads()
    assert before, "NumPy's BLAS is not visible to threadpoolctl"
    with blas_threads(1):
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before


def test_none_leaves_the_setting_alone():
    before = _blas_threads()
    with blas_threads(None):
        assert _blas_threads() == before


def test_bad_counts_name_the_option():
    with pytest.raises(ValueError, match=r"threads: expected an integer >= 1, received 0"):
        with blas_threads(0):
            pass


def test_cli_rejects_a_bad_thread_count(capsys):
    from dltoys.cli import main

    with pytest.raises(SystemExit):
        main(["run", "xor", "--threads", "0"])
    assert "--threads: expected an integer >= 1 or 'auto', received '0'" in capsys.readouterr().err
