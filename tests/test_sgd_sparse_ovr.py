"""One-vs-rest SGD on CSR input steps its classes together on a feature-major
copy of the coefficients (``fo_sgd_run_lanes``: blocks of up to seven
consecutive classes, four per vector and the rest in scalars of the same pass
over the row). Each class must still follow exactly the trajectory it follows
when trained alone as a binary problem on the same rows."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt import SGDClassifier

N_CLASSES = 6  # one block: four lanes and a tail of two


def _text_like(n=600, d=3000, nnz=25, seed=0, n_classes=N_CLASSES):
    rng = np.random.RandomState(seed)
    indices = np.sort(rng.randint(0, d, size=(n, nnz)), axis=1)
    X = sp.csr_matrix((rng.exponential(1.0, n * nnz), indices.ravel(),
                       np.arange(n + 1) * nnz), shape=(n, d))
    X.sum_duplicates()
    y = np.asarray((X @ rng.standard_normal((d, n_classes))).argmax(axis=1)).ravel()
    return X, y, rng.uniform(0.5, 2.0, n)


PARAMS = [
    {},
    {"loss": "log_loss"},
    {"loss": "modified_huber", "penalty": None},
    {"learning_rate": "invscaling", "eta0": 0.05},
    {"learning_rate": "pa1", "eta0": 0.1},
    {"alpha": 0.3},  # wscale shrinks fast: exercises the fold into w
    {"class_weight": {2: 3.0, 5: 0.5}},
    {"average": 50},  # averaging and the L1 step run class by class ...
    {"penalty": "elasticnet"},  # ... on the feature-major layout
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "default")
def test_sparse_ovr_class_equals_its_binary_fit(params, dtype):
    X, y, sw = _text_like()
    X = X.astype(dtype)
    common = dict(max_iter=4, tol=None, random_state=0, **params)
    multi = SGDClassifier(**common).fit(X, y, sample_weight=sw)
    assert multi.coef_.flags.c_contiguous
    objective = np.zeros(len(multi.loss_curve_))
    for k in range(N_CLASSES):
        binary_params = dict(common)
        if "class_weight" in params:
            binary_params["class_weight"] = {True: params["class_weight"].get(k, 1.0)}
        binary = SGDClassifier(**binary_params).fit(X, y == k, sample_weight=sw)
        np.testing.assert_array_equal(multi.coef_[k], binary.coef_[0])
        assert multi.intercept_[k] == np.asarray(binary.intercept_, dtype)[0]
        objective += binary.loss_curve_
    # the per-epoch objective (loss + penalty, with the norm bookkeeping of
    # the lanes) is the sum of the classes' objectives
    np.testing.assert_allclose(multi.loss_curve_, objective, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [3, 4, 5, 7, 9, 12])
def test_sparse_ovr_every_block_shape_equals_the_binary_fits(n_classes, dtype):
    # 3: a tail alone; 4: a quad; 5 and 7: a quad and a tail; 9: a quad, then
    # a quad and a tail; 12: three quads.
    X, y, sw = _text_like(seed=3, n_classes=n_classes)
    X = X.astype(dtype)
    assert len(np.unique(y)) == n_classes
    common = dict(max_iter=3, tol=None, random_state=0)
    multi = SGDClassifier(**common).fit(X, y, sample_weight=sw)
    for k in range(n_classes):
        binary = SGDClassifier(**common).fit(X, y == k, sample_weight=sw)
        np.testing.assert_array_equal(multi.coef_[k], binary.coef_[0])
        assert multi.intercept_[k] == np.asarray(binary.intercept_, dtype)[0]


def test_sparse_ovr_stopped_classes_keep_their_coefficients():
    # With tol, classes stop at different epochs; the lanes of stopped classes
    # must stay untouched while the others train on.
    X, y, sw = _text_like(seed=1)
    common = dict(max_iter=30, tol=1e-2, n_iter_no_change=2, random_state=0)
    multi = SGDClassifier(**common).fit(X, y, sample_weight=sw)
    epochs = []
    for k in range(N_CLASSES):
        binary = SGDClassifier(**common).fit(X, y == k, sample_weight=sw)
        epochs.append(binary.n_iter_)
        np.testing.assert_array_equal(multi.coef_[k], binary.coef_[0])
    assert len(set(epochs)) > 1, "the classes should stop at different epochs"
    assert multi.n_iter_ == max(epochs)


def test_sparse_ovr_warm_start_continues_from_coef():
    X, y, sw = _text_like(seed=2)
    first = SGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y, sample_weight=sw)
    coef = first.coef_.copy()
    again = SGDClassifier(max_iter=2, tol=None, random_state=0).fit(
        X, y, coef_init=coef, intercept_init=first.intercept_, sample_weight=sw)
    for k in range(N_CLASSES):
        alone = SGDClassifier(max_iter=2, tol=None, random_state=0).fit(
            X, y == k, coef_init=coef[k:k + 1], intercept_init=first.intercept_[k:k + 1],
            sample_weight=sw)
        np.testing.assert_array_equal(again.coef_[k], alone.coef_[0])
