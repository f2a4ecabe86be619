"""scikit-learn's callback API (sklearn.callback) on the four estimators.

A fit is the root task and every epoch (L-BFGS iteration) a subtask whose end
hook sees the model after that epoch and may stop the fit.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.callback import CallbackContext, ScoringMonitor
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

Xc, yc = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                             random_state=0)
Xr, yr = make_regression(n_samples=150, n_features=6, noise=1.0, random_state=0)
Xr = Xr / 10
yr = yr / 100

# Every estimator, the data it trains on and the scoring that fits it. shuffle=False
# and tol=None / huge n_iter_no_change make fit(max_iter=k) equal k partial_fit calls.
CASES = {
    "SGDClassifier": (SGDClassifier(max_iter=4, tol=None, shuffle=False, random_state=0),
                      Xc, yc, "accuracy"),
    "SGDClassifier-adam": (SGDClassifier(solver="adam", batch_size=16, eta0=0.01, max_iter=4,
                                         tol=None, shuffle=False, random_state=0),
                           Xc, yc, "accuracy"),
    "SGDRegressor": (SGDRegressor(max_iter=4, tol=None, shuffle=False, random_state=0),
                     Xr, yr, "r2"),
    "MLPClassifier": (MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, shuffle=False,
                                    n_iter_no_change=100, learning_rate_init=0.01,
                                    random_state=0), Xc, yc, "accuracy"),
    "MLPRegressor": (MLPRegressor(hidden_layer_sizes=(8,), max_iter=4, shuffle=False,
                                  n_iter_no_change=100, learning_rate_init=0.01,
                                  random_state=0), Xr, yr, "r2"),
}
IDS = list(CASES)


def _case(name):
    est, X, y, scoring = CASES[name]
    return clone(est), X, y, scoring


def _model(est):
    if hasattr(est, "coefs_"):
        return np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])
    return np.concatenate([np.ravel(est.coef_), np.ravel(est.intercept_)])


def _partial_fit(est, X, y):
    if "Classifier" in type(est).__name__ and not hasattr(est, "classes_"):
        return est.partial_fit(X, y, classes=np.unique(y))
    return est.partial_fit(X, y)


class Recorder:
    """Records every hook call: (hook, estimator name, task name, task id, depth)."""

    def __init__(self, stop_at_epoch=None, raise_at_epoch=None):
        self.stop_at_epoch = stop_at_epoch
        self.raise_at_epoch = raise_at_epoch
        self.calls = []
        self.models = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.estimator_name, context.task_name))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.estimator_name, context.task_name))

    def on_fit_task_begin(self, estimator, context):
        self.calls.append(("begin", context.estimator_name, context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(("end", context.estimator_name, context.task_name))
        if context.task_name not in ("epoch", "lbfgs-iter") or fitted_estimator is None:
            return False
        self.models.append(_model(fitted_estimator))
        epoch = context.task_id + 1
        if epoch == self.raise_at_epoch:
            raise KeyboardInterrupt
        return epoch == self.stop_at_epoch

    def count(self, hook, task_name=None):
        return sum(c[0] == hook and (task_name is None or c[2] == task_name)
                   for c in self.calls)


class AutoRecorder(Recorder):
    """The same, propagated from meta-estimators to their sub-estimators."""

    max_propagation_depth = None


@pytest.mark.parametrize("name", IDS)
def test_scoring_monitor_logs_equal_scores_of_a_partial_fit_loop(name):
    est, X, y, scoring = _case(name)
    monitor = ScoringMonitor(scoring=scoring)
    est.set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row[scoring] for row in rows if len(row["task_id_path"]) == 2]
    root = [row[scoring] for row in rows if len(row["task_id_path"]) == 1]

    manual, reference = [], clone(est)
    reference.set_callbacks()
    for _ in range(est.max_iter):
        _partial_fit(reference, X, y)
        manual.append(reference.score(X, y))
    np.testing.assert_allclose(epochs, manual, rtol=1e-6)
    assert root == [est.score(X, y)]
    assert [row["task_name"] for row in rows if len(row["task_id_path"]) == 2] == \
        ["epoch"] * est.max_iter


@pytest.mark.parametrize("name", IDS)
def test_callback_returning_true_stops_after_that_epoch_with_a_complete_model(name):
    est, X, y, _ = _case(name)
    est.set_params(max_iter=20)
    recorder = Recorder(stop_at_epoch=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X, y)
    assert est.n_iter_ == 3
    assert recorder.count("end", "epoch") == 3
    assert recorder.count("begin", "epoch") == 3
    assert recorder.count("teardown") == 1
    reference = clone(est).set_params(max_iter=3)
    reference.set_callbacks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X, y)
    np.testing.assert_allclose(_model(est), _model(reference), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(recorder.models[-1], _model(reference), rtol=1e-6, atol=1e-12)
    assert est.predict(X).shape == (X.shape[0],)


@pytest.mark.parametrize("name", IDS)
def test_fitted_estimator_of_each_epoch_is_the_model_after_that_epoch(name):
    est, X, y, _ = _case(name)
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X, y)
    reference = clone(est)
    reference.set_callbacks()
    for model in recorder.models:
        _partial_fit(reference, X, y)
        np.testing.assert_allclose(model, _model(reference), rtol=1e-6, atol=1e-12)


def test_lbfgs_iterations_are_subtasks_and_a_stop_ends_the_minimisation():
    kw = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    recorder = Recorder(stop_at_epoch=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPClassifier(max_iter=50, **kw).set_callbacks(recorder).fit(Xc, yc)
    assert est.n_iter_ == 4
    assert recorder.count("end", "lbfgs-iter") == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = MLPClassifier(max_iter=4, **kw).fit(Xc, yc)
    np.testing.assert_allclose(_model(est), _model(reference), rtol=1e-10)

    # Without a stop, scikit-learn's bridge: one subtask more than iterations, the
    # last one empty (scipy reports the end of an iteration, not the start).
    recorder = Recorder()
    est = MLPClassifier(max_iter=20, tol=0.0, **kw).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xc, yc)
    assert recorder.count("begin", "lbfgs-iter") == est.n_iter_ + 1
    assert len(recorder.models) == est.n_iter_


@pytest.mark.parametrize("name", IDS)
def test_teardown_runs_on_ctrl_c_and_the_previous_model_survives(name):
    est, X, y, _ = _case(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    before = _model(est).copy()
    recorder = Recorder(raise_at_epoch=2)
    est.set_params(max_iter=6)
    with pytest.raises(KeyboardInterrupt):
        est.set_callbacks(recorder).fit(X, y)
    assert recorder.count("setup") == recorder.count("teardown") == 1
    np.testing.assert_array_equal(_model(est), before)
    assert not hasattr(est, "_callback_fit_ctx")


@pytest.mark.parametrize("name", ["SGDClassifier", "MLPRegressor"])
def test_teardown_runs_when_the_fit_fails(name):
    est, X, y, _ = _case(name)
    recorder = Recorder()
    with pytest.raises(ValueError, match="y_val"):
        est.set_callbacks(recorder).fit(X, y, X_val=X)
    assert recorder.count("teardown") == 0  # refused before the fit began
    bad_y = y.astype(float)
    bad_y[:5] = np.nan
    with pytest.raises(ValueError):
        est.fit(X, bad_y)
    assert recorder.count("setup") == recorder.count("teardown")


@pytest.mark.parametrize("name", IDS)
def test_without_callbacks_no_epoch_subtask_is_created(name, monkeypatch):
    est, X, y, _ = _case(name)

    def refuse(*args, **kwargs):
        raise AssertionError("an epoch subtask was created without callbacks")

    monkeypatch.setattr(CallbackContext, "subcontext", refuse)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ == est.max_iter


@pytest.mark.parametrize("name", ["SGDRegressor", "MLPClassifier"])
def test_callbacks_propagate_from_pipeline_and_grid_search(name):
    est, X, y, _ = _case(name)
    recorder = AutoRecorder()
    pipe = make_pipeline(StandardScaler(), est).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    fitted = pipe[-1]
    assert [c[1] for c in recorder.calls if c[2] == "epoch" and c[0] == "end"] == \
        [type(est).__name__] * fitted.n_iter_
    assert recorder.count("setup") == recorder.count("teardown") == 1

    recorder = AutoRecorder()
    param = "alpha"
    search = GridSearchCV(est, {param: [1e-4, 1e-3]}, cv=2).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    # 2 candidates x 2 folds, then the refit: every epoch of every fit is a subtask.
    assert recorder.count("end", "epoch") == 5 * est.max_iter


@pytest.mark.parametrize("name", IDS)
def test_estimator_with_scoring_monitor_pickles_and_refits(name):
    est, X, y, scoring = _case(name)
    est.set_callbacks(ScoringMonitor(scoring=scoring))
    restored = pickle.loads(pickle.dumps(est))
    assert len(restored._skl_callbacks) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        restored = pickle.loads(pickle.dumps(est))
        restored.fit(X, y)
    logs = restored._skl_callbacks[0].get_logs(select="all")
    assert len(logs) == 2
    assert logs[0].data == est._skl_callbacks[0].get_logs().data
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
