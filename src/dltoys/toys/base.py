"""What every toy is made of: a config, a run function and a report of its figures.

A toy module (one file in ``dltoys/toys/``) defines:

- ``NAME`` and ``TITLE``: the CLI name and a one-line title;
- ``SHOWS``: one or two sentences on what the toy demonstrates;
- ``Config``: a frozen dataclass subclassing :class:`ToyConfig`, whose fields are
  declared with :func:`option` (default, help text and the allowed range); the CLI
  type-checks overrides against it and :class:`ToyConfig` checks every range, so a
  toy's own ``validate()`` holds only what relates several fields;
- ``QUICK``: overrides for the quick mode the tour runs (a dict);
- ``run(config, ctx) -> Report``: trains, plots into ``ctx.run_dir`` and returns
  the figures it reached against the targets it states.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..utils import check_choice, check_float, check_int


def option(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> Any:
    """A config field: its default, a help line (``dltoys run TOY --help``) and its range.

    ``min``/``max`` are inclusive bounds, ``above``/``below`` exclusive ones; for a
    tuple field they apply to every entry (and the tuple must not be empty).
    :class:`ToyConfig` checks them when the config is built, with errors that name
    the option, the value and the allowed range.
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError("option: use a tuple for a sequence default (configs are frozen)")
    if min is not None and above is not None or max is not None and below is not None:
        raise TypeError("option: give min or above, max or below, not both")
    bounds = {"min": min, "max": max, "above": above, "below": below}
    return field(default=default, metadata={"help": help, "bounds": bounds})


def _check_value(name: str, value: Any, bounds: dict[str, Any], integral: bool) -> None:
    """``integral``: the field is declared int, so a lower bound alone reads "an integer >= low"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return
    low = bounds["min"] if bounds["min"] is not None else bounds["above"]
    high = bounds["max"] if bounds["max"] is not None else bounds["below"]
    if integral and bounds["above"] is None and bounds["below"] is None:
        if low is not None or high is not None:
            check_int(name, value, minimum=low, maximum=high)
    elif low is not None or high is not None:
        check_float(name, value, low=low, high=high,
                    low_inclusive=bounds["above"] is None, high_inclusive=bounds["below"] is None)


def describe_bounds(bounds: dict[str, Any] | None) -> str:
    """The allowed range in words, for ``--help``: ``>= 1``, ``> 0``, ``in [0, 1)``, or ``''``."""
    if not bounds:
        return ""
    low, high = bounds["min"] if bounds["min"] is not None else bounds["above"], bounds["max"] if bounds["max"] is not None else bounds["below"]
    if low is None and high is None:
        return ""
    if high is None:
        return (">= " if bounds["above"] is None else "> ") + f"{low:g}"
    if low is None:
        return ("<= " if bounds["below"] is None else "< ") + f"{high:g}"
    left = "[" if bounds["above"] is None else "("
    right = "]" if bounds["below"] is None else ")"
    return f"in {left}{low:g}, {high:g}{right}"


def _scalar_type(tp: Any) -> Any:
    """The type of one value of a field: a tuple's entries, an Optional's non-None type."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (tuple, typing.Union, types.UnionType) and len(args) >= 1:
        return args[0]
    return tp


def _check_type(name: str, value: Any, tp: Any) -> None:
    """Ints where the field says int (a float 2.5 is not 2), numbers where it says float, one of a Literal's values."""
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        check_choice(name, value, typing.get_args(tp))
        return
    if origin is tuple and isinstance(value, tuple):
        inner = typing.get_args(tp)[0]
        for index, item in enumerate(value):
            _check_type(f"{name}[{index}]", item, inner)
        return
    if tp is int and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
        raise TypeError(f"{name}: expected an integer, received {value!r}")
    if tp is float and (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))):
        raise TypeError(f"{name}: expected a number, received {value!r}")


@dataclass(frozen=True)
class ToyConfig:
    """Base of every toy's ``Config``: checks each field's range (from :func:`option`), then ``validate()``."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            _check_type(spec.name, value, hints.get(spec.name))
            bounds = spec.metadata.get("bounds")
            if bounds is None or value is None:
                continue
            integral = _scalar_type(hints.get(spec.name)) is int
            if isinstance(value, tuple):
                if not value:
                    raise ValueError(f"{spec.name}: expected one or more values, received an empty list")
                for index, item in enumerate(value):
                    _check_value(f"{spec.name}[{index}]", item, bounds, integral)
            else:
                _check_value(spec.name, value, bounds, integral)
        self.validate()

    def validate(self) -> None:
        """Checks that relate several fields (override); ranges are checked already."""


@dataclass(frozen=True)
class Target:
    """A figure a toy reaches, against the target it must reach.

    ``at_least=True`` passes when ``value >= goal``; ``False`` when ``value <= goal``.
    ``percent`` formats a fraction as a percentage.
    """

    name: str
    value: float
    goal: float
    at_least: bool = True
    percent: bool = False

    @property
    def passed(self) -> bool:
        if not np.isfinite(self.value):
            return False
        return self.value >= self.goal if self.at_least else self.value <= self.goal

    def _fmt(self, x: float) -> str:
        return f"{100 * x:.1f}%" if self.percent else f"{x:.4g}"

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "missed"

    @property
    def value_text(self) -> str:
        return self._fmt(self.value)

    @property
    def goal_text(self) -> str:
        return ("≥ " if self.at_least else "≤ ") + self._fmt(self.goal)


def md_row(cells: Sequence[Any]) -> str:
    """One Markdown table row; a ``|`` inside a cell (``|x - 50%|``) is escaped so the table holds."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


@dataclass
class Table:
    """A results table: ``rows`` of cells under ``headers``."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def to_markdown(self) -> str:
        def cell(x: Any) -> str:
            if isinstance(x, float):
                return f"{x:.4g}"
            return str(x)

        lines = [f"**{self.title}**", "", md_row(self.headers)]
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        for row in self.rows:
            lines.append(md_row([cell(x) for x in row]))
        return "\n".join(lines)


#: How a run ended: it ran to the end (its targets then say pass or missed), it raised, or Ctrl-C.
COMPLETED, FAILED, INTERRUPTED = "completed", "FAILED", "INTERRUPTED"
#: A toy that found no data to run on (``Report.skipped`` says why): neither a pass nor a failure.
SKIPPED = "skipped"


@dataclass
class Report:
    """What a toy run produced: its figures, plots, tables and honest notes.

    ``status`` is :data:`COMPLETED` for a run that reached its end, :data:`SKIPPED` for
    one that had no data (set from ``skipped``), :data:`FAILED` when it raised (``error``
    says what), :data:`INTERRUPTED` after Ctrl-C; an unfinished run's report holds the
    plots it saved before it stopped.
    """

    toy: str
    title: str
    shows: str
    targets: list[Target] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)  # PNG file names inside the run directory
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)  # everything else worth keeping (JSON)
    config: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    run_dir: str = ""
    skipped: str = ""  # why the toy did not run (its data is missing); the notes say how to get it
    status: str = COMPLETED
    error: str = ""

    def __post_init__(self) -> None:
        if self.skipped and self.status == COMPLETED:
            self.status = SKIPPED

    @property
    def passed(self) -> bool:
        """Every target reached (a skipped toy has none, and did not fail)."""
        return self.status in (COMPLETED, SKIPPED) and all(t.passed for t in self.targets)

    @property
    def verdict(self) -> str:
        """One word for the run: PASS, SKIPPED (its data was not given), MISSED (ran to the end, missed a
        target), FAILED or INTERRUPTED."""
        if self.status == SKIPPED:
            return "SKIPPED"
        if self.status != COMPLETED:
            return self.status
        return "PASS" if self.passed else "MISSED"

    def to_dict(self) -> dict[str, Any]:
        return {
            "toy": self.toy,
            "title": self.title,
            "passed": self.passed,
            "skipped": self.skipped,
            "status": self.verdict,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "targets": [
                {"name": t.name, "value": t.value, "goal": t.goal, "at_least": t.at_least, "passed": t.passed}
                for t in self.targets
            ],
            "tables": [{"title": t.title, "headers": list(t.headers), "rows": [list(r) for r in t.rows]} for t in self.tables],
            "notes": self.notes,
            "plots": self.plots,
            "metrics": self.metrics,
            "config": self.config,
        }

    def to_markdown(self, image_prefix: str = "") -> str:
        verdict = f"SKIPPED ({self.skipped})" if self.skipped else self.verdict
        lines = [f"## {self.title} (`{self.toy}`) — {verdict}, {self.seconds:.1f} s", "", self.shows, ""]
        if self.error:
            lines += [f"**{self.verdict}**: {self.error}", ""]
        if self.targets:
            lines += ["| figure | reached | target | |", "|---|---|---|---|"]
            for t in self.targets:
                lines.append(md_row([t.name, t.value_text, t.goal_text, t.verdict]))
            lines.append("")
        for table in self.tables:
            lines += [table.to_markdown(), ""]
        for note in self.notes:
            lines += [f"> {note}", ""]
        for plot in self.plots:
            lines += [f"![{plot}]({image_prefix}{plot})", ""]
        return "\n".join(lines)


class RunContext:
    """Where a toy writes, and how loud it may be.

    Attributes
    ----------
    run_dir : Path
        The run's directory (already created).
    progress : bool or None
        Progress bars: True, False, or None to decide by whether stderr is a terminal.
    saved_plots : list of str
        The figures saved so far (:meth:`save_figure`), which the report of a run
        that fails or is interrupted still shows.
    """

    def __init__(self, run_dir: Path, progress: bool | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.saved_plots: list[str] = []  # in the order saved: what a run that stops early still shows

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def phase(self, label: str) -> Any:
        """A ``with`` block whose progress bars name ``label`` after the toy: ``xor / n=12 · MLP · epoch 3/300``."""
        from ..train.progress import phase

        return phase(label)

    def save_figure(self, fig: Any, name: str) -> str:
        """Save a matplotlib Figure as ``name`` (PNG) in the run directory; returns the name."""
        if not name.endswith(".png"):
            name += ".png"
        fig.savefig(self.run_dir / name, dpi=110, bbox_inches="tight")
        if name not in self.saved_plots:
            self.saved_plots.append(name)
        return name

    def write_json(self, name: str, data: Any) -> None:
        with open(self.run_dir / name, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=_json_default)
            handle.write("\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
