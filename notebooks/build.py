"""Build the teaching notebooks: each jupytext percent script here becomes an executed ``.ipynb``.

    python notebooks/build.py                  # every chapter, quick mode, into notebooks/build/
    python notebooks/build.py 01 04            # the chapters whose names start with these
    python notebooks/build.py --no-execute     # convert only (a notebook to run yourself)

The ``.py`` files are the source (readable diffs); the ``.ipynb`` files are built, never
committed. Each notebook runs top to bottom in a fresh kernel with ``DLTOYS_QUICK=1`` (set
``DLTOYS_QUICK=0`` for the full experiments). A failing cell fails the build with the
notebook's name and the error; the time of each notebook is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def chapters(prefixes: list[str]) -> list[Path]:
    found = sorted(path for path in HERE.glob("[0-9][0-9]_*.py"))
    if prefixes:
        found = [path for path in found if any(path.name.startswith(prefix) for prefix in prefixes)]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="name prefixes (default: every chapter)")
    parser.add_argument("--no-execute", action="store_true", help="convert without running")
    parser.add_argument("--out", default=str(HERE / "build"), help="output folder (default notebooks/build)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    args = parser.parse_args(argv)

    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    paths = chapters(args.chapters)
    if not paths:
        print(f"no chapter matches {args.chapters}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DLTOYS_QUICK", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed, total = [], time.perf_counter()
    for path in paths:
        notebook = jupytext.read(path)
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        started = time.perf_counter()
        if not args.no_execute:
            client = NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(HERE)}})
            try:
                client.execute()
            except CellExecutionError as exc:
                failed.append(path.name)
                print(f"FAILED {path.name}:\n{exc}", file=sys.stderr)
        target = out / (path.stem + ".ipynb")
        jupytext.write(notebook, target, fmt="ipynb")
        print(f"{path.name:40s} {time.perf_counter() - started:6.1f} s -> {target}")
    print(f"{len(paths)} notebooks in {time.perf_counter() - total:.1f} s; {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
