"""scikit-learn's estimator checks on SGDRegressor and SGDClassifier.

Default settings (scikit-learn's per-sample algorithm), minibatch settings
with adaptive solvers, and adaptive solvers at their default rates with
scikit-learn's default ``max_iter`` (issue 16: Adam at batch 16 failed
``check_class_weight_classifiers`` with its former default rate). As for scikit-learn's own SGD estimators, the only
expected failures are the sample-weight equivalence checks: a weight of 2 is
not the same as a repeated sample for a stochastic, order-dependent method.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastopt.linear_model import SGDClassifier, SGDRegressor
from fastopt.optim import Adam, SGD

_EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data":
        "sample_weight is not equivalent to removing/repeating samples.",
    "check_sample_weight_equivalence_on_sparse_data":
        "sample_weight is not equivalent to removing/repeating samples.",
}

ESTIMATORS = [
    SGDRegressor(),
    SGDClassifier(),
    SGDRegressor(max_iter=5),
    SGDClassifier(max_iter=5),
    SGDRegressor(solver="adam", batch_size=8, max_iter=5),
    SGDClassifier(solver=Adam(lr=1e-2), batch_size=8, max_iter=5),
    SGDRegressor(solver=SGD(lr=1e-3, momentum=0.9), batch_size=16, max_iter=5),
    SGDClassifier(solver="rmsprop", batch_size=4, loss="log_loss", multi_class="multinomial",
                  max_iter=5),
    SGDClassifier(solver="adam", batch_size=16),
    SGDClassifier(solver="adamw", batch_size=32),
    SGDRegressor(solver="adam", batch_size=32),
]


# max_iter=5 stops before convergence on purpose (fast checks)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: _EXPECTED)
def test_sklearn_estimator_checks_pass(estimator, check):
    check(estimator)
