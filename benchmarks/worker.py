"""What one benchmark process measures, at the BLAS thread count it was started with.

Thread counts must be fixed before NumPy's OpenBLAS starts, so :mod:`benchmarks.run`
starts one worker per setting with ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS`` equal in its environment; the worker checks that NumPy's BLAS
really has that many threads and calls ``torch.set_num_threads`` with the same number.

Inside the process, for each case and optimizer, dltoys and PyTorch train the same
model (same weights, same batches, float32) in alternation: warm-up steps, then
timed rounds of a block of steps of one side and a block of the other (``BLOCK``,
``BLOCK_SECONDS``), whose order flips every round, with a pause between blocks at more
than one thread (``PAUSE``) and Python's garbage collector paused (for both) while
timing. Every step is timed; the first of each block is left out (see
:func:`summarise`); the medians and quartiles are reported, and the ratio of medians.

The guard, in two parts (a failed guard makes the run fail: a fast wrong step does
not count). Both sides run the same steps on the same ``N_BATCHES`` batches in the
same order, so (1) their losses agree over the first ``TRAJECTORY_STEPS`` steps (to
``LOSS_RTOL`` of the first loss), and (2) after the timed steps, PyTorch is given
dltoys's weights and optimizer state and both take one more step: the losses agree
(forward at the trained weights) and so do the parameter updates (gradients and
optimizer at step ``t``, to ``UPDATE_RTOL``).

Memory is measured in separate processes (``--memory CASE SIDE``), one model and
one side each, since the resident-size high-water mark is per process:
``rss_growth`` is the growth of ``ru_maxrss`` over the first training steps after
the model and batch exist (activations, gradients, optimizer state, workspace, as
the process sees it, PyTorch included); for dltoys also ``numpy_peak``, the peak of
NumPy allocations during one step above what was allocated before it
(``tracemalloc``, which does not see PyTorch's allocations).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import resource
import sys
import time
from typing import Any, Callable

import numpy as np

from .cases import CASES, DTYPE, Case

#: The guard on losses: the largest difference allowed between the two sides' losses,
#: relative to the first step's loss (the untrained model's, about log(classes)).
#: Relative to the loss itself it would be ill-posed: as a model fits its batches
#: the loss nears 0, and float32 rounding in log-sum-exp is ~1e-7 absolute per sample.
LOSS_RTOL = 1e-4
#: The guard on the resynchronised step: ``|update_dltoys - update_torch| / |update_torch|``
#: (L2 norms, per parameter tensor) allowed for the step after the timed steps.
UPDATE_RTOL = 1e-3
#: How many first steps the trajectories are compared over (the untimed first step and
#: the warm-up). Further on, float32 rounding differences grow along two training
#: trajectories: ~1e-7 of the loss after 40 SGD steps of the MLP, but ~1e-5 after 6
#: and ~1e-4 after 25 Adam steps (Adam's lr-sized moves of every weight make the
#: trajectory sensitive), so after the timed steps the guard resynchronises instead.
TRAJECTORY_STEPS = 6
#: The optimizers timed, with the same hyperparameters on both sides.
OPTIMIZERS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 1e-3},
}
SEED = 0
#: Steps of one side before the other's turn: at least BLOCK, lasting at least about
#: BLOCK_SECONDS. Alternating every step made each side start cold (caches, and the other
#: library's thread pool still spinning): at 2 threads on a busy machine the per-step
#: alternation made PyTorch's RNN step 50x slower.
BLOCK = 8
BLOCK_SECONDS = 0.2
#: Sleep between blocks when running more than one thread. An idle thread pool keeps
#: spinning for a while after its last call: OpenBLAS's worker for 50-200 ms (2**28
#: cycles), during which PyTorch's MLP steps took 6 ms every other step instead of
#: 1.7; PyTorch's OpenMP threads for a few ms (the next dltoys LSTM step: 24-34 ms
#: instead of 16.5). Training with one library never pays for the other's spinning.
PAUSE = 0.25
#: Distinct batches that both sides cycle through in the same order, like an epoch of
#: training data (one fixed batch would be memorised within the timed steps).
N_BATCHES = 64


# ----------------------------------------------------------------- building
def build_pair(case: Case, seed: int = SEED, with_torch: bool = True, n_batches: int = N_BATCHES):
    """``(dltoys model, torch model or None, batches)``: equal weights, ``n_batches`` fixed ``(x, y)``."""
    from dltoys import nn as dnn

    rng = np.random.default_rng(seed)
    model = case.build_dltoys(dnn, rng)
    batches = [case.make_batch(rng) for _ in range(n_batches)]
    torch_model = None
    if with_torch:
        import torch

        torch_model = case.build_torch(torch.nn)
        load_weights(torch_model, model)  # a key or shape mismatch is an error here
    return model, torch_model, batches


def load_weights(torch_model, model) -> None:
    """Copy a dltoys model's ``state_dict()`` (PyTorch's keys) into the PyTorch model."""
    import torch

    state = {key: torch.from_numpy(np.array(value, dtype=DTYPE)) for key, value in model.state_dict().items()}
    torch_model.load_state_dict(state, strict=True)


class DltoysSide:
    """One dltoys training step (on the next batch) per call, returning the loss (a 0-d array)."""

    def __init__(self, model, optimizer_name: str, batches: list):
        from dltoys import nn as dnn
        from dltoys import optim

        self.model = model
        # The input is data: no gradient for it, as PyTorch skips it for a tensor without requires_grad.
        model.needs_input_grad = False
        self.optimizer = getattr(optim, optimizer_name)(list(model.parameters()), **OPTIMIZERS[optimizer_name])
        self.loss_fn = dnn.CrossEntropyLoss()
        self.batches = itertools.cycle(batches)

    def __call__(self):
        x, y = next(self.batches)
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        self.model.backward(self.loss_fn.backward())
        self.optimizer.step()
        return loss

    def weights(self) -> dict[str, np.ndarray]:
        return {name: param.data.copy() for name, param in self.model.named_parameters()}


class TorchSide:
    """The same step in PyTorch (optimizer defaults otherwise: on CPU, its per-tensor loop)."""

    def __init__(self, model, optimizer_name: str, batches: list):
        import torch
        import torch.nn.functional as F

        self.model = model
        self.optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), **OPTIMIZERS[optimizer_name])
        self.cross_entropy = F.cross_entropy
        self.batches = itertools.cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches])

    def __call__(self):
        inputs, targets = next(self.batches)
        self.optimizer.zero_grad()
        loss = self.cross_entropy(self.model(inputs), targets)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def weights(self) -> dict[str, np.ndarray]:
        return {name: param.detach().numpy().copy() for name, param in self.model.named_parameters()}

    def synchronise(self, other: DltoysSide) -> None:
        """Take the dltoys side's weights and optimizer state, parameter by name.

        dltoys keeps PyTorch's parameter names and optimizer state names
        (``momentum_buffer``, ``step``, ``exp_avg``, ...), in lists in parameter order.
        """
        import torch

        load_weights(self.model, other.model)
        params = dict(self.model.named_parameters())
        for index, (name, _) in enumerate(other.model.named_parameters()):
            entry = {}
            for key, values in other.optimizer.state.items():
                value = values[index]
                if value is None:
                    continue
                # PyTorch keeps Adam's step count as a float32 scalar tensor on the CPU
                entry[key] = torch.tensor(float(value)) if np.ndim(value) == 0 else torch.from_numpy(value.copy())
            self.optimizer.state[params[name]] = entry


# ------------------------------------------------------------------ timing
def _quartiles(times: np.ndarray) -> dict:
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return {"median_ms": 1e3 * median, "q1_ms": 1e3 * q1, "q3_ms": 1e3 * q3}


def interleave(
    sides: dict[str, Callable[[], Any]],
    *,
    seconds: float,
    min_steps: int,
    max_steps: int,
    warmup: int,
    block: int = 1,
    block_seconds: float = 0.0,
    pause: float = 0.0,
) -> dict:
    """Step the sides in alternation: one untimed step each, warm-up, then timed rounds.

    A round runs a block of steps of one side, then one of the other; the order flips
    every round. A block has at least ``block`` steps and lasts at least about
    ``block_seconds``; after each block the process sleeps ``pause`` seconds, so that
    the other library starts with its thread pool asleep, not spinning. Returns the
    per-step wall and CPU times of the timed steps and every step's loss (as floats)
    of each side; the number of steps fills about ``seconds``.
    """
    losses: dict[str, list] = {side: [step()] for side, step in sides.items()}  # step 1: same weights, same batch
    warm_times: dict[str, list] = {side: [] for side in sides}
    for _ in range(warmup):
        for side, step in sides.items():
            start = time.perf_counter()
            losses[side].append(step())
            warm_times[side].append(time.perf_counter() - start)
    per_side = [float(np.median(t)) for t in warm_times.values()] if warmup else [0.0]
    steps = int(np.clip(seconds / sum(per_side) if sum(per_side) > 0 else min_steps, min_steps, max_steps))
    if max(per_side) > 0:
        block = max(block, int(np.ceil(block_seconds / max(per_side))))
    rounds = max(2, -(-steps // block))
    rounds += rounds % 2  # an even count: each side goes first equally often
    steps = rounds * block

    times = {side: np.empty(steps) for side in sides}
    cpu_times = {side: np.empty(steps) for side in sides}  # all threads' CPU time, spinning included
    order = list(sides)
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            for side in order if r % 2 == 0 else order[::-1]:
                step = sides[side]
                for i in range(r * block, (r + 1) * block):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    loss = step()
                    times[side][i] = time.perf_counter() - start
                    cpu_times[side][i] = time.process_time() - cpu_start
                    losses[side].append(loss)
                if pause:
                    time.sleep(pause)
    finally:
        if gc_was_enabled:
            gc.enable()
    curves = {side: np.array([float(loss) for loss in values]) for side, values in losses.items()}
    return {"steps": steps, "block": block, "warmup": warmup, "times": times, "cpu_times": cpu_times, "losses": curves}


def _round_ratios(measured: dict, side: str, reference: str) -> dict:
    """The ratio of the two sides' medians in each round (adjacent blocks): its median and IQR.

    Adjacent blocks see the same machine, so this moves less than the ratio of the
    overall medians when other processes come and go during the run.
    """
    block = measured["block"]
    rounds = measured["steps"] // block
    first = 1 if block > 1 else 0
    per_side = {name: measured["times"][name].reshape(rounds, block)[:, first:] for name in (side, reference)}
    ratios = np.median(per_side[side], axis=1) / np.median(per_side[reference], axis=1)
    q1, median, q3 = np.percentile(ratios, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3)}


def summarise(measured: dict, side: str, reference: str = "torch") -> dict:
    """Medians, quartiles, the ratio ``side / reference`` and the trajectory check of one pair.

    The first step of each block is left out of the times: it wakes the library's
    thread pool (and, without a pause, pays for the other library's, still spinning),
    which training with one library does once.
    """
    block = measured["block"]
    keep = np.arange(measured["steps"]) % block != 0 if block > 1 else slice(None)
    times = {name: values[keep] for name, values in measured["times"].items()}
    cpu_times = {name: values[keep] for name, values in measured["cpu_times"].items()}
    curves = measured["losses"]
    scale = max(abs(float(curves[reference][0])), 1e-30)
    diffs = np.abs(curves[side] - curves[reference])[:TRAJECTORY_STEPS] / scale
    worst = float(np.max(diffs)) if np.all(np.isfinite(diffs)) else float("inf")
    return {
        "steps": measured["steps"],
        side: _quartiles(times[side]),
        reference: _quartiles(times[reference]),
        "ratio": float(np.median(times[side]) / np.median(times[reference])),
        "round_ratios": _round_ratios(measured, side, reference),
        "cpu_ms": {name: 1e3 * float(np.median(cpu_times[name])) for name in (side, reference)},
        "first_loss": {name: float(curves[name][0]) for name in (side, reference)},
        "trajectory_diff": worst,
        "guard_ok": worst <= LOSS_RTOL,
    }


def resynchronised_step(dltoys: DltoysSide, torch_side: TorchSide, first_loss: float) -> dict:
    """After the timed steps: give PyTorch dltoys's weights and optimizer state, step both once, compare.

    Checks the loss (the forward pass at the trained weights) and each parameter's
    update (gradient and optimizer at step ``t``), free of the drift between two
    float32 trajectories.
    """
    before = dltoys.weights()
    torch_side.synchronise(dltoys)
    losses = float(dltoys()), float(torch_side())
    worst_update = 0.0
    after_dl, after_torch = dltoys.weights(), torch_side.weights()
    for name, old in before.items():
        new_dl, new_torch = after_dl[name], after_torch[name]
        update_torch = new_torch - old
        norm = float(np.linalg.norm(update_torch))
        if norm > 0:
            worst_update = max(worst_update, float(np.linalg.norm(new_dl - new_torch)) / norm)
        elif np.any(new_dl != old):
            worst_update = float("inf")
    loss_diff = abs(losses[0] - losses[1]) / max(abs(first_loss), 1e-30)
    return {
        "resync_loss_diff": loss_diff,
        "resync_update_diff": worst_update,
        "resync_ok": bool(loss_diff <= LOSS_RTOL and worst_update <= UPDATE_RTOL),
    }


def compare(case: Case, optimizer_name: str, n_batches: int = N_BATCHES, **timing) -> dict:
    """Time one case with one optimizer: interleaved steps, medians, the loss guard."""
    model, torch_model, batches = build_pair(case, n_batches=n_batches)
    sides = {"dltoys": DltoysSide(model, optimizer_name, batches), "torch": TorchSide(torch_model, optimizer_name, batches)}
    result = {"case": case.name, "optimizer": optimizer_name, **summarise(interleave(sides, **timing), "dltoys")}
    result.update(resynchronised_step(sides["dltoys"], sides["torch"], result["first_loss"]["torch"]))
    result["guard_ok"] = result["guard_ok"] and result["resync_ok"]
    if case.flops:
        result["dltoys_gflops"] = case.flops / (result["dltoys"]["median_ms"] * 1e6)
        result["torch_gflops"] = case.flops / (result["torch"]["median_ms"] * 1e6)
    return result


def compare_numpy_ml(optimizer_name: str, **timing) -> dict | None:
    """numpy-ml's MLP against PyTorch's, the same way (None when numpy-ml is not installed)."""
    from .cases import MLP
    from .peers import import_numpy_ml, numpy_ml_stepper

    neural_nets = import_numpy_ml()
    if neural_nets is None:
        return None
    model, torch_model, batches = build_pair(MLP)
    sides = {
        "numpy_ml": numpy_ml_stepper(neural_nets, model, optimizer_name, batches),
        "torch": TorchSide(torch_model, optimizer_name, batches),
    }
    return {"case": "mlp", "optimizer": optimizer_name, **summarise(interleave(sides, **timing), "numpy_ml")}


def matmul_peak(n: int = 2048, repeats: int = 7) -> dict:
    """GFLOP/s of a large square float32 NumPy matmul: the best of ``repeats`` and their median."""
    rng = np.random.default_rng(SEED)
    a = rng.standard_normal((n, n), dtype=DTYPE)
    b = rng.standard_normal((n, n), dtype=DTYPE)
    out = np.empty((n, n), dtype=DTYPE)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    flops = 2.0 * n**3
    return {"n": n, "peak_gflops": flops / min(times) / 1e9, "median_gflops": flops / float(np.median(times)) / 1e9}


# ------------------------------------------------------------------ memory
def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure_memory(case: Case, side: str, optimizer_name: str = "SGD", steps: int = 3) -> dict:
    """Resident-size growth over the first ``steps`` training steps of one side (own process)."""
    import tracemalloc

    model, torch_model, batches = build_pair(case, with_torch=side == "torch")
    step = DltoysSide(model, optimizer_name, batches) if side == "dltoys" else TorchSide(torch_model, optimizer_name, batches)
    gc.collect()
    before = _maxrss_bytes()
    for _ in range(steps):
        step()
    result = {"case": case.name, "side": side, "optimizer": optimizer_name, "rss_growth": _maxrss_bytes() - before}
    if side == "dltoys":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step()
        result["numpy_peak"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return result


# -------------------------------------------------------------------- main
def blas_threads() -> dict:
    """NumPy's BLAS library and its thread count, as threadpoolctl sees them (if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {key: pool.get(key) for key in ("internal_api", "version", "num_threads", "architecture")}
    return {}


def setup_process(threads: int, tune: bool) -> dict:
    """Check the BLAS thread count, set PyTorch's, apply (or not) dltoys's allocator setting."""
    import torch

    from dltoys.runtime import tune_allocator

    blas = blas_threads()
    if blas and blas.get("num_threads") != threads:
        raise SystemExit(
            f"benchmarks.worker: NumPy's BLAS runs {blas.get('num_threads')} threads, expected {threads}: "
            "start workers through benchmarks.run, which sets OPENBLAS_NUM_THREADS before NumPy loads"
        )
    torch.set_num_threads(threads)
    # mallopt is process-wide: PyTorch's CPU allocator (glibc malloc too) runs under the same setting.
    tuned = tune_allocator(tune)
    return {
        "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "allocator_tuned": bool(tuned),
        "blas": blas,
        "versions": {
            "numpy": np.__version__,
            "torch": torch.__version__,
            "torch_mkl": torch.backends.mkl.is_available(),
            "torch_mkldnn": torch.backends.mkldnn.is_available(),
        },
    }


def _progress(threads: int, name: str, result: dict, side: str) -> None:
    print(
        f"  [{threads} thread{'s' if threads > 1 else ''}] {name:5s} {result['optimizer']:4s} "
        f"{side} {result[side]['median_ms']:8.3f} ms  torch {result['torch']['median_ms']:8.3f} ms  "
        f"ratio {result['ratio']:.2f}  loss diff {result['trajectory_diff']:.1e}"
        + (f", resync {result['resync_loss_diff']:.1e}/{result['resync_update_diff']:.1e}" if "resync_ok" in result else ""),
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per case and optimizer (both sides)")
    parser.add_argument("--min-steps", type=int, default=20)
    parser.add_argument("--max-steps", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--block", type=int, default=BLOCK, help="steps of one side before the other's turn")
    parser.add_argument("--batches", type=int, default=N_BATCHES, help="distinct batches to cycle through")
    parser.add_argument("--peak-n", type=int, default=2048, help="size of the square matmul for the peak (0: skip)")
    parser.add_argument("--no-tune-allocator", action="store_true")
    parser.add_argument("--peers", action="store_true", help="also time numpy-ml's MLP, if installed (make bench-peers)")
    parser.add_argument("--memory", nargs=2, metavar=("CASE", "SIDE"), help="measure memory of one side instead")
    parser.add_argument("--json", required=True, help="where to write the results")
    args = parser.parse_args(argv)

    info = setup_process(args.threads, not args.no_tune_allocator)
    if args.memory:
        case_name, side = args.memory
        output: dict = {"process": info, "memory": measure_memory(CASES[case_name], side)}
    else:
        output = {"process": info, "results": [], "skipped": {}, "failed": []}
        if args.peak_n:
            output["peak"] = matmul_peak(args.peak_n)
        timing = {
            "seconds": args.seconds,
            "min_steps": args.min_steps,
            "max_steps": args.max_steps,
            "warmup": args.warmup,
            "block": args.block,
            "block_seconds": BLOCK_SECONDS if args.block > 1 else 0.0,
            "pause": PAUSE if args.threads > 1 and args.block > 1 else 0.0,
        }
        for name in args.cases.split(","):
            case = CASES[name]
            missing = case.missing()
            if missing:
                output["skipped"][name] = "not built yet (dltoys.nn lacks " + ", ".join(missing) + ")"
                continue
            reason = case.unavailable() if case.unavailable is not None else None
            if reason:
                output["skipped"][name] = f"skipped: {reason}"
                continue
            for optimizer_name in args.optimizers.split(","):
                result = compare(case, optimizer_name, n_batches=args.batches, **timing)
                output["results"].append(result)
                if not result["guard_ok"]:
                    output["failed"].append(f"{name}/{optimizer_name}")
                _progress(args.threads, name, result, "dltoys")
        if args.peers and "mlp" in args.cases.split(","):
            output["peers"] = []
            for optimizer_name in args.optimizers.split(","):
                result = compare_numpy_ml(optimizer_name, **timing)
                if result is None:
                    break
                output["peers"].append(result)  # a peer's disagreement is reported, never fatal
                _progress(args.threads, "numpy-ml mlp", result, "numpy_ml")
    with open(args.json, "w") as handle:
        json.dump(output, handle, indent=1)
    return 1 if output.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
