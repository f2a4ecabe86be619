"""scikit-learn's estimator checks pass for both MLPs.

Estimators are checked with their defaults (``max_iter=100``, as scikit-learn
checks its own MLPs), with an optimizer object plus dropout (also per layer
and on the input), with each activation and regression loss fastopt adds
(every activation and every loss in at least one variant; one activation as a
per-layer list), and with batch_norm=True for a classifier and a regressor
(an activation computed from the pre-activation, one from the output, and a
robust loss). Dropout draws a new mask for every
sample visit, so fitting with repeated rows cannot equal fitting with integer
sample weights: the two sample-weight equivalence checks are the only expected
failures, and only for the dropout variants.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.optim import Adam

ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPRegressor(max_iter=100),
    MLPClassifier(solver="lbfgs", max_iter=100),
    MLPClassifier(solver=Adam(lr=1e-2), dropout=0.2, max_iter=50),
    MLPRegressor(solver=Adam(lr=1e-2), dropout=0.2, max_iter=50),
    MLPClassifier(activation="leaky_relu", max_iter=100),
    MLPClassifier(activation="gelu", max_iter=100),
    MLPRegressor(activation="elu", loss="absolute_error", max_iter=100),
    MLPRegressor(activation=["silu"], loss="huber", huber_delta=0.5, max_iter=100),
    MLPClassifier((8, 6), solver=Adam(lr=1e-2), dropout=[0.0, 0.3], input_dropout=0.2,
                  max_iter=50),
    MLPClassifier(activation="gelu", batch_norm=True, max_iter=100),
    MLPRegressor(activation=["elu"], loss="huber", huber_delta=0.5, batch_norm=True,
                 max_iter=100),
]

DROPOUT_REASON = "dropout masks differ between repeated rows and weighted rows"


def _expected_failed_checks(estimator):
    if np.any(estimator.dropout) or estimator.input_dropout > 0:
        return {
            "check_sample_weight_equivalence_on_dense_data": DROPOUT_REASON,
            "check_sample_weight_equivalence_on_sparse_data": DROPOUT_REASON,
        }
    return {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
