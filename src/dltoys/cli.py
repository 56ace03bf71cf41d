"""The command line: ``dltoys list | run TOY [--key value ...] | tour``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from .toys.base import Report, describe_bounds
from .runtime import blas_threads
from .toys.registry import ConfigError, config_fields, describe_type, get_toy, make_config, new_run_dir, parse_overrides, run_toy, toy_names


def _cmd_list(_: argparse.Namespace) -> int:
    width = max(len(name) for name in toy_names())
    for name in toy_names():
        toy = get_toy(name)
        print(f"{name.ljust(width)}  {toy.TITLE}")
        print(f"{''.ljust(width)}  {toy.SHOWS}")
    return 0


def _toy_help(name: str) -> str:
    toy = get_toy(name)
    lines = [f"dltoys run {name} [--quick] [--out DIR] [--key value ...]", "", f"{toy.TITLE}", f"{toy.SHOWS}", "", "options:"]
    quick = getattr(toy, "QUICK", {})
    bounds = {f.name: f.metadata.get("bounds") for f in dataclasses.fields(toy.Config)}

    def shown(value):
        return ",".join(map(str, value)) if isinstance(value, tuple) else value

    for field, tp, default, help_text in config_fields(toy.Config):
        flag = "--" + field.replace("_", "-")
        allowed = describe_bounds(bounds.get(field))
        kind = describe_type(tp) + (f", each {allowed}" if allowed and isinstance(default, tuple) else f" {allowed}" if allowed else "")
        extra = f"; quick: {shown(quick[field])}" if field in quick else ""
        lines.append(f"  {flag}  {kind}; default {shown(default)}{extra}")
        if help_text:
            lines.append(f"      {help_text}")
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    toy = get_toy(args.toy)
    if "-h" in rest or "--help" in rest:
        print(_toy_help(args.toy))
        return 0
    config = make_config(toy, parse_overrides(toy.Config, rest), quick=args.quick)
    report = run_toy(args.toy, config, out_root=Path(args.out), progress=args.progress)
    print(report.to_markdown())
    print(f"\nwritten to {report.run_dir}/ (config.json, metrics.json, report.md, plots)")
    return 0 if report.passed else 1


def _cmd_tour(args: argparse.Namespace) -> int:
    from .toys.report import summary_text, write_html, write_markdown

    names = toy_names() if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    for name in names:
        get_toy(name)  # fail before running anything if a name is wrong
    tour_dir = new_run_dir(Path(args.out), "tour")
    reports: list[Report] = []
    start = time.perf_counter()
    for index, name in enumerate(names, 1):
        toy = get_toy(name)
        print(f"[{index}/{len(names)}] {name}: {toy.TITLE}", flush=True)
        config = make_config(toy, quick=not args.full)
        report = run_toy(name, config, run_dir=tour_dir / name, progress=args.progress)
        reports.append(report)
        print(f"    {report.status}{': ' + report.notes[0] if report.skipped and report.notes else ''} "
              f"in {report.seconds:.1f} s", flush=True)
    title = f"dltoys tour ({'full' if args.full else 'quick'} mode)"
    write_markdown(reports, tour_dir, title)
    write_html(reports, tour_dir, title)
    print()
    print(summary_text(reports))
    print(f"\nreport: {tour_dir / 'report.html'} (and report.md) in {time.perf_counter() - start:.0f} s")
    return 0 if all(r.passed for r in reports) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dltoys", description="Classic neural networks from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the toys and what each shows")
    run = sub.add_parser("run", help="run one toy: dltoys run TOY [--quick] [--key value ...]", add_help=False)
    run.add_argument("toy")
    run.add_argument("--quick", action="store_true", help="the short version the tour runs")
    tour = sub.add_parser("tour", help="run every toy in quick mode and write an HTML/Markdown report")
    tour.add_argument("--only", default="", help="comma-separated toy names")
    tour.add_argument("--full", action="store_true", help="full budgets instead of quick mode")
    for p in (run, tour):
        p.add_argument("--out", default="runs", help="where run directories go (default: runs/)")
        p.add_argument("--progress", dest="progress", action="store_true", default=None, help="force progress bars")
        p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
        p.add_argument("--threads", type=int, default=None, metavar="N",
                       help="BLAS threads (default: the library's own setting); 1 is faster on a busy machine")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "threads", None) is not None and args.threads < 1:
        parser.error(f"--threads: expected an integer >= 1, received {args.threads}")
    try:
        if args.command == "list":
            if rest:
                parser.error(f"unexpected arguments: {' '.join(rest)}")
            return _cmd_list(args)
        if args.command == "run":
            with blas_threads(args.threads):
                return _cmd_run(args, rest)
        if rest:
            parser.error(f"unexpected arguments: {' '.join(rest)}")
        with blas_threads(args.threads):
            return _cmd_tour(args)
    except ConfigError as exc:
        print(f"dltoys: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
