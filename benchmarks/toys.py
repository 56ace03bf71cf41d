"""Whole toys: the quick tour's wall time, and two toys' training against the same training in PyTorch.

:mod:`benchmarks.run` starts this module as its own process (``python -m benchmarks.toys
--json OUT``), after the step rows, with one BLAS thread in its environment
(``OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = 1``) and
``torch.set_num_threads(1)``: what every toy runs with. Three rows:

- **tour**: ``python -m dltoys tour`` (quick mode) in a subprocess; its wall time, and each
  toy's seconds as the tour prints them (``    PASS in 12.3 s``). No PyTorch side.
- **cnn-digits**: the toy itself (:func:`dltoys.toys.registry.run_toy`, its default config,
  which is its quick mode), read from its own ``metrics["seconds"]`` (training, validation
  every epoch, test predictions) and ``test_accuracy``; then the same training in PyTorch
  (:func:`torch_cnn_training`): the same arrays, a ``torch.nn.Sequential`` with the toy's
  initial weights, AdamW, a cosine schedule stepped per epoch, dltoys's shuffled order.
- **transformer-lm**: the toy's GPT training (``_train_gpt`` with the toy's quick config, or
  its full one), whose time leaves out the held-out evaluations; then the same in PyTorch
  (:func:`torch_gpt_training`): the same text, split, initial weights, random windows, two
  AdamW groups, ``LambdaLR`` per batch, gradient-norm clipping and held-out bits.

Data preparation (the split, the shifted copies, the text and its encoding) is outside
both clocks; each side builds its own optimizer outside its clock, as the toys do.
Dropout masks come from each library's own generator, so the CNN's two trajectories
differ (the figures agree within :data:`AGREE`, they are not equal); the GPT has no
dropout, so its two sides differ only by float32 rounding.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .cases import _shared_data, gpt_torch
from .worker import load_weights, setup_process

ROOT = Path(__file__).resolve().parent.parent
#: Largest difference of the two sides' figures called agreement: test accuracy (a fraction)
#: for the CNN (1.5 points: 5 of its 359 test digits), held-out bits per character for the GPT.
AGREE = {"cnn-digits": 0.015, "transformer-lm": 0.05}
#: Overrides of the smoke run (CI): the code paths, not the figures.
SMOKE = {"cnn-digits": {"epochs": 1}, "transformer-lm": {"iters": 8, "eval_every": 4, "max_chars": 50_000}}
TOUR_TIMEOUT = 1800.0

# ------------------------------------------------------------------- the tour
_TOY_LINE = re.compile(r"^\[\d+/\d+\] (?P<toy>\S+): ")
_DONE_LINE = re.compile(r"^    (?P<verdict>PASS|MISSED|FAILED|SKIPPED)\b.* in (?P<seconds>\d+(?:\.\d+)?) s$")
_TOTAL_LINE = re.compile(r"^report: .* in (?P<seconds>\d+(?:\.\d+)?) s$")


def parse_tour(stdout: str) -> dict:
    """Read ``dltoys tour``'s output: ``{"toys": {name: {"verdict", "seconds"}}, "total": seconds or None}``.

    The tour prints ``[3/24] xor: TITLE`` before a toy and ``    PASS in 11.2 s`` after it
    (``SKIPPED: why in 0.0 s``), and ends with ``report: PATH (and report.md) in 117 s``.
    """
    toys: dict[str, dict] = {}
    total, current = None, None
    for line in stdout.splitlines():
        if match := _TOY_LINE.match(line):
            current = match["toy"]
        elif (match := _DONE_LINE.match(line)) and current is not None:
            toys[current] = {"verdict": match["verdict"], "seconds": float(match["seconds"])}
            current = None
        elif match := _TOTAL_LINE.match(line):
            total = float(match["seconds"])
    return {"toys": toys, "total": total}


def run_tour(only: list[str] | None = None, timeout: float = TOUR_TIMEOUT) -> dict:
    """``python -m dltoys tour`` (every toy, or ``only`` these) into a temporary folder: its wall
    time, exit code and parsed output.

    The shared data folder (Cora) is passed on as ``$DLTOYS_SHARED_DATA`` when it exists, as
    CI does; without it the cora toy is skipped (the row says so).
    """
    env = dict(os.environ)
    if not env.get("DLTOYS_SHARED_DATA") and _shared_data().is_dir():
        env["DLTOYS_SHARED_DATA"] = str(_shared_data().resolve())
    with tempfile.TemporaryDirectory(prefix="dltoys-bench-tour-") as tmp:
        command = [sys.executable, "-m", "dltoys", "tour", "--out", tmp, "--no-progress"]
        command += ["--only", ",".join(only)] if only else []
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - started
    parsed = parse_tour(done.stdout)
    if done.returncode not in (0, 1) or not parsed["toys"]:  # exit 1: a target missed, which the row reports
        sys.stderr.write(f"benchmarks.toys: the tour exited {done.returncode}; it printed:\n"
                         + done.stdout[-3000:] + done.stderr[-3000:])  # fmt: skip
    return {"wall": wall, "exit_code": done.returncode, **parsed}


# ------------------------------------------------------------------ cnn-digits
def torch_sequential(model, nn):
    """A ``torch.nn.Sequential`` with the layers of the dltoys ``Sequential`` ``model`` (its keys and shapes).

    Covers the layers of :class:`dltoys.models.CNN` on images; anything else is an error.
    """
    layers = []
    for layer in model:
        kind = type(layer).__name__
        if kind == "Conv2d":
            layers.append(nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                                    padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                                    bias=layer.bias is not None))  # fmt: skip
        elif kind == "BatchNorm2d":
            layers.append(nn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum))
        elif kind == "MaxPool2d":
            layers.append(nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding))
        elif kind == "Linear":
            layers.append(nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None))
        elif kind == "Dropout":
            layers.append(nn.Dropout(layer.p))
        elif kind in ("ReLU", "Flatten"):
            layers.append(getattr(nn, kind)())
        else:
            raise ValueError(f"torch_sequential: no PyTorch twin for the dltoys layer {kind}")
    return nn.Sequential(*layers)


def torch_cnn_setup(config):
    """The toy's network in PyTorch with the toy's initial weights, its AdamW and cosine schedule."""
    import torch

    from dltoys.toys import cnn_digits

    initial = cnn_digits.build_model(config)
    model = torch_sequential(initial, torch.nn)
    load_weights(model, initial)  # BatchNorm's running statistics too; a key or shape mismatch is an error
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return model, optimizer, scheduler


def torch_cnn_training(config) -> dict:
    """cnn-digits's training written in PyTorch: ``{"seconds", "test_accuracy", "val_accuracy", "losses"}``.

    As the toy's ``train.fit``: every epoch the batches of 128 in the order dltoys's
    :class:`~dltoys.data.Minibatches` draws from ``config.seed``, each batch's loss and
    accuracy read (the loop logs them), then the validation loss and accuracy in eval mode
    (batches of 128), then the schedule's step; at the end the test predictions (batches
    of 256). Dropout masks come from PyTorch's generator, seeded with ``config.seed``.
    """
    import torch
    import torch.nn.functional as F

    from dltoys.data import Minibatches
    from dltoys.toys import cnn_digits

    data = cnn_digits.prepare_data(config)  # outside the clock, as in the toy
    (X_fit, y_fit), (X_val, y_val), (X_test, y_test) = data["fit"], data["val"], data["test"]
    torch.manual_seed(config.seed)
    model, optimizer, scheduler = torch_cnn_setup(config)
    batches = Minibatches(X_fit, y_fit, batch_size=config.batch_size, shuffle=True, rng=config.seed)
    losses, val_accuracy = [], []
    started = time.perf_counter()
    for _ in range(config.epochs):
        model.train()
        for x, y in batches:
            targets = torch.from_numpy(y)
            optimizer.zero_grad()
            logits = model(torch.from_numpy(x))
            loss = F.cross_entropy(logits, targets)
            loss.backward()
            optimizer.step()
            losses.append((loss.item(), (logits.argmax(dim=1) == targets).float().mean().item()))  # the loop's logs
        model.eval()
        val_loss = correct = 0.0
        with torch.no_grad():
            for first in range(0, len(X_val), config.batch_size):
                targets = torch.from_numpy(y_val[first : first + config.batch_size])
                logits = model(torch.from_numpy(X_val[first : first + config.batch_size]))
                val_loss += F.cross_entropy(logits, targets, reduction="sum").item()
                correct += (logits.argmax(dim=1) == targets).sum().item()
        val_accuracy.append(correct / len(X_val))
        scheduler.step()
    with torch.no_grad():
        predicted = torch.cat([model(torch.from_numpy(X_test[first : first + 256])).argmax(dim=1)
                               for first in range(0, len(X_test), 256)]).numpy()  # fmt: skip
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "test_accuracy": float(np.mean(predicted == y_test)), "val_accuracy": val_accuracy,
            "losses": [loss for loss, _ in losses]}


def cnn_row(overrides: dict | None = None) -> dict:
    """The toy run (its own figures) and its PyTorch twin."""
    from dltoys.toys import cnn_digits
    from dltoys.toys.registry import make_config, run_toy

    config = make_config(cnn_digits, overrides, quick=True)
    with tempfile.TemporaryDirectory(prefix="dltoys-bench-cnn-") as tmp:
        report = run_toy(cnn_digits.NAME, config, run_dir=Path(tmp) / cnn_digits.NAME, progress=False, html=False)
    twin = torch_cnn_training(config)
    n_fit, n_test = len(cnn_digits.prepare_data(config)["fit"][0]), int(np.sum(report.metrics["confusion_matrix"]))
    what = (f"{config.epochs} epoch{'s' if config.epochs > 1 else ''} of {n_fit} images (batch {config.batch_size}, "
            f"AdamW, cosine), validation every epoch, then {n_test} test digits")  # fmt: skip
    return {
        "toy": cnn_digits.NAME, "what": what, "threads": 1, "figure_name": "test accuracy",
        "dltoys": {"seconds": report.metrics["seconds"], "figure": report.metrics["test_accuracy"]},
        "torch": {"seconds": twin["seconds"], "figure": twin["test_accuracy"]},
        "tolerance": AGREE[cnn_digits.NAME],
    }  # fmt: skip


# ------------------------------------------------------------ transformer-lm
def torch_gpt_setup(config, vocab_size: int):
    """The toy's GPT in PyTorch with its initial weights, nanoGPT's AdamW groups and the toy's ``LambdaLR``."""
    import torch

    from dltoys.toys import transformer_lm

    if config.dropout:
        raise ValueError(f"dropout: the PyTorch twin of the GPT has none, received {config.dropout}")
    initial = transformer_lm.build_gpt(config, vocab_size)
    model = gpt_torch(torch.nn, vocab_size, config.block_size, config.n_embd, config.n_head, config.n_layer,
                      bias=config.bias, tie_weights=initial.tie_weights)  # fmt: skip
    load_weights(model, initial)
    params = list(model.parameters())  # the tied table once
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]  # fmt: skip
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr, betas=(0.9, 0.99))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, transformer_lm.lr_factor(config))
    return model, optimizer, scheduler


def torch_bits_per_char(model, ids: np.ndarray, block_size: int, batch_size: int = 128) -> float:
    """:func:`dltoys.toys.transformer_lm.gpt_bits_per_char` for the PyTorch twin (same windows and batches)."""
    import torch
    import torch.nn.functional as F

    T = block_size
    n_windows = (len(ids) - 1) // T
    starts = np.arange(n_windows) * T
    total = 0.0
    model.eval()
    with torch.no_grad():
        for first in range(0, n_windows, batch_size):
            positions = starts[first : first + batch_size, None] + np.arange(T + 1)  # (B, T + 1)
            windows = torch.from_numpy(ids[positions].astype(np.int64))
            total += F.cross_entropy(model(windows[:, :-1]), windows[:, 1:].reshape(-1), reduction="sum").item()
    model.train()
    return total / (n_windows * T) / math.log(2)


def torch_gpt_training(config, train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> dict:
    """transformer-lm's GPT training written in PyTorch.

    Returns ``{"seconds", "cpu_seconds", "bits", "held_out", "losses", "grad_norms"}``: the
    training time without the held-out evaluations (as the toy counts it), the last
    held-out bits per character, every evaluation's, every batch's loss and gradient norm
    before clipping.
    """
    import torch
    import torch.nn.functional as F

    from dltoys.data import RandomWindows

    model, optimizer, scheduler = torch_gpt_setup(config, vocab_size)
    windows = RandomWindows(train_ids, config.block_size, config.batch_size, config.iters, rng=config.seed)
    held_out, losses, norms = [], [], []
    eval_wall = eval_cpu = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    model.train()
    for step, (x, y) in enumerate(windows, start=1):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y).reshape(-1))
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if step % config.eval_every == 0 or step == config.iters:
            eval_started, eval_cpu_started = time.perf_counter(), time.process_time()
            held_out.append(torch_bits_per_char(model, val_ids, config.block_size))
            eval_wall += time.perf_counter() - eval_started
            eval_cpu += time.process_time() - eval_cpu_started
    wall, cpu = time.perf_counter() - wall - eval_wall, time.process_time() - cpu - eval_cpu
    return {"seconds": wall, "cpu_seconds": cpu, "bits": held_out[-1], "held_out": held_out, "losses": losses,
            "grad_norms": norms}  # fmt: skip


def gpt_row(mode: str = "quick", overrides: dict | None = None) -> dict:
    """The toy's GPT training (``_train_gpt``, as the toy calls it) and its PyTorch twin."""
    from dltoys.toys import transformer_lm
    from dltoys.toys.base import RunContext
    from dltoys.toys.registry import make_config

    config = make_config(transformer_lm, overrides, quick=mode == "quick")
    _, _, vocab, train_ids, val_ids = transformer_lm.prepare_text(config)  # outside both clocks
    with tempfile.TemporaryDirectory(prefix="dltoys-bench-gpt-") as tmp:
        ctx = RunContext(Path(tmp), progress=False)
        _, _, held_out, (wall, cpu) = transformer_lm._train_gpt(config, train_ids, val_ids, len(vocab), ctx)
    twin = torch_gpt_training(config, train_ids, val_ids, len(vocab))
    what = (f"GPT {config.n_layer} layers x {config.n_head} heads, width {config.n_embd}, context {config.block_size}: "
            f"{config.iters} steps of {config.batch_size} windows, {len(held_out.steps)} held-out evaluations "
            f"(not timed); {mode} mode")  # fmt: skip
    return {
        "toy": transformer_lm.NAME, "what": what, "threads": 1, "figure_name": "held-out bits/char",
        "dltoys": {"seconds": wall, "cpu_seconds": cpu, "figure": held_out.bits[-1]},
        "torch": {"seconds": twin["seconds"], "cpu_seconds": twin["cpu_seconds"], "figure": twin["bits"]},
        "tolerance": AGREE[transformer_lm.NAME],
    }  # fmt: skip


# ------------------------------------------------------------------------ main
def _progress(row: dict) -> None:
    dl, pt = row["dltoys"], row["torch"]
    print(f"  [toys] {row['toy']:14s} dltoys {dl['seconds']:6.1f} s  torch {pt['seconds']:6.1f} s  "
          f"{row['figure_name']} {dl['figure']:.4f} / {pt['figure']:.4f}", file=sys.stderr, flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.toys", description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick", help="the GPT toy's mode")
    parser.add_argument("--smoke", action="store_true", help="no tour; the CNN and GPT rows at a tiny size")
    args = parser.parse_args(argv)

    output: dict = {"process": setup_process(1, True), "mode": args.mode, "smoke": args.smoke, "rows": []}
    if not args.smoke:
        print("  [toys] the quick tour ...", file=sys.stderr, flush=True)
        output["tour"] = run_tour()
        print(f"  [toys] tour: {output['tour']['wall']:.0f} s (exit {output['tour']['exit_code']})", file=sys.stderr)
    for row in (cnn_row(SMOKE["cnn-digits"] if args.smoke else None),
                gpt_row(args.mode, SMOKE["transformer-lm"] if args.smoke else None)):  # fmt: skip
        output["rows"].append(row)
        _progress(row)
    with open(args.json, "w") as handle:
        json.dump(output, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
