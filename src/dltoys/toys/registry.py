"""The registry of toys, type-checked config overrides, and running a toy into a run directory."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib
import itertools
import re
import time
import traceback
import types
import typing
from pathlib import Path
from typing import Any

from ..train.progress import phase
from .base import COMPLETED, FAILED, INTERRUPTED, Report, RunContext

#: Toy name -> module, in the order of the road from one neuron to a Transformer.
TOY_MODULES: dict[str, str] = {
    "perceptron": "dltoys.toys.perceptron",
    "logistic": "dltoys.toys.logistic",
    "xor": "dltoys.toys.xor",
    "activations": "dltoys.toys.activations",
    "optimizers": "dltoys.toys.optimizers",
    "digits": "dltoys.toys.digits",
    "normalization": "dltoys.toys.normalization",
    "parity": "dltoys.toys.parity",
    "gradients": "dltoys.toys.gradients",
    "adding": "dltoys.toys.adding",
    "charlm": "dltoys.toys.charlm",
    "cnn-digits": "dltoys.toys.cnn_digits",
    "mnist1d": "dltoys.toys.mnist1d",
    "som": "dltoys.toys.som",
    "karate": "dltoys.toys.karate",
    "semisupervised": "dltoys.toys.semisupervised",
    "grnn": "dltoys.toys.grnn",
    "gcn-karate": "dltoys.toys.gcn_karate",
    "cora": "dltoys.toys.cora",
    "rbm": "dltoys.toys.rbm",
    "dbn": "dltoys.toys.dbn",
    "gan": "dltoys.toys.gan",
    "sort": "dltoys.toys.sort",
    "transformer-lm": "dltoys.toys.transformer_lm",
}


class ConfigError(ValueError):
    """A bad toy name or override, with what is allowed."""


def toy_names() -> list[str]:
    return list(TOY_MODULES)


def get_toy(name: str) -> types.ModuleType:
    if name not in TOY_MODULES:
        raise ConfigError(f"unknown toy {name!r}; available: {', '.join(TOY_MODULES)}")
    return importlib.import_module(TOY_MODULES[name])


# ------------------------------------------------------------------ overrides
def describe_type(tp: Any) -> str:
    """A field's type in words: 'an integer', 'one of 'tanh', 'relu'', 'a comma-separated list of numbers'."""
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(describe_type(a) for a in args) + " (or 'none')"
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        if typing.get_origin(inner) is typing.Literal:
            return "a comma-separated list of " + ", ".join(repr(a) for a in typing.get_args(inner))
        plural = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(inner, str(inner))
        return f"a comma-separated list of {plural}"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


def _convert(key: str, text: str, tp: Any) -> Any:
    """Convert the command-line text ``text`` to the field type ``tp`` or raise ConfigError."""
    origin = typing.get_origin(tp)
    bad = ConfigError(f"--{key} expects {describe_type(tp)}, received {text!r}")
    if origin is typing.Literal:
        for allowed in typing.get_args(tp):
            if str(allowed) == text:
                return allowed
        raise bad
    if origin in (typing.Union, types.UnionType):
        if text.lower() == "none" and type(None) in typing.get_args(tp):
            return None
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _convert(key, text, arg)
            except ConfigError:
                pass
        raise bad
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):  # "2,,3", "2,3," or "": an empty item is a typo, not a value to drop
            raise ConfigError(f"--{key} expects {describe_type(tp)} without empty items, received {text!r}")
        try:
            return tuple(_convert(key, p, inner) for p in parts)
        except ConfigError:
            raise bad from None
    if tp is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise bad
    if tp is int:
        try:
            return int(text)
        except ValueError:
            raise bad from None
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise bad from None
    if tp is str:
        return text
    raise ConfigError(f"--{key}: fields of type {tp} cannot be set from the command line")


def config_fields(config_cls: type) -> list[tuple[str, Any, Any, str]]:
    """(name, type, default, help) for every field of a toy's config."""
    hints = typing.get_type_hints(config_cls)
    return [
        (f.name, hints[f.name], f.default, f.metadata.get("help", ""))
        for f in dataclasses.fields(config_cls)
    ]


def parse_overrides(config_cls: type, args: list[str]) -> dict[str, Any]:
    """Parse ``--key value`` / ``--key=value`` pairs into typed field values.

    Hyphens and underscores in keys are interchangeable. Unknown keys are rejected
    with the list of valid ones, a key given twice is rejected, and values are
    converted to the field's type (a list with an empty item, ``2,,3``, is rejected).
    """
    fields = {name: tp for name, tp, _, _ in config_fields(config_cls)}
    valid = ", ".join("--" + n.replace("_", "-") for n in fields)
    values: dict[str, Any] = {}
    given: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("--") or arg == "--":
            raise ConfigError(f"expected an option like --key value, received {arg!r}")
        key, eq, text = arg[2:].partition("=")
        if not eq:
            if index + 1 >= len(args):
                raise ConfigError(f"--{key} needs a value")
            text = args[index + 1]
            index += 1
        index += 1
        name = key.replace("-", "_")
        if name not in fields:
            raise ConfigError(f"unknown option --{key} for {config_cls.__module__.rsplit('.', 1)[-1]}; valid options: {valid}")
        if name in values:  # the last one silently winning hides a typo in a long command line
            raise ConfigError(f"--{key} given more than once (the values {given[name]!r} and {text!r}); give it once")
        given[name] = text
        values[name] = _convert(key, text, fields[name])
    return values


def make_config(toy: types.ModuleType, overrides: dict[str, Any] | None = None, quick: bool = False) -> Any:
    """The toy's config: defaults, then its quick-mode values, then the user's overrides."""
    values = dict(getattr(toy, "QUICK", {})) if quick else {}
    values.update(overrides or {})
    try:
        return toy.Config(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{toy.NAME}: {exc}") from None


def flag_names(message: str, config_cls: type) -> str:
    """``message`` with the config's field names written as the command line's flags.

    ``make_config`` speaks Python (``hidden_size: expected an integer >= 1``); a learner
    who typed ``--hidden-size 0`` should read the flag back: ``--hidden-size: ...``.
    Field names with an underscore are rewritten wherever they appear as words; a
    one-word name (``lr``) only where it leads an error (``lr:``, ``lr[1]:``).
    """
    names = sorted((f.name for f in dataclasses.fields(config_cls)), key=len, reverse=True)
    for name in names:
        flag = "--" + name.replace("_", "-")
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}\b", flag, message)
        else:
            message = re.sub(rf"(^|: ){re.escape(name)}(?=(\[\d+\])?:)", rf"\g<1>{flag}", message)
    return message


# -------------------------------------------------------------------- running
class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after its INTERRUPTED report was written; ``report`` is that report.

    A KeyboardInterrupt still (so a test session or a script stops as it would), with the
    report attached for the CLI, which prints it and exits with :data:`EXIT_INTERRUPTED`.
    """

    def __init__(self, report: Report):
        super().__init__(f"{report.toy}: interrupted after {report.seconds:.1f} s")
        self.report = report


#: The exit codes of ``dltoys run`` and ``dltoys tour`` (also in ``dltoys --help`` and the README).
EXIT_PASS, EXIT_MISSED, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def exit_code(reports: list[Report]) -> int:
    """The worst outcome among ``reports``: interrupted, then failed, then a missed target, then 0."""
    statuses = {r.status for r in reports}
    if INTERRUPTED in statuses:
        return EXIT_INTERRUPTED
    if FAILED in statuses:
        return EXIT_FAILED
    return EXIT_PASS if all(r.passed for r in reports) else EXIT_MISSED


def new_run_dir(root: Path, name: str) -> Path:
    """Create ``root/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``, ... if taken) and return it.

    Atomic: each candidate is claimed by ``mkdir`` itself, which fails when the folder
    exists, so processes started at the same instant each get their own folder (a
    check-then-create would hand two of them the same one).
    """
    root = Path(root)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for suffix in itertools.count(1):
            candidate = root / (f"{name}-{stamp}" if suffix == 1 else f"{name}-{stamp}-{suffix}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            return candidate
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, FileExistsError) or root.exists() and not root.is_dir():
            reason = "it is a file, not a folder"
        raise ConfigError(f"cannot create a run folder in {str(root)!r}: {reason}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _unfinished_report(name: str, toy: types.ModuleType, ctx: RunContext, status: str, error: str) -> Report:
    what = "was interrupted" if status == INTERRUPTED else "failed"
    saved = (f"the figures it saved before it stopped are below ({', '.join(ctx.saved_plots)})"
             if ctx.saved_plots else "it stopped before saving any figure")
    return Report(
        toy=name, title=toy.TITLE, shows=toy.SHOWS, status=status, error=error,
        plots=list(ctx.saved_plots),
        notes=[f"This run {what} before it reached its targets, so none is reported; {saved}."],
    )


def run_toy(
    name: str,
    config: Any = None,
    *,
    run_dir: Path | None = None,
    out_root: Path = Path("runs"),
    progress: bool | None = None,
    html: bool = True,
    catch_errors: bool = False,
) -> Report:
    """Run one toy into its own folder: config.json, metrics.json, report.md, report.html and the plots.

    A run that raises still writes its report, marked FAILED, with the error and the
    figures saved so far (the traceback goes to ``error.txt``); then the error is
    re-raised, unless ``catch_errors`` (what the CLI passes), which returns the FAILED
    report instead. A :class:`ConfigError` found while running (a prompt the text
    cannot encode) is always re-raised: it is the caller's to report. Ctrl-C writes an
    INTERRUPTED report and raises :class:`RunInterrupted`. ``html=False`` skips
    ``report.html`` (the tour writes one for all its toys).
    """
    toy = get_toy(name)
    config = make_config(toy) if config is None else config
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(Path(out_root), name)
    ctx = RunContext(run_dir, progress=progress)
    ctx.write_json("config.json", {"toy": name, **dataclasses.asdict(config)})
    start = time.perf_counter()
    reraise: BaseException | None = None
    try:
        with phase(name):  # every progress bar of the run names the toy first
            report = toy.run(config, ctx)
    except KeyboardInterrupt:
        report = _unfinished_report(name, toy, ctx, INTERRUPTED, "interrupted (Ctrl-C)")
    except Exception as exc:  # noqa: BLE001 - every failure still leaves a report behind
        message = str(exc) or type(exc).__name__
        report = _unfinished_report(name, toy, ctx, FAILED, f"{type(exc).__name__}: {message}")
        (run_dir / "error.txt").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        report.notes.append("The full traceback is in error.txt in the run folder.")
        if isinstance(exc, ConfigError) or not catch_errors:
            reraise = exc
    report.seconds = time.perf_counter() - start
    missed = [t.name for t in report.targets if not t.passed]
    if report.status == COMPLETED and missed:  # the first thing a reader of a missed run must see
        report.notes.insert(0, f"This run MISSED {len(missed)} of its {len(report.targets)} targets ("
                            + "; ".join(missed) + "): where a note below explains why something works, read it "
                            "as what the toy is built to show, which this run did not.")
    report.config = dataclasses.asdict(config)
    report.run_dir = str(run_dir)
    ctx.write_json("metrics.json", report.to_dict())
    (run_dir / "report.md").write_text(f"# dltoys run: {name}\n\n" + report.to_markdown() + "\n", encoding="utf-8")
    if html:
        from .report import write_html

        write_html([report], run_dir, f"dltoys run {name}")
    if reraise is not None:
        raise reraise.with_traceback(reraise.__traceback__)
    if report.status == INTERRUPTED:
        raise RunInterrupted(report)
    return report
