"""Gradient checking and the helpers the tests share.

:func:`gradcheck` compares a module's hand-written backward pass with central
differences in float64, for every differentiable input and every parameter.
The scalar it differentiates is ``f = sum(output * W)`` for a fixed random
``W`` of the output's shape, so every output element takes part; ``W`` is what
``backward`` receives as ``grad_out``.

Inputs and outputs may be nested tuples of arrays (an LSTM takes
``(x, (h0, c0))`` and returns ``(output, (h_n, c_n))``); ``backward`` then
receives the gradients in the output's structure and returns the input
gradients in the inputs' structure (a bare array for the first input only).
"""

from __future__ import annotations

import collections
import copy
import os
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .nn.loss import Loss
from .nn.module import Module
from .utils import RngLike, as_rng


class GradcheckError(AssertionError):
    """A hand-written gradient disagrees with central differences."""


@dataclass
class TensorCheck:
    """How one tensor's analytic gradient compared with the numeric one."""

    name: str
    checked: int  # entries or directions compared
    mismatches: int
    max_abs_err: float
    worst: str  # where the largest error is, e.g. "index (2, 3)" or "direction 4"
    analytic: float
    numeric: float


@dataclass
class GradcheckResult:
    module: str
    checks: list[TensorCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.mismatches == 0 for c in self.checks)

    def report(self) -> str:
        lines = [f"gradcheck of {self.module}: " + ("passed" if self.ok else "FAILED")]
        for c in self.checks:
            status = "ok" if c.mismatches == 0 else f"{c.mismatches} of {c.checked} differ"
            lines.append(
                f"  {c.name}: {status}; largest error {c.max_abs_err:.3e} at {c.worst} "
                f"(analytic {c.analytic:.6e}, numeric {c.numeric:.6e})"
            )
        return "\n".join(lines)


# ----------------------------------------------------------------- pytrees
def _leaves(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, (tuple, list)):
        for i, sub in enumerate(tree):
            yield from _leaves(sub, f"{path}[{i}]")
    elif isinstance(tree, dict):
        for key, sub in tree.items():
            yield from _leaves(sub, f"{path}[{key!r}]")
    else:
        yield path, tree


def _map(fn: Callable[[Any], Any], tree: Any) -> Any:
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map(fn, sub) for sub in tree)
    return fn(tree)


def _to_float64(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)  # a private, writable copy
    return value


def _rng_states(module: Module) -> list[tuple[Module, str, dict]]:
    """Every Generator owned by a module in the tree, with its state (Dropout masks)."""
    found = []
    for sub in module.modules():
        for name, value in vars(sub).items():
            if isinstance(value, np.random.Generator):
                found.append((sub, name, copy.deepcopy(value.bit_generator.state)))
    return found


# ---------------------------------------------------------------- gradcheck
def gradcheck(
    module: Module,
    *inputs: Any,
    wrt: "tuple[int, ...] | None" = None,
    check_params: bool = True,
    eps: float = 1e-6,
    atol: float = 1e-8,
    rtol: float = 1e-7,
    max_full: int = 400,
    n_directions: int = 6,
    n_coords: int = 10,
    rng: RngLike = 0,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Check ``module.backward`` against central differences in float64.

    Parameters
    ----------
    module : Module
        Copied and converted to float64; the original is not touched. Its mode
        (train/eval) is kept; random masks are replayed identically at every
        evaluation.
    *inputs : arrays or nested tuples of arrays
        Passed to ``forward``. Float arrays are differentiable; integer arrays
        (class indices, token ids) are not.
    wrt : tuple of int or None
        Positions of the inputs whose gradients to check. Default: every input
        holding float arrays, except a loss's target (only its input, 0).
    check_params : bool, default True
        Also check every parameter's accumulated ``.grad``.
    eps : float
        Central-difference step: ``(f(x + eps) - f(x - eps)) / (2 eps)``.
    atol, rtol : float
        An entry disagrees when ``|analytic - numeric| > atol + rtol * max(|analytic|, |numeric|)``.
        Central differences in float64 with ``eps = 1e-6`` are good to about 1e-9 on
        these layers (the largest error over the test suite: 2.1e-9), so the defaults
        leave a margin of ~10x and still catch a gradient off by one part in 10^7.
    max_full : int
        Tensors up to this size are checked entry by entry; larger ones along
        ``n_directions`` random unit directions plus ``n_coords`` random entries.
    rng : int, Generator or None
        Draws ``W`` and the random directions.
    raise_exception : bool, default True
        Raise :class:`GradcheckError` with the report when something disagrees.

    Returns
    -------
    GradcheckResult
        Per tensor: how many entries were compared, how many disagree, and the
        largest error with its location.
    """
    rng = as_rng(rng)
    model = copy.deepcopy(module).double()
    inputs = tuple(_map(_to_float64, x) for x in inputs)
    if wrt is None:
        positions = (0,) if isinstance(module, Loss) else tuple(range(len(inputs)))
    else:
        positions = tuple(wrt)
    rng_states = _rng_states(model)

    def run() -> Any:
        for sub, name, state in rng_states:
            getattr(sub, name).bit_generator.state = copy.deepcopy(state)
        return model(*inputs)

    # Analytic pass.
    model.zero_grad()
    output = run()
    weights = _map(
        lambda o: rng.standard_normal(np.shape(o)) if isinstance(o, np.ndarray) and o.dtype.kind == "f" else None,
        output,
    )

    def objective() -> float:
        out = run()
        total = 0.0
        for (_, o), (_, w) in zip(_leaves(out), _leaves(weights)):
            if w is not None:
                total += float(np.sum(np.asarray(o, dtype=np.float64) * w))
        return total

    grad_weights = _map(lambda w: np.asarray(w, dtype=np.float64) if w is not None else None, weights)
    returned = model.backward(grad_weights)
    if not isinstance(returned, tuple):
        returned = (returned,)

    targets: list[tuple[str, np.ndarray, np.ndarray]] = []  # (name, array perturbed in place, analytic grad)
    for position in positions:
        if position >= len(inputs):
            raise ValueError(f"gradcheck: wrt={positions} names input {position}, but there are {len(inputs)}")
        grad_tree = returned[position] if position < len(returned) else None
        grad_leaves = dict(_leaves(grad_tree)) if grad_tree is not None else {}
        for path, leaf in _leaves(inputs[position]):
            if not (isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f"):
                continue
            name = f"input {position}{path}"
            grad = grad_leaves.get(path)
            if grad is None:
                if wrt is None:
                    continue  # the module does not differentiate this input
                raise GradcheckError(f"gradcheck of {type(module).__name__}: backward returned no gradient for {name}")
            grad = np.asarray(grad, dtype=np.float64)
            if grad.shape != leaf.shape:
                raise GradcheckError(
                    f"gradcheck of {type(module).__name__}: gradient of {name} has shape {grad.shape}, "
                    f"the input has {leaf.shape}"
                )
            targets.append((name, leaf, grad))
    if check_params:
        for name, param in model.named_parameters():
            if param.requires_grad:
                targets.append((f"parameter '{name}'", param.data, param.grad.copy()))

    result = GradcheckResult(module=type(module).__name__)
    for name, array, analytic in targets:
        result.checks.append(
            _check_tensor(name, array, analytic, objective, eps, atol, rtol, max_full, n_directions, n_coords, rng)
        )
    if raise_exception and not result.ok:
        raise GradcheckError(result.report())
    return result


def _check_tensor(name, array, analytic, objective, eps, atol, rtol, max_full, n_directions, n_coords, rng):
    flat = array.reshape(-1)  # a view: perturbing it perturbs the tensor the module reads
    assert np.shares_memory(flat, array) or array.size == 0
    comparisons: list[tuple[str, float, float]] = []

    def numeric_along(direction: np.ndarray) -> float:
        original = flat.copy()
        flat[:] = original + eps * direction
        f_plus = objective()
        flat[:] = original - eps * direction
        f_minus = objective()
        flat[:] = original
        return (f_plus - f_minus) / (2 * eps)

    def numeric_at(index: int) -> float:
        original = flat[index]
        flat[index] = original + eps
        f_plus = objective()
        flat[index] = original - eps
        f_minus = objective()
        flat[index] = original
        return (f_plus - f_minus) / (2 * eps)

    a_flat = analytic.reshape(-1)
    if flat.size <= max_full:
        indices = range(flat.size)
    else:
        indices = rng.choice(flat.size, size=min(n_coords, flat.size), replace=False)
        for k in range(n_directions):
            direction = rng.standard_normal(flat.size)
            direction /= np.linalg.norm(direction)
            comparisons.append((f"direction {k}", float(a_flat @ direction), numeric_along(direction)))
    for index in indices:
        where = f"index {tuple(int(i) for i in np.unravel_index(index, array.shape))}"
        comparisons.append((where, float(a_flat[index]), numeric_at(int(index))))

    mismatches = 0
    worst = ("-", 0.0, 0.0)
    worst_err = -1.0
    for where, a, n in comparisons:
        err = abs(a - n)
        # a non-finite value on either side is a mismatch (nan compares False with everything)
        if not np.isfinite(err) or err > atol + rtol * max(abs(a), abs(n)):
            mismatches += 1
        if err > worst_err or not np.isfinite(err):
            worst_err, worst = err, (where, a, n)
    return TensorCheck(name, len(comparisons), mismatches, max(worst_err, 0.0), *worst)


# ------------------------------------------------------------ shared helpers
def check_grad_accumulates(module: Module, *inputs: Any, rng: RngLike = 0) -> None:
    """Assert that two backward passes add up: parameter grads double, input grads equal.

    The contract says backward *adds* into ``.grad`` (so shared parameters get
    every contribution); a layer that assigns instead fails here.
    """
    rng = as_rng(rng)
    module.zero_grad()
    output = module(*inputs)
    weights = _map(lambda o: rng.standard_normal(np.shape(o)).astype(o.dtype) if isinstance(o, np.ndarray) else None, output)
    first_in = module.backward(weights)
    once = {name: p.grad.copy() for name, p in module.named_parameters()}
    second_in = module.backward(weights)
    for name, p in module.named_parameters():
        # g + g rounds like 2 g, except where a layer adds per step (a recurrence): a few ulps
        rtol = 1e-12 if p.grad.dtype == np.float64 else 1e-6
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=rtol, atol=0, err_msg=f"{name} did not accumulate")
    for (_, a), (_, b) in zip(_leaves(first_in), _leaves(second_in)):
        if a is not None:  # the same cache and grad_out: the same input gradient, exactly
            np.testing.assert_array_equal(a, b, err_msg="input gradient changed between two backward calls")


def assert_dtype_tree(tree: Any, dtype: Any) -> None:
    """Assert every float array in a nested structure has ``dtype``."""
    for path, leaf in _leaves(tree):
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
            assert leaf.dtype == np.dtype(dtype), f"{path or 'value'} is {leaf.dtype}, expected {np.dtype(dtype)}"


class _Traced(np.ndarray):
    """An array that records every ufunc (``+``, ``@``, ``exp``, in-place ``+=``) touching float64.

    ``p.grad += g`` casts a float64 ``g`` back to float32 silently, so checking the
    dtypes of results cannot see an upcast inside a float32 path; this can.
    """

    touches: "collections.Counter[str]"

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, _Traced) else x for x in inputs]
        if kwargs.get("out"):
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Traced) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        results = result if isinstance(result, tuple) else (result,)
        operands = [*plain, *(kwargs.get("out") or ()), *results]
        if any(isinstance(a, (np.ndarray, np.generic)) and a.dtype == np.float64 for a in operands):
            stack = [f for f in traceback.extract_stack()[:-1] if not f.filename.endswith(f"dltoys{os.sep}testing.py")]
            inside = [f for f in stack if f"{os.sep}dltoys{os.sep}" in f.filename]
            frame = (inside or stack)[-1]  # the innermost dltoys line, else the caller's
            where = frame.filename.split(f"{os.sep}dltoys{os.sep}")[-1]
            _Traced.touches[f"{where}:{frame.lineno} {ufunc.__name__}"] += 1

        def wrap(r: Any) -> Any:
            return r.view(_Traced) if isinstance(r, np.ndarray) and not isinstance(r, _Traced) else r

        return tuple(wrap(r) for r in results) if isinstance(result, tuple) else wrap(result)


def float64_operations(module: Module, *inputs: Any, optimizer: Callable[[list], Any] | None = None,
                       steps: int = 2) -> "collections.Counter[str]":
    """Where a float32 module's forward, backward (and optimizer steps) touch float64.

    Parameters, gradients and float inputs are traced for ``steps`` rounds of forward,
    backward with a float32 ``grad_out`` of ones, and ``optimizer(params).step()``.

    Returns
    -------
    collections.Counter
        ``"nn/linear.py:79 matmul" -> count`` for every dltoys line whose ufunc
        touched a float64 array; empty when the float32 path stays float32.
    """
    _Traced.touches = collections.Counter()
    params = list(module.parameters())
    for p in params:
        p.data, p.grad = p.data.view(_Traced), p.grad.view(_Traced)
    traced = tuple(_map(lambda x: x.view(_Traced) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x, x)
                   for x in inputs)
    try:
        opt = optimizer(params) if optimizer is not None else None
        for _ in range(steps):
            module.zero_grad()
            output = module(*traced)
            grad = _map(lambda o: np.ones(o.shape, np.float32).view(_Traced) if isinstance(o, np.ndarray) else None, output)
            module.backward(grad)
            if opt is not None:
                opt.step()
    finally:
        for p in params:
            p.data, p.grad = p.data.view(np.ndarray), p.grad.view(np.ndarray)
    return _Traced.touches
