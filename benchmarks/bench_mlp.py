"""Training speed of fastopt's MLPClassifier against scikit-learn and PyTorch (CPU).

Every peer trains the same architecture (ReLU hidden layers, softmax output)
from the same Glorot initialisation with Adam (lr=1e-3), the same minibatch
size and the same number of epochs on the same data. Runs are interleaved
(fastopt, scikit-learn, torch eager, torch fused Adam, fastopt, ...) and the
table reports medians of seconds per epoch, the speed-up of fastopt over each
peer, and test accuracy. ``gemm %`` is the share of fastopt's epoch spent in
BLAS: the same GEMM calls (same library, shapes and transposes) replayed
alone right after each fastopt run, divided by that run's epoch time (median
of the ratios; noisy on a shared machine).

Usage::

    python benchmarks/bench_mlp.py            # full: 2 configurations, 1 and 2 threads
    python benchmarks/bench_mlp.py --quick    # < 1 minute, 1 thread, smaller data
    python benchmarks/bench_mlp.py --threads 1 --repeats 5
    python benchmarks/bench_mlp.py --gradient-norms --repeats 21   # cost of recording
    python benchmarks/bench_mlp.py --blocks --threads 1 --repeats 5  # GELU, batch norm

``--gradient-norms`` instead times fastopt alone on the 'small' configuration
with ``record_gradient_norms`` off and on, interleaved (off, on, off, ...),
and reports the median seconds per epoch of each and the relative overhead.

``--blocks`` instead times the building blocks beyond scikit-learn's on both
configurations against PyTorch eager and fused Adam (scikit-learn has neither):
GELU hidden layers, and ReLU hidden layers with batch normalisation
(``torch.nn.Linear -> BatchNorm1d -> ReLU``, trained in training mode and
scored in eval mode), interleaved, medians.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.linalg.blas import dgemm, sgemm
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastopt.neural_network import MLPClassifier

try:
    import torch
except ImportError:
    torch = None

CONFIGS = {
    "small": dict(n_features=64, hidden=(128,), n_train=20000, batch=32, dtype=np.float64),
    "mnist-like": dict(n_features=784, hidden=(256, 128), n_train=48000, batch=128,
                       dtype=np.float32),
}


def make_data(cfg, n_train):
    n_test = n_train // 4
    X, y = make_classification(n_train + n_test, cfg["n_features"],
                               n_informative=cfg["n_features"] // 2, n_classes=10,
                               n_clusters_per_class=1, class_sep=2.0, random_state=0)
    X = StandardScaler().fit_transform(X).astype(cfg["dtype"])
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def mlp_params(cfg, epochs):
    return dict(hidden_layer_sizes=cfg["hidden"], solver="adam", batch_size=cfg["batch"],
                max_iter=epochs, tol=0.0, n_iter_no_change=10**9, random_state=0)


def time_estimator(est, X, y, X_test, y_test, epochs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - start
    return elapsed / epochs, est.score(X_test, y_test)


def time_torch(cfg, init, X, y, X_test, y_test, epochs, fused, activation="relu",
               batch_norm=False):
    """Hand-written torch training loop: shuffle, index, forward, backward, Adam."""
    layers = []
    modules = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU}
    for i, (coef, intercept) in enumerate(zip(*init)):
        dtype = torch.from_numpy(coef).dtype
        lin = torch.nn.Linear(*coef.shape, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(coef.T)))
            lin.bias.copy_(torch.from_numpy(intercept))
        layers.append(lin)
        if i < len(init[0]) - 1:
            if batch_norm:
                layers.append(torch.nn.BatchNorm1d(coef.shape[1], dtype=dtype))
            layers.append(modules[activation]())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), cfg["batch"]):
            idx = perm[s:s + cfg["batch"]]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    elapsed = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean()
    return elapsed / epochs, acc


def gemm_replay(cfg, units, n_train):
    """Seconds per epoch of fastopt's GEMM calls alone (column-major view).

    The same calls are timed again on 1x1 matrices and that time (the cost
    of calling BLAS from Python) is subtracted.
    """
    gemm = sgemm if cfg["dtype"] == np.float32 else dgemm
    rng = np.random.RandomState(0)
    m = cfg["batch"]

    def mat(r, c):
        return np.asfortranarray(rng.rand(r, c).astype(cfg["dtype"]))

    shapes = []
    for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        # forward Z^T = W^T A^T; weight grad G^T = D^T A; input delta P^T = W D^T
        shapes.append(((fan_out, fan_in), (fan_in, m), 0, 0, (fan_out, m)))
        shapes.append(((fan_out, m), (fan_in, m), 0, 1, (fan_out, fan_in)))
        if i > 0:
            shapes.append(((fan_out, fan_in), (fan_out, m), 1, 0, (fan_in, m)))
    n_batches = -(-n_train // m)

    def replay(tiny):
        calls = [tuple(mat(1, 1) if tiny else mat(*s) for s in (a, b, c)) + (ta, tb)
                 for a, b, ta, tb, c in shapes]
        start = time.perf_counter()
        for _ in range(n_batches):
            for a, b, c, ta, tb in calls:
                gemm(1.0, a, b, c=c, trans_a=ta, trans_b=tb, overwrite_c=1)
        return time.perf_counter() - start

    return replay(False) - replay(True)


def glorot_init(cfg, units):
    """scikit-learn's Glorot draws for random_state=0: (coefs, intercepts)."""
    rs = np.random.RandomState(0)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)).astype(cfg["dtype"]))
        intercepts.append(rs.uniform(-bound, bound, fan_out).astype(cfg["dtype"]))
    return coefs, intercepts


def run(name, cfg, threads, epochs, repeats, n_train):
    X, y, X_test, y_test = make_data(cfg, n_train)
    units = [cfg["n_features"], *cfg["hidden"], 10]
    coefs, intercepts = glorot_init(cfg, units)
    results = {k: [] for k in ("fastopt", "sklearn", "torch eager", "torch fused")}
    gemm_share = []
    acc = {}
    with threadpool_limits(threads):
        if torch is not None:
            torch.set_num_threads(threads)
        for _ in range(repeats):
            for label in results:
                if label == "fastopt":
                    t, a = time_estimator(MLPClassifier(**mlp_params(cfg, epochs)),
                                          X, y, X_test, y_test, epochs)
                elif label == "sklearn":
                    t, a = time_estimator(SkMLPClassifier(**mlp_params(cfg, epochs)),
                                          X, y, X_test, y_test, epochs)
                elif torch is None:
                    continue
                else:
                    t, a = time_torch(cfg, (coefs, intercepts), X, y, X_test, y_test, epochs,
                                      fused=label == "torch fused")
                results[label].append(t)
                acc[label] = a
                if label == "fastopt":
                    gemm_share.append(gemm_replay(cfg, units, len(X)) / t)
    med = {k: statistics.median(v) for k, v in results.items() if v}
    dtype = np.dtype(cfg["dtype"]).name
    arch = "-".join(map(str, units))
    for label, t in med.items():
        speedup = med[label] / med["fastopt"]
        extra = (f"gemm {100 * statistics.median(gemm_share):4.0f}%"
                 if label == "fastopt" else "")
        print(f"{name:11s} {arch:15s} {len(X):6d} {dtype:8s} {cfg['batch']:5d} {threads:3d} "
              f"{label:12s} {t:9.4f} {speedup:8.2f}x {acc[label]:8.4f}  {extra}")


BLOCKS = {"gelu": dict(activation="gelu", batch_norm=False),
          "batch norm": dict(activation="relu", batch_norm=True)}


def run_blocks(name, cfg, threads, epochs, repeats, n_train):
    """Rows of the GELU and batch-norm networks: fastopt against torch eager and
    fused Adam, interleaved per repetition, medians of s/epoch."""
    X, y, X_test, y_test = make_data(cfg, n_train)
    units = [cfg["n_features"], *cfg["hidden"], 10]
    init = glorot_init(cfg, units)
    labels = ("fastopt", "torch eager", "torch fused")
    dtype = np.dtype(cfg["dtype"]).name
    arch = "-".join(map(str, units))
    with threadpool_limits(threads):
        torch.set_num_threads(threads)
        for block, options in BLOCKS.items():
            times, acc = {k: [] for k in labels}, {}
            for _ in range(repeats):
                for label in labels:
                    if label == "fastopt":
                        est = MLPClassifier(**mlp_params(cfg, epochs), **options)
                        t, a = time_estimator(est, X, y, X_test, y_test, epochs)
                    else:
                        t, a = time_torch(cfg, init, X, y, X_test, y_test, epochs,
                                          fused=label == "torch fused", **options)
                    times[label].append(t)
                    acc[label] = a
            med = {k: statistics.median(v) for k, v in times.items()}
            for label in labels:
                print(f"{name:11s} {arch:15s} {block:10s} {len(X):6d} {dtype:8s} "
                      f"{cfg['batch']:5d} {threads:3d} {label:12s} {med[label]:9.4f} "
                      f"{med[label] / med['fastopt']:8.2f}x {acc[label]:8.4f}")


def run_gradient_norms(threads, epochs, repeats, n_train):
    """Median s/epoch of fastopt with record_gradient_norms off and on, interleaved."""
    cfg = CONFIGS["small"]
    X, y, X_test, y_test = make_data(cfg, n_train)
    times = {False: [], True: []}
    with threadpool_limits(threads):
        for _ in range(repeats):
            for record in (False, True):
                est = MLPClassifier(**mlp_params(cfg, epochs), record_gradient_norms=record)
                times[record].append(time_estimator(est, X, y, X_test, y_test, epochs)[0])
    off, on = (statistics.median(times[k]) for k in (False, True))
    units = "-".join(map(str, [cfg["n_features"], *cfg["hidden"], 10]))
    print(f"gradient norms: {units}, {len(X)} rows, batch {cfg['batch']}, "
          f"{np.dtype(cfg['dtype']).name}, {threads} thread(s), {epochs} epochs per fit, "
          f"medians of {repeats} interleaved fits")
    print(f"  off {off:.5f} s/epoch   on {on:.5f} s/epoch   overhead {100 * (on / off - 1):+.1f}%")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (< 1 minute)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", default=None, help="comma-separated thread counts "
                        "(default: 1 with --quick, else 1,2)")
    parser.add_argument("--gradient-norms", action="store_true",
                        help="time record_gradient_norms off vs on (fastopt only)")
    parser.add_argument("--blocks", action="store_true",
                        help="time GELU and batch-norm networks against PyTorch")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    if args.gradient_norms:
        for threads in [int(t) for t in (args.threads or "1").split(",")]:
            run_gradient_norms(threads, 5, args.repeats or 21, CONFIGS["small"]["n_train"])
        return
    if args.blocks:
        if torch is None:
            parser.error("--blocks compares with PyTorch, which is not installed")
        print(f"torch {torch.__version__}; medians of {repeats} interleaved runs; "
              "speed-up = peer time / fastopt time")
        print(f"{'config':11s} {'layers':15s} {'block':10s} {'rows':>6s} {'dtype':8s} "
              f"{'batch':>5s} {'thr':>3s} {'library':12s} {'s/epoch':>9s} {'speed-up':>9s} "
              f"{'test acc':>8s}")
        for threads in [int(t) for t in (args.threads or "1").split(",")]:
            for name, cfg in CONFIGS.items():
                n_train = cfg["n_train"] // (8 if args.quick else 1)
                epochs = 1 if args.quick else (2 if name == "mnist-like" else 3)
                run_blocks(name, cfg, threads, epochs, repeats, n_train)
        return
    print(f"torch: {torch.__version__ if torch is not None else 'not installed'}; "
          f"medians of {repeats} interleaved runs; speed-up = peer time / fastopt time")
    print(f"{'config':11s} {'layers':15s} {'rows':>6s} {'dtype':8s} {'batch':>5s} {'thr':>3s} "
          f"{'library':12s} {'s/epoch':>9s} {'speed-up':>9s} {'test acc':>8s}")
    threads_list = [int(t) for t in (args.threads or ("1" if args.quick else "1,2")).split(",")]
    for threads in threads_list:
        for name, cfg in CONFIGS.items():
            quick_rows = cfg["n_train"] // (8 if name == "mnist-like" else 2)
            n_train = quick_rows if args.quick else cfg["n_train"]
            epochs = 1 if args.quick else (3 if name == "mnist-like" else 5)
            run(name, cfg, threads, epochs, repeats, n_train)


if __name__ == "__main__":
    main()
