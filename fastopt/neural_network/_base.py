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

import functools
import math
import threading
import warnings
import weakref
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, validate_data

from fastopt._callbacks import EpochTasks, LbfgsTasks
from fastopt._predict_input import check_predict_input, plain_rows, validate_params_when_changed
from fastopt._progress import epoch_progress
from fastopt._seeds import engine_seed
from fastopt._solver_param import OptimizerObject
from fastopt._stopping import NoImprovement, restored_on_failure
from fastopt._validation_data import check_validation_pairing
from fastopt.neural_network._init import WEIGHT_INITS, init_layer
from fastopt.neural_network._mlp_fast import MLPCore
from fastopt.neural_network._per_layer import (
    HIDDEN_ACTIVATIONS,
    init_activations,
    layer_activations,
    layer_dropouts,
)
from fastopt.neural_network._solvers import STRING_SOLVERS, make_optimizer
from fastopt.neural_network._validation import MLPValidation
from fastopt.optim import ReduceOnPlateau, Schedule
from fastopt.optim._rules import invscaling_rate

__all__ = ["BaseMLP"]

_LBFGS_CHUNK = 4096
_PREDICT_CHUNK = 2048
_INT64_MAX = np.iinfo(np.int64).max
_SMALL_BATCH = 64
# estimator -> (network key, lock, MLPCore with _SMALL_BATCH rows of workspace)
_SMALL_CORES = weakref.WeakKeyDictionary()
_BN_ATTRIBUTES = ("batch_norm_weights_", "batch_norm_biases_", "batch_norm_running_means_",
                  "batch_norm_running_vars_")
_BN_ONE_ROW = (
    "batch_norm=True normalises every hidden unit over the rows of a minibatch, which "
    "needs at least 2 rows; got n_samples=1 to train on. Fit on more samples (with "
    "early_stopping, fewer held out), or set batch_norm=False."
)

_DIVERGED = (
    "Solver produced non-finite parameter weights. The input data may contain large "
    "values and need to be preprocessed (e.g. with StandardScaler), or the learning "
    "rate (learning_rate_init / the optimizer's lr) is too high."
)


def _param_shapes(layer_units, batch_norm):
    """Fitted attribute -> shapes of its arrays, in the order of the flat parameters:
    ``coefs_``, ``intercepts_``, then (batch norm) every hidden layer's scale and shift."""
    shapes = {"coefs_": [(a, b) for a, b in zip(layer_units[:-1], layer_units[1:])],
              "intercepts_": [(b,) for b in layer_units[1:]]}
    if batch_norm:
        hidden = [(b,) for b in layer_units[1:-1]]
        shapes.update(batch_norm_weights_=hidden, batch_norm_biases_=hidden)
    return shapes


def _running_shapes(layer_units):
    """Batch norm's running statistics -> shapes, in the order of their flat buffer."""
    hidden = [(b,) for b in layer_units[1:-1]]
    return {"batch_norm_running_means_": hidden, "batch_norm_running_vars_": hidden}


def _views(flat, shapes):
    """The arrays of ``shapes`` (from :func:`_param_shapes` or :func:`_running_shapes`)
    as views into ``flat``, by attribute name."""
    views, start = {}, 0
    for name, arrays in shapes.items():
        views[name] = []
        for shape in arrays:
            size = math.prod(shape)
            views[name].append(flat[start:start + size].reshape(shape))
            start += size
    return views


def _packed(est, shapes):
    """The estimator's arrays named in ``shapes`` as one flat array (a fresh pack,
    so that assigned attributes are honoured)."""
    return np.concatenate([np.ravel(a) for name in shapes for a in getattr(est, name)])


def _as_input(X, dtype):
    """C-contiguous dense array or CSR matrix of ``dtype`` for the compiled core."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype)


def _copied_state(state):
    """A copy of OptimizerState ``state``, as ``copy.deepcopy`` without its generic walk.

    ``__reduce__`` hands out the configuration and scalars as fresh dicts (they
    are C structs) and the buffers as they are: only the buffers are copied.
    """
    rebuild, args = state.__reduce__()
    buffers = [[None if b is None else b.copy() for b in arrays] for arrays in args[-1]]
    return rebuild(*args[:-1], buffers)


def _plateau_schedule(est, optimizer):
    """The ReduceOnPlateau rule of this fit, or None.

    The optimizer's own schedule when it is one (an optimizer object's, or the
    ``learning_rate`` schedule handed to it); scikit-learn's 'adaptive' for
    solver='sgd' is ``ReduceOnPlateau(0.2, n_iter_no_change + 1, 1e-6)``: its
    MLP stopping rule counts one epoch more than the linear models'.
    """
    if isinstance(optimizer.schedule, ReduceOnPlateau):
        return optimizer.schedule
    if est.solver == "sgd" and est.learning_rate == "adaptive":
        return ReduceOnPlateau(factor=0.2, patience=est.n_iter_no_change + 1, min_lr=1e-6)
    return None


def _continued_curves(est, validation, continued):
    """(validation_scores_, validation_loss_curve_) lists to append this fit's epochs to.

    Continued from the previous fit (warm start, ``partial_fit``) when it kept
    them; None when this fit measures no validation set.
    """
    if validation is None:
        return None, None
    if not continued:
        return [], []
    return (list(getattr(est, "validation_scores_", None) or []),
            list(getattr(est, "validation_loss_curve_", None) or []))


def _continued_norm_rows(est, n_layers, n_epochs, continued):
    """Rows of ``gradient_norms_`` to append this fit's epochs to: the previous
    fit's when it recorded them, NaN rows for its ``n_epochs`` epochs when it
    did not, none for a fresh fit."""
    if not continued:
        return []
    previous = getattr(est, "gradient_norms_", None)
    if previous is None:
        return [np.full(n_layers, np.nan) for _ in range(n_epochs)]
    return list(previous)


class BaseMLP(CallbackSupportMixin, BaseEstimator):
    """Shared fitting logic of :class:`MLPClassifier` and :class:`MLPRegressor`."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
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
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "weight_init": [StrOptions(set(WEIGHT_INITS))],
        "progress": ["boolean"],
        "record_gradient_norms": ["boolean"],
        "batch_norm": ["boolean"],
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

    def _core(self, layer_units, dtype, capacity, dense, out_activation, batch_norm, seed=0,
              train=False):
        l2, l1 = self._penalty_strengths()
        activations = layer_activations(self.activation, len(layer_units) - 2)
        dropout = layer_dropouts(self.dropout, len(layer_units) - 2) if train else 0.0
        return MLPCore(layer_units, activations, out_activation, dtype, capacity, dense,
                       l2=l2, l1=l1, dropout=dropout, seed=seed,
                       input_dropout=self.input_dropout if train else 0.0,
                       batch_norm=batch_norm, **self._loss_options())

    def _loss_options(self):
        """``loss`` and ``huber_delta`` of ``MLPCore`` for a loss other than the
        output activation's (none here; see ``MLPRegressor``)."""
        return {}

    def _layer_units(self):
        return [self.n_features_in_] + [c.shape[1] for c in self.coefs_]

    def _fitted_batch_norm(self):
        """Whether the fitted network normalises its hidden layers."""
        return "batch_norm_weights_" in self.__dict__

    def _packed_params(self):
        """``_params`` while the parameter attributes are views into it, else a fresh
        pack of them (so that assigned arrays are honoured)."""
        shapes = _param_shapes(self._layer_units(), self._fitted_batch_norm())
        params = self.__dict__.get("_params")
        if params is not None and all(a.base is params for name in shapes
                                      for a in getattr(self, name)):
            return params
        return _packed(self, shapes)

    def _packed_running(self, dtype):
        """Batch norm's running statistics as one flat array of ``dtype`` (``_running``
        while the attributes are views into it), or None without batch norm."""
        if not self._fitted_batch_norm():
            return None
        shapes = _running_shapes(self._layer_units())
        running = self.__dict__.get("_running")
        if running is None or running.dtype != dtype or not all(
                a.base is running for name in shapes for a in getattr(self, name)):
            running = _packed(self, shapes).astype(dtype)
        return running

    def _set_arrays(self, params, running, layer_units):
        """Make the fitted arrays views into ``params`` and ``running`` (None: no
        batch norm, whose attributes are then removed)."""
        self._params = params
        arrays = _views(params, _param_shapes(layer_units, running is not None))
        if running is not None:
            self._running = running
            arrays.update(_views(running, _running_shapes(layer_units)))
        else:
            for name in ("_running", *_BN_ATTRIBUTES):
                self.__dict__.pop(name, None)
        for name, views in arrays.items():
            setattr(self, name, views)

    def _forward(self, X, check_input=True):
        """Network output after the output activation, shape (n_samples, n_outputs_).

        Inputs of at most ``_SMALL_BATCH`` rows reuse one compiled core (its
        workspaces allocated once per estimator, rebuilt when the network
        changes); a call that finds it busy in another thread builds its own.
        The core is kept in ``_SMALL_CORES``, not on the estimator: predicting
        leaves ``__dict__`` unchanged, as scikit-learn's checks require.
        """
        if check_input:
            X = check_predict_input(self, X, accept_sparse=["csr", "csc"])
        params = self._packed_params()
        running = self._packed_running(params.dtype)
        bn = running is not None
        X = _as_input(X, params.dtype)
        n = X.shape[0]
        dense = not sp.issparse(X)
        layer_units = self._layer_units()
        if n > _SMALL_BATCH:
            return self._core(layer_units, params.dtype, min(n, _PREDICT_CHUNK), dense,
                              self.out_activation_, bn).predict(params, X, running)
        key = (layer_units, params.dtype, dense,
               layer_activations(self.activation, len(layer_units) - 2), self.out_activation_,
               bn)
        cached = _SMALL_CORES.get(self)
        if cached is None or cached[0] != key:
            cached = (key, threading.Lock(), self._core(layer_units, params.dtype, _SMALL_BATCH,
                                                        dense, self.out_activation_, bn))
            _SMALL_CORES[self] = cached
        if cached[1].acquire(blocking=False):
            try:
                return cached[2].predict(params, X, running)
            finally:
                cached[1].release()
        return self._core(layer_units, params.dtype, max(1, n), dense,
                          self.out_activation_, bn).predict(params, X, running)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_params", None)
        state.pop("_running", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "coefs_" in state:
            layer_units = self._layer_units()
            params = _packed(self, _param_shapes(layer_units, self._fitted_batch_norm()))
            self._set_arrays(params, self._packed_running(params.dtype), layer_units)

    # ---------------------------------------------------------------- fit

    def _keeping_model(self, method, *args, **kwargs):
        """Call ``method``; if it raises (or is interrupted) restore every attribute.

        A shallow copy suffices: ``_fit`` writes into fresh arrays (it copies
        ``_params`` and the optimizer state) and assigns them at the end, but
        ``validate_data`` resets ``n_features_in_``/``feature_names_in_`` first.
        """
        with restored_on_failure(self):
            if kwargs.get("incremental"):
                # scikit-learn validates at the first partial_fit only; here also after a change
                validate_params_when_changed(self)
            return method(*args, **kwargs)

    def _checked_input(self, X, y, incremental, reset):
        """``_validate_input``; a later ``partial_fit`` call with plain arrays skips it.

        Plain: X as :func:`fastopt._predict_input.plain_rows` and targets that
        ``_lean_targets`` encodes (None sends the call down the full path).
        """
        if incremental and not reset and plain_rows(self, X):
            Y = self._lean_targets(y, X.shape[0], X.dtype)
            if Y is not None:
                return X, Y, None, self.__dict__.get("_label_binarizer")
        return self._validate_input(X, y, incremental, reset)

    def _fitted_attributes(self, params, running, layer_units, out_activation, binarizer):
        """What a copy of the estimator needs to predict with ``params`` and batch
        norm's ``running`` statistics (or None), copied."""
        attributes = _views(params.copy(), _param_shapes(layer_units, running is not None))
        if running is not None:
            attributes.update(_views(running.copy(), _running_shapes(layer_units)))
        attributes.update({"n_outputs_": layer_units[-1], "n_layers_": len(layer_units),
                           "out_activation_": out_activation})
        if binarizer is not None:
            attributes.update(_label_binarizer=binarizer, classes_=binarizer.classes_)
        return attributes

    def _given_validation(self, X_val, y_val, sample_weight_val, binarizer, n_outputs, dtype):
        """Check the validation data given to ``fit`` against the training data.

        Returns ``(X_val, Y_val, sample_weight_val)`` encoded as the training
        data, or None when no validation data was given.
        """
        if X_val is None:
            return None
        X_val = _as_input(validate_data(self, X_val, accept_sparse=["csr", "csc"],
                                        dtype=(np.float64, np.float32), reset=False), dtype)
        Y_val = np.ascontiguousarray(self._encode_validation_targets(y_val, binarizer),
                                     dtype=dtype)
        check_consistent_length(X_val, Y_val)
        if Y_val.shape[1] != n_outputs:
            raise ValueError(f"y_val has {Y_val.shape[1]} outputs but y has {n_outputs}; "
                             "pass validation targets shaped like the training targets")
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(sample_weight_val, X_val, dtype=dtype,
                                                     ensure_non_negative=True)
        return X_val, Y_val, sample_weight_val

    def _fit(self, X, y, sample_weight=None, incremental=False, X_val=None, y_val=None,
             sample_weight_val=None):
        check_validation_pairing(X_val, y_val, sample_weight_val)
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if not all(isinstance(h, Integral) and h > 0 for h in hidden_layer_sizes):
            raise ValueError(f"hidden_layer_sizes must be integers > 0, got {hidden_layer_sizes}.")
        layer_activations(self.activation, len(hidden_layer_sizes))
        dropped = (any(layer_dropouts(self.dropout, len(hidden_layer_sizes)))
                   or self.input_dropout > 0)
        if dropped and not self._is_stochastic():
            raise ValueError(
                "dropout > 0 or input_dropout > 0 makes the objective random; it needs a "
                "stochastic solver ('sgd', 'adam', ... or an optimizer object), not "
                "solver='lbfgs'."
            )
        if self.record_gradient_norms and not self._is_stochastic():
            raise ValueError(
                "record_gradient_norms=True records minibatch gradient norms per epoch; "
                "it needs a stochastic solver ('sgd', 'adam', ... or an optimizer object), "
                "not solver='lbfgs'."
            )
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y, class_sw, binarizer = self._checked_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if self.batch_norm and n_samples < 2:
            raise ValueError(_BN_ONE_ROW)
        n_outputs = Y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [n_outputs]
        if not first_pass:
            self._check_assigned_shapes(layer_units)
        dtype = X.dtype if first_pass else self.coefs_[0].dtype
        given_validation = self._given_validation(X_val, y_val, sample_weight_val, binarizer,
                                                  n_outputs, dtype)
        X_seen = X
        X = _as_input(X, dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype,
                                                 ensure_non_negative=True)
        max_tasks = 1 if incremental else self.max_iter + (not self._is_stochastic())
        tasks = EpochTasks(self, max_tasks, X_seen, y, sample_weight,
                           task_name="partial_fit" if incremental else "fit",
                           epoch_name="epoch" if self._is_stochastic() else "lbfgs-iter")
        if class_sw is not None:
            sample_weight = (class_sw if sample_weight is None else sample_weight * class_sw)
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)

        # a later partial_fit draws only its generators' seed (engine_seed: cached for an int)
        random_state = (None if incremental and not first_pass
                        else check_random_state(self.random_state))
        fit = {"n_iter_": 0, "t_": 0} if first_pass else {"t_": self.t_}
        if first_pass:
            params = self._initial_params(layer_units, dtype, random_state)
            out_activation = self._out_activation(binarizer)
            running = (np.concatenate([np.zeros(sum(hidden_layer_sizes), dtype=dtype),
                                       np.ones(sum(hidden_layer_sizes), dtype=dtype)])
                       if self.batch_norm else None)
        else:
            # packed from the attributes, so arrays a user assigned are trained on
            params = _packed(self, _param_shapes(layer_units, self.batch_norm)).astype(dtype)
            running = self._packed_running(dtype)
            running = None if running is None else running.copy()
            out_activation = self.out_activation_

        X, Y, sample_weight, validation = self._validation(
            X, Y, sample_weight, given_validation, incremental, layer_units, out_activation,
            binarizer, random_state)
        if self._is_stochastic():
            self._fit_stochastic(X, Y, sample_weight, params, running, layer_units,
                                 out_activation, random_state, incremental, first_pass,
                                 binarizer, fit, tasks, validation)
        else:
            self._fit_lbfgs(X, Y, sample_weight, params, running, layer_units, out_activation,
                            fit, tasks, validation, binarizer)
        if not np.isfinite(params).all():
            raise ValueError(_DIVERGED)

        self._set_arrays(params, running, layer_units)
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(layer_units)
        self.out_activation_ = out_activation
        if binarizer is not None:
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        for name, value in fit.items():
            setattr(self, name, value)
        if not self.record_gradient_norms:
            self.__dict__.pop("gradient_norms_", None)
        tasks.end()
        return self

    def _check_assigned_shapes(self, layer_units):
        """Raise a ``ValueError`` naming the first fitted array (``coefs_``,
        ``intercepts_`` and, with batch norm, its four lists) whose shape does not
        fit the network of ``layer_units`` (X, y and ``hidden_layer_sizes``): a
        warm-started or partial fit starts from them."""
        if self.batch_norm != self._fitted_batch_norm():
            raise ValueError(f"batch_norm={self.batch_norm} but the fitted network was "
                             f"trained with batch_norm={self._fitted_batch_norm()}; a warm "
                             "start or partial fit continues it: refit with warm_start=False")
        expected = _param_shapes(layer_units, self.batch_norm)
        if self.batch_norm:
            expected.update(_running_shapes(layer_units))
        hint = (f"for layer sizes {layer_units} (from X, y and hidden_layer_sizes="
                f"{self.hidden_layer_sizes}); assign arrays of these shapes, or refit with "
                "warm_start=False")
        for name, shapes in expected.items():
            arrays = getattr(self, name)
            if len(arrays) != len(shapes):
                raise ValueError(f"{name} has {len(arrays)} arrays, expected {len(shapes)} "
                                 f"{hint}")
            for i, (array, shape) in enumerate(zip(arrays, shapes)):
                if np.shape(array) != shape:
                    raise ValueError(f"{name}[{i}] has shape {np.shape(array)}, expected "
                                     f"{shape} {hint}")

    def _initial_params(self, layer_units, dtype, random_state):
        """Flat parameters drawn in scikit-learn's order (layer by layer); batch norm's
        scales start at 1 and its shifts at 0, as in ``torch.nn.BatchNorm1d``."""
        coefs, intercepts = [], []
        activations = init_activations(self.activation, len(layer_units) - 2)
        for fan_in, fan_out, activation in zip(layer_units[:-1], layer_units[1:], activations):
            coef, intercept = init_layer(self.weight_init, activation, fan_in, fan_out,
                                         random_state)
            coefs.append(coef.astype(dtype).ravel())
            intercepts.append(intercept.astype(dtype))
        scale_shift = ([np.ones(sum(layer_units[1:-1]), dtype=dtype),
                        np.zeros(sum(layer_units[1:-1]), dtype=dtype)]
                       if self.batch_norm else [])
        return np.concatenate(coefs + intercepts + scale_shift)

    def _validation(self, X, Y, sample_weight, given, incremental, layer_units,
                    out_activation, binarizer, random_state):
        """The training data and the validation set measured after every epoch.

        The validation set is the one given to ``fit``; without one, with
        ``early_stopping`` and a stochastic solver, it is split off the
        training data as scikit-learn does. Returns ``(X, Y, sample_weight,
        validation)`` with ``validation`` an :class:`MLPValidation` or None.
        """
        if given is not None:
            X_val, Y_val, sw_val = given
        elif self.early_stopping and self._is_stochastic() and not incremental:
            stratify = (Y > 0.5) if is_classifier(self) and Y.shape[1] == 1 else None
            arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
            split = train_test_split(*arrays, random_state=random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X, X_val, Y, Y_val = split[:4]
            sample_weight, sw_val = (split[4], split[5]) if sample_weight is not None else (
                None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            X, X_val = _as_input(X, X.dtype), _as_input(X_val, X.dtype)
            Y = np.ascontiguousarray(Y)
        else:
            return X, Y, sample_weight, None
        core = self._core(layer_units, X_val.dtype, min(X_val.shape[0], _PREDICT_CHUNK),
                          not sp.issparse(X_val), out_activation, self.batch_norm)
        return X, Y, sample_weight, MLPValidation(self, X_val, Y_val, sw_val, core, binarizer,
                                                  out_activation)

    def _fit_lbfgs(self, X, Y, sample_weight, params, running, layer_units, out_activation,
                   fit, tasks, validation, binarizer):
        n_samples = X.shape[0]
        # batch norm: the full batch is the batch of the statistics, one chunk
        chunk = n_samples if running is not None else min(n_samples, _LBFGS_CHUNK)
        core = self._core(layer_units, params.dtype, chunk, not sp.issparse(X), out_activation,
                          running is not None)
        grads = np.empty_like(params)

        def loss_grad(x):
            params[:] = x
            loss = core.loss_grad(params, grads, X, Y, sample_weight, running)
            return loss, grads.astype(np.float64)

        iteration = iter(range(1, self.max_iter + 1))
        iterations = LbfgsTasks(tasks, lambda x: self._fitted_attributes(
            x.astype(params.dtype), running, layer_units, out_activation, binarizer))
        val_losses, val_scores = ([], []) if validation is not None else (None, None)

        def after_iteration(intermediate_result):
            if self.verbose:
                print(f"Iteration {next(iteration)}, loss = {intermediate_result.fun:.8f}")
            if validation is not None:
                val_loss, score = validation.measure(intermediate_result.x.astype(params.dtype),
                                                     running)
                val_losses.append(val_loss)
                val_scores.append(score)
            iterations(intermediate_result)

        watched = self.verbose or validation is not None or tasks.watched
        opt_res = scipy.optimize.minimize(
            loss_grad, params.astype(np.float64), method="L-BFGS-B", jac=True,
            callback=after_iteration if watched else None,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        iterations.close()
        fit["n_iter_"] = (opt_res.nit if iterations.stopped
                          else _check_optimize_result("lbfgs", opt_res, self.max_iter))
        fit["loss_"] = float(opt_res.fun)
        if validation is not None:
            fit.update(validation_loss_curve_=val_losses, validation_scores_=val_scores)
        params[:] = opt_res.x

    def _fit_stochastic(self, X, Y, sample_weight, params, running, layer_units,
                        out_activation, random_state, incremental, first_pass, binarizer, fit,
                        tasks, validation):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        optimizer = make_optimizer(self)
        plateau = _plateau_schedule(self, optimizer)
        if incremental and not first_pass and hasattr(self, "_optimizer_state"):
            state = _copied_state(self._optimizer_state)
        else:
            state = optimizer.init(params)
        early_stopping = self.early_stopping
        continued = not first_pass and hasattr(self, "loss_curve_")
        loss_curve = list(self.loss_curve_) if continued else []
        # As scikit-learn: early stopping tracks the validation score (read only then:
        # weights set by hand lack it) and leaves best_loss_ as it was, None in a new fit.
        best_loss = self.best_loss_ if continued else None
        resumed = ({"best": self.best_validation_score_ if early_stopping else best_loss,
                    "count": self._no_improvement_count} if continued else {})
        rule = NoImprovement(self.n_iter_no_change, self.tol, higher_is_better=early_stopping,
                             convention="mlp", **resumed)
        val_scores, val_losses = _continued_curves(self, validation, continued)
        norm_rows = (_continued_norm_rows(self, len(layer_units) - 1, len(loss_curve), continued)
                     if self.record_gradient_norms else None)

        X_train, Y_train, sw_train = X, Y, sample_weight
        if early_stopping:
            best_params = params.copy()
            best_running = None if running is None else running.copy()

        n_samples = X_train.shape[0]
        if running is not None and n_samples < 2:
            raise ValueError(_BN_ONE_ROW)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        if running is not None and batch_size < 2:
            raise ValueError("batch_norm=True normalises every hidden unit over the rows of a "
                             "minibatch: batch_size must be at least 2, got 1")
        seed = int(engine_seed(self.random_state if random_state is None else random_state,
                               _INT64_MAX, np.int64))
        # batch norm folds a last minibatch of one row into the one before it
        capacity = batch_size + (running is not None and n_samples % batch_size == 1)
        core = self._core(layer_units, params.dtype, capacity, not sp.issparse(X_train),
                          out_activation, running is not None, seed=seed, train=True)
        grads = np.empty_like(params)
        order = np.arange(n_samples, dtype=np.intp)
        is_sgd = self.solver == "sgd"
        range_test = self.__dict__.get("_range_test")
        if range_test is not None:
            # fastopt.lr_find on a clone: the range test replaces the epochs and ends
            # the fit by raising (see fastopt/_lr_find.py)
            range_test.run(functools.partial(core.range_test, running=running), params, grads,
                           state, X_train, Y_train, sw_train, order, batch_size, self.shuffle)

        n_iter, t = 0, fit["t_"]
        with epoch_progress(self.progress, 1 if incremental else self.max_iter,
                            type(self).__name__) as bar:
            for _ in range(self.max_iter):
                tasks.begin_epoch()
                norms = None if norm_rows is None else np.empty(len(layer_units) - 1)
                loss = core.epoch(params, grads, state, X_train, Y_train, sw_train, order,
                                  batch_size, self.shuffle, gradient_norms=norms,
                                  running=running)
                if norm_rows is not None:
                    norm_rows.append(norms)
                if not early_stopping and not np.isfinite(loss):
                    raise ValueError(_DIVERGED)
                n_iter += 1
                t += n_samples
                loss_curve.append(loss)
                bar.update(loss=f"{loss:.4g}")
                if self.verbose:
                    print(f"Iteration {n_iter}, loss = {loss:.8f}")
                if validation is not None:
                    val_loss, score = validation.measure(params, running)
                    val_losses.append(val_loss)
                    val_scores.append(score)
                    if self.verbose:
                        print(f"Validation score: {score:f}")
                if early_stopping:
                    if rule.update(score):
                        best_params[:] = params
                        if running is not None:
                            best_running[:] = running
                else:
                    rule.update(loss)
                if is_sgd and self.learning_rate == "invscaling":
                    state.lr = invscaling_rate(self.learning_rate_init, t + 1, self.power_t)
                if plateau is not None and plateau.cuts(rule.count, state.lr):
                    state.divide_lr(plateau.divisor)
                    rule.reset()
                    if self.verbose:
                        print(f"Setting learning rate to {state.lr:f}")
                stop_requested = tasks.end_epoch(lambda: self._fitted_attributes(
                    params, running, layer_units, out_activation, binarizer))
                if rule.stops():
                    if self.verbose:
                        print("Stopping: no improvement of more than tol="
                              f"{self.tol} for {self.n_iter_no_change} consecutive epochs.")
                    bar.stopped(f"{'validation score' if early_stopping else 'loss'} did "
                                f"not improve by tol={self.tol} for "
                                f"{self.n_iter_no_change} epochs")
                    break
                if stop_requested or incremental:
                    break
            if n_iter == self.max_iter and not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                    "and the optimization hasn't converged yet.", ConvergenceWarning)
        if early_stopping:
            params[:] = best_params
            if running is not None:
                running[:] = best_running
        fit.update(n_iter_=n_iter, t_=t, loss_=loss_curve[-1], loss_curve_=loss_curve,
                   best_loss_=best_loss if early_stopping else rule.best,
                   validation_scores_=val_scores, validation_loss_curve_=val_losses,
                   best_validation_score_=rule.best if early_stopping else None,
                   _no_improvement_count=rule.count, _optimizer_state=state)
        if norm_rows is not None:
            fit["gradient_norms_"] = np.array(norm_rows).reshape(-1, len(layer_units) - 1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. float32 input trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classification) or real targets (regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation data, measured after every epoch (every L-BFGS
            iteration) into ``validation_loss_curve_`` and
            ``validation_scores_``. With ``early_stopping=True`` it replaces
            the ``validation_fraction`` split: training uses all of X and
            stops, and restores the best weights, on this set's score. In a
            ``Pipeline``, ``transform_input=["X_val"]`` transforms it as X.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation targets; required with ``X_val``. Classes must be
            among the training classes.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples in the validation loss and score.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._keeping_model(self._fit, X, y, sample_weight=sample_weight, incremental=False,
                                   X_val=X_val, y_val=y_val, sample_weight_val=sample_weight_val)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
