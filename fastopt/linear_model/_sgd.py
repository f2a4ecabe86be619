"""SGDRegressor and SGDClassifier: scikit-learn's estimators on compiled loops.

The classes subclass scikit-learn's own ``SGDRegressor``/``SGDClassifier``, so
parameter validation, input checks, class weights, the validation split,
``predict_proba``, ``densify``/``sparsify`` and every fitted attribute are
exactly scikit-learn's. What is replaced is the training: the hooks
``_fit_regressor``/``_fit_binary``/``_fit_multiclass`` run one of the two
engines of :mod:`fastopt.linear_model._sgd_fast`, one compiled call per
epoch, driven by :mod:`fastopt.linear_model._sgd_training` (scikit-learn's
stopping rule between epochs).

* ``solver='sgd'`` with ``batch_size=1`` (the default) and one-vs-rest is
  scikit-learn's algorithm (``PlainSGD``), the one-vs-rest classes sharing
  each pass over the data, split over threads.
* Any other solver, batch size, or ``multi_class='multinomial'`` trains all
  outputs together with minibatch gradients and a :mod:`fastopt.optim`
  update rule (``MinibatchSGD``).
"""

from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.base import is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.linear_model import SGDClassifier as _SkSGDClassifier
from sklearn.linear_model import SGDRegressor as _SkSGDRegressor
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from fastopt._callbacks import EpochTasks
from fastopt._stopping import restored_on_failure
from fastopt._validation_data import check_validation_pairing
from fastopt._solver_param import OptimizerObject
from fastopt.linear_model._sgd_training import (
    STRING_SOLVERS,
    _loss_param,
    fit_minibatch,
    fit_plain,
    MulticlassScore,
    engine_seed,
    n_threads,
    uses_default_rate,
    uses_plain_engine,
)
from fastopt._predict_input import (
    check_fitted,
    check_predict_input,
    known_label_indices,
    plain_rows,
    plain_values,
    validate_params_when_changed,
)
from fastopt.linear_model._sgd_validation import SGDValidation
from fastopt.linear_model._sgd_watch import EpochWatch

__all__ = ["SGDClassifier", "SGDRegressor"]

_EXTRA_CONSTRAINTS = {
    "solver": [StrOptions(set(STRING_SOLVERS)), OptimizerObject(STRING_SOLVERS)],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "progress": ["boolean"],
}

_SOLVER_DOC = """
    solver : {'sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', \
'adamw', 'adadelta', 'adamax', 'radam', 'rprop', 'asgd', 'lion'} or \
fastopt.optim.Optimizer, default='sgd'
        The update rule. ``'sgd'`` with ``batch_size=1`` is scikit-learn's
        algorithm. Other strings use the :mod:`fastopt.optim` rule of that
        name with default hyper-parameters (momentum 0.9 for 'momentum' and
        'nesterov'). 'sgd', 'momentum' and 'nesterov' take the rate given by
        ``learning_rate``/``eta0``/``power_t``, evaluated per optimizer step.
        The normalised rules ('adagrad', 'rmsprop', 'adam', 'adamw',
        'adadelta', 'adamax', 'radam', 'rprop', 'lion'), whose step moves
        each coordinate by about ``lr``, run with 'optimal' or 'invscaling'
        (the defaults) at their own constant rate, ignoring ``eta0``: with
        B = ``batch_size``, min(0.002 B, 0.016) for 'adam', 'adamw' and
        'adamax', 0.002 for 'radam', min(0.001 B, 0.008) for 'rmsprop',
        min(0.0125 B, 0.1) for 'adagrad', min(0.0003 B, 0.0096) for 'lion',
        1.0 for 'adadelta', 0.01 for 'rprop'; in SGDRegressor this rate is
        multiplied by the weighted standard deviation of the target and a new
        model's intercept starts at the weighted target mean (AdamW's
        ``weight_decay`` is divided by the same scale). 'asgd' runs at the
        constant ``eta0`` with 'optimal'. With 'constant' or 'adaptive' every
        string uses ``lr=eta0``, as the optimizer object would. The reasons
        and measured scores: ``docs/estimators.md``. An optimizer object
        brings its own rate, schedule and clipping
        (``learning_rate='adaptive'`` still divides its rate by 5 on
        plateaus); it is cloned, never modified.
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
    progress : bool, default=False
        Show a tqdm progress bar (one step per epoch, with the number of
        problems still training); needs tqdm installed.
"""

_CURVES_DOC = """    loss_curve_ : list of float
        Mean training objective (loss + penalty) of each epoch, the figure
        ``verbose`` prints; one-vs-rest problems are summed (a problem that
        stopped early counts with its last epoch). ``partial_fit`` appends.
    validation_loss_curve_ : list of float or None
        Mean loss (without the penalty; summed over one-vs-rest outputs,
        softmax cross-entropy for 'multinomial'), weighted by the validation
        sample weights, of the model after each epoch on the validation set
        (split off with ``early_stopping``, or ``X_val`` given to ``fit``);
        None without a validation set.
    validation_scores_ : list of float or None
        Score (accuracy or R^2) of the model after each epoch on the
        validation set; None without one.
"""


class _KeepModelOnError(CallbackSupportMixin):
    """Mixin: fits as callback tasks with per-epoch records and optional validation
    data; a fit or partial_fit that raises leaves the previous model intact."""

    def _restoring(self, method, *args, validation=None, **kwargs):
        sample_weight = kwargs.get("sample_weight")
        if sample_weight is not None and np.any(np.asarray(sample_weight) < 0):
            raise ValueError("sample_weight must be non-negative (>= 0): a negative weight "
                             "makes the loss unbounded below")
        # the engines write into the arrays and the optimizer state in place
        with restored_on_failure(self, copy_buffers=True):
            if (method.__name__ == "partial_fit"
                    and not get_config()["skip_parameter_validation"]):
                # scikit-learn validates at the first partial_fit only; here also after a change
                validate_params_when_changed(self)
            # What the training hooks need to know about this call (removed after it).
            self._fit_call = {"partial": method.__name__ == "partial_fit",
                              "sample_weight": sample_weight, "validation": validation}
            try:
                return method(*args, **kwargs)
            finally:
                self.__dict__.pop("_fit_call", None)

    def _plain_partial_fit_input(self, X, coef_init):
        """Whether this ``_partial_fit`` continues a fitted model on a plain C-ordered X.

        Such a call (a second or later ``partial_fit``; ``fit`` always starts
        from ``coef_init`` or no model) skips scikit-learn's input checks,
        which would return X unchanged.
        """
        return (coef_init is None and getattr(self, "coef_", None) is not None
                and plain_rows(self, X) and X.flags.c_contiguous)

    def _lean_sample_weight(self, sample_weight, X):
        """``_check_sample_weight`` as scikit-learn's ``_partial_fit`` calls it."""
        if sample_weight is None:
            return np.ones(X.shape[0], dtype=X.dtype)
        return _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                    allow_all_zero_weights=self.early_stopping)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None, *, X_val=None,
            y_val=None, sample_weight_val=None):
        """Fit the linear model with stochastic gradient descent.

        See :meth:`sklearn.linear_model.SGDClassifier.fit`; on error the
        previously fitted model is left unchanged.

        Parameters
        ----------
        X, y, coef_init, intercept_init, sample_weight
            As in scikit-learn.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, measured after every epoch into
            ``validation_loss_curve_`` and ``validation_scores_``. With
            ``early_stopping=True`` it replaces the ``validation_fraction``
            split: training uses all of X and stops on this set's score. In a
            ``Pipeline``, ``transform_input=["X_val"]`` transforms it as X.
        y_val : array-like of shape (n_val,), default=None
            Validation targets; required with ``X_val``. Classes must be
            among the training classes.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples in the validation loss and score.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_validation_pairing(X_val, y_val, sample_weight_val)
        validation = None if X_val is None else (X_val, y_val, sample_weight_val)
        return self._restoring(super().fit, X, y, coef_init=coef_init,
                               intercept_init=intercept_init, sample_weight=sample_weight,
                               validation=validation)

    def _checked_validation(self, X, X_val, y_val, sample_weight_val):
        """The validation data given to ``fit``, checked against the training data."""
        X_val = validate_data(self, X_val, reset=False, accept_sparse="csr", dtype=X.dtype,
                              order="C", accept_large_sparse=False)
        if is_classifier(self):
            y_val = column_or_1d(y_val, warn=True)
            unseen = set(np.unique(y_val).tolist()) - set(self.classes_.tolist())
            if unseen:
                raise ValueError(f"y_val has classes {sorted(map(str, unseen))} that are not "
                                 f"among the training classes {self.classes_}; validate on "
                                 "classes seen in y")
        else:
            y_val = column_or_1d(check_array(y_val, ensure_2d=False, dtype=X.dtype,
                                             input_name="y_val"), warn=True)
        check_consistent_length(X_val, y_val)
        return X_val, y_val, _check_sample_weight(sample_weight_val, X_val, dtype=X.dtype,
                                                  ensure_non_negative=True)

    def _validation_set(self, X, y, sample_weight, split_on, targets, multinomial=False):
        """``(validation_mask, SGDValidation or None)`` of this fit.

        The set given to ``fit`` (then every sample of X trains), else
        scikit-learn's split with ``early_stopping`` (stratified on
        ``split_on``). ``targets(labels)`` encodes labels as the engine's
        targets.
        """
        given = self._fit_call["validation"]
        if given is None:
            mask = self._make_validation_split(split_on, sample_mask=sample_weight > 0)
            if not mask.any():
                return mask, None
            X_val, y_val, sw_val = X[mask], y[mask], sample_weight[mask]
        else:
            mask = np.zeros(X.shape[0], dtype=bool)
            X_val, y_val, sw_val = self._checked_validation(X, *given)
        return mask, SGDValidation(self, X_val, y_val, sw_val, targets(y_val), self.loss,
                                   _loss_param(self, self.loss), multinomial)

    def _watch(self, X, y, max_iter, validation):
        """The callback tasks and per-epoch records of this fit (or partial_fit)."""
        call = self._fit_call
        tasks = EpochTasks(self, max_iter, X, y, call["sample_weight"],
                           task_name="partial_fit" if call["partial"] else "fit")
        return EpochWatch(tasks, validation, self._fitted_attributes)


def _linear_scores(est, X):
    """``X @ coef_.T + intercept_`` with lean input checks, shape (n,) for one output."""
    check_fitted(est, "coef_")
    X = check_predict_input(est, X, accept_sparse="csr")
    scores = safe_sparse_dot(X, est.coef_.T, dense_output=True) + est.intercept_
    return scores.reshape(-1) if scores.ndim > 1 and scores.shape[1] == 1 else scores


_PREFIX = """fastopt drop-in for scikit-learn's {0}: same parameters,
    attributes and (with the defaults) the same algorithm, on compiled loops;
    plus ``solver`` and ``batch_size``{1}.

    scikit-learn's documentation follows.

    """


class SGDRegressor(_KeepModelOnError, _SkSGDRegressor):
    __doc__ = (_PREFIX.format("SGDRegressor", "") + _SkSGDRegressor.__doc__.split("    Attributes\n")[0].replace(
        "    Parameters\n    ----------\n",
        "    Parameters\n    ----------\n" + _SOLVER_DOC.lstrip("\n"), 1)
        + "    Attributes\n" + _SkSGDRegressor.__doc__.split("    Attributes\n")[1]
        .split("    See Also\n")[0].rstrip("\n") + "\n\n" + _CURVES_DOC)

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
        progress=False,
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
        self.progress = progress

    def _fit(self, *args, **kwargs):
        self._solver_state = None
        if not (self.warm_start and hasattr(self, "coef_")):
            self._target_scale = None
        return super()._fit(*args, **kwargs)

    def _allocate_parameter_mem(self, *args, intercept_init=None, **kwargs):
        super()._allocate_parameter_mem(*args, intercept_init=intercept_init, **kwargs)
        # A new model (not warm-started, no intercept_init): a normalised rule at
        # its default rate starts its intercept from the target (see _target_units).
        self._new_intercept = intercept_init is None

    def _target_units(self, y, sample_weight, validation_mask):
        """Target scale of a normalised rule at its default rate; sets a new intercept.

        Such a rule moves each parameter by about its rate per step, so its
        default rate is in units of the target's (weighted) standard
        deviation, measured on the training rows of the first fit (or
        partial_fit) of the model and kept by warm starts; a new model's
        intercept starts at the weighted target mean. Every other solver
        and rate keeps scikit-learn's zero start and unit scale.
        """
        new = self.__dict__.pop("_new_intercept", False)
        if not uses_default_rate(self):
            return 1.0
        if new or getattr(self, "_target_scale", None) is None:
            train = ~validation_mask
            weights = sample_weight[train]
            if weights.sum() <= 0:
                return 1.0
            mean = np.average(y[train], weights=weights)
            std = np.sqrt(np.average((y[train] - mean) ** 2, weights=weights))
            self._target_scale = float(std) if std > 0 else 1.0
            if new and self.fit_intercept:
                self.intercept_[:] = mean
        return self._target_scale

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over the given samples, keeping the solver state.

        See :meth:`sklearn.linear_model.SGDRegressor.partial_fit`.
        """
        return self._restoring(super().partial_fit, X, y, sample_weight=sample_weight)

    def _partial_fit(self, X, y, alpha, loss, learning_rate, max_iter, sample_weight,
                     coef_init, intercept_init):
        """scikit-learn's ``_partial_fit``; a fitted model fed plain arrays skips the checks."""
        if not (self._plain_partial_fit_input(X, coef_init) and plain_values(y, X.shape[0])):
            return super()._partial_fit(X, y, alpha, loss, learning_rate, max_iter,
                                        sample_weight, coef_init, intercept_init)
        sample_weight = self._lean_sample_weight(sample_weight, X)
        if self.average > 0 and getattr(self, "_average_coef", None) is None:
            self._average_coef = np.zeros(X.shape[1], dtype=X.dtype, order="C")
            self._average_intercept = np.zeros(1, dtype=X.dtype, order="C")
        self._fit_regressor(X, y.astype(X.dtype, copy=False), alpha, loss, learning_rate,
                            sample_weight, max_iter)
        return self

    def _decision_function(self, X):
        """scikit-learn's ``_decision_function`` (behind ``predict``), with lean input checks."""
        return _linear_scores(self, X).ravel()

    def _fitted_attributes(self, coef, intercept):
        """``coef_`` and ``intercept_`` (float64, as scikit-learn) of a (1, d) model."""
        return {"coef_": coef.ravel(), "intercept_": intercept.astype(np.float64)}

    def _fit_regressor(self, X, y, alpha, loss, learning_rate, sample_weight, max_iter):
        if not hasattr(self, "t_"):
            self.t_ = 1.0

        def targets(values):
            return np.ascontiguousarray(values, dtype=X.dtype).reshape(1, -1)

        validation_mask, validation = self._validation_set(X, y, sample_weight, y, targets)
        score_cb = validation.stopping_score(0) if self.early_stopping else None
        watch = self._watch(X, y, max_iter, validation)
        Y = targets(y)
        target_scale = self._target_units(y, sample_weight, validation_mask)
        if not uses_plain_engine(self):
            coef, intercept, self.n_iter_ = fit_minibatch(
                self, X, Y, sample_weight, validation_mask, score_cb,
                self.coef_.reshape(1, -1), self.intercept_, np.ones(1), np.ones(1), loss,
                alpha, max_iter, False, reuse_state=True, watch=watch,
                target_scale=target_scale)
            # float64 intercept whatever X's dtype, as scikit-learn
            self.coef_, self.intercept_ = coef.ravel(), intercept.astype(np.float64)
            self.t_ += self.n_iter_ * X.shape[0]
            watch.finish(self, continued=self._fit_call["partial"])
            return
        seed = engine_seed(self.random_state)
        coef = self._standard_coef if self.average else self.coef_
        intercept = self._standard_intercept if self.average else self.intercept_
        coefs = coef.reshape(1, -1)
        avg_coefs = self._average_coef.reshape(1, -1) if self.average else None
        avg_intercept = self._average_intercept if self.average else np.zeros(1)
        intercepts, avg_intercepts, n_iter = fit_plain(
            self, X, Y, sample_weight, validation_mask, [score_cb], coefs, avg_coefs,
            np.atleast_1d(intercept).astype(np.float64), np.atleast_1d(avg_intercept),
            np.ones(1), np.ones(1), seed, loss, learning_rate, alpha, max_iter, 1, watch)
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
        watch.finish(self, continued=self._fit_call["partial"])


class SGDClassifier(_KeepModelOnError, _SkSGDClassifier):
    __doc__ = (_PREFIX.format("SGDClassifier", " and ``multi_class``")
               + _SkSGDClassifier.__doc__.split("    Attributes\n")[0].replace(
        "    Parameters\n    ----------\n",
        "    Parameters\n    ----------\n" + _SOLVER_DOC.lstrip("\n") + """\
    multi_class : {'ovr', 'multinomial'}, default='ovr'
        'ovr' trains one binary classifier per class. With the default
        per-sample solver the classes visit the samples in one shuffled order
        (scikit-learn draws one order per class), so each row is read once for
        all of them, and the classes are split over ``n_jobs`` threads
        (``None``: all OpenMP threads; results do not depend on the thread
        count). 'multinomial' minimises the softmax cross-entropy over all
        classes jointly (needs ``loss='log_loss'``; ``predict_proba`` is then
        the softmax; with two classes it is the binary logistic loss).
""", 1)
        + "    Attributes\n" + _SkSGDClassifier.__doc__.split("    Attributes\n")[1]
        .split("    See Also\n")[0].rstrip("\n") + "\n\n" + _CURVES_DOC)

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
        progress=False,
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
        self.progress = progress
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

    def _partial_fit(self, X, y, alpha, loss, learning_rate, max_iter, classes, sample_weight,
                     coef_init, intercept_init):
        """scikit-learn's ``_partial_fit``; a fitted model fed plain arrays skips the checks.

        Plain means: no ``class_weight`` (its expanded weights are then ones),
        ``classes`` omitted or equal to ``classes_``, and labels all among
        ``classes_``; anything else takes scikit-learn's path.
        """
        classes_ = self.__dict__.get("classes_")
        if not (self.class_weight is None and classes_ is not None
                and (classes is None or (type(classes) is np.ndarray
                                         and np.array_equal(classes, classes_)))
                and self._plain_partial_fit_input(X, coef_init)
                and known_label_indices(y, classes_, X.shape[0]) is not None):
            return super()._partial_fit(X, y, alpha, loss, learning_rate, max_iter, classes,
                                        sample_weight, coef_init, intercept_init)
        self._expanded_class_weight = np.ones(classes_.shape[0])
        sample_weight = self._lean_sample_weight(sample_weight, X)
        self._loss_function_ = self._get_loss_function(loss)
        fit = self._fit_multiclass if classes_.shape[0] > 2 else self._fit_binary
        fit(X, y, alpha=alpha, learning_rate=learning_rate, sample_weight=sample_weight,
            max_iter=max_iter)
        return self

    def _fitted_attributes(self, coef, intercept):
        """``coef_`` (K, d) and ``intercept_`` (K,) of a model of the engines' shape."""
        return {"coef_": coef, "intercept_": intercept}

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
        if not uses_plain_engine(self):
            self._fit_joint(X, y, alpha, sample_weight, max_iter, positives, weight_pos,
                            weight_neg)
            return
        def targets(labels):
            return self._ovr_targets(labels, X.dtype, positives)

        Y = targets(y)
        validation_mask, validation = self._validation_set(
            X, y, sample_weight, Y[0] if binary else y, targets)
        seed = engine_seed(self.random_state)
        score_cbs = [
            validation.stopping_score(k)
            if self.early_stopping else None
            for k in range(len(positives))
        ]
        watch = self._watch(X, y, max_iter, validation)
        coefs = (self._standard_coef if self.average else self.coef_).reshape(
            len(positives), -1)
        intercepts = np.atleast_1d(
            self._standard_intercept if self.average else self.intercept_).astype(np.float64)
        avg_coefs = self._average_coef.reshape(len(positives), -1) if self.average else None
        avg_intercepts = (np.atleast_1d(self._average_intercept).astype(np.float64)
                          if self.average else np.zeros(len(positives)))
        new_intercepts, new_avg, n_iter = fit_plain(
            self, X, Y, sample_weight, validation_mask, score_cbs, coefs, avg_coefs,
            intercepts, avg_intercepts, np.asarray(weight_pos, np.float64),
            np.asarray(weight_neg, np.float64), seed, self.loss, learning_rate, alpha,
            max_iter, n_threads(self.n_jobs), watch)
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
        watch.finish(self, continued=self._fit_call["partial"])

    def _fit_joint(self, X, y, alpha, sample_weight, max_iter, positives, weight_pos,
                   weight_neg):
        """All outputs in one flat buffer, trained by the minibatch engine."""
        binary = len(self.classes_) == 2
        multinomial = self.multi_class == "multinomial" and not binary
        n_classes = len(self.classes_)

        def targets(labels):
            if multinomial:
                return np.searchsorted(self.classes_, labels).astype(X.dtype).reshape(1, -1)
            return self._ovr_targets(labels, X.dtype, positives)

        Y = targets(y)
        validation_mask, validation = self._validation_set(
            X, y, sample_weight, y if not binary else Y[0], targets, multinomial)
        score_cb = None
        if self.early_stopping:
            if binary:
                score_cb = validation.stopping_score(0)
            else:
                score_cb = MulticlassScore(self, validation.X, validation.y,
                                           validation.sample_weight)
        watch = self._watch(X, y, max_iter, validation)
        n_out = n_classes if (multinomial or not binary) else 1
        coef = np.asarray(self.coef_).reshape(n_out, -1)
        coef, intercept, self.n_iter_ = fit_minibatch(
            self, X, Y, sample_weight, validation_mask, score_cb, coef, self.intercept_,
            np.asarray(weight_pos, np.float64), np.asarray(weight_neg, np.float64),
            self.loss, alpha, max_iter, multinomial, reuse_state=True, watch=watch)
        # dtypes as scikit-learn: a binary intercept is float64
        self.coef_ = coef
        self.intercept_ = intercept.astype(np.float64) if binary else intercept
        self.t_ += self.n_iter_ * X.shape[0]
        watch.finish(self, continued=self._fit_call["partial"])

    def decision_function(self, X):
        """Confidence scores per (sample, class) combination.

        See :meth:`sklearn.linear_model.SGDClassifier.decision_function`; the
        input checks cost microseconds for a float NumPy array (same errors).
        """
        return _linear_scores(self, X)

    def predict(self, X):
        """Predict class labels: the class of the largest decision score.

        See :meth:`sklearn.linear_model.SGDClassifier.predict`.
        """
        scores = _linear_scores(self, X)
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return np.take(self.classes_, indices, axis=0)

    @available_if(_SkSGDClassifier._check_proba)
    def predict_proba(self, X):
        """Probability estimates (softmax for ``multi_class='multinomial'``).

        See :meth:`sklearn.linear_model.SGDClassifier.predict_proba`.
        """
        check_fitted(self, "coef_")
        if self.multi_class == "multinomial" and len(self.classes_) > 2:
            scores = self.decision_function(X)
            scores = scores - scores.max(axis=1, keepdims=True)
            proba = np.exp(scores)
            return proba / proba.sum(axis=1, keepdims=True)
        return super().predict_proba(X)

