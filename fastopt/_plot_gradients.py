"""Picture of the per-layer gradient norms recorded by an MLP fit
(``record_gradient_norms=True``): vanishing or exploding gradients show as
layers whose curves fall or climb by decades, hence the log scale.

matplotlib is imported inside the function, so ``import fastopt`` never needs it.
"""

from fastopt._plotting import _pyplot

__all__ = ["plot_gradient_norms"]


def plot_gradient_norms(estimator, ax=None):
    """Plot each weight matrix's mean gradient norm per epoch, on a log scale.

    Draws one line per weight matrix ``coefs_[l]`` from the estimator's
    ``gradient_norms_`` (row ``e``: the mean over epoch ``e``'s minibatches
    of the L2 norm of the objective's gradient with respect to that matrix,
    before clipping; see :class:`fastopt.MLPClassifier`). Epochs trained
    without recording (NaN rows after a ``warm_start`` or ``partial_fit``)
    leave gaps.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Fitted with ``record_gradient_norms=True``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If the estimator has no ``gradient_norms_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from fastopt import MLPClassifier, plot_gradient_norms
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
    ...                     record_gradient_norms=True)
    >>> ax = plot_gradient_norms(clf.fit(X / 16, y))
    """
    plt = _pyplot("plot_gradient_norms")
    norms = getattr(estimator, "gradient_norms_", None)
    if norms is None:
        raise ValueError(
            f"{type(estimator).__name__} has no gradient_norms_: fit it with "
            "record_gradient_norms=True and a stochastic solver (e.g. "
            "MLPClassifier(record_gradient_norms=True))."
        )
    if ax is None:
        _, ax = plt.subplots()
    epochs = range(1, norms.shape[0] + 1)
    for layer, coef in enumerate(estimator.coefs_):
        ax.plot(epochs, norms[:, layer],
                label=f"coefs_[{layer}] ({coef.shape[0]} x {coef.shape[1]})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean minibatch gradient L2 norm")
    ax.legend()
    return ax
