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

import copy
from numbers import Integral

import numpy as np
from sklearn import get_config
from sklearn.linear_model import SGDClassifier as _SkSGDClassifier
from sklearn.linear_model import SGDRegressor as _SkSGDRegressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from fastopt._solver_param import OptimizerObject
from fastopt.linear_model._sgd_training import (
    MAX_INT,
    STRING_SOLVERS,
    fit_minibatch,
    fit_plain,
    MulticlassScore,
    n_threads,
    uses_plain_engine,
)
from fastopt.optim import OptimizerState

__all__ = ["SGDClassifier", "SGDRegressor"]

_EXTRA_CONSTRAINTS = {
    "solver": [StrOptions(set(STRING_SOLVERS)), OptimizerObject(STRING_SOLVERS)],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "progress": ["boolean"],
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
    progress : bool, default=False
        Show a tqdm progress bar (one step per epoch, with the number of
        problems still training); needs tqdm installed.
"""

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
        if not uses_plain_engine(self):
            coef, intercept, self.n_iter_ = fit_minibatch(
                self, X, Y, sample_weight, validation_mask, score_cb,
                self.coef_.reshape(1, -1), self.intercept_, np.ones(1), np.ones(1), loss,
                alpha, max_iter, False, reuse_state=True)
            # float64 intercept whatever X's dtype, as scikit-learn
            self.coef_, self.intercept_ = coef.ravel(), intercept.astype(np.float64)
            self.t_ += self.n_iter_ * X.shape[0]
            return
        random_state = check_random_state(self.random_state)
        seed = random_state.randint(0, MAX_INT)
        coef = self._standard_coef if self.average else self.coef_
        intercept = self._standard_intercept if self.average else self.intercept_
        coefs = coef.reshape(1, -1)
        avg_coefs = self._average_coef.reshape(1, -1) if self.average else None
        avg_intercept = self._average_intercept if self.average else np.zeros(1)
        intercepts, avg_intercepts, n_iter = fit_plain(
            self, X, Y, sample_weight, validation_mask, [score_cb], coefs, avg_coefs,
            np.atleast_1d(intercept).astype(np.float64), np.atleast_1d(avg_intercept),
            np.ones(1), np.ones(1), seed, loss, learning_rate, alpha, max_iter, 1)
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
        random_state = check_random_state(self.random_state)
        if binary:
            Y = self._ovr_targets(y, X.dtype, positives)
            validation_mask = self._make_validation_split(Y[0], sample_mask=sample_weight > 0)
        else:
            validation_mask = self._make_validation_split(y, sample_mask=sample_weight > 0)
            Y = self._ovr_targets(y, X.dtype, positives)
        seed = random_state.randint(MAX_INT)
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
        new_intercepts, new_avg, n_iter = fit_plain(
            self, X, Y, sample_weight, validation_mask, score_cbs, coefs, avg_coefs,
            intercepts, avg_intercepts, np.asarray(weight_pos, np.float64),
            np.asarray(weight_neg, np.float64), seed, self.loss, learning_rate, alpha,
            max_iter, n_threads(self.n_jobs))
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
                score_cb = MulticlassScore(self, X[validation_mask], y[validation_mask],
                                            sample_weight[validation_mask])
        n_out = n_classes if (multinomial or not binary) else 1
        coef = np.asarray(self.coef_).reshape(n_out, -1)
        coef, intercept, self.n_iter_ = fit_minibatch(
            self, X, Y, sample_weight, validation_mask, score_cb, coef, self.intercept_,
            np.asarray(weight_pos, np.float64), np.asarray(weight_neg, np.float64),
            self.loss, alpha, max_iter, multinomial, reuse_state=True)
        # dtypes as scikit-learn: a binary intercept is float64
        self.coef_ = coef
        self.intercept_ = intercept.astype(np.float64) if binary else intercept
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

