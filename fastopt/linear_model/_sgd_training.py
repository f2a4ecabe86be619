"""Training drivers of SGDRegressor / SGDClassifier, between the estimators
and the compiled engines.

Translates estimator parameters into engine settings, picks the update rule
for the minibatch engine, and runs scikit-learn's stopping rule (training
objective or validation score, ``n_iter_no_change``, 'adaptive' rate
division) with one compiled epoch per iteration: nothing per sample happens
in Python.
"""

import time

import numpy as np
from sklearn.base import clone

from fastopt import _seeds as seeds
from fastopt._openmp import max_threads
from fastopt._progress import epoch_progress
from fastopt._solver_param import warn_ignored_with_optimizer
from fastopt._stopping import NoImprovement
from fastopt.linear_model import _sgd_fast
from fastopt.optim import (ASGD, SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Optimizer,
                           RAdam, ReduceOnPlateau, RMSprop, Rprop)

MAX_INT = np.iinfo(np.int32).max
# the minibatch engine keeps the optimizer object's own rate and schedule
LR_SOLVER = _sgd_fast.SGDLearningRate.LR_SOLVER


def engine_seed(random_state):
    """Seed of an engine's generator: ``check_random_state(random_state).randint(MAX_INT)``
    as scikit-learn's SGD draws it (cached for an int, see :mod:`fastopt._seeds`)."""
    return seeds.engine_seed(random_state, MAX_INT)


SPARSE_INTERCEPT_DECAY = 0.01

STRING_SOLVERS = {
    "sgd": lambda: SGD(),
    "momentum": lambda: SGD(momentum=0.9),
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "adagrad": lambda: Adagrad(),
    "rmsprop": lambda: RMSprop(),
    "adam": lambda: Adam(),
    "adamw": lambda: AdamW(),
    **{c.__name__.lower(): c for c in (Adadelta, Adamax, RAdam, Rprop, ASGD, Lion)},
}
# Rules whose step is already scaled per coordinate (or sets its own rate): sklearn's
# 'optimal' and 'invscaling' rates (derived for plain SGD) do not apply to them.
_ADAPTIVE_SOLVERS = {"adagrad", "rmsprop", "adam", "adamw", "adadelta", "adamax", "radam",
                     "rprop", "asgd", "lion"}
# Default rates of the rules whose step moves every coordinate by about lr whatever the
# gradient's scale: lr = min(batch_size * rate, max_rate). A normalised step travels about
# lr, so a rate proportional to the batch size keeps the distance travelled per epoch (what
# the stopping rule sees) that of batch_size 1; the cap keeps the last steps' noise below
# scikit-learn's (values measured by benchmarks/bench_solver_defaults.py). Adadelta and
# Rprop set their own step: lr is a multiplier (Adadelta) or the initial step (Rprop), at
# PyTorch's default for any batch size; RAdam's first steps are plain momentum steps (not
# normalised), so its rate does not grow either.
NORMALISED_RATES = {  # solver: (rate, max_rate)
    "adam": (0.002, 0.016), "adamw": (0.002, 0.016), "adamax": (0.002, 0.016),
    "radam": (0.002, 0.002), "rmsprop": (0.001, 0.008), "adagrad": (0.0125, 0.1),
    "lion": (0.0003, 0.0096), "adadelta": (1.0, 1.0), "rprop": (0.01, 0.01),
}
# Other settings of a rule at its default rate: Adadelta averages over 1 / (1 - rho)
# steps, and PyTorch's rho = 0.9 is too short a memory at batch_size 1 (digits -0.017
# against scikit-learn); 0.95 is the value of Zeiler's paper. Rprop's factors: a
# minibatch gradient's sign flips at random, and PyTorch's (0.5, 1.2) halve a step on
# each flip, so the steps collapse (digits -0.062 at batch_size 32); (0.95, 1.02)
# follow the fraction of sign agreements smoothly (measured by
# benchmarks/bench_solver_defaults.py).
DEFAULT_SETTINGS = {"adadelta": {"rho": 0.95}, "rprop": {"etaminus": 0.95, "etaplus": 1.02}}


# scikit-learn's 'optimal' and 'invscaling' rates are derived for plain SGD. With
# momentum mu a step travels about 1 / (1 - mu) = 10 times as far at the same rate, so
# under these schedules the momentum solvers take a fraction of the rate: 0.3 per
# sample (a long-run step about 3 times plain SGD's; 0.1, plain SGD's step, fell short
# on digits, 0.2 by -0.018), 0.2 per minibatch (0.3 fell short on a 20k x 50
# classification by -0.011 with Nesterov); measured by
# benchmarks/bench_solver_defaults.py.
def momentum_rate_scale(batch_size):
    """Fraction of scikit-learn's schedule the momentum solvers step at."""
    return 0.3 if batch_size == 1 else 0.2


def uses_default_rate(est):
    """True when a string solver runs at its own default rate instead of eta0.

    scikit-learn's 'optimal' and 'invscaling' schedules are derived for
    plain SGD; with a normalised rule they mean that rule's default rate.
    """
    return (isinstance(est.solver, str) and est.solver in NORMALISED_RATES
            and est.learning_rate in ("optimal", "invscaling"))


def default_rate(solver, batch_size):
    """Default lr of a normalised rule at this batch size (before the target scale)."""
    rate, max_rate = NORMALISED_RATES[solver]
    return min(batch_size * rate, max_rate)


def _resolve_solver(est, target_scale=1.0):
    """Return (optimizer object, lr_kind code, rate scale) for the minibatch engine.

    ``target_scale`` multiplies a normalised rule's default rate (the
    regressor's target standard deviation: coefficients are in its units).
    """
    solver = est.solver
    if est.learning_rate in ("pa1", "pa2"):
        raise ValueError(
            f"learning_rate={est.learning_rate!r} is only available with solver='sgd', "
            "batch_size=1 and multi_class='ovr'")
    if isinstance(solver, Optimizer):
        # 'adaptive' divides the object's lr; the other rates have no effect.
        ignored = {"eta0": "lr", "power_t": "schedule"}
        if est.learning_rate != "adaptive":
            ignored["learning_rate"] = "schedule"
        warn_ignored_with_optimizer(est, ignored)
        return clone(solver), LR_SOLVER, 1.0
    opt = STRING_SOLVERS[solver]()
    if uses_default_rate(est):
        opt.set_params(lr=default_rate(solver, est.batch_size) * target_scale,
                       **DEFAULT_SETTINGS.get(solver, {}))
        if solver == "adamw":
            # decoupled decay shrinks by lr * weight_decay per step: keep that fraction
            opt.set_params(weight_decay=opt.weight_decay / target_scale)
        return opt, LR_SOLVER, 1.0
    lr_kind = _sgd_fast.LEARNING_RATES[est.learning_rate]
    if solver in _ADAPTIVE_SOLVERS and est.learning_rate == "optimal":
        lr_kind = _sgd_fast.LEARNING_RATES["constant"]
    opt.set_params(lr=est.eta0)
    momentum_schedule = (solver in ("momentum", "nesterov")
                         and est.learning_rate in ("optimal", "invscaling"))
    return opt, lr_kind, momentum_rate_scale(est.batch_size) if momentum_schedule else 1.0


def _loss_param(est, loss):
    if loss == "perceptron":
        return 0.0
    if loss in ("hinge", "squared_hinge"):
        return 1.0
    return float(est.epsilon)


def _optimal_init(est, loss):
    """t offset so that the 'optimal' rate at the first sample is sklearn's eta0."""
    if est.learning_rate != "optimal":
        return 0.0
    typw = np.sqrt(1.0 / np.sqrt(est.alpha))
    d = _sgd_fast.loss_derivative(loss, _loss_param(est, loss), 1.0, -typw)
    return 1.0 / (typw / max(1.0, d) * est.alpha)


def _penalty_settings(est):
    penalty = est.penalty if est.penalty is None else str(est.penalty).lower()
    if penalty == "none":
        penalty = None
    l1_ratio = {"l2": 0.0, "l1": 1.0, None: 0.0}.get(penalty, est.l1_ratio)
    return _sgd_fast.PENALTIES[penalty], float(l1_ratio)


def _objective_config(est, loss, alpha):
    """Loss and penalty fields shared by both engines' configurations."""
    penalty, l1_ratio = _penalty_settings(est)
    return {"loss": _sgd_fast.LOSSES[loss], "loss_param": _loss_param(est, loss),
            "penalty": penalty, "alpha": float(alpha), "l1_ratio": l1_ratio}


def n_threads(n_jobs):
    available = max_threads()
    if n_jobs is None:
        return available
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return max(1, n_jobs)


def uses_plain_engine(est):
    return (isinstance(est.solver, str) and est.solver == "sgd" and est.batch_size == 1
            and getattr(est, "multi_class", "ovr") == "ovr")


def plateau_schedule(est, optimizer=None):
    """The ReduceOnPlateau rule of this fit, or None.

    An optimizer object's own ReduceOnPlateau schedule; else scikit-learn's
    'adaptive', which is ``ReduceOnPlateau(0.2, n_iter_no_change, 1e-6)``.
    """
    if optimizer is not None and isinstance(optimizer.schedule, ReduceOnPlateau):
        return optimizer.schedule
    if est.learning_rate == "adaptive":
        return ReduceOnPlateau(factor=0.2, patience=est.n_iter_no_change, min_lr=1e-6)
    return None


def _format_bias(bias):
    bias = np.ravel(bias)
    if bias.shape[0] == 1:
        return f"{bias[0]:.6f}"
    return "[" + ", ".join(f"{b:.6f}" for b in bias) + "]"


def _run_epochs(est, engine, n_problems, max_iter, train_count, score_cbs, coef_of, eta_of,
                divide_eta, report, plateau, watch, model):
    """scikit-learn's stopping rule, one compiled epoch per iteration.

    With ``verbose``, prints scikit-learn's lines per problem and epoch
    (``report(k)`` gives the norm, non-zeros, bias and loss sum of problem k).
    ``plateau`` (a ReduceOnPlateau or None) cuts a problem's rate;
    ``watch.end_epoch`` records the epoch (the summed objectives of all
    problems, stopped ones at their last value) and stops every problem when
    a callback asks to. Returns the number of epochs run by each problem.
    """
    t_start = time.time()
    rules = [NoImprovement(est.n_iter_no_change, est.tol, higher_is_better=est.early_stopping)
             for _ in range(n_problems)]
    n_iter = np.zeros(n_problems, dtype=int)
    last_objective = np.zeros(n_problems)
    active = list(range(n_problems))
    with epoch_progress(getattr(est, "progress", False), max_iter, type(est).__name__) as bar:
        for epoch in range(max_iter):
            if not active:
                break
            if est.verbose > 0:
                print(f"-- Epoch {epoch + 1}")
            watch.begin_epoch()
            try:
                objectives = engine.epoch(active)
            except FloatingPointError:
                raise ValueError(
                    f"Floating-point under-/overflow occurred at epoch #{epoch + 1}. Scaling "
                    "input data with StandardScaler or MinMaxScaler might help, or a lower "
                    "learning rate (eta0, or the solver's lr)."
                ) from None
            still_active, shown = [], []
            for a, k in enumerate(active):
                n_iter[k] = epoch + 1
                objective = objectives[a] / train_count
                last_objective[k] = objective
                message = ""
                if est.early_stopping:
                    coef, intercept = coef_of(k)
                    score = score_cbs[k](coef, intercept)
                    rules[k].update(score)
                    message = f", Validation score: {score:f}"
                    shown.append(score)
                else:
                    rules[k].update(objective)
                    shown.append(objective)
                if est.verbose > 0:
                    norm, nnz, bias, loss_sum = report(k)
                    print(f"Norm: {norm:.2f}, NNZs: {nnz}, Bias: {_format_bias(bias)}, "
                          f"T: {(epoch + 1) * train_count}, "
                          f"Avg. loss: {loss_sum / train_count:f}, "
                          f"Objective: {objective:f}{message}")
                    print(f"Total training time: {time.time() - t_start:.2f} seconds.")
                if plateau is not None and plateau.cuts(rules[k].count, eta_of(k)):
                    divide_eta(k, plateau.divisor)
                    rules[k].reset()
                if rules[k].stops():
                    if est.verbose > 0:
                        print(f"Convergence after {epoch + 1} epochs took "
                              f"{time.time() - t_start:.2f} seconds")
                    continue
                still_active.append(k)
            active = still_active
            postfix = {"val_score" if est.early_stopping else "loss": f"{np.mean(shown):.4g}"}
            if n_problems > 1:
                postfix["active"] = f"{len(active)}/{n_problems}"
            bar.update(**postfix)
            if not active and epoch + 1 < max_iter:
                bar.stopped(f"{'validation score' if est.early_stopping else 'objective'} "
                            f"did not improve by tol={est.tol} for {est.n_iter_no_change} "
                            "epochs")
            if watch.end_epoch(last_objective.sum(), epoch + 1, model):
                break
    return n_iter


def fit_plain(est, X, Y, sample_weight, validation_mask, score_cbs, coefs, avg_coefs,
               intercepts, avg_intercepts, weight_pos, weight_neg, seed, loss, learning_rate,
               alpha, max_iter, n_threads, watch):
    """Run scikit-learn's per-sample SGD on the rows of ``coefs`` (in place).

    Returns the new intercepts, average intercepts and per-problem epochs.
    """
    sparse = hasattr(X, "indptr")
    config = {
        **_objective_config(est, loss, alpha),
        "learning_rate": _sgd_fast.LEARNING_RATES[learning_rate],
        "eta0": float(est.eta0),
        "power_t": float(est.power_t),
        "optimal_init": _optimal_init(est, loss),
        "fit_intercept": int(est.fit_intercept),
        "intercept_decay": SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        "average": float(est.average),
        "track_objective": 1,  # loss_curve_
    }
    train_idx = np.flatnonzero(~validation_mask)
    engine = _sgd_fast.PlainSGD(
        config, X, Y, sample_weight, train_idx, coefs, avg_coefs, intercepts,
        avg_intercepts, weight_pos, weight_neg, seed, float(est.t_), bool(est.shuffle),
        n_threads)
    # the engine's coefficients (a feature-major copy for CSR one-vs-rest)
    coefs, avg_coefs = engine.coefs, engine.avg_coefs

    def coef_of(k):
        # As scikit-learn's _plain_sgd: the validation score sees the stored
        # coefficient array, without the pending L2 scale factor (wscale).
        return coefs[k], engine.intercept(k)[0]

    t_start = est.t_

    def model(n_epochs):
        # The coefficients with the engine's pending factors applied, averaged
        # once the estimator would report the average (as at the end of a fit).
        averaged = avg_coefs is not None and est.average <= t_start + n_epochs * X.shape[0] - 1
        coef, intercept = np.empty_like(coefs), np.empty(coefs.shape[0])
        for k in range(coefs.shape[0]):
            wscale, average_a, average_b = engine.scales(k)
            standard_intercept, average_intercept = engine.intercept(k)
            intercept[k] = average_intercept if averaged else standard_intercept
            coef[k] = ((avg_coefs[k] + average_a * coefs[k]) / average_b if averaged
                       else wscale * coefs[k])
        return coef, intercept

    n_iter = _run_epochs(
        est, engine, coefs.shape[0], max_iter, train_idx.shape[0], score_cbs, coef_of,
        engine.eta, lambda k, f: engine.set_eta(k, engine.eta(k) / f), engine.report,
        plateau_schedule(est), watch, model)
    engine.store()
    new_intercepts = np.empty(coefs.shape[0])
    new_avg = np.empty(coefs.shape[0])
    for k in range(coefs.shape[0]):
        new_intercepts[k], new_avg[k] = engine.intercept(k)
    return new_intercepts, new_avg, n_iter


def fit_minibatch(est, X, Y, sample_weight, validation_mask, score_cb, coef, intercept,
                   weight_pos, weight_neg, loss, alpha, max_iter, multinomial, reuse_state,
                   watch, target_scale=1.0):
    """Train the outputs (rows of ``coef``) jointly with a fastopt.optim rule.

    ``target_scale`` multiplies a normalised rule's default rate (see
    ``_resolve_solver``).

    Returns (coef, intercept, n_iter) as views of one flat buffer.
    """
    if est.average:
        raise ValueError(
            "average is only supported with solver='sgd', batch_size=1 and "
            "multi_class='ovr'; got solver={!r}, batch_size={}".format(
                est.solver, est.batch_size))
    K, d = coef.shape
    params = np.concatenate([coef.ravel(), np.ravel(intercept)]).astype(X.dtype)
    opt, lr_kind, rate_scale = _resolve_solver(est, target_scale)
    state = getattr(est, "_solver_state", None) if reuse_state else None
    if state is None or state.shapes != (params.shape,) or state.dtype != params.dtype:
        state = opt.init(params)
    config = {
        **_objective_config(est, loss, alpha),
        "multinomial": bool(multinomial),
        "fit_intercept": bool(est.fit_intercept),
        "batch_size": int(est.batch_size),
        "lr_kind": lr_kind,
        "eta0": float(est.eta0),
        "power_t": float(est.power_t),
        "optimal_init": _optimal_init(est, loss) if lr_kind != LR_SOLVER else 0.0,
        "rate_scale": rate_scale,
    }
    train_idx = np.flatnonzero(~validation_mask)
    seed = engine_seed(est.random_state)
    engine = _sgd_fast.MinibatchSGD(
        config, X, Y, sample_weight, train_idx, params, state, weight_pos, weight_neg,
        seed, bool(est.shuffle), max_threads())
    range_test = est.__dict__.get("_range_test")
    if range_test is not None:
        # fastopt.lr_find on a clone: the range test replaces the epochs and ends the
        # fit by raising (see fastopt/_lr_find.py)
        range_test.run(engine.range_test)
    eta = {"value": float(est.eta0) if lr_kind != LR_SOLVER else opt.lr}

    def divide_eta(k, factor):
        eta["value"] = engine.divide_lr(factor)

    def coef_of(k):
        return params[: K * d].reshape(K, d), params[K * d:]

    def model(n_epochs):
        return params[: K * d].reshape(K, d).copy(), params[K * d:].copy()

    n_iter = _run_epochs(
        est, _JointEpochs(engine, params), 1, max_iter, train_idx.shape[0], [score_cb], coef_of,
        lambda k: eta["value"], divide_eta, lambda k: engine.report(),
        plateau_schedule(est, opt), watch, model)
    est._solver_state = state
    return params[: K * d].reshape(K, d), params[K * d:], int(n_iter[0])


class _JointEpochs:
    """Adapter: the minibatch engine seen as a single problem by _run_epochs.

    Like ``PlainSGD.epoch`` (and scikit-learn's ``_plain_sgd``), an epoch that
    leaves a non-finite parameter raises ``FloatingPointError`` before any
    validation score is computed from it.
    """

    def __init__(self, engine, params):
        self.engine = engine
        self.params = params

    def epoch(self, active):
        objective = self.engine.epoch()
        if not np.isfinite(self.params).all():
            raise FloatingPointError("non-finite coefficients")
        return np.array([objective])


class MulticlassScore:
    """Validation accuracy of the joint (multinomial or one-vs-rest) model."""

    def __init__(self, est, X_val, y_val, sample_weight_val):
        self.estimator = clone(est)
        self.estimator.classes_ = est.classes_
        self.estimator.t_ = 1
        self.X_val, self.y_val, self.sw_val = X_val, y_val, sample_weight_val

    def __call__(self, coef, intercept):
        self.estimator.coef_ = coef
        self.estimator.intercept_ = intercept
        return self.estimator.score(self.X_val, self.y_val, self.sw_val)
