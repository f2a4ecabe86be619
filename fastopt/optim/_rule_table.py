"""The update rules of :mod:`fastopt.optim`, each declared once.

A :class:`Rule` row names the rule's C code (its element-wise kernel in
``csrc/fo_rules_impl.h`` and, when it needs per-step scalars, its ``begin``
function in ``csrc/fo_rules.h``), its hyper-parameters with defaults,
constraints and docs, its per-element state buffers with their PyTorch names,
when they are used and their initial values, its scalar state and its
per-step scalars. Everything else follows from this table:

* at build time ``_rule_codegen.py`` writes the C structs (``fo_rule_config``,
  ``fo_rule_state``, ``fo_coef``), the kind-switches of the dispatch and the
  matching Cython declarations (``RuleKind``, ``RuleConfig``, ``RuleState``);
* at run time ``_optimizers.py`` builds each optimizer class's ``__init__``,
  parameter validation and the Parameters section of its docstring, and
  ``_state.pyx`` allocates and initialises the buffers.

This module imports nothing outside the standard library: the build reads it
before anything is compiled. The kind number of a rule is its position in
``RULES`` and is stored in pickled states, so new rules go at the end.
"""

from dataclasses import dataclass

__all__ = ["Buffer", "Param", "RULES", "Rule", "Scalar", "TUPLE_PARAMETERS", "rule_named"]

# Keyword arguments that PyTorch takes as a pair and fastopt as two scalars
# (so that GridSearchCV can search each one).
TUPLE_PARAMETERS = {
    "betas": ("beta_1", "beta_2"),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
}


@dataclass(frozen=True)
class Param:
    """A hyper-parameter.

    ``check`` is one of ``"nonneg"`` ([0, inf)), ``"positive"`` ((0, inf)),
    ``"unit"`` ([0, 1)), ``"closed_unit"`` ([0, 1]), ``"open_unit"``
    ((0, 1)), ``"above_one"`` ((1, inf)) or ``"bool"``. ``field`` is the
    name of the C struct field (default: ``name``).
    """

    name: str
    default: object
    check: str
    doc: str
    field: str = ""

    @property
    def c_field(self):
        return self.field or self.name

    @property
    def c_type(self):
        return "int" if self.check == "bool" else "double"


def _always(config):
    return True


def _zero(config):
    return 0.0


@dataclass(frozen=True)
class Buffer:
    """A per-element state buffer, named as in torch's ``optimizer.state``.

    ``used(config)`` and ``initial(config)`` take the ``RuleConfig`` dict.
    """

    name: str
    used: object = _always
    initial: object = _zero


@dataclass(frozen=True)
class Scalar:
    """A scalar state field of ``RuleState``, initialised from the config dict."""

    name: str
    initial: object
    doc: str


@dataclass(frozen=True)
class Rule:
    """One update rule.

    ``name`` is the Python class, ``c_name`` gives the kind constant
    (``RULE_<C_NAME>``) and, by default, the kernel ``fo_<kernel>_f32/_f64``
    taking ``len(buffers)`` state pointers. ``begin`` names the C function
    ``fo_<begin>_begin`` that fills the rule's per-step scalars ``step``
    (None: the rule needs none).
    """

    name: str
    c_name: str
    params: tuple
    buffers: tuple
    kernel: str = ""
    begin: str = None
    step: tuple = ()
    scalars: tuple = ()

    @property
    def c_kernel(self):
        return self.kernel or self.c_name


def _lr(default):
    return Param("lr", default, "nonneg", r"Learning rate :math:`\eta`.")


def _eps(default):
    return Param("eps", default, "nonneg", r"Term :math:`\epsilon` added to the denominator.")


def _weight_decay(default=0.0, doc=r"L2 penalty :math:`\lambda` added to the gradient."):
    return Param("weight_decay", default, "nonneg", doc)


def _betas(beta_2=0.999):
    return (
        Param("beta_1", 0.9, "unit", r"Decay :math:`\beta_1` of the first moment, in [0, 1).",
              "beta1"),
        Param("beta_2", beta_2, "unit",
              r"Decay :math:`\beta_2` of the second moment, in [0, 1).", "beta2"),
    )


_ADAM_STEP = ("bc1", "bc2_sqrt", "decay")

RULES = (
    Rule(
        "SGD", "sgd",
        params=(
            _lr(1e-3),
            Param("momentum", 0.0, "nonneg", r"Momentum factor :math:`\mu`."),
            Param("dampening", 0.0, "closed_unit", r"Dampening :math:`\tau` for momentum."),
            _weight_decay(),
            Param("nesterov", False, "bool",
                  "Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``."),
        ),
        buffers=(Buffer("momentum_buffer", lambda c: c["momentum"] != 0.0),),
    ),
    Rule(
        "Adagrad", "adagrad",
        params=(
            _lr(1e-2),
            Param("lr_decay", 0.0, "nonneg", r"Learning-rate decay :math:`\delta`."),
            _weight_decay(),
            Param("initial_accumulator_value", 0.0, "nonneg",
                  "Initial value :math:`a` of the sum of squares."),
            _eps(1e-10),
        ),
        buffers=(Buffer("sum", initial=lambda c: c["initial_accumulator_value"]),),
        begin="adagrad",
    ),
    Rule(
        "RMSprop", "rmsprop",
        params=(
            _lr(1e-2),
            Param("alpha", 0.99, "unit",
                  r'Smoothing constant :math:`\alpha` (the "decay" of Keras/TF).'),
            _eps(1e-8),
            _weight_decay(),
            Param("momentum", 0.0, "nonneg", r"Momentum factor :math:`\mu`."),
            Param("centered", False, "bool",
                  "Normalise by an estimate of the gradient's variance."),
        ),
        buffers=(
            Buffer("square_avg"),
            Buffer("grad_avg", lambda c: c["centered"]),
            Buffer("momentum_buffer", lambda c: c["momentum"] > 0.0),
        ),
    ),
    Rule(
        "Adam", "adam",
        params=(
            _lr(1e-3), *_betas(), _eps(1e-8), _weight_decay(),
            Param("amsgrad", False, "bool", r"Use the running maximum of :math:`v_t`."),
        ),
        buffers=(Buffer("exp_avg"), Buffer("exp_avg_sq"),
                 Buffer("max_exp_avg_sq", lambda c: c["amsgrad"])),
        begin="adam", step=_ADAM_STEP,
    ),
    Rule(
        "AdamW", "adamw",
        params=(
            _lr(1e-3), *_betas(), _eps(1e-8),
            _weight_decay(1e-2, r"Decoupled decay coefficient :math:`\lambda`."),
            Param("amsgrad", False, "bool", r"Use the running maximum of :math:`v_t`."),
        ),
        buffers=(Buffer("exp_avg"), Buffer("exp_avg_sq"),
                 Buffer("max_exp_avg_sq", lambda c: c["amsgrad"])),
        kernel="adam", begin="adamw", step=_ADAM_STEP,
    ),
    Rule(
        "NAdam", "nadam",
        params=(
            _lr(2e-3), *_betas(), _eps(1e-8), _weight_decay(),
            Param("momentum_decay", 4e-3, "nonneg", r"Momentum schedule constant :math:`\psi`."),
        ),
        buffers=(Buffer("exp_avg"), Buffer("exp_avg_sq")),
        begin="nadam", step=("bc2", "c_grad", "c_m"),
        scalars=(Scalar("mu_product", lambda c: 1.0, "NAdam: product of mu_1..t"),),
    ),
    Rule(
        "SklearnSGD", "sk_sgd",
        params=(
            Param("lr", 1e-3, "nonneg", r"Learning rate :math:`\eta` (``learning_rate_init``)."),
            Param("momentum", 0.9, "closed_unit", r"Momentum :math:`\mu`."),
            Param("nesterov", True, "bool", "Nesterov's momentum (``nesterovs_momentum``)."),
        ),
        buffers=(Buffer("velocity"),),
    ),
    Rule(
        "SklearnAdam", "sk_adam",
        params=(
            Param("lr", 1e-3, "nonneg", r"Learning rate :math:`\eta` (``learning_rate_init``)."),
            *_betas(),
            Param("eps", 1e-8, "nonneg", r"Term :math:`\epsilon` (``epsilon``)."),
        ),
        buffers=(Buffer("exp_avg"), Buffer("exp_avg_sq")),
        begin="adam", step=_ADAM_STEP,
    ),
    Rule(
        "Adadelta", "adadelta",
        params=(
            Param("lr", 1.0, "nonneg",
                  r"Coefficient :math:`\eta` that scales the delta before it is applied."),
            Param("rho", 0.9, "closed_unit",
                  r"Decay :math:`\rho` of the running averages, in [0, 1]."),
            Param("eps", 1e-6, "nonneg",
                  r"Term :math:`\epsilon` added inside both square roots."),
            _weight_decay(),
        ),
        buffers=(Buffer("square_avg"), Buffer("acc_delta")),
    ),
    Rule(
        "Adamax", "adamax",
        params=(_lr(2e-3), *_betas(), _eps(1e-8), _weight_decay()),
        buffers=(Buffer("exp_avg"), Buffer("exp_inf")),
        begin="adam", step=_ADAM_STEP,
    ),
    Rule(
        "RAdam", "radam",
        params=(
            _lr(1e-3), *_betas(), _eps(1e-8),
            _weight_decay(doc=r"Weight decay :math:`\lambda` (L2 term, or decoupled)."),
            Param("decoupled_weight_decay", False, "bool",
                  r"Decay the parameters by :math:`1 - \eta\lambda` before the step "
                  "(AdamW-style) instead of adding the L2 term to the gradient."),
        ),
        buffers=(Buffer("exp_avg"), Buffer("exp_avg_sq")),
        begin="radam", step=(*_ADAM_STEP, "rect"),
    ),
    Rule(
        "Rprop", "rprop",
        params=(
            Param("lr", 1e-2, "nonneg", r"Initial step size :math:`\eta` of every element."),
            Param("etaminus", 0.5, "open_unit",
                  r"Step-size factor :math:`\eta^-` after a sign change, in (0, 1)."),
            Param("etaplus", 1.2, "above_one",
                  r"Step-size factor :math:`\eta^+` while the sign holds, above 1."),
            Param("step_size_min", 1e-6, "nonneg", r"Smallest step size :math:`\Gamma_{min}`."),
            Param("step_size_max", 50.0, "positive", r"Largest step size :math:`\Gamma_{max}`."),
        ),
        buffers=(Buffer("prev"), Buffer("step_size", initial=lambda c: c["lr"])),
    ),
    Rule(
        "ASGD", "asgd",
        params=(
            _lr(1e-2),
            Param("lambd", 1e-4, "nonneg", r"Decay term :math:`\lambda`."),
            Param("alpha", 0.75, "nonneg", r"Power :math:`\alpha` of the rate update."),
            Param("t0", 1e6, "nonneg", r"Step :math:`t_0` at which averaging starts."),
            _weight_decay(),
        ),
        buffers=(Buffer("ax"),),
        begin="asgd", step=("eta", "mu", "decay"),
        scalars=(Scalar("eta", lambda c: c["lr"], "ASGD: rate of the coming step"),
                 Scalar("mu", lambda c: 1.0, "ASGD: averaging weight of the coming step")),
    ),
    Rule(
        "Lion", "lion",
        params=(
            _lr(1e-4), *_betas(0.99),
            _weight_decay(doc=r"Decoupled decay coefficient :math:`\lambda`."),
        ),
        buffers=(Buffer("exp_avg"),),
        begin="decoupled", step=("decay",),
    ),
)


def rule_named(name):
    """The row of ``RULES`` for the optimizer class ``name``."""
    for rule in RULES:
        if rule.name == name:
            return rule
    known = ", ".join(r.name for r in RULES)
    raise ValueError(f"no update rule named {name!r}; the table declares {known}")
