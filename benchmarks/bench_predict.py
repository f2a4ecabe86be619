"""fastopt vs scikit-learn: prediction latency of fitted estimators.

Single-row and small-batch ``predict``/``predict_proba``/``decision_function``
(where input checking and dispatch dominate) and a batch of 1000 rows (where
the arithmetic does), on both sides in the same process, interleaved: each
repetition times every workload for fastopt then for scikit-learn, and the
table reports the median time per call over ``--repeats`` repetitions, on one
thread (BLAS and OpenMP), for float64 and float32 input.

Models: MLPClassifier 64-64-64-10 (64 features, two hidden layers of 64, 10
classes), SGDClassifier (64 features, 10 classes one-vs-rest, and binary),
SGDRegressor (64 features), fitted on the same standardised data.

Online learning: ``partial_fit`` on a batch of 32 rows, for the models above
and an MLPRegressor 64-64-64-1. Each side starts from a model made by one
``partial_fit`` call (with ``classes=``) on the same first 32 rows, outside the
timed region; the timed calls then feed both sides the next 32 rows again and
again (the second and later calls, the online-learning steady state).

    PYTHONPATH=. python benchmarks/bench_predict.py                # ~2 minutes when quiet
    PYTHONPATH=. python benchmarks/bench_predict.py --repeats 15   # steadier medians
    PYTHONPATH=. python benchmarks/bench_predict.py --rows 1000    # the 1000-row batches only

To compare with another checkout (the batch-of-1000 rows against the code
before the lean path), run the same command with that checkout's PYTHONPATH
(this script, the other checkout's ``fastopt``):
the scikit-learn column of each run normalises for the machine's load.
"""

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn import linear_model as sk_linear
from sklearn import neural_network as sk_nn
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import fastopt


def _models(dtype):
    X, y = make_classification(2000, 64, n_informative=32, n_classes=10, random_state=0)
    X = StandardScaler().fit_transform(X).astype(dtype)
    Xr, yr = make_regression(2000, 64, random_state=0)
    Xr = Xr.astype(dtype)
    yb = (y > 4).astype(int)
    pairs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, fo, sk, data in [
            ("MLPClassifier 64-64-10", fastopt.MLPClassifier, sk_nn.MLPClassifier,
             (X, y, dict(hidden_layer_sizes=(64, 64), max_iter=20))),
            ("SGDClassifier 10 classes", fastopt.SGDClassifier, sk_linear.SGDClassifier,
             (X, y, dict(max_iter=5))),
            ("SGDClassifier binary", fastopt.SGDClassifier, sk_linear.SGDClassifier,
             (X, yb, dict(max_iter=5))),
            ("SGDRegressor", fastopt.SGDRegressor, sk_linear.SGDRegressor,
             (Xr, yr / yr.std(), dict(max_iter=5))),
        ]:
            X_fit, y_fit, kwargs = data
            pairs[name] = (fo(random_state=0, **kwargs).fit(X_fit, y_fit),
                           sk(random_state=0, **kwargs).fit(X_fit, y_fit), X_fit)
    return pairs


def _workloads(pairs):
    """(label, fastopt call, scikit-learn call, calls per timing)."""
    out = []
    for name, (fo, sk, X) in pairs.items():
        methods = ["predict_proba", "predict"] if name.startswith("MLP") else (
            ["predict", "decision_function"] if "Classifier" in name else ["predict"])
        for rows, calls in [(1, 2000), (32, 500), (1000, 20)]:
            for method in methods:
                if rows == 1000 and method == "decision_function":
                    continue
                Xs = np.ascontiguousarray(X[:rows])
                out.append((f"{name} {method}, {rows} row{'s' * (rows > 1)}",
                            getattr(fo, method), getattr(sk, method), Xs, calls))
    return out


def _online_workloads(dtype):
    """(label, fastopt call, scikit-learn call, X, calls per timing) of 32-row partial_fit."""
    X, y = make_classification(2000, 64, n_informative=32, n_classes=10, random_state=0)
    X = StandardScaler().fit_transform(X).astype(dtype)
    yr = (X @ np.random.default_rng(0).normal(size=64) / 8).astype(dtype)
    mlp = dict(hidden_layer_sizes=(64, 64))
    out = []
    for name, fo, sk, kwargs, targets, classes in [
        ("MLPClassifier 64-64-10", fastopt.MLPClassifier, sk_nn.MLPClassifier, mlp, y,
         np.unique(y)),
        ("MLPRegressor 64-64-1", fastopt.MLPRegressor, sk_nn.MLPRegressor, mlp, yr, None),
        ("SGDClassifier 10 classes", fastopt.SGDClassifier, sk_linear.SGDClassifier, {}, y,
         np.unique(y)),
        ("SGDClassifier binary", fastopt.SGDClassifier, sk_linear.SGDClassifier, {},
         (y > 4).astype(int), np.arange(2)),
        ("SGDRegressor", fastopt.SGDRegressor, sk_linear.SGDRegressor, {}, yr, None),
    ]:
        first = {} if classes is None else {"classes": classes}
        pair = [cls(random_state=0, **kwargs).partial_fit(X[:32], targets[:32], **first)
                for cls in (fo, sk)]
        y_batch = targets[32:64]
        out.append((f"{name} partial_fit, 32 rows",
                    *[lambda X_batch, est=est, y_batch=y_batch: est.partial_fit(X_batch, y_batch)
                      for est in pair],
                    np.ascontiguousarray(X[32:64]), 200 if name.startswith("MLP") else 500))
    return out


def _per_call(function, X, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function(X)
    return (time.perf_counter() - start) / calls


def _fmt(seconds):
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, choices=(1, 32, 1000),
                        help="only the prediction workloads of this many rows (no partial_fit)")
    args = parser.parse_args()
    print(f"# fastopt prediction latency, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"- load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"- 1 thread (BLAS and OpenMP); median of {args.repeats} interleaved repetitions; "
          "time per call; speed-up = scikit-learn / fastopt\n")
    print("| workload | dtype | fastopt | scikit-learn | speed-up |")
    print("|---|---|---|---|---|")
    with threadpool_limits(1):
        for dtype in (np.float64, np.float32):
            workloads = _workloads(_models(dtype))
            if args.rows is None:
                workloads += _online_workloads(dtype)
            else:
                workloads = [w for w in workloads if w[0].endswith(
                    f", {args.rows} row{'s' * (args.rows > 1)}")]
            times = {label: ([], []) for label, *_ in workloads}
            for _ in range(args.repeats):
                for label, fo, sk, X, calls in workloads:
                    times[label][0].append(_per_call(fo, X, calls))
                    times[label][1].append(_per_call(sk, X, calls))
            for label, (fo_times, sk_times) in times.items():
                fo_median, sk_median = statistics.median(fo_times), statistics.median(sk_times)
                print(f"| {label} | {np.dtype(dtype).name} | {_fmt(fo_median)} | "
                      f"{_fmt(sk_median)} | {sk_median / fo_median:.1f}x |")
    print(f"\n- load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
