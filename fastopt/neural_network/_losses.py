"""The robust regression losses of MLPRegressor: 'absolute_error' and 'huber'.

The compiled core trains them on identity outputs (``fo_output_loss_delta`` in
``csrc/fo_losses.h``) and :func:`robust_loss` evaluates the same per-row formula
for the validation set. Both are scaled as PyTorch's ``L1Loss()`` and
``HuberLoss(delta=huber_delta)`` with their default mean reduction: the mean
over all ``n_samples x n_outputs`` residuals -- with sample weights, the
weighted mean over samples of each sample's mean over outputs -- and the
gradient is that of this loss (scikit-learn's squared error, by contrast, is
averaged over outputs but back-propagated summed over them).
"""

from fastopt.neural_network._mlp_fast import LOSS_CODES, robust_loss

__all__ = ["ROBUST_LOSSES", "robust_loss"]

ROBUST_LOSSES = tuple(LOSS_CODES)
