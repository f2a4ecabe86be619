"""Threads, processes and determinism.

* Two Python threads fitting different estimators at once get exactly the
  models of sequential fits.
* The compiled epochs release the GIL: while an epoch runs, another Python
  thread keeps making progress (checked by time bins covered by a counter
  thread during the compiled call -- a progress check, not a speed check).
* Forked children (after the parent ran OpenMP regions) and loky workers
  (GridSearchCV(n_jobs=2)) finish: run in a child interpreter with a timeout,
  so a deadlock fails the test instead of hanging the suite.
* The same random_state gives bit-identical models run after run, and with 1
  or 2 OpenMP threads.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.linear_model import _sgd_fast
from fastopt.neural_network import _base as _mlp_base
from fastopt.optim import Adam

# The fits here run a few epochs on purpose: the results, not convergence, are checked.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(0)


def _params(est):
    if hasattr(est, "coefs_"):
        return np.concatenate([p.ravel() for p in est.coefs_ + est.intercepts_])
    return np.concatenate([np.ravel(est.coef_), np.atleast_1d(est.intercept_)])


def _data(n, d, n_classes=4, dtype=np.float64):
    X = RNG.standard_normal((n, d)).astype(dtype)
    score = X[:, :3].sum(axis=1)
    return X, score, np.digitize(score, np.linspace(-1.5, 1.5, n_classes - 1))


X_T, YR_T, YC_T = _data(2000, 40)
PAIRS = {
    "sgd-multinomial+mlp-classifier": [
        (lambda: SGDClassifier(loss="log_loss", multi_class="multinomial", solver="adam",
                               batch_size=16, max_iter=5, tol=None, random_state=1), YC_T),
        (lambda: MLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=2), YC_T)],
    "sgd-regressor+mlp-regressor": [
        (lambda: SGDRegressor(max_iter=5, tol=None, random_state=3), YR_T),
        (lambda: MLPRegressor(hidden_layer_sizes=(32, 16), solver="sgd", max_iter=5,
                              random_state=4), YR_T)],
    "two-ovr-classifiers": [
        (lambda: SGDClassifier(max_iter=5, tol=None, random_state=5), YC_T),
        (lambda: SGDClassifier(loss="modified_huber", solver=Adam(lr=0.01), batch_size=8,
                               max_iter=5, tol=None, random_state=6), YC_T)],
}


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_two_threads_fitting_at_once_equal_sequential_fits(pair, sparse):
    X = sp.csr_matrix(np.where(np.abs(X_T) > 0.5, X_T, 0.0)) if sparse else X_T
    specs = PAIRS[pair]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequential = [_params(make().fit(X, y)) for make, y in specs]
        results, errors = [None, None], []
        barrier = threading.Barrier(2)

        def run(i):
            try:
                make, y = specs[i]
                est = make()
                barrier.wait()
                for _ in range(3):  # overlap several fits
                    results[i] = _params(est.fit(X, y))
            except BaseException as exc:  # reported in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors
    for seq, par in zip(sequential, results):
        np.testing.assert_array_equal(seq, par)


BIN = 0.02  # seconds


class _Probe:
    """Marks when a compiled epoch is running; a counter thread records the
    time bins in which it made progress during those epochs."""

    def __init__(self):
        self.inside = False
        self.windows = []
        self.hit = set()
        self.done = False

    def wrap(self, engine_class):
        probe = self

        class Timed(engine_class):
            def epoch(self, *args, **kwargs):
                start = time.perf_counter()
                probe.inside = True
                try:
                    return super().epoch(*args, **kwargs)
                finally:
                    probe.inside = False
                    probe.windows.append((start, time.perf_counter()))

        return Timed

    def count(self):
        while not self.done:
            if self.inside:
                self.hit.add(int(time.perf_counter() / BIN))

    def coverage(self):
        """Fraction of the whole bins inside compiled epochs with progress."""
        bins = {b for start, end in self.windows
                for b in range(int(start / BIN) + 1, int(end / BIN))}
        return len(bins & self.hit) / max(1, len(bins)), len(bins)


X_G, YR_G, YC_G = _data(150_000, 50)
GIL_CASES = {
    "sgd-plain-ovr": ("PlainSGD", lambda: SGDClassifier(max_iter=50, tol=None, n_jobs=1,
                                                        random_state=0), YC_G),
    # softmax over the 4 classes, one Adam step per sample: ~100-ms epochs
    "sgd-minibatch": ("MinibatchSGD", lambda: SGDClassifier(
        loss="log_loss", multi_class="multinomial", solver="adam", batch_size=1, max_iter=4,
        tol=None, random_state=0), YC_G),
    "mlp": ("MLPCore", lambda: MLPClassifier(hidden_layer_sizes=(64,), batch_size=32,
                                             max_iter=4, random_state=0), YC_G),
}


@pytest.mark.parametrize("case", GIL_CASES)
def test_compiled_epochs_release_the_gil(case, monkeypatch):
    engine, make, y = GIL_CASES[case]
    probe = _Probe()
    module = _mlp_base if engine == "MLPCore" else _sgd_fast
    monkeypatch.setattr(module, engine, probe.wrap(getattr(module, engine)))
    counter = threading.Thread(target=probe.count)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counter.start()
        try:
            make().fit(X_G, y)
        finally:
            probe.done = True
            counter.join()
    coverage, n_bins = probe.coverage()
    assert n_bins >= 3, "epochs too short to observe; enlarge the data"
    # Holding the GIL for an epoch would leave the counter no bin at all.
    assert coverage > 0.5, (f"another thread progressed in only {coverage:.0%} of {n_bins} "
                            f"{BIN * 1000:.0f}-ms bins during compiled epochs")


_PROCESS_CHILD = textwrap.dedent("""
    import json, multiprocessing, warnings
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from fastopt import MLPClassifier, SGDClassifier
    from fastopt.optim import Adam
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 400))
    y = np.digitize(X[:, :3].sum(1), [-1, 0, 1])

    def models():
        return [SGDClassifier(max_iter=5, tol=None, random_state=0),
                MLPClassifier(hidden_layer_sizes=(128,), max_iter=5, random_state=0)]

    def fit_all(_):
        return [m.fit(X, y).predict(X).tolist() for m in models()]

    # OpenMP regions in the parent: one-vs-rest classes in parallel threads,
    # and an Adam step over 400k parameters (split across threads).
    reference = fit_all(0)
    params = np.zeros(400_000)
    opt = Adam()
    state = opt.init(params)
    opt.step(params, np.ones_like(params), state)

    with multiprocessing.get_context("fork").Pool(2) as pool:
        forked = pool.map(fit_all, range(4))
    grid = {"alpha": [1e-4, 1e-2]}
    searches = []
    for est in models():
        serial = GridSearchCV(est, grid, cv=2).fit(X, y).cv_results_["mean_test_score"]
        loky = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y).cv_results_["mean_test_score"]
        searches.append(bool(np.array_equal(serial, loky)))
    print(json.dumps({"forked_equal": all(f == reference for f in forked),
                      "loky_equal": searches}))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method is POSIX only")
def test_fork_and_loky_workers_after_parent_openmp_finish_with_serial_results():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run([sys.executable, "-c", _PROCESS_CHILD], capture_output=True,
                              text=True, env=env, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("forked or loky workers deadlocked (no result within 240 s)")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["forked_equal"]
    assert all(report["loky_equal"])


X_D, YR_D, YC_D = _data(600, 4000, n_classes=10, dtype=np.float32)
X_D_CSR = sp.csr_matrix(np.where(np.abs(X_D) > 1.5, X_D, 0.0))
# Thread-count independence of every engine; the one-vs-rest problems run in
# OpenMP regions when 2 threads are allowed (optimizer steps split between
# threads only above 128k parameters: tests/test_optim_rules.py covers them).
DETERMINISM = {
    "sgd-ovr-plain": (lambda: SGDClassifier(max_iter=3, tol=None, random_state=0), YC_D),
    "sgd-multinomial-adam": (lambda: SGDClassifier(
        loss="log_loss", multi_class="multinomial", solver=Adam(clip_norm=1.0), batch_size=32,
        max_iter=3, tol=None, random_state=0), YC_D),
    "sgd-regressor-minibatch": (lambda: SGDRegressor(solver="nesterov", batch_size=8,
                                                     max_iter=3, tol=None,
                                                     random_state=0), YR_D),
    "mlp-classifier-adamw-dropout": (lambda: MLPClassifier(
        hidden_layer_sizes=(16,), solver="adamw", dropout=0.1, clip_norm=1.0, max_iter=3,
        random_state=0), YC_D),
    "mlp-regressor-sgd": (lambda: MLPRegressor(hidden_layer_sizes=(16,), solver="sgd",
                                               max_iter=3, random_state=0), YR_D),
}


@pytest.mark.parametrize("case", DETERMINISM)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_same_random_state_is_bit_identical_across_runs_and_openmp_thread_counts(case, sparse):
    make, y = DETERMINISM[case]
    X = X_D_CSR if sparse else X_D
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n_threads in (1, 2, 2, 1):
            with threadpool_limits(n_threads, user_api="openmp"):
                runs.append(_params(make().fit(X, y)))
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)
