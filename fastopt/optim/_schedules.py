"""Learning-rate schedules as parameter objects.

A schedule maps the base learning rate ``lr`` and the 1-based step count
``t`` to the rate used at step ``t``. The formula itself is evaluated in
compiled code (``fo_schedule_lr`` in ``csrc/fo_schedule.h``) inside the training loops
without the GIL; these classes only hold and validate the parameters, so they
can be cloned, searched over with ``GridSearchCV`` and pickled.
"""

from numbers import Integral, Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from fastopt.optim._rules import ScheduleKind, evaluate_schedule

__all__ = [
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "InverseScaling",
    "ReduceOnPlateau",
    "Schedule",
    "StepDecay",
]


class Schedule(BaseEstimator):
    """Base class of learning-rate schedules."""

    _kind = ScheduleKind.SCHEDULE_CONSTANT

    def _fields(self):
        return {}

    def to_config(self):
        """Validate the parameters and return them as the compiled ``Schedule`` struct."""
        self._validate_params()
        config = {
            "kind": int(self._kind),
            "power_t": 0.0,
            "gamma": 1.0,
            "step_size": 1.0,
            "t_max": 1.0,
            "eta_min": 0.0,
            "warmup_steps": 0.0,
        }
        config.update({k: float(v) for k, v in self._fields().items()})
        return config

    def __call__(self, lr, t):
        """Learning rate at step ``t`` (1-based) for base rate ``lr``."""
        if t < 1:
            raise ValueError(f"steps are counted from 1, got t={t}")
        return evaluate_schedule(self.to_config(), float(lr), int(t))


class Constant(Schedule):
    r"""Constant learning rate: :math:`\eta_t = \eta`."""

    _parameter_constraints = {}

    def __init__(self):
        pass


class InverseScaling(Schedule):
    r"""Inverse scaling: :math:`\eta_t = \eta / t^{p}`.

    scikit-learn's ``learning_rate='invscaling'`` for ``SGDRegressor``.

    Parameters
    ----------
    power_t : float, default=0.25
        The exponent :math:`p`.
    """

    _kind = ScheduleKind.SCHEDULE_INVSCALING
    _parameter_constraints = {"power_t": [Interval(Real, None, None, closed="neither")]}

    def __init__(self, power_t=0.25):
        self.power_t = power_t

    def _fields(self):
        return {"power_t": self.power_t}


class StepDecay(Schedule):
    r"""Step decay: :math:`\eta_t = \eta\,\gamma^{\lfloor (t-1)/s \rfloor}`.

    PyTorch's ``StepLR`` counted in optimizer steps.

    Parameters
    ----------
    step_size : int
        The period :math:`s` in steps.
    gamma : float, default=0.1
        Multiplicative factor :math:`\gamma` per period.
    """

    _kind = ScheduleKind.SCHEDULE_STEP
    _parameter_constraints = {
        "step_size": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, step_size, gamma=0.1):
        self.step_size = step_size
        self.gamma = gamma

    def _fields(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class ExponentialDecay(Schedule):
    r"""Exponential decay: :math:`\eta_t = \eta\,\gamma^{t-1}`.

    PyTorch's ``ExponentialLR`` counted in optimizer steps.

    Parameters
    ----------
    gamma : float
        Multiplicative factor per step, in (0, 1] for a decay.
    """

    _kind = ScheduleKind.SCHEDULE_EXPONENTIAL
    _parameter_constraints = {"gamma": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, gamma):
        self.gamma = gamma

    def _fields(self):
        return {"gamma": self.gamma}


class CosineAnnealing(Schedule):
    r"""Cosine annealing with linear warm-up.

    .. math::

        \eta_t = \begin{cases}
            \eta\, t / w & t \le w \\
            \eta_{min} + \tfrac12 (\eta - \eta_{min})
                \left(1 + \cos\left(\pi \min\left(1, \tfrac{t - 1 - w}{T - w}\right)\right)\right)
                & t > w
        \end{cases}

    Without warm-up this is PyTorch's ``CosineAnnealingLR`` with the scheduler
    stepped after every optimizer step (Loshchilov & Hutter, 2017, "SGDR"):
    the first step uses the full rate, step ``t_max + 1`` and later ones use
    ``eta_min``. With warm-up the rate climbs linearly to :math:`\eta` at step
    :math:`w`, then the cosine starts from :math:`\eta` at step :math:`w + 1`.

    Parameters
    ----------
    t_max : int
        Length :math:`T` of the schedule in steps, warm-up included.
    eta_min : float, default=0.0
        Final learning rate.
    warmup_steps : int, default=0
        Length :math:`w` of the linear warm-up, smaller than ``t_max``.
    """

    _kind = ScheduleKind.SCHEDULE_COSINE
    _parameter_constraints = {
        "t_max": [Interval(Integral, 1, None, closed="left")],
        "eta_min": [Interval(Real, 0, None, closed="left")],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, t_max, eta_min=0.0, warmup_steps=0):
        self.t_max = t_max
        self.eta_min = eta_min
        self.warmup_steps = warmup_steps

    def _fields(self):
        if self.warmup_steps >= self.t_max:
            raise ValueError(
                f"warmup_steps={self.warmup_steps} must be smaller than t_max={self.t_max}"
            )
        return {"t_max": self.t_max, "eta_min": self.eta_min, "warmup_steps": self.warmup_steps}


class ReduceOnPlateau(Schedule):
    r"""Cut the learning rate when training stops improving (evaluated per epoch).

    Within an epoch the rate is constant. After each epoch, the estimator's
    stopping rule decides whether the epoch improved (the training loss fell
    by more than ``tol``, or with early stopping the validation score rose by
    more than ``tol``) and counts the epochs since the last improvement. When
    that count reaches ``patience`` and the rate is above ``min_lr``:

    .. math::

        \eta \leftarrow \eta \cdot \text{factor}

    and the count restarts, so the stopping rule (``n_iter_no_change``) only
    ends a fit once the rate has reached ``min_lr``. scikit-learn's
    ``learning_rate='adaptive'`` is this schedule with ``factor=0.2``,
    ``min_lr=1e-6`` and ``patience=n_iter_no_change`` (``n_iter_no_change + 1``
    for the multi-layer perceptrons, whose stopping rule waits one epoch
    longer). As there, a rate just above ``min_lr`` is still cut once, so the
    last rate lies in ``(factor * min_lr, min_lr]``. The idea is PyTorch's
    ``ReduceLROnPlateau``; the improvement test is the estimator's.

    Accepted by the estimators wherever a schedule is: the multi-layer
    perceptrons' ``learning_rate``, and the ``schedule`` of any
    :mod:`fastopt.optim` optimizer passed as ``solver``. An optimizer stepped
    by hand (``opt.step``) has no epochs and uses the constant base rate.

    Parameters
    ----------
    factor : float, default=0.2
        Multiplier of the rate at each cut, in (0, 1).
    patience : int, default=10
        Epochs without improvement before a cut.
    min_lr : float, default=1e-6
        No cut once the rate is at or below this value.

    Examples
    --------
    >>> from fastopt import MLPClassifier
    >>> from fastopt.optim import Adam, ReduceOnPlateau
    >>> clf = MLPClassifier(solver=Adam(lr=1e-2, schedule=ReduceOnPlateau(patience=3)))
    """

    _parameter_constraints = {
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, factor=0.2, patience=10, min_lr=1e-6):
        self.factor = factor
        self.patience = patience
        self.min_lr = min_lr

    @property
    def divisor(self):
        """What a cut divides the rate by: ``1 / factor`` (5.0 for 0.2, exactly)."""
        return 1.0 / self.factor

    def cuts(self, epochs_without_improvement, lr):
        """Whether to cut rate ``lr`` after this many epochs without improvement.

        The caller divides the rate by :attr:`divisor` and restarts its count.
        """
        return epochs_without_improvement >= self.patience and lr > self.min_lr
