"""Minibatch / adaptive solvers and multinomial SGDClassifier.

Reference tests re-implement one epoch with plain NumPy from the published
update formulas (minibatch gradient of the mean loss plus the L2 term, then
the torch.optim-documented rule) and compare with shuffle=False.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from fastopt.linear_model import SGDClassifier, SGDRegressor
from fastopt.linear_model._sgd_training import default_rate
from fastopt.optim import SGD, Adagrad, Adam, AdamW, ExponentialDecay, RMSprop

ONE_EPOCH = dict(max_iter=1, tol=None, shuffle=False)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(n=203, d=6, seed=0):
    X, y = make_regression(n, d, noise=1.0, random_state=seed)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _batches(n, batch_size):
    return [np.arange(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


# (n, d, batch_size): dense minibatches are processed in chunks of at most
# 256 rows and 1 MiB of gathered rows, so the last two cases sum each
# gradient over several chunks (600 rows; 100 rows of 3000 float64).
@pytest.mark.parametrize("n, d, bs", [(203, 6, 16), (1500, 6, 600), (250, 3000, 100)])
def test_minibatch_sgd_matches_numpy_reference(n, d, bs):
    X, y = _data(n, d)
    alpha, eta0 = 1e-2, 0.05 if d < 100 else 1e-3
    w, b = np.zeros(X.shape[1]), 0.0
    for idx in _batches(len(y), bs):
        r = X[idx] @ w + b - y[idx]
        gw = X[idx].T @ r / len(idx) + alpha * w
        gb = r.mean()
        w, b = w - eta0 * gw, b - eta0 * gb
    model = SGDRegressor(batch_size=bs, alpha=alpha, eta0=eta0, learning_rate="constant",
                         **ONE_EPOCH).fit(X, y)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, [b], rtol=1e-10, atol=1e-12)


def _adam_reference(X, y, grad_fn, lr, bs, n_out):
    d = X.shape[1]
    p = np.zeros(n_out * d + n_out)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, idx in enumerate(_batches(len(y), bs), start=1):
        g = grad_fn(p, idx)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return p[: n_out * d].reshape(n_out, d), p[n_out * d:]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_binary_log_loss_matches_numpy_reference(dtype):
    X, y = make_classification(157, 5, random_state=0)
    alpha, lr, bs = 1e-3, 0.05, 10

    def grad(p, idx):
        w, b = p[:5], p[5]
        r = 1 / (1 + np.exp(-(X[idx] @ w + b))) - y[idx]
        return np.r_[X[idx].T @ r / len(idx) + alpha * w, r.mean()]

    w, b = _adam_reference(X, y, grad, lr, bs, 1)
    model = SGDClassifier(loss="log_loss", solver=Adam(lr=lr), batch_size=bs, alpha=alpha,
                          **ONE_EPOCH).fit(X.astype(dtype), y)
    assert model.coef_.dtype == dtype
    tol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(model.coef_, w, rtol=tol, atol=tol)
    np.testing.assert_allclose(model.intercept_, b, rtol=tol, atol=tol)


def test_multinomial_matches_numpy_softmax_reference():
    X, y = make_classification(181, 5, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=0)
    alpha, lr, bs, K = 1e-3, 0.02, 8, 3
    onehot = np.eye(K)[y]

    def grad(p, idx):
        W, b = p[: K * 5].reshape(K, 5), p[K * 5:]
        z = X[idx] @ W.T + b
        prob = np.exp(z - z.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        r = (prob - onehot[idx]) / len(idx)
        return np.r_[(r.T @ X[idx] + alpha * W).ravel(), r.sum(axis=0)]

    W, b = _adam_reference(X, y, grad, lr, bs, K)
    model = SGDClassifier(loss="log_loss", multi_class="multinomial", solver=Adam(lr=lr),
                          batch_size=bs, alpha=alpha, **ONE_EPOCH).fit(X, y)
    np.testing.assert_allclose(model.coef_, W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-9, atol=1e-12)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))


def test_multinomial_requires_log_loss():
    X, y = make_classification(60, 4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    with pytest.raises(ValueError, match="multi_class='multinomial' needs loss='log_loss'"):
        SGDClassifier(multi_class="multinomial").fit(X, y)


@pytest.mark.parametrize("solver", [Adam(lr=0.01, weight_decay=1e-3), SGD(lr=0.01, momentum=0.9)])
def test_sparse_lazy_updates_equal_dense_when_every_feature_is_in_every_batch(solver):
    X, y = _data()
    X += 10.0  # no zero entry: every batch touches every feature
    params = dict(solver=solver, batch_size=8, alpha=1e-3, **ONE_EPOCH)
    dense = SGDRegressor(**params).fit(X, y)
    lazy = SGDRegressor(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(lazy.coef_, dense.coef_, rtol=1e-10)
    np.testing.assert_allclose(lazy.intercept_, dense.intercept_, rtol=1e-10)


def test_sparse_lazy_plain_sgd_without_penalty_equals_dense():
    X, y = _data(n=300, d=20)
    X[np.abs(X) < 1.0] = 0.0
    params = dict(solver="sgd", batch_size=5, penalty=None, eta0=0.05,
                  learning_rate="constant", **ONE_EPOCH)
    dense = SGDRegressor(**params).fit(X, y)
    lazy = SGDRegressor(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(lazy.coef_, dense.coef_, rtol=1e-10, atol=1e-14)


def test_partial_fit_keeps_optimizer_state_across_calls():
    X, y = _data()
    params = dict(solver="adam", batch_size=10, shuffle=False, learning_rate="constant")
    online = SGDRegressor(**params)
    for _ in range(3):
        online.partial_fit(X, y)
    batch = SGDRegressor(max_iter=3, tol=None, **params).fit(X, y)
    np.testing.assert_allclose(online.coef_, batch.coef_, rtol=1e-12)


def test_gradient_clipping_from_the_optimizer_matches_numpy_reference():
    X, y = _data()
    X, y = X * 100, y * 100  # every minibatch gradient is far above the clipping norm
    clip_norm, lr, bs = 1e-3, 0.1, 10
    w, b = np.zeros(X.shape[1]), 0.0
    for idx in _batches(len(y), bs):
        r = X[idx] @ w + b - y[idx]
        g = np.r_[X[idx].T @ r, r.sum()] / len(idx)
        norm = np.linalg.norm(g)
        assert norm > clip_norm
        g *= clip_norm / (norm + 1e-6)  # torch.nn.utils.clip_grad_norm_
        w, b = w - lr * g[:-1], b - lr * g[-1]
    model = SGDRegressor(solver=SGD(lr=lr, clip_norm=clip_norm), batch_size=bs,
                         penalty=None, **ONE_EPOCH).fit(X, y)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(model.intercept_, [b], rtol=1e-10, atol=1e-15)


# each string solver and the optimizer object its docstring names
DOCUMENTED_SOLVERS = {
    "sgd": lambda lr: SGD(lr=lr),
    "momentum": lambda lr: SGD(lr=lr, momentum=0.9),
    "nesterov": lambda lr: SGD(lr=lr, momentum=0.9, nesterov=True),
    "adagrad": lambda lr: Adagrad(lr=lr),
    "rmsprop": lambda lr: RMSprop(lr=lr),
    "adam": lambda lr: Adam(lr=lr),
    "adamw": lambda lr: AdamW(lr=lr),
}


@pytest.mark.parametrize("solver", list(DOCUMENTED_SOLVERS))
def test_string_solver_equals_its_documented_optimizer_object(solver):
    X, y = make_classification(200, 6, n_informative=4, n_classes=3, random_state=0)
    params = dict(batch_size=16, max_iter=3, tol=None, alpha=1e-3, random_state=0)
    eta0 = 0.01
    ours = SGDClassifier(solver=solver, eta0=eta0, learning_rate="constant", **params)
    documented = SGDClassifier(solver=DOCUMENTED_SOLVERS[solver](eta0), **params)
    np.testing.assert_array_equal(ours.fit(X, y).coef_, documented.fit(X, y).coef_)
    np.testing.assert_array_equal(ours.intercept_, documented.intercept_)
    if solver in ("adagrad", "rmsprop", "adam", "adamw"):
        # 'optimal' (the default rate) is the rule's own default rate for the adaptive rules
        optimal = SGDClassifier(solver=solver, eta0=eta0, learning_rate="optimal", **params)
        rule = DOCUMENTED_SOLVERS[solver](default_rate(solver, params["batch_size"]))
        np.testing.assert_array_equal(optimal.fit(X, y).coef_,
                                      SGDClassifier(solver=rule, **params).fit(X, y).coef_)


@pytest.mark.parametrize("solver", ["momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                    "adamw", Adam(lr=1e-2)])
def test_adaptive_solvers_reach_sklearn_test_accuracy(solver):
    X, y = make_classification(4000, 20, n_informative=10, n_classes=3, class_sep=1.5,
                               random_state=0)
    X = StandardScaler().fit_transform(X)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0)
    ref = SkSGDClassifier(random_state=0, alpha=1e-3).fit(X_tr, y_tr).score(X_te, y_te)
    eta0 = 1e-3 if solver in ("momentum", "nesterov") else 1e-2
    ours = SGDClassifier(solver=solver, batch_size=32, eta0=eta0, alpha=1e-3,
                         learning_rate="constant", random_state=0).fit(X_tr, y_tr)
    assert ours.score(X_te, y_te) >= ref - 0.02


def test_grid_search_over_solver_objects_clones_and_never_mutates_them():
    X, y = make_classification(300, 6, random_state=0)
    adam, sgd = Adam(), SGD(momentum=0.9)
    before = (adam.get_params(), sgd.get_params())
    search = GridSearchCV(
        SGDClassifier(batch_size=16, max_iter=20, random_state=0),
        {"solver": [adam, sgd], "solver__lr": [1e-3, 1e-2]}, cv=3).fit(X, y)
    assert (adam.get_params(), sgd.get_params()) == before
    assert search.best_params_["solver__lr"] in (1e-3, 1e-2)
    assert search.best_estimator_.solver is not adam and search.best_estimator_.solver is not sgd
    est = SGDClassifier(solver=adam, batch_size=16, max_iter=3).fit(X, y)
    assert est.solver is adam and adam.get_params() == before[0]
    assert clone(est).solver is not adam


def test_average_with_minibatch_solver_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="average is only supported"):
        SGDRegressor(solver="adam", batch_size=4, average=True).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minibatch_fitted_attribute_dtypes_match_sklearn(dtype):
    X, y = make_classification(200, 5, n_classes=3, n_informative=3, random_state=0)
    X = X.astype(dtype)
    for params in ({}, {"solver": "adam", "batch_size": 8}):
        for est, ref in ((SGDRegressor(**params), SkSGDRegressor()),
                         (SGDClassifier(**params), SkSGDClassifier())):
            for target in (y, (y > 0).astype(int)):
                est.fit(X, target)
                ref.fit(X, target)
                assert est.coef_.dtype == ref.coef_.dtype
                assert est.coef_.shape == ref.coef_.shape
                assert est.intercept_.dtype == ref.intercept_.dtype
                assert est.intercept_.shape == ref.intercept_.shape


def test_schedule_from_the_optimizer_object_matches_numpy_reference():
    X, y = _data()
    lr, gamma, bs = 0.1, 0.9, 16
    w, b = np.zeros(X.shape[1]), 0.0
    for t, idx in enumerate(_batches(len(y), bs), start=1):
        r = X[idx] @ w + b - y[idx]
        step = lr * gamma ** (t - 1)
        w, b = w - step * X[idx].T @ r / len(idx), b - step * r.mean()
    model = SGDRegressor(solver=SGD(lr=lr, schedule=ExponentialDecay(gamma=gamma)),
                         batch_size=bs, penalty=None, **ONE_EPOCH).fit(X, y)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, [b], rtol=1e-10, atol=1e-12)


def test_minibatch_verbose_prints_sklearns_fields_for_the_joint_model(capsys):
    X, y = make_classification(120, 5, n_informative=3, n_classes=3, random_state=0)
    SGDClassifier(loss="log_loss", multi_class="multinomial", solver="adam", batch_size=16,
                  max_iter=2, tol=None, verbose=1, random_state=0).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Norm")]
    assert len(lines) == 2
    pattern = (r"Norm: [0-9.]+, NNZs: 15, Bias: \[-?[0-9.]+, -?[0-9.]+, -?[0-9.]+\], "
               r"T: (\d+), Avg. loss: ([0-9.]+), Objective: ([0-9.]+)")
    for epoch, line in enumerate(lines, start=1):
        match = re.fullmatch(pattern, line)
        assert match, line
        assert int(match[1]) == epoch * 120
        assert 0 < float(match[2]) <= float(match[3]) < np.log(3) + 0.1
