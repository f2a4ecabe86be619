"""Threads: fastopt on 1 thread against all threads, quiet and under load.

For every configuration, the same work (training epochs, or optimizer steps)
runs on one thread and on all of fastopt's threads
(``threadpool_limits(user_api="openmp")``), interleaved (1, all, 1, all,
...), and the table reports the medians and ``speed-up = time(1 thread) /
time(all threads)``. Each configuration runs quiet and then with one and two
busy-loop competitor processes (pure-Python ``while True`` loops started and
always stopped by this script, Ctrl-C included), which hold the cores the way
other programs on a shared machine do.

Before the table the script measures what the machine gives to two
processes: the same pure-Python loop run alone and then as two processes at
once (``host throughput`` = 2 x time alone / time of the pair; 2.0 on two
free cores, 1.0 when the machine behaves as one core). A speed-up above that
figure cannot be expected, and the ratios of two runs of identical code (a
configuration with no parallel job) show the noise of the host.

Targets (issue 13, 2-core machine): quiet, >= 1.6x for the MLPs at batch >=
128 and >= 1.5x for minibatch SGD at batch 256; with competitors, never below
0.9x (all threads never more than ~10% slower than one thread).

Usage::

    python benchmarks/bench_threads.py                       # everything (~10 min)
    python benchmarks/bench_threads.py --config mlp64-b128 --load 0 2
    python benchmarks/bench_threads.py --list
    python benchmarks/bench_threads.py --quick               # smaller data, 3 repeats
"""

import argparse
import atexit
import signal
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from fastopt import linear_model, neural_network, optim
from fastopt._openmp import max_threads, pool_stats

_competitors = []


def start_competitors(n):
    """Start ``n`` busy-loop processes (stopped by stop_competitors, at exit too)."""
    for _ in range(n):
        _competitors.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
    time.sleep(0.3)  # let them reach the loop


def host_throughput(repeats=3, loops=5_000_000):
    """Median of ``2 * t(one process) / t(two processes at once)`` over ``repeats``."""
    code = f"for i in range({loops}): pass"

    def wall(n):
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - t0

    return statistics.median(2 * wall(1) / wall(2) for _ in range(repeats))


def stop_competitors():
    while _competitors:
        proc = _competitors.pop()
        proc.kill()
        proc.wait()


def _on_signal(signum, frame):
    stop_competitors()
    raise KeyboardInterrupt


# ----------------------------------------------------------- configurations
# Each builder returns (unit, run): run() does the work once and returns the
# number of units it timed (seconds are divided by it).

def _mlp(n_features, hidden, batch, dtype, n_train):
    X, y = make_classification(n_train, n_features, n_informative=n_features // 2,
                               n_classes=10, n_clusters_per_class=1, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(dtype)
    epochs = 2

    def run():
        est = neural_network.MLPClassifier(
            hidden_layer_sizes=hidden, batch_size=batch, max_iter=epochs, tol=0.0,
            n_iter_no_change=10**9, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        return epochs
    return "s/epoch", run


def _sgd_adam(sparse, batch, n_train, n_classes=2):
    rng = np.random.default_rng(0)
    if sparse:
        # 40 non-zeros per row (0.2% of 20000 columns); sp.random's sampling without
        # replacement over all n_train * 20000 cells takes minutes at this size
        per_row = 40
        indices = np.sort(rng.integers(0, 20000, (n_train, per_row)), axis=1).ravel()
        X = sp.csr_matrix((rng.standard_normal(n_train * per_row), indices,
                           np.arange(0, n_train * per_row + 1, per_row)), shape=(n_train, 20000))
        X.sum_duplicates()
        w = rng.standard_normal((20000, n_classes))
    else:
        X = rng.standard_normal((n_train, 200))
        w = rng.standard_normal((200, n_classes))
    y = np.asarray(X @ w).argmax(1)

    def run():
        est = linear_model.SGDClassifier(solver="adam", batch_size=batch, max_iter=1,
                                         tol=None, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        return 1
    return "s/epoch", run


def _sgd_default_digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            linear_model.SGDClassifier(random_state=0).fit(X, y)
        return 1
    return "s/fit", run


def _sgd_default_text(n_train):
    # 20-newsgroups-shaped tf-idf: 11k rows, 2^18 features, ~150 stored values a row
    # (built row by row: sp.random samples positions among all n_train * 2^18 cells,
    # which allocates tens of GB at this shape)
    rng = np.random.default_rng(0)
    per_row = 150
    indices = np.concatenate([np.sort(rng.choice(2**18, per_row, replace=False))
                              for _ in range(n_train)])
    data = rng.random(n_train * per_row)
    X = sp.csr_matrix((data, indices, np.arange(0, n_train * per_row + 1, per_row)),
                      shape=(n_train, 2**18))
    X = sp.csr_matrix(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(1))))
    y = rng.integers(0, 5, n_train)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            linear_model.SGDClassifier(max_iter=5, tol=None, random_state=0).fit(X, y)
        return 5
    return "s/epoch", run


def _adamw_step(n=1_000_000, steps=200):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    opt = optim.AdamW(lr=1e-4)
    state = opt.init(p)

    def run():
        for _ in range(steps):
            opt.step(p, g, state)
        return steps
    return "s/step", run


def configs(quick):
    scale = 4 if quick else 1
    return {
        "mlp64-b32": lambda: _mlp(64, (128,), 32, np.float64, 20000 // scale),
        "mlp64-b128": lambda: _mlp(64, (128,), 128, np.float64, 20000 // scale),
        "mlp64-b256": lambda: _mlp(64, (128,), 256, np.float64, 20000 // scale),
        "mlp784-b128-f32": lambda: _mlp(784, (256, 128), 128, np.float32, 8000 // scale),
        "sgd-adam-dense-b64": lambda: _sgd_adam(False, 64, 100_000 // scale),
        "sgd-adam-dense-b256": lambda: _sgd_adam(False, 256, 100_000 // scale),
        "sgd-adam-csr-b64": lambda: _sgd_adam(True, 64, 100_000 // scale),
        "sgd-adam-csr-b256": lambda: _sgd_adam(True, 256, 100_000 // scale),
        "sgd-default-digits": _sgd_default_digits,
        "sgd-default-text": lambda: _sgd_default_text(11314 // scale),
        "adamw-1M-step": _adamw_step,
    }


def measure(run, threads, repeats):
    """Interleaved medians: {thread count: median seconds per unit}."""
    times = {t: [] for t in threads}
    for t in threads:  # warm-up (pool start, caches)
        with threadpool_limits(limits=t, user_api="openmp"):
            run()
    for r in range(repeats):
        for t in (threads if r % 2 == 0 else threads[::-1]):
            with threadpool_limits(limits=t, user_api="openmp"):
                t0 = time.perf_counter()
                units = run()
                times[t].append((time.perf_counter() - t0) / units)
    return {t: statistics.median(v) for t, v in times.items()}


def main():
    all_configs = configs(False)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", nargs="+", choices=sorted(all_configs),
                        default=list(all_configs), help="configurations to run")
    parser.add_argument("--load", nargs="+", type=int, default=[0, 1, 2],
                        help="numbers of busy competitor processes (default: 0 1 2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller data, 3 repeats")
    parser.add_argument("--list", action="store_true", help="list the configurations")
    args = parser.parse_args()
    if args.list:
        print("\n".join(all_configs))
        return
    repeats = 3 if args.quick else args.repeats
    chosen = configs(args.quick)
    n_all = max_threads()
    threads = [1, n_all] if n_all > 1 else [1]
    signal.signal(signal.SIGTERM, _on_signal)
    atexit.register(stop_competitors)
    if n_all > 1:
        print(f"host throughput of two processes: {host_throughput():.2f} x one process")
    print(f"fastopt threads: 1 vs {n_all}; medians of {repeats} interleaved runs; "
          f"speed-up = time(1 thread) / time({n_all} threads)")
    print(f"{'configuration':<22}{'competitors':>12}{'unit':>9}{'1 thread':>11}"
          f"{f'{n_all} threads':>11}{'speed-up':>10}{'stalls':>8}")
    try:
        for name in args.config:
            unit, run = chosen[name]()
            for load in args.load:
                start_competitors(load)
                try:
                    before = pool_stats()["stalls"]
                    med = measure(run, threads, repeats)
                    stalls = pool_stats()["stalls"] - before
                finally:
                    stop_competitors()
                t1, tn = med[1], med[threads[-1]]
                print(f"{name:<22}{load:>12}{unit:>9}{t1 * 1e3:>9.3f}ms{tn * 1e3:>9.3f}ms"
                      f"{t1 / tn:>9.2f}x{stalls:>8}", flush=True)
    finally:
        stop_competitors()


if __name__ == "__main__":
    main()
