"""The learning-rate range test: :func:`fastopt.lr_find` and its result.

L. Smith (2017), "Cyclical Learning Rates for Training Neural Networks"
(WACV 2017, arXiv:1506.01186), section 3.3: train for a few minibatches while
the learning rate grows from tiny to huge, and read a good rate off the loss
curve. Here a clone of the estimator trains from its initial weights; the
whole test -- minibatches across epochs, the geometric rate, the recorded
and smoothed losses, the stopping rule -- is one compiled call
(``MLPCore.range_test`` or ``MinibatchSGD.range_test``, both built on
``fastopt/_range_test.pxd``). The clone's ordinary ``fit`` prepares that
call (input checks, label encoding, class weights, initial weights, the
optimizer state), so the test starts from exactly what ``fit`` would train
from; a hook in the fit runs the test in place of the epochs and ends the
fit by raising :class:`_RangeTestDone`, which :func:`lr_find` catches.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from fastopt._plotting import _pyplot

__all__ = ["LRFindResult", "lr_find"]

#: Moving-average factor of the smoothed loss. fastai's 0.98 averages over
#: ~50 steps, half of a default 100-step test -- over the default eight
#: decades of rate that lags the curve by about four decades, which moves the
#: minimum and the steepest descent of the smoothed curve to rates far too
#: large. 0.9 (~10 steps, 0.8 decade) still evens out minibatch noise.
SMOOTHING = 0.9
#: The test stops once the smoothed loss exceeds this multiple of its minimum.
STOP_FACTOR = 4.0


class _RangeTestDone(Exception):
    """Raised by the hook in the clone's fit once the range test has run."""


class _RangeTestRun:
    """What the fit hook runs: set as ``_range_test`` on the estimator's clone.

    ``run(compiled, *args)`` calls the engine's compiled ``range_test`` with
    the test's settings, keeps its (3, steps) array in ``curves`` and raises
    :class:`_RangeTestDone`, so that the clone's fit goes no further.
    """

    def __init__(self, min_lr, max_lr, n_steps):
        self.min_lr, self.max_lr, self.n_steps = min_lr, max_lr, n_steps
        self.curves = None

    def run(self, compiled, *args):
        self.curves = compiled(*args, self.min_lr, self.max_lr, self.n_steps, SMOOTHING,
                               STOP_FACTOR)
        raise _RangeTestDone()


class LRFindResult:
    """Result of :func:`lr_find`.

    Attributes
    ----------
    lrs : ndarray of shape (n_run,)
        Learning rate of each step run (``n_run <= n_steps``: the test stops
        early once the loss diverges).
    losses : ndarray of shape (n_run,)
        Smoothed loss: the bias-corrected exponential moving average of
        ``raw_losses`` with factor ``SMOOTHING`` (0.9), as the stopping rule
        saw it.
    raw_losses : ndarray of shape (n_run,)
        Loss of each minibatch, measured before its step: for the MLPs the
        objective of ``loss_curve_`` (loss plus penalty), for the SGD
        estimators the mean per-sample loss (no penalty).
    suggestion : float
        Suggested learning rate (see :func:`lr_find` for the rule); NaN when
        the curve has too few points to apply it.
    min_lr, max_lr : float
        Ends of the rate schedule asked for.
    n_steps : int
        Steps asked for.
    """

    def __init__(self, lrs, losses, raw_losses, suggestion, min_lr, max_lr, n_steps):
        self.lrs = lrs
        self.losses = losses
        self.raw_losses = raw_losses
        self.suggestion = suggestion
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.n_steps = n_steps

    @property
    def stopped_early(self):
        """True when the loss diverged before ``n_steps`` steps."""
        return len(self.lrs) < self.n_steps

    def __repr__(self):
        return (f"LRFindResult(suggestion={self.suggestion:.3g}, steps={len(self.lrs)}"
                f"/{self.n_steps}, lr {self.min_lr:g}..{self.max_lr:g})")

    def plot(self, ax=None):
        """Draw the smoothed (and, faintly, the raw) loss against the learning rate.

        The rate axis is logarithmic; the suggestion is marked with a dot on
        the smoothed curve and a dotted vertical line.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure is created when None.

        Returns
        -------
        ax : matplotlib.axes.Axes
            The axes drawn on.

        Raises
        ------
        ImportError
            If matplotlib is not installed (``pip install fastopt[plot]``).
        """
        plt = _pyplot("LRFindResult.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        finite = np.isfinite(self.raw_losses)
        ax.plot(self.lrs[finite], self.raw_losses[finite], color="C0", alpha=0.3, lw=1,
                label="minibatch loss")
        ax.plot(self.lrs, self.losses, color="C0", lw=2, label="smoothed loss")
        if np.isfinite(self.suggestion):
            at = np.interp(np.log(self.suggestion), np.log(self.lrs), self.losses)
            ax.axvline(self.suggestion, color="C3", ls=":", lw=1)
            ax.plot([self.suggestion], [at], "o", color="C3",
                    label=f"suggestion {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        # from the lowest loss (raw or smoothed) to the highest smoothed one: the raw
        # losses' last spikes would squash the curve
        smooth = self.losses[np.isfinite(self.losses)]
        if smooth.size:
            top = smooth.max()
            bottom = min(smooth.min(), self.raw_losses[finite].min())
            if top > bottom:
                ax.set_ylim(bottom - 0.05 * (top - bottom), top + 0.05 * (top - bottom))
        ax.set_title("learning-rate range test")
        ax.legend()
        return ax


def _suggest(lrs, losses):
    """The suggestion rule (see :func:`lr_find`)."""
    finite = np.isfinite(losses)
    if finite.sum() < 3:
        return float("nan")
    lrs, losses = lrs[finite], losses[finite]
    i_min = int(np.argmin(losses))
    return float(lrs[i_min] / 10.0)


def _final_estimator(estimator):
    """(estimator the test trains, transformers to fit first or None)."""
    if isinstance(estimator, Pipeline):
        last = estimator.steps[-1][1]
        transformers = estimator[:-1] if len(estimator.steps) > 1 else None
        return last, transformers
    return estimator, None


def _check_estimator(est):
    """TypeError / ValueError unless the range test can train ``est``."""
    from fastopt.linear_model import SGDClassifier, SGDRegressor
    from fastopt.linear_model._sgd_training import uses_plain_engine
    from fastopt.neural_network import MLPClassifier, MLPRegressor

    if not isinstance(est, (MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor)):
        name = est if isinstance(est, str) else type(est).__name__
        raise TypeError(
            f"lr_find trains fastopt's MLPClassifier, MLPRegressor, SGDClassifier or "
            f"SGDRegressor (or a Pipeline ending in one); got {name}. Use the fastopt class "
            "of the same name (e.g. `from fastopt import MLPClassifier`).")
    if isinstance(est, (MLPClassifier, MLPRegressor)):
        if isinstance(est.solver, str) and est.solver == "lbfgs":
            raise ValueError(
                "lr_find needs a minibatch solver; L-BFGS (solver='lbfgs') has no learning "
                "rate. Use solver='adam', 'sgd' or another stochastic solver.")
    elif uses_plain_engine(est):
        raise ValueError(
            "lr_find needs a minibatch solver; solver='sgd' with batch_size=1 is "
            "scikit-learn's per-sample SGD, whose rate follows its learning_rate schedule "
            "and whose single-sample losses are too noisy to read a rate from. Set "
            "batch_size (e.g. 32) or another solver ('adam', 'momentum', ...), then train "
            "with learning_rate='constant' and eta0 at the suggested rate.")


def _check_settings(min_lr, max_lr, n_steps):
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(
                value):
            raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    if min_lr <= 0:
        raise ValueError(f"min_lr must be > 0 (the rates grow geometrically from it), got "
                         f"{min_lr!r}")
    if min_lr >= max_lr:
        raise ValueError(f"min_lr must be smaller than max_lr, got min_lr={min_lr!r} >= "
                         f"max_lr={max_lr!r}; e.g. min_lr=1e-7, max_lr=10")
    if not isinstance(n_steps, numbers.Integral) or isinstance(n_steps, bool) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2 (the schedule needs its two ends), "
                         f"got {n_steps!r}")


def lr_find(estimator, X, y, *, min_lr=1e-7, max_lr=10.0, n_steps=100, random_state=None):
    """Learning-rate range test (L. Smith, 2017): find a good learning rate.

    A clone of ``estimator`` trains from its initial weights (those its
    ``fit`` would start from) for ``n_steps`` minibatches while the learning
    rate grows geometrically,

    .. math:: \\eta_i = \\eta_{min} (\\eta_{max} / \\eta_{min})^{i / (n - 1)},
        \\quad i = 0, \\ldots, n - 1,

    recording the loss of every minibatch (measured before its step). When
    the minibatches of an epoch run out, the test continues into the next
    (reshuffled, if the estimator shuffles) epoch. The smoothed loss is the
    bias-corrected exponential moving average
    :math:`a_i = \\beta a_{i-1} + (1 - \\beta) \\ell_i`,
    :math:`s_i = a_i / (1 - \\beta^{i+1})` with :math:`\\beta = 0.9`
    (``fastopt._lr_find.SMOOTHING``; fastai's 0.98 lags a 100-step test by
    about four decades of rate). The test stops after the first step whose
    smoothed loss is not finite or exceeds 4 times its minimum. The whole
    test is one compiled call; ``estimator`` itself is not modified.

    **Suggestion rule**: the rate at the minimum of the smoothed loss,
    divided by 10 -- one decade below the point where the loss stops
    falling, where training is still stable but fast. Where it fails: when
    the loss has not turned up by ``max_lr`` (the minimum is then at the
    end of the range and the suggestion is a guess, which a ``UserWarning``
    says: raise ``max_lr``); when the loss keeps falling only slowly at every rate (a
    badly scaled problem: standardize X, and y for regression); with very
    few steps (a coarse curve); and for rules whose step size does not
    scale with the rate in the usual way (Rprop, Adadelta). It suggests a
    rate for training at a constant rate; a decaying schedule can start
    higher.

    Parameters
    ----------
    estimator : estimator or Pipeline
        fastopt's ``MLPClassifier``/``MLPRegressor`` with any solver but
        ``'lbfgs'``, or ``SGDClassifier``/``SGDRegressor`` with a minibatch
        solver (not ``solver='sgd'`` with ``batch_size=1``). In a
        ``Pipeline``, clones of the transformers are fitted on ``X``
        (``fit_transform``) first and the test trains the last step. Its
        solver, batch size, penalty, dropout, clipping and shuffling are
        used as they are; its learning rate and schedule are replaced by the
        test's rates (``early_stopping`` is off: every sample trains).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    min_lr : float, default=1e-7
        Rate of the first step; > 0.
    max_lr : float, default=10.0
        Rate of the last step; > ``min_lr``.
    n_steps : int, default=100
        Number of minibatches (at least 2).
    random_state : int, RandomState instance or None, default=None
        Overrides the estimator's ``random_state`` on the clone (initial
        weights, shuffling, dropout); None keeps the estimator's.

    Returns
    -------
    result : LRFindResult
        ``lrs``, ``losses`` (smoothed), ``raw_losses`` (arrays over the
        steps run), ``suggestion`` and ``plot(ax=None)``.

    Raises
    ------
    TypeError
        If the estimator is not one of fastopt's four estimators.
    ValueError
        For an L-BFGS MLP, per-sample SGD, or bad ``min_lr``/``max_lr``/``n_steps``.

    Notes
    -----
    To train at the suggested rate ``lr``: MLPs with a string solver take
    ``learning_rate_init=lr`` (``learning_rate='constant'``); SGD estimators
    with a string solver take ``learning_rate='constant', eta0=lr``; with
    an optimizer object as ``solver``, set its ``lr`` (``solver__lr`` in a
    grid search).

    References
    ----------
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks",
    IEEE WACV 2017, arXiv:1506.01186, section 3.3.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastopt import MLPClassifier, lr_find
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    >>> result = lr_find(model, X, y)
    >>> model.set_params(mlpclassifier__learning_rate_init=result.suggestion)  # doctest: +SKIP
    """
    _check_settings(min_lr, max_lr, n_steps)
    final, transformers = _final_estimator(estimator)
    _check_estimator(final)
    if transformers is not None:
        X = clone(transformers).fit_transform(X, y)
    est = clone(final)
    est.set_params(early_stopping=False, warm_start=False)
    if random_state is not None:
        est.set_params(random_state=random_state)
    run = _RangeTestRun(float(min_lr), float(max_lr), int(n_steps))
    est._range_test = run
    try:
        est.fit(X, y)
    except _RangeTestDone:
        pass
    if run.curves is None:
        raise RuntimeError("the range test did not run (the estimator's fit skipped the "
                           "minibatch engine); please report this as a fastopt bug")
    lrs, raw, smooth = (np.ascontiguousarray(row) for row in run.curves)
    result = LRFindResult(lrs, smooth, raw, _suggest(lrs, smooth), float(min_lr),
                          float(max_lr), int(n_steps))
    if not result.stopped_early and np.argmin(smooth) >= 0.9 * (len(smooth) - 1):
        warnings.warn(
            f"the smoothed loss was still falling at max_lr={max_lr:g} (its minimum is in "
            "the last 10% of the steps), so the suggestion (a tenth of the rate at the "
            "minimum) is a guess; raise max_lr to see where the loss turns up",
            UserWarning, stacklevel=2)
    return result
