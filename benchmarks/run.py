"""``make bench``: dltoys against PyTorch CPU, side by side, at 1 and 2 BLAS threads.

Usage (from the repository root)::

    python -m benchmarks.run            # the full run: writes benchmarks/RESULTS.md
    python -m benchmarks.run --smoke    # a few steps per model, the loss guard, no timing claims

Each thread setting runs in its own worker process (:mod:`benchmarks.worker`) with
``OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = n`` set before NumPy
loads and ``torch.set_num_threads(n)``; dltoys's runtime settings (the allocator,
:func:`dltoys.runtime.tune_allocator`, which ``fit`` applies, and
``OPENBLAS_THREAD_TIMEOUT``, which the ``dltoys`` command sets) are on in those
workers, and one more worker at 2 threads runs with both off. Memory is measured in one small
process per model and side. The run exits non-zero, and writes no results, when the
two frameworks' losses disagree on any model.

Then the whole toys (:mod:`benchmarks.toys`, one more process at one thread; ``--no-toys``
skips them): the quick tour's wall time, and the cnn-digits and transformer-lm GPT
trainings against the same training written in PyTorch (the GPT in ``--toy-mode`` quick
or full). Their figures (test accuracy, held-out bits) are compared and a disagreement is
printed in the table, not made fatal: the CNN's two sides draw different dropout masks.
``--smoke`` runs them at a tiny size, without the tour.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the checkout being measured, as in the workers

from dltoys.runtime import BLAS_THREAD_TIMEOUT  # noqa: E402

from .cases import CASES  # noqa: E402
from .peers import PEERS_DIR  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Issue 16's goals, ratio dltoys / PyTorch in the same run: every row at 1 thread, and these at 2 threads.
GOALS = {1: {"mlp": 1.0, "cnn": 1.0, "rnn": 1.0, "lstm": 1.0, "gpt": 1.0, "gcn": 1.0},
         2: {"mlp": 1.0, "cnn": 1.0, "rnn": 1.0, "lstm": 1.2, "gpt": 1.2}}
#: The MLP's dltoys step should reach this fraction of the float32 matmul peak at 1 thread.
MLP_PEAK_GOAL = 0.70
MLP_PEAK_THREADS = 1
MIB = 1 << 20


# ------------------------------------------------------------- the workers
def _worker_env(threads: int, tune_allocator: bool) -> dict:
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    # the checkout being measured, ahead of any installed copy
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH")]))
    if tune_allocator:
        env.setdefault("OPENBLAS_THREAD_TIMEOUT", BLAS_THREAD_TIMEOUT)  # as the dltoys command sets it
    else:  # the runtime settings off: glibc's and OpenBLAS's defaults
        env["DLTOYS_TUNE_ALLOCATOR"] = "0"
        env.pop("OPENBLAS_THREAD_TIMEOUT", None)
    return env


def _run_process(module: str, threads: int, args: list[str], tune_allocator: bool = True) -> tuple[dict, int]:
    """Run ``python -m module --json OUT *args`` at ``threads`` BLAS threads; returns its JSON output and exit code."""
    with tempfile.TemporaryDirectory(prefix="dltoys-bench-") as tmp:
        out = Path(tmp) / "out.json"
        command = [sys.executable, "-m", module, "--json", str(out), *args]
        done = subprocess.run(command, cwd=ROOT, env=_worker_env(threads, tune_allocator))
        if not out.exists():
            raise SystemExit(f"benchmarks: {' '.join(command)} wrote no results (exit {done.returncode})")
        return json.loads(out.read_text()), done.returncode


def run_worker(threads: int, worker_args: list[str], tune_allocator: bool = True) -> tuple[dict, int]:
    """Run one worker process; returns its JSON output and exit code."""
    args = ["--threads", str(threads), *([] if tune_allocator else ["--no-tune-allocator"]), *worker_args]
    return _run_process("benchmarks.worker", threads, args, tune_allocator)


def run_toys(mode: str, smoke: bool) -> tuple[dict, int]:
    """The whole-toy rows (:mod:`benchmarks.toys`) in their own process, at one thread like the toys."""
    return _run_process("benchmarks.toys", 1, ["--mode", mode, *(["--smoke"] if smoke else [])])


# ----------------------------------------------------------- what to print
def _machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": None if memory is None else round(memory / (1 << 30), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "commit": commit.stdout.strip() or "unknown",
    }


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``; 0 where it does not exist)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def _own_seconds() -> float:
    """CPU seconds of this process and its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load_note(loads: tuple, other: tuple) -> str:
    """The load averages, and how much CPU the rest of the machine used while the run lasted."""
    other_cpu, wall = other
    share = other_cpu / wall if wall > 0 else 0.0
    text = (f"- Load average (1 min) before / after the run: {loads[0]:.2f} / {loads[1]:.2f} (the run's own "
            f"processes count in the second); CPU used by other processes during the run: {other_cpu:.0f} s in "
            f"{wall:.0f} s ({share:.0%} of one core)")
    if share >= 0.10:
        return text + (" — **a busy machine**: other processes shared the cores, so times drift and 2-thread "
                       "figures (whose threads wait for each other at every BLAS call) are unreliable; re-run quiet")
    if share >= 0.03:
        return text + " (a little load: compare ratios, not absolute times)"
    return text + " (a quiet machine)"


def _ms(stats: dict) -> str:
    return f"{stats['median_ms']:.2f} ({stats['q1_ms']:.2f}-{stats['q3_ms']:.2f})"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _round(r: dict) -> str:
    ratios = r["round_ratios"]
    return f"{ratios['median']:.2f} ({ratios['q1']:.2f}-{ratios['q3']:.2f})"


def _guard(r: dict) -> str:
    verdict = "yes" if r["guard_ok"] else "**NO**"
    return f"{verdict}: {r['trajectory_diff']:.0e} / {r['resync_loss_diff']:.0e} / {r['resync_update_diff']:.0e}"


def timing_table(runs: dict, untuned: dict | None, skipped: dict) -> str:
    """One row per model, optimizer and thread count."""
    untuned_ratio = {(r["case"], r["optimizer"]): r["ratio"] for r in (untuned or {}).get("results", [])}
    header = ["model", "optimizer", "threads", "dltoys ms, median (IQR)", "PyTorch ms, median (IQR)",
              "ratio dltoys/PyTorch", "per-round ratio, median (IQR)", "ratio, runtime settings off",
              "guard: loss, first steps / resync loss / resync update", "timed steps"]  # fmt: skip
    rows = []
    for name, case in CASES.items():
        if name in skipped:
            rows.append([case.title, "-", "-", skipped[name], "", "", "", "", "", ""])
            continue
        for threads, run in runs.items():
            for r in (r for r in run["results"] if r["case"] == name):
                no_tune = untuned_ratio.get((name, r["optimizer"])) if threads == (untuned or {}).get("threads") else None
                rows.append([
                    case.title if r["optimizer"] == "SGD" and threads == min(runs) else "",
                    r["optimizer"], str(threads), _ms(r["dltoys"]), _ms(r["torch"]), f"**{r['ratio']:.2f}**",
                    _round(r), "" if no_tune is None else f"{no_tune:.2f}",
                    _guard(r),
                    str(r["steps"]),
                ])  # fmt: skip
        if name == "mlp":
            for threads, run in runs.items():
                for r in run.get("peers", []):
                    rows.append(["numpy-ml's MLP (a peer; ratio numpy-ml/PyTorch)", r["optimizer"], str(threads),
                                 _ms(r["numpy_ml"]), _ms(r["torch"]), f"{r['ratio']:.2f}", _round(r), "",
                                 f"{'yes' if r['guard_ok'] else 'no'}: {r['trajectory_diff']:.0e}", str(r["steps"])])  # fmt: skip
    return _table(header, rows)


def cpu_lines(runs: dict) -> list[str]:
    """Ratios of CPU time at 1 thread: at one thread per side, other processes on the machine
    delay a step without adding to its CPU time, so these move less than the wall-clock ones."""
    run = runs.get(1)
    if not run or not run["results"]:
        return []
    parts = [f"{r['case'].upper()} {r['optimizer']} {r['cpu_ms']['dltoys'] / r['cpu_ms']['torch']:.2f}" for r in run["results"]]
    return ["Ratios of CPU time at 1 thread (less sensitive to other processes on the machine): " + ", ".join(parts) + ".", ""]


def peak_lines(runs: dict) -> list[str]:
    lines = []
    for threads, run in runs.items():
        peak = run.get("peak")
        if not peak:
            continue
        text = (f"- {threads} thread{'s' if threads > 1 else ''}: float32 matmul peak "
                f"{peak['peak_gflops']:.0f} GFLOP/s (best of 7, n = {peak['n']}; median {peak['median_gflops']:.0f})")  # fmt: skip
        for r in run["results"]:
            if r["case"] == "mlp" and "dltoys_gflops" in r:
                text += (f"; MLP step with {r['optimizer']}: dltoys {r['dltoys_gflops']:.0f} GFLOP/s = "
                         f"**{r['dltoys_gflops'] / peak['peak_gflops']:.0%}** of peak, PyTorch "
                         f"{r['torch_gflops']:.0f} GFLOP/s = {r['torch_gflops'] / peak['peak_gflops']:.0%}")  # fmt: skip
        lines.append(text)
    return lines


def memory_table(memory: dict) -> str:
    rows = []
    for name, case in CASES.items():
        sides = memory.get(name)
        if not sides:
            continue
        dl, pt = sides.get("dltoys", {}), sides.get("torch", {})
        rows.append([
            case.title,
            f"{dl['rss_growth'] / MIB:.1f}" if dl else "",
            f"{dl['numpy_peak'] / MIB:.1f}" if dl else "",
            f"{pt['rss_growth'] / MIB:.1f}" if pt else "",
        ])  # fmt: skip
    header = ["model", "dltoys: RSS growth, MiB", "dltoys: NumPy peak in a step, MiB", "PyTorch: RSS growth, MiB"]
    return _table(header, rows)


def goal_lines(runs: dict) -> list[str]:
    lines = []
    for threads, goals in GOALS.items():
        run = runs.get(threads)
        if run is None:
            lines.append(f"- (the goals at {threads} thread{'s' if threads > 1 else ''} were not measured in this run)")
            continue
        for name, goal in goals.items():
            results = [r for r in run["results"] if r["case"] == name]
            label = f"{name.upper()} at {threads} thread{'s' if threads > 1 else ''}: ratio <= {goal}"
            if not results:
                lines.append(f"- {label}: not measured ({run.get('skipped', {}).get(name, 'not in this run')})")
                continue
            parts = ", ".join(f"{r['optimizer']} {r['ratio']:.2f}" for r in results)
            met = all(r["ratio"] <= goal for r in results)
            lines.append(f"- {label}: {parts}: **{'met' if met else 'missed'}**")
    run = runs.get(MLP_PEAK_THREADS)
    peak = run.get("peak") if run else None
    for r in run["results"] if run else []:
        if peak and r["case"] == "mlp" and r["optimizer"] == "SGD" and "dltoys_gflops" in r:
            fraction = r["dltoys_gflops"] / peak["peak_gflops"]
            lines.append(f"- MLP at >= {MLP_PEAK_GOAL:.0%} of the matmul peak at {MLP_PEAK_THREADS} thread: "
                         f"{fraction:.0%}: **{'met' if fraction >= MLP_PEAK_GOAL else 'missed'}**")  # fmt: skip
    return lines


def _agreement(row: dict, smoke: bool) -> str:
    difference = abs(row["dltoys"]["figure"] - row["torch"]["figure"])
    percent = row["figure_name"].endswith("accuracy")
    scale, unit = (100, " points") if percent else (1, "")
    text = f"{scale * difference:.{2 if percent else 3}f}{unit} apart (allowed {scale * row['tolerance']:g})"
    if smoke:
        return f"not judged (smoke run): {text}"
    return f"{'yes' if difference <= row['tolerance'] else '**NO**'}: {text}"


def _figure(row: dict, side: str) -> str:
    value = row[side]["figure"]
    return f"{value:.1%}" if row["figure_name"].endswith("accuracy") else f"{value:.3f}"


def toys_section(toys: dict) -> list[str]:
    """The "Whole toys" table: the tour's wall time, and two toys against their PyTorch twins."""
    header = ["toy", "what was trained", "threads", "dltoys s", "PyTorch s", "ratio dltoys/PyTorch",
              "dltoys figure", "PyTorch figure", "figures agree"]  # fmt: skip
    rows, lines = [], []
    tour = toys.get("tour")
    if tour:
        verdicts: dict[str, list[str]] = {}
        for name, toy in tour["toys"].items():
            verdicts.setdefault(toy["verdict"], []).append(name)
        counts = ", ".join(f"{len(names)} {verdict}" + ("" if verdict == "PASS" else f" ({', '.join(names)})")
                           for verdict, names in verdicts.items())  # fmt: skip
        rows.append(["the quick tour (`dltoys tour`)", f"all {len(tour['toys'])} toys in quick mode, one process",
                     "1 per toy", f"{tour['wall']:.0f}", "-", "-", counts or f"exit {tour['exit_code']}", "-", "-"])  # fmt: skip
        slowest = sorted(tour["toys"].items(), key=lambda item: -item[1]["seconds"])[:5]
        lines.append("The tour's five slowest toys: " + ", ".join(f"{name} {toy['seconds']:.1f} s" for name, toy in slowest) + ".")
        if tour["total"] is None:
            lines.append(f"The tour printed no total: it did not finish (exit {tour['exit_code']}).")
        else:
            lines.append(f"The tour's own total: {tour['total']:.0f} s (the row's wall time adds the interpreter's start).")
    for row in toys["rows"]:
        dl, pt = row["dltoys"], row["torch"]
        rows.append([f"`{row['toy']}`", row["what"], str(row["threads"]), f"{dl['seconds']:.2f}", f"{pt['seconds']:.2f}",
                     f"**{dl['seconds'] / pt['seconds']:.2f}**", _figure(row, "dltoys"), _figure(row, "torch"),
                     _agreement(row, toys["smoke"])])  # fmt: skip
        if "cpu_seconds" in dl:
            lines.append(f"`{row['toy']}` in CPU seconds (less sensitive to other processes): dltoys "
                         f"{dl['cpu_seconds']:.2f}, PyTorch {pt['cpu_seconds']:.2f}, ratio "
                         f"{dl['cpu_seconds'] / pt['cpu_seconds']:.2f}.")  # fmt: skip
    return [_table(header, rows), "", *lines, ""]


def report(runs: dict, untuned: dict | None, memory: dict, machine: dict, loads: tuple, other: tuple, smoke: bool,
           toys: dict | None = None) -> str:
    first = next(iter(runs.values()))
    process = first["process"]
    skipped = first.get("skipped", {})
    blas = process.get("blas") or {}
    versions = process.get("versions", {})
    parts = [
        "# dltoys vs PyTorch CPU: one training step, same model, weights, batch and dtype",
        "",
        "Written by `make bench` (`python -m benchmarks.run`); do not edit by hand. Where a goal is "
        "missed, [NOTES.md](NOTES.md) says what dominates, with profiles, and what was tried.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; {machine['os']}",
        _load_note(loads, other),
        f"- Python {machine['python']}, NumPy {versions.get('numpy')} with {blas.get('internal_api', '?')} "
        f"{blas.get('version', '')} ({blas.get('architecture', '?')} kernels), PyTorch {versions.get('torch')} "
        f"(MKL: {versions.get('torch_mkl')}, oneDNN: {versions.get('torch_mkldnn')}); dltoys at {machine['commit']}",
        f"- Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        "## How it is measured",
        "",
        "- One step = zero the gradients, forward, cross-entropy, backward, optimizer step (SGD: lr 0.01, "
        "momentum 0.9; Adam: lr 1e-3), float32 on both sides. The dltoys model is built from a seed; its "
        "`state_dict()` is loaded into the PyTorch model; both cycle through the same 64 fixed batches. "
        "The dltoys model has `needs_input_grad = False` (its input is data, so its first layer skips the "
        "input gradient, as PyTorch does for a tensor that does not require one).",
        "- One process per thread setting, with `OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS` and "
        "`MKL_NUM_THREADS` equal and `torch.set_num_threads(n)`; inside it dltoys and PyTorch "
        "alternate in blocks of steps (at least 8 steps and ~0.2 s each; the order flips every round), "
        "after warm-up, with Python's garbage collector paused for both. At 2 threads the process "
        "sleeps 0.25 s between blocks: an idle thread pool keeps spinning after its last call "
        "(OpenBLAS's for 50-200 ms, which made PyTorch's MLP steps 6 ms instead of 1.7 every other "
        "step), and training with one library never pays for the other's. Every step is timed; the "
        "first of each block (waking the pool) is left out. Wall-clock medians with the interquartile "
        "range; the ratio is of the medians; the per-round ratio compares the two sides' medians in "
        "each pair of adjacent blocks, which moves less when other processes come and go.",
        "- dltoys trains with `dltoys.runtime.tune_allocator()` on, as `fit` does, and with "
        f"`OPENBLAS_THREAD_TIMEOUT={BLAS_THREAD_TIMEOUT}`, as the `dltoys` command sets it (OpenBLAS's idle "
        "threads sleep after ~0.1 ms instead of spinning ~0.1 s, which leaves the second core to dltoys's "
        "own elementwise threads; only NumPy's OpenBLAS reads it). Both are process-wide, so PyTorch's "
        "steps in the same process run under them too; the column 'runtime settings off' comes from one "
        "more process at 2 threads with both at their defaults.",
        "- The guard (the run fails without it): both sides' losses agree over the first 6 steps, to 1e-4 "
        "of the first loss; then, after the timed steps, PyTorch is given dltoys's weights and optimizer "
        "state and both take one more step: the losses agree to 1e-4 of the first loss and every "
        "parameter's update to 1e-3 (L2, relative). Further on, two float32 trajectories drift apart "
        "by themselves (Adam's faster), hence the resynchronised step.",
        "- Memory, in a fresh process per model and side, SGD: 'RSS growth' is how much the resident-set "
        "high-water mark (`ru_maxrss`) grows over the first 3 training steps once model and batches exist "
        "(activations, gradients, optimizer state, library workspaces); 'NumPy peak' is the peak of NumPy "
        "allocations during one later step above those live before it (`tracemalloc`, blind to PyTorch).",
        "",
        "## Step times",
        "",
        timing_table(runs, untuned, skipped),
        "",
        *cpu_lines(runs),
        "## Matmul peak and the MLP's share of it",
        "",
        *peak_lines(runs),
        "",
    ]
    if memory:
        parts += ["## Memory of one step", "", memory_table(memory), ""]
    if toys:
        parts += ["## Whole toys", "",
                  "The quick tour's wall time, and two toys' training against the same training written in "
                  "PyTorch (same data, split, initial weights and batch order; see [NOTES.md](NOTES.md), "
                  f"Whole toys). The GPT toy in {toys['mode']} mode. One run of each side, one after the other.",
                  "", *toys_section(toys)]  # fmt: skip
    parts += ["## Goals (issue 16; same run)", "", *goal_lines(runs), ""]
    if smoke:
        parts.insert(2, "**Smoke run: a few steps per model; the times mean nothing.**\n")
    return "\n".join(parts)


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few steps per model at 1 thread: the guard, no timing")
    parser.add_argument("--threads", default="1,2", help="comma-separated BLAS thread counts")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per model and optimizer")
    parser.add_argument("--no-untuned", action="store_true", help="skip the run with the runtime settings off (allocator, OpenBLAS thread timeout)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory processes")
    parser.add_argument("--no-toys", action="store_true", help="skip the whole-toy rows (the tour, cnn-digits, the GPT)")
    parser.add_argument("--toy-mode", choices=("quick", "full"), default="quick", help="the GPT toy's mode in the whole-toy rows")
    parser.add_argument("--output", default=None, help=f"where to write the report (default {RESULTS.relative_to(ROOT)}; smoke: none)")
    args = parser.parse_args(argv)

    cases = args.cases.split(",")
    unknown = [name for name in cases if name not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {unknown}; allowed: {', '.join(CASES)}")
    threads = [int(t) for t in args.threads.split(",")]
    worker_args = ["--cases", ",".join(cases), "--seconds", str(args.seconds)]
    peers = not args.smoke and "mlp" in cases and (PEERS_DIR / "numpy_ml").is_dir()
    if peers:
        worker_args.append("--peers")
    if args.smoke:
        threads = threads[:1]
        worker_args += ["--min-steps", "4", "--max-steps", "4", "--block", "1", "--warmup", "1", "--batches", "2", "--peak-n", "256"]

    loads = [os.getloadavg()[0]]
    started, busy, own = time.perf_counter(), _busy_seconds(), _own_seconds()
    runs, failed = {}, False
    for n in threads:
        print(f"benchmarks: {n} thread{'s' if n > 1 else ''} ...", file=sys.stderr, flush=True)
        runs[n], code = run_worker(n, worker_args)
        failed |= code != 0
    untuned = None
    if not (args.smoke or args.no_untuned) and 2 in threads:
        print("benchmarks: 2 threads, runtime settings off ...", file=sys.stderr, flush=True)
        untuned, code = run_worker(2, worker_args + ["--peak-n", "0"], tune_allocator=False)
        untuned["threads"] = 2
        failed |= code != 0
    memory: dict = {}
    if not (args.smoke or args.no_memory):
        print("benchmarks: memory ...", file=sys.stderr, flush=True)
        built = [name for name in cases if name not in next(iter(runs.values())).get("skipped", {})]
        for name in built:
            for side in ("dltoys", "torch"):
                out, code = run_worker(1, ["--memory", name, side])
                memory.setdefault(name, {})[side] = out["memory"]
                failed |= code != 0
    toys = None
    if not args.no_toys:
        print("benchmarks: whole toys ...", file=sys.stderr, flush=True)
        toys, _ = run_toys(args.toy_mode, args.smoke)  # figures that disagree are reported, never fatal
    loads.append(os.getloadavg()[0])
    other = (max(0.0, (_busy_seconds() - busy) - (_own_seconds() - own)), time.perf_counter() - started)

    text = report(runs, untuned, memory, _machine(), tuple(loads), other, args.smoke, toys)
    if not peers and not args.smoke:
        text += "\nnumpy-ml's MLP (a peer row) was not measured: `make bench-peers` installs it.\n"
    print(text)
    bad = [f"{n} thread(s): {', '.join(run['failed'])}" for n, run in runs.items() if run.get("failed")]
    if untuned and untuned.get("failed"):
        bad.append("runtime settings off: " + ", ".join(untuned["failed"]))
    if failed or bad:
        print("benchmarks: FAILED: the dltoys and PyTorch losses disagree: " + "; ".join(bad)
              + " (no results written)", file=sys.stderr)  # fmt: skip
        return 1
    output = args.output if args.output is not None else (None if args.smoke else str(RESULTS))
    if output:
        Path(output).write_text(text + "\n")
        print(f"benchmarks: wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
