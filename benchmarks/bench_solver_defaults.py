"""Default hyper-parameters of every string solver against scikit-learn's default fit.

For each dataset (standardised features; targets as given), each string
solver of SGDClassifier/SGDRegressor at ``batch_size`` 1 and 32 with every
other parameter at its default, the held-out score (accuracy or R^2; 25% test
split) is averaged over ``--seeds`` seeds (split and ``random_state``) and
compared with ``sklearn.linear_model.SGDClassifier()``/``SGDRegressor()``
fitted on the same splits. Prints a Markdown table: the scikit-learn score
per dataset, then fastopt's score minus it per solver and batch size (the
target is >= -0.01). Scores, not timings: the machine's load does not matter.

    PYTHONPATH=. python benchmarks/bench_solver_defaults.py            # all, incl. 20k x 50
    PYTHONPATH=. python benchmarks/bench_solver_defaults.py --quick    # small datasets only
    PYTHONPATH=. python benchmarks/bench_solver_defaults.py --datasets digits --solvers adam
"""

import argparse
import time
import warnings

import numpy as np
from sklearn import linear_model as sk
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits,
                              make_classification, make_regression)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastopt import SGDClassifier, SGDRegressor
from fastopt.linear_model._sgd_training import STRING_SOLVERS


def datasets(quick):
    """name -> (X, y, is_classification)."""
    sets = {
        "breast_cancer": (*load_breast_cancer(return_X_y=True), True),
        "digits": (*load_digits(return_X_y=True), True),
        "diabetes": (*load_diabetes(return_X_y=True), False),
    }
    if not quick:
        sets["classif_20k_x_50"] = (*make_classification(20_000, 50, random_state=0), True)
        sets["regress_20k_x_50"] = (*make_regression(20_000, 50, noise=10.0, random_state=0),
                                    False)
    return sets


def split(X, y, seed):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def mean_score(make, X, y, seeds):
    scores = []
    for seed in seeds:
        X_tr, X_te, y_tr, y_te = split(X, y, seed)
        scores.append(make(seed).fit(X_tr, y_tr).score(X_te, y_te))
    return float(np.mean(scores))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small datasets only")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--solvers", nargs="*", default=sorted(STRING_SOLVERS))
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=[1, 32])
    parser.add_argument("--datasets", nargs="*", help="names of the datasets to run (all)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    seeds = range(args.seeds)
    sets = {name: data for name, data in datasets(args.quick).items()
            if not args.datasets or name in args.datasets}
    columns = [(s, b) for s in args.solvers for b in args.batch_sizes]
    print(f"- fastopt solver defaults vs scikit-learn defaults, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- mean held-out score over {args.seeds} seeds; cells: fastopt - scikit-learn "
          "(target >= -0.01)\n")
    print("| solver | batch | " + " | ".join(sets) + " |")
    print("|---|---|" + "---|" * len(sets))
    reference = {}
    for name, (X, y, is_clf) in sets.items():
        peer = sk.SGDClassifier if is_clf else sk.SGDRegressor
        reference[name] = mean_score(lambda seed: peer(random_state=seed), X, y, seeds)
    print("| scikit-learn | 1 | " + " | ".join(f"{reference[n]:.3f}" for n in sets) + " |")
    for solver, batch in columns:
        cells = []
        for name, (X, y, is_clf) in sets.items():
            ours = SGDClassifier if is_clf else SGDRegressor
            score = mean_score(
                lambda seed: ours(solver=solver, batch_size=batch, random_state=seed),
                X, y, seeds)
            cells.append(f"{score - reference[name]:+.3f}")
        print(f"| {solver} | {batch} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
