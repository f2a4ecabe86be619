"""Every optimizer minimises a least-squares problem on scikit-learn's diabetes data."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from fastopt.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealing,
    NAdam,
    RMSprop,
    SklearnAdam,
    SklearnSGD,
)


@pytest.fixture(scope="module")
def problem():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X = np.hstack([X, np.ones((len(X), 1))])
    y = (y - y.mean()) / y.std()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    loss_star = np.mean((X @ w_star - y) ** 2) / 2
    return X, y, loss_star


@pytest.mark.parametrize(
    "opt, n_steps",
    [
        (SGD(lr=0.1), 3000),
        (SGD(lr=0.05, momentum=0.9, nesterov=True), 1000),
        (Adagrad(lr=0.5), 2000),
        (RMSprop(lr=0.01), 2000),
        (RMSprop(lr=0.003, momentum=0.9, centered=True), 2000),
        (Adam(lr=0.05), 2000),
        (Adam(lr=0.05, amsgrad=True), 2000),
        (AdamW(lr=0.05, weight_decay=1e-4), 2000),
        (NAdam(lr=0.05, schedule=CosineAnnealing(t_max=2000)), 2000),
        (SklearnSGD(lr=0.05), 1000),
        (SklearnAdam(lr=0.05), 2000),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_batch_descent_reaches_least_squares_optimum(problem, opt, n_steps, dtype):
    X, y, loss_star = problem
    X, y = X.astype(dtype), y.astype(dtype)
    w = np.zeros(X.shape[1], dtype)
    state = opt.init(w)
    for _ in range(n_steps):
        grad = X.T @ (X @ w - y) / len(y)
        opt.step(w, grad, state)
    loss = np.mean((X @ w - y) ** 2) / 2
    assert loss <= loss_star * 1.01 + 1e-4
