"""Default hyper-parameters of the string solvers of SGDClassifier / SGDRegressor.

Every solver at ``batch_size`` 1 and 32 with all other parameters at their
defaults scores within 0.01 of scikit-learn's default fit (held-out accuracy
or R^2, mean of 3 seeds, standardised features) on scikit-learn's
breast-cancer, digits and diabetes data; the 20k x 50 synthetic sets are in
``benchmarks/bench_solver_defaults.py``. The one exception, Rprop at batch
size 1 (a full-batch method: digits -0.68, breast cancer -0.054, diabetes
-0.036, running to ``max_iter``), is left to the benchmark, to keep this fast.
"""

import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastopt import SGDClassifier, SGDRegressor
from fastopt.linear_model._sgd_training import STRING_SOLVERS, default_rate
from fastopt.optim import SGD, Adadelta, Adam, Rprop

SEEDS = range(3)
DATASETS = {"breast_cancer": (load_breast_cancer, SGDClassifier, sk.SGDClassifier),
            "digits": (load_digits, SGDClassifier, sk.SGDClassifier),
            "diabetes": (load_diabetes, SGDRegressor, sk.SGDRegressor)}
def _splits(name):
    load, _, _ = DATASETS[name]
    X, y = load(return_X_y=True)
    for seed in SEEDS:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=seed)
        scaler = StandardScaler().fit(X_tr)
        yield seed, scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def _mean_score(name, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return np.mean([make(seed).fit(X_tr, y_tr).score(X_te, y_te)
                        for seed, X_tr, X_te, y_tr, y_te in _splits(name)])


@pytest.fixture(scope="module")
def sklearn_scores():
    return {name: _mean_score(name, lambda seed, peer=peer: peer(random_state=seed))
            for name, (_, _, peer) in DATASETS.items()}


CASES = [(solver, bs, name) for solver in sorted(STRING_SOLVERS) for bs in (1, 32)
         for name in DATASETS if (solver, bs) != ("rprop", 1)]


@pytest.mark.parametrize("solver, batch_size, dataset", CASES)
def test_default_solver_scores_within_001_of_sklearn_default(solver, batch_size, dataset,
                                                             sklearn_scores):
    ours = DATASETS[dataset][1]
    score = _mean_score(dataset, lambda seed: ours(solver=solver, batch_size=batch_size,
                                                   random_state=seed))
    assert score >= sklearn_scores[dataset] - 0.01


def _regression(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.uniform(-2, 2, d) + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("solver, shift", [("adam", 5e4), ("rmsprop", 5e4), ("adagrad", 5e4),
                                           ("lion", 5e4), ("adamw", 0.0)])
def test_default_rate_regressor_is_equivariant_to_target_units(solver, shift):
    # at its default rate a normalised rule sees the target in units of its standard
    # deviation, from its mean: the fit on a*y + b predicts a*(fit on y) + b (AdamW's
    # decoupled decay pulls the intercept towards 0, not the mean: scale only)
    X, y = _regression()
    kw = dict(solver=solver, batch_size=8, max_iter=20, tol=None, random_state=0)
    unit = SGDRegressor(**kw).fit(X, y).predict(X)
    scaled = SGDRegressor(**kw).fit(X, 1e3 * y + shift).predict(X)
    np.testing.assert_allclose(scaled, 1e3 * unit + shift, rtol=1e-6)


def test_new_regressor_intercept_starts_at_the_weighted_target_mean():
    # zero features: the full-batch gradient at the weighted mean is zero, so an intercept
    # that starts there stays there for the first step (Adam then amplifies rounding)
    rng = np.random.default_rng(0)
    X, y, w = np.zeros((40, 3)), 100 + 10 * rng.standard_normal(40), rng.uniform(0.1, 3, 40)
    est = SGDRegressor(solver="adam", batch_size=40, max_iter=1, tol=None, random_state=0)
    est.partial_fit(X, y, sample_weight=w)
    # (a step from zero would move it by about lr * std(y) ~ 0.2, not to ~100)
    np.testing.assert_allclose(est.intercept_, [np.average(y, weights=w)], atol=1e-5)
    est.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.intercept_, [np.average(y, weights=w)], atol=1e-5)


def test_given_or_warm_started_intercept_is_kept_as_the_start():
    rng = np.random.default_rng(0)
    X, y = np.zeros((40, 3)), 100 + 10 * rng.standard_normal(40)
    kw = dict(solver="adam", batch_size=40, max_iter=3, tol=None, random_state=0)
    given = SGDRegressor(**kw).fit(X, y, intercept_init=[1.0])
    # three Adam steps move it by at most 3 * lr * target std from where it started
    assert abs(given.intercept_[0] - 1.0) <= 3 * default_rate("adam", 40) * np.std(y) * 1.01
    warm = SGDRegressor(warm_start=True, **kw).fit(X, y, intercept_init=[1.0])
    start = warm.intercept_[0]
    warm.fit(X, y)
    assert abs(warm.intercept_[0] - start) <= 3 * default_rate("adam", 40) * np.std(y) * 1.01
    assert abs(warm.intercept_[0] - np.mean(y)) > 1.0


def test_explicit_rate_or_optimizer_object_keeps_the_zero_start_and_eta0():
    X, y = _regression()
    kw = dict(batch_size=8, max_iter=3, tol=None, random_state=0)
    constant = SGDRegressor(solver="adam", learning_rate="constant", eta0=0.01, **kw)
    documented = SGDRegressor(solver=Adam(lr=0.01), **kw)
    np.testing.assert_array_equal(constant.fit(X, y + 50).coef_, documented.fit(X, y + 50).coef_)
    np.testing.assert_array_equal(constant.intercept_, documented.intercept_)


@pytest.mark.parametrize("learning_rate", ["optimal", "invscaling"])
def test_default_rate_ignores_eta0_like_sklearns_optimal(learning_rate):
    X, y = _regression()
    y = (y > 0).astype(int)
    kw = dict(solver="adam", batch_size=8, max_iter=3, tol=None, random_state=0,
              learning_rate=learning_rate)
    a = SGDClassifier(eta0=0.01, **kw).fit(X, y)
    b = SGDClassifier(eta0=0.5, **kw).fit(X, y)
    c = SGDClassifier(solver=Adam(lr=default_rate("adam", 8)), batch_size=8, max_iter=3,
                      tol=None, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("batch_size, fraction", [(1, 0.3), (8, 0.2)])
def test_momentum_solvers_take_a_fraction_of_sklearns_schedule_only(nesterov, batch_size,
                                                                    fraction):
    # under 'invscaling' with power_t=0 scikit-learn's schedule is eta0 at every step: the
    # momentum solvers take the documented fraction of it (per sample 0.3, per minibatch
    # 0.2); under 'constant' eta0 itself
    X, y = _regression()
    y = (y > 0).astype(int)
    solver = "nesterov" if nesterov else "momentum"
    kw = dict(batch_size=batch_size, max_iter=3, tol=None, random_state=0)
    scheduled = SGDClassifier(solver=solver, learning_rate="invscaling", eta0=0.01, power_t=0.0,
                              **kw).fit(X, y)
    scaled = SGDClassifier(solver=SGD(lr=fraction * 0.01, momentum=0.9,
                                      nesterov=nesterov), **kw).fit(X, y)
    np.testing.assert_array_equal(scheduled.coef_, scaled.coef_)
    np.testing.assert_array_equal(scheduled.intercept_, scaled.intercept_)
    constant = SGDClassifier(solver=solver, learning_rate="constant", eta0=0.01, **kw).fit(X, y)
    unscaled = SGDClassifier(solver=SGD(lr=0.01, momentum=0.9, nesterov=nesterov),
                             **kw).fit(X, y)
    np.testing.assert_array_equal(constant.coef_, unscaled.coef_)


@pytest.mark.parametrize("solver, rule, settings", [
    ("adadelta", Adadelta, {"rho": 0.95}),                  # Zeiler's rho
    ("rprop", Rprop, {"etaminus": 0.95, "etaplus": 1.02}),  # minibatch sign noise
])
def test_default_rate_uses_the_rules_default_settings(solver, rule, settings):
    X, y = _regression()
    y = (y > 0).astype(int)
    kw = dict(batch_size=8, max_iter=3, tol=None, random_state=0)
    default = SGDClassifier(solver=solver, **kw).fit(X, y)
    tuned = SGDClassifier(solver=rule(lr=default_rate(solver, 8), **settings), **kw).fit(X, y)
    np.testing.assert_array_equal(default.coef_, tuned.coef_)
    # an explicit rate is PyTorch's rule(lr=eta0), with PyTorch's other defaults
    constant = SGDClassifier(solver=solver, learning_rate="constant", eta0=1.0,
                             **kw).fit(X, y)
    torch_default = SGDClassifier(solver=rule(lr=1.0), **kw).fit(X, y)
    np.testing.assert_array_equal(constant.coef_, torch_default.coef_)
    assert not np.array_equal(default.coef_, constant.coef_)
