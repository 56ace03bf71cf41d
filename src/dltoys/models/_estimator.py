"""A stand-in estimator base for the models that learn without backpropagation.

The core estimator base (``models/base.py``) replaces this once it is on main: the
same idea, hyperparameters read from the ``__init__`` signature, ``get_params`` /
``set_params`` / ``score`` and scikit-learn's tags, with scikit-learn optional at
run time (it is imported only when scikit-learn itself asks for the tags).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any

import numpy as np

from ..utils import as_array


class NotFittedError(ValueError, AttributeError):
    """An estimator used before ``fit`` (scikit-learn's NotFittedError has these two bases too)."""


class DataConversionWarning(UserWarning):
    """An input was reshaped: a column vector ``y`` of shape (N, 1) taken as (N,)."""


def _also_sklearns(ours: type, name: str) -> type:
    """``ours``, or a subclass that is also scikit-learn's class of that name if scikit-learn is loaded already.

    scikit-learn catches its own NotFittedError and DataConversionWarning; this lets it
    catch ours without dltoys importing scikit-learn (nothing is imported here).
    """
    exceptions = sys.modules.get("sklearn.exceptions")
    theirs = getattr(exceptions, name, None)
    if theirs is None:
        return ours
    return _COMBINED.setdefault(name, type(name, (ours, theirs), {"__module__": __name__}))


_COMBINED: dict[str, type] = {}


class Estimator:
    """get_params/set_params from the ``__init__`` signature; a repr that shows what differs from the defaults."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(name for name, p in signature.parameters.items()
                      if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            params[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> "Estimator":
        valid = self._param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"{type(self).__name__}.set_params: invalid parameter {name!r}; valid: {', '.join(valid)}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = []
        for name in self._param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = default is not inspect.Parameter.empty and bool(value == default)
            except Exception:  # arrays and the like
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_tags__(self):  # only scikit-learn calls this, so it may import scikit-learn
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = getattr(self, "_estimator_type", None)
        tags = Tags(estimator_type=kind, target_tags=TargetTags(required=kind in ("classifier", "regressor")),
                    transformer_tags=TransformerTags() if hasattr(self, "transform") else None,
                    classifier_tags=ClassifierTags() if kind == "classifier" else None,
                    regressor_tags=RegressorTags() if kind == "regressor" else None)
        return self._adjust_tags(tags)

    def _adjust_tags(self, tags):
        """Adjust scikit-learn's tags (override)."""
        return tags

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise _also_sklearns(NotFittedError, "NotFittedError")(f"This {type(self).__name__} instance is not fitted yet; call 'fit' first.")


class ClassifierMixin:
    _estimator_type = "classifier"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``."""
        y = as_array("y", y).reshape(-1)
        correct = (self.predict(X) == y).astype(np.float64)
        if sample_weight is None:
            return float(correct.mean())
        return float(np.average(correct, weights=np.asarray(sample_weight, dtype=np.float64)))


class RegressorMixin:
    _estimator_type = "regressor"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2, the coefficient of determination of :meth:`predict` on ``X``."""
        y = as_array("y", y).astype(np.float64).reshape(len(X), -1) if np.ndim(y) else np.asarray(y)
        predicted = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[:, None]
        residual = np.average((y - predicted) ** 2, axis=0, weights=weights)
        total = np.average((y - np.average(y, axis=0, weights=weights)) ** 2, axis=0, weights=weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual == 0, 1.0, 0.0))
        return float(np.mean(r2))


def check_X(owner: Any, X: Any, *, reset: bool, dtype: Any = None) -> np.ndarray:
    """A 2-D array of finite real numbers with the features seen in ``fit``; sets ``n_features_in_`` when ``reset``.

    The messages follow scikit-learn's (its checks match on them).
    """
    name = type(owner).__name__
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array (X.toarray())")
    X = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if X.dtype.kind == "c":
        raise ValueError(f"{name}: Complex data not supported, received X of dtype {X.dtype}")
    if X.dtype.kind not in "biuf":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: X must hold real numbers: {exc}") from None
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2D array X of shape (n_samples, n_features), received shape {X.shape}. "
                         "Reshape your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
    if X.shape[1] == 0:
        raise ValueError(f"{name}: Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if not np.isfinite(X).all():
        raise ValueError(f"{name}: Input X contains NaN or infinity")
    if reset:
        owner.n_features_in_ = X.shape[1]
    elif X.shape[1] != owner.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {name} is expecting {owner.n_features_in_} features as input")
    if dtype is None or X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        converted = X.astype(dtype)
    if not np.isfinite(converted).all():
        raise ValueError(f"{name}: X has values too large for {np.dtype(dtype).name} (up to {np.abs(X).max():g}); "
                         "scale the data or use dtype=float64")
    return converted


def check_y(owner: Any, y: Any, n_samples: int) -> np.ndarray:
    """A 1-D target of ``n_samples`` entries, numbers finite (a column vector is taken, with a warning)."""
    name = type(owner).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    y = as_array("y", y) if not (isinstance(y, np.ndarray) and y.dtype == object) else y
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector y was passed when a 1d array was expected ({name}); taken as "
                      f"shape ({len(y)},)", _also_sklearns(DataConversionWarning, "DataConversionWarning"), stacklevel=3)
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n_samples:
        raise ValueError(f"{name}: expected y of shape ({n_samples},) to match X, received {y.shape}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name}: Input y contains NaN or infinity")
    return y
