"""The command line a new user meets: help, version, summaries, reports, failures and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from dltoys.cli import WIDTH, completion_script, main
from dltoys.toys import registry
from dltoys.toys.base import Report, Target
from dltoys.toys.report import summary_text

SRC = Path(__file__).resolve().parents[1] / "src"

# A stand-in toy that trains nothing: what it does is chosen by its config (a test runs in milliseconds).
FAKE_TOY = textwrap.dedent('''
    from dataclasses import dataclass
    import time
    from dltoys import plot
    from dltoys.toys.base import Report, Target, ToyConfig, option

    NAME = "fake"
    TITLE = "A stand-in toy"
    SHOWS = "What the CLI does with a run that passes, misses, fails or is interrupted."

    @dataclass(frozen=True)
    class Config(ToyConfig):
        outcome: str = option("pass", "pass, miss, fail, interrupt or sleep")
        hidden_size: int = option(4, "a width", min=1)
        sizes: tuple[int, ...] = option((2, 3), "a list", min=1)

    QUICK = {}

    def run(config, ctx):
        fig, ax = plot.figure(1, 1, title="first figure")
        ax.plot([0, 1], [0, 1])
        ctx.save_figure(fig, "first")
        if config.outcome == "fail":
            raise FloatingPointError("the loss became nan at epoch 3")
        if config.outcome == "interrupt":
            raise KeyboardInterrupt
        if config.outcome == "sleep":
            print("ready", flush=True)
            time.sleep(60)
        value = 1.0 if config.outcome == "pass" else 0.5
        from threadpoolctl import threadpool_info

        threads = sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})
        return Report(NAME, TITLE, SHOWS, targets=[Target("accuracy", value, 0.9, percent=True)],
                      plots=["first.png"], notes=[f"accuracy {value:.0%}"], metrics={"blas_threads": threads})
''')


@pytest.fixture
def fake_toy(tmp_path, monkeypatch):
    """Register the stand-in toy as ``fake`` (importable from tmp_path) for this test."""
    (tmp_path / "dltoys_fake_toy.py").write_text(FAKE_TOY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.TOY_MODULES, "fake", "dltoys_fake_toy")
    return tmp_path


def _run(fake_toy: Path, capsys, *args: str) -> tuple[int, str, str, Path | None]:
    out_root = fake_toy / "runs"
    code = main(["run", "fake", "--no-progress", "--out", str(out_root), *args])
    captured = capsys.readouterr()
    folders = sorted(out_root.glob("fake-*")) if out_root.exists() else []
    return code, captured.out, captured.err, folders[-1] if folders else None


def test_version_and_run_help_without_a_toy(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip().startswith("dltoys 0.")
    for flag in ("-h", "--help"):
        assert main(["run", flag]) == 0
        out = capsys.readouterr().out
        assert "usage: dltoys run TOY" in out and "  xor" in out and "130  interrupted" in out
    assert main(["run"]) == 2
    assert "name a toy" in capsys.readouterr().err


def test_a_passing_run_prints_a_short_summary_and_writes_report_html(fake_toy, capsys):
    code, out, _, folder = _run(fake_toy, capsys, "--quick")
    assert code == 0
    assert "fake: PASS in" in out and "report.html" in out
    assert "![" not in out and "accuracy 100%" not in out  # a summary, not the Markdown report with its notes
    assert max(len(line) for line in out.splitlines() if not line.startswith("report:")) <= WIDTH  # but the path
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "<a href='#fake'>fake</a>" in html and "<section id='fake'>" in html
    assert "<td class='n'>≥ 90.0%</td>" in html  # figures and times never break over two lines
    assert "td.n{white-space:nowrap}" in html and "section td{white-space:pre-wrap}" in html  # samples keep spaces
    assert "this.classList.toggle('full')" in html and ".fig img.full{max-width:none" in html  # click to enlarge
    assert json.loads((folder / "metrics.json").read_text())["status"] == "PASS"


def test_a_missed_target_exits_1_and_says_missed(fake_toy, capsys):
    code, out, _, folder = _run(fake_toy, capsys, "--outcome", "miss")
    assert code == 1 and "fake: MISSED" in out and "missed" in out
    assert "— MISSED" in (folder / "report.md").read_text(encoding="utf-8")


def test_a_failing_run_writes_a_failed_report_with_what_it_reached(fake_toy, capsys):
    code, out, err, folder = _run(fake_toy, capsys, "--outcome", "fail")
    assert code == 3, (out, err)
    assert "Traceback" not in out + err
    assert "FAILED" in out and "the loss became nan at epoch 3" in out
    report_md = (folder / "report.md").read_text(encoding="utf-8")
    assert "— FAILED" in report_md and "first.png" in report_md  # the figure saved before the failure
    assert "FloatingPointError" in (folder / "error.txt").read_text(encoding="utf-8")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["status"] == "FAILED" and metrics["passed"] is False
    assert "FAILED" in (folder / "report.html").read_text(encoding="utf-8")
    # A library caller (a test) gets the error itself, after the same report was written.
    with pytest.raises(FloatingPointError, match="nan at epoch 3"):
        registry.run_toy("fake", registry.make_config(registry.get_toy("fake"), {"outcome": "fail"}),
                         run_dir=fake_toy / "lib", progress=False)
    assert "— FAILED" in (fake_toy / "lib" / "report.md").read_text(encoding="utf-8")


def test_an_interrupted_run_writes_an_interrupted_report_and_exits_130(fake_toy, capsys):
    code, out, _, folder = _run(fake_toy, capsys, "--outcome", "interrupt")
    assert code == 130 and "INTERRUPTED" in out
    assert "— INTERRUPTED" in (folder / "report.md").read_text(encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):  # a library caller (a test session) still stops
        registry.run_toy("fake", registry.make_config(registry.get_toy("fake"), {"outcome": "interrupt"}),
                         run_dir=fake_toy / "lib", progress=False)
    assert "INTERRUPTED" in (fake_toy / "lib" / "report.md").read_text(encoding="utf-8")


def test_ctrl_c_in_a_real_process_ends_without_a_traceback(fake_toy):
    script = ("import sys; from dltoys.toys import registry; registry.TOY_MODULES['fake'] = 'dltoys_fake_toy'; "
              "from dltoys.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(fake_toy)]), "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", script, "run", "fake", "--outcome", "sleep", "--out", str(fake_toy / "runs")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "INTERRUPTED" in out
    (folder,) = (fake_toy / "runs").glob("fake-*")
    assert "— INTERRUPTED" in (folder / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("make_bad", ["file", "forbidden"])
def test_out_pointing_at_a_file_or_a_forbidden_path_is_a_usage_error(fake_toy, capsys, make_bad):
    if make_bad == "file":
        bad = fake_toy / "a-file"
        bad.write_text("x")
        reason = "it is a file, not a folder"
    else:  # nobody, not even root, may make a folder in /proc
        bad, reason = Path("/proc/dltoys-runs"), ""
    code = main(["run", "fake", "--out", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and f"--out: cannot create a run folder in '{bad}': {reason}" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hidden-size", "0"], r"--hidden-size: expected an integer >= 1, received 0"),
        (["--sizes", "2,0"], r"--sizes\[1\]: expected an integer >= 1, received 0"),
        (["--sizes", "2,,3"], r"--sizes expects a comma-separated list of integers without empty items"),
        (["--sizes", "2,3,"], r"--sizes expects a comma-separated list of integers without empty items"),
        (["--hidden-size", "3", "--hidden-size=4"], r"--hidden-size given more than once"),
    ],
)
def test_option_errors_name_the_flag(fake_toy, capsys, args, message):
    import re

    code, _, err, _ = _run(fake_toy, capsys, *args)
    assert code == 2 and re.search(message, err), err


def test_a_repeated_cli_option_is_refused(capsys):
    for argv in (["run", "xor", "--out", "a", "--out", "b"], ["tour", "--only", "xor", "--only", "digits"],
                 ["run", "xor", "--threads", "1", "--threads=2"], ["run", "xor", "--progress", "--no-progress"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
        assert "more than once" in capsys.readouterr().err


@pytest.mark.parametrize(
    "only, message",
    [("gradients,gradients", "--only names gradients more than once"),
     ("gradients,,xor", "--only expects comma-separated toy names without empty items"),
     ("gradients,nope", "unknown toy 'nope'")],
)
def test_tour_only_is_strict(tmp_path, capsys, only, message):
    assert main(["tour", "--only", only, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before a tour folder was made


def test_run_folders_are_claimed_atomically(tmp_path):
    count = 12
    barrier = threading.Barrier(count)
    folders: list[Path] = []

    def claim() -> None:
        barrier.wait()
        folders.append(registry.new_run_dir(tmp_path, "xor"))

    threads = [threading.Thread(target=claim) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(folders)) == count and all(folder.is_dir() for folder in folders)


def test_list_and_the_tour_summary_fit_100_columns(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > len(registry.toy_names()) and max(map(len, lines)) <= WIDTH
    long_name = "a figure whose name is much longer than the rest of the table leaves room for, twice over"
    reports = [Report("toy", "T", "s", targets=[Target(long_name, 1.0, 0.99, percent=True)], seconds=12.3),
               Report("other", "T", "s", status="FAILED", error="ValueError: " + "x " * 80, seconds=1.0)]
    text = summary_text(reports)
    assert max(map(len, text.splitlines())) <= WIDTH
    assert "≥ 99.0%" in text and "12.3 s" in text and "FAILED" in text and "did not finish: other FAILED" in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_toys_options_and_only_lists(tmp_path):
    script = tmp_path / "dltoys.bash"
    script.write_text(completion_script(), encoding="utf-8")

    def complete_word(*words: str) -> list[str]:  # the last word is the partial one being completed
        quoted = " ".join(f"'{w}'" for w in words)
        command = (f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
                   "_dltoys; printf '%s\\n' \"${COMPREPLY[@]}\"")
        return subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout.split()

    assert complete_word("dltoys", "r") == ["run"]
    assert complete_word("dltoys", "run", "di") == ["digits"]
    assert "--hidden-size" in complete_word("dltoys", "run", "xor", "--hid")
    assert "--parity-bits" in complete_word("dltoys", "run", "xor", "--par")
    assert complete_word("dltoys", "tour", "--only", "xor,dig") == ["xor,digits"]
    assert complete_word("dltoys", "tour", "--fu") == ["--full"]


def test_toys_run_on_one_blas_thread_unless_told(fake_toy, capsys):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    library = sorted({p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"})
    for args, expected in (((), [1]), (("--threads", "2"), [2]), (("--threads", "auto"), library)):
        code, _, _, folder = _run(fake_toy, capsys, *args)
        assert code == 0
        assert json.loads((folder / "metrics.json").read_text())["metrics"]["blas_threads"] == expected, args


@pytest.mark.parametrize("outcome, code, words", [("fail", 3, ["FAILED", "did not finish: fake FAILED, fake2 FAILED"]),
                                                   ("interrupt", 130, ["INTERRUPTED", "not run: fake2"])])
def test_a_tour_reports_failed_and_interrupted_toys(fake_toy, capsys, monkeypatch, outcome, code, words):
    monkeypatch.setitem(registry.TOY_MODULES, "fake2", "dltoys_fake_toy")
    monkeypatch.setitem(registry.get_toy("fake").QUICK, "outcome", outcome)
    assert main(["tour", "--only", "fake,fake2", "--no-progress", "--out", str(fake_toy / "tours")]) == code
    out = capsys.readouterr().out
    assert all(word in out for word in words), out
    (tour,) = (fake_toy / "tours").glob("tour-*")
    assert outcome.upper()[:4] in (tour / "report.md").read_text(encoding="utf-8").upper()
    assert (tour / "report.html").exists() and (tour / "fake" / "first.png").exists()


def test_html_table_cells_keep_indentation_and_break_at_marked_newlines(tmp_path):
    from dltoys.toys.base import Table
    from dltoys.toys.report import write_html

    report = Report("charlm", "T", "s", tables=[Table("Samples", ["continuation"], [["def f():⏎    return 1"]])],
                    run_dir=str(tmp_path))
    html = write_html([report], tmp_path, "t").read_text(encoding="utf-8")
    assert "<td>def f():⏎\n    return 1</td>" in html


def test_a_skipped_toy_neither_passes_a_target_nor_fails_the_tour():
    skipped = Report("cora", "T", "s", skipped="no Cora data", seconds=0.1)
    missed = Report("xor", "T", "s", targets=[Target("accuracy", 0.5, 1.0)])
    assert skipped.status == "skipped" and skipped.verdict == "SKIPPED" and skipped.passed
    assert registry.exit_code([skipped]) == 0 and registry.exit_code([skipped, missed]) == 1
    text = summary_text([skipped, missed])
    assert "did not finish" not in text and "0/1 toys reached their targets" in text and "1 skipped" in text
