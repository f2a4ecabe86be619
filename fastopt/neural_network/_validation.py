"""Validation set of a multi-layer perceptron fit, measured after every epoch.

The set is either split off the training data (``early_stopping``) or given
to ``fit`` as ``X_val``/``y_val``/``sample_weight_val``. One forward pass per
epoch gives both figures: the loss scikit-learn's MLPs minimise (without the
penalty) and the estimator's score.
"""

from functools import partial

import numpy as np
from sklearn.neural_network._base import LOSS_FUNCTIONS

from fastopt.neural_network._losses import robust_loss

__all__ = ["MLPValidation"]

# scikit-learn's loss for each output activation.
_LOSS_OF_OUTPUT = {"identity": "squared_error", "exp": "poisson", "softmax": "log_loss",
                   "logistic": "binary_log_loss"}


class MLPValidation:
    """Validation inputs, encoded targets and labels, and the core that predicts them.

    Parameters
    ----------
    est : BaseMLP
        The estimator being fitted (gives ``_decode``, ``_score_function`` and
        ``_loss_options``).
    X_val : ndarray or csr_matrix, the parameters' dtype
    Y_val : ndarray of shape (n_val, n_outputs)
        Targets encoded as the training targets (one-hot, 0/1 or values).
    sample_weight_val : ndarray or None
    core : MLPCore
        A prediction core of the network's layers.
    binarizer : LabelBinarizer or None
    out_activation : str
    """

    def __init__(self, est, X_val, Y_val, sample_weight_val, core, binarizer, out_activation):
        self.X, self.Y, self.sample_weight = X_val, Y_val, sample_weight_val
        self._est, self._core, self._binarizer = est, core, binarizer
        self._labels = est._decode(Y_val, binarizer)
        options = est._loss_options()
        self._loss = (partial(robust_loss, options["loss"], options["huber_delta"]) if options
                      else LOSS_FUNCTIONS[_LOSS_OF_OUTPUT[out_activation]])

    def measure(self, params, running=None):
        """(loss, score) of the network with parameters ``params`` (and batch
        norm's ``running`` statistics) on the set.

        Both are NaN when the network's outputs are not finite. As
        scikit-learn (its fix for issue #29504), a diverged epoch's NaN score
        neither becomes the best score nor counts as "no improvement", so the
        best finite weights are restored at the end.
        """
        out = self._core.predict(params, self.X, running)
        if not np.isfinite(out).all():
            return float("nan"), float("nan")
        loss = float(self._loss(self.Y, out, self.sample_weight))
        score = self._est._score_function(self._labels, self._est._decode(out, self._binarizer),
                                          self.sample_weight)
        return loss, score
