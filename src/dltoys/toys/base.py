"""What every toy is made of: a config, a run function and a report of its figures.

A toy module (one file in ``dltoys/toys/``) defines:

- ``NAME`` and ``TITLE``: the CLI name and a one-line title;
- ``SHOWS``: one or two sentences on what the toy demonstrates;
- ``Config``: a frozen dataclass whose fields are declared with :func:`option`
  (default + help text); the CLI type-checks overrides against it;
- ``QUICK``: overrides for the quick mode the tour runs (a dict);
- ``run(config, ctx) -> Report``: trains, plots into ``ctx.run_dir`` and returns
  the figures it reached against the targets it states.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def option(default: Any, help: str) -> Any:
    """A config field with its default and a help line (shown by ``dltoys run TOY --help``)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("option: use a tuple for a sequence default (configs are frozen)")
    return field(default=default, metadata={"help": help})


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
    def value_text(self) -> str:
        return self._fmt(self.value)

    @property
    def goal_text(self) -> str:
        return ("≥ " if self.at_least else "≤ ") + self._fmt(self.goal)


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

        lines = [f"**{self.title}**", "", "| " + " | ".join(self.headers) + " |"]
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(cell(x) for x in row) + " |")
        return "\n".join(lines)


@dataclass
class Report:
    """What a toy run produced: its figures, plots, tables and honest notes."""

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

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "toy": self.toy,
            "title": self.title,
            "passed": self.passed,
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
        status = "PASS" if self.passed else "FAIL"
        lines = [f"## {self.title} (`{self.toy}`) — {status}, {self.seconds:.1f} s", "", self.shows, ""]
        if self.targets:
            lines += ["| figure | reached | target | |", "|---|---|---|---|"]
            for t in self.targets:
                lines.append(f"| {t.name} | {t.value_text} | {t.goal_text} | {'pass' if t.passed else 'FAIL'} |")
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
    """

    def __init__(self, run_dir: Path, progress: bool | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.started = time.perf_counter()

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def save_figure(self, fig: Any, name: str) -> str:
        """Save a matplotlib Figure as ``name`` (PNG) in the run directory; returns the name."""
        if not name.endswith(".png"):
            name += ".png"
        fig.savefig(self.run_dir / name, dpi=110, bbox_inches="tight")
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
