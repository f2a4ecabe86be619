"""The README's first example, timed: fastopt's MLPClassifier against scikit-learn's.

Fits the README's pipeline (StandardScaler, then MLPClassifier(hidden_layer_sizes=(64,),
random_state=0) with every other parameter at its default: Adam, batch 200, up to 200
epochs with the default stopping rule) on scikit-learn's digits data, once with each
library's MLPClassifier, interleaved, and prints the median fit time, the ratio, the
epochs each fit ran (the two libraries shuffle with different generators, so the
stopping rule may end them at different epochs; the per-epoch ratio is printed too)
and the test accuracy. float64, as the digits data load; threads limited with
threadpoolctl (default 1).

Usage::

    PYTHONPATH=. python benchmarks/bench_readme.py            # 7 repeats
    PYTHONPATH=. python benchmarks/bench_readme.py --quick    # 3 repeats
"""

import argparse
import os
import statistics
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastopt import MLPClassifier

LIBRARIES = {"fastopt": MLPClassifier, "scikit-learn": SkMLPClassifier}


def readme_model(cls):
    """The README example's pipeline with ``cls`` as the MLPClassifier."""
    return make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(64,), random_state=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    times = {name: [] for name in LIBRARIES}
    fitted = {}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with threadpool_limits(args.threads):
        for _ in range(repeats):
            for name, cls in LIBRARIES.items():  # interleaved
                model = readme_model(cls)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                times[name].append(time.perf_counter() - start)
                fitted[name] = model
    print(f"README example: digits {X_train.shape[0]} train rows, float64, {args.threads} "
          f"thread(s), median of {repeats} interleaved fits; load average at start {load}")
    print(f"{'library':<13} {'fit s':>7} {'epochs':>6} {'s/epoch':>8} {'test acc':>8}")
    per_epoch = {}
    for name, model in fitted.items():
        fit = statistics.median(times[name])
        epochs = model[-1].n_iter_
        per_epoch[name] = fit / epochs
        print(f"{name:<13} {fit:>7.3f} {epochs:>6} {per_epoch[name]:>8.4f} "
              f"{model.score(X_test, y_test):>8.3f}")
    fit_ratio = statistics.median(times["scikit-learn"]) / statistics.median(times["fastopt"])
    print(f"speed-up (scikit-learn / fastopt): whole fit {fit_ratio:.1f}x, per epoch "
          f"{per_epoch['scikit-learn'] / per_epoch['fastopt']:.1f}x")
    print("all fit times (s): " + "; ".join(
        f"{name} " + ", ".join(f"{t:.3f}" for t in ts) for name, ts in times.items()))


if __name__ == "__main__":
    main()
