"""The progress bar: one live bar per fit, named after the phase and the model, never squeezed."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

pytest.importorskip("tqdm")

from dltoys import nn, optim, train  # noqa: E402
from dltoys.train.progress import BAR_WIDTH, ProgressBar, phase, postfix_text  # noqa: E402


def frames(text: str) -> list[str]:
    """Each redraw of the line, without terminal escapes."""
    clean = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    return [frame for frame in re.split(r"[\r\n]", clean) if frame.strip()]


def assert_removed(text: str) -> None:
    """A closed bar leaves no line behind: no newline, and the last redraw blanks the line."""
    assert "\n" not in text and text.endswith("\r") and not text.rsplit("\r", 2)[-2].strip()


def test_a_long_name_and_many_logs_do_not_squeeze_the_bar_at_120_columns():
    out = io.StringIO()
    logs = {"loss": 0.123456, "accuracy": 0.91, "val_loss": 0.2345, "val_accuracy": 0.89, "lr": 0.001,
            "d_loss": 1.234, "g_loss": 2.345, "time": 0.5}
    with phase("parity with a rather long phase label, n = 50"):
        bar = ProgressBar(300, 200, name="SequenceModelWithALongName", file=out, ncols=120)
    for epoch in (1, 2):
        bar.epoch_begin(epoch)
        for _ in range(200):
            bar.advance()
        bar.epoch_end(logs)
    drawn = frames(out.getvalue())
    assert drawn and max(len(frame) for frame in drawn) <= 120
    last = drawn[-1]
    assert re.search(r"\|.{%d}\|" % BAR_WIDTH, last), last  # the bar keeps its full width
    assert "epoch 2/300" in last and "loss=0.123" in last and "val_acc=0.89" in last
    bar.close()
    assert_removed(out.getvalue())


def test_postfix_is_short_and_leads_with_the_loss():
    assert postfix_text({"loss": 0.031234, "val_accuracy": 0.98512, "val_loss": 0.04}) == "loss=0.0312 val_acc=0.985"
    assert postfix_text({"time": 1.0}) == ""


def test_fit_names_its_bar_after_the_phase_and_the_model_and_removes_it(capsys):
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    x = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    for _ in range(2):  # two fits in one run: two bars, each gone when its fit ends
        with phase("xor"):
            train.fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1), x, y, epochs=2,
                      batch_size=32, progress=True)
    err = capsys.readouterr().err
    assert "xor · Sequential · epoch 2/2" in err and err.count("xor · Sequential · epoch 1/2") >= 2
    assert_removed(err)


def test_phases_nest_and_restore():
    out = io.StringIO()
    with phase("xor"):
        with phase("n=12"):
            inner = ProgressBar(3, 1, name="MLP", file=out, ncols=120)
        outer = ProgressBar(3, 1, name="MLP", file=out, ncols=120)
    assert inner.label == "xor / n=12 · MLP" and outer.label == "xor · MLP"
    inner.close()
    outer.close()
