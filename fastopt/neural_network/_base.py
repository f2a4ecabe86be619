"""Shared fitting logic of the multi-layer perceptrons.

``BaseMLP`` owns parameter validation, data splitting, stopping rules and
fitted attributes, exactly as ``sklearn.neural_network`` does; the numerical
work is one compiled call per epoch (``MLPCore.epoch``: shuffle, minibatches,
forward, backward, penalty and optimizer step without the GIL) or one call
per L-BFGS function evaluation (``MLPCore.loss_grad``). All parameters live in
one flat array; ``coefs_`` and ``intercepts_`` are views into it. Subclasses
provide ``_validate_input``, ``_out_activation``, ``_decode`` and
``_score_function``.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, validate_data

from fastopt._progress import epoch_progress
from fastopt._solver_param import OptimizerObject
from fastopt.neural_network._init import WEIGHT_INITS, init_layer
from fastopt.neural_network._mlp_fast import MLPCore, get_learning_rate, set_learning_rate
from fastopt.neural_network._solvers import STRING_SOLVERS, make_optimizer
from fastopt.optim import Schedule

__all__ = ["BaseMLP"]

_LBFGS_CHUNK = 4096
_PREDICT_CHUNK = 2048

_DIVERGED = (
    "Solver produced non-finite parameter weights. The input data may contain large "
    "values and need to be preprocessed (e.g. with StandardScaler), or the learning "
    "rate (learning_rate_init / the optimizer's lr) is too high."
)


def _layer_shapes(layer_units):
    coefs = [(a, b) for a, b in zip(layer_units[:-1], layer_units[1:])]
    return coefs, [(b,) for b in layer_units[1:]]


def _views(params, layer_units):
    """``coefs_`` and ``intercepts_`` as views into the flat ``params``."""
    coef_shapes, icpt_shapes = _layer_shapes(layer_units)
    coefs, intercepts, start = [], [], 0
    for shape in coef_shapes + icpt_shapes:
        size = int(np.prod(shape))
        view = params[start:start + size].reshape(shape)
        (coefs if len(shape) == 2 else intercepts).append(view)
        start += size
    return coefs, intercepts


def _as_input(X, dtype):
    """C-contiguous dense array or CSR matrix of ``dtype`` for the compiled core."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype)


class BaseMLP(BaseEstimator):
    """Shared fitting logic of :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions(set(STRING_SOLVERS)), OptimizerObject(STRING_SOLVERS)],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"}), Schedule],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "weight_init": [StrOptions(set(WEIGHT_INITS))],
        "progress": ["boolean"],
    }

    # ------------------------------------------------------------ helpers

    def _is_stochastic(self):
        return not (isinstance(self.solver, str) and self.solver == "lbfgs")

    def _check_solver(self):
        if not self._is_stochastic():
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _penalty_strengths(self):
        """(l2, l1) coefficients of ``l2/2 ||W||^2 + l1 ||W||_1``."""
        if self.penalty == "l2":
            return self.alpha, 0.0
        if self.penalty == "l1":
            return 0.0, self.alpha
        return self.alpha * (1.0 - self.l1_ratio), self.alpha * self.l1_ratio

    def _core(self, layer_units, dtype, capacity, dense, out_activation, seed=0, train=False):
        l2, l1 = self._penalty_strengths()
        return MLPCore(layer_units, self.activation, out_activation, dtype, capacity, dense,
                       l2=l2, l1=l1, dropout=self.dropout if train else 0.0, seed=seed)

    def _layer_units(self):
        return [self.n_features_in_] + [c.shape[1] for c in self.coefs_]

    def _flat_params(self):
        """The parameters as one flat array (packs, so edited attributes are honoured)."""
        return np.concatenate([c.ravel() for c in self.coefs_]
                              + [b.ravel() for b in self.intercepts_])

    def _forward(self, X, check_input=True):
        """Network output after the output activation, shape (n_samples, n_outputs_)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        params = self._flat_params()
        X = _as_input(X, params.dtype)
        n = X.shape[0]
        core = self._core(self._layer_units(), params.dtype, max(1, min(n, _PREDICT_CHUNK)),
                          not sp.issparse(X), self.out_activation_)
        return core.predict(params, X)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_params", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "coefs_" in state:
            self._params = self._flat_params()
            self.coefs_, self.intercepts_ = _views(self._params, self._layer_units())

    # ---------------------------------------------------------------- fit

    def _keeping_model(self, method, *args, **kwargs):
        """Call ``method``; if it raises (or is interrupted) restore every attribute.

        A shallow copy suffices: ``_fit`` writes into fresh arrays (it copies
        ``_params`` and the optimizer state) and assigns them at the end, but
        ``validate_data`` resets ``n_features_in_``/``feature_names_in_`` first.
        """
        if kwargs.get("incremental"):
            self._validate_params()  # scikit-learn skips it in partial_fit once fitted
        saved = dict(self.__dict__)
        try:
            return method(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if not all(isinstance(h, Integral) and h > 0 for h in hidden_layer_sizes):
            raise ValueError(f"hidden_layer_sizes must be integers > 0, got {hidden_layer_sizes}.")
        if self.dropout > 0 and not self._is_stochastic():
            raise ValueError(
                "dropout > 0 makes the objective random; it needs a stochastic solver "
                "('sgd', 'adam', ... or an optimizer object), not solver='lbfgs'."
            )
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y, class_sw, binarizer = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        n_outputs = Y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [n_outputs]
        if not first_pass and layer_units != self._layer_units():
            raise ValueError(
                f"the network has layers {self._layer_units()}, but X and y with "
                f"hidden_layer_sizes={self.hidden_layer_sizes} need {layer_units}; "
                "refit with warm_start=False"
            )
        dtype = X.dtype if first_pass else self._params.dtype
        X = _as_input(X, dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
        if class_sw is not None:
            sample_weight = (class_sw if sample_weight is None else sample_weight * class_sw)
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)

        random_state = check_random_state(self.random_state)
        fit = {"n_iter_": 0, "t_": 0} if first_pass else {"t_": self.t_}
        if first_pass:
            params = self._initial_params(layer_units, dtype, random_state)
            out_activation = self._out_activation(binarizer)
        else:
            params = self._params.copy()
            out_activation = self.out_activation_

        if self._is_stochastic():
            self._fit_stochastic(X, Y, sample_weight, params, layer_units, out_activation,
                                 random_state, incremental, first_pass, binarizer, fit)
        else:
            self._fit_lbfgs(X, Y, sample_weight, params, layer_units, out_activation, fit)
        if not np.isfinite(params).all():
            raise ValueError(_DIVERGED)

        self._params = params
        self.coefs_, self.intercepts_ = _views(params, layer_units)
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(layer_units)
        self.out_activation_ = out_activation
        if binarizer is not None:
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        for name, value in fit.items():
            setattr(self, name, value)
        return self

    def _initial_params(self, layer_units, dtype, random_state):
        """Flat parameters drawn in scikit-learn's order (layer by layer)."""
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            coef, intercept = init_layer(self.weight_init, self.activation, fan_in, fan_out,
                                         random_state)
            coefs.append(coef.astype(dtype).ravel())
            intercepts.append(intercept.astype(dtype))
        return np.concatenate(coefs + intercepts)

    def _fit_lbfgs(self, X, Y, sample_weight, params, layer_units, out_activation, fit):
        n_samples = X.shape[0]
        core = self._core(layer_units, params.dtype, min(n_samples, _LBFGS_CHUNK),
                          not sp.issparse(X), out_activation)
        grads = np.empty_like(params)

        def loss_grad(x):
            params[:] = x
            loss = core.loss_grad(params, grads, X, Y, sample_weight)
            return loss, grads.astype(np.float64)

        iteration = iter(range(1, self.max_iter + 1))

        def print_progress(intermediate_result):
            print(f"Iteration {next(iteration)}, loss = {intermediate_result.fun:.8f}")

        opt_res = scipy.optimize.minimize(
            loss_grad, params.astype(np.float64), method="L-BFGS-B", jac=True,
            callback=print_progress if self.verbose else None,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        fit["n_iter_"] = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        fit["loss_"] = float(opt_res.fun)
        params[:] = opt_res.x

    def _fit_stochastic(self, X, Y, sample_weight, params, layer_units, out_activation,
                        random_state, incremental, first_pass, binarizer, fit):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        optimizer = make_optimizer(self)
        if incremental and not first_pass and hasattr(self, "_optimizer_state"):
            state = copy.deepcopy(self._optimizer_state)
        else:
            state = optimizer.init(params)
        early_stopping = self.early_stopping
        if first_pass or not hasattr(self, "loss_curve_"):
            loss_curve = []
            no_improvement = 0
            best_loss = None if early_stopping else np.inf
            val_scores = [] if early_stopping else None
            best_val = -np.inf if early_stopping else None
        else:
            loss_curve = list(self.loss_curve_)
            no_improvement = self._no_improvement_count
            best_loss = self.best_loss_
            val_scores = None if self.validation_scores_ is None else list(
                self.validation_scores_)
            best_val = self.best_validation_score_

        X_train, Y_train, sw_train = X, Y, sample_weight
        if early_stopping:
            stratify = (Y > 0.5) if is_classifier(self) and Y.shape[1] == 1 else None
            arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
            split = train_test_split(*arrays, random_state=random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_train, X_val, Y_train, Y_val = split[:4]
            sw_train, sw_val = (split[4], split[5]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            X_train, X_val = _as_input(X_train, params.dtype), _as_input(X_val, params.dtype)
            Y_train = np.ascontiguousarray(Y_train)
            y_val = self._decode(Y_val, binarizer)
            val_core = self._core(layer_units, params.dtype, min(X_val.shape[0], _PREDICT_CHUNK),
                                  not sp.issparse(X_val), out_activation)
            best_params = params.copy()

        n_samples = X_train.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        seed = int(random_state.randint(np.iinfo(np.int64).max, dtype=np.int64))
        core = self._core(layer_units, params.dtype, batch_size, not sp.issparse(X_train),
                          out_activation, seed=seed, train=True)
        grads = np.empty_like(params)
        order = np.arange(n_samples, dtype=np.intp)
        is_sgd = self.solver == "sgd"

        n_iter, t = 0, fit["t_"]
        with epoch_progress(self.progress, 1 if incremental else self.max_iter,
                            type(self).__name__) as bar:
            for _ in range(self.max_iter):
                loss = core.epoch(params, grads, state, X_train, Y_train, sw_train, order,
                                  batch_size, self.shuffle)
                if not np.isfinite(loss):
                    raise ValueError(_DIVERGED)
                n_iter += 1
                t += n_samples
                loss_curve.append(loss)
                bar.update(loss=f"{loss:.4g}")
                if self.verbose:
                    print(f"Iteration {n_iter}, loss = {loss:.8f}")
                if early_stopping:
                    y_pred = self._decode(val_core.predict(params, X_val), binarizer)
                    score = self._score_function(y_val, y_pred, sw_val)
                    val_scores.append(score)
                    if self.verbose:
                        print(f"Validation score: {score:f}")
                    no_improvement = no_improvement + 1 if score < best_val + self.tol else 0
                    if score > best_val:
                        best_val = score
                        best_params[:] = params
                else:
                    no_improvement = no_improvement + 1 if loss > best_loss - self.tol else 0
                    best_loss = min(best_loss, loss)
                if is_sgd and self.learning_rate == "invscaling":
                    set_learning_rate(state, self.learning_rate_init / (t + 1) ** self.power_t)
                if no_improvement > self.n_iter_no_change:
                    if is_sgd and self.learning_rate == "adaptive" and (
                            get_learning_rate(state) > 1e-6):
                        set_learning_rate(state, get_learning_rate(state) / 5.0)
                        no_improvement = 0
                        if self.verbose:
                            print(f"Setting learning rate to {get_learning_rate(state):f}")
                    else:
                        if self.verbose:
                            print("Stopping: no improvement of more than tol="
                                  f"{self.tol} for {self.n_iter_no_change} consecutive epochs.")
                        bar.stopped(f"{'validation score' if early_stopping else 'loss'} did "
                                    f"not improve by tol={self.tol} for "
                                    f"{self.n_iter_no_change} epochs")
                        break
                if incremental:
                    break
            if n_iter == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                    "and the optimization hasn't converged yet.", ConvergenceWarning)
        if early_stopping:
            params[:] = best_params
        fit.update(n_iter_=n_iter, t_=t, loss_=loss_curve[-1], loss_curve_=loss_curve,
                   best_loss_=best_loss, validation_scores_=val_scores,
                   best_validation_score_=best_val, _no_improvement_count=no_improvement,
                   _optimizer_state=state)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. float32 input trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._keeping_model(self._fit, X, y, sample_weight=sample_weight, incremental=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
