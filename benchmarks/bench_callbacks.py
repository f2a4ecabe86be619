"""Per-epoch cost of the callback machinery: none without callbacks.

An MLP 64-128-10 (Adam, batch 32, float64, one thread) is fitted for a few
epochs with no callback, with a do-nothing ``FitCallback`` and with one that
asks for the model after every epoch (``fitted_estimator``), interleaved with
scikit-learn's MLPClassifier on the same data; medians of the per-epoch
times. A micro-benchmark times the per-epoch calls a fit makes without
callbacks (``begin_epoch`` + ``end_epoch``).

    python benchmarks/bench_callbacks.py [--rows 20000] [--epochs 5] [--repeats 5]
"""

import argparse
import time
import timeit
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

from fastopt import MLPClassifier
from fastopt._callbacks import EpochTasks


class NoOp:
    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


class WantsModel(NoOp):
    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        return False


def _epoch_time(make, X, y, epochs):
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, 64))
    y = rng.integers(0, 10, args.rows)
    kw = dict(hidden_layer_sizes=(128,), batch_size=32, max_iter=args.epochs, tol=0.0,
              n_iter_no_change=args.epochs, random_state=0)
    sides = {
        "fastopt, no callbacks": lambda: MLPClassifier(**kw),
        "fastopt, do-nothing callback": lambda: MLPClassifier(**kw).set_callbacks(NoOp()),
        "fastopt, callback asking for the model": lambda: MLPClassifier(**kw).set_callbacks(
            WantsModel()),
        "scikit-learn": lambda: SkMLPClassifier(**kw),
    }
    times = {name: [] for name in sides}
    with threadpool_limits(1):
        for _ in range(args.repeats):
            for name, make in sides.items():
                times[name].append(_epoch_time(make, X, y, args.epochs))
    print(f"MLP 64-128-10, {args.rows} rows, batch 32, Adam, float64, 1 thread; "
          f"median of {args.repeats} fits x {args.epochs} epochs")
    base = np.median(times["fastopt, no callbacks"])
    for name, values in times.items():
        median = np.median(values)
        print(f"  {name:<40} {median * 1e3:9.2f} ms/epoch  ({median / base:5.2f}x)")

    tasks = EpochTasks(MLPClassifier(), 10**9, X, y, None)
    n = 100_000
    per_epoch = timeit.timeit(lambda: (tasks.begin_epoch(), tasks.end_epoch(dict)),
                              number=n) / n
    print(f"  per-epoch bookkeeping without callbacks: {per_epoch * 1e9:.0f} ns "
          f"({per_epoch / base * 100:.4f}% of an epoch)")


if __name__ == "__main__":
    main()
