"""SOM: Kohonen's self-organizing map on RGB colours and on the handwritten digits, run against MiniSom."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .. import plot
from ..data import load_digits
from ..models import SOM
from .base import Report, RunContext, Table, Target, ToyConfig, option

NAME = "som"
TITLE = "SOM: a self-organizing map of colours and of the digits"
SHOWS = (
    "A 20x20 map sorts 1,000 random RGB colours into smooth regions of similar colour; a 30x30 map with MiniSom's "
    "digits-example settings (sigma 4, learning rate 0.5, triangle neighbourhood, PCA start, 5,000 updates) lays "
    "out the standardised 8x8 digits, its U-matrix ridges separating the digits written on it. MiniSom, when "
    "installed, is trained on the same samples in the same order and must not do better; Kohonen's batch rule "
    "gets there in a handful of whole-set updates."
)

#: MiniSom's published figures for its digits example (its README and notebook): QE and TE at most these.
MINISOM_QE, MINISOM_TE = 3.05, 0.16


@dataclass(frozen=True)
class Config(ToyConfig):
    n_iterations: int = option(5000, "online updates of the digits map (one sample each)", min=1)
    sigma: float = option(4.0, "starting neighbourhood radius of the digits map", above=0)
    learning_rate: float = option(0.5, "starting learning rate of the digits map", above=0)
    neighborhood_function: Literal["triangle", "gaussian", "bubble", "mexican_hat"] = option(
        "triangle", "neighbourhood of the digits map")
    batch_passes: int = option(5, "passes of Kohonen's batch rule over the digits", min=1)
    n_seeds: int = option(5, "seeds for the run-against-run table (each: our map and MiniSom's own random order); "
                          "0 leaves the table out", min=0)
    colour_iterations: int = option(5000, "online updates of the colour map", min=1)
    dtype: Literal["float32", "float64"] = option(
        "float32", "our maps' dtype: float64 reproduces MiniSom (float64) to 1e-9; float32 to ~1e-5")
    seed: int = option(0, "seed of the colours and of the sample order", min=0)


QUICK: dict = {"n_seeds": 0}


def standardised_digits(dtype) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits, each pixel scaled to mean 0 and variance 1 (constant pixels stay 0), as MiniSom's example."""
    X, y = load_digits(dtype=np.float64)
    spread = X.std(axis=0)
    return ((X - X.mean(axis=0)) / np.where(spread > 0, spread, 1)).astype(dtype), y


def _minisom():
    try:
        import minisom
    except ImportError:
        return None
    return minisom


def _minisom_run(minisom, X, config: Config, order: np.ndarray | None, seed: int) -> dict:
    """MiniSom with the same settings: fed ``X[order]`` in sequence, or its own random order when ``order`` is None."""
    started = time.perf_counter()
    theirs = minisom.MiniSom(30, 30, X.shape[1], sigma=config.sigma, learning_rate=config.learning_rate,
                             neighborhood_function=config.neighborhood_function, random_seed=seed)
    theirs.pca_weights_init(X)
    if order is None:
        theirs.train(X, config.n_iterations, random_order=True)
    else:
        theirs.train(X[order], config.n_iterations, random_order=False)
    seconds = time.perf_counter() - started
    return {"qe": float(theirs.quantization_error(X)), "te": float(theirs.topographic_error(X)), "seconds": seconds}


def run(config: Config, ctx: RunContext) -> Report:
    dtype = np.dtype(config.dtype)
    X, y = standardised_digits(dtype)
    settings = dict(sigma=config.sigma, learning_rate=config.learning_rate,
                    neighborhood_function=config.neighborhood_function, dtype=dtype)

    started = time.perf_counter()
    ours = SOM(30, 30, n_iterations=config.n_iterations, random_state=config.seed, **settings).fit(X, y)
    ours_seconds = time.perf_counter() - started
    qe, te = ours.quantization_error(X), ours.topographic_error(X)
    started = time.perf_counter()
    batch = SOM(30, 30, training="batch", n_iterations=config.batch_passes, sigma_decay_function="inverse_decay_to_one",
                random_state=config.seed, **settings).fit(X)
    batch_seconds = time.perf_counter() - started
    batch_qe, batch_te = batch.quantization_error(X), batch.topographic_error(X)

    passes = config.n_iterations / len(X)
    rows = [[f"dltoys SOM, online ({config.n_iterations} updates = {passes:.1f} passes), seed {config.seed}",
             f"{qe:.4f}", f"{te:.4f}", f"{ours_seconds:.2f}"],
            [f"dltoys SOM, Kohonen's batch rule ({config.batch_passes} passes = {config.batch_passes} updates, "
             "sigma decaying to 1)", f"{batch_qe:.4f}", f"{batch_te:.4f}", f"{batch_seconds:.2f}"]]
    minisom = _minisom()
    targets: list[Target] = []
    notes: list[str] = []
    metrics: dict = {"qe": qe, "te": te, "batch_qe": batch_qe, "batch_te": batch_te}
    if minisom is not None:
        order = np.arange(config.n_iterations) % len(X)
        np.random.default_rng(config.seed).shuffle(order)  # the order SOM(random_state=seed) presented
        same = _minisom_run(minisom, X.astype(np.float64), config, order, config.seed)
        rows.append(["MiniSom, same settings, same samples in the same order", f"{same['qe']:.4f}",
                     f"{same['te']:.4f}", f"{same['seconds']:.2f}"])
        # The goals allow float64 rounding (1e-9); with dtype float32 our codebook drifts ~1e-5 from MiniSom's.
        slack = 1e-9 if dtype == np.float64 else 1e-5
        targets += [Target("digits QE, ours (MiniSom's on the same order is the goal)", qe, same["qe"] + slack,
                           at_least=False),
                    Target("digits TE, ours (MiniSom's on the same order is the goal)", te, same["te"] + slack,
                           at_least=False)]
        metrics["minisom_same_order"] = same
        notes.append(f"Fed the same {config.n_iterations} samples in the same order, MiniSom ends at QE "
                     f"{same['qe']:.6f} and TE {same['te']:.4f}, ours at {qe:.6f} and {te:.4f}: the two implement one "
                     f"algorithm (the goals add {slack:g} for rounding).")
        seed_rows, seed_results = _seed_table(minisom, X, config, settings) if config.n_seeds else ([], [])
        metrics["seeds"] = seed_results
        if len(seed_results) > 1:
            ours_qe = np.array([r["qe"] for r in seed_results])
            theirs_qe = np.array([r["minisom_qe"] for r in seed_results])
            spread = float(np.std(np.concatenate([ours_qe, theirs_qe])))
            gap = float(ours_qe.mean() - theirs_qe.mean())
            notes.append(f"Over {len(seed_results)} seeds, each with its own sample order, our mean QE is "
                         f"{ours_qe.mean():.4f} and MiniSom's {theirs_qe.mean():.4f}: a gap of {gap:+.4f}, "
                         + ("within" if abs(gap) <= spread else "larger than")
                         + f" the seed-to-seed spread ({spread:.4f}); ours was lower on "
                         f"{int(np.sum(ours_qe < theirs_qe))} of {len(seed_results)} seeds.")
    else:
        seed_rows = []
        notes.append("MiniSom is not installed: the targets are its published figures for this example.")
    targets += [Target(f"digits QE (MiniSom publishes {MINISOM_QE - 0.07:.2f}-{MINISOM_QE:.2f})", qe, MINISOM_QE,
                       at_least=False),
                Target(f"digits TE (MiniSom publishes 0.13-{MINISOM_TE:.2f})", te, MINISOM_TE, at_least=False),
                Target(f"batch rule QE after {config.batch_passes} passes (the online map's QE is the goal)",
                       batch_qe, qe, at_least=False)]
    notes.append(f"Kohonen's batch rule moves every unit to the neighbourhood-weighted mean of the whole set: "
                 f"{config.batch_passes} updates reach QE {batch_qe:.3f} against the online map's {qe:.3f} after "
                 f"{config.n_iterations} updates. Per pass the online rule is the faster learner here "
                 f"({passes:.1f} passes); the batch rule needs fewer updates, each one matrix product.")

    colours = np.random.default_rng(config.seed).random((1000, 3)).astype(dtype)  # (1000, 3) RGB in [0, 1)
    colour_map = SOM(20, 20, sigma=3.0, learning_rate=0.5, n_iterations=config.colour_iterations,
                     initialization="random", topology="hexagonal", random_state=config.seed, dtype=dtype).fit(colours)
    colour_qe, colour_te = colour_map.quantization_error(colours), colour_map.topographic_error(colours)
    rows.append([f"colours: 20x20 hexagonal map, gaussian sigma 3, random start, {config.colour_iterations} updates",
                 f"{colour_qe:.4f}", f"{colour_te:.4f}", ""])
    metrics.update(colour_qe=colour_qe, colour_te=colour_te)
    purity = float(np.mean(ours.predict(X) == y))
    notes.append(f"Labelled by majority vote, the digits map gives {purity:.1%} of the digits their own label "
                 "(training data: a measure of how cleanly the map separates them, not a test score).")
    metrics["labelled_map_purity"] = purity

    tables = [Table("Quantization error (QE, mean distance to the best unit) and topographic error (TE, share of "
                    "samples whose two best units are not neighbours), standardised digits", ["map", "QE", "TE", "s"],
                    rows)]
    if seed_rows:
        tables.append(Table("Run against run over seeds: our map (seed s) and MiniSom's own random order "
                            "(random_seed s); the orders differ, so the figures differ by the luck of the order",
                            ["seed", "our QE", "MiniSom QE", "our TE", "MiniSom TE"], seed_rows))
    plots = [_plot_colours(ctx, colour_map), _plot_digits(ctx, ours, X, y)]
    return Report(toy=NAME, title=TITLE, shows=SHOWS, targets=targets, plots=plots, tables=tables, notes=notes,
                  metrics=metrics)


def _seed_table(minisom, X, config: Config, settings: dict) -> tuple[list, list]:
    rows, results = [], []
    for seed in range(config.n_seeds):
        ours = SOM(30, 30, n_iterations=config.n_iterations, random_state=seed, **settings).fit(X)
        theirs = _minisom_run(minisom, X.astype(np.float64), config, None, seed)
        result = {"seed": seed, "qe": ours.quantization_error(X), "te": ours.topographic_error(X),
                  "minisom_qe": theirs["qe"], "minisom_te": theirs["te"]}
        results.append(result)
        rows.append([seed, f"{result['qe']:.4f}", f"{result['minisom_qe']:.4f}", f"{result['te']:.4f}",
                     f"{result['minisom_te']:.4f}"])
    if len(results) > 1:
        mean = {key: float(np.mean([r[key] for r in results])) for key in ("qe", "minisom_qe", "te", "minisom_te")}
        rows.append(["mean", f"{mean['qe']:.4f}", f"{mean['minisom_qe']:.4f}", f"{mean['te']:.4f}",
                     f"{mean['minisom_te']:.4f}"])
    return rows, results


def _plot_colours(ctx: RunContext, colour_map: SOM) -> str:
    fig, axes = plot.figure(1, 5, size=(19, 4.2), title="1,000 random colours on a 20x20 hexagonal map")
    positions = colour_map.module_.positions
    plot.codebook_colours(axes[0], colour_map.weights_, positions=positions, title="each unit in its codebook colour")
    plot.u_matrix(axes[1], colour_map.distance_map(), positions=positions, title="U-matrix: dark = far from neighbours")
    plot.component_planes(axes[2:], colour_map.weights_, ["red plane", "green plane", "blue plane"],
                          positions=positions)
    return ctx.save_figure(fig, "som_colours")


def _plot_digits(ctx: RunContext, som: SOM, X: np.ndarray, y: np.ndarray) -> str:
    fig, (left, right) = plot.figure(1, 2, size=(12, 5.6), title="Digits on a 30x30 map (MiniSom's example settings)")
    plot.labelled_map(left, som.unit_labels_.reshape(30, 30), background=som.distance_map(), hits=som.hit_map(X),
                      title="majority digit of each unit over the U-matrix (faded: no sample)")
    plot.hit_map(right, som.hit_map(X), title="digits won by each unit")
    return ctx.save_figure(fig, "som_digits")
