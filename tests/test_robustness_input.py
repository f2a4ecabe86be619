"""Bad input gets a clear error before any work, and a fitted model survives it.

Every case is run on the four estimators, on dense and CSR input where the
case has a sparse form. "Before any work" is checked by replacing the compiled
engines with a trap that fails the test if it is ever constructed. "Survives"
means: after the failed ``fit``/``partial_fit`` the estimator's attributes
pickle to the same bytes as before and its predictions are bit-identical.
"""

import contextlib
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.linear_model import _sgd_fast
from fastopt.neural_network import _base as _mlp_base
from fastopt.optim import (SGD, Adagrad, Adam, AdamW, CosineAnnealing, NAdam, OptimizerState,
                           RMSprop, StepDecay)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4))
Y_REG = X @ np.array([1.0, -2.0, 0.5, 3.0])
Y_CLS = np.array(["a", "b", "c", "d"])[(Y_REG > 0) + 2 * (X[:, 0] > 0)]

ESTIMATORS = {
    "SGDRegressor": lambda **kw: SGDRegressor(**{"max_iter": 5, "tol": None,
                                                 "random_state": 0, **kw}),
    "SGDClassifier": lambda **kw: SGDClassifier(**{"max_iter": 5, "tol": None,
                                                   "random_state": 0, **kw}),
    "MLPRegressor": lambda **kw: MLPRegressor(**{"hidden_layer_sizes": (5,), "max_iter": 5,
                                                 "random_state": 0, **kw}),
    "MLPClassifier": lambda **kw: MLPClassifier(**{"hidden_layer_sizes": (5,), "max_iter": 5,
                                                   "random_state": 0, **kw}),
}
# The second configuration of each estimator takes the other code path:
# minibatch engine with an optimizer object / multinomial, 'sgd' for the MLPs.
CONFIGS = [
    ("SGDRegressor", {}), ("SGDRegressor", {"solver": Adam(lr=0.01), "batch_size": 8}),
    ("SGDClassifier", {}), ("SGDClassifier", {"loss": "log_loss", "multi_class": "multinomial",
                                              "solver": "adagrad", "batch_size": 4}),
    ("MLPRegressor", {}), ("MLPRegressor", {"solver": "sgd"}),
    ("MLPClassifier", {}), ("MLPClassifier", {"solver": "sgd"}),
]
CONFIG_IDS = [f"{name}-{'default' if not kw else 'alt'}" for name, kw in CONFIGS]


def _y(name):
    return Y_REG if "Regressor" in name else Y_CLS


def _trap(*args, **kwargs):
    raise AssertionError("compiled training started before the input was rejected")


@contextlib.contextmanager
def _no_compiled_work():
    """Fail the test if a compiled engine is constructed inside the block."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_sgd_fast, "PlainSGD", _trap)
        mp.setattr(_sgd_fast, "MinibatchSGD", _trap)
        mp.setattr(_mlp_base, "MLPCore", _trap)
        yield


@pytest.fixture
def no_compiled_work():
    with _no_compiled_work():
        yield


def _with_nan(a):
    a = a.copy()
    a[3, 1] = np.nan
    return a


def _with_inf(a):
    a = a.copy()
    a[3, 1] = -np.inf
    return a


# (case id, X maker, y maker, extra fit kwargs, error type, regex the message must match)
BAD_DATA = [
    ("nan-X", _with_nan, lambda y: y, {}, ValueError, "X contains NaN"),
    ("inf-X", _with_inf, lambda y: y, {}, ValueError, "X contains infinity"),
    ("nan-y", lambda x: x, lambda y: np.where(np.arange(len(y)) == 2, np.nan, Y_REG), {},
     ValueError, "y contains NaN"),
    ("complex-X", lambda x: x.astype(complex), lambda y: y, {}, ValueError, "Complex data"),
    ("text-X", lambda x: np.full(x.shape, "abc"), lambda y: y, {}, ValueError,
     "could not convert|numeric"),
    ("empty", lambda x: x[:0], lambda y: y[:0], {}, ValueError, "0 sample"),
    ("no-features", lambda x: x[:, :0], lambda y: y, {}, ValueError, "0 feature"),
    ("3d-X", lambda x: x.reshape(40, 2, 2), lambda y: y, {}, ValueError, "dim 3"),
    ("length-mismatch", lambda x: x, lambda y: y[:-1], {}, ValueError,
     "inconsistent numbers of samples"),
    ("negative-sample_weight", lambda x: x, lambda y: y,
     {"sample_weight": np.r_[-1.0, np.ones(39)]}, ValueError, "sample_weight"),
    ("nan-sample_weight", lambda x: x, lambda y: y,
     {"sample_weight": np.r_[np.nan, np.ones(39)]}, ValueError, "sample_weight contains NaN"),
    ("short-sample_weight", lambda x: x, lambda y: y, {"sample_weight": np.ones(3)},
     ValueError, "sample_weight"),
]
SPARSE_FORM = {"nan-X", "inf-X", "nan-y", "empty", "no-features", "length-mismatch",
               "negative-sample_weight", "nan-sample_weight"}


def _as_csr(x):
    return sp.csr_matrix(x)


def _bad_cases():
    for case in BAD_DATA:
        yield pytest.param(case, False, id=f"{case[0]}-dense")
        if case[0] in SPARSE_FORM:
            yield pytest.param(case, True, id=f"{case[0]}-csr")


def _canonical(value):
    """A comparable form of an attribute: arrays by dtype, shape and bytes,
    optimizer states by their pickled contents, containers recursively."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, OptimizerState):
        return ("state", _canonical(list(value.__reduce__()[1])))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_canonical(v) for v in value])
    if isinstance(value, dict):
        return ("dict", sorted((k, _canonical(v)) for k, v in value.items()))
    return ("pickle", pickle.dumps(value))


def _snapshot(est):
    return _canonical(est.__dict__)


def _fitted(name, kw, sparse=False):
    est = ESTIMATORS[name](**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(_as_csr(X) if sparse else X, _y(name))


def _predict(est, sparse=False):
    out = [est.predict(_as_csr(X) if sparse else X)]
    if hasattr(est, "predict_proba") and hasattr(est, "classes_"):
        out.append(est.predict_proba(X))
    return out


def _assert_unchanged(est, snapshot, predictions, sparse=False):
    assert _snapshot(est) == snapshot, "a failed call modified the estimator's attributes"
    for before, after in zip(predictions, _predict(est, sparse)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("case,sparse", list(_bad_cases()))
def test_bad_data_is_rejected_before_work_and_the_fitted_model_survives(
        name, kw, case, sparse):
    case_id, make_x, make_y, extra, error, message = case
    est = _fitted(name, kw, sparse)
    snapshot, predictions = _snapshot(est), _predict(est, sparse)
    Xb, yb = make_x(X), make_y(_y(name))
    if sparse:
        Xb = _as_csr(Xb)
    for method in ("fit", "partial_fit"):
        with _no_compiled_work(), pytest.raises(error, match=message):
            getattr(est, method)(Xb, yb, **extra)
        _assert_unchanged(est, snapshot, predictions, sparse)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_wrong_n_features_is_rejected_at_predict_and_partial_fit(name, kw, sparse):
    est = _fitted(name, kw, sparse)
    snapshot, predictions = _snapshot(est), _predict(est, sparse)
    X5 = RNG.standard_normal((40, 5))
    X5 = _as_csr(X5) if sparse else X5
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 4"):
        est.predict(X5)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 4"):
        est.partial_fit(X5, _y(name))
    _assert_unchanged(est, snapshot, predictions, sparse)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=CONFIG_IDS)
def test_a_refit_that_fails_late_keeps_the_previous_model(name, kw):
    """The new X has another width (accepted by fit) but sample_weight is wrong:
    the error comes after validate_data has seen the new X."""
    est = _fitted(name, kw)
    snapshot, predictions = _snapshot(est), _predict(est)
    with pytest.raises(ValueError, match="sample_weight"):
        est.fit(RNG.standard_normal((40, 6)), _y(name), sample_weight=np.ones(7))
    _assert_unchanged(est, snapshot, predictions)


def test_single_class_is_rejected_by_sgd_classifier():
    with pytest.raises(ValueError, match="classes has to be greater than one"):
        SGDClassifier().fit(X, np.zeros(40))


@pytest.mark.parametrize("name", ["SGDClassifier", "MLPClassifier"])
def test_unseen_class_at_partial_fit_is_rejected(name):
    est = _fitted(name, {})
    snapshot, predictions = _snapshot(est), _predict(est)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, np.full(40, "zzz"))
    _assert_unchanged(est, snapshot, predictions)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_one_sample_behaves_as_in_sklearn(name):
    """One row is legal for regressors and for scikit-learn's MLPClassifier (a
    finite model); SGDClassifier refuses it with scikit-learn's message (one class)."""
    if name == "SGDClassifier":
        with pytest.raises(ValueError, match="classes has to be greater than one; got 1 class"):
            ESTIMATORS[name]().fit(X[:1], _y(name)[:1])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ESTIMATORS[name]().fit(X[:1], _y(name)[:1])
    coefs = est.coefs_ if hasattr(est, "coefs_") else [est.coef_]
    assert all(np.isfinite(c).all() for c in coefs)
    predictions = est.predict(X)
    if "Regressor" in name:
        assert np.isfinite(predictions).all()
    else:
        assert set(predictions) == {_y(name)[0]}  # the only class it has seen


# (estimator names, parameter, bad value, words the message must contain)
BAD_PARAMS = [
    ("all", "alpha", -1.0, ["alpha", "range"]),
    ("all", "alpha", np.nan, ["alpha"]),
    ("all", "batch_size", 0, ["batch_size", "range"]),
    ("all", "max_iter", 0, ["max_iter"]),
    ("all", "solver", "newton", ["solver", "adam"]),
    ("all", "tol", np.nan, ["tol"]),
    ("all", "solver", Adam(beta_1=1.0), ["beta_1", "[0.0, 1.0)"]),
    ("all", "solver", Adam(beta_2=1.5), ["beta_2", "[0.0, 1.0)"]),
    ("all", "solver", SGD(lr=-0.1), ["lr", "range"]),
    ("all", "solver", RMSprop(alpha=1.0), ["alpha", "RMSprop"]),
    ("all", "solver", Adam(clip_norm=0.0), ["clip_norm"]),
    ("all", "solver", Adam(schedule=CosineAnnealing(t_max=0)), ["t_max"]),
    ("sgd", "loss", "cubic", ["loss", "among"]),
    ("sgd", "learning_rate", "fast", ["learning_rate", "invscaling"]),
    ("sgd", "eta0", -1.0, ["eta0"]),
    ("sgd", "penalty", "l3", ["penalty", "elasticnet"]),
    ("sgd", "l1_ratio", 2.0, ["l1_ratio"]),
    ("sgd", "batch_size", 2.5, ["batch_size"]),
    ("mlp", "beta_1", 1.0, ["beta_1", "[0.0, 1.0)"]),
    ("mlp", "beta_2", 1.0, ["beta_2"]),
    ("mlp", "dropout", 1.0, ["dropout", "[0.0, 1.0)"]),
    ("mlp", "dropout", -0.5, ["dropout"]),
    ("mlp", "hidden_layer_sizes", (0,), ["hidden_layer_sizes", "> 0"]),
    ("mlp", "hidden_layer_sizes", (8, 0), ["hidden_layer_sizes", "> 0"]),
    ("mlp", "hidden_layer_sizes", (2.5,), ["hidden_layer_sizes", "integers"]),
    ("mlp", "activation", "softplus", ["activation", "relu"]),
    ("mlp", "learning_rate", "fast", ["learning_rate", "invscaling"]),
    ("mlp", "learning_rate", StepDecay(step_size=0), ["step_size"]),
    ("mlp", "learning_rate_init", 0.0, ["learning_rate_init"]),
    ("mlp", "learning_rate_init", np.inf, ["learning_rate_init"]),
    ("mlp", "momentum", 1.5, ["momentum"]),
    ("mlp", "epsilon", 0.0, ["epsilon"]),
    ("mlp", "clip_norm", -1.0, ["clip_norm"]),
    ("mlp", "penalty", "l3", ["penalty"]),
    ("mlp", "weight_init", "zeros", ["weight_init", "glorot_uniform"]),
]


def _param_cases():
    for family, param, value, words in BAD_PARAMS:
        for name in ESTIMATORS:
            if family == "all" or name.lower().startswith(family):
                yield pytest.param(name, param, value, words, id=f"{name}-{param}={value!r}")


@pytest.mark.parametrize("name,param,value,words", list(_param_cases()))
def test_bad_hyperparameter_names_itself_before_work(name, param, value, words,
                                                     no_compiled_work):
    est = ESTIMATORS[name](**{param: value})
    with pytest.raises(ValueError) as exc:
        est.fit(X, _y(name))
    for word in words:
        assert word in str(exc.value), f"{word!r} not in {exc.value}"


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_hyperparameter_on_refit_keeps_the_fitted_model(name):
    est = _fitted(name, {})
    snapshot, predictions = _snapshot(est), _predict(est)
    est.set_params(alpha=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        est.fit(X, _y(name))
    with pytest.raises(ValueError, match="alpha"):
        est.partial_fit(X, _y(name))
    est.set_params(alpha=ESTIMATORS[name]().alpha)
    _assert_unchanged(est, snapshot, predictions)


# ---------------------------------------------------------- optimizer API

OPTIMIZERS = [SGD(lr=0.1, momentum=0.9), Adagrad(), RMSprop(centered=True), Adam(amsgrad=True),
              AdamW(), NAdam()]


def _state_snapshot(state):
    return _canonical(state)


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: type(o).__name__)
def test_refused_step_touches_neither_parameters_nor_state(opt):
    params = RNG.standard_normal(50)
    state = opt.init(params)
    opt.step(params, np.ones(50), state)
    p_before, s_before = params.copy(), _state_snapshot(state)
    bad_grads = [
        (np.ones(50, np.float32), TypeError, "dtype"),
        (np.ones(49), ValueError, "shape"),
        (np.ones((50, 2))[:, 0], ValueError, "C-contiguous"),
        ([np.ones(50)], TypeError, "grads"),
        ("not an array", TypeError, "grads"),
    ]
    for grads, error, message in bad_grads:
        with pytest.raises(error, match=message):
            opt.step(params, grads, state)
    readonly = params.copy()
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.step(readonly, np.ones(50), state)
    with pytest.raises(TypeError, match="dtype"):
        opt.step(params.astype(np.float32), np.ones(50, np.float32), state)
    np.testing.assert_array_equal(params, p_before)
    assert _state_snapshot(state) == s_before


@pytest.mark.parametrize("params,error,message", [
    (np.arange(5), TypeError, "float32 or float64"),
    (np.ones(5, complex), TypeError, "float32 or float64"),
    (np.ones((5, 2))[:, 0], ValueError, "C-contiguous"),
    ([], ValueError, "empty"),
    ([np.ones(3), np.ones(3, np.float32)], TypeError, "share one dtype"),
    ("abc", TypeError, "numpy array"),
])
def test_init_rejects_unusable_parameters(params, error, message):
    with pytest.raises(error, match=message):
        Adam().init(params)


@pytest.mark.parametrize("opt,param", [
    (SGD(lr=-1.0), "lr"), (SGD(lr=np.nan), "lr"), (SGD(momentum=-0.1), "momentum"),
    (Adam(beta_1=1.0), "beta_1"), (Adam(beta_2=-0.1), "beta_2"), (Adam(eps=-1.0), "eps"),
    (RMSprop(alpha=1.0), "alpha"), (Adagrad(lr_decay=-1.0), "lr_decay"),
    (AdamW(weight_decay=np.nan), "weight_decay"), (NAdam(momentum_decay=-1.0), "momentum_decay"),
    (Adam(clip_value=0.0), "clip_value"), (Adam(schedule="cosine"), "schedule"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_optimizer_hyperparameters_are_validated_by_name(opt, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        opt.init(np.zeros(4))


@pytest.mark.parametrize("name", ["SGDClassifier", "MLPClassifier"])
def test_failed_first_partial_fit_leaves_the_estimator_unfitted(name):
    est = ESTIMATORS[name]()
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(_with_nan(X), Y_CLS, classes=np.unique(Y_CLS))
    assert est.__dict__ == ESTIMATORS[name]().__dict__
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.partial_fit(X, Y_CLS, classes=np.unique(Y_CLS)[:-1].tolist() + ["zz", "d"])
    assert "zz" in est.classes_


@pytest.mark.parametrize("name,kw", CONFIGS, ids=CONFIG_IDS)
def test_unfitted_estimators_raise_not_fitted_error(name, kw):
    est = ESTIMATORS[name](**({**kw, "loss": "log_loss"} if name == "SGDClassifier" else kw))
    methods = ["predict", "predict_proba"] if "Classifier" in name else ["predict"]
    for method in methods:
        with pytest.raises(NotFittedError):
            getattr(est, method)(X)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_failed_refit_keeps_feature_names(name):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = ESTIMATORS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(frame, _y(name))
    snapshot, prediction = _snapshot(est), est.predict(frame)
    with pytest.raises(ValueError, match="NaN"):
        est.fit(_with_nan(X), _y(name))  # no names: validate_data drops them first
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    assert _snapshot(est) == snapshot
    np.testing.assert_array_equal(prediction, est.predict(frame))
