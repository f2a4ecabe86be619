"""``record_gradient_norms``: per-epoch mean of each weight matrix's minibatch
gradient norm, against a NumPy backprop written from the formulas."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from fastopt import MLPClassifier, MLPRegressor, plot_gradient_norms
from fastopt._openmp import openmp_enabled, pool_stats
from fastopt.optim import SGD

HIDDEN = (5, 3)
N, D, K = 23, 4, 3
BATCH, LR, EPOCHS = 8, 0.2, 3


def _data(dtype, sparse):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, D))
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    y = rng.randint(K, size=N)
    sw = rng.uniform(0.5, 2.0, N)
    X = X.astype(dtype)
    return (sp.csr_matrix(X) if sparse else X), y, sw.astype(dtype)


def _fit(X, y, sw, lr, max_iter, batch_size=BATCH, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(HIDDEN, solver=SGD(lr=lr), batch_size=batch_size, max_iter=max_iter,
                            shuffle=False, tol=0.0, n_iter_no_change=100, random_state=0,
                            **params)
        return est.fit(X, y, sample_weight=sw)


def _reference_norms(X, Y, sw, coefs, intercepts, l2, l1):
    """Plain SGD (``p -= lr g``) in NumPy, minibatches in row order; per epoch the
    mean over minibatches of ||dJ/dW_l||, J = (sum_i w_i loss_i + l2/2 ||W||^2
    + l1 ||W||_1) / sum_i w_i with ReLU hidden layers and softmax log-loss."""
    W = [c.astype(np.float64) for c in coefs]
    b = [c.astype(np.float64) for c in intercepts]
    rows = []
    for _ in range(EPOCHS):
        per_batch = []
        for start in range(0, N, BATCH):
            x, t, w = X[start:start + BATCH], Y[start:start + BATCH], sw[start:start + BATCH]
            acts = [x]
            for layer in range(len(W)):
                z = acts[-1] @ W[layer] + b[layer]
                acts.append(np.maximum(z, 0) if layer + 1 < len(W) else z)
            p = np.exp(acts[-1] - acts[-1].max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            delta = (p - t) * w[:, None] / w.sum()
            gW, gb = [None] * len(W), [None] * len(W)
            for layer in range(len(W) - 1, -1, -1):
                gW[layer] = acts[layer].T @ delta + (l2 * W[layer] + l1 * np.sign(W[layer])) / w.sum()
                gb[layer] = delta.sum(0)
                delta = (delta @ W[layer].T) * (acts[layer] > 0)
            per_batch.append([np.linalg.norm(g) for g in gW])
            for layer in range(len(W)):
                W[layer] -= LR * gW[layer]
                b[layer] -= LR * gb[layer]
        rows.append(np.mean(per_batch, axis=0))
    return np.array(rows)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("penalty", [dict(alpha=0.0), dict(alpha=0.3),
                                     dict(alpha=0.3, penalty="elasticnet", l1_ratio=0.5)],
                         ids=["none", "l2", "elasticnet"])
def test_gradient_norms_equal_numpy_backprop_of_the_penalised_objective(dtype, sparse, penalty):
    X, y, sw = _data(dtype, sparse)
    init = _fit(X, y, sw, 0.0, 1, **penalty)
    est = _fit(X, y, sw, LR, EPOCHS, record_gradient_norms=True, **penalty)
    alpha, ratio = penalty["alpha"], (penalty.get("l1_ratio", 0.0)
                                      if penalty.get("penalty") == "elasticnet" else 0.0)
    Xd = X.toarray() if sparse else X
    expected = _reference_norms(Xd.astype(np.float64), np.eye(K)[y], sw.astype(np.float64),
                                init.coefs_, init.intercepts_, alpha * (1 - ratio), alpha * ratio)
    assert est.gradient_norms_.shape == (EPOCHS, len(HIDDEN) + 1) == (est.n_iter_,
                                                                      est.n_layers_ - 1)
    assert est.gradient_norms_.dtype == np.float64
    np.testing.assert_allclose(est.gradient_norms_, expected,
                               rtol=3e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("clip", [dict(clip_norm=1e-3), dict(clip_value=1e-4)])
def test_norms_are_measured_before_clipping(clip):
    # one full-batch step: both fits measure the gradient at the initial weights
    X, y, sw = _data(np.float64, False)
    plain = _fit(X, y, sw, LR, 1, batch_size=N, record_gradient_norms=True)
    clipped = _fit(X, y, sw, LR, 1, batch_size=N, record_gradient_norms=True, **clip)
    assert plain.gradient_norms_.min() > 1e-2  # clipping would change every norm
    np.testing.assert_array_equal(plain.gradient_norms_, clipped.gradient_norms_)
    assert not np.array_equal(plain.coefs_[0], clipped.coefs_[0])


def test_recording_does_not_change_the_fit():
    X, y, sw = _data(np.float64, False)
    off = _fit(X, y, sw, LR, EPOCHS, alpha=0.3)
    on = _fit(X, y, sw, LR, EPOCHS, alpha=0.3, record_gradient_norms=True)
    for a, b in zip(off.coefs_ + off.intercepts_, on.coefs_ + on.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert off.loss_curve_ == on.loss_curve_


@pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_gradient_norms_are_bit_identical_on_1_and_2_threads(sparse):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 100))
    y = (X @ rng.standard_normal((100, 4))).argmax(1)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    norms = []
    for n_threads in (1, 2):
        before = pool_stats()["jobs"]
        with threadpool_limits(n_threads, user_api="openmp"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = MLPClassifier((256, 128), batch_size=128, max_iter=2, alpha=1e-2,
                                random_state=0, record_gradient_norms=True).fit(X, y)
        norms.append(est.gradient_norms_)
        if n_threads > 1:
            assert pool_stats()["jobs"] > before, "no job was handed to the pool"
    np.testing.assert_array_equal(norms[0], norms[1])


def test_attribute_is_absent_without_the_flag_and_dropped_by_a_refit_without_it():
    X, y, sw = _data(np.float64, False)
    assert not hasattr(_fit(X, y, sw, LR, 2), "gradient_norms_")
    est = _fit(X, y, sw, LR, 2, record_gradient_norms=True)
    est.set_params(record_gradient_norms=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert not hasattr(est, "gradient_norms_")


def test_partial_fit_and_warm_start_append_one_row_per_epoch_nan_where_unrecorded():
    X, y, sw = _data(np.float64, False)
    est = MLPClassifier(HIDDEN, batch_size=BATCH, random_state=0)
    est.partial_fit(X, y, classes=np.arange(K))
    est.set_params(record_gradient_norms=True)
    est.partial_fit(X, y)
    est.partial_fit(X, y)
    norms = est.gradient_norms_
    assert norms.shape == (3, 3) == (len(est.loss_curve_), est.n_layers_ - 1)
    assert np.isnan(norms[0]).all() and np.isfinite(norms[1:]).all() and (norms[1:] > 0).all()

    warm = _fit(X, y, sw, LR, 2, warm_start=True)
    warm.set_params(record_gradient_norms=True, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm.fit(X, y, sample_weight=sw)
    assert warm.gradient_norms_.shape == (5, 3) == (len(warm.loss_curve_), 3)
    assert np.isnan(warm.gradient_norms_[:2]).all()
    assert np.isfinite(warm.gradient_norms_[2:]).all()


def test_early_stopping_records_every_epoch_run():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = X[:, 0] - 2 * X[:, 1] + rng.normal(scale=0.1, size=120)
    est = MLPRegressor(hidden_layer_sizes=(6,), early_stopping=True, n_iter_no_change=3, max_iter=200,
                       random_state=0, record_gradient_norms=True).fit(X, y)
    assert est.gradient_norms_.shape == (est.n_iter_, 2) == (len(est.loss_curve_), 2)
    assert np.isfinite(est.gradient_norms_).all()


def test_lbfgs_refuses_gradient_norms_and_keeps_the_fitted_model():
    X, y, sw = _data(np.float64, False)
    est = MLPClassifier(HIDDEN, solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    before = [c.copy() for c in est.coefs_]
    est.set_params(record_gradient_norms=True)
    with pytest.raises(ValueError, match="record_gradient_norms=True .* stochastic solver"):
        est.fit(X, y)
    for a, b in zip(before, est.coefs_):
        np.testing.assert_array_equal(a, b)


def test_plot_draws_one_log_scale_line_per_weight_matrix(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, sw = _data(np.float64, False)
    est = _fit(X, y, sw, LR, EPOCHS, record_gradient_norms=True)
    try:
        ax = plot_gradient_norms(est)
        assert ax.get_yscale() == "log"
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [
            "coefs_[0] (4 x 5)", "coefs_[1] (5 x 3)", "coefs_[2] (3 x 3)"]
        for layer, line in enumerate(lines):
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, EPOCHS + 1))
            np.testing.assert_array_equal(line.get_ydata(), est.gradient_norms_[:, layer])
        with pytest.raises(ValueError, match="record_gradient_norms=True"):
            plot_gradient_norms(_fit(X, y, sw, LR, 1))
    finally:
        plt.close("all")
