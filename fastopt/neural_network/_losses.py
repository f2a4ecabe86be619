"""The robust regression losses of MLPRegressor: 'absolute_error' and 'huber'.

The compiled core trains them on identity outputs (``_robust_row`` in
``_mlp_fast.pyx``); :func:`robust_loss` computes the same figure in NumPy for
the validation set. Both are scaled as PyTorch's ``L1Loss()`` and
``HuberLoss(delta=huber_delta)`` with their default mean reduction: the mean
over all ``n_samples x n_outputs`` residuals -- with sample weights, the
weighted mean over samples of each sample's mean over outputs -- and the
gradient is that of this loss (scikit-learn's squared error, by contrast, is
averaged over outputs but back-propagated summed over them).
"""

import numpy as np

__all__ = ["ROBUST_LOSSES", "robust_loss"]

ROBUST_LOSSES = ("absolute_error", "huber")


def robust_loss(name, huber_delta, y_true, y_pred, sample_weight=None):
    """Weighted mean over samples of the mean over outputs of the loss ``name``.

    Parameters
    ----------
    name : {'absolute_error', 'huber'}
        ``|r|``, or Huber's ``r^2 / 2`` for ``|r| <= huber_delta`` and
        ``huber_delta (|r| - huber_delta / 2)`` beyond, for ``r = y_pred - y_true``.
    huber_delta : float
        Threshold of the Huber loss (unused by 'absolute_error').
    y_true, y_pred : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    loss : float
    """
    r = np.abs(y_pred - y_true)
    if name == "huber":
        r = np.where(r <= huber_delta, 0.5 * r * r, huber_delta * (r - 0.5 * huber_delta))
    return float(np.average(r, weights=sample_weight, axis=0).mean())
