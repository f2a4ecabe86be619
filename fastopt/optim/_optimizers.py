"""Optimizer parameter objects.

Each optimizer is a scikit-learn-style parameter holder: constructor
arguments only, ``get_params``/``set_params``/``clone``, a readable repr,
picklable, and no fitted state. ``init(params)`` validates the
hyper-parameters and returns an :class:`~fastopt.optim.OptimizerState` over
the parameter arrays; ``step(params, grads, state)`` updates the parameters in
place with one fused compiled pass. The same objects configure the training
loops of fastopt's estimators (``solver=Adam(lr=1e-3)``).

The update rules reproduce the algorithms published in PyTorch's
``torch.optim`` documentation, with the same defaults (Lion: the paper's).
Each class carries its update rule as math and its reference; its
hyper-parameters, defaults and validation come from its row of
``_rule_table.RULES``. Every optimizer also takes ``clip_norm``,
``clip_value`` and ``schedule`` (see :class:`Optimizer`).
"""

import inspect
import math
from numbers import Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

from fastopt.optim._rule_table import RULES, TUPLE_PARAMETERS, rule_named
from fastopt.optim._schedules import Constant, Schedule
from fastopt.optim._state import OptimizerState

__all__ = ["Optimizer", *(rule.name for rule in RULES)]

_CHECKS = {
    "nonneg": Interval(Real, 0, None, closed="left"),
    "positive": Interval(Real, 0, None, closed="neither"),
    "unit": Interval(Real, 0, 1, closed="left"),
    "closed_unit": Interval(Real, 0, 1, closed="both"),
    "open_unit": Interval(Real, 0, 1, closed="neither"),
    "above_one": Interval(Real, 1, None, closed="neither"),
    "bool": "boolean",
}

# Parameters every optimizer takes besides its rule's hyper-parameters.
_COMMON_DEFAULTS = {"clip_norm": None, "clip_value": None, "schedule": None}
_COMMON_CONSTRAINTS = {
    "clip_norm": [_CHECKS["positive"], None],
    "clip_value": [_CHECKS["positive"], None],
    "schedule": [Schedule, None],
}

# Every RuleConfig field, at the value meaning "not used by this rule".
_UNUSED_FIELDS = {p.c_field: (False if p.check == "bool" else 0.0)
                  for rule in RULES for p in rule.params}


def _signature(rule):
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    defaults = {**{p.name: p.default for p in rule.params}, **_COMMON_DEFAULTS}
    return inspect.Signature([inspect.Parameter("self", kind)] + [
        inspect.Parameter(name, kind, default=default) for name, default in defaults.items()])


def _refuse_pytorch_tuples(cls_name, signature, kwargs):
    """Raise TypeError for PyTorch's tuple arguments, naming the two scalars to use."""
    for torch_name, (first, second) in TUPLE_PARAMETERS.items():
        if torch_name in kwargs and first in signature.parameters:
            value = kwargs[torch_name]
            a, b = value if isinstance(value, (tuple, list)) and len(value) == 2 else ("...",) * 2
            raise TypeError(
                f"{cls_name} takes {first} and {second} as two parameters (so that each can be "
                f"searched), not PyTorch's {torch_name}=(...): use "
                f"{cls_name}({first}={a}, {second}={b})"
            )


def _make_init(rule):
    """``__init__`` storing the rule's hyper-parameters, with their names and defaults."""
    signature = _signature(rule)

    def __init__(self, *args, **kwargs):
        _refuse_pytorch_tuples(rule.name, signature, kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{rule.name}(): {exc}; its parameters are "
                            f"{', '.join(list(signature.parameters)[1:])}") from None
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{rule.name}.__init__"
    __init__.__doc__ = f"Store the hyper-parameters of :class:`{rule.name}`."
    return __init__


def _parameters_section(rule):
    """The numpydoc Parameters section of the rule's class, from its declaration."""
    lines = ["Parameters", "----------"]
    for p in rule.params:
        lines += [f"{p.name} : {'bool' if p.check == 'bool' else 'float'}, "
                  f"default={p.default!r}", f"    {p.doc}"]
    lines.append("clip_norm, clip_value, schedule : see :class:`Optimizer`.")
    return "\n".join("    " + line for line in lines) + "\n"


def _document(doc, rule):
    """Insert the Parameters section before the Examples section (or at the end)."""
    marker = "\n    Examples\n"
    if marker in doc:
        head, tail = doc.split(marker, 1)
        return f"{head.rstrip()}\n\n{_parameters_section(rule)}{marker}{tail}"
    return f"{doc.rstrip()}\n\n{_parameters_section(rule)}    "


class Optimizer(BaseEstimator):
    """Base class of the optimizers: turns validated hyper-parameters into compiled state.

    A subclass names its row of the rule table (``class Adam(Optimizer,
    rule="Adam")``); its ``__init__``, its parameter validation and the
    Parameters section of its docstring follow from that row. Besides its
    rule's hyper-parameters, every optimizer takes:

    Parameters
    ----------
    clip_norm : float, default=None
        Rescale the gradient to at most this global L2 norm, as
        ``torch.nn.utils.clip_grad_norm_`` (None: off).
    clip_value : float, default=None
        Clamp every gradient entry to ``[-clip_value, clip_value]``, after
        ``clip_norm`` (None: off).
    schedule : Schedule, default=None
        A :mod:`fastopt.optim` learning-rate schedule, counted in steps
        (None: constant rate).
    """

    _rule = None

    def __init_subclass__(cls, rule=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if rule is None:
            return
        cls._rule = rule_named(rule)
        cls.__init__ = _make_init(cls._rule)
        cls._parameter_constraints = {
            **{p.name: [_CHECKS[p.check]] for p in cls._rule.params}, **_COMMON_CONSTRAINTS}
        cls.__doc__ = _document(cls.__doc__, cls._rule)

    def _check_consistency(self):
        """Constraints across parameters; raise ValueError when violated."""

    def rule_config(self):
        """Validate the hyper-parameters and return the compiled ``RuleConfig`` dict."""
        if self._rule is None:
            raise TypeError(
                "Optimizer is the base class; use one of its subclasses, e.g. Adam() or SGD()")
        self._validate_params()
        self._check_consistency()
        schedule = self.schedule if self.schedule is not None else Constant()
        config = dict(_UNUSED_FIELDS)
        for p in self._rule.params:
            value = getattr(self, p.name)
            config[p.c_field] = bool(value) if p.check == "bool" else float(value)
        config.update(
            kind=RULES.index(self._rule),
            clip_norm=float(self.clip_norm) if self.clip_norm is not None else 0.0,
            clip_value=float(self.clip_value) if self.clip_value is not None else math.inf,
            schedule=schedule.to_config(),
        )
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
            Step count, scalar state and per-element buffers, initialised as
            PyTorch does.
        """
        return OptimizerState(self.rule_config(), params)

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


class SGD(Optimizer, rule="SGD"):
    r"""Stochastic gradient descent with momentum, dampening and Nesterov.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        g_t &\leftarrow \begin{cases} g_t + \mu b_t & \text{nesterov} \\
                                      b_t & \text{otherwise} \end{cases}
              \quad (\text{if } \mu \neq 0) \\
        \theta_t &= \theta_{t-1} - \eta\, g_t

    Reproduces ``torch.optim.SGD`` (momentum after Sutskever et al., 2013).

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

    def _check_consistency(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={self.momentum}, dampening={self.dampening}"
            )


class Adagrad(Optimizer, rule="Adagrad"):
    r"""Adagrad.

    .. math::

        \tilde\eta_t &= \eta / (1 + (t - 1)\,\delta) \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        s_t &= s_{t-1} + g_t^2, \quad s_0 = a \\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)

    Reproduces ``torch.optim.Adagrad`` (Duchi, Hazan & Singer, 2011).
    """


class RMSprop(Optimizer, rule="RMSprop"):
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
    """


class Adam(Optimizer, rule="Adam"):
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


class AdamW(Adam, rule="AdamW"):
    r"""AdamW: Adam with decoupled weight decay.

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta_t \lambda) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta_t\, \frac{m_t / (1 - \beta_1^t)}
                    {\sqrt{\hat v_t / (1 - \beta_2^t)} + \epsilon}

    with :math:`\hat v_t` as in :class:`Adam`. Reproduces ``torch.optim.AdamW``
    (Loshchilov & Hutter, 2019); the decay uses the scheduled rate :math:`\eta_t`.
    """


class NAdam(Optimizer, rule="NAdam"):
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
    """


class SklearnSGD(Optimizer, rule="SklearnSGD"):
    r"""scikit-learn's MLP ``solver='sgd'`` update.

    .. math::

        u_t &= \mu u_{t-1} - \eta g_t \\
        \theta_t &= \theta_{t-1} + \begin{cases} \mu u_t - \eta g_t & \text{nesterov} \\
                                               u_t & \text{otherwise} \end{cases}

    The formula of ``sklearn.neural_network._stochastic_optimizers.SGDOptimizer``
    (the gradient there already contains the L2 term), used by
    ``MLPClassifier(solver='sgd')`` so that fastopt reproduces scikit-learn.
    """


class SklearnAdam(Optimizer, rule="SklearnAdam"):
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
    """


class Adadelta(Optimizer, rule="Adadelta"):
    r"""Adadelta: steps scaled by the ratio of two running RMS values.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    Reproduces ``torch.optim.Adadelta`` (Zeiler, 2012, "ADADELTA: an adaptive
    learning rate method"); the buffers are :math:`v` (``square_avg``) and
    :math:`u` (``acc_delta``).
    """


class Adamax(Optimizer, rule="Adamax"):
    r"""Adamax: Adam with the infinity norm in place of the second moment.

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \frac{m_t}{u_t}

    Reproduces ``torch.optim.Adamax`` (Kingma & Ba, 2015, section 7.1); the
    buffers are :math:`m` (``exp_avg``) and :math:`u` (``exp_inf``).
    """


class RAdam(Optimizer, rule="RAdam"):
    r"""RAdam: Adam with the variance of its adaptive rate rectified.

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta_t \lambda)
            \ \text{(decoupled)}, \quad
            g_t \leftarrow g_t + \lambda \theta_{t-1} \ \text{(otherwise)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                          {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
        \theta_t &= \theta_{t-1} - \eta \frac{m_t}{1 - \beta_1^t} \cdot
            \begin{cases} r_t \dfrac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}
                & \rho_t > 5 \\ 1 & \text{otherwise} \end{cases}

    Reproduces ``torch.optim.RAdam`` including ``decoupled_weight_decay``
    (Liu et al., 2020, "On the variance of the adaptive learning rate and
    beyond").
    """


class Rprop(Optimizer, rule="Rprop"):
    r"""Rprop: per-element step sizes driven by the sign of the gradient.

    .. math::

        f_t &= \begin{cases} \eta^+ & g_t g_{t-1} > 0 \\ \eta^- & g_t g_{t-1} < 0 \\
                             1 & \text{otherwise} \end{cases}, \quad
        s_0 = \eta \\
        s_t &= \min(\max(s_{t-1} f_t, \Gamma_{min}), \Gamma_{max}) \\
        g_t &\leftarrow 0 \ \text{where } g_t g_{t-1} < 0 \\
        \theta_t &= \theta_{t-1} - \operatorname{sign}(g_t)\, s_t

    Reproduces ``torch.optim.Rprop`` (Riedmiller & Braun, 1993); the buffers
    are :math:`g_{t-1}` (``prev``) and :math:`s` (``step_size``). PyTorch's
    ``etas`` and ``step_sizes`` pairs are the scalars ``etaminus``/``etaplus``
    and ``step_size_min``/``step_size_max``. ``lr`` only sets the initial step
    sizes, so a ``schedule`` has no effect. Rprop is meant for full-batch
    gradients.
    """

    def _check_consistency(self):
        if self.step_size_min > self.step_size_max:
            raise ValueError(
                f"step_size_min={self.step_size_min} must not exceed "
                f"step_size_max={self.step_size_max}"
            )


class ASGD(Optimizer, rule="ASGD"):
    r"""Averaged stochastic gradient descent.

    .. math::

        g_t &\leftarrow g_t + \lambda_{wd} \theta_{t-1} \\
        \theta_t &= \theta_{t-1} (1 - \lambda \eta_t) - \eta_t g_t \\
        \bar\theta_t &= \begin{cases} \theta_t & \mu_t = 1 \\
            \bar\theta_{t-1} + \mu_t (\theta_t - \bar\theta_{t-1}) & \text{otherwise}
            \end{cases} \\
        \eta_{t+1} &= \frac{\eta}{(1 + \lambda \eta t)^\alpha}, \quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}, \quad \eta_1 = \eta,\ \mu_1 = 1

    Reproduces ``torch.optim.ASGD`` (Polyak & Juditsky, 1992, "Acceleration of
    stochastic approximation by averaging"), with :math:`\lambda_{wd}` its
    ``weight_decay``. The average :math:`\bar\theta` is the buffer ``ax``
    (``state.buffers["ax"]``); :math:`\eta_t` and :math:`\mu_t` are
    ``state.scalars``. With a ``schedule``, :math:`\eta` in the update of
    :math:`\eta_{t+1}` is the scheduled rate of step :math:`t`, as with a
    PyTorch scheduler stepped after each optimizer step.
    """


class Lion(Optimizer, rule="Lion"):
    r"""Lion: sign of an interpolated momentum, with decoupled weight decay.

    .. math::

        c_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        \theta_t &= \theta_{t-1} - \eta \left(\operatorname{sign}(c_t)
                    + \lambda \theta_{t-1}\right) \\
        m_t &= \beta_2 m_{t-1} + (1 - \beta_2) g_t

    The published rule of Chen et al., 2023, "Symbolic discovery of
    optimization algorithms" (Algorithm 2), with its defaults; PyTorch has no
    Lion. Every element moves by exactly :math:`\eta` (plus the decay), so
    Lion wants a rate 3-10x smaller than AdamW's and a decay that much larger.
    The buffer :math:`m` is ``exp_avg``.
    """
