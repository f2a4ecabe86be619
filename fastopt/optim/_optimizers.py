"""Optimizer parameter objects.

Each optimizer is a scikit-learn-style parameter holder: constructor
arguments only, ``get_params``/``set_params``/``clone``, a readable repr,
picklable, and no fitted state. ``init(params)`` validates the
hyper-parameters and returns an :class:`~fastopt.optim.OptimizerState` over
the parameter arrays; ``step(params, grads, state)`` updates the parameters in
place with one fused compiled pass. The same objects configure the training
loops of fastopt's estimators (``solver=Adam(lr=1e-3)``).

The update rules reproduce the algorithms published in PyTorch's
``torch.optim`` documentation, with the same defaults. Every optimizer also
takes ``clip_norm`` (rescale the gradient to at most this global L2 norm, as
``torch.nn.utils.clip_grad_norm_``), ``clip_value`` (clamp every gradient
entry to ``[-clip_value, clip_value]``, applied after ``clip_norm``) and
``schedule`` (a :mod:`fastopt.optim` learning-rate schedule, counted in steps).
"""

import math
from numbers import Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from fastopt.optim._rules import RuleKind
from fastopt.optim._schedules import Constant, Schedule
from fastopt.optim._state import OptimizerState

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "NAdam",
    "Optimizer",
    "RMSprop",
    "SklearnAdam",
    "SklearnSGD",
]

_NONNEG = Interval(Real, 0, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")
_UNIT = Interval(Real, 0, 1, closed="left")

_COMMON_CONSTRAINTS = {
    "lr": [_NONNEG],
    "clip_norm": [_POSITIVE, None],
    "clip_value": [_POSITIVE, None],
    "schedule": [Schedule, None],
}


class Optimizer(BaseEstimator):
    """Base class: turns validated hyper-parameters into compiled state."""

    _kind = None
    _buffer_names = ()
    _parameter_constraints = dict(_COMMON_CONSTRAINTS)

    def _rule_fields(self):
        """Hyper-parameters of this rule as ``RuleConfig`` fields."""
        return {}

    def _check_consistency(self):
        """Constraints across parameters; raise ValueError when violated."""

    def rule_config(self):
        """Validate the hyper-parameters and return the compiled ``RuleConfig`` dict."""
        self._validate_params()
        self._check_consistency()
        schedule = self.schedule if self.schedule is not None else Constant()
        config = {
            "kind": int(self._kind),
            "lr": float(self.lr),
            "momentum": 0.0,
            "dampening": 0.0,
            "weight_decay": 0.0,
            "eps": 0.0,
            "beta1": 0.0,
            "beta2": 0.0,
            "alpha": 0.0,
            "lr_decay": 0.0,
            "initial_accumulator_value": 0.0,
            "momentum_decay": 0.0,
            "nesterov": False,
            "centered": False,
            "amsgrad": False,
            "clip_norm": float(self.clip_norm) if self.clip_norm is not None else 0.0,
            "clip_value": float(self.clip_value) if self.clip_value is not None else math.inf,
            "schedule": schedule.to_config(),
        }
        config.update(self._rule_fields())
        return config

    def init(self, params):
        """Create the optimizer state for ``params``.

        Parameters
        ----------
        params : ndarray or list of ndarray
            The parameters to optimize: one flat array (fastest: one fused pass
            per step) or a list of arrays. float32 or float64, C-contiguous and
            writeable; they are updated in place by :meth:`step`.

        Returns
        -------
        state : OptimizerState
            Step count and per-element buffers (zero-initialised, like PyTorch).
        """
        return OptimizerState(self.rule_config(), params, self._buffer_names)

    def step(self, params, grads, state):
        """Update ``params`` in place from ``grads``.

        Parameters
        ----------
        params : ndarray or list of ndarray
            The arrays given to :meth:`init`.
        grads : ndarray or list of ndarray
            Gradients of the same shapes and dtype. Read only.
        state : OptimizerState
            The state returned by :meth:`init`; advanced in place.
        """
        state.step(params, grads)


def _betas_constraints():
    return {"beta_1": [_UNIT], "beta_2": [_UNIT], "eps": [_NONNEG]}


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, dampening and Nesterov.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        g_t &\leftarrow \begin{cases} g_t + \mu b_t & \text{nesterov} \\
                                      b_t & \text{otherwise} \end{cases}
              \quad (\text{if } \mu \neq 0) \\
        \theta_t &= \theta_{t-1} - \eta\, g_t

    Reproduces ``torch.optim.SGD`` (momentum after Sutskever et al., 2013).

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate :math:`\eta`.
    momentum : float, default=0.0
        Momentum factor :math:`\mu`.
    dampening : float, default=0.0
        Dampening :math:`\tau` for momentum.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda` added to the gradient.
    nesterov : bool, default=False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import SGD
    >>> w = np.zeros(3)
    >>> opt = SGD(lr=0.1, momentum=0.9)
    >>> state = opt.init(w)
    >>> opt.step(w, np.ones(3), state)
    >>> w
    array([-0.1, -0.1, -0.1])
    """

    _kind = RuleKind.RULE_SGD
    _buffer_names = ("momentum_buffer",)
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "momentum": [_NONNEG],
        "dampening": [Interval(Real, 0, 1, closed="both")],
        "weight_decay": [_NONNEG],
        "nesterov": ["boolean"],
    }

    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, clip_norm=None, clip_value=None, schedule=None):
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _check_consistency(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )

    def _rule_fields(self):
        return {"momentum": float(self.momentum), "dampening": float(self.dampening),
                "weight_decay": float(self.weight_decay), "nesterov": bool(self.nesterov)}


class Adagrad(Optimizer):
    r"""Adagrad.

    .. math::

        \tilde\eta_t &= \eta / (1 + (t - 1)\,\delta) \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        s_t &= s_{t-1} + g_t^2, \quad s_0 = a \\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)

    Reproduces ``torch.optim.Adagrad`` (Duchi, Hazan & Singer, 2011).

    Parameters
    ----------
    lr : float, default=1e-2
        Learning rate :math:`\eta`.
    lr_decay : float, default=0.0
        Learning-rate decay :math:`\delta`.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda` added to the gradient.
    initial_accumulator_value : float, default=0.0
        Initial value :math:`a` of the sum of squares.
    eps : float, default=1e-10
        Term :math:`\epsilon` added to the denominator.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_ADAGRAD
    _buffer_names = ("sum",)
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "lr_decay": [_NONNEG],
        "weight_decay": [_NONNEG],
        "initial_accumulator_value": [_NONNEG],
        "eps": [_NONNEG],
    }

    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, clip_norm=None, clip_value=None, schedule=None):
        self.lr = lr
        self.lr_decay = lr_decay
        self.weight_decay = weight_decay
        self.initial_accumulator_value = initial_accumulator_value
        self.eps = eps
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"lr_decay": float(self.lr_decay), "weight_decay": float(self.weight_decay),
                "initial_accumulator_value": float(self.initial_accumulator_value),
                "eps": float(self.eps)}


class RMSprop(Optimizer):
    r"""RMSprop, optionally centered and with momentum.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \tilde v_t &= \begin{cases} v_t - \bar g_t^2,\;
            \bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t & \text{centered} \\
            v_t & \text{otherwise} \end{cases} \\
        b_t &= \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon) \\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad (\mu = 0:\ \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{\tilde v_t} + \epsilon))

    Reproduces ``torch.optim.RMSprop`` (Hinton, Lecture 6e; centered version
    after Graves, 2013).

    Parameters
    ----------
    lr : float, default=1e-2
        Learning rate :math:`\eta`.
    alpha : float, default=0.99
        Smoothing constant :math:`\alpha` (the "decay" of Keras/TF).
    eps : float, default=1e-8
        Term :math:`\epsilon` added to the denominator.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda` added to the gradient.
    momentum : float, default=0.0
        Momentum factor :math:`\mu`.
    centered : bool, default=False
        Normalise by an estimate of the gradient's variance.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_RMSPROP
    _buffer_names = ("square_avg", "grad_avg", "momentum_buffer")
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "alpha": [_UNIT],
        "eps": [_NONNEG],
        "weight_decay": [_NONNEG],
        "momentum": [_NONNEG],
        "centered": ["boolean"],
    }

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, clip_norm=None, clip_value=None, schedule=None):
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.centered = centered
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"alpha": float(self.alpha), "eps": float(self.eps),
                "weight_decay": float(self.weight_decay), "momentum": float(self.momentum),
                "centered": bool(self.centered)}


class Adam(Optimizer):
    r"""Adam, optionally with AMSGrad.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \quad v_t \ \text{otherwise} \\
        \theta_t &= \theta_{t-1} - \eta\, \frac{m_t / (1 - \beta_1^t)}
                    {\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}

    Reproduces ``torch.optim.Adam`` (Kingma & Ba, 2015; AMSGrad: Reddi et al.,
    2018). The ``weight_decay`` here is an L2 term added to the gradient; for
    decoupled decay use :class:`AdamW`. scikit-learn's ``MLP*(solver='adam')``
    differs (it adds :math:`\epsilon` to the uncorrected :math:`\sqrt{v_t}`);
    see :class:`SklearnAdam`.

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate :math:`\eta`.
    beta_1 : float, default=0.9
        Decay :math:`\beta_1` of the first moment, in [0, 1).
    beta_2 : float, default=0.999
        Decay :math:`\beta_2` of the second moment, in [0, 1).
    eps : float, default=1e-8
        Term :math:`\epsilon` added to the denominator.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda` added to the gradient.
    amsgrad : bool, default=False
        Use the running maximum of :math:`v_t`.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastopt.optim import Adam
    >>> w = np.array([1.0, -2.0], dtype=np.float32)
    >>> opt = Adam(lr=0.1)
    >>> state = opt.init(w)
    >>> for _ in range(100):
    ...     opt.step(w, 2 * w, state)   # gradient of ||w||^2
    >>> bool(np.abs(w).max() < 0.1)
    True
    """

    _kind = RuleKind.RULE_ADAM
    _buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        **_betas_constraints(),
        "weight_decay": [_NONNEG],
        "amsgrad": ["boolean"],
    }

    def __init__(self, lr=1e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0,
                 amsgrad=False, clip_norm=None, clip_value=None, schedule=None):
        self.lr = lr
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"beta1": float(self.beta_1), "beta2": float(self.beta_2), "eps": float(self.eps),
                "weight_decay": float(self.weight_decay), "amsgrad": bool(self.amsgrad)}


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay.

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta_t \lambda) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta_t\, \frac{m_t / (1 - \beta_1^t)}
                    {\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}

    with :math:`\hat v_t` as in :class:`Adam`. Reproduces ``torch.optim.AdamW``
    (Loshchilov & Hutter, 2019); the decay uses the scheduled rate :math:`\eta_t`.

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate :math:`\eta`.
    beta_1, beta_2, eps, amsgrad : as in :class:`Adam`.
    weight_decay : float, default=1e-2
        Decoupled decay coefficient :math:`\lambda`.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_ADAMW

    def __init__(self, lr=1e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, clip_norm=None, clip_value=None, schedule=None):
        super().__init__(lr=lr, beta_1=beta_1, beta_2=beta_2, eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad, clip_norm=clip_norm,
                         clip_value=clip_value, schedule=schedule)


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum and a momentum schedule.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        \mu_t &= \beta_1 \left(1 - \tfrac12\, 0.96^{t \psi}\right) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        d_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1}
            - \eta\, \frac{1 - \mu_t}{1 - \prod_{i \le t} \mu_i} \frac{g_t}{d_t}
            - \eta\, \frac{\mu_{t+1}}{1 - \prod_{i \le t+1} \mu_i} \frac{m_t}{d_t}

    Reproduces ``torch.optim.NAdam`` (Dozat, 2016).

    Parameters
    ----------
    lr : float, default=2e-3
        Learning rate :math:`\eta`.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays, in [0, 1).
    eps : float, default=1e-8
        Term :math:`\epsilon` added to the denominator.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda` added to the gradient.
    momentum_decay : float, default=4e-3
        Momentum schedule constant :math:`\psi`.
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_NADAM
    _buffer_names = ("exp_avg", "exp_avg_sq")
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        **_betas_constraints(),
        "weight_decay": [_NONNEG],
        "momentum_decay": [_NONNEG],
    }

    def __init__(self, lr=2e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, clip_norm=None, clip_value=None, schedule=None):
        self.lr = lr
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum_decay = momentum_decay
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"beta1": float(self.beta_1), "beta2": float(self.beta_2), "eps": float(self.eps),
                "weight_decay": float(self.weight_decay),
                "momentum_decay": float(self.momentum_decay)}


class SklearnSGD(Optimizer):
    r"""scikit-learn's MLP ``solver='sgd'`` update.

    .. math::

        u_t &= \mu u_{t-1} - \eta g_t \\
        \theta_t &= \theta_{t-1} + \begin{cases} \mu u_t - \eta g_t & \text{nesterov} \\
                                               u_t & \text{otherwise} \end{cases}

    The formula of ``sklearn.neural_network._stochastic_optimizers.SGDOptimizer``
    (the gradient there already contains the L2 term), used by
    ``MLPClassifier(solver='sgd')`` so that fastopt reproduces scikit-learn.

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate :math:`\eta` (``learning_rate_init``).
    momentum : float, default=0.9
        Momentum :math:`\mu`.
    nesterov : bool, default=True
        Nesterov's momentum (``nesterovs_momentum``).
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_SK_SGD
    _buffer_names = ("velocity",)
    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterov": ["boolean"],
    }

    def __init__(self, lr=1e-3, momentum=0.9, nesterov=True, clip_norm=None, clip_value=None,
                 schedule=None):
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"momentum": float(self.momentum), "nesterov": bool(self.nesterov)}


class SklearnAdam(Optimizer):
    r"""scikit-learn's MLP ``solver='adam'`` update.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
                    \frac{m_t}{\sqrt{v_t} + \epsilon}

    The formula of ``sklearn.neural_network._stochastic_optimizers.AdamOptimizer``:
    the bias correction is folded into the rate and :math:`\epsilon` is added to
    the uncorrected :math:`\sqrt{v_t}` (PyTorch's :class:`Adam` adds it to the
    corrected one).

    Parameters
    ----------
    lr : float, default=1e-3
        Learning rate :math:`\eta` (``learning_rate_init``).
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays, in [0, 1).
    eps : float, default=1e-8
        Term :math:`\epsilon` (``epsilon``).
    clip_norm, clip_value, schedule : see :class:`Optimizer`.
    """

    _kind = RuleKind.RULE_SK_ADAM
    _buffer_names = ("exp_avg", "exp_avg_sq")
    _parameter_constraints = {**_COMMON_CONSTRAINTS, **_betas_constraints()}

    def __init__(self, lr=1e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, clip_norm=None,
                 clip_value=None, schedule=None):
        self.lr = lr
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.schedule = schedule

    def _rule_fields(self):
        return {"beta1": float(self.beta_1), "beta2": float(self.beta_2), "eps": float(self.eps)}
