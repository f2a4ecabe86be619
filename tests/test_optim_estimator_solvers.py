"""The rules added through the rule table as estimator solvers: by name, by object, searched."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.linear_model._sgd_training import DEFAULT_SETTINGS, NORMALISED_RATES, default_rate
from fastopt.optim import ASGD, Adadelta, Adamax, Lion, RAdam, Rprop

NEW_RULES = [Adadelta, Adamax, RAdam, Rprop, ASGD, Lion]
IDS = [cls.__name__ for cls in NEW_RULES]
# A rate at which each rule learns the toy problem below within 10 epochs of 4 steps
# (Adadelta's lr scales an already-normalised step; RAdam's first steps and ASGD are
# plain momentum/SGD steps).
GOOD_LR = {Adadelta: 3.0, Adamax: 0.05, RAdam: 0.2, Rprop: 0.05, ASGD: 0.3, Lion: 0.05}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=6, noise=0.1, random_state=0)
    return X, y / np.std(y)


def _buffers(state):
    return set(state.buffers)


@pytest.mark.parametrize("cls", NEW_RULES, ids=IDS)
def test_mlp_string_solver_is_the_object_with_learning_rate_init(cls, regression):
    X, y = regression
    kw = dict(hidden_layer_sizes=(8,), max_iter=15, random_state=0, learning_rate_init=3e-3)
    by_name = MLPRegressor(solver=cls.__name__.lower(), **kw).fit(X, y)
    by_object = MLPRegressor(solver=cls(lr=3e-3), **kw).fit(X, y)
    for a, b in zip(by_name.coefs_ + by_name.intercepts_,
                    by_object.coefs_ + by_object.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert _buffers(by_name._optimizer_state) == _buffers(cls().init(np.zeros(2)))
    assert by_name.loss_curve_[-1] < by_name.loss_curve_[0]


@pytest.mark.parametrize("cls", NEW_RULES, ids=IDS)
def test_sgd_string_solver_is_the_object_with_eta0(cls, regression):
    X, y = regression
    kw = dict(batch_size=16, max_iter=8, tol=None, random_state=0, eta0=1e-2,
              learning_rate="constant")
    by_name = SGDRegressor(solver=cls.__name__.lower(), **kw).fit(X, y)
    by_object = SGDRegressor(solver=cls(lr=1e-2), **kw).fit(X, y)
    np.testing.assert_array_equal(by_name.coef_, by_object.coef_)
    assert _buffers(by_name._solver_state) == _buffers(cls().init(np.zeros(2)))
    assert by_name.score(X, y) > SGDRegressor(solver=cls(lr=0.0), **kw).fit(X, y).score(X, y)


@pytest.mark.parametrize("cls", NEW_RULES, ids=IDS)
def test_sgd_optimal_rate_means_the_rules_rate_for_table_rules(cls):
    # scikit-learn's 'optimal' (derived for plain SGD) is the constant eta0 for ASGD and
    # the rule's own default rate for the normalised rules (eta0 has no effect)
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    kw = dict(batch_size=16, max_iter=5, tol=None, random_state=0)
    name = cls.__name__.lower()
    optimal = SGDClassifier(solver=name, learning_rate="optimal", eta0=0.05, **kw).fit(X, y)
    if name in NORMALISED_RATES:
        same = SGDClassifier(
            solver=cls(lr=default_rate(name, 16), **DEFAULT_SETTINGS.get(name, {})), **kw)
    else:
        same = SGDClassifier(solver=name, learning_rate="constant", eta0=0.05, **kw)
    np.testing.assert_array_equal(optimal.coef_, same.fit(X, y).coef_)


@pytest.mark.parametrize("cls", NEW_RULES, ids=IDS)
def test_grid_search_over_solver_lr_refits_the_best_rate(cls):
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=10, batch_size=10, random_state=0,
                        solver=cls())
    good = GOOD_LR[cls]
    search = GridSearchCV(est, {"solver__lr": [0.0, good]}, cv=2).fit(X, y)
    assert search.best_params_ == {"solver__lr": good}
    assert search.best_estimator_.solver.get_params()["lr"] == good
    assert isinstance(search.best_estimator_.solver, cls)


def test_sgd_classifier_grid_search_over_lion_rate():
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    est = SGDClassifier(solver=Lion(), batch_size=8, max_iter=5, tol=None, random_state=0,
                        learning_rate="constant")
    search = GridSearchCV(est, {"solver__lr": [0.0, 1e-2]}, cv=2).fit(X, y)
    assert search.best_params_ == {"solver__lr": 1e-2}
