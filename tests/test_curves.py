"""Per-epoch curves: loss_curve_ for SGD*, validation_loss_curve_ and validation_scores_.

Each epoch's validation figure is compared with the same figure computed in
NumPy/scikit-learn from an independent fit stopped after that many epochs.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor, plot_loss_curves
from fastopt.linear_model import _sgd_fast
from fastopt.linear_model._sgd_validation import sgd_loss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

Xc, yc = make_classification(n_samples=160, n_features=6, n_informative=4, n_classes=3,
                             random_state=1)
Xr, yr = make_regression(n_samples=160, n_features=6, noise=5.0, random_state=1)
Xr, yr = Xr / 10, yr / 100
TRAIN, VAL = slice(0, 120), slice(120, None)


@pytest.mark.parametrize("loss", list(_sgd_fast.LOSSES))
def test_vectorised_sgd_loss_equals_the_compiled_definition(loss):
    rng = np.random.default_rng(0)
    p = rng.normal(scale=3, size=200)
    y = rng.choice([-1.0, 1.0], size=200) if loss != "log_loss" else rng.choice([0.0, 1.0], 200)
    if loss in ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
        y = rng.normal(size=200)
    param = 0.0 if loss == "perceptron" else (1.0 if "hinge" in loss else 0.3)
    expected = [_sgd_fast.loss_value(loss, param, yi, pi) for yi, pi in zip(y, p)]
    np.testing.assert_allclose(sgd_loss(loss, param, y, p), expected, rtol=1e-12, atol=1e-12)


def _sgd_reference_loss(est, X, y):
    """Mean loss of the fitted linear model, from the published formulas."""
    raw = X @ np.atleast_2d(est.coef_).T + est.intercept_
    if est.loss == "squared_error":
        return np.mean(0.5 * (raw[:, 0] - y) ** 2)
    targets = np.where(y[:, None] == est.classes_[None, :], 1.0, -1.0)
    return np.mean(np.maximum(0.0, 1.0 - targets * raw).sum(axis=1))  # hinge, one-vs-rest


@pytest.mark.parametrize("est, X, y", [
    (SGDRegressor(tol=None, shuffle=False, random_state=0), Xr, yr),
    (SGDClassifier(tol=None, shuffle=False, random_state=0), Xc, yc),
    (SGDClassifier(tol=None, shuffle=False, solver="momentum", batch_size=8, eta0=0.01,
                   random_state=0), Xc, yc),
], ids=["regressor", "ovr-plain", "ovr-minibatch"])
def test_sgd_validation_curves_equal_the_model_after_each_epoch(est, X, y):
    est.set_params(max_iter=3).fit(X[TRAIN], y[TRAIN], X_val=X[VAL], y_val=y[VAL])
    assert len(est.loss_curve_) == len(est.validation_loss_curve_) == 3
    for epochs in (1, 2, 3):
        ref = est.__class__(**est.get_params()).set_params(max_iter=epochs).fit(X[TRAIN],
                                                                               y[TRAIN])
        np.testing.assert_allclose(est.validation_loss_curve_[epochs - 1],
                                   _sgd_reference_loss(ref, X[VAL], y[VAL]), rtol=1e-7)
        assert est.validation_scores_[epochs - 1] == pytest.approx(ref.score(X[VAL], y[VAL]))


def _objectives(stdout):
    return [float(v) for v in re.findall(r"Objective: ([-\d.e+]+)", stdout)]


@pytest.mark.parametrize("est, X, y, n_classes", [
    (SGDRegressor(max_iter=4, tol=None, verbose=1, random_state=0), Xr, yr, 1),
    (SGDClassifier(max_iter=4, tol=None, verbose=1, random_state=0), Xc, yc, 3),
    (SGDClassifier(max_iter=4, tol=None, verbose=1, solver="adam", batch_size=8,
                   random_state=0), Xc, yc, 1),
], ids=["regressor", "ovr-plain", "joint"])
def test_sgd_loss_curve_is_the_objective_verbose_prints(capsys, est, X, y, n_classes):
    est.fit(X, y)
    printed = np.array(_objectives(capsys.readouterr().out)).reshape(4, n_classes)
    np.testing.assert_allclose(est.loss_curve_, printed.sum(axis=1), rtol=1e-5)


def test_sgd_loss_curve_is_recorded_with_early_stopping_too():
    est = SGDClassifier(early_stopping=True, n_iter_no_change=2, random_state=0).fit(Xc, yc)
    assert len(est.loss_curve_) == len(est.validation_scores_) == est.n_iter_
    assert all(v > 0 for v in est.loss_curve_)


def test_sgd_partial_fit_continues_the_curves():
    est = SGDRegressor(random_state=0)
    for _ in range(3):
        est.partial_fit(Xr, yr)
    assert len(est.loss_curve_) == 3
    assert est.validation_loss_curve_ is None
    est.fit(Xr, yr)
    assert len(est.loss_curve_) == est.n_iter_


@pytest.mark.parametrize("cls, X, y", [(MLPClassifier, Xc, yc), (MLPRegressor, Xr, yr)])
def test_mlp_validation_curves_equal_the_model_after_each_epoch(cls, X, y):
    kw = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, shuffle=False, random_state=0)
    est = cls(max_iter=3, **kw).fit(X[TRAIN], y[TRAIN], X_val=X[VAL], y_val=y[VAL])
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == 3
    assert est.best_validation_score_ is None  # measured only: no early stopping
    for epochs in (1, 2, 3):
        ref = cls(max_iter=epochs, **kw).fit(X[TRAIN], y[TRAIN])
        if cls is MLPClassifier:
            expected_loss = log_loss(y[VAL], ref.predict_proba(X[VAL]))
            expected_score = accuracy_score(y[VAL], ref.predict(X[VAL]))
        else:
            expected_loss = 0.5 * np.mean((ref.predict(X[VAL]) - y[VAL]) ** 2)
            expected_score = r2_score(y[VAL], ref.predict(X[VAL]))
        assert est.validation_loss_curve_[epochs - 1] == pytest.approx(expected_loss, rel=1e-6)
        assert est.validation_scores_[epochs - 1] == pytest.approx(expected_score, rel=1e-9)


def test_mlp_validation_loss_is_weighted_by_sample_weight_val():
    w = np.linspace(0.1, 2.0, Xc[VAL].shape[0])
    kw = dict(hidden_layer_sizes=(8,), max_iter=2, shuffle=False, random_state=0)
    est = MLPClassifier(**kw).fit(Xc[TRAIN], yc[TRAIN], X_val=Xc[VAL], y_val=yc[VAL],
                                  sample_weight_val=w)
    ref = MLPClassifier(**kw).fit(Xc[TRAIN], yc[TRAIN])
    assert est.validation_loss_curve_[-1] == pytest.approx(
        log_loss(yc[VAL], ref.predict_proba(Xc[VAL]), sample_weight=w), rel=1e-6)


def test_lbfgs_records_one_validation_point_per_iteration():
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    est.fit(Xr[TRAIN], yr[TRAIN], X_val=Xr[VAL], y_val=yr[VAL])
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == est.n_iter_
    ref = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    ref.fit(Xr[TRAIN], yr[TRAIN])
    assert est.validation_loss_curve_[-1] == pytest.approx(
        0.5 * np.mean((ref.predict(Xr[VAL]) - yr[VAL]) ** 2), rel=1e-6)


def test_plot_draws_validation_curves_dashed_in_the_training_colour():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(
            Xc[TRAIN], yc[TRAIN], X_val=Xc[VAL], y_val=yc[VAL])
        sgd = SGDRegressor(max_iter=4, tol=None, random_state=0).fit(Xr, yr)
    ax = plot_loss_curves([mlp, sgd])
    try:
        train_mlp, val_mlp, train_sgd = ax.lines
        np.testing.assert_array_equal(val_mlp.get_ydata(), mlp.validation_loss_curve_)
        np.testing.assert_array_equal(train_sgd.get_ydata(), sgd.loss_curve_)
        assert val_mlp.get_linestyle() == "--" and train_mlp.get_linestyle() == "-"
        assert val_mlp.get_color() == train_mlp.get_color() != train_sgd.get_color()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "MLPClassifier (adam)", "MLPClassifier (adam) validation", "SGDRegressor (sgd)"]
    finally:
        plt.close("all")
