"""The CLI's type-checked overrides and the registry's run directories."""

from __future__ import annotations

import dataclasses
import types
from typing import Literal, Optional

import numpy as np
import pytest

from dltoys.toys.base import Report, Target, ToyConfig, option
from dltoys.toys.registry import ConfigError, get_toy, make_config, new_run_dir, parse_overrides


@dataclasses.dataclass(frozen=True)
class DemoConfig(ToyConfig):
    epochs: int = option(100, "passes over the data", min=1)
    lr: float = option(0.1, "learning rate", above=0)
    hidden_sizes: tuple[int, ...] = option((10,), "hidden layer widths", min=1)
    activation: Literal["tanh", "relu"] = option("tanh", "hidden activation")
    shuffle: bool = option(True, "shuffle each epoch")
    text: Optional[str] = option(None, "a text file")


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
    with pytest.raises(ConfigError, match=r"demo: epochs: expected an integer >= 1, received 0"):
        make_config(toy, {"epochs": 0})


def test_run_dirs_are_created_and_unique(tmp_path):
    first = new_run_dir(tmp_path / "runs", "xor")  # the root is made too
    second = new_run_dir(tmp_path / "runs", "xor")
    assert first.is_dir() and second.is_dir()
    assert first != second and second.name.startswith("xor-")


def test_option_rejects_mutable_defaults():
    with pytest.raises(TypeError, match="tuple"):
        option([1, 2], "sizes")


def test_option_rejects_an_inclusive_and_an_exclusive_bound_on_one_side():
    with pytest.raises(TypeError, match="min or above"):
        option(1.0, "x", min=0, above=0)
    with pytest.raises(TypeError, match="max or below"):
        option(1.0, "x", max=1, below=1)


@dataclasses.dataclass(frozen=True)
class RangeConfig(ToyConfig):
    n_samples: int = option(100, "points", min=10)
    batch_size: int = option(10, "rows per step", min=1)
    noise: float = option(0.5, "noise", min=0)
    lr: float = option(0.1, "learning rate", above=0)
    dropout: float = option(0.2, "dropout", min=0, below=1)
    target: float = option(0.9, "accuracy to reach", above=0.5, max=1)
    bits: tuple[int, ...] = option((2, 3), "bit counts", min=2, max=64)
    rates: tuple[float, ...] = option((0.1, 1.0), "rates", above=0)
    names: tuple[str, ...] = option(("a",), "names")
    limit: Optional[int] = option(None, "optional cap", min=1)
    bias: float = option(-3.0, "no bounds")

    def validate(self) -> None:
        if self.batch_size > self.n_samples:
            raise ValueError(f"batch_size: expected at most n_samples = {self.n_samples}, received {self.batch_size}")


def test_toy_config_accepts_its_defaults_and_values_on_inclusive_bounds():
    RangeConfig()
    RangeConfig(n_samples=10, noise=0, dropout=0.0, target=1.0, bits=(2, 64), limit=1, bias=-1e9)
    RangeConfig(n_samples=np.int64(10), lr=1e-12, noise=np.float32(0.5))  # NumPy scalars count as numbers


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"n_samples": 9}, r"n_samples: expected an integer >= 10, received 9"),
        ({"n_samples": np.int64(9)}, r"n_samples: expected an integer >= 10, received 9"),
        ({"noise": -0.1}, r"noise: expected a number in \[0, inf\), received -0.1"),
        ({"noise": -1}, r"noise: expected a number in \[0, inf\), received -1"),  # an int in a float field
        ({"noise": float("inf")}, r"noise: expected a number in \[0, inf\), received inf"),
        ({"noise": float("nan")}, r"noise: expected a number in \[0, inf\), received nan"),
        ({"lr": 0.0}, r"lr: expected a number in \(0, inf\), received 0"),
        ({"dropout": 1.0}, r"dropout: expected a number in \[0, 1\), received 1"),
        ({"target": 0.5}, r"target: expected a number in \(0.5, 1\], received 0.5"),
        ({"target": 1.01}, r"target: expected a number in \(0.5, 1\], received 1.01"),
        ({"bits": (2, 1)}, r"bits\[1\]: expected an integer in \[2, 64\], received 1"),
        ({"bits": (65,)}, r"bits\[0\]: expected an integer in \[2, 64\], received 65"),
        ({"rates": (0.1, 0.0, -1.0)}, r"rates\[1\]: expected a number in \(0, inf\), received 0"),
        ({"bits": ()}, r"bits: expected one or more values, received an empty list"),
        ({"names": ()}, r"names: expected one or more values, received an empty list"),
        ({"limit": 0}, r"limit: expected an integer >= 1, received 0"),
    ],
)
def test_toy_config_range_errors_name_the_field_the_range_and_the_value(overrides, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        RangeConfig(**overrides)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"n_samples": 20.5}, r"n_samples: expected an integer, received 20.5"),
        ({"n_samples": 20.0}, r"n_samples: expected an integer, received 20.0"),
        ({"n_samples": True}, r"n_samples: expected an integer, received True"),
        ({"lr": "fast"}, r"lr: expected a number, received 'fast'"),
        ({"lr": False}, r"lr: expected a number, received False"),
        ({"bits": (2, 3.5)}, r"bits\[1\]: expected an integer, received 3.5"),
        ({"rates": (0.1, "x")}, r"rates\[1\]: expected a number, received 'x'"),
    ],
)
def test_toy_config_type_errors_name_the_field_and_the_value(overrides, message):
    with pytest.raises(TypeError, match=f"^{message}$"):
        RangeConfig(**overrides)


def test_toy_config_calls_validate_after_the_range_checks():
    with pytest.raises(ValueError, match=r"^batch_size: expected at most n_samples = 10, received 11$"):
        RangeConfig(n_samples=10, batch_size=11)
    # A range error comes first: validate() may rely on every field being in range.
    with pytest.raises(ValueError, match=r"^n_samples: expected an integer >= 10, received 5$"):
        RangeConfig(n_samples=5, batch_size=11)


def test_make_config_turns_toy_config_errors_into_config_errors():
    toy = types.SimpleNamespace(NAME="ranges", Config=RangeConfig, QUICK={})
    with pytest.raises(ConfigError, match=r"^ranges: batch_size: expected at most n_samples = 100, received 101$"):
        make_config(toy, {"batch_size": 101})
    with pytest.raises(ConfigError, match=r"^ranges: n_samples: expected an integer, received 2.5$"):
        make_config(toy, {"n_samples": 2.5})


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


def test_toy_help_shows_types_ranges_defaults_and_quick_values(capsys):
    from dltoys.cli import main

    assert main(["run", "xor", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--momentum  a number in [0, 1); default 0.9" in out
    # a line too long for 100 columns continues below, indented
    assert "--parity-bits  a comma-separated list of integers, each in [2, 64];\n      default 2,3," in out
    assert "; quick: 2,3,4,5,6,7,8,12\n" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_int_fields_with_an_upper_bound_say_integer():
    from dltoys.utils import check_int

    with pytest.raises(ValueError, match=r"parity_bits\[1\]: expected an integer in \[2, 64\], received 70"):
        make_config(get_toy("xor"), {"parity_bits": (2, 70)})
    with pytest.raises(ValueError, match=r"k: expected an integer <= 3, received 4"):
        check_int("k", 4, maximum=3)


def test_toy_config_checks_literal_values_and_tuples_of_them():
    @dataclasses.dataclass(frozen=True)
    class Choices(ToyConfig):
        activation: Literal["tanh", "relu"] = option("tanh", "one")
        cells: tuple[Literal["rnn", "lstm"], ...] = option(("rnn",), "several")

    assert Choices(activation="relu", cells=("lstm", "rnn")).cells == ("lstm", "rnn")
    with pytest.raises(ValueError, match=r"activation: expected one of 'tanh', 'relu', received 'gelu'"):
        Choices(activation="gelu")
    with pytest.raises(ValueError, match=r"cells\[1\]: expected one of 'rnn', 'lstm', received 'gru'"):
        Choices(cells=("rnn", "gru"))
