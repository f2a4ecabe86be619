"""Map the estimators' ``solver`` parameter to a fastopt.optim optimizer.

The string solvers ``'sgd'`` and ``'adam'`` reproduce scikit-learn's MLP
update formulas (``SklearnSGD``/``SklearnAdam``); ``'adamw'``, ``'nadam'``,
``'rmsprop'`` and ``'adagrad'`` follow PyTorch's algorithms with the
estimator's ``learning_rate_init`` (and ``beta_1``, ``beta_2``, ``epsilon``
where the rule has them). An optimizer object is cloned, never mutated; the
flat parameters it makes irrelevant (``learning_rate_init``, ``beta_1``, ...)
warn when they are set.
"""

from sklearn.base import clone

from fastopt._solver_param import warn_ignored_with_optimizer
from fastopt.optim import (
    ASGD,
    Adadelta,
    Adagrad,
    Adamax,
    AdamW,
    Lion,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
    Rprop,
    Schedule,
    SklearnAdam,
    SklearnSGD,
)

# Solvers named after their class, with lr=learning_rate_init and their own other defaults.
NAMED_SOLVERS = {c.__name__.lower(): c for c in (Adadelta, Adamax, RAdam, Rprop, ASGD, Lion)}
STRING_SOLVERS = ("lbfgs", "sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", *NAMED_SOLVERS)

__all__ = ["STRING_SOLVERS", "make_optimizer"]

# Flat parameters that only string solvers read, and what to set on an
# optimizer object instead.
_IGNORED_WITH_OBJECT = {
    "learning_rate_init": "lr",
    "momentum": "momentum",
    "nesterovs_momentum": "nesterov",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "eps",
    "power_t": "schedule",
}


def _warn_ignored(est):
    names = dict(_IGNORED_WITH_OBJECT)
    if isinstance(est.learning_rate, str):  # a Schedule object does apply
        names["learning_rate"] = "schedule"
    warn_ignored_with_optimizer(est, names)


def make_optimizer(est):
    """Return a fresh optimizer object configured from estimator ``est``.

    ``est.clip_norm``/``est.clip_value`` and a schedule passed as
    ``est.learning_rate`` override the corresponding settings of an optimizer
    object when they are not None.
    """
    schedule = est.learning_rate if isinstance(est.learning_rate, Schedule) else None
    common = {"clip_norm": est.clip_norm, "clip_value": est.clip_value, "schedule": schedule}
    solver = est.solver
    if isinstance(solver, Optimizer):
        _warn_ignored(est)
        opt = clone(solver)
        return opt.set_params(**{k: v for k, v in common.items() if v is not None})
    lr = est.learning_rate_init
    betas = {"beta_1": est.beta_1, "beta_2": est.beta_2, "eps": est.epsilon}
    if solver == "sgd":
        return SklearnSGD(lr=lr, momentum=est.momentum, nesterov=est.nesterovs_momentum,
                          **common)
    if solver == "adam":
        return SklearnAdam(lr=lr, **betas, **common)
    if solver == "adamw":
        return AdamW(lr=lr, **betas, **common)
    if solver == "nadam":
        return NAdam(lr=lr, **betas, **common)
    if solver in NAMED_SOLVERS:
        return NAMED_SOLVERS[solver](lr=lr, **common)
    if solver == "rmsprop":
        return RMSprop(lr=lr, eps=est.epsilon, **common)
    return Adagrad(lr=lr, eps=est.epsilon, **common)
