"""fastopt estimators inside scikit-learn workflows, end to end.

Pipelines and column transformers, grid and randomized searches over flat
scikit-learn hyper-parameter names and over nested optimizer objects (serial
and in loky worker processes), cross-validation, clone, pickle and joblib
round trips, feature names, ``sklearn.set_config`` switches and thread
control with threadpoolctl and nested joblib parallelism.
"""

import copy
import io
import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.stats
import sklearn
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt._openmp import max_threads, openmp_enabled
from fastopt.optim import SGD, Adam, StepDecay

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X_CLF, Y_CLF = make_classification(n_samples=160, n_features=6, n_informative=4, n_classes=3,
                                   random_state=0)
X_REG, Y_REG = make_regression(n_samples=160, n_features=6, noise=1.0, random_state=0)
X_CLF_SCALED = StandardScaler().fit_transform(X_CLF)
X_REG_SCALED = StandardScaler().fit_transform(X_REG)
Y_REG_SCALED = (Y_REG - Y_REG.mean()) / Y_REG.std()

# (fastopt estimator, its scikit-learn counterpart, classification?)
ESTIMATORS = {
    "mlp_classifier": (MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
                       SkMLPClassifier, True),
    "mlp_regressor": (MLPRegressor(hidden_layer_sizes=(8,), max_iter=15, random_state=0),
                      SkMLPRegressor, False),
    "sgd_classifier": (SGDClassifier(max_iter=5, tol=None, random_state=0),
                       SkSGDClassifier, True),
    "sgd_classifier_adam": (SGDClassifier(loss="log_loss", solver="adam", batch_size=16,
                                          multi_class="multinomial", eta0=0.01, max_iter=5,
                                          tol=None, random_state=0), SkSGDClassifier, True),
    "sgd_regressor": (SGDRegressor(max_iter=5, tol=None, random_state=0), SkSGDRegressor,
                      False),
}


def _data(key, scaled=True):
    classification = ESTIMATORS[key][2]
    if classification:
        return (X_CLF_SCALED if scaled else X_CLF), Y_CLF
    return (X_REG_SCALED if scaled else X_REG), Y_REG_SCALED


def _fitted(key):
    X, y = _data(key)
    return clone(ESTIMATORS[key][0]).fit(X, y), X, y


def _outputs(est, X):
    """Every prediction-like output of ``est`` on ``X``."""
    methods = ["predict", "predict_proba", "decision_function"]
    return [getattr(est, m)(X) for m in methods if hasattr(est, m)]


def _assert_same_outputs(a, b, X):
    for out_a, out_b in zip(_outputs(a, X), _outputs(b, X), strict=True):
        np.testing.assert_array_equal(out_a, out_b)


# ---------------------------------------------------------------- pipelines


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_pipeline_with_scaler_equals_scaling_then_fitting(key):
    X, y = _data(key, scaled=False)
    pipe = make_pipeline(StandardScaler(), clone(ESTIMATORS[key][0])).fit(X, y)
    X_scaled = StandardScaler().fit(X).transform(X)
    direct = clone(ESTIMATORS[key][0]).fit(X_scaled, y)
    np.testing.assert_array_equal(pipe.predict(X), direct.predict(X_scaled))


def _pandas():
    # pandas is not in the ``test`` extra: DataFrame tests skip without it.
    return pytest.importorskip("pandas", reason="DataFrame input needs pandas")


def _mixed_frame():
    pd = _pandas()
    rng = np.random.RandomState(0)
    n = 150
    frame = pd.DataFrame({
        "x1": rng.normal(50, 10, n),
        "x2": rng.normal(0, 0.01, n),
        "colour": rng.choice(["red", "green", "blue"], n),
    })
    logit = (frame["x1"] - 50) / 10 + (frame["colour"] == "red") * 2 - 1
    return frame, np.where(logit > 0, "yes", "no")


@pytest.mark.parametrize("est", [
    MLPClassifier(hidden_layer_sizes=(5,), learning_rate_init=0.05, max_iter=50, random_state=0),
    SGDClassifier(loss="log_loss", max_iter=5, tol=None, random_state=0),
], ids=["mlp", "sgd"])
def test_column_transformer_front_end_equals_manual_transform(est):
    frame, y = _mixed_frame()
    front = ColumnTransformer([("num", StandardScaler(), ["x1", "x2"]),
                               ("cat", OneHotEncoder(), ["colour"])])
    pipe = make_pipeline(front, clone(est)).fit(frame, y)
    Xt = clone(front).fit_transform(frame)
    direct = clone(est).fit(Xt, y)
    np.testing.assert_array_equal(pipe.predict(frame), direct.predict(Xt))
    np.testing.assert_array_equal(pipe.classes_, ["no", "yes"])
    assert pipe.score(frame, y) > 0.8


def test_pipeline_set_output_pandas_gives_last_step_feature_names():
    frame, y = _mixed_frame()
    pipe = make_pipeline(ColumnTransformer([("num", StandardScaler(), ["x1", "x2"])]),
                         MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0))
    pipe.set_output(transform="pandas").fit(frame, y)
    np.testing.assert_array_equal(pipe[-1].feature_names_in_, ["num__x1", "num__x2"])
    np.testing.assert_array_equal(pipe.feature_names_in_, ["x1", "x2", "colour"])


# ----------------------------------------------------------------- searches


def _search_results(search):
    keys = [k for k in search.cv_results_ if k.startswith("split") and k.endswith("_score")]
    return {k: search.cv_results_[k] for k in keys}


def _assert_same_search(a, b):
    assert a.best_params_.keys() == b.best_params_.keys()
    for key, value in a.best_params_.items():
        other = b.best_params_[key]
        if hasattr(value, "get_params"):
            assert type(value) is type(other) and value.get_params() == other.get_params()
        else:
            assert value == other
    for key, scores in _search_results(a).items():
        np.testing.assert_array_equal(scores, _search_results(b)[key])


FLAT_GRIDS = [
    ("mlp_classifier", {"learning_rate_init": [1e-3, 3e-2], "beta_1": [0.5, 0.9]}),
    ("mlp_classifier", {"solver": ["sgd"], "learning_rate_init": [0.05],
                        "momentum": [0.0, 0.9], "alpha": [1e-4, 1.0]}),
    ("sgd_classifier", {"learning_rate": ["constant"], "eta0": [1e-3, 1e-1],
                        "alpha": [1e-4, 1e-1]}),
    ("sgd_regressor", {"eta0": [1e-3, 1e-2], "alpha": [1e-4, 1.0]}),
]


@pytest.mark.parametrize("key, grid", FLAT_GRIDS, ids=[f"{k}-{'-'.join(g)}"
                                                       for k, g in FLAT_GRIDS])
def test_grid_search_over_flat_names_in_two_loky_workers_equals_serial(key, grid):
    X, y = _data(key)
    serial = GridSearchCV(ESTIMATORS[key][0], grid, cv=3).fit(X, y)
    parallel = GridSearchCV(ESTIMATORS[key][0], grid, cv=3, n_jobs=2).fit(X, y)
    _assert_same_search(serial, parallel)
    # The searched parameters reach the estimator: candidates score differently.
    assert len(np.unique(serial.cv_results_["mean_test_score"])) > 1
    assert serial.best_estimator_.get_params().items() >= serial.best_params_.items()


@pytest.mark.parametrize("key", ["mlp_classifier", "sgd_regressor"])
def test_randomized_search_over_nested_optimizer_objects(key):
    X, y = _data(key)
    base = clone(ESTIMATORS[key][0])
    if key == "sgd_regressor":
        base.set_params(batch_size=16, learning_rate="constant")
    distributions = {"solver": [Adam(), SGD(momentum=0.9)],
                     "solver__lr": scipy.stats.loguniform(1e-4, 1e-1)}
    cv = KFold(3)
    serial = RandomizedSearchCV(base, distributions, n_iter=4, cv=cv, random_state=0)
    serial.fit(X, y)
    parallel = RandomizedSearchCV(base, distributions, n_iter=4, cv=cv, random_state=0,
                                  n_jobs=2).fit(X, y)
    _assert_same_search(serial, parallel)
    # The search space itself is never modified (candidates are clones).
    assert distributions["solver"][0].lr == Adam().lr
    assert distributions["solver"][1].lr == SGD().lr

    best = serial.best_estimator_.solver
    assert isinstance(best, type(serial.best_params_["solver"]))
    assert best.lr == serial.best_params_["solver__lr"]
    # A candidate scores exactly as the estimator built by hand with that optimizer.
    params = serial.cv_results_["params"][0]
    solver = clone(params["solver"]).set_params(lr=params["solver__lr"])
    by_hand = cross_val_score(clone(base).set_params(solver=solver), X, y, cv=cv)
    np.testing.assert_array_equal(
        by_hand, [serial.cv_results_[f"split{i}_test_score"][0] for i in range(3)])


def test_grid_search_over_nested_schedule_parameters():
    X, y = _data("mlp_classifier")
    base = MLPClassifier(hidden_layer_sizes=(8,), solver=Adam(lr=1e-2, schedule=StepDecay(2)),
                         batch_size=32, max_iter=6, random_state=0)
    grid = {"solver__schedule__gamma": [0.1, 0.9], "solver__schedule__step_size": [3, 30]}
    cv = KFold(3)
    search = GridSearchCV(base, grid, cv=cv).fit(X, y)
    assert len(np.unique(search.cv_results_["mean_test_score"])) > 1
    for i, params in enumerate(search.cv_results_["params"]):
        schedule = StepDecay(step_size=params["solver__schedule__step_size"],
                             gamma=params["solver__schedule__gamma"])
        by_hand = clone(base).set_params(solver=Adam(lr=1e-2, schedule=schedule))
        np.testing.assert_array_equal(
            cross_val_score(by_hand, X, y, cv=cv),
            [search.cv_results_[f"split{k}_test_score"][i] for k in range(3)])


@pytest.mark.parametrize("key", ["mlp_classifier", "sgd_classifier"])
def test_metadata_routing_passes_sample_weight_to_fit(key):
    X, y = _data(key)
    sample_weight = np.random.RandomState(0).uniform(0.1, 2.0, len(y))
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        est = clone(ESTIMATORS[key][0]).set_fit_request(sample_weight=True)
        est.set_score_request(sample_weight=False)
        routed = cross_val_score(est, X, y, cv=cv, params={"sample_weight": sample_weight})
    manual = [clone(ESTIMATORS[key][0]).fit(X[tr], y[tr], sample_weight=sample_weight[tr])
              .score(X[te], y[te]) for tr, te in cv.split(X)]
    np.testing.assert_array_equal(routed, manual)
    unweighted = cross_val_score(ESTIMATORS[key][0], X, y, cv=cv)
    assert not np.array_equal(routed, unweighted)


def test_forked_multiprocessing_workers_complete_after_parent_used_openmp():
    X, y = _data("mlp_classifier")
    grid = {"learning_rate_init": [1e-3, 1e-2]}
    clone(ESTIMATORS["mlp_classifier"][0]).fit(X, y)  # parent has run OpenMP regions
    serial = GridSearchCV(ESTIMATORS["mlp_classifier"][0], grid, cv=2).fit(X, y)
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        forked = GridSearchCV(ESTIMATORS["mlp_classifier"][0], grid, cv=2).fit(X, y)
    _assert_same_search(serial, forked)


@pytest.mark.parametrize("key", ["mlp_classifier", "sgd_regressor"])
def test_cross_val_score_parallel_equals_serial_and_manual_folds(key):
    X, y = _data(key)
    est = ESTIMATORS[key][0]
    cv = KFold(4, shuffle=True, random_state=0)
    serial = cross_val_score(est, X, y, cv=cv)
    np.testing.assert_array_equal(serial, cross_val_score(est, X, y, cv=cv, n_jobs=2))
    manual = [clone(est).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in cv.split(X)]
    np.testing.assert_array_equal(serial, manual)


# ------------------------------------------------- clone, pickle, feature names


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_clone_then_fit_reproduces_predictions(key):
    est, X, y = _fitted(key)
    copy = clone(est)
    assert not hasattr(copy, "n_iter_")
    _assert_same_outputs(est, copy.fit(X, y), X)


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_pickle_and_joblib_round_trips_keep_predictions_and_training_state(key):
    est, X, y = _fitted(key)
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    restored = [pickle.loads(pickle.dumps(est)), joblib.load(buffer)]
    reference = _fitted(key)[0]  # a twin that was never pickled
    for twin in restored:
        _assert_same_outputs(reference, twin, X)
    # partial_fit continues from the restored optimizer state exactly as the twin.
    reference.partial_fit(X, y)
    for twin in restored:
        _assert_same_outputs(reference, twin.partial_fit(X, y), X)


@pytest.mark.parametrize("serialise", [pickle.dumps, copy.deepcopy], ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_pickling_leaves_the_pickled_estimator_trainable(key, serialise):
    # Serialising must not change the live estimator: a __getstate__ that edits
    # the instance __dict__ it is given (rather than a copy) breaks partial_fit.
    est, X, y = _fitted(key)
    twin = _fitted(key)[0]
    serialise(est)
    _assert_same_outputs(twin.partial_fit(X, y), est.partial_fit(X, y), X)


@pytest.mark.parametrize("serialise", [pickle.dumps, copy.deepcopy], ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_serialising_leaves_every_attribute_of_the_estimator_in_place(key, serialise):
    # Serialising reads an object and never edits it, not even the attributes the
    # estimator could rebuild (a __getstate__ that pops them from the live
    # __dict__ still predicts and trains the same, so only this notices).
    est = _fitted(key)[0]
    before = dict(vars(est))
    serialise(est)
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[name] is value for name, value in before.items())


def _feature_name_behaviour(est, frame, y, X_new):
    """What predict does on X_new after a fit on a DataFrame: warning text or error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(frame, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.predict(X_new)
        except ValueError as exc:
            return "error", str(exc).replace(type(est).__name__, "EST")
    return "warnings", [str(w.message).replace(type(est).__name__, "EST") for w in caught
                        if "feature names" in str(w.message)]


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_feature_names_are_recorded_and_checked_as_in_sklearn(key):
    est, sk_class, _ = ESTIMATORS[key]
    X, y = _data(key)
    frame = _pandas().DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fitted = clone(est).fit(frame, y)
    np.testing.assert_array_equal(fitted.feature_names_in_, frame.columns)
    renamed = frame.rename(columns={"f0": "other"})
    sk_est = sk_class(max_iter=5)
    for X_new in (X, renamed, frame[frame.columns[::-1]]):
        expected = _feature_name_behaviour(sk_est, frame, y, X_new)
        assert _feature_name_behaviour(clone(est), frame, y, X_new) == expected
    assert _feature_name_behaviour(clone(est), frame, y, X)[1]  # warned


# ----------------------------------------------------------- set_config


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_assume_finite_config_skips_the_finiteness_check(key):
    est, X, y = _fitted(key)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(X_nan)
    with sklearn.config_context(assume_finite=True):
        predictions = est.predict(X_nan)  # not scanned: the NaN reaches the model
    np.testing.assert_array_equal(predictions[1:], est.predict(X)[1:])


@pytest.mark.parametrize("key", list(ESTIMATORS))
def test_skip_parameter_validation_config_is_respected(key):
    X, y = _data(key)
    bad = clone(ESTIMATORS[key][0]).set_params(alpha="not a number")
    with pytest.raises(ValueError, match="'alpha' parameter"):
        clone(bad).fit(X, y)
    with sklearn.config_context(skip_parameter_validation=True):
        # Validation is skipped: the bad value reaches the arithmetic instead.
        with pytest.raises((TypeError, ValueError)) as exc:
            clone(bad).fit(X, y)
    assert "'alpha' parameter" not in str(exc.value)


# ---------------------------------------------------------------- threads


@pytest.mark.skipif(not openmp_enabled(), reason="fastopt built without OpenMP")
def test_threadpool_limits_set_fastopt_openmp_threads():
    before = max_threads()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert max_threads() == 1
    with threadpool_limits(limits=1):
        assert max_threads() == 1
    assert max_threads() == before


@pytest.mark.skipif(not openmp_enabled(), reason="fastopt built without OpenMP")
def test_loky_workers_see_joblibs_inner_thread_limit():
    # joblib caps each loky worker at cpu_count // n_jobs threads unless the user
    # set OMP_NUM_THREADS, so n_jobs=2 with fastopt threads does not oversubscribe.
    expected = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    seen = Parallel(n_jobs=2)(delayed(max_threads)() for _ in range(4))
    assert seen == [expected] * 4
