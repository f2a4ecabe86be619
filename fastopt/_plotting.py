"""Loss curves of fitted estimators, drawn with matplotlib (an optional dependency).

matplotlib is imported inside the function, so ``import fastopt`` never needs it.
"""

__all__ = ["plot_loss_curves"]

_NO_MATPLOTLIB = (
    "plot_loss_curves needs matplotlib, which is not installed; install it with "
    "`pip install matplotlib` (or `pip install fastopt[plot]`)."
)


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
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_NO_MATPLOTLIB) from exc

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
