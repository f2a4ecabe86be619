"""fastopt._stopping: scikit-learn's no-improvement rule and the restore-on-failure guard.

The unit tests pin the rule's properties one by one; the estimator tests fit
fastopt's and scikit-learn's models with ``shuffle=False`` (the same
trajectory, to rounding) on cases where the rule fires, and compare where
each stopped.
"""

import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk_linear
from sklearn import neural_network as sk_neural
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from fastopt._stopping import NoImprovement, restored_on_failure
from fastopt.linear_model import SGDRegressor
from fastopt.neural_network import MLPClassifier
from fastopt.optim import Adam


def _epochs_until_stop(rule, values):
    """Feed ``values`` one epoch at a time; the 1-based epoch the rule stops at, or None."""
    for epoch, value in enumerate(values, start=1):
        rule.update(value)
        if rule.stops():
            return epoch
    return None


# ------------------------------------------------------------ NoImprovement


def test_tol_none_never_counts():
    rule = NoImprovement(1, None)
    assert _epochs_until_stop(rule, [1.0, 2.0, 3.0, 4.0]) is None
    assert rule.count == 0
    assert rule.best == 1.0


def test_sgd_convention_stops_at_the_nth_non_improving_epoch():
    rule = NoImprovement(3, 0.1, convention="sgd")
    # epoch 1 is the best; epochs 2, 3, 4 do not improve
    assert _epochs_until_stop(rule, [1.0, 1.0, 1.5, 2.0, 2.0]) == 4
    assert rule.count == 3


def test_mlp_convention_stops_at_the_n_plus_first_non_improving_epoch():
    rule = NoImprovement(3, 0.1, convention="mlp")
    assert _epochs_until_stop(rule, [1.0, 1.0, 1.5, 2.0, 2.0, 2.0]) == 5
    assert rule.count == 4


def test_infinite_patience_never_stops():
    for convention in ("sgd", "mlp"):
        rule = NoImprovement(np.inf, 0.1, convention=convention)
        assert _epochs_until_stop(rule, [1.0] * 50) is None
        assert rule.count == 49


def test_improvement_by_less_than_tol_counts_but_becomes_the_best():
    rule = NoImprovement(5, 0.1)
    rule.update(1.0)
    assert rule.update(0.95)
    assert (rule.count, rule.best) == (1, 0.95)
    assert rule.update(0.8)
    assert (rule.count, rule.best) == (0, 0.8)


def test_reset_on_plateau_restarts_the_count_and_keeps_the_best():
    rule = NoImprovement(2, 0.0)
    _epochs_until_stop(rule, [1.0, 2.0])
    assert rule.count == 1
    rule.reset()
    assert (rule.count, rule.best) == (0, 1.0)
    assert _epochs_until_stop(rule, [2.0, 2.0]) == 2


def test_resumes_from_saved_state():
    # a previous fit ended with best 0.5 and two epochs without improvement
    rule = NoImprovement(2, 0.0, convention="mlp", best=0.5, count=2)
    assert not rule.update(0.6)
    assert rule.stops() and rule.count == 3
    resumed = NoImprovement(2, 0.0, convention="mlp", best=0.5, count=2)
    assert resumed.update(0.4)
    assert (resumed.count, resumed.best) == (0, 0.4)


def test_fresh_rule_starts_from_the_worst_value():
    assert NoImprovement(1, 0.0).best == np.inf
    assert NoImprovement(1, 0.0, higher_is_better=True).best == -np.inf
    assert NoImprovement(1, 0.0).update(1e300)
    assert NoImprovement(1, 0.0, higher_is_better=True).update(-1e300)


@pytest.mark.parametrize("higher_is_better, worse, better", [
    (True, 0.4, 0.6),  # a score: higher is better
    (False, 0.6, 0.4),  # a loss: lower is better
])
def test_direction_of_improvement(higher_is_better, worse, better):
    rule = NoImprovement(2, 0.01, higher_is_better=higher_is_better)
    assert rule.update(0.5)
    assert not rule.update(worse)
    assert (rule.count, rule.best) == (1, 0.5)
    assert rule.update(better)
    assert (rule.count, rule.best) == (0, better)


def test_only_a_strictly_better_value_is_a_new_best():
    for higher_is_better in (False, True):
        rule = NoImprovement(5, 0.1, higher_is_better=higher_is_better)
        rule.update(1.0)
        assert not rule.update(1.0)
        assert (rule.count, rule.best) == (1, 1.0)


def test_an_equal_value_does_not_count_with_tol_zero():
    # scikit-learn counts a loss above best - tol (a score below best + tol), strictly
    for higher_is_better in (False, True):
        rule = NoImprovement(5, 0.0, higher_is_better=higher_is_better)
        rule.update(1.0)
        assert not rule.update(1.0)
        assert rule.count == 0


def test_nan_is_never_a_new_best_and_restarts_the_count_as_scikit_learn():
    # scikit-learn compares `value < best + tol` / `value > best - tol`: False for NaN
    for higher_is_better in (False, True):
        rule = NoImprovement(5, 0.1, higher_is_better=higher_is_better)
        rule.update(1.0)
        rule.update(1.0)
        assert rule.count == 1
        assert not rule.update(np.nan)
        assert (rule.count, rule.best) == (0, 1.0)


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention"):
        NoImprovement(1, 0.0, convention="torch")


# ------------------------------------------------------ restored_on_failure


class _Model:
    def __init__(self):
        self.coef_ = np.zeros(3)
        self.state_ = Adam().init(self.coef_)
        self.n_iter_ = 1


def _fail_after(model, change):
    with pytest.raises(RuntimeError, match="boom"), restored_on_failure(model, copy_buffers=True):
        change(model)
        raise RuntimeError("boom")


def test_failure_restores_assigned_and_added_attributes():
    model = _Model()
    coef = model.coef_

    def change(m):
        m.coef_ = np.ones(3)
        m.n_iter_ = 7
        m.extra_ = "added"

    _fail_after(model, change)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.n_iter_ == 1 and not hasattr(model, "extra_")


def test_copy_buffers_undoes_in_place_writes_to_arrays_and_optimizer_state():
    model = _Model()

    def change(m):
        m.coef_[:] = 5.0
        m.state_.step(m.coef_, np.ones(3))

    _fail_after(model, change)
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.state_.step_count == 0


def test_shallow_restore_puts_back_the_same_objects():
    model = _Model()
    coef, state = model.coef_, model.state_
    with pytest.raises(KeyboardInterrupt), restored_on_failure(model):
        model.coef_ = np.ones(3)
        model.state_ = None
        raise KeyboardInterrupt
    assert model.coef_ is coef and model.state_ is state


def test_success_keeps_the_changes():
    model = _Model()
    with restored_on_failure(model, copy_buffers=True):
        model.coef_[:] = 2.0
        model.n_iter_ = 3
    np.testing.assert_array_equal(model.coef_, 2.0)
    assert model.n_iter_ == 3


def test_failure_keeps_the_callback_run_state():
    model = _Model()

    def change(m):
        m._callback_fit_ctx = "context"

    _fail_after(model, change)
    assert model._callback_fit_ctx == "context"


# ------------------------------------------------ the estimators vs scikit-learn


@pytest.mark.parametrize("params", [
    dict(n_iter_no_change=3),
    dict(tol=0.1, n_iter_no_change=2),
    dict(early_stopping=True, n_iter_no_change=3),
    dict(learning_rate="adaptive", eta0=0.05, n_iter_no_change=2),
])
def test_sgd_regressor_stops_at_scikit_learns_epoch(params):
    X, y = make_regression(300, 6, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    settings = dict(shuffle=False, random_state=0, max_iter=200, **params)
    ref = sk_linear.SGDRegressor(**settings).fit(X, y)
    ours = SGDRegressor(**settings).fit(X, y)
    assert ref.n_iter_ < settings["max_iter"]  # the stopping rule fired
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)


def _mlp_pair(**params):
    settings = dict(hidden_layer_sizes=(10,), shuffle=False, random_state=0, max_iter=300,
                    **params)
    return sk_neural.MLPClassifier(**settings), MLPClassifier(**settings)


def _classes():
    return make_classification(200, 8, n_informative=5, n_classes=3, random_state=0)


@pytest.mark.parametrize("params", [
    dict(tol=1e-2, n_iter_no_change=3),
    dict(tol=0.05, n_iter_no_change=2),
    dict(early_stopping=True, tol=1e-2, n_iter_no_change=3),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
])
def test_mlp_classifier_stops_at_scikit_learns_epoch(params):
    X, y = _classes()
    ref, ours = _mlp_pair(**params)
    ref.fit(X, y)
    ours.fit(X, y)
    assert ref.n_iter_ < ref.max_iter  # the stopping rule fired
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, ref.loss_curve_, rtol=1e-9)
    assert ours._no_improvement_count == ref._no_improvement_count
    if ref.early_stopping:
        assert ours.best_loss_ is None and ref.best_loss_ is None
        assert ours.best_validation_score_ == pytest.approx(ref.best_validation_score_)
    else:
        assert ours.best_validation_score_ is None and ref.best_validation_score_ is None
        assert ours.best_loss_ == pytest.approx(ref.best_loss_, rel=1e-9)


@pytest.mark.parametrize("params", [
    dict(tol=1e-2, n_iter_no_change=3),
    dict(solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
])
def test_mlp_partial_fit_continues_the_count_as_scikit_learn(params):
    X, y = _classes()
    ref, ours = _mlp_pair(**params)
    counts_ref, counts_ours = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(30):
            ref.partial_fit(X, y, classes=np.unique(y))
            ours.partial_fit(X, y, classes=np.unique(y))
            counts_ref.append(ref._no_improvement_count)
            counts_ours.append(ours._no_improvement_count)
    assert max(counts_ref) > ref.n_iter_no_change  # the count crossed the rule's limit
    assert counts_ours == counts_ref
    assert ours.best_loss_ == pytest.approx(ref.best_loss_, rel=1e-9)
