"""MLPClassifier and MLPRegressor: scikit-learn's estimators on a compiled core.

The estimators own parameter validation, data splitting, stopping rules and
fitted attributes, exactly as ``sklearn.neural_network`` does; the numerical
work is one compiled call per epoch (``MLPCore.epoch``: shuffle, minibatches,
forward, backward, penalty and optimizer step without the GIL) or one call
per L-BFGS function evaluation (``MLPCore.loss_grad``). All parameters live in
one flat array; ``coefs_`` and ``intercepts_`` are views into it.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from fastopt.neural_network._init import WEIGHT_INITS, init_layer
from fastopt.neural_network._mlp_fast import MLPCore, get_learning_rate, set_learning_rate
from fastopt.neural_network._solvers import STRING_SOLVERS, make_optimizer
from fastopt.optim import Optimizer
from fastopt.optim._schedules import Schedule

__all__ = ["MLPClassifier", "MLPRegressor"]

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


class _BaseMLP(BaseEstimator):
    """Shared fitting logic of :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions(set(STRING_SOLVERS)), Optimizer],
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

        callback = None
        if self.verbose:
            iteration = iter(range(1, self.max_iter + 1))

            def callback(intermediate_result):
                print(f"Iteration {next(iteration)}, loss = {intermediate_result.fun:.8f}")

        opt_res = scipy.optimize.minimize(
            loss_grad, params.astype(np.float64), method="L-BFGS-B", jac=True,
            callback=callback,
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
        for _ in range(self.max_iter):
            loss = core.epoch(params, grads, state, X_train, Y_train, sw_train, order,
                              batch_size, self.shuffle)
            if not np.isfinite(loss):
                raise ValueError(_DIVERGED)
            n_iter += 1
            t += n_samples
            loss_curve.append(loss)
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


_COMMON_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam'} or \
fastopt.optim.Optimizer, default='adam'
        'lbfgs' is scipy's L-BFGS-B on the full-batch objective. 'sgd' and 'adam'
        reproduce scikit-learn's update formulas (``fastopt.optim.SklearnSGD``,
        ``SklearnAdam``). 'adamw', 'rmsprop', 'adagrad' and 'nadam' follow
        PyTorch's algorithms with ``lr=learning_rate_init`` (and ``beta_1``,
        ``beta_2``, ``epsilon``). An optimizer object (e.g.
        ``fastopt.optim.Adam(lr=1e-3)``) is cloned at every fit and used as is;
        its hyper-parameters are searchable as ``solver__lr`` etc.
    alpha : float, default=0.0001
        Strength of the penalty, divided by the (weighted) minibatch size when
        added to the loss, as in scikit-learn.
    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. ``batch_size=1`` is
        pure SGD, ``batch_size=n_samples`` full-batch gradient descent.
    learning_rate : {'constant', 'invscaling', 'adaptive'} or fastopt.optim.Schedule, \
default='constant'
        scikit-learn's per-epoch rules for solver='sgd' (ignored by other solvers,
        as in scikit-learn), or a schedule object counted in optimizer steps that
        applies to every stochastic solver.
    learning_rate_init : float, default=0.001
        Initial learning rate of the string solvers.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).
    shuffle : bool, default=True
        Whether to shuffle samples in each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the early-stopping split, and the
        compiled generators for shuffling and dropout.
    tol : float, default=1e-4
        Tolerance of the stopping rule.
    verbose : bool, default=False
        Print progress messages.
    warm_start : bool, default=False
        Reuse the previous solution as initialisation.
    momentum : float, default=0.9
        Momentum of solver='sgd'.
    nesterovs_momentum : bool, default=True
        Nesterov's momentum for solver='sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation score stops improving; the best weights are restored.
    validation_fraction : float, default=0.1
        Fraction of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays of the Adam-type solvers.
    epsilon : float, default=1e-8
        Numerical-stability term of the adaptive solvers.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
    dropout : float, default=0.0
        Inverted-dropout probability on hidden units during training (stochastic
        solvers only); the masks come from a generator seeded by random_state.
    penalty : {'l2', 'l1', 'elasticnet'}, default='l2'
        Penalty on the weights (not the intercepts): ``alpha/2 ||W||^2``,
        ``alpha ||W||_1`` or ``alpha (l1_ratio ||W||_1 + (1 - l1_ratio)/2 ||W||^2)``.
    l1_ratio : float, default=0.15
        Elastic-net mixing parameter.
    clip_norm : float or None, default=None
        Rescale each minibatch gradient to at most this global L2 norm.
    clip_value : float or None, default=None
        Clamp each gradient entry to ``[-clip_value, clip_value]``.
    weight_init : {'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal'}, \
default='glorot_uniform'
        Weight initialisation; 'glorot_uniform' is scikit-learn's, draw for draw.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The current loss (including the penalty).
    best_loss_ : float or None
        Minimum training loss (None with early stopping; absent with 'lbfgs').
    loss_curve_ : list of float
        Loss at the end of each epoch (stochastic solvers).
    validation_scores_ : list of float or None
        Validation score per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation score with early stopping, else None.
    t_ : int
        Number of training samples seen.
    coefs_ : list of ndarray
        Weight matrices, views into one flat parameter array.
    intercepts_ : list of ndarray
        Intercept vectors, views into the same array.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names.
    n_iter_ : int
        Number of iterations (epochs) run.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Output activation.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by compiled backpropagation.

    A drop-in replacement for ``sklearn.neural_network.MLPClassifier``: the same
    parameters, defaults, fitted attributes and training rules (softmax output
    for multiclass, logistic for binary and multilabel, log-loss), with every
    epoch run in compiled code without the GIL, plus more solvers, dropout,
    L1/elastic-net penalties, gradient clipping, schedules, weight
    initialisations and ``class_weight``.

    Parameters
    ----------{_COMMON_DOC}    class_weight : dict, 'balanced' or None, default=None
        Weights per class, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels for each output.{_ATTRIBUTES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from fastopt import MLPClassifier
    >>> X, y = make_classification(n_samples=200, random_state=1)
    >>> clf = MLPClassifier(max_iter=300, random_state=1).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, penalty="l2", l1_ratio=0.15, clip_norm=None, clip_value=None,
                 weight_init="glorot_uniform", class_weight=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.weight_init = weight_init
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            binarizer = LabelBinarizer().fit(y)
        else:
            binarizer = self._label_binarizer
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` "
                        f"has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` "
                                 f"has {self.classes_}. 'y' has {classes}.")
        class_sw = None
        if self.class_weight is not None:
            class_sw = compute_sample_weight(self.class_weight, y)
        Y = binarizer.transform(y).astype(X.dtype)
        return X, Y, class_sw, binarizer

    def _out_activation(self, binarizer):
        return "softmax" if binarizer.y_type_ == "multiclass" else "logistic"

    @staticmethod
    def _decode(Y, binarizer):
        """Labels from network outputs (or one-hot targets)."""
        if Y.shape[1] == 1:
            Y = Y.ravel()
        return binarizer.inverse_transform(Y)

    @staticmethod
    def _score_function(y, y_pred, sample_weight):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward(X, check_input=check_input), self._label_binarizer)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All classes; required at the first call.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._keeping_model(self._partial_fit, X, y, sample_weight=sample_weight,
                                   classes=classes, incremental=True)

    def _partial_fit(self, X, y, sample_weight, classes, incremental):
        """Body of :meth:`partial_fit`; the first call sets up the label binarizer."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=incremental)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of each class.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by compiled backpropagation.

    A drop-in replacement for ``sklearn.neural_network.MLPRegressor``: the same
    parameters, defaults, fitted attributes and training rules (identity output
    with squared error, or exp output with the Poisson loss), with every epoch
    run in compiled code without the GIL, plus more solvers, dropout,
    L1/elastic-net penalties, gradient clipping, schedules and weight
    initialisations. As in scikit-learn, the squared-error loss is averaged over
    outputs while its gradient is not (the gradient is ``n_outputs`` times that
    of the reported loss for multi-output targets).

    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        The loss; 'poisson' uses an exponential output.{_COMMON_DOC}
    Attributes
    ----------{_ATTRIBUTES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from fastopt import MLPRegressor
    >>> X, y = make_regression(n_samples=200, random_state=1)
    >>> reg = MLPRegressor(max_iter=500, random_state=1).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, penalty="l2", l1_ratio=0.15, clip_norm=None, clip_value=None,
                 weight_init="glorot_uniform"):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.weight_init = weight_init

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and (Y < 0).any():
            raise ValueError("Some value(s) of y are negative which is not allowed for "
                             "loss='poisson'.")
        return X, Y.astype(X.dtype), None, None

    def _out_activation(self, binarizer):
        return "exp" if self.loss == "poisson" else "identity"

    @staticmethod
    def _decode(Y, binarizer):
        return Y.ravel() if Y.shape[1] == 1 else Y

    @staticmethod
    def _score_function(y, y_pred, sample_weight):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward(X, check_input=check_input), None)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The trained model.
        """
        return self._keeping_model(self._fit, X, y, sample_weight=sample_weight, incremental=True)
