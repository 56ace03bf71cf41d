"""models.CNN (gradcheck, layout, PyTorch's keys) and the CNNClassifier estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dltoys import nn
from dltoys.models import CNN, CNNClassifier, NotFittedError
from dltoys.testing import gradcheck


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((1, 8, 8), dict(channels=(3, 4), hidden_size=5)),
        ((2, 7, 6), dict(channels=(3,), batch_norm=True, hidden_size=None)),
        ((1, 20), dict(channels=(3, 3, 3), kernel_size=(5, 3, 3), stride=2, padding=1, pool=None, hidden_size=None)),
    ],
)
def test_cnn_gradcheck(shape, kwargs):
    model = CNN(shape, 3, rng=0, **kwargs)
    x = np.random.default_rng(0).standard_normal((4, *shape))
    assert model(x.astype(np.float32)).shape == (4, 3)
    gradcheck(model, x)


def test_cnn_layers_and_keys():
    model = CNN((1, 8, 8), 10, channels=(16, 32), batch_norm=True, dropout=0.25, rng=0)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
                     "Flatten", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert model[0].bias is None  # batch norm's shift replaces it
    assert model[10].in_features == 32 * 2 * 2
    assert list(model.state_dict())[:6] == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                            "1.num_batches_tracked"]


def test_mnist1d_paper_cnn_shape():
    """The paper's 1-D CNN: three stride-2 convolutions of 25 channels, 40 -> 19 -> 10 -> 5, then 125 -> 10."""
    model = CNN((1, 40), 10, channels=(25, 25, 25), kernel_size=(5, 3, 3), stride=2, padding=1, pool=None,
                hidden_size=None, rng=0)
    assert model[-1].in_features == 125 and model.num_parameters() == (25 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + 1260


def test_cnn_bad_arguments():
    with pytest.raises(ValueError, match="input_shape: expected"):
        CNN((1, 1, 8, 8), 10)
    with pytest.raises(ValueError, match=r"kernel_size: expected an int or one int per convolution \(2\)"):
        CNN((1, 8, 8), 10, kernel_size=(3, 3, 3))
    with pytest.raises(ValueError, match="too small"):
        CNN((1, 3, 3), 10, channels=(2, 2), padding=0)


def test_classifier_learns_shifted_bumps():
    """Where a bump sits says nothing; its width does: 2 classes of 1-D signals, 100% after training."""
    rng = np.random.default_rng(0)
    n, length = 200, 24
    y = rng.integers(0, 2, n)
    X = rng.normal(0, 0.05, (n, length)).astype(np.float32)
    starts = rng.integers(0, length - 6, n)
    for i in range(n):
        X[i, starts[i] : starts[i] + 2 + 4 * y[i]] += 1.0
    labels = np.array(["narrow", "wide"])[y]
    clf = CNNClassifier(channels=(8,), hidden_size=None, epochs=15, lr=0.01, random_state=0)
    assert clf.fit(X[:150], labels[:150]) is clf
    assert list(clf.classes_) == ["narrow", "wide"] and clf.n_features_in_ == length
    assert clf.score(X[150:], labels[150:]) == 1.0
    proba = clf.predict_proba(X[150:])
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert clf.get_params()["epochs"] == 15 and clf.set_params(epochs=3).epochs == 3


def test_classifier_errors():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        CNNClassifier().predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="lr: expected a number in"):
        CNNClassifier(lr=-1).fit(np.zeros((4, 8)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'"):
        CNNClassifier().set_params(learning_rate=0.1)
    with pytest.raises(ValueError, match="at least 2 classes"):
        CNNClassifier().fit(np.zeros((4, 8)), [1, 1, 1, 1])
    clf = CNNClassifier(channels=(2,), epochs=1, random_state=0).fit(np.zeros((4, 8)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="X has 9 features, but it is expecting 8"):
        clf.predict(np.zeros((2, 9)))


def test_classifier_reads_images():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 1, 6, 6)).astype(np.float32)
    y = np.arange(12) % 3
    clf = CNNClassifier(channels=(4,), hidden_size=None, epochs=2, random_state=0).fit(X, y)
    assert clf.input_shape_ == (1, 6, 6) and clf.n_features_in_ == 36 and clf.module_[0].__class__ is nn.Conv2d
    assert clf.predict_proba(X).shape == (12, 3)


@pytest.mark.slow
def test_check_estimator():
    """scikit-learn's judge, every check (2-D X is read as one-channel signals)."""
    estimator_checks = pytest.importorskip("sklearn.utils.estimator_checks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not inherit from BaseEstimator": by design, sklearn is optional
        results = estimator_checks.check_estimator(
            CNNClassifier(channels=(8,), hidden_size=None, epochs=10, lr=0.01, random_state=0), on_fail=None
        )
    failed = {r["check_name"]: repr(r["exception"])[:300] for r in results if r["status"] == "failed"}
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 45  # the checks did run
