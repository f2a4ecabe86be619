"""Resources: no leak over many fits, no hidden copy of the input, Ctrl-C works.

* Leak: 500 fit/predict cycles per estimator after a warm-up; the resident set
  size (``/proc/self/statm``) may not grow by more than a few MB.
* Copies: a fit on a 200k x 50 float32 C-contiguous X (40 MB) must not copy or
  upcast it; the peak of Python-visible allocations (tracemalloc, which numpy
  reports to) during the fit stays far below the size of X.
* Interrupt: a child process runs a long fit, receives SIGINT after ~1 s and
  must raise KeyboardInterrupt promptly, with the previously fitted model
  intact. The latency is printed (``-s``) for docs/reliability.md; the bound
  asserted is generous (a hang, not a speed, is what fails the test).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.optim import Adam

# The fits here run a few epochs on purpose: the results, not convergence, are checked.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


SMALL = np.random.default_rng(0).standard_normal((64, 6))
SMALL_Y = SMALL @ np.arange(6.0)
SMALL_C = (SMALL_Y > 0).astype(int) + (SMALL[:, 0] > 1)

LEAK_CASES = {
    "SGDRegressor": (lambda: SGDRegressor(max_iter=3, tol=None, random_state=0), SMALL_Y),
    "SGDClassifier-minibatch-csr": (lambda: SGDClassifier(
        loss="log_loss", multi_class="multinomial", solver=Adam(lr=0.01), batch_size=8,
        max_iter=3, tol=None, random_state=0), SMALL_C),
    "MLPRegressor": (lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=3,
                                          random_state=0), SMALL_Y),
    "MLPClassifier-csr": (lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=3,
                                                random_state=0), SMALL_C),
}
CYCLES = 500


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.parametrize("name", LEAK_CASES)
def test_500_fit_predict_cycles_keep_rss_flat(name):
    make, y = LEAK_CASES[name]
    X = sp.csr_matrix(SMALL) if name.endswith("csr") else SMALL

    def cycle():
        est = make().fit(X, y)
        est.predict(X)
        if hasattr(est, "partial_fit"):
            est.partial_fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(50):  # warm-up: allocator pools, lazy imports, caches
            cycle()
        start = _rss_bytes()
        for _ in range(CYCLES):
            cycle()
        growth = _rss_bytes() - start
    assert growth < 4 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over {CYCLES} cycles"


BIG_N, BIG_D = 200_000, 50


@pytest.fixture(scope="module")
def big_float32():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((BIG_N, BIG_D), dtype=np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.float32)
    return X, y


COPY_CASES = {
    "SGDRegressor-sgd": lambda: SGDRegressor(max_iter=1, tol=None, random_state=0),
    "SGDRegressor-adam-minibatch": lambda: SGDRegressor(solver="adam", batch_size=64,
                                                        max_iter=1, tol=None, random_state=0),
    "SGDClassifier-sgd": lambda: SGDClassifier(max_iter=1, tol=None, random_state=0),
    "SGDClassifier-multinomial": lambda: SGDClassifier(
        loss="log_loss", multi_class="multinomial", solver="adam", batch_size=64, max_iter=1,
        tol=None, random_state=0),
    "MLPRegressor": lambda: MLPRegressor(hidden_layer_sizes=(16,), max_iter=1, random_state=0),
    "MLPClassifier": lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=1,
                                           random_state=0),
}


@pytest.mark.parametrize("name", COPY_CASES)
def test_float32_input_is_neither_copied_nor_upcast(name, big_float32):
    X, y = big_float32
    if "Classifier" in name:
        y = y.astype(int) + (X[:, 2] > 1)  # three classes
    est = COPY_CASES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    coefs = est.coefs_ if hasattr(est, "coefs_") else [est.coef_]
    assert all(c.dtype == np.float32 for c in coefs), "float32 input was trained in float64"
    # Per-sample vectors (targets, weights, the shuffle index, a validation mask)
    # are allowed; anything of the size of X is not.
    assert peak < X.nbytes / 3, (f"peak traced {peak / 2**20:.1f} MiB for X of "
                                 f"{X.nbytes / 2**20:.1f} MiB: X was copied")


_INTERRUPT_CHILD = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    from fastopt import MLPClassifier, SGDClassifier, SGDRegressor
    warnings.simplefilter("ignore")
    kind = sys.argv[1]
    rng = np.random.default_rng(0)
    n = int(sys.argv[2])
    X = rng.standard_normal((n, 40))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    if kind == "sgd":
        make = lambda it: SGDClassifier(max_iter=it, tol=None, random_state=0)
    elif kind == "sgd-minibatch":
        make = lambda it: SGDRegressor(solver="adam", batch_size=32, max_iter=it, tol=None,
                                       random_state=0)
    else:
        make = lambda it: MLPClassifier(hidden_layer_sizes=(64,), max_iter=it, tol=0,
                                        n_iter_no_change=10**9, random_state=0)
    est = make(2).fit(X[:200], y[:200])
    before = est.predict(X[:200])
    est.set_params(max_iter=10**6, **({"tol": None} if kind != "mlp" else {}))
    print("ready", flush=True)
    try:
        est.fit(X, y)
    except KeyboardInterrupt:
        caught = time.time()
        same = bool((est.predict(X[:200]) == before).all())
        print(json.dumps({"caught": caught, "model_intact": same}), flush=True)
        sys.exit(3)
    sys.exit(0)
""")


def _interrupt_child(code, args, timeout):
    """Run ``code`` in a child, SIGINT it ~1 s after it prints 'ready'.

    Returns (exit code, stdout, stderr, time the signal was sent).
    """
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", code, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(1.0)
        sent = time.time()
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err, sent


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("kind,n", [("sgd", 200_000), ("sgd-minibatch", 200_000),
                                    ("mlp", 100_000)])
def test_sigint_interrupts_a_long_fit_and_keeps_the_previous_model(kind, n):
    returncode, out, err, sent = _interrupt_child(_INTERRUPT_CHILD, [kind, str(n)], 30)
    assert returncode == 3, f"exit {returncode}; stderr: {err[-2000:]}"
    report = json.loads(out.strip().splitlines()[-1])
    assert report["model_intact"], "the interrupted fit modified the fitted model"
    latency = report["caught"] - sent
    assert latency < 20.0, f"KeyboardInterrupt {latency:.1f} s after SIGINT ({kind}, n={n})"


_MID_EPOCH_CHILD = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    from fastopt import MLPClassifier, SGDClassifier
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    if sys.argv[1] == "mlp":
        X = rng.standard_normal((100_000, 256), dtype=np.float32)
        y = (X[:, 0] > 0).astype(int)
        est = MLPClassifier(hidden_layer_sizes=(1024, 1024), max_iter=3, verbose=True)
    else:
        X = rng.standard_normal((400_000, 200), dtype=np.float32)
        y = rng.integers(0, 200, len(X))
        est = SGDClassifier(loss="log_loss", solver="adam", batch_size=1,
                            multi_class="multinomial", max_iter=3, tol=None, verbose=1)
    print("ready", flush=True)
    try:
        est.fit(X, y)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("kind", ["mlp", "sgd-minibatch"])
def test_sigint_interrupts_inside_an_epoch_not_at_its_end(kind):
    # Each epoch here is many seconds of compiled work (about 1 TFLOP for the
    # network, 400k Adam steps over 40k parameters for the classifier): the
    # interrupt must arrive before the first epoch reports its loss.
    returncode, out, err, _ = _interrupt_child(_MID_EPOCH_CHILD, [kind], 60)
    assert returncode == 3, f"exit {returncode}; stderr: {err[-2000:]}"
    assert out.strip().splitlines()[-1] == "interrupted"
    finished_epochs = [line for line in out.splitlines()
                       if line.startswith("Iteration") or "Objective" in line]
    assert finished_epochs == [], f"the interrupt waited for the epoch to end: {out}"
