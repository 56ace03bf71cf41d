"""The command line: ``dltoys list | run TOY [--key value ...] | tour | completion bash``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .toys.base import Report, describe_bounds
from .runtime import blas_threads
from .toys.registry import (
    EXIT_INTERRUPTED, EXIT_USAGE, ConfigError, RunInterrupted, config_fields, describe_type, exit_code,
    flag_names, get_toy, make_config, new_run_dir, parse_overrides, run_toy, toy_names,
)

#: Everything the CLI prints fits this many columns.
WIDTH = 100

EXIT_CODES = """\
exit codes (run and tour):
  0    every target reached (or skipped: its data was not given)
  1    the run(s) finished, a target was missed (the report says which and by how much)
  2    a usage error: an unknown toy or option, a bad value, an --out where no folder can be made
  3    a run failed (an error such as a diverging loss); its report says FAILED and why
  130  interrupted (Ctrl-C); the report says INTERRUPTED and holds what was reached"""


class _Once(argparse.Action):
    """An option that may be given once: a repeat is refused instead of the last one silently winning."""

    def __init__(self, option_strings: Sequence[str], dest: str, const: Any = None, nargs: Any = None, **kwargs: Any):
        self.flag_value = const
        super().__init__(option_strings, dest, nargs=0 if const is not None else nargs, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        seen = namespace.__dict__.setdefault("_given", set())
        if self.dest in seen:
            parser.error(f"{option_string} given more than once (or with its opposite); give it once")
        seen.add(self.dest)
        setattr(namespace, self.dest, self.flag_value if self.flag_value is not None else values)


#: BLAS threads of a toy that does not say (a toy module may set ``THREADS``). Every toy's matrices
#: are small: a second thread saves little on a quiet machine and, when other processes keep the
#: cores busy, OpenBLAS's threads wait for each other at every small matmul (measured 8-10x slower).
DEFAULT_TOY_THREADS = 1


def _threads_arg(text: str) -> int | str:
    """``--threads``: an integer >= 1, or ``auto`` for the BLAS library's own setting."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1 or 'auto', received {text!r}")
    return value


def toy_threads(toy: Any, requested: int | str | None) -> int | None:
    """The BLAS thread count a toy runs with: the user's ``--threads``, else the toy's ``THREADS``
    (default :data:`DEFAULT_TOY_THREADS`); None (``auto``) leaves the library's setting alone."""
    if requested == "auto":
        return None
    if requested is not None:
        return int(requested)
    return getattr(toy, "THREADS", DEFAULT_TOY_THREADS)


def _wrap(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH - indent) or [""]


def _cmd_list() -> int:
    width = max(len(name) for name in toy_names())
    for name in toy_names():
        toy = get_toy(name)
        for index, line in enumerate(_wrap(toy.TITLE, width + 2)):
            print(f"{(name if index == 0 else '').ljust(width)}  {line}")
        for line in _wrap(toy.SHOWS, width + 4):
            print(f"{''.ljust(width)}    {line}")
    return 0


_COMMON_OPTIONS = """\
common options:
  --quick            the short version the tour runs
  --out DIR          where run folders go (default: runs/)
  --threads N|auto   BLAS threads (default 1: the toys' matrices are small, and on a busy machine
                     more threads made them 8-10x slower); auto: the BLAS library's own setting
  --progress, --no-progress   force progress bars on or off (default: on a terminal only)"""


def _run_help() -> str:
    lines = ["usage: dltoys run TOY [--quick] [--out DIR] [--threads N] [--key value ...]", "",
             "Run one toy into runs/TOY-<time>/: report.html, report.md, metrics.json, config.json and plots.",
             "`dltoys run TOY --help` lists the toy's own options.", "", "toys:"]
    lines += [f"  {name}" for name in toy_names()]
    return "\n".join(lines + ["", _COMMON_OPTIONS, "", EXIT_CODES])


def _toy_help(name: str) -> str:
    toy = get_toy(name)
    lines = [f"usage: dltoys run {name} [--quick] [--out DIR] [--threads N] [--key value ...]", ""]
    lines += _wrap(toy.TITLE, 0) + [""] + _wrap(toy.SHOWS, 0) + ["", "options:"]
    quick = getattr(toy, "QUICK", {})
    bounds = {f.name: f.metadata.get("bounds") for f in dataclasses.fields(toy.Config)}

    def shown(value: Any) -> Any:
        return ",".join(map(str, value)) if isinstance(value, tuple) else value

    for field, tp, default, help_text in config_fields(toy.Config):
        flag = "--" + field.replace("_", "-")
        allowed = describe_bounds(bounds.get(field))
        kind = describe_type(tp) + (f", each {allowed}" if allowed and isinstance(default, tuple) else f" {allowed}" if allowed else "")
        parts = [f"  {flag}  {kind}", f"default {shown(default)}"] + ([f"quick: {shown(quick[field])}"] if field in quick else [])
        head = textwrap.wrap(parts[0].lstrip(), WIDTH - 1, initial_indent="  ", subsequent_indent="      ",
                             break_on_hyphens=False)
        lines += head[:-1]
        line = head[-1]
        for part in parts[1:]:  # on one line while it fits, else the next part on its own line
            if len(line) + 2 + len(part) <= WIDTH:
                line += f"; {part}"
            else:
                lines.append(line + ";")
                line = f"      {part}"
        lines.append(line)
        if help_text:
            lines += [f"      {line}" for line in _wrap(help_text, 6)]
    return "\n".join(lines + ["", _COMMON_OPTIONS, "", EXIT_CODES])


def _print_run_summary(report: Report) -> None:
    from .toys.report import summary_text

    print(f"\n{report.toy}: {report.verdict} in {report.seconds:.1f} s")
    if report.error:
        print("\n    ".join(_wrap(report.error, 4)))
    else:
        print(summary_text([report], width=WIDTH).rsplit("\n", 1)[0])  # the table without the tour's total line
    print(f"\nreport: {Path(report.run_dir) / 'report.html'} (and report.md, metrics.json, config.json, the plots)")


def _cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    if args.toy is None or args.toy in ("-h", "--help"):
        if args.toy is None and not ({"-h", "--help"} & set(rest)):
            raise ConfigError("name a toy: dltoys run TOY (dltoys list shows them, dltoys run --help explains)")
        print(_run_help())
        return 0
    toy = get_toy(args.toy)
    if "-h" in rest or "--help" in rest:
        print(_toy_help(args.toy))
        return 0
    try:
        config = make_config(toy, parse_overrides(toy.Config, rest), quick=bool(args.quick))
        with blas_threads(toy_threads(toy, args.threads)):
            report = run_toy(args.toy, config, out_root=Path(args.out), progress=args.progress,
                             catch_errors=True)
    except ConfigError as exc:
        raise ConfigError(flag_names(str(exc), toy.Config)) from None
    except RunInterrupted as stop:
        _print_run_summary(stop.report)
        return EXIT_INTERRUPTED
    _print_run_summary(report)
    return exit_code([report])


def _tour_names(only: str | None) -> list[str]:
    if only is None:
        return toy_names()
    names = [name.strip() for name in only.split(",")]
    if not all(names):
        raise ConfigError(f"--only expects comma-separated toy names without empty items, received {only!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"--only names {', '.join(repeated)} more than once; each toy runs once per tour")
    for name in names:
        get_toy(name)  # fail before running anything if a name is wrong
    return names


def _cmd_tour(args: argparse.Namespace) -> int:
    from .toys.report import summary_text, write_html, write_markdown

    names = _tour_names(args.only)
    tour_dir = new_run_dir(Path(args.out), "tour")
    reports: list[Report] = []
    start = time.perf_counter()
    for index, name in enumerate(names, 1):
        toy = get_toy(name)
        print(f"[{index}/{len(names)}] {name}: {toy.TITLE}", flush=True)
        config = make_config(toy, quick=not args.full)
        try:
            with blas_threads(toy_threads(toy, args.threads)):
                report = run_toy(name, config, run_dir=tour_dir / name, progress=args.progress, html=False,
                                 catch_errors=True)
        except RunInterrupted as stop:
            reports.append(stop.report)
            print(f"    INTERRUPTED after {stop.report.seconds:.1f} s; the tour stops here", flush=True)
            break
        reports.append(report)
        print(f"    {report.verdict}{': ' + report.notes[0] if report.skipped and report.notes else ''} "
              f"in {report.seconds:.1f} s", flush=True)
    title = f"dltoys tour ({'full' if args.full else 'quick'} mode)"
    write_markdown(reports, tour_dir, title)
    write_html(reports, tour_dir, title)
    print()
    print(summary_text(reports, width=WIDTH))
    if len(reports) < len(names):
        print(f"not run: {', '.join(names[len(reports):])}")
    print(f"\nreport: {tour_dir / 'report.html'} (and report.md) in {time.perf_counter() - start:.0f} s")
    return exit_code(reports)


def completion_script() -> str:
    """A bash completion script for the subcommands, toy names and each toy's options."""
    common = "--quick --out --threads --progress --no-progress --help"
    cases = []
    for name in toy_names():
        flags = " ".join("--" + field.replace("_", "-") for field, *_ in config_fields(get_toy(name).Config))
        cases.append(f"        {name}) opts=\"$opts {flags}\" ;;")
    return "\n".join([
        "# bash completion for dltoys: source <(dltoys completion bash)",
        "_dltoys() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        f"    local toys={shlex.quote(' '.join(toy_names()))}",
        '    if [ "$COMP_CWORD" -eq 1 ]; then',
        '        COMPREPLY=($(compgen -W "list run tour completion --help --version" -- "$cur")); return',
        "    fi",
        '    case "$prev" in',
        '        --out|--text) COMPREPLY=($(compgen -f -- "$cur")); return ;;',
        "        --only)",
        '            local head=""; case "$cur" in *,*) head="${cur%,*},";; esac',
        '            COMPREPLY=($(compgen -P "$head" -W "$toys" -- "${cur##*,}")); return ;;',
        "    esac",
        '    case "${COMP_WORDS[1]}" in',
        "        run)",
        '            if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "$toys --help" -- "$cur")); return; fi',
        f'            local opts="{common}"',
        '            case "${COMP_WORDS[2]}" in',
        *cases,
        "            esac",
        '            COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;',
        '        tour) COMPREPLY=($(compgen -W "--only --full --out --threads --progress --no-progress --help" -- "$cur")) ;;',
        '        completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;',
        "    esac",
        "}",
        "complete -o default -F _dltoys dltoys",
        "",
    ])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dltoys", description="Classic neural networks from scratch in NumPy.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dltoys {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,run,tour,completion}")
    sub.add_parser("list", help="the toys and what each shows")
    # add_help=False: `dltoys run TOY --help` shows the toy's own options (and `run --help` the toys).
    run = sub.add_parser("run", help="run one toy: dltoys run TOY [--quick] [--key value ...]", add_help=False)
    run.add_argument("toy", nargs="?")
    run.add_argument("--quick", action=_Once, const=True, default=False, help="the short version the tour runs")
    tour = sub.add_parser("tour", help="run every toy in quick mode and write an HTML/Markdown report",
                          epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    tour.add_argument("--only", action=_Once, default=None, help="comma-separated toy names, each at most once")
    tour.add_argument("--full", action=_Once, const=True, default=False, help="full budgets instead of quick mode")
    completion = sub.add_parser("completion", help="print a bash completion script: source <(dltoys completion bash)")
    completion.add_argument("shell", choices=["bash"])
    for p in (run, tour):
        p.add_argument("--out", action=_Once, default="runs", help="where run folders go (default: runs/)")
        p.add_argument("--progress", dest="progress", action=_Once, const=True, default=None, help="force progress bars")
        p.add_argument("--no-progress", dest="progress", action=_Once, const=False, help="no progress bars")
        p.add_argument("--threads", action=_Once, type=_threads_arg, default=None, metavar="N|auto",
                       help="BLAS threads: default 1 (the toys' matrices are small; more threads made them "
                            "8-10x slower on a busy machine); auto: the BLAS library's own setting")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``EXIT_CODES``)."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args, rest)
        if rest:
            parser.error(f"unexpected arguments: {' '.join(rest)}")
        if args.command == "list":
            return _cmd_list()
        if args.command == "completion":
            print(completion_script(), end="")
            return 0
        return _cmd_tour(args)
    except ConfigError as exc:
        message = str(exc)
        if message.startswith("cannot create a run folder"):
            message = f"--out: {message}"
        print(f"dltoys: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # outside a run (a run's own Ctrl-C is a RunInterrupted, handled above)
        print("\ndltoys: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `dltoys list | head`: the reader left; nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush is quiet
        return 0


if __name__ == "__main__":
    sys.exit(main())
