"""What makes a model a scikit-learn-style estimator, without importing scikit-learn.

scikit-learn stays optional at runtime: :class:`Estimator` gives ``get_params`` /
``set_params`` (read from the ``__init__`` signature), a ``repr`` of the non-default
parameters and the tags scikit-learn's tools read (``__sklearn_tags__``, which imports
scikit-learn only when scikit-learn itself asks). :class:`ClassifierMixin` and
:class:`RegressorMixin` add ``score`` (accuracy, R^2). The input checks below give the
errors a scikit-learn user expects (sklearn's ``check_estimator`` tests them), with the
argument, what was received and what is allowed.

The contract (skorch's and scikit-learn's): hyperparameters are stored unchanged in
``__init__`` and checked in ``fit``; what is learned ends with ``_`` (``coef_``,
``classes_``, ``n_features_in_``, ``module_``); ``fit`` returns ``self``.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import sys
import warnings
from typing import Any

import numpy as np


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (scikit-learn's name)."""


class DataConversionWarning(UserWarning):
    """The input was converted (a column-vector ``y`` ravelled), as scikit-learn warns."""


class ConvergenceWarning(UserWarning):
    """Training stopped at ``max_iter`` before the stopping criterion was met."""


def _sklearn_compatible(ours: type) -> type:
    """``ours``, or a class that is both ours and scikit-learn's namesake when scikit-learn is loaded.

    scikit-learn's tools catch (and filter) their own classes; importing scikit-learn just to
    name them would cost about a second at every import of dltoys, so the subclass is made
    only when scikit-learn is already there.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    theirs = getattr(sklearn_exceptions, ours.__name__, None)
    return ours if theirs is None else _both(ours, theirs)


@functools.cache
def _both(ours: type, theirs: type) -> type:
    return type(ours.__name__, (ours, theirs), {"__module__": __name__, "__doc__": ours.__doc__})


class Estimator:
    """``get_params``/``set_params``/``repr`` from the ``__init__`` signature, and sklearn's tags.

    Subclasses take every hyperparameter as a keyword of ``__init__`` with a default
    and store it unchanged under the same name (no validation there: ``fit`` checks).
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return sorted(name for name, p in signature.parameters.items() if name != "self" and p.kind in kinds)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, by name (``deep`` includes those of estimator-valued ones)."""
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", inner) for key, inner in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params: Any) -> "Estimator":
        """Set hyperparameters by name (``inner__name`` for a nested estimator's); returns self."""
        valid = self._param_names()
        for key, value in params.items():
            name, _, inner = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            if inner:
                getattr(self, name).set_params(**{inner: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        signature = inspect.signature(type(self).__init__)
        changed = []
        for name in self._param_names():
            default = signature.parameters[name].default
            value = getattr(self, name)
            same = value is default or (type(value) is type(default) and _equal(value, default))
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=getattr(self, "_estimator_type", None), target_tags=TargetTags(required=True))

    def _check_is_fitted(self, attribute: str = "module_") -> None:
        if not hasattr(self, attribute):
            raise _sklearn_compatible(NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False


class ClassifierMixin:
    """``score`` is the accuracy; scikit-learn's tags say 'classifier'."""

    _estimator_type = "classifier"

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` of shape (n_samples,)."""
        return float(np.mean(self.predict(X) == column_or_1d(y, len(X))))

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags()
        return tags


class RegressorMixin:
    """``score`` is the coefficient of determination R^2; scikit-learn's tags say 'regressor'."""

    _estimator_type = "regressor"

    def score(self, X: Any, y: Any) -> float:
        """``R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2`` (averaged over outputs)."""
        y = np.asarray(y, dtype=np.float64)
        predicted = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        residual = ((y - predicted) ** 2).sum(axis=0)
        total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.where(residual > 0, 0.0, 1.0))
        return float(np.mean(r2))

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.regressor_tags = RegressorTags()
        return tags


# ------------------------------------------------------------------ input checks
def check_X(X: Any, *, owner: str, n_features: int | None = None, dtype=np.float64) -> np.ndarray:
    """A 2-D array of finite real numbers, with at least one row and one column, as ``dtype``.

    ``n_features`` (after fitting) must match the number of columns.
    """
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{owner}: X is a sparse matrix ({type(X).__name__}); dense data is required: pass X.toarray()")
    if hasattr(X, "dtypes") and hasattr(X, "to_numpy"):  # a DataFrame
        X = X.to_numpy()
    array = np.asarray(X)
    if array.dtype.kind == "c":
        raise ValueError(f"{owner}: X: Complex data not supported, received dtype {array.dtype}")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{owner}: X: expected real numbers, received dtype {array.dtype} ({exc})") from None
    if array.ndim != 2:
        raise ValueError(
            f"{owner}: expected a 2D array X of shape (n_samples, n_features), received {array.ndim}D of shape "
            f"{array.shape}. Reshape your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one sample"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{owner}: found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is required.")
    if array.shape[1] == 0:
        raise ValueError(f"{owner}: found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is required.")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{owner}: X has {array.shape[1]} features, but it is expecting {n_features} features as input")
    array = array.astype(dtype, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{owner}: X: expected finite values, received NaN or infinity")
    return array


def column_or_1d(y: Any, n_samples: int, *, warn: bool = False) -> np.ndarray:
    """``y`` of shape (n_samples,); a column (n_samples, 1) is ravelled (with a warning if ``warn``)."""
    if y is None:
        raise ValueError("y: this estimator requires y to be passed, but the target y is None")
    array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        if warn:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
                "(n_samples,), for example using ravel().", _sklearn_compatible(DataConversionWarning), stacklevel=3,
            )
        array = array.ravel()
    if array.ndim != 1:
        raise ValueError(f"y: expected shape ({n_samples},), received {array.shape}")
    if len(array) != n_samples:
        raise ValueError(f"y: found {len(array)} labels for {n_samples} samples in X (inconsistent numbers of samples)")
    return array


def check_classification_targets(y: np.ndarray) -> None:
    """Labels must be discrete (integers, strings, bools), not continuous values."""
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y: expected class labels, received NaN or infinity")
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError(f"Unknown label type: y holds continuous values ({y[:3].tolist()}...); expected class labels")
    if y.dtype.kind == "O" and not all(isinstance(label, (str, numbers.Integral)) for label in y):
        raise ValueError("Unknown label type: y: expected labels that are all strings or all integers")


def check_regression_targets(y: Any, n_samples: int) -> np.ndarray:
    """Finite real targets of shape (n_samples,) or (n_samples, n_outputs), as float64."""
    if y is None:
        raise ValueError("y: this estimator requires y to be passed, but the target y is None")
    array = np.asarray(y)
    if array.ndim not in (1, 2) or len(array) != n_samples:
        raise ValueError(f"y: expected shape ({n_samples},) or ({n_samples}, n_outputs), received {array.shape}")
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"y: expected real numbers, received dtype {array.dtype}") from None
    if not np.isfinite(array).all():
        raise ValueError("y: expected finite values, received NaN or infinity")
    return array


def check_random_state(random_state: Any) -> np.random.Generator:
    """``random_state``: None, an int >= 0 or a numpy Generator (a RandomState is taken as its seed stream)."""
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state: expected None, an int >= 0 or a numpy Generator, received {random_state!r}")
