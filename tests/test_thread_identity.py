"""Results never depend on the thread count (fastopt._openmp's worker pool).

Every estimator and solver path that runs parallel jobs is fitted with 1, 2,
3 and 4 threads (``threadpool_limits(user_api="openmp")``, 4 oversubscribes a
2-core machine on purpose) and the fitted parameters must be bit-identical.
Each case is sized so that the cost model hands its jobs to the pool with
several threads; the test checks that it did (``pool_stats()["jobs"]``), so
a comparison can never pass by running serially everywhere.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from fastopt._openmp import openmp_enabled, pool_stats
from fastopt.linear_model import SGDClassifier, SGDRegressor
from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.optim import AdamW

pytestmark = pytest.mark.skipif(not openmp_enabled(), reason="built without OpenMP")

THREADS = (1, 2, 3, 4)


def _data(n, d, dtype, n_classes=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    w = rng.standard_normal((d, n_classes))
    y = (X @ w).argmax(1)
    return X, y, (X @ w[:, 0]).astype(dtype)


X32, YC32, YR32 = _data(400, 100, np.float32)
X64, YC64, YR64 = _data(400, 100, np.float64)
X_CSR = sp.csr_matrix(np.where(np.abs(X64) > 1.0, X64, 0.0))


def _mlp_params(est):
    names = ("coefs_", "intercepts_", "batch_norm_weights_", "batch_norm_biases_",
             "batch_norm_running_means_", "batch_norm_running_vars_")
    return np.concatenate([a.ravel() for name in names for a in getattr(est, name, [])])


def _linear_params(est):
    return np.concatenate([est.coef_.ravel(), np.ravel(est.intercept_)])


def _fit(make, X, y, get):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make().fit(X, y)
    return get(est)


CASES = {
    # scikit-learn's Adam fused with the L2 penalty, float32, parameter chunks in parallel
    "mlp-adam-f32": (lambda: MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=128, max_iter=2, alpha=1e-3,
                                           random_state=0), X32, YC32, _mlp_params),
    # other rule (rule_apply + penalty job), tanh, dropout masks, float64
    "mlp-adamw-dropout-f64": (lambda: MLPRegressor(
        hidden_layer_sizes=(128, 64), activation="tanh", solver="adamw", dropout=0.2, clip_norm=1.0,
        batch_size=100, max_iter=2, random_state=0), X64, YR64, _mlp_params),
    # CSR first layer: column blocks of the input-layer gradient
    "mlp-csr-sgd": (lambda: MLPClassifier(hidden_layer_sizes=(128,), solver="sgd", batch_size=128, max_iter=2,
                                          random_state=0), X_CSR, YC64, _mlp_params),
    # batch norm: per-layer rows jobs and column jobs of the statistics, sample weights
    "mlp-batch-norm-f64": (lambda: MLPClassifier(hidden_layer_sizes=(256, 128), batch_norm=True,
                                                 batch_size=133, max_iter=2, random_state=0),
                           X64, YC64, _mlp_params),
    # full-batch loss and gradient (L-BFGS)
    "mlp-lbfgs": (lambda: MLPClassifier(hidden_layer_sizes=(128,), solver="lbfgs", max_iter=5, random_state=0),
                  X64, YC64, _mlp_params),
    # dense minibatch SGD: several row blocks whose partial gradients are added in order
    "sgd-adam-dense": (lambda: SGDClassifier(solver="adam", batch_size=256, max_iter=2,
                                             tol=None, random_state=0), np.tile(X64, (1, 4)), YC64,
                       _linear_params),
    "sgd-regressor-dense-f32": (lambda: SGDRegressor(solver="nesterov", batch_size=400,
                                                     max_iter=2, tol=None, random_state=0),
                                np.tile(X32, (1, 8)), YR32, _linear_params),
    # scikit-learn's per-sample SGD, one-vs-rest problems split over threads
    "sgd-plain-ovr": (lambda: SGDClassifier(max_iter=3, tol=None, random_state=0),
                      np.tile(X64, (4, 1)), np.tile(YC64, 4), _linear_params),
}


@pytest.mark.parametrize("case", CASES)
def test_fit_is_bit_identical_on_1_2_3_and_4_threads(case):
    make, X, y, get = CASES[case]
    results = {}
    for n_threads in THREADS:
        before = pool_stats()["jobs"]
        with threadpool_limits(n_threads, user_api="openmp"):
            results[n_threads] = _fit(make, X, y, get)
        if n_threads > 1:
            assert pool_stats()["jobs"] > before, "no job was handed to the pool"
    for n_threads in THREADS[1:]:
        np.testing.assert_array_equal(results[1], results[n_threads])


def test_784_256_128_10_float32_predicts_identically_on_1_and_2_threads():
    # the case: products of this size used to go to multi-threaded BLAS,
    # so both OpenMP's and BLAS's thread counts change here
    X, y, _ = _data(512, 784, np.float32, n_classes=10, seed=1)
    probas = []
    for n_threads in (1, 2):
        with threadpool_limits(n_threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=128, max_iter=1, random_state=0)
            probas.append(est.fit(X, y).predict_proba(X))
    np.testing.assert_array_equal(probas[0], probas[1])


def test_optimizer_step_with_global_norm_clipping_is_bit_identical_across_threads():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(300_000).astype(np.float32)
    grads = [rng.standard_normal(p0.size).astype(np.float32) for _ in range(3)]
    results = []
    for n_threads in THREADS:
        p = p0.copy()
        opt = AdamW(lr=1e-2, clip_norm=1.0)
        state = opt.init(p)
        before = pool_stats()["jobs"]
        with threadpool_limits(n_threads, user_api="openmp"):
            for g in grads:
                opt.step(p, g, state)
        if n_threads > 1:
            assert pool_stats()["jobs"] > before
        results.append(p)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
