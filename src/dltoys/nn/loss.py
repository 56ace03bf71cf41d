"""Losses: MSE, binary cross-entropy (on probabilities and on logits), cross-entropy.

A loss is a :class:`Module` whose ``forward(input, target)`` returns the loss (a
0-d array for ``reduction='mean'`` or ``'sum'``, per-element losses for
``'none'``) and whose ``backward(grad_out=1.0)`` returns ``dL/dinput``. Targets
get no gradient.
"""

from __future__ import annotations

import numpy as np

from ..utils import as_array, check_choice, check_float, check_int, check_target_range, check_weights
from .module import Module, check_grad_out, float_array

REDUCTIONS = ("mean", "sum", "none")

#: How far the row sums of a probability target may stray from 1 (rounding, not a mistake).
PROB_SUM_TOLERANCE = 1e-3

#: The floor of ``p (1 - p)`` in BCELoss's gradient. PyTorch declares its 1e-12 as a
#: C ``float``, so the clamp is float32(1e-12) = 9.99999996e-13 in float64 too.
BCE_GRAD_FLOOR = float(np.float32(1e-12))


class Loss(Module):
    """Base class: holds ``reduction`` and checks the arguments every loss shares.

    Target domains (BCE targets in [0, 1], probability targets that are
    distributions) are checked on every call, unless ``targets_checked`` is
    True: :func:`dltoys.train.fit` and :func:`~dltoys.train.evaluate` check the
    whole target array once with :meth:`check_target` and set it while they
    run, so the training step pays nothing for the check.
    """

    #: True while a caller guarantees the targets were checked (see :meth:`check_target`).
    targets_checked: bool = False

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = check_choice("reduction", reduction, REDUCTIONS)

    def check_target(self, target) -> None:
        """Check a whole target array's domain once (the per-call check then may be skipped).

        Raises ValueError naming the loss when a value is outside what the loss
        accepts; shapes are checked per call, against each input.
        """

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def _input(self, x) -> np.ndarray:
        return float_array(self, x)

    def _same_shape_target(self, x: np.ndarray, target) -> np.ndarray:
        target = as_array("target", target)
        if target.shape != x.shape:
            raise ValueError(
                f"{type(self).__name__}: target shape {target.shape} must equal input shape {x.shape} "
                "(reshape one of them; a (N, 1) output against a (N,) target is the usual cause)"
            )
        if target.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__}: target must be numeric, received dtype {target.dtype}")
        return target.astype(x.dtype, copy=False)

    def _reduce(self, losses: np.ndarray) -> np.ndarray:
        if self.reduction == "mean":
            if losses.size == 0:  # the mean of nothing: NaN, as PyTorch (without NumPy's warning)
                return np.asarray(np.nan, dtype=losses.dtype)
            return np.asarray(losses.mean(), dtype=losses.dtype)
        if self.reduction == "sum":
            return np.asarray(losses.sum(), dtype=losses.dtype)
        return losses

    def _grad_scale(self, grad_out, shape: tuple, dtype) -> np.ndarray:
        """The factor the per-element derivative is multiplied by: ``grad_out`` (/ count for mean).

        ``shape`` is the per-element losses' shape, which ``grad_out`` has for
        ``reduction='none'``; otherwise it is a scalar.
        """
        grad_out = check_grad_out(self, grad_out, shape if self.reduction == "none" else (), dtype)
        if self.reduction == "mean":
            return grad_out / max(int(np.prod(shape)), 1)
        return grad_out


class MSELoss(Loss):
    """Mean squared error ``mean((input - target)^2)`` (``torch.nn.MSELoss``).

    Notes
    -----
    ``dL/dinput = 2 (input - target) / N`` for the mean over ``N`` elements.
    """

    def forward(self, input, target) -> np.ndarray:
        x = self._input(input)
        diff = x - self._same_shape_target(x, target)
        self._cache = diff
        return self._reduce(diff * diff)

    def backward(self, grad_out=1.0) -> np.ndarray:
        diff = self._saved()
        return 2 * diff * self._grad_scale(grad_out, diff.shape, diff.dtype)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities (``torch.nn.BCELoss``).

    ``l = -(y log p + (1 - y) log(1 - p))`` with each log clamped at -100, as
    PyTorch, so ``p = 0`` or ``1`` gives a large finite loss instead of ``inf``.
    For logits, :class:`BCEWithLogitsLoss` is stabler and cheaper.

    Notes
    -----
    ``dl/dp = (p - y) / max(p (1 - p), 1e-12)`` (PyTorch's clamp of the denominator,
    with 1e-12 rounded to float32 as PyTorch does).
    """

    def forward(self, input, target) -> np.ndarray:
        p = self._input(input)
        y = self._same_shape_target(p, target)
        if not self.targets_checked:
            self.check_target(y)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError(
                f"BCELoss: input must hold probabilities in [0, 1], received values from "
                f"{p.min():g} to {p.max():g} (for logits use BCEWithLogitsLoss)"
            )
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_1mp = np.maximum(np.log1p(-p), -100)
        self._cache = (p, y)
        return self._reduce(-(y * log_p + (1 - y) * log_1mp))

    def check_target(self, target) -> None:
        target = as_array("target", target)
        if target.dtype.kind in "biuf":
            check_target_range("BCELoss", target, 0.0, 1.0, " (binary labels are 0 and 1)")

    def backward(self, grad_out=1.0) -> np.ndarray:
        p, y = self._saved()
        denom = np.maximum(p * (1 - p), BCE_GRAD_FLOOR)
        return (p - y) / denom * self._grad_scale(grad_out, p.shape, p.dtype)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits, fused with the sigmoid (``torch.nn.BCEWithLogitsLoss``).

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    pos_weight : array_like of shape (C,) or None
        Weight of the positive term per class (the last input dimension).

    Notes
    -----
    With ``w = 1 + (pos_weight - 1) y`` and ``softplus(z) = log(1 + exp(z))``
    computed as ``max(z, 0) + log1p(exp(-|z|))``::

        l = (1 - y) x + w softplus(-x)          (= -y log s(x) - (1 - y) log(1 - s(x)) for w = 1)
        dl/dx = (1 - y) - w (1 - s(x))          (= s(x) - y for w = 1)
    """

    def __init__(self, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        # a buffer (a copy), so that state_dict() has PyTorch's "pos_weight" key; cast to the input's dtype per call
        if pos_weight is not None:
            pos_weight = check_weights("BCEWithLogitsLoss", "pos_weight", pos_weight, allow_all_zero=True)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target) -> np.ndarray:
        x = self._input(input)
        y = self._same_shape_target(x, target)
        if not self.targets_checked:
            self.check_target(y)
        exp_neg_abs = np.exp(-np.abs(x))
        softplus_neg = np.maximum(-x, 0) + np.log1p(exp_neg_abs)  # softplus(-x) = -log s(x)
        # s(x) from the same exponential: 1/(1+e) for x >= 0, e/(1+e) otherwise
        recip = 1 / (1 + exp_neg_abs)
        sig = np.where(x >= 0, recip, exp_neg_abs * recip)
        if self.pos_weight is None:
            losses = (1 - y) * x + softplus_neg
            weight = None
        else:
            try:
                fits = np.broadcast_shapes(self.pos_weight.shape, x.shape) == x.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"BCEWithLogitsLoss: pos_weight of shape {self.pos_weight.shape} does not broadcast "
                    f"against input of shape {x.shape} (give one weight per class, the last dimension)"
                )
            weight = 1 + (self.pos_weight.astype(x.dtype) - 1) * y
            losses = (1 - y) * x + weight * softplus_neg
        self._cache = (sig, y, weight)
        return self._reduce(losses)

    def check_target(self, target) -> None:
        target = as_array("target", target)
        if target.dtype.kind in "biuf":
            check_target_range(
                "BCEWithLogitsLoss", target, 0.0, 1.0,
                " (binary labels are 0 and 1; map -1/+1 labels with (y + 1) / 2)",
            )

    def backward(self, grad_out=1.0) -> np.ndarray:
        sig, y, weight = self._saved()
        local = sig - y if weight is None else (1 - y) - weight * (1 - sig)
        return local * self._grad_scale(grad_out, sig.shape, sig.dtype)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits, fused and stable (``torch.nn.CrossEntropyLoss``).

    Parameters
    ----------
    weight : array_like of shape (C,) or None
        A weight per class (class imbalance).
    ignore_index : int, default -100
        Index targets equal to it add nothing and do not count in the mean.
    reduction : 'mean', 'sum' or 'none'
    label_smoothing : float in [0, 1], default 0
        Mixes the target with the uniform distribution over the C classes.

    Shapes
    ------
    input: logits ``(N, C)`` or ``(N, C, d1, ...)``.
    target: class indices ``(N,)`` / ``(N, d1, ...)`` (an integer array), or class
    probabilities (one-hot included) of the input's shape (a float array).

    Notes
    -----
    With ``p = softmax(z)`` and ``log p = z - logsumexp(z)`` (the maximum is
    subtracted before ``exp``, so large logits never overflow)::

        l = -sum_c w_c q_c log p_c          dl/dz_c = p_c sum_k w_k q_k - w_c q_c

    where ``q`` is the (smoothed) target distribution; for an index target ``t``
    without smoothing this is the familiar ``dl/dz = w_t (p - onehot(t))``. With
    ``reduction='mean'``, index targets divide by the summed weights of the
    counted targets and probability targets by ``N`` (PyTorch's conventions).
    """

    def __init__(
        self,
        weight=None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        # a float64 copy (loads write into it), finite, >= 0, not all zero
        weight = None if weight is None else check_weights("CrossEntropyLoss", "weight", weight)
        # a buffer, so that state_dict() has PyTorch's "weight" key; cast to the input's dtype per call
        self.register_buffer("weight", weight)
        self.ignore_index = check_int("ignore_index", ignore_index)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, low=0.0, high=1.0)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"

    def check_target(self, target) -> None:
        """Probability targets (float, classes on axis 1) must be distributions; index targets are checked per call."""
        target = as_array("target", target)
        if target.dtype.kind == "f" and target.ndim >= 2:
            rows = target if target.ndim == 2 else np.moveaxis(target, 1, -1).reshape(-1, target.shape[1])
            self._check_probabilities(rows)

    @staticmethod
    def _check_probabilities(q: np.ndarray) -> None:
        """Rows of ``q`` (M, C) are distributions: >= 0 and summing to 1 (within rounding)."""
        if q.size == 0:
            return
        check_target_range("CrossEntropyLoss", q, 0.0, 1.0, " (a probability target holds class probabilities)")
        sums = q.sum(axis=1)  # (M,)
        worst = int(np.argmax(np.abs(sums - 1)))
        if abs(float(sums[worst]) - 1) > PROB_SUM_TOLERANCE:
            raise ValueError(
                f"CrossEntropyLoss: a probability target's rows must sum to 1, row {worst} sums to "
                f"{float(sums[worst]):g} (pass integer class indices for index targets)"
            )

    def forward(self, input, target) -> np.ndarray:
        z = self._input(input)
        if z.ndim < 2:
            raise ValueError(
                f"CrossEntropyLoss: input must be logits of shape (N, C) or (N, C, d1, ...), received {z.shape}"
            )
        n_classes = z.shape[1]
        dtype = z.dtype
        target = as_array("target", target)
        # classes last, one row per prediction: (M, C)
        logits = z if z.ndim == 2 else np.moveaxis(z, 1, -1).reshape(-1, n_classes)
        weight = None if self.weight is None else self.weight.astype(dtype)
        if weight is not None and weight.shape != (n_classes,):
            raise ValueError(f"CrossEntropyLoss: weight has shape {weight.shape}, input has {n_classes} classes")
        if weight is not None:  # C values: also catches a bad weight loaded through load_state_dict
            check_weights("CrossEntropyLoss", "weight", self.weight)

        shifted = logits - logits.max(axis=1, keepdims=True)  # (M, C)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)  # (M, 1)
        probs = exp / sum_exp  # (M, C) softmax
        log_sum = np.log(sum_exp)  # (M, 1)
        eps = self.label_smoothing

        if target.dtype.kind in "iu":
            expected = (z.shape[0],) + z.shape[2:]
            if target.shape != expected:
                raise ValueError(
                    f"CrossEntropyLoss: class-index target must have shape {expected} for input "
                    f"{z.shape}, received {target.shape}"
                )
            t = target.reshape(-1)  # (M,)
            valid = t != self.ignore_index
            if np.any(valid & ((t < 0) | (t >= n_classes))):
                bad = t[valid & ((t < 0) | (t >= n_classes))][0]
                raise ValueError(
                    f"CrossEntropyLoss: target class {bad} is out of range for {n_classes} classes "
                    f"(allowed 0..{n_classes - 1}, or ignore_index={self.ignore_index})"
                )
            t_safe = np.where(valid, t, 0)
            valid_f = valid.astype(dtype)
            rows = np.arange(t.size)
            log_p_t = shifted[rows, t_safe] - log_sum[:, 0]  # (M,)
            w_t = valid_f if weight is None else weight[t_safe] * valid_f  # (M,)
            losses = -(w_t * log_p_t)
            if eps > 0:
                w_sum = n_classes if weight is None else weight.sum()
                w_dot_shift = shifted.sum(axis=1) if weight is None else shifted @ weight
                smooth = -(w_dot_shift - log_sum[:, 0] * w_sum) * valid_f  # -sum_c w_c log p_c
                losses = (1 - eps) * losses + (eps / n_classes) * smooth
            denom = w_t.sum()
            kind = "index"
            saved = (t_safe, valid_f, w_t)
        elif target.dtype.kind == "f":
            if target.shape != z.shape:
                raise ValueError(
                    f"CrossEntropyLoss: probability target must have the input's shape {z.shape}, "
                    f"received {target.shape} (pass integer class indices for index targets)"
                )
            q = target.astype(dtype) if z.ndim == 2 else np.moveaxis(target.astype(dtype), 1, -1).reshape(-1, n_classes)
            if not self.targets_checked:
                self._check_probabilities(q)
            if eps > 0:
                q = q * (1 - eps) + eps / n_classes
            wq = q if weight is None else q * weight  # (M, C)
            log_p = shifted - log_sum
            losses = -np.einsum("mc,mc->m", wq, log_p)
            denom = losses.shape[0]
            kind = "prob"
            saved = (wq,)
        else:
            raise TypeError(
                f"CrossEntropyLoss: target must be integer class indices or float probabilities, "
                f"received dtype {target.dtype}"
            )

        self._cache = (kind, probs, saved, weight, denom, z.shape)
        per_row_shape = (z.shape[0],) + z.shape[2:]
        if self.reduction == "none":
            return losses.reshape(per_row_shape).astype(dtype, copy=False)
        total = losses.sum()
        if self.reduction == "sum":
            return np.asarray(total, dtype=dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / denom, dtype=dtype)

    def backward(self, grad_out=1.0) -> np.ndarray:
        kind, probs, saved, weight, denom, shape = self._saved()
        dtype = probs.dtype
        n_classes = probs.shape[1]
        eps = self.label_smoothing
        if kind == "index":
            t_safe, valid_f, w_t = saved
            grad = probs * w_t[:, None]  # w_t (p - onehot)
            grad[np.arange(t_safe.size), t_safe] -= w_t
            if eps > 0:
                grad *= 1 - eps
                if weight is None:
                    smooth = (n_classes * probs - 1) * valid_f[:, None]
                else:
                    smooth = (weight.sum() * probs - weight) * valid_f[:, None]
                grad += (eps / n_classes) * smooth
        else:
            (wq,) = saved
            grad = probs * wq.sum(axis=1, keepdims=True) - wq
        per_row_shape = (shape[0],) + shape[2:]
        grad_out = check_grad_out(self, grad_out, per_row_shape if self.reduction == "none" else (), dtype)
        if self.reduction == "none":
            grad *= grad_out.reshape(-1, 1)
        elif self.reduction == "sum":
            grad *= grad_out
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                grad *= grad_out / dtype.type(denom)
        if len(shape) == 2:
            return grad
        moved = (shape[0],) + shape[2:] + (n_classes,)
        return np.moveaxis(grad.reshape(moved), -1, 1)
