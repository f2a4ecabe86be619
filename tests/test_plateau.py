"""ReduceOnPlateau: one plateau rule for every solver of SGD* and MLP*.

The rule is replayed in plain Python on the recorded loss curve (the
stopping rule's count of epochs without a ``tol`` improvement) and compared
with the rate the fit ended with; scikit-learn's 'adaptive' is the rule with
its constants.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from fastopt import MLPClassifier, SGDRegressor
from fastopt.optim import SGD, Adam, ReduceOnPlateau, SklearnSGD

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

Xc, yc = make_classification(n_samples=200, n_features=8, n_informative=5, n_classes=3,
                             random_state=5)
Xr, yr = make_regression(n_samples=200, n_features=8, noise=20.0, random_state=5)
Xr, yr = Xr / 10, yr / 100


def _replay(curve, lr, tol, rule, stops_after):
    """(final rate, number of cuts, epochs run) of the plateau rule on a loss curve."""
    best, count, cuts = np.inf, 0, 0
    for epoch, loss in enumerate(curve, 1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count >= rule.patience and lr > rule.min_lr:
            lr, count, cuts = lr * rule.factor, 0, cuts + 1
        if count >= stops_after:
            return lr, cuts, epoch
    return lr, cuts, len(curve)


def test_mlp_with_an_optimizer_object_cuts_as_the_rule_replayed_on_its_curve():
    rule = ReduceOnPlateau(factor=0.5, patience=2, min_lr=1e-3)
    est = MLPClassifier(hidden_layer_sizes=(16,), solver=Adam(lr=0.1, schedule=rule),
                        tol=1e-3, n_iter_no_change=4, max_iter=80, random_state=0)
    est.fit(Xc, yc)
    lr, cuts, epochs = _replay(est.loss_curve_, 0.1, 1e-3, rule, est.n_iter_no_change + 1)
    assert cuts >= 2
    assert epochs == est.n_iter_
    assert est._optimizer_state.config["lr"] == pytest.approx(lr, rel=1e-12)


def test_mlp_learning_rate_schedule_applies_to_string_solvers():
    rule = ReduceOnPlateau(factor=0.5, patience=1, min_lr=1e-4)
    est = MLPClassifier(hidden_layer_sizes=(16,), solver="rmsprop", learning_rate=rule,
                        learning_rate_init=0.05, tol=1e-2, n_iter_no_change=3, max_iter=60,
                        random_state=0).fit(Xc, yc)
    lr, cuts, epochs = _replay(est.loss_curve_, 0.05, 1e-2, rule, est.n_iter_no_change + 1)
    assert cuts >= 1 and epochs == est.n_iter_
    assert est._optimizer_state.config["lr"] == pytest.approx(lr, rel=1e-12)


def test_sgd_minibatch_with_an_optimizer_object_cuts_as_the_rule_replayed_on_its_curve():
    rule = ReduceOnPlateau(factor=0.5, patience=2, min_lr=1e-4)
    est = SGDRegressor(solver=Adam(lr=0.2, schedule=rule), batch_size=16, tol=1e-3,
                       n_iter_no_change=4, max_iter=100, random_state=0).fit(Xr, yr)
    lr, cuts, epochs = _replay(est.loss_curve_, 0.2, 1e-3, rule, est.n_iter_no_change)
    assert cuts >= 2 and epochs == est.n_iter_
    assert est._solver_state.config["lr"] == pytest.approx(lr, rel=1e-12)


def test_mlp_adaptive_is_reduce_on_plateau_with_sklearns_constants():
    kw = dict(hidden_layer_sizes=(16,), tol=1e-2, n_iter_no_change=2, max_iter=60,
              random_state=0)
    adaptive = MLPClassifier(solver="sgd", learning_rate="adaptive", learning_rate_init=0.2,
                             **kw).fit(Xc, yc)
    rule = ReduceOnPlateau(factor=0.2, patience=3, min_lr=1e-6)
    obj = MLPClassifier(solver=SklearnSGD(lr=0.2, momentum=0.9, nesterov=True, schedule=rule),
                        **kw).fit(Xc, yc)
    assert adaptive._optimizer_state.config["lr"] < 0.2  # it did cut
    assert obj.n_iter_ == adaptive.n_iter_
    assert obj.loss_curve_ == adaptive.loss_curve_
    assert obj._optimizer_state.config["lr"] == adaptive._optimizer_state.config["lr"]


def test_sgd_adaptive_is_reduce_on_plateau_with_sklearns_constants():
    kw = dict(batch_size=8, tol=1e-3, n_iter_no_change=3, max_iter=100, random_state=0)
    adaptive = SGDRegressor(learning_rate="adaptive", eta0=0.3, **kw).fit(Xr, yr)
    rule = ReduceOnPlateau(factor=0.2, patience=3, min_lr=1e-6)
    obj = SGDRegressor(solver=SGD(lr=0.3, schedule=rule), **kw).fit(Xr, yr)
    assert adaptive.n_iter_ == obj.n_iter_ > 3
    np.testing.assert_allclose(obj.loss_curve_, adaptive.loss_curve_, rtol=1e-12)
    np.testing.assert_array_equal(obj.coef_, adaptive.coef_)


def test_reduce_on_plateau_is_a_validated_searchable_schedule():
    rule = ReduceOnPlateau(patience=3)
    assert rule(0.1, 7) == 0.1  # constant within epochs
    assert clone(rule).get_params() == {"factor": 0.2, "patience": 3, "min_lr": 1e-6}
    assert ReduceOnPlateau(factor=0.2).divisor == 5.0
    with pytest.raises(ValueError, match="factor"):
        MLPClassifier(solver=Adam(schedule=ReduceOnPlateau(factor=1.5))).fit(Xc, yc)
    with pytest.raises(ValueError, match="patience"):
        MLPClassifier(learning_rate=ReduceOnPlateau(patience=0)).fit(Xc, yc)
