"""How a fit ends, shared by SGDRegressor/SGDClassifier and MLPRegressor/MLPClassifier.

:class:`NoImprovement` is scikit-learn's stopping rule ("no improvement by
``tol`` for ``n_iter_no_change`` epochs") for one problem; :func:`restored_on_failure`
puts an estimator back as it was when a fit ends by raising.
"""

import copy
from contextlib import contextmanager

import numpy as np

from fastopt._callbacks import restore_after_failure
from fastopt.optim import OptimizerState

__all__ = ["NoImprovement", "restored_on_failure"]

_WORST = object()  # default of NoImprovement's ``best``: the worst value of its direction


class NoImprovement:
    """Epochs in a row without improvement of a loss or a score, as scikit-learn counts them.

    An epoch counts when its value is not better than the best so far by
    ``tol``: a loss above ``best - tol``, a score below ``best + tol``; any
    other epoch sets the count back to 0. The best value is then replaced when
    the epoch's value is strictly better (a NaN never is).

    scikit-learn stops at two different counts, and ``convention`` picks one:

    * ``'sgd'``: stop once ``count >= n_iter_no_change``, as the SGD linear
      models (``_plain_sgd`` in sklearn/linear_model/_sgd_fast.pyx.tp, which
      sklearn/linear_model/_stochastic_gradient.py runs): the
      ``n_iter_no_change``-th epoch without improvement is the last.
    * ``'mlp'``: stop once ``count > n_iter_no_change``, as the multi-layer
      perceptrons (``_fit_stochastic`` in
      sklearn/neural_network/_multilayer_perceptron.py): one epoch more.

    Parameters
    ----------
    n_iter_no_change : int or float
        Epochs without improvement the rule tolerates (``np.inf``: never stop).
    tol : float or None
        Improvement an epoch needs to set the count back to 0. None (the SGD
        models' ``tol=None``): no epoch counts, each sets the count back to 0.
    higher_is_better : bool, default=False
        False for a loss (lower is better), True for a score.
    convention : {'sgd', 'mlp'}, default='sgd'
        Which of scikit-learn's stopping counts :meth:`stops` applies.
    best : float, optional
        Best value so far, to continue a previous fit (the MLP's
        ``best_loss_`` or ``best_validation_score_``). Default: the worst
        value, ``inf`` for a loss and ``-inf`` for a score.
    count : int, default=0
        Epochs without improvement so far (the MLP's ``_no_improvement_count``).

    Attributes
    ----------
    best : float
        Best value seen (or given).
    count : int
        Current number of epochs in a row without improvement.
    """

    def __init__(self, n_iter_no_change, tol, *, higher_is_better=False, convention="sgd",
                 best=_WORST, count=0):
        if convention not in ("sgd", "mlp"):
            raise ValueError(f"convention must be 'sgd' or 'mlp', got {convention!r}")
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.higher_is_better = higher_is_better
        self.convention = convention
        if best is _WORST:
            best = -np.inf if higher_is_better else np.inf
        self.best = best
        self.count = count

    def update(self, value):
        """Count the epoch that ended with ``value``; return whether it is a new best.

        Parameters
        ----------
        value : float
            The epoch's loss or score.

        Returns
        -------
        new_best : bool
            True when ``value`` is strictly better than the best so far (and
            has replaced it): the MLP keeps its weights then.
        """
        if self.higher_is_better:
            no_better = self.tol is not None and value < self.best + self.tol
            new_best = value > self.best
        else:
            no_better = self.tol is not None and value > self.best - self.tol
            new_best = value < self.best
        self.count = self.count + 1 if no_better else 0
        if new_best:
            self.best = value
        return new_best

    def reset(self):
        """Set the count back to 0 (after a plateau cut of the learning rate)."""
        self.count = 0

    def stops(self):
        """Whether the fit stops here, by scikit-learn's count of ``convention``.

        Returns
        -------
        stop : bool
            ``count >= n_iter_no_change`` ('sgd') or ``count > n_iter_no_change``
            ('mlp').
        """
        if self.convention == "sgd":
            return self.count >= self.n_iter_no_change
        return self.count > self.n_iter_no_change


def _copied(value):
    """``value`` as a fit that writes into it in place cannot change it."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, OptimizerState):
        return copy.deepcopy(value)
    return value


@contextmanager
def restored_on_failure(est, copy_buffers=False):
    """Undo everything the block did to ``est`` when it raises (or is interrupted).

    The attributes are saved on entry; on any exception, ``KeyboardInterrupt``
    included, they replace the estimator's (keeping the callback run state,
    see :func:`fastopt._callbacks.restore_after_failure`) and the exception
    propagates.

    Parameters
    ----------
    est : estimator
        The estimator being fitted.
    copy_buffers : bool, default=False
        Save copies of the ndarray attributes and deep copies of the
        ``OptimizerState`` ones, for fits that write into them in place (the
        SGD models' engines). False saves the attribute values themselves, for
        fits that build new arrays and assign them (the MLPs).
    """
    saved = {key: _copied(value) if copy_buffers else value
             for key, value in est.__dict__.items()}
    try:
        yield
    except BaseException:
        restore_after_failure(est, saved)
        raise
