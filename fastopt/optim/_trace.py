"""The path an optimizer takes on a function, step by step.

``trace`` runs a real :class:`~fastopt.optim.OptimizerState` (the same
compiled step the estimators use, schedules and clipping included) on the
gradient of a small function and records every point, for printing the
textbook exercises step by step and for plotting paths on a loss landscape.
"""

import warnings
from numbers import Integral

import numpy as np
from sklearn.utils import check_scalar

from fastopt.optim._optimizers import Optimizer

__all__ = ["trace"]


def _check_start(x0):
    x = np.array(x0, dtype=np.float64)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x0 must be a number or a 1-d vector, got an array of shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite, got {x}")
    return x


def trace(optimizer, function, x0, n_steps):
    r"""Run ``optimizer`` on ``function`` from ``x0`` and return every point.

    At each step the gradient ``function.grad(x)`` is evaluated at the
    current point and handed to a fresh optimizer state over one float64
    parameter vector, exactly as ``optimizer.init``/``optimizer.step`` would
    be used by hand:

    .. math::

        x_0 = \text{x0}, \qquad
        x_t = \operatorname{step}(x_{t-1}, \nabla f(x_{t-1})), \quad t = 1, \dots, n

    If the gradient or the point stops being finite (the rate is too large
    for the function), a ``RuntimeWarning`` says at which step, the
    remaining rows of the path are NaN, and the finite part is still returned
    (so a plot shows where it went wrong).

    Parameters
    ----------
    optimizer : fastopt.optim.Optimizer
        Any optimizer object (``SGD(momentum=0.9)``, ``Adam(schedule=...)``,
        ``RMSprop(clip_norm=1.0)``, ...). It is not modified.
    function : object with a ``grad`` method
        ``function.grad(x)`` returns the gradient at ``x`` (shape
        ``(dim,)``), e.g. a :mod:`fastopt.landscapes` function.
    x0 : float or array-like of shape (dim,)
        Starting point; a number is a 1-dimensional problem.
    n_steps : int
        Number of optimizer steps, >= 0.

    Returns
    -------
    path : ndarray of shape (n_steps + 1, dim), float64
        ``path[0]`` is ``x0`` and ``path[t]`` the point after step ``t``.

    Raises
    ------
    TypeError
        If ``optimizer`` is not a fastopt optimizer or ``function`` has no
        ``grad``.
    ValueError
        If ``x0`` is not a finite vector, ``n_steps`` is negative, or the
        gradient does not have the shape of ``x0``.

    Examples
    --------
    The first steps of :math:`(\theta - 3)^2` from :math:`\theta = 0`:

    >>> from fastopt.landscapes import Quadratic
    >>> from fastopt.optim import SGD, trace
    >>> trace(SGD(lr=0.1), Quadratic(1.0, center=3.0), 0.0, 3).ravel()
    array([0.   , 0.6  , 1.08 , 1.464])
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be a fastopt.optim optimizer such as SGD(lr=0.1) or Adam(), "
            f"got {type(optimizer).__name__}"
        )
    if not callable(getattr(function, "grad", None)):
        raise TypeError(
            "function must have a grad(x) method returning the gradient at x, such as the "
            f"functions of fastopt.landscapes; got {type(function).__name__}"
        )
    x = _check_start(x0)
    check_scalar(n_steps, "n_steps", Integral, min_val=0)

    path = np.full((n_steps + 1, x.size), np.nan)
    path[0] = x
    state = optimizer.init(x)
    for t in range(1, n_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            g = np.array(function.grad(x), dtype=np.float64)
        if g.shape != x.shape:
            raise ValueError(
                f"function.grad returned shape {g.shape} at a point of shape {x.shape}; "
                "it must return one partial derivative per coordinate"
            )
        if not np.all(np.isfinite(g)):
            _warn_diverged(optimizer, t, "gradient")
            break
        optimizer.step(x, g, state)
        if not np.all(np.isfinite(x)):
            _warn_diverged(optimizer, t, "point")
            break
        path[t] = x
    return path


def _warn_diverged(optimizer, t, what):
    warnings.warn(
        f"{optimizer!r} diverged: the {what} at step {t} is not finite, so path[{t}:] is "
        "NaN; lower the learning rate or clip the gradient (clip_norm=...)",
        RuntimeWarning,
        stacklevel=3,
    )
