"""Pictures of training, drawn with matplotlib (an optional dependency): the
loss curves of fitted estimators and the paths of optimizers on a loss landscape.

matplotlib is imported inside the functions, so ``import fastopt`` never needs it.
"""

import numpy as np

__all__ = ["plot_loss_curves", "plot_optimizer_paths"]

_NO_MATPLOTLIB = (
    "{} needs matplotlib, which is not installed; install it with "
    "`pip install matplotlib` (or `pip install fastopt[plot]`)."
)


def _pyplot(caller):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_NO_MATPLOTLIB.format(caller)) from exc
    return plt


def _default_label(est):
    solver = getattr(est, "solver", None)
    name = type(est).__name__
    if solver is None:
        return name
    solver = solver if isinstance(solver, str) else type(solver).__name__
    return f"{name} ({solver})"


def plot_loss_curves(estimators, ax=None, labels=None):
    """Plot the training loss per epoch of fitted estimators, and their validation loss.

    Any estimator with a ``loss_curve_`` attribute can be drawn: fastopt's four
    estimators (the multi-layer perceptrons with a stochastic solver) and
    scikit-learn's ``MLPClassifier``/``MLPRegressor``. When an estimator also
    has a ``validation_loss_curve_`` (a validation set was measured), it is
    drawn dashed in the same colour, labelled "<label> validation". The loss
    axis is logarithmic when every loss is positive.

    Parameters
    ----------
    estimators : estimator or sequence of estimators
        Fitted estimators that have ``loss_curve_``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created when None.
    labels : sequence of str, default=None
        One legend entry per estimator; by default the class name and solver.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If an estimator has no ``loss_curve_`` or ``labels`` has the wrong length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from fastopt import MLPClassifier, plot_loss_curves
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> ax = plot_loss_curves([clf.fit(X / 16, y)])
    """
    plt = _pyplot("plot_loss_curves")
    if hasattr(estimators, "fit"):
        estimators = [estimators]
    estimators = list(estimators)
    if labels is None:
        labels = [_default_label(est) for est in estimators]
    labels = list(labels)
    if len(labels) != len(estimators):
        raise ValueError(
            f"labels has {len(labels)} entries but {len(estimators)} estimators were given."
        )
    curves = []
    for est in estimators:
        curve = getattr(est, "loss_curve_", None)
        if curve is None:
            raise ValueError(
                f"{type(est).__name__} has no loss_curve_: pass estimators fitted with a "
                "stochastic solver (e.g. MLPClassifier(solver='adam'))."
            )
        validation = getattr(est, "validation_loss_curve_", None)
        curves.append((list(curve), None if validation is None else list(validation)))

    if ax is None:
        _, ax = plt.subplots()
    for (curve, validation), label in zip(curves, labels):
        (line,) = ax.plot(range(1, len(curve) + 1), curve, label=label)
        if validation is not None:
            ax.plot(range(1, len(validation) + 1), validation, linestyle="--",
                    color=line.get_color(), label=f"{label} validation")
    if all(min(c) > 0 for pair in curves for c in pair if c):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    return ax


def _labelled(optimizers):
    from fastopt.optim import Optimizer

    if isinstance(optimizers, Optimizer):
        optimizers = [optimizers]
    named = dict(optimizers) if isinstance(optimizers, dict) else {
        repr(opt): opt for opt in optimizers}
    if not named:
        raise ValueError("optimizers is empty; pass a dict of label -> optimizer or a list")
    return named


_MARKERS = "os^Dvp<>hP"


def _contour_levels(Z, reference, n_levels=10):
    """Levels spaced geometrically in the distance |f - reference|, on both sides."""
    distance = np.abs(Z - reference)
    high = distance.max()
    low = max(np.percentile(distance, 2.0), high * 1e-6)
    steps = np.geomspace(low, high, n_levels)
    levels = np.concatenate([reference - steps[::-1], reference + steps])
    return levels[(levels >= Z.min()) & (levels <= Z.max())]


def plot_optimizer_paths(optimizers, function, x0, n_steps, ax=None):
    """Draw the paths of optimizers over the contours of a 2-d loss landscape.

    Every optimizer runs ``n_steps`` steps from ``x0`` with
    :func:`fastopt.optim.trace` (the compiled step the estimators use). The
    contour levels are spaced geometrically in the distance from the minimum
    value (for a function without minimum, such as
    :class:`~fastopt.landscapes.Saddle`, from the median value over the box,
    on both sides), so the floor of a valley shows as clearly as its walls.
    Each path carries a marker every ``n_steps // 25`` steps, so the spacing
    shows its speed. The box is ``function.bounds``, widened to contain
    ``x0``; a path that leaves it is cut at its edge.

    Parameters
    ----------
    optimizers : dict of str -> Optimizer, or list of Optimizer
        The optimizers to compare; a list is labelled with each optimizer's
        repr (e.g. ``SGD(lr=0.001, momentum=0.9)``).
    function : fastopt.landscapes.Landscape
        A function of two variables (``Rosenbrock()``, ``Saddle()``,
        ``Quadratic(A)`` with a 2-by-2 ``A``, ...).
    x0 : array-like of shape (2,)
        Common starting point.
    n_steps : int
        Steps per optimizer.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per optimizer (in the given order), then
        the start marker and, if the function has minima, their markers; a
        legend names them all.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError, ValueError
        If ``function`` is not a 2-d landscape, ``optimizers`` is empty, or an
        argument is refused by :func:`fastopt.optim.trace`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from fastopt import plot_optimizer_paths
    >>> from fastopt.landscapes import Rosenbrock
    >>> from fastopt.optim import SGD, Adam
    >>> ax = plot_optimizer_paths({"momentum": SGD(lr=1e-3, momentum=0.9), "Adam": Adam(lr=0.05)},
    ...                           Rosenbrock(), x0=[-1.5, 2.0], n_steps=300)
    """
    from fastopt.landscapes import Landscape
    from fastopt.optim import trace

    plt = _pyplot("plot_optimizer_paths")
    if not isinstance(function, Landscape) or function.dim != 2:
        raise ValueError(
            "function must be a fastopt.landscapes function of two variables (e.g. "
            f"Rosenbrock() or Quadratic(np.eye(2))), got {function!r}"
        )
    named = _labelled(optimizers)
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.shape != (2,):
        raise ValueError(f"x0 must be a point with 2 coordinates, got shape {x0.shape}")
    paths = {label: trace(opt, function, x0, n_steps) for label, opt in named.items()}

    low = np.minimum(function.bounds[:, 0], x0)
    high = np.maximum(function.bounds[:, 1], x0)
    margin = 0.02 * (high - low)
    low, high = low - margin, high + margin
    grid = np.stack(np.meshgrid(np.linspace(low[0], high[0], 300),
                                np.linspace(low[1], high[1], 300)), axis=-1)
    Z = function(grid)
    minima = function.minima
    reference = function(minima).min() if len(minima) else np.median(Z)

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    ax.contour(grid[..., 0], grid[..., 1], Z, levels=_contour_levels(Z, reference),
               colors="0.75", linewidths=0.7, linestyles="solid")
    every = max(1, n_steps // 25)
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(path[:, 0], path[:, 1], color=f"C{i % 10}", marker=_MARKERS[i % len(_MARKERS)],
                markersize=4, markevery=every, linewidth=1.3, label=label)
    ax.plot(*x0, "o", color="black", markersize=8, label="start")
    if len(minima):
        ax.plot(minima[:, 0], minima[:, 1], "*", color="gold", markeredgecolor="black",
                markersize=15, label="minimum" if len(minima) == 1 else "minima")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(f"{function!r}, {n_steps} steps")
    ax.legend(fontsize="small", loc="best")
    return ax
