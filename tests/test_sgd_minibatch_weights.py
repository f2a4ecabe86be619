"""Sample and class weights in SGDRegressor / SGDClassifier, against references.

The minibatch engine (any solver but 'sgd' with batch_size=1) is compared with
a plain NumPy minibatch loop written from the formulas: the gradient of a batch
is the mean over its rows of ``sample_weight * dloss * [x, 1]`` plus the L2
term, stepped by the rule each string solver documents (``tests/_optim_reference.py``,
written from the torch.optim pseudo-code). On CSR input only the features
present in a batch (and the intercept) are stepped: the reference steps the same
coordinates. Class weights must then equal the matching sample weights.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

import _optim_reference as ref
from fastopt.linear_model import SGDClassifier, SGDRegressor

# string solver -> the fastopt.optim object it documents, as a reference rule
STRING_SOLVERS = {
    "sgd": (ref.sgd, {}),
    "momentum": (ref.sgd, {"momentum": 0.9}),
    "nesterov": (ref.sgd, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (ref.adagrad, {}),
    "rmsprop": (ref.rmsprop, {}),
    "adam": (ref.adam, {}),
    "adamw": (ref.adamw, {}),
}
N, D, BATCH, EPOCHS, ETA0, ALPHA = 61, 5, 8, 2, 0.02, 1e-3
FIT = dict(batch_size=BATCH, max_iter=EPOCHS, tol=None, shuffle=False, eta0=ETA0,
           learning_rate="constant", alpha=ALPHA)


def _regression(sparse):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, D))
    if sparse:
        X[rng.uniform(size=X.shape) < 0.5] = 0.0
    y = X @ rng.normal(size=D) + 0.3 * rng.normal(size=N)
    weights = rng.uniform(0.0, 3.0, N)
    weights[rng.uniform(size=N) < 0.2] = 0.0  # zero weights drop rows from the loss
    return (sp.csr_matrix(X) if sparse else X), y, weights


def _numpy_minibatch_regression(X, y, weights, solver):
    """Coefficients and intercept of the minibatch loop, squared error."""
    rule, kwargs = STRING_SOLVERS[solver]
    dense = X.toarray() if sp.issparse(X) else X
    p, state, t = np.zeros(D + 1), {}, 0
    for _ in range(EPOCHS):
        for start in range(0, N, BATCH):
            rows = np.arange(start, min(start + BATCH, N))
            t += 1
            dz = (dense[rows] @ p[:D] + p[D] - y[rows]) * weights[rows]
            g = np.r_[dense[rows].T @ dz, dz.sum()] / len(rows)
            g[:D] += ALPHA * p[:D]
            if sp.issparse(X):
                stepped = np.r_[np.unique(X[rows].indices), D]
            else:
                stepped = np.arange(D + 1)
            sub = {name: buf[stepped] for name, buf in state.items()}
            p[stepped] = rule(p[stepped], g[stepped], sub, t, ETA0, **kwargs)
            for name, buf in sub.items():
                state.setdefault(name, np.zeros(D + 1))[stepped] = buf
    return p[:D], p[D]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", list(STRING_SOLVERS))
def test_minibatch_sample_weight_matches_numpy_reference(solver, sparse):
    X, y, weights = _regression(sparse)
    coef, intercept = _numpy_minibatch_regression(X, y, weights, solver)
    model = SGDRegressor(solver=solver, **FIT).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, [intercept], rtol=1e-9, atol=1e-12)
    unweighted = SGDRegressor(solver=solver, **FIT).fit(X, y)
    assert not np.allclose(unweighted.coef_, coef, rtol=1e-3)


ENGINES = {
    "per-sample sgd": dict(solver="sgd", batch_size=1),
    "minibatch sgd": dict(solver="sgd", batch_size=8),
    "minibatch adam": dict(solver="adam", batch_size=8),
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_binary_class_weight_equals_the_matching_sample_weight(engine):
    X, y = make_classification(90, 5, random_state=0)
    params = dict(ENGINES[engine], loss="log_loss", max_iter=3, tol=None, random_state=0)
    class_weight = {0: 0.5, 1: 3.0}
    weighted = SGDClassifier(class_weight=class_weight, **params).fit(X, y)
    reference = SGDClassifier(**params).fit(X, y, sample_weight=np.where(y == 1, 3.0, 0.5))
    np.testing.assert_allclose(weighted.coef_, reference.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weighted.intercept_, reference.intercept_, rtol=1e-12,
                               atol=1e-15)
    unweighted = SGDClassifier(**params).fit(X, y)
    assert not np.allclose(unweighted.coef_, weighted.coef_, rtol=1e-3)


def test_multinomial_class_weight_equals_the_matching_sample_weight():
    X, y = make_classification(120, 5, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=0)
    params = dict(loss="log_loss", multi_class="multinomial", solver="adam", batch_size=8,
                  max_iter=3, tol=None, random_state=0)
    class_weight = {0: 0.5, 1: 3.0, 2: 1.5}
    weighted = SGDClassifier(class_weight=class_weight, **params).fit(X, y)
    reference = SGDClassifier(**params).fit(
        X, y, sample_weight=np.array([class_weight[c] for c in y]))
    np.testing.assert_allclose(weighted.coef_, reference.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weighted.intercept_, reference.intercept_, rtol=1e-12,
                               atol=1e-15)
    unweighted = SGDClassifier(**params).fit(X, y)
    assert not np.allclose(unweighted.coef_, weighted.coef_, rtol=1e-3)
