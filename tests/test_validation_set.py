"""fit(X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None).

A given set replaces the early-stopping split; without early stopping it is
only measured. Bad validation data is refused before training and leaves a
fitted model as it was; metadata routing delivers the validation arguments.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

Xc, yc = make_classification(n_samples=200, n_features=6, n_informative=4, n_classes=3,
                             random_state=2)
Xr, yr = make_regression(n_samples=200, n_features=6, noise=5.0, random_state=2)
Xr, yr = Xr / 10, yr / 100

ESTIMATORS = {
    "SGDClassifier": (SGDClassifier(max_iter=5, tol=None, random_state=0), Xc, yc),
    "SGDRegressor": (SGDRegressor(max_iter=5, tol=None, random_state=0), Xr, yr),
    "MLPClassifier": (MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
                      Xc, yc),
    "MLPRegressor": (MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
                     Xr, yr),
}


def _model(est):
    if hasattr(est, "coefs_"):
        return np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])
    return np.concatenate([np.ravel(est.coef_), np.ravel(est.intercept_)])


@pytest.mark.parametrize("est", [
    SGDClassifier(early_stopping=True, n_iter_no_change=2, shuffle=False, random_state=3),
    SGDClassifier(early_stopping=True, n_iter_no_change=2, shuffle=False, solver="adam",
                  batch_size=16, eta0=0.01, random_state=3),
    SGDRegressor(early_stopping=True, n_iter_no_change=2, shuffle=False, random_state=3),
], ids=["plain-ovr", "minibatch", "regressor"])
def test_sgd_early_stopping_on_x_val_equals_the_validation_fraction_split(est):
    X, y = (Xr, yr) if isinstance(est, SGDRegressor) else (Xc, yc)
    split = clone(est).fit(X, y)
    # scikit-learn's split (StratifiedShuffleSplit for classifiers), training rows in order
    if isinstance(est, SGDRegressor):
        from sklearn.model_selection import ShuffleSplit as Splitter
    else:
        Splitter = StratifiedShuffleSplit
    train, val = next(Splitter(test_size=0.1, random_state=3).split(np.zeros((len(y), 1)), y))
    train = np.sort(train)
    given = clone(est).fit(X[train], y[train], X_val=X[val], y_val=y[val])
    assert given.n_iter_ == split.n_iter_
    np.testing.assert_allclose(_model(given), _model(split), rtol=1e-10)
    np.testing.assert_allclose(given.validation_scores_, split.validation_scores_)
    np.testing.assert_allclose(given.validation_loss_curve_, split.validation_loss_curve_)


def test_mlp_early_stopping_on_x_val_equals_the_validation_fraction_split():
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=3,
              learning_rate_init=0.01, shuffle=False, max_iter=60, random_state=4)
    split = MLPClassifier(**kw).fit(Xc, yc)
    # The estimator draws the initial weights, then splits with the same generator.
    rng = check_random_state(4)
    MLPClassifier(**kw)._initial_params([6, 8, 3], np.float64, rng)
    X_train, X_val, y_train, y_val = train_test_split(Xc, yc, random_state=rng, test_size=0.1)
    given = MLPClassifier(**kw).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert given.n_iter_ == split.n_iter_ < 60
    np.testing.assert_allclose(given.validation_scores_, split.validation_scores_)
    np.testing.assert_allclose(_model(given), _model(split), rtol=1e-10)
    assert given.best_validation_score_ == max(given.validation_scores_)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_x_val_without_early_stopping_is_measured_and_does_not_change_training(name):
    est, X, y = ESTIMATORS[name]
    plain = clone(est).fit(X[:150], y[:150])
    measured = clone(est).fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    np.testing.assert_array_equal(_model(measured), _model(plain))
    assert len(measured.validation_loss_curve_) == len(measured.validation_scores_) == 5
    assert measured.validation_scores_[-1] == pytest.approx(measured.score(X[150:], y[150:]))


def _bad(name, X, y):
    X_val, y_val = X[150:].copy(), y[150:].copy()
    nan_X = X_val.copy()
    nan_X[0, 0] = np.nan
    cases = [
        (dict(X_val=X_val[:, :-1], y_val=y_val), "features"),
        (dict(X_val=nan_X, y_val=y_val), "NaN"),
        (dict(X_val=X_val), "y_val was not provided"),
        (dict(y_val=y_val), "X_val was not provided"),
        (dict(sample_weight_val=np.ones(50)), "without X_val"),
        (dict(X_val=X_val, y_val=y_val[:-1]), "inconsistent numbers of samples"),
    ]
    if "Classifier" in name:
        cases.append((dict(X_val=X_val, y_val=np.where(y_val == 0, 7, y_val)),
                      "not among the training classes"))
    else:
        nan_y = y_val.copy()
        nan_y[3] = np.nan
        cases.append((dict(X_val=X_val, y_val=nan_y), "NaN"))
    return cases


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_validation_data_is_refused_before_training_and_the_model_survives(name):
    est, X, y = ESTIMATORS[name]
    est = clone(est).fit(X[:150], y[:150])
    before, n_iter = _model(est).copy(), est.n_iter_
    for kwargs, message in _bad(name, X, y):
        with pytest.raises(ValueError, match=message):
            est.fit(X[:100], y[:100], **kwargs)
        np.testing.assert_array_equal(_model(est), before)
        assert est.n_iter_ == n_iter


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_metadata_routing_delivers_validation_data_through_a_pipeline(name):
    est, X, y = ESTIMATORS[name]
    w = np.linspace(0.1, 3.0, 50)
    with config_context(enable_metadata_routing=True):
        step = clone(est).set_fit_request(X_val=True, y_val=True, sample_weight_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("est", step)],
                        transform_input=["X_val"])
        pipe.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:], sample_weight_val=w)
    scaler = StandardScaler().fit(X[:150])
    manual = clone(est).fit(scaler.transform(X[:150]), y[:150], X_val=scaler.transform(X[150:]),
                            y_val=y[150:], sample_weight_val=w)
    unweighted = clone(est).fit(scaler.transform(X[:150]), y[:150],
                                X_val=scaler.transform(X[150:]), y_val=y[150:])
    routed = pipe[-1]
    np.testing.assert_allclose(routed.validation_loss_curve_, manual.validation_loss_curve_)
    np.testing.assert_allclose(routed.validation_scores_, manual.validation_scores_)
    assert not np.allclose(routed.validation_loss_curve_, unweighted.validation_loss_curve_)


def test_float32_training_measures_float32_validation_data():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = SGDClassifier(max_iter=3, tol=None, random_state=0).fit(
            Xc[:150].astype(np.float32), yc[:150], X_val=Xc[150:], y_val=yc[150:])
    assert est.coef_.dtype == np.float32
    assert est.validation_scores_[-1] == pytest.approx(est.score(Xc[150:], yc[150:]))


@pytest.mark.parametrize("engine", [dict(), dict(batch_size=16), dict(solver="adam")],
                         ids=["plain", "minibatch", "adam"])
@pytest.mark.parametrize("loss", ["log_loss", "hinge"])
def test_sgd_binary_stopping_score_is_the_validation_accuracy(engine, loss, capsys):
    # The score the stopping rule compares (printed with verbose) must be the
    # held-out accuracy, whatever labels the engine trains on ({0, 1} for
    # log_loss). penalty=None: the plain engine, as scikit-learn's, scores its
    # stored coefficients without the pending L2 factor.
    X, y = make_classification(n_samples=300, n_features=6, random_state=5)
    est = SGDClassifier(loss=loss, penalty=None, learning_rate="constant", eta0=0.01,
                        early_stopping=True, n_iter_no_change=3, max_iter=12, verbose=1,
                        random_state=0, **engine)
    est.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    printed = [float(s) for s in
               re.findall(r"Validation score: ([-\d.]+)", capsys.readouterr().out)]
    np.testing.assert_allclose(printed, est.validation_scores_, atol=1e-6)
    assert printed[-1] == pytest.approx(est.score(X[200:], y[200:]), abs=1e-6)
