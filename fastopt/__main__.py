"""``python -m fastopt``: every optimizer fits a least-squares model on a bundled dataset.

Prints, per optimizer, the final loss against the exact least-squares optimum
and the time per step (gradient by NumPy, update by fastopt's compiled rule).
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from fastopt._openmp import max_threads, openmp_enabled
from fastopt.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealing,
    NAdam,
    RMSprop,
    SklearnAdam,
    SklearnSGD,
)


def _optimizers(n_steps):
    return {
        "SGD": SGD(lr=0.1),
        "SGD momentum": SGD(lr=0.05, momentum=0.9),
        "SGD nesterov": SGD(lr=0.05, momentum=0.9, nesterov=True),
        "Adagrad": Adagrad(lr=0.5),
        "RMSprop": RMSprop(lr=0.01),
        "Adam": Adam(lr=0.05),
        "Adam amsgrad": Adam(lr=0.05, amsgrad=True),
        "AdamW": AdamW(lr=0.05, weight_decay=1e-4),
        "AdamW cosine": AdamW(lr=0.1, weight_decay=1e-4,
                              schedule=CosineAnnealing(t_max=n_steps, warmup_steps=n_steps // 20)),
        "NAdam": NAdam(lr=0.05),
        "sklearn sgd": SklearnSGD(lr=0.05),
        "sklearn adam": SklearnAdam(lr=0.05),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fastopt",
        description="Fit a least-squares model on scikit-learn's diabetes data with every "
        "fastopt optimizer; print final loss and time per step.",
    )
    parser.add_argument("--steps", type=int, default=2000, help="full-batch steps (default 2000)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    X, y = load_diabetes(return_X_y=True)
    X = np.hstack([StandardScaler().fit_transform(X), np.ones((len(X), 1))]).astype(args.dtype)
    y = ((y - y.mean()) / y.std()).astype(args.dtype)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    loss_star = np.mean((X @ w_star - y) ** 2) / 2

    print(f"diabetes: {X.shape[0]} samples x {X.shape[1]} features (incl. bias), {args.dtype}, "
          f"{args.steps} full-batch steps; OpenMP {'on' if openmp_enabled() else 'off'}, "
          f"{max_threads()} thread(s)")
    print(f"least-squares optimum: loss {loss_star:.6f}\n")
    print(f"{'optimizer':<16}{'final loss':>12}{'excess':>12}{'update us/step':>16}")
    for name, opt in _optimizers(args.steps).items():
        w = np.zeros(X.shape[1], X.dtype)
        state = opt.init(w)
        update_time = 0.0
        for _ in range(args.steps):
            grad = X.T @ (X @ w - y) / len(y)
            t0 = time.perf_counter()
            opt.step(w, grad, state)
            update_time += time.perf_counter() - t0
        loss = np.mean((X @ w - y) ** 2) / 2
        print(f"{name:<16}{loss:>12.6f}{loss - loss_star:>12.2e}"
              f"{update_time / args.steps * 1e6:>16.2f}")


if __name__ == "__main__":
    main()
