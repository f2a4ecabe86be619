"""Is lr_find's suggestion useful? Accuracy of training at it against a grid of rates.

For each (dataset, estimator): run ``fastopt.lr_find`` on the standardized training
split, train at the suggested rate, and train at every rate of a 9-point log grid
(1e-4 .. 1e0); print the held-out score (accuracy, R^2 for regression) at the
suggestion, the best grid rate and its score, and their difference (best grid score
minus score at the suggestion: <= 0.03 is issue 11's target). A rate that diverges
scores -inf. The datasets: scikit-learn's digits and breast cancer, and a synthetic
``make_regression`` with a standardized target. Training runs at a constant rate
(MLPs: ``learning_rate_init``; SGD estimators: ``learning_rate='constant'``, ``eta0``)
for a fixed small number of epochs, with fixed random states. Accuracy only: nothing
here is timed.

Usage::

    PYTHONPATH=. python benchmarks/bench_lr_find.py
    PYTHONPATH=. python benchmarks/bench_lr_find.py --seeds 0 1 2   # one row per seed
"""

import argparse
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor, lr_find

GRID = np.logspace(-4, 0, 9)


def _regression():
    X, y = make_regression(n_samples=1000, n_features=20, n_informative=10, noise=10.0,
                           random_state=0)
    return X, (y - y.mean()) / y.std()


DATASETS = {
    "digits": lambda: load_digits(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "regression": _regression,
}

CASES = [
    ("digits", MLPClassifier(hidden_layer_sizes=(64,), max_iter=30)),
    ("digits", MLPClassifier(hidden_layer_sizes=(64,), solver="sgd", max_iter=30)),
    ("digits", SGDClassifier(loss="log_loss", solver="adam", batch_size=32, max_iter=20,
                             tol=None)),
    ("breast_cancer", MLPClassifier(hidden_layer_sizes=(32,), max_iter=30)),
    ("breast_cancer", SGDClassifier(loss="log_loss", solver="adam", batch_size=32,
                                    max_iter=20, tol=None)),
    ("regression", MLPRegressor(hidden_layer_sizes=(32,), max_iter=30)),
    ("regression", SGDRegressor(solver="momentum", batch_size=32, max_iter=20, tol=None)),
    ("regression", SGDRegressor(solver="adam", batch_size=32, max_iter=20, tol=None)),
]


def at_rate(est, lr):
    """A clone of ``est`` that trains at the constant rate ``lr``."""
    if isinstance(est, (SGDClassifier, SGDRegressor)):
        return clone(est).set_params(learning_rate="constant", eta0=lr)
    return clone(est).set_params(learning_rate="constant", learning_rate_init=lr)


def held_out_score(est, lr, split):
    X_train, X_test, y_train, y_test = split
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return at_rate(est, lr).fit(X_train, y_train).score(X_test, y_test)
    except ValueError:  # diverged
        return -np.inf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="estimator random states (default: 0)")
    args = parser.parse_args(argv)
    splits = {}
    for name, load in DATASETS.items():
        X, y = load()
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        splits[name] = (scaler.transform(X_train), scaler.transform(X_test), y_train, y_test)
    header = (f"{'dataset':<14} {'estimator':<24} {'seed':>4} {'steps':>5} {'suggestion':>10} "
              f"{'score@sugg':>10} {'best grid lr':>12} {'best score':>10} {'difference':>10}")
    print(header)
    print("-" * len(header))
    differences = []
    for name, est in CASES:
        label = f"{type(est).__name__}({est.solver})"
        for seed in args.seeds:
            est = clone(est).set_params(random_state=seed)
            split = splits[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                result = lr_find(est, split[0], split[2])
            scores = [held_out_score(est, lr, split) for lr in GRID]
            best = int(np.argmax(scores))
            at_suggestion = held_out_score(est, result.suggestion, split)
            difference = scores[best] - at_suggestion
            differences.append(difference)
            print(f"{name:<14} {label:<24} {seed:>4} {len(result.lrs):>5} "
                  f"{result.suggestion:>10.3g} {at_suggestion:>10.3f} {GRID[best]:>12.0e} "
                  f"{scores[best]:>10.3f} {difference:>10.3f}", flush=True)
    print(f"\nworst difference {max(differences):.3f} (target <= 0.03); grid "
          f"{GRID[0]:g}..{GRID[-1]:g}, 9 rates")


if __name__ == "__main__":
    main()
