"""Behaviours a scikit-learn user relies on, checked against scikit-learn itself.

* A diverging fit with ``early_stopping=True`` records NaN validation scores
  and restores the best finite weights (MLPs, scikit-learn's fix for its issue
  #29504); SGD* raise scikit-learn's floating-point overflow error instead of
  a misleading "Input contains NaN" from the validation score.
* ``partial_fit`` never warns ``ConvergenceWarning``; ``fit`` still does.
* ``partial_fit`` trains the weights a user assigned to ``coefs_`` and
  ``intercepts_`` (scikit-learn's worked example in its ``test_fit``).
"""

import re
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk_linear
from sklearn import neural_network as sk_nn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

X_IRIS, Y_IRIS = load_iris(return_X_y=True)

DIVERGING_MLP = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                     learning_rate="constant", learning_rate_init=1, max_iter=20,
                     early_stopping=True, n_iter_no_change=10, random_state=0)


@pytest.mark.parametrize("fo_cls, sk_cls", [(MLPRegressor, sk_nn.MLPRegressor)])
def test_diverging_mlp_with_early_stopping_completes_like_sklearn(fo_cls, sk_cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, RuntimeWarning))
        ref = sk_cls(**DIVERGING_MLP).fit(X_IRIS, Y_IRIS)
        est = fo_cls(**DIVERGING_MLP).fit(X_IRIS, Y_IRIS)
    # scikit-learn: NaN is recorded, never counted as "no improvement"
    assert np.isnan(ref.validation_scores_[-1])
    assert isinstance(est.validation_scores_[-1], float)
    assert np.isnan(est.validation_scores_[-1])
    assert est.n_iter_ == ref.n_iter_ == DIVERGING_MLP["max_iter"]
    assert est.best_validation_score_ == np.nanmax(est.validation_scores_)
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)


def test_diverging_mlp_restores_the_weights_of_its_best_epoch():
    """The weights kept are those at the end of the best-scoring epoch: the
    same fit stopped right after that epoch ends with the same weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPRegressor(**DIVERGING_MLP).fit(X_IRIS, Y_IRIS)
        best_epoch = int(np.nanargmax(est.validation_scores_)) + 1
        short = MLPRegressor(**{**DIVERGING_MLP, "max_iter": best_epoch}).fit(X_IRIS, Y_IRIS)
    assert short.best_validation_score_ == est.best_validation_score_
    for a, b in zip(est.coefs_ + est.intercepts_, short.coefs_ + short.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_diverging_mlp_without_early_stopping_raises_sklearns_error():
    params = {**DIVERGING_MLP, "early_stopping": False}
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        sk_nn.MLPRegressor(**params).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        MLPRegressor(**params).fit(X_IRIS, Y_IRIS)


@pytest.mark.parametrize("solver, batch_size", [("sgd", 1), ("sgd", 4), ("adam", 4)])
def test_diverging_sgd_with_early_stopping_raises_the_overflow_error(solver, batch_size):
    """As scikit-learn's ``_plain_sgd``: the overflow is reported before a
    validation score is computed from non-finite coefficients (a regressor:
    a classifier's hinge step is bounded and does not overflow here)."""
    X = X_IRIS * 1e150
    params = dict(early_stopping=True, learning_rate="constant", eta0=1e150, max_iter=5,
                  random_state=0)
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        sk_linear.SGDRegressor(**params).fit(X, Y_IRIS)
    with pytest.raises(ValueError, match="Floating-point under-/overflow"):
        SGDRegressor(solver=solver, batch_size=batch_size, **params).fit(X, Y_IRIS)


@pytest.mark.parametrize("est, fit_kwargs", [
    (MLPClassifier(max_iter=1, random_state=0), {"classes": [0, 1, 2]}),
    (MLPRegressor(max_iter=1, random_state=0), {}),
    (SGDClassifier(max_iter=1, random_state=0), {"classes": [0, 1, 2]}),
    (SGDRegressor(max_iter=1, random_state=0), {}),
])
def test_partial_fit_never_warns_convergence_but_fit_does(est, fit_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(2):
            est.partial_fit(X_IRIS, Y_IRIS, **fit_kwargs)
    with pytest.warns(ConvergenceWarning):
        est.fit(X_IRIS, Y_IRIS)


def test_partial_fit_trains_assigned_weights_like_sklearn():
    X, y = load_iris(return_X_y=True)
    params = dict(solver="sgd", hidden_layer_sizes=3, momentum=0, shuffle=False,
                  random_state=0, max_iter=1)
    ref = sk_nn.MLPRegressor(**params).partial_fit(X, y.astype(float))
    est = MLPRegressor(**params).partial_fit(X, y.astype(float))
    rng = np.random.RandomState(1)
    for model in (ref, est):
        model.coefs_ = [rng.uniform(-1, 1, c.shape) for c in ref.coefs_]
        model.intercepts_ = [rng.uniform(-1, 1, b.shape) for b in ref.intercepts_]
        rng = np.random.RandomState(1)
    ref.partial_fit(X, y.astype(float))
    est.partial_fit(X, y.astype(float))
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def _hand_built_mlp(cls):
    """An unfitted classifier given its weights and state by hand, as scikit-learn's
    worked example (its ``test_fit``) does: no ``best_validation_score_``."""
    mlp = cls(solver="sgd", learning_rate_init=0.1, alpha=0.1, activation="logistic",
              random_state=1, max_iter=1, hidden_layer_sizes=2, momentum=0)
    mlp.coefs_ = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]]), np.array([[0.1], [0.2]])]
    mlp.intercepts_ = [np.array([0.1, 0.1]), np.array([1.0])]
    mlp.n_outputs_, mlp.n_features_in_, mlp.n_layers_ = 1, 3, 3
    mlp.n_iter_, mlp.t_, mlp.learning_rate_ = 0, 0, 0.1
    mlp.out_activation_ = "logistic"
    mlp.best_loss_, mlp.loss_curve_, mlp._no_improvement_count = np.inf, [], 0
    mlp._coef_grads = [0] * 2
    mlp._intercept_grads = [0] * 2
    mlp._intercept_velocity = [np.zeros_like(b) for b in mlp.intercepts_]
    mlp._coef_velocity = [np.zeros_like(c) for c in mlp.coefs_]
    return mlp


def test_partial_fit_trains_a_hand_built_model_like_sklearn():
    X, y = np.array([[0.6, 0.8, 0.7]]), np.array([0])
    ref = _hand_built_mlp(sk_nn.MLPClassifier).partial_fit(X, y, classes=[0, 1])
    est = _hand_built_mlp(MLPClassifier).partial_fit(X, y, classes=[0, 1])
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), rtol=1e-10)


@pytest.mark.parametrize("fo_cls, sk_cls", [(MLPRegressor, sk_nn.MLPRegressor),
                                            (MLPClassifier, sk_nn.MLPClassifier)])
def test_warm_start_fit_trains_assigned_weights_like_sklearn(fo_cls, sk_cls):
    X, y = load_iris(return_X_y=True)
    params = dict(solver="sgd", hidden_layer_sizes=(4, 3), shuffle=False, random_state=0,
                  max_iter=1, learning_rate_init=0.01)
    models = []
    for cls in (sk_cls, fo_cls):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = cls(**params).fit(X, y)
            rng = np.random.RandomState(1)
            model.coefs_ = [rng.uniform(-1, 1, c.shape) for c in model.coefs_]
            model.intercepts_ = [rng.uniform(-1, 1, b.shape) for b in model.intercepts_]
            models.append(model.set_params(warm_start=True, max_iter=3).fit(X, y))
    ref, est = models
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("attribute, index, shape, expected", [
    ("coefs_", 0, (4, 5), "(4, 3)"),
    ("coefs_", 1, (2, 3), "(3, 1)"),
    ("intercepts_", 0, (4,), "(3,)"),
    ("intercepts_", 1, (1, 1), "(1,)"),
])
@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_assigned_weights_of_a_wrong_shape_raise(attribute, index, shape, expected, method):
    X, y = X_IRIS, Y_IRIS.astype(float)
    est = MLPRegressor(hidden_layer_sizes=3, max_iter=1, random_state=0).partial_fit(X, y)
    getattr(est, attribute)[index] = np.zeros(shape)
    message = f"{attribute}[{index}] has shape {shape}, expected {expected} for layer sizes"
    with pytest.raises(ValueError, match=re.escape(message)):
        if method == "partial_fit":
            est.partial_fit(X, y)
        else:
            est.set_params(warm_start=True).fit(X, y)


def test_assigned_weights_missing_a_layer_raise():
    est = MLPRegressor(hidden_layer_sizes=3, max_iter=1, random_state=0).partial_fit(
        X_IRIS, Y_IRIS.astype(float))
    est.coefs_ = est.coefs_[:1]
    with pytest.raises(ValueError, match="coefs_ has 1 arrays, expected 2"):
        est.partial_fit(X_IRIS, Y_IRIS.astype(float))
