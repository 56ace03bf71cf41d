"""The registry of toys, type-checked config overrides, and running a toy into a run directory."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib
import time
import types
import typing
from pathlib import Path
from typing import Any

from .base import Report, RunContext

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
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise bad
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
    with the list of valid ones; values are converted to the field's type.
    """
    fields = {name: tp for name, tp, _, _ in config_fields(config_cls)}
    valid = ", ".join("--" + n.replace("_", "-") for n in fields)
    values: dict[str, Any] = {}
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


# -------------------------------------------------------------------- running
def new_run_dir(root: Path, name: str) -> Path:
    """``root/<name>-<YYYYmmdd-HHMMSS>``, with a suffix if that exists already."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = Path(root) / f"{name}-{stamp}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = Path(root) / f"{name}-{stamp}-{suffix}"
    return candidate


def run_toy(
    name: str,
    config: Any = None,
    *,
    run_dir: Path | None = None,
    out_root: Path = Path("runs"),
    progress: bool | None = None,
) -> Report:
    """Run one toy into its own directory: config.json, metrics.json, report.md and the plots."""
    toy = get_toy(name)
    config = make_config(toy) if config is None else config
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(Path(out_root), name)
    ctx = RunContext(run_dir, progress=progress)
    ctx.write_json("config.json", {"toy": name, **dataclasses.asdict(config)})
    start = time.perf_counter()
    report = toy.run(config, ctx)
    report.seconds = time.perf_counter() - start
    report.config = dataclasses.asdict(config)
    report.run_dir = str(run_dir)
    ctx.write_json("metrics.json", report.to_dict())
    (run_dir / "report.md").write_text(f"# dltoys run: {name}\n\n" + report.to_markdown() + "\n", encoding="utf-8")
    return report
