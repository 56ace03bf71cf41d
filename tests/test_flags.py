"""Every boolean flag of every public constructor refuses a string (issue 9's "flags given as strings").

The sweep finds the flags itself (parameters whose default is a bool) in
``dltoys.nn``, ``dltoys.models``, ``dltoys.optim`` and ``dltoys.train``, so a new
layer or model is covered the day it is exported. Estimators store their
hyperparameters unchanged (scikit-learn's rule) and refuse them in ``fit``.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import dltoys.models as models
import dltoys.nn as nn
import dltoys.optim as optim
import dltoys.train as train

#: Required arguments that a plain 4 cannot stand in for.
SPECIAL = {
    "params": lambda: nn.Linear(2, 2).parameters(),
    "layer_sizes": lambda: (2, 4, 1),
    "input_shape": lambda: (1, 8, 8),
    "path": lambda: "checkpoint.npz",
    "data": lambda: np.zeros(2, np.float32),
    "rbm": lambda: models.RBM(4, 3, rng=0),
    "optimizer": lambda: optim.SGD(models.RBM(4, 3, rng=0).parameters(), lr=0.1),
}
#: Flags that are not boolean settings of the object (a PyTorch-compatible argument that
#: only accepts its default, or a mode switch of a method).
NOT_FLAGS: set[tuple[str, str]] = set()


def flag_cases():
    cases = []
    for package in (nn, models, optim, train):
        for name in getattr(package, "__all__", []):
            cls = getattr(package, name, None)
            if not inspect.isclass(cls):
                continue
            try:
                signature = inspect.signature(cls)
            except (TypeError, ValueError):
                continue
            for pname, parameter in signature.parameters.items():
                if isinstance(parameter.default, bool) and (name, pname) not in NOT_FLAGS:
                    cases.append(pytest.param(cls, pname, id=f"{package.__name__.split('.')[-1]}.{name}.{pname}"))
    return cases


def required_arguments(cls):
    args = {}
    for pname, parameter in inspect.signature(cls).parameters.items():
        if parameter.default is inspect.Parameter.empty and parameter.kind in (
            parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY
        ):
            args[pname] = SPECIAL[pname]() if pname in SPECIAL else 4
    return args


CASES = flag_cases()


def test_the_sweep_finds_the_flags():
    assert len(CASES) >= 60  # 101 when written: a sweep that finds nothing would pass vacuously


@pytest.mark.parametrize("cls, flag", CASES)
def test_a_string_flag_is_refused_by_name(cls, flag, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kwargs = required_arguments(cls)
    kwargs[flag] = "no"
    with pytest.raises(TypeError, match=rf"{flag}: expected True or False, received 'no'"):
        obj = cls(**kwargs)
        if hasattr(obj, "get_params") and hasattr(obj, "fit"):  # an estimator: checked in fit
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj.fit(np.random.default_rng(0).standard_normal((20, 2)), np.repeat([0, 1], 10))
