"""SGDRegressor and SGDClassifier: scikit-learn's estimators on compiled loops.

The classes subclass scikit-learn's own ``SGDRegressor``/``SGDClassifier``, so
parameter validation, input checks, class weights, the validation split,
``predict_proba``, ``densify``/``sparsify`` and every fitted attribute are
exactly scikit-learn's. What is replaced is the training: the hooks
``_fit_regressor``/``_fit_binary``/``_fit_multiclass`` run one of the two
engines of :mod:`fastopt.linear_model._sgd_fast`, one compiled call per
epoch, and this module keeps scikit-learn's stopping rule between epochs.

* ``solver='sgd'`` with ``batch_size=1`` (the default) and one-vs-rest is
  scikit-learn's algorithm (``PlainSGD``), the one-vs-rest problems running in
  parallel threads.
* Any other solver, batch size, or ``multi_class='multinomial'`` trains all
  outputs together with minibatch gradients and a :mod:`fastopt.optim`
  update rule (``MinibatchSGD``).
"""

import copy
from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier as _SkSGDClassifier
from sklearn.linear_model import SGDRegressor as _SkSGDRegressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from fastopt.linear_model import _sgd_fast
from fastopt.optim import SGD, Adagrad, Adam, AdamW, Optimizer, OptimizerState, RMSprop

__all__ = ["SGDClassifier", "SGDRegressor"]

MAX_INT = np.iinfo(np.int32).max
SPARSE_INTERCEPT_DECAY = 0.01

_STRING_SOLVERS = {
    "sgd": lambda: SGD(),
    "momentum": lambda: SGD(momentum=0.9),
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "adagrad": lambda: Adagrad(),
    "rmsprop": lambda: RMSprop(),
    "adam": lambda: Adam(),
    "adamw": lambda: AdamW(),
}
# Rules whose step is already scaled per coordinate: sklearn's 'optimal' rate
# (derived for plain SGD) means the constant rate eta0 for them.
_ADAPTIVE_SOLVERS = {"adagrad", "rmsprop", "adam", "adamw"}

_EXTRA_CONSTRAINTS = {
    "solver": [StrOptions(set(_STRING_SOLVERS)), Optimizer],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
}

_SOLVER_DOC = """
    solver : {'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', \
'adamw'} or fastopt.optim.Optimizer, default='sgd'
        The update rule. ``'sgd'`` with ``batch_size=1`` is scikit-learn's
        algorithm. Other strings use the :mod:`fastopt.optim` rule of that
        name with default hyper-parameters (momentum 0.9 for 'momentum' and
        'nesterov') and the rate given by ``learning_rate``/``eta0``/
        ``power_t``, evaluated per optimizer step ('optimal' means the
        constant ``eta0`` for the adaptive rules 'adagrad', 'rmsprop',
        'adam', 'adamw'). An optimizer object brings its own rate, schedule
        and clipping (``learning_rate='adaptive'`` still divides its rate by
        5 on plateaus); it is cloned, never modified.
        With any solver other than ``'sgd'`` at ``batch_size=1`` every output
        is trained jointly: the gradient of the mean loss over a minibatch
        plus the penalty gradient (L2: ``alpha (1 - l1_ratio) w``, L1:
        subgradient ``alpha l1_ratio sign(w)``) is stepped over the flat
        ``[coef, intercept]`` buffer; ``n_iter_`` is then shared by all
        outputs. On CSR input the steps are lazy: only coefficients of
        features present in the minibatch (and the intercepts) are stepped,
        and only their optimizer state advances, so a step costs
        O(nnz(minibatch) * n_outputs); features absent from a minibatch see
        neither their penalty nor their moment decay at that step.
        ``average`` is only supported by the default per-sample solver.
    batch_size : int, default=1
        Samples per update. 1 with ``solver='sgd'`` is scikit-learn's
        per-sample algorithm.
"""


def _resolve_solver(est, n_outputs_sgd):
    """Return (optimizer object, lr_kind code) for the minibatch engine."""
    solver = est.solver
    if isinstance(solver, Optimizer):
        return clone(solver), 0
    if est.learning_rate in ("pa1", "pa2"):
        raise ValueError(
            f"learning_rate={est.learning_rate!r} is only available with solver='sgd', "
            "batch_size=1 and multi_class='ovr'")
    lr_kind = _sgd_fast.LEARNING_RATES[est.learning_rate]
    if solver in _ADAPTIVE_SOLVERS and est.learning_rate == "optimal":
        lr_kind = _sgd_fast.LEARNING_RATES["constant"]
    opt = _STRING_SOLVERS[solver]()
    opt.set_params(lr=est.eta0)
    return opt, lr_kind


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


def _n_threads(n_jobs):
    max_threads = _sgd_fast.max_threads()
    if n_jobs is None:
        return max_threads
    if n_jobs < 0:
        return max(1, max_threads + 1 + n_jobs)
    return max(1, n_jobs)


def _uses_plain_engine(est):
    return (isinstance(est.solver, str) and est.solver == "sgd" and est.batch_size == 1
            and getattr(est, "multi_class", "ovr") == "ovr")


def _run_epochs(est, engine, n_problems, max_iter, train_count, score_cbs, coef_of, eta_of,
                divide_eta):
    """scikit-learn's stopping rule, one compiled epoch per iteration.

    Returns the number of epochs run by each problem.
    """
    tol = est.tol if est.tol is not None else -np.inf
    best_objective = np.full(n_problems, np.inf)
    best_score = np.full(n_problems, -np.inf)
    no_improvement = np.zeros(n_problems, dtype=int)
    n_iter = np.zeros(n_problems, dtype=int)
    active = list(range(n_problems))
    for epoch in range(max_iter):
        if not active:
            break
        if est.verbose > 0:
            print(f"-- Epoch {epoch + 1}")
        try:
            objectives = engine.epoch(active)
        except FloatingPointError:
            raise ValueError(
                f"Floating-point under-/overflow occurred at epoch #{epoch + 1}. Scaling "
                "input data with StandardScaler or MinMaxScaler might help, or a lower "
                "learning rate (eta0, or the solver's lr)."
            ) from None
        still_active = []
        for a, k in enumerate(active):
            n_iter[k] = epoch + 1
            if est.early_stopping:
                coef, intercept = coef_of(k)
                score = score_cbs[k](coef, intercept)
                if tol > -np.inf and score < best_score[k] + tol:
                    no_improvement[k] += 1
                else:
                    no_improvement[k] = 0
                best_score[k] = max(best_score[k], score)
                message = f"Validation score: {score:f}"
            else:
                objective = objectives[a] / train_count
                if tol > -np.inf and objective > best_objective[k] - tol:
                    no_improvement[k] += 1
                else:
                    no_improvement[k] = 0
                best_objective[k] = min(best_objective[k], objective)
                message = f"Objective: {objective:f}"
            if est.verbose > 0:
                print(f"Problem {k}: {message}")
            if no_improvement[k] >= est.n_iter_no_change:
                if est.learning_rate == "adaptive" and eta_of(k) > 1e-6:
                    divide_eta(k, 5.0)
                    no_improvement[k] = 0
                else:
                    if est.verbose > 0:
                        print(f"Convergence after {epoch + 1} epochs")
                    continue
            still_active.append(k)
        active = still_active
    return n_iter


def _fit_plain(est, X, Y, sample_weight, validation_mask, score_cbs, coefs, avg_coefs,
               intercepts, avg_intercepts, weight_pos, weight_neg, seeds, loss, learning_rate,
               alpha, max_iter, n_threads):
    """Run scikit-learn's per-sample SGD on the rows of ``coefs`` (in place).

    Returns the new intercepts, average intercepts and per-problem epochs.
    """
    penalty, l1_ratio = _penalty_settings(est)
    sparse = hasattr(X, "indptr")
    config = {
        "loss": _sgd_fast.LOSSES[loss],
        "loss_param": _loss_param(est, loss),
        "penalty": penalty,
        "alpha": float(alpha),
        "l1_ratio": l1_ratio,
        "learning_rate": _sgd_fast.LEARNING_RATES[learning_rate],
        "eta0": float(est.eta0),
        "power_t": float(est.power_t),
        "optimal_init": _optimal_init(est, loss),
        "fit_intercept": int(est.fit_intercept),
        "intercept_decay": SPARSE_INTERCEPT_DECAY if sparse else 1.0,
        "average": float(est.average),
        "track_objective": int(bool(est.verbose) or not est.early_stopping),
        "n_features": X.shape[1],
        "wscale_min": 0.0,
    }
    train_idx = np.flatnonzero(~validation_mask)
    engine = _sgd_fast.PlainSGD(
        config, X, Y, sample_weight, train_idx, coefs, avg_coefs, intercepts,
        avg_intercepts, weight_pos, weight_neg, seeds, float(est.t_), bool(est.shuffle),
        n_threads)

    def coef_of(k):
        engine.sync(k)
        return coefs[k], engine.intercept(k)[0]

    n_iter = _run_epochs(
        est, engine, coefs.shape[0], max_iter, train_idx.shape[0], score_cbs, coef_of,
        engine.eta, lambda k, f: engine.set_eta(k, engine.eta(k) / f))
    new_intercepts = np.empty(coefs.shape[0])
    new_avg = np.empty(coefs.shape[0])
    for k in range(coefs.shape[0]):
        engine.sync(k)
        new_intercepts[k], new_avg[k] = engine.intercept(k)
    return new_intercepts, new_avg, n_iter


def _fit_minibatch(est, X, Y, sample_weight, validation_mask, score_cb, coef, intercept,
                   weight_pos, weight_neg, loss, alpha, max_iter, multinomial, reuse_state):
    """Train the outputs (rows of ``coef``) jointly with a fastopt.optim rule.

    Returns (coef, intercept, n_iter) as views of one flat buffer.
    """
    if est.average:
        raise ValueError(
            "average is only supported with solver='sgd', batch_size=1 and "
            "multi_class='ovr'; got solver={!r}, batch_size={}".format(
                est.solver, est.batch_size))
    K, d = coef.shape
    params = np.concatenate([coef.ravel(), np.ravel(intercept)]).astype(X.dtype)
    opt, lr_kind = _resolve_solver(est, K)
    state = getattr(est, "_solver_state", None) if reuse_state else None
    if state is None or state.shapes != (params.shape,) or state.dtype != params.dtype:
        state = opt.init(params)
    penalty, l1_ratio = _penalty_settings(est)
    config = {
        "loss": _sgd_fast.LOSSES[loss],
        "loss_param": _loss_param(est, loss),
        "penalty": penalty,
        "alpha": float(alpha),
        "l1_ratio": l1_ratio,
        "multinomial": bool(multinomial),
        "fit_intercept": bool(est.fit_intercept),
        "batch_size": int(est.batch_size),
        "lr_kind": lr_kind,
        "eta0": float(est.eta0),
        "power_t": float(est.power_t),
        "optimal_init": _optimal_init(est, loss) if lr_kind else 0.0,
    }
    train_idx = np.flatnonzero(~validation_mask)
    seed = check_random_state(est.random_state).randint(MAX_INT)
    engine = _sgd_fast.MinibatchSGD(
        config, X, Y, sample_weight, train_idx, params, state, weight_pos, weight_neg,
        seed, bool(est.shuffle), _sgd_fast.max_threads())
    eta = {"value": float(est.eta0) if lr_kind else opt.lr}

    def divide_eta(k, factor):
        eta["value"] = engine.divide_lr(factor)

    def coef_of(k):
        return params[: K * d].reshape(K, d), params[K * d:]

    n_iter = _run_epochs(
        est, _JointEpochs(engine), 1, max_iter, train_idx.shape[0], [score_cb], coef_of,
        lambda k: eta["value"], divide_eta)
    est._solver_state = state
    return params[: K * d].reshape(K, d), params[K * d:], int(n_iter[0])


class _JointEpochs:
    """Adapter: the minibatch engine seen as a single problem by _run_epochs."""

    def __init__(self, engine):
        self.engine = engine

    def epoch(self, active):
        return np.array([self.engine.epoch()])


class _MulticlassScore:
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


class _KeepModelOnError:
    """Mixin: a fit or partial_fit that raises leaves the previous model intact."""

    def _restoring(self, method, *args, **kwargs):
        if method.__name__ == "partial_fit" and not get_config()["skip_parameter_validation"]:
            self._validate_params()  # scikit-learn skips it in partial_fit once fitted
        sample_weight = kwargs.get("sample_weight")
        if sample_weight is not None and np.any(np.asarray(sample_weight) < 0):
            raise ValueError("sample_weight must be non-negative (>= 0): a negative weight "
                             "makes the loss unbounded below")
        saved = {key: value.copy() if isinstance(value, np.ndarray)
                 else copy.deepcopy(value) if isinstance(value, OptimizerState) else value
                 for key, value in self.__dict__.items()}
        try:
            return method(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model with stochastic gradient descent.

        See :meth:`sklearn.linear_model.SGDClassifier.fit`; on error the
        previously fitted model is left unchanged.
        """
        return self._restoring(super().fit, X, y, coef_init=coef_init,
                               intercept_init=intercept_init, sample_weight=sample_weight)


class SGDRegressor(_KeepModelOnError, _SkSGDRegressor):
    __doc__ = (_SkSGDRegressor.__doc__.split("    Attributes\n")[0].replace(
        "    Parameters\n    ----------\n",
        "    Parameters\n    ----------\n" + _SOLVER_DOC.lstrip("\n"), 1)
        + "    Attributes\n" + _SkSGDRegressor.__doc__.split("    Attributes\n")[1]
        .split("    See Also\n")[0])

    _parameter_constraints = {**_SkSGDRegressor._parameter_constraints, **_EXTRA_CONSTRAINTS}

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        random_state=None,
        learning_rate="invscaling",
        eta0=0.01,
        power_t=0.25,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        warm_start=False,
        average=False,
        solver="sgd",
        batch_size=1,
    ):
        super().__init__(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, shuffle=shuffle,
            verbose=verbose, epsilon=epsilon, random_state=random_state,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, warm_start=warm_start, average=average)
        self.solver = solver
        self.batch_size = batch_size

    def _fit(self, *args, **kwargs):
        self._solver_state = None
        return super()._fit(*args, **kwargs)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over the given samples, keeping the solver state.

        See :meth:`sklearn.linear_model.SGDRegressor.partial_fit`.
        """
        return self._restoring(super().partial_fit, X, y, sample_weight=sample_weight)

    def _fit_regressor(self, X, y, alpha, loss, learning_rate, sample_weight, max_iter):
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
        score_cb = self._make_validation_score_cb(validation_mask, X, y, sample_weight)
        Y = np.ascontiguousarray(y, dtype=X.dtype).reshape(1, -1)
        if not _uses_plain_engine(self):
            coef, intercept, self.n_iter_ = _fit_minibatch(
                self, X, Y, sample_weight, validation_mask, score_cb,
                self.coef_.reshape(1, -1), self.intercept_, np.ones(1), np.ones(1), loss,
                alpha, max_iter, False, reuse_state=True)
            self.coef_, self.intercept_ = coef.ravel(), intercept
            self.t_ += self.n_iter_ * X.shape[0]
            return
        random_state = check_random_state(self.random_state)
        seed = random_state.randint(0, MAX_INT)
        coef = self._standard_coef if self.average else self.coef_
        intercept = self._standard_intercept if self.average else self.intercept_
        coefs = coef.reshape(1, -1)
        avg_coefs = self._average_coef.reshape(1, -1) if self.average else None
        avg_intercept = self._average_intercept if self.average else np.zeros(1)
        intercepts, avg_intercepts, n_iter = _fit_plain(
            self, X, Y, sample_weight, validation_mask, [score_cb], coefs, avg_coefs,
            np.atleast_1d(intercept).astype(np.float64), np.atleast_1d(avg_intercept),
            np.ones(1), np.ones(1), np.array([seed], dtype=np.uint64), loss, learning_rate,
            alpha, max_iter, 1)
        self.n_iter_ = int(n_iter[0])
        self.t_ += self.n_iter_ * X.shape[0]
        # scikit-learn returns the intercepts as float64 whatever X's dtype.
        if self.average > 0:
            self._average_intercept = avg_intercepts
            self._standard_intercept = intercepts
            if self.average <= self.t_ - 1.0:
                self.coef_ = self._average_coef
                self.intercept_ = self._average_intercept
            else:
                self.coef_ = coef
                self.intercept_ = intercepts
        else:
            self.intercept_ = intercepts


class SGDClassifier(_KeepModelOnError, _SkSGDClassifier):
    __doc__ = (_SkSGDClassifier.__doc__.split("    Attributes\n")[0].replace(
        "    Parameters\n    ----------\n",
        "    Parameters\n    ----------\n" + _SOLVER_DOC.lstrip("\n") + """\
    multi_class : {'ovr', 'multinomial'}, default='ovr'
        'ovr' trains one binary classifier per class (in parallel threads,
        ``n_jobs`` of them; ``None`` means all OpenMP threads -- results do
        not depend on the thread count). 'multinomial' minimises the softmax
        cross-entropy over all classes jointly (needs ``loss='log_loss'``;
        ``predict_proba`` is then the softmax).
""", 1)
        + "    Attributes\n" + _SkSGDClassifier.__doc__.split("    Attributes\n")[1]
        .split("    See Also\n")[0])

    _parameter_constraints = {
        **_SkSGDClassifier._parameter_constraints,
        **_EXTRA_CONSTRAINTS,
        "multi_class": [StrOptions({"ovr", "multinomial"})],
    }

    def __init__(
        self,
        loss="hinge",
        *,
        penalty="l2",
        alpha=0.0001,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        epsilon=0.1,
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
        solver="sgd",
        batch_size=1,
        multi_class="ovr",
    ):
        super().__init__(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, shuffle=shuffle,
            verbose=verbose, epsilon=epsilon, n_jobs=n_jobs, random_state=random_state,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, class_weight=class_weight,
            warm_start=warm_start, average=average)
        self.solver = solver
        self.batch_size = batch_size
        self.multi_class = multi_class

    def _more_validate_params(self, for_partial_fit=False):
        super()._more_validate_params(for_partial_fit=for_partial_fit)
        if self.multi_class == "multinomial" and self.loss != "log_loss":
            raise ValueError(
                "multi_class='multinomial' needs loss='log_loss' (softmax cross-entropy); "
                f"got loss={self.loss!r}")

    def _fit(self, *args, **kwargs):
        self._solver_state = None
        return super()._fit(*args, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over the given samples, keeping the solver state.

        See :meth:`sklearn.linear_model.SGDClassifier.partial_fit`.
        """
        return self._restoring(super().partial_fit, X, y, classes=classes,
                               sample_weight=sample_weight)

    def _ovr_targets(self, y, dtype, positives):
        """(K, n) targets: {0, 1} for log_loss, {-1, +1} otherwise."""
        neg = 0.0 if self.loss == "log_loss" else -1.0
        return np.ascontiguousarray(
            np.where(y[None, :] == self.classes_[positives][:, None], 1.0, neg), dtype=dtype)

    def _fit_binary(self, X, y, alpha, sample_weight, learning_rate, max_iter):
        self._fit_problems(X, y, alpha, sample_weight, learning_rate, max_iter, [1])

    def _fit_multiclass(self, X, y, alpha, learning_rate, sample_weight, max_iter):
        self._fit_problems(X, y, alpha, sample_weight, learning_rate, max_iter,
                           list(range(len(self.classes_))))

    def _fit_problems(self, X, y, alpha, sample_weight, learning_rate, max_iter, positives):
        """Fit one problem per positive class (binary: only classes_[1])."""
        positives = np.asarray(positives)
        binary = len(self.classes_) == 2
        cw = self._expanded_class_weight
        if binary:
            weight_pos, weight_neg = cw[1:2], cw[0:1]
        else:
            weight_pos, weight_neg = cw, np.ones(len(cw))
        if not _uses_plain_engine(self):
            self._fit_joint(X, y, alpha, sample_weight, max_iter, positives, weight_pos,
                            weight_neg)
            return
        random_state = check_random_state(self.random_state)
        if binary:
            Y = self._ovr_targets(y, X.dtype, positives)
            validation_mask = self._make_validation_split(Y[0], sample_mask=sample_weight > 0)
        else:
            validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
            Y = self._ovr_targets(y, X.dtype, positives)
        seeds = random_state.randint(MAX_INT, size=len(positives)).astype(np.uint64)
        score_cbs = [
            self._make_validation_score_cb(validation_mask, X, Y[k], sample_weight,
                                           classes=np.array([-1, 1], dtype=X.dtype))
            for k in range(len(positives))
        ]
        coefs = (self._standard_coef if self.average else self.coef_).reshape(
            len(positives), -1)
        intercepts = np.atleast_1d(
            self._standard_intercept if self.average else self.intercept_).astype(np.float64)
        avg_coefs = self._average_coef.reshape(len(positives), -1) if self.average else None
        avg_intercepts = (np.atleast_1d(self._average_intercept).astype(np.float64)
                          if self.average else np.zeros(len(positives)))
        new_intercepts, new_avg, n_iter = _fit_plain(
            self, X, Y, sample_weight, validation_mask, score_cbs, coefs, avg_coefs,
            intercepts, avg_intercepts, np.asarray(weight_pos, np.float64),
            np.asarray(weight_neg, np.float64), seeds, self.loss, learning_rate, alpha,
            max_iter, _n_threads(self.n_jobs))
        self.n_iter_ = int(n_iter.max())
        self.t_ += self.n_iter_ * X.shape[0]
        # As scikit-learn: binary intercepts come back as float64, one-vs-rest
        # intercepts are stored into arrays of X's dtype.
        intercept_ = new_intercepts if binary else new_intercepts.astype(X.dtype)
        if self.average > 0:
            self._average_intercept[:] = new_avg
            if self.average <= self.t_ - 1.0:
                self.coef_ = self._average_coef.reshape(len(positives), -1)
                self.intercept_ = self._average_intercept
            else:
                self.coef_ = coefs
                self._standard_intercept = intercept_
                self.intercept_ = intercept_
        else:
            self.coef_ = coefs
            self.intercept_ = intercept_

    def _fit_joint(self, X, y, alpha, sample_weight, max_iter, positives, weight_pos,
                   weight_neg):
        """All outputs in one flat buffer, trained by the minibatch engine."""
        binary = len(self.classes_) == 2
        multinomial = self.multi_class == "multinomial" and not binary
        n_classes = len(self.classes_)
        if multinomial:
            Y = np.searchsorted(self.classes_, y).astype(X.dtype).reshape(1, -1)
        else:
            Y = self._ovr_targets(y, X.dtype, positives)
        validation_mask = self._make_validation_split(
            y if not binary else Y[0], sample_mask=sample_weight > 0)
        score_cb = None
        if self.early_stopping:
            if binary:
                score_cb = self._make_validation_score_cb(
                    validation_mask, X, Y[0], sample_weight,
                    classes=np.array([-1, 1], dtype=X.dtype))
            else:
                score_cb = _MulticlassScore(self, X[validation_mask], y[validation_mask],
                                            sample_weight[validation_mask])
        n_out = n_classes if (multinomial or not binary) else 1
        coef = np.asarray(self.coef_).reshape(n_out, -1)
        coef, intercept, self.n_iter_ = _fit_minibatch(
            self, X, Y, sample_weight, validation_mask, score_cb, coef, self.intercept_,
            np.asarray(weight_pos, np.float64), np.asarray(weight_neg, np.float64),
            self.loss, alpha, max_iter, multinomial, reuse_state=True)
        self.coef_, self.intercept_ = coef, intercept
        self.t_ += self.n_iter_ * X.shape[0]

    @available_if(_SkSGDClassifier._check_proba)
    def predict_proba(self, X):
        """Probability estimates (softmax for ``multi_class='multinomial'``).

        See :meth:`sklearn.linear_model.SGDClassifier.predict_proba`.
        """
        check_is_fitted(self)
        if self.multi_class == "multinomial" and len(self.classes_) > 2:
            scores = self.decision_function(X)
            scores = scores - scores.max(axis=1, keepdims=True)
            proba = np.exp(scores)
            return proba / proba.sum(axis=1, keepdims=True)
        return super().predict_proba(X)

