"""fastopt's MLPs reproduce scikit-learn's MLPs.

With ``shuffle=False`` both libraries visit the minibatches in the same order
from the same Glorot initialisation, so the whole training trajectory (weights,
loss curve, stopping epoch, early-stopping scores) must agree to rounding.
With shuffling the generators differ, so quality is compared statistically.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

from fastopt.neural_network import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BASE = dict(hidden_layer_sizes=(12, 7), random_state=3, max_iter=15, shuffle=False)


def _data(kind, n=160):
    if kind == "multiclass":
        return make_classification(n, 8, n_informative=5, n_classes=3, random_state=0)
    if kind == "binary":
        X, y = make_classification(n, 8, random_state=1)
        return X, np.where(y == 1, "yes", "no")
    if kind == "multilabel":
        return make_multilabel_classification(n, 8, n_classes=3, random_state=0)
    X, y = make_regression(n, 8, n_targets=2, noise=1.0, random_state=0)
    if kind == "poisson":
        return X, np.exp(X[:, 0] / 2)
    if kind == "single":
        return X, y[:, 0] / 100
    return X, y / 100


def _assert_same_fit(ours, ref, rtol=1e-9, atol=1e-12):
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_
    assert ours.n_layers_ == ref.n_layers_
    assert ours.n_outputs_ == ref.n_outputs_
    assert ours.out_activation_ == ref.out_activation_
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.loss_, ref.loss_, rtol=rtol * 100)
    if hasattr(ref, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=rtol * 100)
        assert (ours.best_loss_ is None) == (ref.best_loss_ is None)
        if ref.best_loss_ is not None:
            np.testing.assert_allclose(ours.best_loss_, ref.best_loss_, rtol=rtol * 100)
        if ref.validation_scores_ is None:
            assert ours.validation_scores_ is None and ours.best_validation_score_ is None
        else:
            np.testing.assert_allclose(ours.validation_scores_, ref.validation_scores_)
            assert ours.best_validation_score_ == pytest.approx(ref.best_validation_score_)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_classifier_trajectory_matches_sklearn(activation, solver):
    X, y = _data("multiclass")
    ours = MLPClassifier(activation=activation, solver=solver, **BASE).fit(X, y)
    ref = SkMLPClassifier(activation=activation, solver=solver, **BASE).fit(X, y)
    _assert_same_fit(ours, ref, rtol=1e-7 if solver == "lbfgs" else 1e-9,
                     atol=1e-9 if solver == "lbfgs" else 1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_logistic_output_classifiers_match_sklearn(kind):
    X, y = _data(kind)
    ours = MLPClassifier(**BASE).fit(X, y)
    ref = SkMLPClassifier(**BASE).fit(X, y)
    _assert_same_fit(ours, ref)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_log_proba(X), ref.predict_log_proba(X), atol=1e-8)


@pytest.mark.parametrize("kind, loss", [("single", "squared_error"),
                                        ("multi", "squared_error"),
                                        ("poisson", "poisson")])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_trajectory_matches_sklearn(kind, loss, solver):
    X, y = _data(kind)
    params = dict(BASE, loss=loss, solver=solver, learning_rate_init=1e-3)
    ours = MLPRegressor(**params).fit(X, y)
    ref = SkMLPRegressor(**params).fit(X, y)
    lbfgs = solver == "lbfgs"
    _assert_same_fit(ours, ref, rtol=1e-6 if lbfgs else 1e-9, atol=1e-8 if lbfgs else 1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_sgd_learning_rate_rules_match_sklearn(learning_rate):
    X, y = _data("multiclass")
    params = dict(BASE, solver="sgd", learning_rate=learning_rate, learning_rate_init=0.05,
                  tol=0.05, n_iter_no_change=2, max_iter=40)
    ours = MLPClassifier(**params).fit(X, y)
    ref = SkMLPClassifier(**params).fit(X, y)
    _assert_same_fit(ours, ref)


@pytest.mark.parametrize("Est, SkEst, kind", [(MLPClassifier, SkMLPClassifier, "multiclass"),
                                              (MLPRegressor, SkMLPRegressor, "multi")])
def test_early_stopping_restores_best_weights_like_sklearn(Est, SkEst, kind):
    X, y = _data(kind, n=300)
    params = dict(BASE, early_stopping=True, n_iter_no_change=3, max_iter=60, tol=0.01,
                  learning_rate_init=0.05)
    ours = Est(**params).fit(X, y)
    ref = SkEst(**params).fit(X, y)
    _assert_same_fit(ours, ref)
    assert ours.n_iter_ < 60


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sample_weight_matches_sklearn(solver):
    X, y = _data("multiclass")
    sw = np.random.RandomState(0).uniform(0.2, 3.0, len(y))
    ours = MLPClassifier(solver=solver, **BASE).fit(X, y, sample_weight=sw)
    ref = SkMLPClassifier(solver=solver, **BASE).fit(X, y, sample_weight=sw)
    _assert_same_fit(ours, ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("batch_size", [1, 37, "n_samples"])
def test_batch_sizes_from_pure_sgd_to_full_batch_match_sklearn(batch_size):
    X, y = _data("multiclass", n=60)
    batch_size = len(y) if batch_size == "n_samples" else batch_size
    params = dict(BASE, batch_size=batch_size, max_iter=5)
    _assert_same_fit(MLPClassifier(**params).fit(X, y), SkMLPClassifier(**params).fit(X, y))


def test_partial_fit_and_warm_start_match_sklearn():
    X, y = _data("multiclass")
    ours, ref = MLPClassifier(**BASE), SkMLPClassifier(**BASE)
    for _ in range(4):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        ref.partial_fit(X, y, classes=[0, 1, 2])
    _assert_same_fit(ours, ref)
    ours = MLPRegressor(warm_start=True, **BASE)
    ref = SkMLPRegressor(warm_start=True, **BASE)
    X, y = _data("single")
    for _ in range(2):
        ours.fit(X, y)
        ref.fit(X, y)
    _assert_same_fit(ours, ref)
    assert len(ours.loss_curve_) == 2 * BASE["max_iter"]


def test_sparse_csr_input_matches_sklearn():
    X, y = _data("multiclass")
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    ours = MLPClassifier(**BASE).fit(Xs, y)
    ref = SkMLPClassifier(**BASE).fit(Xs, y)
    _assert_same_fit(ours, ref)
    np.testing.assert_allclose(ours.predict_proba(Xs), ref.predict_proba(Xs), atol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(Xs.toarray()), ref.predict_proba(Xs),
                               atol=1e-10)


def test_float32_trains_in_float32_close_to_sklearn():
    X, y = _data("multiclass")
    X = X.astype(np.float32)
    ours = MLPClassifier(**BASE).fit(X, y)
    ref = SkMLPClassifier(**BASE).fit(X, y)
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X).dtype == np.float32
    _assert_same_fit(ours, ref, rtol=1e-3, atol=1e-4)


def _digits():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def _classification():
    X, y = make_classification(1500, 20, n_informative=10, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.mark.parametrize("load", [_digits, _classification])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_shuffled_training_accuracy_within_one_point_of_sklearn(load, solver):
    X_train, X_test, y_train, y_test = load()
    ours, ref = [], []
    params = dict(hidden_layer_sizes=(64,), solver=solver, max_iter=60)
    if solver == "sgd":
        params["learning_rate_init"] = 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in range(4):
            ours.append(MLPClassifier(random_state=seed, **params)
                        .fit(X_train, y_train).score(X_test, y_test))
            ref.append(SkMLPClassifier(random_state=seed, **params)
                       .fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(ref) - 0.01
