"""fastopt.lr_find: the learning-rate range test (fastopt/_lr_find.py, the compiled
``range_test`` of MLPCore and MinibatchSGD, fastopt/_range_test.pxd)."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastopt
from fastopt import (LRFindResult, MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor,
                     lr_find)
from fastopt.neural_network import _base as mlp_base

# short tests at small rates often end before the loss turns up; one test checks the warning
pytestmark = pytest.mark.filterwarnings("ignore:the smoothed loss was still falling")


def _regression(n=60, d=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    y = X @ rng.randn(d) + 0.1 * rng.randn(n)
    return X, y


def _geometric(min_lr, max_lr, n_steps):
    i = np.arange(n_steps)
    return min_lr * (max_lr / min_lr) ** (i / (n_steps - 1))


# ----------------------------------------------------------------- the schedule

@pytest.mark.parametrize("est", [
    MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=0),
    SGDRegressor(solver="adam", batch_size=16, random_state=0),
], ids=["mlp", "sgd"])
def test_rates_are_geometric_from_min_lr_to_max_lr(est):
    X, y = _regression()
    result = lr_find(est, X, y, min_lr=1e-6, max_lr=1e-2, n_steps=25)
    assert len(result.lrs) == 25  # no divergence at these rates
    np.testing.assert_allclose(result.lrs, _geometric(1e-6, 1e-2, 25), rtol=1e-12)
    assert result.lrs[0] == pytest.approx(1e-6, rel=1e-15)
    assert result.lrs[-1] == pytest.approx(1e-2, rel=1e-12)


def test_smoothed_losses_are_the_bias_corrected_moving_average_of_the_raw_losses():
    X, y = _regression()
    result = lr_find(MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=0),
                     X, y, min_lr=1e-5, max_lr=1e-1, n_steps=30)
    beta, avg, expected = fastopt._lr_find.SMOOTHING, 0.0, []
    for i, loss in enumerate(result.raw_losses):
        avg = beta * avg + (1 - beta) * loss
        expected.append(avg / (1 - beta ** (i + 1)))
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)


# ------------------------------------------------- raw losses against references

def test_mlp_raw_losses_equal_one_full_batch_fit_per_rate():
    """Full-batch plain SGD (no momentum): step i of the range test is one epoch of
    ``fit`` warm-started from step i-1 with learning_rate_init = lr_i."""
    X, y = _regression(n=40)
    est = MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, batch_size=40,
                       shuffle=False, alpha=1e-3, random_state=3)
    result = lr_find(est, X, y, min_lr=1e-3, max_lr=1.0, n_steps=8)
    assert len(result.raw_losses) == 8
    reference = clone(est).set_params(max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for lr in _geometric(1e-3, 1.0, 8):
            reference.set_params(learning_rate_init=lr).fit(X, y)
    np.testing.assert_allclose(result.raw_losses, reference.loss_curve_, rtol=1e-12)


def _numpy_minibatch_sgd(X, y, batch_size, lrs):
    """Minibatch SGD on squared error (scikit-learn's 1/2 (p - y)^2), no penalty, rows in
    order, wrapping around at the end of each epoch; the mean loss of each minibatch."""
    w, b, losses, n = np.zeros(X.shape[1]), 0.0, [], X.shape[0]
    n_batches = -(-n // batch_size)
    for i, lr in enumerate(lrs):
        start = (i % n_batches) * batch_size
        Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        r = Xb @ w + b - yb
        losses.append(np.mean(0.5 * r ** 2))
        w = w - lr * Xb.T @ r / len(yb)
        b = b - lr * r.mean()
    return np.array(losses)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_sgd_raw_losses_equal_a_numpy_minibatch_loop_across_epochs(sparse):
    X, y = _regression(n=50, d=4)
    est = SGDRegressor(solver="sgd", batch_size=8, shuffle=False, penalty=None,
                       random_state=0)
    # 50 rows in batches of 8: 7 minibatches per epoch (the last of 2 rows); 20 steps
    # run three epochs
    result = lr_find(est, sp.csr_matrix(X) if sparse else X, y, min_lr=1e-3, max_lr=0.3,
                     n_steps=20)
    expected = _numpy_minibatch_sgd(X, y, 8, _geometric(1e-3, 0.3, 20))
    np.testing.assert_allclose(result.raw_losses, expected, rtol=1e-10)


def test_mlp_test_longer_than_an_epoch_continues_into_reshuffled_epochs():
    X, y = _regression(n=20)
    est = MLPRegressor(hidden_layer_sizes=(4,), batch_size=8, random_state=0)
    result = lr_find(est, X, y, min_lr=1e-6, max_lr=1e-4, n_steps=30)  # 3 batches / epoch
    assert len(result.raw_losses) == 30
    assert np.isfinite(result.raw_losses).all()


# ----------------------------------------------------------------- early stop

@pytest.mark.parametrize("est", [
    MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", batch_size=16, random_state=0),
    SGDRegressor(solver="sgd", batch_size=16, random_state=0),
], ids=["mlp", "sgd"])
def test_stops_once_the_smoothed_loss_diverges(est):
    X, y = _regression()
    result = lr_find(est, X, y, min_lr=1e-4, max_lr=1e6, n_steps=100)
    n = len(result.lrs)
    assert 2 <= n < 100
    assert result.stopped_early
    assert len(result.losses) == len(result.raw_losses) == n
    # every step before the last was within the rule: finite, <= 4x the minimum so far
    before = result.losses[:-1]
    assert np.isfinite(before).all() and np.isfinite(result.raw_losses[:-1]).all()
    assert np.all(before <= 4 * np.minimum.accumulate(before))
    last = result.losses[-1]
    assert not np.isfinite(last) or last > 4 * np.min(result.losses)


def test_runs_all_steps_when_the_loss_never_diverges():
    X, y = _regression()
    result = lr_find(SGDRegressor(solver="adam", batch_size=16, random_state=0), X, y,
                     min_lr=1e-7, max_lr=1e-3, n_steps=40)
    assert len(result.lrs) == 40 and not result.stopped_early


# --------------------------------------------------------- the estimator passed in

def _snapshot(est):
    return (est.get_params(deep=True).__repr__(), sorted(est.__dict__),
            {k: id(v) for k, v in est.__dict__.items()}, pickle.dumps(est))


@pytest.mark.parametrize("make", [
    lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
    lambda: SGDClassifier(solver="adam", batch_size=16, max_iter=5, random_state=0),
    lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, early_stopping=True,
                         random_state=0),
], ids=["mlp", "sgd", "mlp-early-stopping"])
@pytest.mark.parametrize("fitted", [False, True], ids=["unfitted", "fitted"])
def test_estimator_passed_in_is_not_modified(make, fitted):
    X, y = _regression(n=80)
    if not isinstance(make(), MLPRegressor):
        y = (y > 0).astype(int)
    est = make()
    if fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
    before = _snapshot(est)
    coefs = [c.copy() for c in getattr(est, "coefs_", [])]
    lr_find(est, X, y, n_steps=30, random_state=7)
    assert _snapshot(est) == before
    for a, b in zip(coefs, getattr(est, "coefs_", [])):
        np.testing.assert_array_equal(a, b)
    assert not hasattr(est, "_range_test")


def test_random_state_overrides_the_estimators_and_none_keeps_it():
    X, y = _regression()
    est = MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=1)
    kept = lr_find(est, X, y, n_steps=20)
    same = lr_find(clone(est).set_params(random_state=5), X, y, n_steps=20)
    other = lr_find(clone(est).set_params(random_state=1), X, y, n_steps=20, random_state=5)
    np.testing.assert_array_equal(same.raw_losses, other.raw_losses)
    assert not np.array_equal(kept.raw_losses, other.raw_losses)


def test_the_whole_test_is_one_compiled_call(monkeypatch):
    calls = {"epoch": 0, "range_test": 0}

    class CountingCore(mlp_base.MLPCore):
        def epoch(self, *args, **kwargs):
            calls["epoch"] += 1
            return super().epoch(*args, **kwargs)

        def range_test(self, *args, **kwargs):
            calls["range_test"] += 1
            return super().range_test(*args, **kwargs)

    monkeypatch.setattr(mlp_base, "MLPCore", CountingCore)
    X, y = _regression(n=100)
    result = lr_find(MLPRegressor(hidden_layer_sizes=(8,), batch_size=10, random_state=0),
                     X, y, n_steps=50)
    assert calls == {"epoch": 0, "range_test": 1}
    assert len(result.lrs) > 10  # several epochs of 10 minibatches in that call


# ------------------------------------------------------------------- pipelines

def test_pipeline_fits_the_transformers_then_tests_the_last_step():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] * 10 + 3, y[:300]
    mlp = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    pipe = make_pipeline(StandardScaler(), mlp)
    result = lr_find(pipe, X, y, n_steps=30)
    direct = lr_find(mlp, StandardScaler().fit_transform(X), y, n_steps=30)
    np.testing.assert_array_equal(result.raw_losses, direct.raw_losses)
    assert not hasattr(pipe[0], "mean_") and not hasattr(mlp, "coefs_")


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("kwargs, match", [
    ({"min_lr": 1.0, "max_lr": 1.0}, "min_lr must be smaller than max_lr"),
    ({"min_lr": 1.0, "max_lr": 0.1}, "min_lr must be smaller than max_lr"),
    ({"min_lr": 0.0}, "min_lr must be > 0"),
    ({"min_lr": -1e-3}, "min_lr must be > 0"),
    ({"max_lr": np.inf}, "max_lr must be a finite positive number"),
    ({"n_steps": 1}, "n_steps must be an integer >= 2"),
    ({"n_steps": 10.5}, "n_steps must be an integer >= 2"),
])
def test_bad_settings_raise_a_value_error_that_says_what_to_change(kwargs, match):
    X, y = _regression()
    with pytest.raises(ValueError, match=match):
        lr_find(MLPRegressor(), X, y, **kwargs)


@pytest.mark.parametrize("est, error, match", [
    (MLPRegressor(solver="lbfgs"), ValueError, "solver='lbfgs'.*Use solver='adam'"),
    (SGDRegressor(), ValueError, "per-sample SGD.*Set batch_size"),
    (SkMLPClassifier(), TypeError, "got MLPClassifier.*from fastopt import MLPClassifier"),
    (make_pipeline(StandardScaler(), LogisticRegression()), TypeError,
     "got LogisticRegression"),
], ids=["lbfgs", "per-sample-sgd", "sklearn-mlp", "pipeline-of-other"])
def test_estimators_the_test_cannot_train_are_refused_clearly(est, error, match):
    X, y = _regression()
    with pytest.raises(error, match=match):
        lr_find(est, X, (y > 0).astype(int) if error is TypeError else y)


def test_per_sample_sgd_works_once_given_a_batch_size():
    X, y = _regression()
    result = lr_find(SGDRegressor(batch_size=8, random_state=0), X, y, n_steps=20)
    assert isinstance(result, LRFindResult) and len(result.lrs) >= 2


# ------------------------------------------------------------------------ plot

def test_plot_draws_on_a_log_rate_axis_and_returns_the_axes():
    plt = pytest.importorskip("matplotlib.pyplot")
    X, y = _regression()
    result = lr_find(MLPRegressor(hidden_layer_sizes=(8,), batch_size=16, random_state=0),
                     X, y, n_steps=40)
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax=ax) is ax
        assert ax.get_xscale() == "log"
        assert any("suggestion" in t.get_text() for t in ax.get_legend().get_texts())
        assert result.plot().figure is not fig  # a new figure without ax
    finally:
        plt.close("all")


# ------------------------------------------------------- the suggestion is useful

GRID = np.logspace(-4, 0, 9)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def _breast_cancer():
    return load_breast_cancer(return_X_y=True)


def _regression_task():
    X, y = make_regression(n_samples=600, n_features=20, n_informative=10, noise=10.0,
                           random_state=0)
    return X, (y - y.mean()) / y.std()


def _at_rate(est, lr):
    if isinstance(est, (SGDClassifier, SGDRegressor)):
        return clone(est).set_params(learning_rate="constant", eta0=lr)
    return clone(est).set_params(learning_rate_init=lr, learning_rate="constant")


def _score(est, lr, split):
    X_train, X_test, y_train, y_test = split
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _at_rate(est, lr).fit(X_train, y_train).score(X_test, y_test)
    except ValueError:  # diverged
        return -np.inf


@pytest.mark.parametrize("load, est", [
    (_digits, MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0)),
    (_breast_cancer, MLPClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0)),
    (_regression_task, SGDRegressor(solver="momentum", batch_size=32, max_iter=10, tol=None,
                                    random_state=0)),
], ids=["digits-mlp", "breast-cancer-mlp", "regression-sgd"])
def test_training_at_the_suggestion_scores_within_0_03_of_the_best_grid_rate(load, est):
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    split = scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
    suggestion = lr_find(est, split[0], y_train).suggestion
    assert GRID[0] / 10 < suggestion < GRID[-1]
    best = max(_score(est, lr, split) for lr in GRID)
    assert _score(est, suggestion, split) >= best - 0.03


def test_warns_when_the_loss_never_turns_up_before_max_lr():
    X, y = _regression()
    with pytest.warns(UserWarning, match="still falling at max_lr=0.001"):
        # full-batch gradient descent at small rates: the loss falls at every step
        result = lr_find(SGDRegressor(solver="sgd", batch_size=60, random_state=0), X, y,
                         min_lr=1e-5, max_lr=1e-3, n_steps=40)
    assert result.suggestion == pytest.approx(result.lrs[np.argmin(result.losses)] / 10)
