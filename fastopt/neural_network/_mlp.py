"""MLPClassifier and MLPRegressor: scikit-learn's estimators on a compiled core.

The classes here define what differs between classification and regression
(target encoding, output activation, scoring, ``partial_fit`` signature) and
the documentation; training lives in :mod:`fastopt.neural_network._base`.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_array, validate_data

from fastopt._predict_input import check_fitted, known_label_indices, plain_values
from fastopt.neural_network._base import BaseMLP
from fastopt.neural_network._losses import ROBUST_LOSSES

__all__ = ["MLPClassifier", "MLPRegressor"]


_COMMON_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', 'gelu', \
'silu'} or list of str, default='relu'
        Activation of the hidden layers, or a list (or tuple) with one name per
        hidden layer. Beyond scikit-learn's four: 'leaky_relu' is
        ``max(x, 0.01 x)`` (``torch.nn.LeakyReLU()``), 'elu' is ``x`` for
        ``x > 0`` and ``exp(x) - 1`` otherwise (``torch.nn.ELU()``), 'gelu' is
        ``x Phi(x)`` with the exact normal CDF ``Phi`` (``torch.nn.GELU()``),
        'silu' is ``x / (1 + exp(-x))`` (``torch.nn.SiLU()``). The
        initialisation of each weight layer follows the activation after it
        (the output layer: the last hidden layer's), e.g. Glorot's factor 2
        for 'logistic'.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam'} or \
fastopt.optim.Optimizer, default='adam'
        'lbfgs' is scipy's L-BFGS-B on the full-batch objective. 'sgd' and 'adam'
        reproduce scikit-learn's update formulas (``fastopt.optim.SklearnSGD``,
        ``SklearnAdam``). 'adamw', 'rmsprop', 'adagrad' and 'nadam' follow
        PyTorch's algorithms with ``lr=learning_rate_init`` (and ``beta_1``,
        ``beta_2``, ``epsilon``). An optimizer object (e.g.
        ``fastopt.optim.Adam(lr=1e-3)``) is cloned at every fit and used as is;
        its hyper-parameters are searchable as ``solver__lr`` etc. The ``alpha``
        penalty is part of the gradient for every solver, in addition to an
        optimizer's own ``weight_decay``.
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
        applies to every stochastic solver. ``fastopt.optim.ReduceOnPlateau``
        cuts the rate of any stochastic solver when the stopping rule sees no
        improvement; 'adaptive' is ``ReduceOnPlateau(0.2, n_iter_no_change + 1,
        1e-6)`` for solver='sgd'.
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
        Hold out ``validation_fraction`` of the data (or use ``X_val``/``y_val``
        given to ``fit``) and stop when the validation score stops improving;
        the best weights are restored.
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
    dropout : float or list of float, default=0.0
        Inverted-dropout probability on hidden units during training
        (stochastic solvers only), or a list (or tuple) with one rate in [0, 1)
        per hidden layer. A dropped unit outputs 0 and a kept one is scaled by
        ``1 / (1 - rate)``, as ``torch.nn.Dropout``; the masks come from a
        generator seeded by random_state.
    input_dropout : float, default=0.0
        Inverted-dropout probability on the input features during training
        (stochastic solvers only), as ``torch.nn.Dropout`` before the first
        layer. With sparse input, each stored value of a minibatch row is
        dropped or scaled (a copy: X is never changed); implicit zeros stay 0.
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
    progress : bool, default=False
        Show a tqdm progress bar (one step per epoch, with the loss) during
        stochastic fits; needs tqdm installed.
    record_gradient_norms : bool, default=False
        Record ``gradient_norms_``: per epoch and weight matrix, the L2 norm of
        the minibatch gradient averaged over the epoch's minibatches, measured
        in the compiled loop. Stochastic solvers only ('lbfgs' raises a
        ``ValueError``). See ``gradient_norms_``.
    batch_norm : bool, default=False
        Batch normalisation between every hidden layer's affine map and its
        activation, as ``torch.nn.BatchNorm1d(n_units, eps=1e-5, momentum=0.1)``
        after ``torch.nn.Linear``: while training, each hidden unit's
        pre-activation ``z`` becomes ``gamma (z - mean) / sqrt(var + eps) + beta``
        with the mean and biased variance of ``z`` over the rows of the
        minibatch ('lbfgs': over the whole training set), and each minibatch
        updates the running statistics, ``running = 0.9 running + 0.1 stat``
        (the variance unbiased: times ``n / (n - 1)``). ``predict*`` and the
        validation score normalise with the running statistics. The scales
        ``gamma`` (starting at 1) and shifts ``beta`` (starting at 0) are
        trained by the solver, are not penalised by ``alpha``, and are fitted
        as ``batch_norm_weights_`` and ``batch_norm_biases_``; the hidden
        intercepts are kept (they cancel in the batch mean). With sample
        weights the batch statistics are weighted -- a row of weight ``k``
        counts as ``k`` repeated rows: ``mean = sum w z / sum w``, ``var = sum
        w (z - mean)^2 / sum w``, and the running variance is unbiased with
        ``n = sum w`` (biased when ``sum w <= 1``) -- so that integer weights
        fit as repeated rows, as in the loss. A minibatch of one row has no
        variance: a last minibatch of one row is folded into the one before
        it (which then has ``batch_size + 1`` rows); ``batch_size=1`` and a
        training set of one row raise a ``ValueError``. 'lbfgs' updates the
        running statistics at every evaluation of the objective, as a
        PyTorch closure calling the model in training mode does. A warm
        start or ``partial_fit`` continues from the four fitted lists below
        (assigned arrays included) and needs the same ``batch_norm`` as the
        fit before it.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The current loss (including the penalty).
    best_loss_ : float or None
        Minimum training loss (None with early stopping; absent with 'lbfgs').
    loss_curve_ : list of float
        Loss at the end of each epoch (stochastic solvers).
    validation_scores_ : list of float or None
        Score on the validation set (split off with early stopping, or
        ``X_val``/``y_val`` given to ``fit``) after each epoch, else None.
        With 'lbfgs', one per iteration, and only when ``X_val`` is given.
    validation_loss_curve_ : list of float or None
        The loss of ``loss_curve_`` without the penalty (scikit-learn's
        squared error, Poisson or log-loss, or the regressor's absolute error
        or Huber loss), weighted by
        ``sample_weight_val``, on the validation set after each epoch (L-BFGS
        iteration); None without a validation set.
    best_validation_score_ : float or None
        Best validation score with early stopping, else None.
    t_ : int
        Number of training samples seen.
    coefs_ : list of ndarray
        Weight matrices, views into one flat parameter array.
    intercepts_ : list of ndarray
        Intercept vectors, views into the same array.
    batch_norm_weights_ : list of ndarray
        With ``batch_norm=True`` (absent otherwise): the scale ``gamma`` of each
        hidden layer, views into the flat parameter array (after the
        intercepts).
    batch_norm_biases_ : list of ndarray
        The shift ``beta`` of each hidden layer (``batch_norm=True``), views
        into the same array.
    batch_norm_running_means_ : list of ndarray
        The running mean of each hidden layer's pre-activations
        (``batch_norm=True``), used by ``predict*``; state, not trained. With
        early stopping it is restored with the best weights.
    batch_norm_running_vars_ : list of ndarray
        The unbiased running variance of each hidden layer's pre-activations
        (``batch_norm=True``), used by ``predict*``.
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
    gradient_norms_ : ndarray of shape (len(loss_curve_), n_layers_ - 1)
        Only with ``record_gradient_norms=True`` (absent otherwise). Row ``e``,
        column ``l``: the mean over the minibatches of epoch ``e`` of
        ``||dJ/dcoefs_[l]||_2``, where ``J`` is the minibatch objective that
        ``loss_curve_`` averages -- the weighted mean loss plus the penalty
        divided by the minibatch weight sum -- so the penalty's gradient is
        included, and the norm is taken before ``clip_norm``/``clip_value``
        (what ``p.grad.norm()`` gives after ``loss.backward()`` in PyTorch).
        With dropout, ``J`` is the masked network's. One row per entry of
        ``loss_curve_``: ``partial_fit`` and ``warm_start`` append rows for
        their epochs (rows of earlier epochs trained without recording are
        NaN); with early stopping, rows cover every epoch run, not only those
        up to the restored best weights. Equal, bit for bit, for any number
        of threads.
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by compiled backpropagation.

    A drop-in replacement for ``sklearn.neural_network.MLPClassifier``: the same
    parameters, defaults, fitted attributes and training rules (softmax output
    for multiclass, logistic for binary and multilabel, log-loss), with every
    epoch run in compiled code without the GIL, plus more solvers and
    activations, dropout, L1/elastic-net penalties, gradient clipping,
    schedules, weight initialisations and ``class_weight``.

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
        **BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, penalty="l2", l1_ratio=0.15, clip_norm=None, clip_value=None,
                 weight_init="glorot_uniform", class_weight=None, progress=False,
                 record_gradient_norms=False, input_dropout=0.0, batch_norm=False):
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
        self.progress = progress
        self.record_gradient_norms = record_gradient_norms
        self.input_dropout = input_dropout
        self.batch_norm = batch_norm

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

    def _encode_validation_targets(self, y_val, binarizer):
        """``y_val`` encoded by the training label binarizer; unseen classes are refused."""
        y_val = np.asarray(y_val)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        unseen = np.setdiff1d(unique_labels(y_val), binarizer.classes_)
        if len(unseen):
            raise ValueError(f"y_val has classes {unseen} that are not among the training "
                             f"classes {binarizer.classes_}; validate on classes seen in y")
        return binarizer.transform(y_val)

    def _out_activation(self, binarizer):
        return "softmax" if binarizer.y_type_ == "multiclass" else "logistic"

    @staticmethod
    def _decode(Y, binarizer):
        """Labels from network outputs (or one-hot targets).

        ``binarizer.inverse_transform``: the largest output for multiclass
        problems, output > 0.5 for binary ones, computed directly for those two.
        """
        if binarizer.y_type_ == "multiclass":
            return binarizer.classes_.take(Y.argmax(axis=1), mode="clip")
        if Y.shape[1] == 1:
            Y = Y.ravel()
            if binarizer.y_type_ == "binary" and len(binarizer.classes_) == 2:
                return binarizer.classes_[(Y > 0.5).astype(int)]
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
        check_fitted(self, "coefs_")
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

    def _lean_targets(self, y, n_samples, dtype):
        """One-hot targets of a later ``partial_fit`` call, as ``_validate_input``, or None.

        None (the full checks) with ``class_weight`` or ``warm_start``, for
        multilabel models, and unless ``y`` is a 1-D array of known labels.
        """
        binarizer = self._label_binarizer
        if self.class_weight is not None or self.warm_start or binarizer.y_type_ not in (
                "binary", "multiclass") or binarizer.classes_.shape[0] < 2:
            return None
        indices = known_label_indices(y, binarizer.classes_, n_samples)
        if indices is None:
            return None
        if binarizer.y_type_ == "binary":
            return (indices == 1).astype(dtype).reshape(-1, 1)
        Y = np.zeros((n_samples, binarizer.classes_.shape[0]), dtype=dtype)
        Y[np.arange(n_samples), indices] = 1
        return Y

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
        check_fitted(self, "coefs_")
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


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by compiled backpropagation.

    A drop-in replacement for ``sklearn.neural_network.MLPRegressor``: the same
    parameters, defaults, fitted attributes and training rules (identity output
    with squared error, or exp output with the Poisson loss), with every epoch
    run in compiled code without the GIL, plus more solvers, activations and
    losses, dropout, L1/elastic-net penalties, gradient clipping, schedules and
    weight initialisations. As in scikit-learn, the squared-error loss is averaged over
    outputs while its gradient is not (the gradient is ``n_outputs`` times that
    of the reported loss for multi-output targets).

    Parameters
    ----------
    loss : {{'squared_error', 'poisson', 'absolute_error', 'huber'}}, \
default='squared_error'
        The loss; 'poisson' uses an exponential output, the others the
        identity. 'squared_error' and 'poisson' are scikit-learn's (see above
        for how the squared error is scaled). 'absolute_error' (``|r|``, whose
        gradient ``sign(r)`` is 0 at ``r = 0``) and 'huber' (``r^2 / 2`` for
        ``|r| <= huber_delta``, else ``huber_delta (|r| - huber_delta / 2)``),
        with ``r = prediction - target``, are averaged over samples and over
        outputs, and their gradient is that of this average: PyTorch's
        ``L1Loss()`` and ``HuberLoss(delta=huber_delta)`` with mean reduction.
        Sample weights make it the weighted mean over samples, and the
        ``alpha`` penalty is divided by the minibatch weight sum, as for the
        other losses.
    huber_delta : float, default=1.0
        Threshold between the quadratic and the linear part of the 'huber'
        loss (> 0; ignored by the other losses).{_COMMON_DOC}
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
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", *ROBUST_LOSSES})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 dropout=0.0, penalty="l2", l1_ratio=0.15, clip_norm=None, clip_value=None,
                 weight_init="glorot_uniform", progress=False, record_gradient_norms=False,
                 huber_delta=1.0, input_dropout=0.0, batch_norm=False):
        self.loss = loss
        self.huber_delta = huber_delta
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
        self.progress = progress
        self.record_gradient_norms = record_gradient_norms
        self.input_dropout = input_dropout
        self.batch_norm = batch_norm

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        return X, self._targets(y, "y").astype(X.dtype), None, None

    def _targets(self, y, name):
        """``y`` as an (n, n_outputs) array; negative values refused for the Poisson loss."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and (Y < 0).any():
            raise ValueError(f"Some value(s) of {name} are negative which is not allowed for "
                             "loss='poisson'.")
        return Y

    def _encode_validation_targets(self, y_val, binarizer):
        """``y_val`` as a finite (n_val, n_outputs) array."""
        y_val = check_array(y_val, ensure_2d=False, dtype="numeric", input_name="y_val")
        return self._targets(y_val, "y_val")

    def _out_activation(self, binarizer):
        return "exp" if self.loss == "poisson" else "identity"

    def _loss_options(self):
        if self.loss in ROBUST_LOSSES:
            return {"loss": self.loss, "huber_delta": self.huber_delta}
        return {}

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
        check_fitted(self, "coefs_")
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._decode(self._forward(X, check_input=check_input), None)

    def _lean_targets(self, y, n_samples, dtype):
        """Targets of a later ``partial_fit`` call, as ``_validate_input``, or None.

        None (the full checks) unless ``y`` is a finite numeric 1-D array
        (non-negative for the Poisson loss).
        """
        if not plain_values(y, n_samples) or (self.loss == "poisson" and (y < 0).any()):
            return None
        return y.reshape(-1, 1).astype(dtype)

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
