"""Property-based fuzzing of the estimators and the optimizer API (hypothesis).

Random shapes (1-40 rows, 1-8 columns), dtypes (float32, float64, int64, bool),
dense or CSR at random density, value scales from 1e-3 to 1e6, 1-4 classes,
sample weights with zeros, and random hyper-parameters (solver strings and
objects, batch sizes, penalties, rates from 1e-5 to 10, dropout, clipping,
multinomial, early stopping, tiny max_iter). Each example runs in-process
with bounded sizes; the property is: a clean ValueError/TypeError, or a model
whose parameters and predictions are finite. Any other exception, a
segfault or a hang fails the run. The number of examples run is printed
(``-s``) for docs/reliability.md; the runs are derandomized (reproducible).
Longer hunts: ``FASTOPT_FUZZ_EXAMPLES=3000 pytest tests/test_robustness_fuzz.py -s``.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.optim import SGD, Adagrad, Adam, AdamW, NAdam, RMSprop, SklearnAdam, SklearnSGD

EXAMPLES = int(os.environ.get("FASTOPT_FUZZ_EXAMPLES", 100))  # per test
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
COUNTS = {}


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for name, (ok, refused) in sorted(COUNTS.items()):
            reporter.write_line(f"[fuzz] {name}: {ok + refused} examples, {ok} fitted "
                                f"finite models, {refused} clean refusals")


def _count(name, fitted):
    ok, refused = COUNTS.get(name, (0, 0))
    COUNTS[name] = (ok + fitted, refused + (not fitted))


@st.composite
def datasets(draw, classification):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 8))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-3, 6))
    X = (rng.standard_normal((n, d)) * scale).astype(dtype)
    if draw(st.booleans()):
        mask = rng.random((n, d)) < draw(st.floats(0.0, 1.0))
        X = sp.csr_matrix(np.where(mask, X, 0).astype(dtype))
    if classification:
        n_classes = draw(st.sampled_from([1, 2, 2, 3, 3, 4, 4]))
        y = rng.integers(0, n_classes, n)
    else:
        y = rng.standard_normal(n) * 10.0 ** draw(st.integers(-2, 4))
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = rng.choice([0.0, 0.5, 1.0, 3.0], n)
    return X, y, sample_weight


RATES = st.floats(1e-5, 10.0).map(float)
OPTIMIZER_OBJECTS = st.one_of(
    st.builds(SGD, lr=RATES, momentum=st.floats(0, 0.99), nesterov=st.just(False)),
    st.builds(Adam, lr=RATES, amsgrad=st.booleans()),
    st.builds(AdamW, lr=RATES, weight_decay=st.floats(0, 1)),
    st.builds(RMSprop, lr=RATES, centered=st.booleans(), momentum=st.floats(0, 0.9)),
    st.builds(Adagrad, lr=RATES, lr_decay=st.floats(0, 1)),
    st.builds(NAdam, lr=RATES),
)
CLIP = st.one_of(st.none(), st.floats(1e-3, 1e3))


@st.composite
def sgd_params(draw, classifier):
    losses = (["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]
              if classifier else ["squared_error", "huber", "epsilon_insensitive"])
    params = {
        "loss": draw(st.sampled_from(losses)),
        "penalty": draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        "alpha": draw(st.floats(0.0, 10.0)),
        "learning_rate": draw(st.sampled_from(["constant", "optimal", "invscaling",
                                               "adaptive"])),
        "eta0": draw(RATES),
        "max_iter": draw(st.integers(1, 5)),
        "tol": draw(st.sampled_from([None, 1e-3])),
        "batch_size": draw(st.integers(1, 50)),
        "solver": draw(st.one_of(st.sampled_from(["sgd", "momentum", "nesterov", "adagrad",
                                                  "rmsprop", "adam", "adamw"]),
                                 OPTIMIZER_OBJECTS)),
        "early_stopping": draw(st.sampled_from([False, False, False, True])),
        "average": draw(st.sampled_from([False] * 6 + [True, 3])),
        "random_state": 0,
    }
    if classifier:  # multinomial needs log_loss: mostly valid pairs, sometimes not
        valid = params["loss"] == "log_loss" or draw(st.integers(0, 4)) == 0
        params["multi_class"] = draw(st.sampled_from(["ovr", "multinomial"])) if valid else "ovr"
    return params


@st.composite
def mlp_params(draw):
    return {
        "hidden_layer_sizes": tuple(draw(st.lists(st.integers(1, 8), min_size=0,
                                                  max_size=2))),
        "activation": draw(st.sampled_from(["identity", "logistic", "tanh", "relu"])),
        "solver": draw(st.one_of(st.sampled_from(["sgd", "adam", "adamw", "rmsprop",
                                                  "adagrad", "nadam", "lbfgs"]),
                                 OPTIMIZER_OBJECTS)),
        "alpha": draw(st.floats(0.0, 10.0)),
        "batch_size": draw(st.one_of(st.just("auto"), st.integers(1, 50))),
        "learning_rate_init": draw(RATES),
        "max_iter": draw(st.integers(1, 5)),
        "early_stopping": draw(st.sampled_from([False, False, False, True])),
        "dropout": draw(st.sampled_from([0.0, 0.0, 0.5, 0.9])),
        "penalty": draw(st.sampled_from(["l2", "l1", "elasticnet"])),
        "clip_norm": draw(CLIP),
        "random_state": 0,
    }


def _check_outcome(name, est, X, y, sample_weight):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, clipped batch_size, ...
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError):
            _count(name, False)
            return
        params = (est.coefs_ + est.intercepts_ if hasattr(est, "coefs_")
                  else [est.coef_, np.atleast_1d(est.intercept_)])
        assert all(np.isfinite(p).all() for p in params), "fit returned non-finite weights"
        prediction = est.predict(X)
    assert prediction.shape[0] == X.shape[0]
    if hasattr(est, "classes_"):
        assert np.isin(prediction, est.classes_).all()
    _count(name, True)


@FUZZ
@given(data=datasets(classification=False), params=sgd_params(classifier=False))
def test_fuzz_sgd_regressor(data, params):
    _check_outcome("SGDRegressor", SGDRegressor(**params), *data)


@FUZZ
@given(data=datasets(classification=True), params=sgd_params(classifier=True))
def test_fuzz_sgd_classifier(data, params):
    _check_outcome("SGDClassifier", SGDClassifier(**params), *data)


@FUZZ
@given(data=datasets(classification=False), params=mlp_params())
def test_fuzz_mlp_regressor(data, params):
    _check_outcome("MLPRegressor", MLPRegressor(**params), *data)


@FUZZ
@given(data=datasets(classification=True), params=mlp_params())
def test_fuzz_mlp_classifier(data, params):
    _check_outcome("MLPClassifier", MLPClassifier(**params), *data)


OPTIMIZERS = st.one_of(
    OPTIMIZER_OBJECTS,
    st.builds(SklearnSGD, lr=RATES, momentum=st.floats(0, 0.99), nesterov=st.booleans()),
    st.builds(SklearnAdam, lr=RATES),
)


@st.composite
def parameter_sets(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16, np.int32]))
    shapes = draw(st.lists(st.lists(st.integers(0, 40), min_size=0, max_size=3)
                           .map(tuple), min_size=1, max_size=3))
    as_list = draw(st.booleans()) or len(shapes) > 1
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = [rng.standard_normal(s).astype(dtype) if s else np.asarray(1.0, dtype)
              for s in shapes]
    if draw(st.booleans()):  # break the contract: wrong dtype, shape or layout
        i = draw(st.integers(0, len(params) - 1))
        params[i] = draw(st.sampled_from([
            params[i].astype(np.float64 if params[i].dtype == np.float32 else np.float32),
            np.asfortranarray(np.ones((3, 2), params[i].dtype)),
            params[i].reshape(-1)[:0]]))
    return (params if as_list else params[0]), draw(st.integers(1, 5)), rng


@FUZZ
@given(opt=OPTIMIZERS, clip_norm=CLIP, setup=parameter_sets())
def test_fuzz_optimizer_api(opt, clip_norm, setup):
    params, n_steps, rng = setup
    opt.set_params(clip_norm=clip_norm)
    try:
        state = opt.init(params)
    except (ValueError, TypeError):
        _count("optimizer API", False)
        return
    arrays = params if isinstance(params, list) else [params]
    grads = [rng.standard_normal(p.shape).astype(p.dtype) for p in arrays]
    for _ in range(n_steps):
        opt.step(params, grads if isinstance(params, list) else grads[0], state)
    # Finite gradients and rates <= 10 over <= 5 steps keep the parameters finite.
    assert all(np.isfinite(p).all() for p in arrays)
    assert state.step_count == n_steps
    _count("optimizer API", True)
