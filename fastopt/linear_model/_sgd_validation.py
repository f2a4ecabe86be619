"""Validation set of an SGDRegressor / SGDClassifier fit.

The set is split off the training data (``early_stopping``, scikit-learn's
split) or given to ``fit`` as ``X_val``/``y_val``/``sample_weight_val``. It
gives the stopping rule scikit-learn's score callbacks, and after every epoch
the loss and the score of the whole model from one product ``X_val @ coef.T``.

The loss is the one the engines minimise (``csrc/fo_sgd.h``), vectorised:
summed over the one-vs-rest outputs as the training objective is, the
softmax cross-entropy for ``multi_class='multinomial'``, without the penalty.
"""

import numpy as np
from scipy.special import logsumexp
from sklearn.base import is_classifier
from sklearn.linear_model._stochastic_gradient import _ValidationScoreCallback
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.extmath import safe_sparse_dot

__all__ = ["SGDValidation", "sgd_loss"]


def sgd_loss(loss, param, y, p):
    """Per-sample loss of predictions ``p`` for targets ``y`` (arrays), as the engines define it.

    ``param`` is the margin of 'hinge'/'squared_hinge' (0 for 'perceptron')
    or the epsilon of the Huber and epsilon-insensitive losses.
    """
    if loss in ("hinge", "perceptron"):
        return np.maximum(param - p * y, 0.0)
    if loss == "squared_hinge":
        return np.maximum(param - p * y, 0.0) ** 2
    if loss == "modified_huber":
        z = p * y
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))
    if loss == "log_loss":
        return np.logaddexp(0.0, p) - y * p
    if loss == "squared_error":
        return 0.5 * (p - y) ** 2
    r = np.abs(p - y)
    if loss == "huber":
        return np.where(r <= param, 0.5 * r * r, param * (r - 0.5 * param))
    if loss == "epsilon_insensitive":
        return np.maximum(r - param, 0.0)
    return np.maximum(r - param, 0.0) ** 2  # squared_epsilon_insensitive


class SGDValidation:
    """A validation set and what is measured on it.

    Parameters
    ----------
    est : SGDRegressor or SGDClassifier
        The estimator being fitted (``classes_`` set for a classifier).
    X_val : ndarray or csr_matrix of shape (n_val, n_features)
    y_val : ndarray of shape (n_val,)
        Labels (classifier) or values (regressor).
    sample_weight_val : ndarray of shape (n_val,)
    targets : ndarray of shape (K, n_val)
        The targets the engines train on, one row per output (class indices
        in one row for the multinomial loss).
    loss : str
        Loss name.
    loss_param : float
        Margin or epsilon of the loss (see :func:`sgd_loss`).
    multinomial : bool
        Softmax cross-entropy over all outputs.
    """

    def __init__(self, est, X_val, y_val, sample_weight_val, targets, loss, loss_param,
                 multinomial):
        self.X, self.y, self.sample_weight, self.targets = X_val, y_val, sample_weight_val, targets
        self._est = est
        self._loss, self._param, self._multinomial = loss, loss_param, multinomial

    def stopping_score(self, k):
        """scikit-learn's validation-score callback of output ``k`` for the stopping rule.

        It scores the model of one output against that output's targets, so a
        classifier's classes are the targets' two values: {0, 1} for
        'log_loss', {-1, +1} otherwise (see ``SGDClassifier._ovr_targets``).
        """
        classes = None
        if is_classifier(self._est):
            negative = 0.0 if self._loss == "log_loss" else -1.0
            classes = np.array([negative, 1.0], dtype=self.targets.dtype)
        return _ValidationScoreCallback(self._est, self.X, self.targets[k], self.sample_weight,
                                        classes=classes)

    def measure(self, coef, intercept):
        """(loss, score) of the linear model ``(coef (K, d), intercept (K,))`` on the set."""
        raw = safe_sparse_dot(self.X, coef.T, dense_output=True) + intercept
        if self._multinomial:
            cls = self.targets[0].astype(np.intp)
            losses = logsumexp(raw, axis=1) - raw[np.arange(raw.shape[0]), cls]
        else:
            losses = sgd_loss(self._loss, self._param, self.targets.T, raw).sum(axis=1)
        loss = float(np.average(losses, weights=self.sample_weight))
        if not is_classifier(self._est):
            return loss, r2_score(self.y, raw[:, 0], sample_weight=self.sample_weight)
        classes = self._est.classes_
        predicted = classes[(raw[:, 0] > 0).astype(np.intp)] if raw.shape[1] == 1 \
            else classes[raw.argmax(axis=1)]
        return loss, accuracy_score(self.y, predicted, sample_weight=self.sample_weight)
