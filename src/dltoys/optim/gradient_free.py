"""Gradient-free baselines: random search and hill climbing on a model's weights.

Both try weights, evaluate the loss through a closure and keep a proposal
only if it lowers the loss. They need no backward pass, which is exactly why
gradient descent beats them: one backward pass costs about as much as one
forward pass and says, for every weight at once, which way is downhill; a
guess that ignores it must be lucky in every one of ``d`` dimensions at the
same time. Watch it happen (tests/optim/test_gradient_free.py): on a
4-weight linear regression hill climbing nearly matches least squares, but
on a 1101-weight network, 500 steps of SGD end with a loss 8 times lower
than hill climbing's and 70 times lower than random search's.

Use them like any optimizer, with a closure that returns the loss at the
current weights. Losses on different batches are not comparable, so by
default every step first re-evaluates the best weights on *this* closure and
compares the proposal against that (two evaluations a step, right for
minibatches and for ``dltoys.train.fit``). When the closure always sees the
same data (the full training set), pass ``reevaluate=False`` to halve the cost::

    optimizer = HillClimb(model.parameters(), step_size=0.05, rng=0)

    def closure():
        return loss_fn(model(x), y)

    for _ in range(1000):
        best_loss = optimizer.step(closure)

After each step the parameters hold the best weights found so far.
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Callable, Iterable

import numpy as np

from ..nn.module import Parameter
from ..utils import RngLike, as_rng, check_bool, check_float
from .optimizer import Optimizer


class GradientFreeOptimizer(Optimizer):
    """Shared loop: propose weights, evaluate, keep them if the loss fell, else restore the best.

    Subclasses implement :meth:`_propose`, which writes a proposal into
    ``param.data`` given the best weights so far. ``lr`` is the size of the
    proposals (``scale`` or ``step_size``), so a learning-rate schedule can
    shrink it as the search closes in.

    Attributes
    ----------
    best_loss : float or None
        The lowest loss seen (``None`` before the first step).
    state["best"] : list of ndarray or None
        The weights that gave it (parameters with ``requires_grad=False``
        keep ``None`` and are never changed).
    """

    needs_gradients = False
    state_names = ("best",)

    def __init__(self, params: Iterable[Parameter], lr: float, rng: RngLike, reevaluate: bool = True):
        super().__init__(params, lr)
        self.rng = as_rng(rng)
        self.reevaluate = check_bool("reevaluate", reevaluate)
        self.best_loss: float | None = None

    def _propose(self, param: Parameter, best: np.ndarray) -> None:
        raise NotImplementedError

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        loss = closure()
        try:
            return float(loss)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}.step: closure() must return the loss as a number, "
                f"received {type(loss).__name__} {getattr(loss, 'shape', '')}"
            ) from None

    def step(self, closure: Callable[[], Any] | None = None) -> float:
        """Try one proposal; return the best loss so far.

        Parameters
        ----------
        closure : callable
            Takes no argument and returns the loss at the current weights
            (a float or a 0-d array); no backward pass needed.
        """
        name = type(self).__name__
        if closure is None or not callable(closure):
            raise TypeError(
                f"{name}.step needs a closure: a function that returns the loss at the current weights, "
                f"e.g. optimizer.step(lambda: loss_fn(model(x), y)); received {closure!r}"
            )
        trainable = [index for index, param in enumerate(self.params) if param.requires_grad]
        best = self.state["best"]
        if self.best_loss is None:
            # The starting weights are the first candidate.
            self.best_loss = self._evaluate(closure)
            for index in trainable:
                best[index] = self.params[index].data.copy()
        elif self.reevaluate:
            # The closure may see other data than last step's (a new minibatch):
            # measure the best weights on it, so the comparison below is fair.
            self.best_loss = self._evaluate(closure)
        self.step_count += 1
        for index in trainable:
            if best[index] is None:  # unfrozen since the last step: its current value joins the best
                best[index] = self.params[index].data.copy()
            self._propose(self.params[index], best[index])
        loss = self._evaluate(closure)
        # nan never improves; anything finite improves on a nan start.
        if loss < self.best_loss or (math.isnan(self.best_loss) and not math.isnan(loss)):
            self.best_loss = loss
            for index in trainable:
                best[index][...] = self.params[index].data
        else:
            for index in trainable:
                self.params[index].data[...] = best[index]
        return self.best_loss

    # ------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """The base state plus ``best_loss`` and the generator's state (a JSON-able dict)."""
        state = super().state_dict()
        state["best_loss"] = self.best_loss
        state["rng_state"] = copy.deepcopy(self.rng.bit_generator.state)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next proposals equal those of the saved run.

        All or nothing: ``best_loss`` and ``rng_state`` are checked before the
        base state is restored (which checks its own part before changing anything).
        """
        name = type(self).__name__
        if not isinstance(state, dict):
            raise TypeError(f"{name}.load_state_dict: expected a dict (from state_dict()), received {type(state).__name__}")
        best_loss = state.get("best_loss")
        if best_loss is not None:
            if not isinstance(best_loss, numbers.Real) or isinstance(best_loss, bool):
                raise ValueError(f"{name}.load_state_dict: best_loss must be a number or None, received {best_loss!r}")
            best_loss = float(best_loss)
        rng_state = state.get("rng_state")
        if rng_state is not None:
            probe = type(self.rng.bit_generator)()
            try:
                probe.state = copy.deepcopy(rng_state)
            except (TypeError, ValueError, KeyError) as exc:
                raise ValueError(
                    f"{name}.load_state_dict: rng_state does not fit this optimizer's "
                    f"{type(self.rng.bit_generator).__name__} generator ({exc})"
                ) from None
        super().load_state_dict(state)
        self.best_loss = best_loss
        if rng_state is not None:
            self.rng.bit_generator.state = copy.deepcopy(rng_state)


class RandomSearch(GradientFreeOptimizer):
    r"""Draw completely new weights each step; keep them if they beat the best so far.

    The simplest possible learner, and the baseline every other one must
    beat. Each proposal ignores everything learnt so far, so the chance that
    a fresh draw beats the best shrinks geometrically with the number of
    weights: it can fit a line, hardly a network.

    Parameters
    ----------
    params : iterable of Parameter
    scale : float, default 1.0
        Proposals are drawn uniformly from ``[-scale, scale]``, every weight
        independently (``> 0``). Also available as ``lr``.
    rng : int, numpy.random.Generator or None
        Source of the proposals; a seed makes the run reproducible bit for bit.
    reevaluate : bool, default True
        Re-measure the best weights on every step's closure before comparing
        (needed when the closure's data changes, as with minibatches); False
        when the closure always sees the same data (one evaluation a step).

    Notes
    -----
    Step ``t`` draws :math:`\theta' \sim U[-s, s]^d` and sets

    .. math::

        \theta_t = \theta' \ \text{if } L(\theta') < L(\theta_{t-1}),
        \quad \theta_{t-1} \ \text{otherwise.}

    For a minimum in a ball of radius ``r`` the chance that a draw lands
    within it is less than ``(r / s)^d``: the curse of dimensionality in one
    line.

    References
    ----------
    .. [1] Bergstra, Bengio, "Random Search for Hyper-Parameter Optimization",
       JMLR 13, 2012.
    """

    hyperparam_names = ("scale",)

    def __init__(self, params: Iterable[Parameter], scale: float = 1.0, rng: RngLike = None, reevaluate: bool = True):
        super().__init__(params, check_float("scale", scale, low=0.0, low_inclusive=False), rng, reevaluate)

    @property
    def scale(self) -> float:
        return self.lr

    @scale.setter
    def scale(self, value: float) -> None:
        self.lr = value

    def _propose(self, param: Parameter, best: np.ndarray) -> None:
        draw = self.rng.random(param.shape, dtype=param.dtype)  # U[0, 1) in the parameter's dtype
        draw *= 2 * float(self.lr)
        draw -= float(self.lr)
        param.data[...] = draw


class HillClimb(GradientFreeOptimizer):
    r"""Nudge the best weights with Gaussian noise; keep the nudge if the loss falls.

    A local search, so it beats :class:`RandomSearch` once it is near a good
    region, but it still learns only one bit per loss evaluation ("better" or
    "not"), where a gradient gives a direction for every weight. In ``d``
    dimensions a random nudge is nearly orthogonal to the downhill direction
    (their cosine is about ``1 / sqrt(d)``), so the progress per evaluation
    shrinks as ``d`` grows: on a quadratic, even with the best ``sigma``,
    about ``d`` times more slowly than in one dimension.

    Parameters
    ----------
    params : iterable of Parameter
    step_size : float, default 0.1
        Standard deviation ``sigma`` of the noise added to every weight
        (``> 0``). Also available as ``lr``, so a schedule (``ExponentialLR``)
        can anneal it.
    rng : int, numpy.random.Generator or None
        Source of the noise; a seed makes the run reproducible bit for bit.
    reevaluate : bool, default True
        Re-measure the best weights on every step's closure before comparing
        (needed when the closure's data changes, as with minibatches); False
        when the closure always sees the same data (one evaluation a step).

    Notes
    -----
    Step ``t`` draws :math:`\varepsilon \sim \mathcal N(0, I)` and sets

    .. math::

        \theta' = \theta_{t-1} + \sigma\,\varepsilon, \qquad
        \theta_t = \theta' \ \text{if } L(\theta') < L(\theta_{t-1}),
        \quad \theta_{t-1} \ \text{otherwise.}

    This is the (1+1) evolution strategy with a fixed step size; Rechenberg's
    1/5 success rule adapts ``sigma`` and is the natural next step.

    References
    ----------
    .. [1] Rechenberg, "Evolutionsstrategie", Frommann-Holzboog, 1973.
    .. [2] Russell, Norvig, "Artificial Intelligence: A Modern Approach",
       section 4.1 (hill climbing).
    """

    hyperparam_names = ("step_size",)

    def __init__(self, params: Iterable[Parameter], step_size: float = 0.1, rng: RngLike = None,
                 reevaluate: bool = True):
        super().__init__(params, check_float("step_size", step_size, low=0.0, low_inclusive=False), rng, reevaluate)

    @property
    def step_size(self) -> float:
        return self.lr

    @step_size.setter
    def step_size(self, value: float) -> None:
        self.lr = value

    def _propose(self, param: Parameter, best: np.ndarray) -> None:
        noise = self.rng.standard_normal(param.shape, dtype=param.dtype)
        noise *= float(self.lr)
        np.add(best, noise, out=param.data)
