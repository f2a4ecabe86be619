"""The kinds the compiled engines switch over, and the rate rules they share.

The C switches over loss, penalty, learning-rate and activation kinds cannot
raise, so each engine refuses an unknown kind when it is built; the kinds are
``cpdef enum``s mirrored from the C headers, and scikit-learn's names are
derived from them. scikit-learn's 'optimal' and 'invscaling' rates and the
schedule objects have one implementation (``csrc/fo_schedule.h``), and
engines change an optimizer state's rate only through its accessors.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from fastopt.linear_model import _sgd_fast
from fastopt.neural_network._mlp_fast import MLPCore
from fastopt.optim import SGD, Adam, InverseScaling
from fastopt.optim._rules import invscaling_rate

SKLEARN_LOSSES = {"hinge", "perceptron", "squared_hinge", "modified_huber", "log_loss",
                  "squared_error", "huber", "epsilon_insensitive",
                  "squared_epsilon_insensitive"}


def _plain(config):
    """Build the per-sample engine; the kinds are checked before any other argument."""
    return _sgd_fast.PlainSGD(config, *[None] * 10, 0, 0.0, False, 1)


def _minibatch(config):
    return _sgd_fast.MinibatchSGD(config, *[None] * 5, SGD().init(np.zeros(1)), None, None,
                                  0, False, 1)


def test_scikit_learn_names_come_from_the_enums():
    assert set(_sgd_fast.LOSSES) == SKLEARN_LOSSES
    assert _sgd_fast.LOSSES["perceptron"] == _sgd_fast.LOSSES["hinge"]
    assert set(_sgd_fast.PENALTIES) == {None, "l1", "l2", "elasticnet"}
    assert set(_sgd_fast.LEARNING_RATES) == {"constant", "optimal", "invscaling", "adaptive",
                                             "pa1", "pa2"}
    assert all(isinstance(k, _sgd_fast.SGDLoss) for k in _sgd_fast.LOSSES.values())


PLAIN = (_plain, {"loss": 0, "penalty": 2, "learning_rate": 2})
MINIBATCH = (_minibatch, {"loss": 0, "penalty": 2, "lr_kind": 0})


@pytest.mark.parametrize("engine, field, value, match", [
    (PLAIN, "loss", 8, "unknown SGDLoss 8"),
    (PLAIN, "loss", -1, "unknown SGDLoss -1"),
    (PLAIN, "penalty", 4, "unknown SGDPenalty 4"),
    (PLAIN, "learning_rate", 7, "unknown SGDLearningRate 7"),
    (PLAIN, "learning_rate", 0, "no optimizer object"),
    (MINIBATCH, "loss", 99, "unknown SGDLoss 99"),
    (MINIBATCH, "penalty", -2, "unknown SGDPenalty -2"),
    (MINIBATCH, "lr_kind", 9, "unknown SGDLearningRate 9"),
    (MINIBATCH, "lr_kind", 5, "passive-aggressive"),
], ids=lambda v: v[0].__name__.strip("_") if isinstance(v, tuple) else str(v))
def test_engines_refuse_unknown_kinds(engine, field, value, match):
    build, config = engine
    with pytest.raises(ValueError, match=match):
        build({**config, field: value})


def test_every_loss_kind_has_a_finite_loss_and_derivative():
    # the C switches return NaN for an unknown kind instead of another loss's value
    for name in _sgd_fast.LOSSES:
        assert np.isfinite(_sgd_fast.loss_value(name, 0.1, 1.0, 0.3))
        assert np.isfinite(_sgd_fast.loss_derivative(name, 0.1, 1.0, 0.3))


def test_squared_epsilon_insensitive_is_its_own_case():
    eps = 0.1
    assert _sgd_fast.loss_value("squared_epsilon_insensitive", eps, 1.0, 0.5) == \
        pytest.approx((0.5 - eps) ** 2)
    assert _sgd_fast.loss_derivative("squared_epsilon_insensitive", eps, 1.0, 0.5) == \
        pytest.approx(-2 * (0.5 - eps))


def test_mlp_core_refuses_an_unknown_output_activation():
    with pytest.raises(ValueError, match="out must be one of"):
        MLPCore([3, 4, 2], "relu", "relu", np.float64, 8, True)


def test_invscaling_is_the_c_librarys_pow_or_a_root_within_its_ulps():
    # the reference is the C library's pow (math.pow), as in scikit-learn's loops;
    # the common exponents take correctly rounded square roots instead
    t = np.arange(1.0, 20001.0)
    eta0 = 0.37

    def rates(power_t):
        return np.array([invscaling_rate(eta0, x, power_t) for x in t])

    def reference(power_t):
        return np.array([eta0 / math.pow(x, power_t) for x in t])

    assert_array_equal(rates(0.3), reference(0.3))
    assert_array_equal(rates(0.5), eta0 / np.sqrt(t))
    for power_t, ulps in ((0.5, 1), (0.25, 2)):
        ref = reference(power_t)
        assert np.all(np.abs(rates(power_t) - ref) <= ulps * np.spacing(ref))


def test_schedule_objects_use_the_shared_invscaling_formula():
    sched = InverseScaling(power_t=0.5)
    for t in (1, 2, 7, 1000):
        assert sched(0.1, t) == invscaling_rate(0.1, t, 0.5)


def test_state_rate_accessors():
    state = Adam(lr=0.01).init(np.zeros(3))
    assert state.lr == 0.01
    assert state.divide_lr(5.0) == 0.01 / 5.0 == state.lr
    state.lr = 0.5
    assert state.lr == 0.5
    for bad in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
            state.lr = bad
    assert state.lr == 0.5
