"""The CLI's type-checked overrides and the registry's run directories."""

from __future__ import annotations

import dataclasses
import types
from typing import Literal, Optional

import pytest

from dltoys.toys.base import Report, Target, option
from dltoys.toys.registry import ConfigError, make_config, new_run_dir, parse_overrides


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    epochs: int = option(100, "passes over the data")
    lr: float = option(0.1, "learning rate")
    hidden_sizes: tuple[int, ...] = option((10,), "hidden layer widths")
    activation: Literal["tanh", "relu"] = option("tanh", "hidden activation")
    shuffle: bool = option(True, "shuffle each epoch")
    text: Optional[str] = option(None, "a text file")

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, received {self.epochs}")


def test_overrides_are_converted_to_the_field_types():
    values = parse_overrides(
        DemoConfig,
        ["--epochs", "7", "--lr=0.5", "--hidden-sizes", "4,8", "--activation", "relu", "--shuffle", "false", "--text", "a.txt"],
    )
    assert values == {"epochs": 7, "lr": 0.5, "hidden_sizes": (4, 8), "activation": "relu", "shuffle": False, "text": "a.txt"}
    assert parse_overrides(DemoConfig, ["--text", "none"]) == {"text": None}
    assert parse_overrides(DemoConfig, ["--hidden_sizes", "3"]) == {"hidden_sizes": (3,)}


def test_unknown_keys_are_rejected_with_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown option --epoch .*valid options: --epochs, --lr, --hidden-sizes"):
        parse_overrides(DemoConfig, ["--epoch", "3"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "ten"], r"--epochs expects an integer, received 'ten'"),
        (["--lr", "fast"], r"--lr expects a number, received 'fast'"),
        (["--shuffle", "maybe"], r"--shuffle expects true or false"),
        (["--activation", "gelu"], r"--activation expects one of 'tanh', 'relu', received 'gelu'"),
        (["--hidden-sizes", "4,x"], r"--hidden-sizes expects a comma-separated list of integers, received '4,x'"),
        (["--epochs"], r"--epochs needs a value"),
        (["epochs", "3"], r"expected an option like --key value"),
    ],
)
def test_bad_values_name_the_option_and_what_is_allowed(args, message):
    with pytest.raises(ConfigError, match=message):
        parse_overrides(DemoConfig, args)


def test_make_config_applies_quick_then_overrides_and_runs_validation():
    toy = types.SimpleNamespace(NAME="demo", Config=DemoConfig, QUICK={"epochs": 5, "lr": 0.2})
    assert make_config(toy).epochs == 100
    quick = make_config(toy, quick=True)
    assert (quick.epochs, quick.lr) == (5, 0.2)
    assert make_config(toy, {"epochs": 9}, quick=True).epochs == 9
    with pytest.raises(ConfigError, match=r"demo: epochs must be >= 1, received 0"):
        make_config(toy, {"epochs": 0})


def test_run_dirs_are_unique(tmp_path):
    first = new_run_dir(tmp_path, "xor")
    first.mkdir()
    second = new_run_dir(tmp_path, "xor")
    assert first != second and second.name.startswith("xor-")


def test_option_rejects_mutable_defaults():
    with pytest.raises(TypeError, match="tuple"):
        option([1, 2], "sizes")


def test_targets_pass_and_fail_in_both_directions():
    assert Target("acc", 0.99, 0.97).passed
    assert not Target("acc", 0.96, 0.97).passed
    assert Target("mse", 0.005, 0.01, at_least=False).passed
    assert not Target("mse", float("nan"), 0.01, at_least=False).passed
    report = Report("t", "T", "shows", targets=[Target("a", 1.0, 0.5), Target("b", 0.1, 0.5)])
    assert not report.passed and report.to_dict()["passed"] is False


def test_markdown_tables_escape_pipes_inside_cells():
    from dltoys.toys.base import Table

    report = Report("t", "T", "shows", targets=[Target("|accuracy - 50%|", 0.01, 0.03, at_least=False)],
                    tables=[Table("x", ["|a|", "b"], [["|1|", 2.0]])])
    for line in report.to_markdown().splitlines():
        if line.startswith("| "):
            # every unescaped pipe is a column border: 5 for the targets table, 3 for the 2-column table
            borders = line.replace("\\|", "").count("|")
            assert borders in (3, 5), line
