"""MLPRegressor's robust losses: 'absolute_error' and 'huber' (fastopt/neural_network/_losses.py).

Their exactness against PyTorch is in test_mlp_torch_blocks.py and their
gradients against finite differences in test_mlp_gradient.py; here: the
validation loss, float32 and L-BFGS fits, and the parameters they refuse.
"""

import numpy as np
import pytest
from sklearn.datasets import make_regression

from fastopt.neural_network import MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=60, n_targets=2):
    X, y = make_regression(n, 5, n_targets=n_targets, noise=3.0, random_state=0)
    return X, y / y.std()


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_validation_loss_is_the_training_objective_after_the_step(loss):
    """Full-batch descent without penalty: the validation loss on the training
    set after epoch e is the training objective measured at epoch e + 1."""
    X, y = _data()
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    est = MLPRegressor(loss=loss, huber_delta=0.4, hidden_layer_sizes=(6,), solver="sgd",
                       batch_size=len(X), momentum=0.0, alpha=0.0, learning_rate_init=0.05,
                       max_iter=5, random_state=0)
    est.fit(X, y, sample_weight=sw, X_val=X, y_val=y, sample_weight_val=sw)
    np.testing.assert_allclose(est.validation_loss_curve_[:-1], est.loss_curve_[1:],
                               rtol=1e-12)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_float32_fit_is_close_to_the_float64_fit(loss):
    X, y = _data()
    params = dict(loss=loss, hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    fit64 = MLPRegressor(**params).fit(X, y)
    fit32 = MLPRegressor(**params).fit(X.astype(np.float32), y.astype(np.float32))
    assert fit32.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(fit32.loss_curve_, fit64.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fit32.predict(X.astype(np.float32)), fit64.predict(X),
                               atol=1e-4)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_fit_with_lbfgs_and_partial_fit(loss):
    X, y = _data(n_targets=1)
    lbfgs = MLPRegressor(loss=loss, solver="lbfgs", hidden_layer_sizes=(8,), max_iter=200,
                         random_state=0).fit(X, y)
    assert lbfgs.score(X, y) > 0.9
    est = MLPRegressor(loss=loss, hidden_layer_sizes=(8,), learning_rate_init=0.01,
                       random_state=0)
    for _ in range(50):
        est.partial_fit(X, y)
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_huber_is_less_moved_by_outliers_than_squared_error():
    X, y = _data(n=200, n_targets=1)
    y_out = y.copy()
    y_out[:10] += 50.0
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0)
    clean = MLPRegressor(**params).fit(X, y).predict(X[10:])
    errors = {loss: np.abs(MLPRegressor(loss=loss, **params).fit(X, y_out).predict(X[10:])
                           - clean).mean() for loss in ("squared_error", "huber")}
    assert errors["huber"] < errors["squared_error"] / 3


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_huber_delta_must_be_positive(delta):
    X, y = _data()
    with pytest.raises(ValueError, match="huber_delta"):
        MLPRegressor(loss="huber", huber_delta=delta).fit(X, y)


def test_unknown_loss_raises():
    X, y = _data()
    with pytest.raises(ValueError, match="'loss' parameter"):
        MLPRegressor(loss="quantile").fit(X, y)
