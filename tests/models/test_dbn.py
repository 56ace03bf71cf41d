"""DBN: the RBMs' weights start the MLP, unlabelled rows only pretrain, and check_estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dltoys.models.dbn import DBN
from dltoys.models.bernoulli_rbm import OutOfRangeWarning

pytest.importorskip("sklearn")


def _digits(n=300):
    from dltoys.data import load_digits

    X, y = load_digits()
    return X[:n], y[:n]


def test_pretrained_rbms_start_the_mlp_and_compute_its_hidden_layers():
    X, y = _digits()
    model = DBN((16, 8), rbm_n_iter=2, learning_rate=1e-12, momentum=0.0, max_iter=1, random_state=0).fit(X, y)
    assert len(model.rbms_) == 2
    for index, rbm in enumerate(model.rbms_):
        np.testing.assert_allclose(model.module_[2 * index].weight.data, rbm.weight.data, atol=1e-6)
        np.testing.assert_allclose(model.module_[2 * index].bias.data, rbm.hidden_bias.data, atol=1e-6)
    # the unrolled layer is the RBM's p(h | v): Linear + Sigmoid
    hidden = model.module_[1](model.module_[0](X))
    np.testing.assert_allclose(hidden, model.rbms_[0].hidden_probs(X), rtol=1e-5, atol=1e-6)


def test_without_pretraining_it_is_the_randomly_started_mlp():
    X, y = _digits()
    model = DBN((16,), pretrain=False, max_iter=2, random_state=0).fit(X, y)
    assert model.rbms_ == [] and model.module_.layer_sizes == (64, 16, 10)


def test_unlabelled_rows_pretrain_but_are_not_classes():
    X, y = _digits()
    targets = y.copy()
    targets[50:] = -1
    model = DBN((16,), rbm_n_iter=1, max_iter=3, random_state=0).fit(X, targets)
    np.testing.assert_array_equal(model.classes_, np.unique(y[:50]))
    assert model.predict_proba(X).shape == (len(X), len(model.classes_))
    with pytest.raises(ValueError, match="unlabelled"):
        DBN((4,), rbm_n_iter=1, max_iter=1).fit(X, np.full(len(X), -1))


def test_learns_the_digits():
    """Seed 0, 1000 training digits, 20 SGD epochs of fine-tuning: 90% on the other 797 (reached: 92.1%)."""
    from dltoys.data import load_digits

    X, y = load_digits()
    model = DBN((64,), rbm_n_iter=5, max_iter=20, random_state=0).fit(X[:1000], y[:1000])
    assert model.score(X[1000:], y[1000:]) >= 0.90


def test_bad_arguments_are_named():
    X, y = _digits(40)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        DBN(()).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        DBN(solver="lbfgs").fit(X, y)
    with pytest.warns(OutOfRangeWarning):
        DBN((4,), rbm_n_iter=1, max_iter=1).fit(X * 16, y)


#: Checks skipped, and why.
SKIPPED = {
    # -1 marks an unlabelled row (scikit-learn's semi-supervised convention): with classes {-1, 1}
    # the check's y has one class, and the DBN says so.
    "check_classifiers_classes": "-1 means unlabelled",
}


def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        results = check_estimator(DBN((4,), rbm_n_iter=1, max_iter=5, random_state=0),
                                  expected_failed_checks=SKIPPED, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed, failed
