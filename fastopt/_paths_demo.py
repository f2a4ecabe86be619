"""``python -m fastopt paths``: six optimizers on Rosenbrock's valley and on a saddle.

Runs SGD, momentum, Nesterov, Adagrad, RMSprop and Adam (``fastopt.optim``,
PyTorch's update rules) from one starting point on each function with
:func:`fastopt.optim.trace`, prints where each one ended and, when matplotlib
is installed, draws the paths side by side in a PNG.
"""

import argparse

import numpy as np

from fastopt.landscapes import Rosenbrock, Saddle
from fastopt.optim import SGD, Adagrad, Adam, RMSprop, trace


def problems():
    """The two comparisons: name -> (function, start, steps, {label: optimizer}).

    Rates are chosen per function so that every rule is stable and the
    differences are visible: on Rosenbrock's valley momentum and Adam follow
    the curved floor to the minimum while plain SGD and Adagrad (whose rate
    decays as the squared gradients add up) are still on their way; on the
    saddle, started on the ridge, the per-coordinate rules (Adagrad, RMSprop,
    Adam) escape at once while SGD first slides down to the saddle point.
    """
    return {
        "rosenbrock": (Rosenbrock(), np.array([-1.5, 2.5]), 1000, {
            "SGD": SGD(lr=5e-4),
            "momentum": SGD(lr=5e-4, momentum=0.9),
            "Nesterov": SGD(lr=5e-4, momentum=0.9, nesterov=True),
            "Adagrad": Adagrad(lr=0.5),
            "RMSprop": RMSprop(lr=1e-2),
            "Adam": Adam(lr=0.1),
        }),
        "saddle": (Saddle(), np.array([1.5, 1e-3]), 50, {
            "SGD": SGD(lr=0.05),
            "momentum": SGD(lr=0.05, momentum=0.9),
            "Nesterov": SGD(lr=0.05, momentum=0.9, nesterov=True),
            "Adagrad": Adagrad(lr=0.25),
            "RMSprop": RMSprop(lr=0.05),
            "Adam": Adam(lr=0.1),
        }),
    }


def run():
    """Trace every optimizer of :func:`problems`.

    Returns
    -------
    paths : dict
        Problem name -> {optimizer label -> path of shape (steps + 1, 2)}.
    """
    return {name: {label: trace(opt, function, x0, n_steps) for label, opt in opts.items()}
            for name, (function, x0, n_steps, opts) in problems().items()}


def format_report(paths):
    """Where each optimizer ended, as text: one block per problem."""
    blocks = []
    for name, (function, x0, n_steps, opts) in problems().items():
        lines = [f"{function!r}: {n_steps} steps from ({x0[0]:g}, {x0[1]:g})",
                 f"  {'optimizer':<10} {'lr':>7} {'end x[0]':>10} {'end x[1]':>10} "
                 f"{'f(end)':>12}   fastopt.optim object"]
        for label, opt in opts.items():
            end = paths[name][label][-1]
            lines.append(f"  {label:<10} {opt.lr:>7g} {end[0]:>10.4f} {end[1]:>10.4f} "
                         f"{function(end):>12.4g}   {opt!r}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def save_paths_png(path):
    """Draw both comparisons side by side into ``path``.

    Returns False, after saying so, when matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: skipping the paths PNG (pip install matplotlib)")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fastopt._plotting import plot_optimizer_paths

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, (function, x0, n_steps, opts) in zip(axes, problems().values()):
        plot_optimizer_paths(opts, function, x0, n_steps, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv=None):
    """Run the comparison; ``argv`` are the arguments after ``paths``.

    Returns
    -------
    paths : dict
        See :func:`run`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m fastopt paths",
        description="Run SGD, momentum, Nesterov, Adagrad, RMSprop and Adam on Rosenbrock's "
        "function and on the saddle x^2 - y^2, print where each ended and draw the paths.",
    )
    parser.add_argument("--output", default="fastopt_paths.png",
                        help="PNG file for the paths (default: fastopt_paths.png)")
    parser.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    args = parser.parse_args(argv)
    paths = run()
    print(format_report(paths))
    if not args.no_plot and save_paths_png(args.output):
        print(f"\npaths written to {args.output}")
    return paths
