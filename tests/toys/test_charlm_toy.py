"""The charlm toy: quick mode on the standard library, a user's --text file, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import cli
from dltoys.toys.registry import ConfigError, get_toy, make_config, run_toy


@pytest.mark.slow
def test_quick_mode_reaches_its_targets(tmp_path):
    report = run_toy("charlm", make_config(get_toy("charlm"), quick=True), run_dir=tmp_path, progress=False)
    assert report.passed, report.to_markdown()
    assert (tmp_path / "charlm.png").is_file() and (tmp_path / "samples.txt").is_file()
    assert set(report.metrics["samples"]) == {"0.5", "0.8", "1.0"}


def write_words(path, n_lines=800, seed=0):
    """A small text with real structure: lines of ten words from a short list."""
    words = "the quick brown fox jumps over a lazy dog and then sleeps in the warm sun".split()
    rng = np.random.default_rng(seed)
    lines = [" ".join(rng.choice(words, size=10)) for _ in range(n_lines)]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


SMALL = {"hidden_size": 32, "epochs": 2, "n_streams": 16, "seq_len": 32, "sample_chars": 60}


def test_a_user_text_is_learned(tmp_path):
    """Two epochs on 40,000 characters: far below the unigram baseline (about 1.1 against 4.3 bits)."""
    text = write_words(tmp_path / "words.txt")
    report = run_toy("charlm", make_config(get_toy("charlm"), {"text": str(text), **SMALL}), run_dir=tmp_path, progress=False)
    assert report.passed, report.to_markdown()
    assert report.metrics["vocab_size"] == len(set(text.read_text()))
    samples = (tmp_path / "samples.txt").read_text(encoding="utf-8")
    assert samples.count("=== temperature") == 3
    for sample in report.metrics["samples"].values():
        assert len(sample) == SMALL["sample_chars"] and sample in samples


def test_samples_are_reproducible_from_the_sample_seed(tmp_path):
    text = write_words(tmp_path / "words.txt", n_lines=100)
    tiny = {"text": str(text), "hidden_size": 8, "epochs": 1, "n_streams": 4, "seq_len": 16, "sample_chars": 40}

    def samples(run: str, **overrides) -> dict:
        config = make_config(get_toy("charlm"), {**tiny, **overrides})
        return run_toy("charlm", config, run_dir=tmp_path / run, progress=False).metrics["samples"]

    first = samples("a")
    assert samples("b") == first
    other = samples("c", sample_seed=1)
    assert other["0.5"] != first["0.5"] and other["1.0"] != first["1.0"]


def bad_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"ab\x00cd")
    (tmp_path / "latin1.txt").write_bytes("café au lait".encode("latin-1"))
    (tmp_path / "folder").mkdir()
    (tmp_path / "short.txt").write_text("hello world", encoding="utf-8")
    return {
        "missing.txt": "no such text file",
        "empty.txt": "is empty",
        "binary.txt": "looks binary: it contains a NUL byte at byte offset 2",
        "latin1.txt": r"is not valid UTF-8: invalid continuation byte at byte offset 3 \(byte 0xe9\)",
        "folder": "expected a text file, received a directory",
        "short.txt": r"gives 11 characters .* training needs at least n_streams \* seq_len \+ 1 = 2049",
    }


def test_unusable_text_files_are_config_errors_naming_the_path(tmp_path):
    for name, message in bad_files(tmp_path).items():
        path = str(tmp_path / name)
        with pytest.raises(ConfigError, match=f"charlm: text: .*{message}") as caught:
            make_config(get_toy("charlm"), {"text": path})
        assert path in str(caught.value)


def test_the_cli_reports_a_bad_text_file_in_one_line(tmp_path, capsys):
    bad_files(tmp_path)
    for name in ("missing.txt", "binary.txt", "latin1.txt"):
        path = str(tmp_path / name)
        assert cli.main(["run", "charlm", "--text", path, "--out", str(tmp_path / "runs")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("dltoys: error: charlm: --text: ") and path in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing ran


def test_a_prompt_with_characters_outside_the_text_is_a_config_error(tmp_path):
    text = write_words(tmp_path / "words.txt", n_lines=200)
    config = make_config(get_toy("charlm"), {"text": str(text), **SMALL, "epochs": 1, "prompt": "QUIZ"})
    with pytest.raises(ConfigError, match=r"charlm: prompt: the characters \['I', 'Q', 'U', 'Z'\] never occur"):
        run_toy("charlm", config, run_dir=tmp_path / "run", progress=False)
