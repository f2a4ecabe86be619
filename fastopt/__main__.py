"""``python -m fastopt``: MLPClassifier with several optimizers against scikit-learn.

Trains fastopt's ``MLPClassifier`` on a bundled dataset (scikit-learn's digits
by default) with plain SGD, momentum, Nesterov, Adam, AdamW and RMSprop, and
scikit-learn's ``MLPClassifier`` with the same architecture, minibatch size,
initialisation seed and number of epochs wherever scikit-learn has the same
solver. Prints test accuracy and fit time per row and, when matplotlib is
installed, writes the loss curves to a PNG.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler

from fastopt._openmp import max_threads, openmp_enabled
from fastopt.neural_network import MLPClassifier
from fastopt.optim import AdamW, RMSprop

# name -> (fastopt parameters, whether scikit-learn has the same solver).
# 'sgd', 'momentum', 'nesterov' and 'adam' are scikit-learn's own update
# formulas; AdamW and RMSprop are fastopt.optim objects (PyTorch's rules).
OPTIMIZERS = {
    "sgd": (dict(solver="sgd", momentum=0.0, learning_rate_init=0.05), True),
    "momentum": (dict(solver="sgd", momentum=0.9, nesterovs_momentum=False,
                      learning_rate_init=0.01), True),
    "nesterov": (dict(solver="sgd", momentum=0.9, nesterovs_momentum=True,
                      learning_rate_init=0.01), True),
    "adam": (dict(solver="adam", learning_rate_init=1e-3), True),
    "adamw": (dict(solver=AdamW(lr=1e-3, weight_decay=1e-2)), False),
    "rmsprop": (dict(solver=RMSprop(lr=1e-3)), False),
}

DATASETS = ("digits", "breast_cancer", "synthetic")


def load_dataset(name, n_samples, random_state=0):
    """Standardised train/test split of one of the demo datasets.

    Parameters
    ----------
    name : {'digits', 'breast_cancer', 'synthetic'}
        scikit-learn's bundled digits (10 classes) or breast-cancer (binary)
        data, or ``make_classification`` with 10 classes.
    n_samples : int
        Number of samples of the synthetic dataset.
    random_state : int, default=0
        Seed of the split and of the synthetic data.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    if name == "digits":
        X, y = load_digits(return_X_y=True)
    elif name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = make_classification(n_samples=n_samples, n_features=40, n_informative=20,
                                   n_classes=10, n_clusters_per_class=1, class_sep=1.5,
                                   random_state=random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _timed_fit(est, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_train, y_train)
    return time.perf_counter() - start, est.score(X_test, y_test)


def run(X_train, X_test, y_train, y_test, epochs, hidden, batch_size):
    """Fit every optimizer with fastopt and, where it has one, scikit-learn.

    Every fit runs exactly ``epochs`` epochs (``tol=0`` and no early stop)
    from the same seeded Glorot initialisation.

    Returns
    -------
    rows : list of dict
        Per optimizer: ``name``, ``fastopt`` and ``sklearn`` (the fitted
        estimators; ``sklearn`` is None without a matching solver) and their
        ``*_time`` (seconds) and ``*_accuracy`` (test accuracy).
    """
    common = dict(hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=epochs, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=0)
    rows = []
    for name, (params, in_sklearn) in OPTIMIZERS.items():
        row = {"name": name, "sklearn": None, "sklearn_time": None, "sklearn_accuracy": None}
        row["fastopt"] = MLPClassifier(**common, **params)
        row["fastopt_time"], row["fastopt_accuracy"] = _timed_fit(
            row["fastopt"], X_train, y_train, X_test, y_test)
        if in_sklearn:
            row["sklearn"] = SkMLPClassifier(**common, **params)
            row["sklearn_time"], row["sklearn_accuracy"] = _timed_fit(
                row["sklearn"], X_train, y_train, X_test, y_test)
        rows.append(row)
    return rows


def _solver_text(est):
    solver = est.solver
    if isinstance(solver, str):
        extra = ""
        if solver == "sgd":
            extra = f", momentum={est.momentum}"
            if est.momentum > 0:
                extra += f", nesterov={est.nesterovs_momentum}"
        return f"'{solver}'{extra}, lr={est.learning_rate_init}"
    return repr(solver)


def format_table(rows):
    """The result rows as an aligned text table."""
    header = (f"{'optimizer':<10} {'fastopt solver':<44} {'acc':>6} {'time s':>7}   "
              f"{'sklearn acc':>11} {'time s':>7} {'speed-up':>8}")
    lines = [header, "-" * len(header)]
    for row in rows:
        line = (f"{row['name']:<10} {_solver_text(row['fastopt']):<44} "
                f"{row['fastopt_accuracy']:>6.3f} {row['fastopt_time']:>7.3f}   ")
        if row["sklearn"] is None:
            line += f"{'n/a':>11} {'':>7} {'':>8}"
        else:
            speedup = row["sklearn_time"] / row["fastopt_time"]
            line += (f"{row['sklearn_accuracy']:>11.3f} {row['sklearn_time']:>7.3f} "
                     f"{speedup:>7.1f}x")
        lines.append(line)
    return "\n".join(lines)


# Panels of the figure, one per optimizer, in two families (rows).
FAMILIES = (("sgd", "momentum", "nesterov"), ("adam", "adamw", "rmsprop"))
FASTOPT_STYLE = dict(color="C0", linestyle="-", linewidth=2)
SKLEARN_STYLE = dict(color="C1", linestyle="--", linewidth=2)


def _seconds(fit_time, curve):
    """Wall-clock time at the end of each epoch, assuming equal epochs."""
    return fit_time * np.arange(1, len(curve) + 1) / len(curve)


def draw_figure(rows, title, plt):
    """The demo's figure: training loss against seconds per optimizer, and fit times.

    One small panel per optimizer (a row per family: SGD-type, adaptive), all
    on the same axes, fastopt solid and scikit-learn dashed, so that equal
    losses reached sooner show as a curve further left; a bar chart on the
    right gives the whole-fit times and the speed-up.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    by_name = {row["name"]: row for row in rows}
    fig = plt.figure(figsize=(8, 5), dpi=100, layout="constrained")
    grid = fig.add_gridspec(len(FAMILIES), 4, width_ratios=(1, 1, 1, 1.25))
    first = None
    for r, family in enumerate(FAMILIES):
        for c, name in enumerate(family):
            ax = fig.add_subplot(grid[r, c], sharex=first, sharey=first)
            first = first or ax
            row = by_name[name]
            ax.plot(_seconds(row["fastopt_time"], row["fastopt"].loss_curve_),
                    row["fastopt"].loss_curve_, **FASTOPT_STYLE)
            if row["sklearn"] is None:
                label = f"{name}\n(fastopt only)"
            else:
                ax.plot(_seconds(row["sklearn_time"], row["sklearn"].loss_curve_),
                        row["sklearn"].loss_curve_, **SKLEARN_STYLE)
                label = f"{name}\n{row['sklearn_time'] / row['fastopt_time']:.1f}x faster"
            ax.set_title(label, fontsize=9)
            ax.set_yscale("log")
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
            if c == 0:
                ax.set_ylabel("training loss", fontsize=9)
            else:
                ax.tick_params(labelleft=False)
            if r == len(FAMILIES) - 1:
                ax.set_xlabel("seconds", fontsize=9)
            else:
                ax.tick_params(labelbottom=False)
    ax.set_xlim(left=0)

    bars = fig.add_subplot(grid[:, 3])
    names = [row["name"] for row in rows][::-1]
    y = np.arange(len(names))
    fast = [by_name[n]["fastopt_time"] for n in names]
    slow = [by_name[n]["sklearn_time"] or 0.0 for n in names]
    bars.barh(y + 0.2, fast, height=0.4, color="C0", label="fastopt")
    bars.barh(y - 0.2, slow, height=0.4, color="C1", label="scikit-learn")
    bars.set_yticks(y, names, fontsize=9)
    bars.tick_params(axis="x", labelsize=8)
    bars.set_xlabel("whole fit, seconds", fontsize=9)
    bars.set_title("fit time", fontsize=9)
    for yi, t in zip(y, slow):
        if t == 0.0:
            bars.text(0, yi - 0.2, " n/a", va="center", fontsize=8)
    bars.legend(fontsize=8, loc="lower right")
    bars.grid(axis="x", alpha=0.3)
    fig.legend([plt.Line2D([], [], **FASTOPT_STYLE), plt.Line2D([], [], **SKLEARN_STYLE)],
               ["fastopt", "scikit-learn"], loc="outside lower left", ncols=2, fontsize=9)
    epochs = rows[0]["fastopt"].n_iter_
    fig.text(0.99, 0.01, f"one fit each, timed whole; epoch i drawn at i/{epochs} of its "
             "fit's time", ha="right", va="bottom", fontsize=7, color="0.3")
    fig.suptitle(title, fontsize=10)
    return fig


def save_figure(rows, path, title):
    """Write :func:`draw_figure` to ``path`` as a PNG (800 x 500 pixels).

    Returns False, after saying so, when matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: skipping the figure (pip install matplotlib)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw_figure(rows, title, plt)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _check_output(parser, path):
    """Fail now, before any training, if the figure could not be written to ``path``."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        parser.error(f"--output {path}: the folder {folder} does not exist; create it "
                     "first or choose another path")
    if not os.access(folder, os.W_OK):
        parser.error(f"--output {path}: the folder {folder} is not writable")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def main(argv=None):
    """Run the demo; ``argv`` defaults to the command line.

    Returns
    -------
    rows : list of dict
        See :func:`run`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m fastopt",
        description="Train fastopt's MLPClassifier with several optimizers and compare "
        "test accuracy and fit time with scikit-learn's MLPClassifier (same architecture, "
        "batch size, initialisation and epochs); write the loss curves to a PNG.",
        epilog="python -m fastopt paths [--help]: draw the paths of the optimizers on "
        "textbook loss surfaces instead.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="digits",
                        help="bundled dataset, or make_classification (default: digits)")
    parser.add_argument("--n-samples", type=_positive_int, default=5000,
                        help="samples of the synthetic dataset (default: 5000)")
    parser.add_argument("--epochs", type=_positive_int, default=30,
                        help="epochs per fit (default: 30)")
    parser.add_argument("--hidden", type=_positive_int, nargs="+", default=[64],
                        help="hidden layer sizes (default: 64)")
    parser.add_argument("--batch-size", type=_positive_int, default=32,
                        help="minibatch size (default: 32)")
    parser.add_argument("--output", default="fastopt_demo.png",
                        help="PNG file for the figure: loss against seconds per optimizer, "
                        "and fit times (default: fastopt_demo.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    args = parser.parse_args(argv)
    if not args.no_plot:
        _check_output(parser, args.output)

    X_train, X_test, y_train, y_test = load_dataset(args.dataset, args.n_samples)
    n_classes = len(np.unique(y_train))
    n_outputs = 1 if n_classes == 2 else n_classes  # binary: one logistic unit
    hidden = tuple(args.hidden)
    print(f"{args.dataset}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
          f"{X_train.shape[1]} features, {n_classes} classes; MLP "
          f"{'-'.join(map(str, (X_train.shape[1], *hidden, n_outputs)))}, batch "
          f"{args.batch_size}, {args.epochs} epochs, float64; OpenMP "
          f"{'on' if openmp_enabled() else 'off'}, {max_threads()} thread(s)\n")
    rows = run(X_train, X_test, y_train, y_test, args.epochs, hidden, args.batch_size)
    print(format_table(rows))
    print("\nsgd/momentum/nesterov/adam are scikit-learn's update formulas on both sides; "
          "adamw and rmsprop are\nfastopt.optim objects (PyTorch's rules) that scikit-learn "
          "does not have. Times are whole fits.")
    title = (f"MLP {'-'.join(map(str, (X_train.shape[1], *hidden, n_outputs)))} on "
             f"{args.dataset}, {args.epochs} epochs: the same losses, sooner")
    if not args.no_plot and save_figure(rows, args.output, title):
        print(f"figure written to {args.output}")
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["paths"]:
        from fastopt._paths_demo import main as paths_main

        paths_main(sys.argv[2:])
    else:
        main()
