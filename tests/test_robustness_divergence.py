"""Divergence stops the fit with an actionable ValueError; models are never non-finite.

A fit whose loss or weights stop being finite must raise a ValueError that
suggests scaling the data (StandardScaler) or a lower learning rate, at the
first epoch where it happens (``max_iter=2000`` and ``tol`` disabled here, so
a loop that kept going would be slow to fail), and must leave the estimator
as it was before the call: unfitted, or with its previous model.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.optim import SGD, Adagrad, Adam, AdamW, NAdam, RMSprop

RNG = np.random.default_rng(0)
X = RNG.standard_normal((120, 5))
Y_REG = X @ np.arange(1.0, 6.0)
Y_CLS = np.digitize(X[:, 0] + X[:, 1], [-1.0, 0.0, 1.0])
HUGE_X = X * 1e150          # products overflow float64 within one epoch
NO_STOP_SGD = {"max_iter": 2000, "tol": None, "random_state": 0}
NO_STOP_MLP = {"max_iter": 2000, "tol": 0.0, "n_iter_no_change": 10**9, "random_state": 0,
               "hidden_layer_sizes": (6,)}
HUGE_LR = 1e300             # any rule steps by ~lr: overflow after a few steps

# (id, estimator factory, X, y): each of these reaches a non-finite loss or weight.
DIVERGING = [
    ("sgd-regressor-plain-unscaled", lambda: SGDRegressor(**NO_STOP_SGD), HUGE_X, Y_REG),
    ("sgd-regressor-minibatch-unscaled",
     lambda: SGDRegressor(batch_size=8, **NO_STOP_SGD), HUGE_X, Y_REG),
    ("sgd-regressor-adam-object", lambda: SGDRegressor(solver=Adam(lr=HUGE_LR), batch_size=4,
                                                      **NO_STOP_SGD), X, Y_REG),
    ("sgd-regressor-adagrad-string", lambda: SGDRegressor(
        solver="adagrad", learning_rate="constant", eta0=HUGE_LR, **NO_STOP_SGD), X, Y_REG),
    ("sgd-classifier-ovr-plain-unscaled", lambda: SGDClassifier(
        loss="perceptron", penalty=None, learning_rate="constant", eta0=1e200, **NO_STOP_SGD),
     X * 1e120, Y_CLS),
    ("sgd-classifier-multinomial-rmsprop", lambda: SGDClassifier(
        loss="log_loss", multi_class="multinomial", solver=RMSprop(lr=HUGE_LR), batch_size=16,
        **NO_STOP_SGD), X, Y_CLS),
    ("sgd-classifier-ovr-nadam", lambda: SGDClassifier(
        loss="log_loss", solver=NAdam(lr=HUGE_LR), batch_size=16, **NO_STOP_SGD), X, Y_CLS),
    ("mlp-regressor-sgd-rate", lambda: MLPRegressor(solver="sgd", learning_rate_init=10.0,
                                                    **NO_STOP_MLP), X, Y_REG * 100),
    ("mlp-regressor-sgd-batch1", lambda: MLPRegressor(
        solver="sgd", learning_rate_init=10.0, batch_size=1, **NO_STOP_MLP), X, Y_REG * 100),
    ("mlp-regressor-adamw-object", lambda: MLPRegressor(solver=AdamW(lr=HUGE_LR),
                                                        **NO_STOP_MLP), X, Y_REG),
    ("mlp-classifier-adagrad-string", lambda: MLPClassifier(
        solver="adagrad", learning_rate_init=HUGE_LR, **NO_STOP_MLP), X, Y_CLS),
    ("mlp-classifier-adam-object-dropout", lambda: MLPClassifier(
        solver=Adam(lr=HUGE_LR), dropout=0.2, **NO_STOP_MLP), X, Y_CLS),
]
ADVICE = "StandardScaler"


def _params(est):
    if hasattr(est, "coefs_"):
        return list(est.coefs_) + list(est.intercepts_)
    return [np.asarray(est.coef_), np.atleast_1d(est.intercept_)]


def _dense_and_csr():
    for case in DIVERGING:
        yield pytest.param(case, False, id=f"{case[0]}-dense")
        yield pytest.param(case, True, id=f"{case[0]}-csr")


@pytest.mark.parametrize("case,sparse", list(_dense_and_csr()))
def test_divergence_raises_with_advice_and_leaves_no_model(case, sparse):
    _, make, Xd, y = case
    Xd = sp.csr_matrix(Xd) if sparse else Xd
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=ADVICE) as exc:
            est.fit(Xd, y)
    assert "learning rate" in str(exc.value)
    assert not hasattr(est, "coef_") and not hasattr(est, "coefs_"), \
        "a diverged fit left (non-finite) coefficients behind"


PARTIAL = [c for c in DIVERGING if "early-stopping" not in c[0]]


@pytest.mark.parametrize("case", PARTIAL, ids=[c[0] for c in PARTIAL])
def test_divergence_in_partial_fit_keeps_the_last_good_model(case):
    """partial_fit on two rows at a time until the weights overflow: the
    failing call raises and the estimator is exactly the model of the last
    successful call."""
    _, make, Xd, y = case
    est = make()
    classes = {"classes": np.unique(y)} if "Classifier" in type(est).__name__ else {}
    good = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(500):
            rows = slice(2 * i % len(y), 2 * i % len(y) + 2)  # small steps: several good calls
            try:
                est.partial_fit(Xd[rows], y[rows], **classes)
            except ValueError as exc:
                assert ADVICE in str(exc)
                break
            good = ([p.copy() for p in _params(est)], est.predict(X))
        else:
            pytest.fail("500 partial_fit calls did not diverge")
    if good is None:
        assert not hasattr(est, "coef_") and not hasattr(est, "coefs_")
        return
    for a, b in zip(good[0], _params(est)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(good[1], est.predict(X))


# Settings that are extreme but do not overflow (bounded steps, clipped
# derivatives, L-BFGS line search): they may fit or raise, never return non-finite.
EXTREME = [
    lambda: SGDRegressor(learning_rate="constant", eta0=10.0, **NO_STOP_SGD).set_params(
        max_iter=200),
    lambda: SGDClassifier(loss="modified_huber", solver=Adam(lr=1e30), **NO_STOP_SGD)
    .set_params(max_iter=200),
    lambda: SGDClassifier(loss="log_loss", multi_class="multinomial", solver=SGD(lr=1e4),
                          batch_size=8, **NO_STOP_SGD).set_params(max_iter=200),
    lambda: MLPRegressor(solver="adam", learning_rate_init=1e3, **NO_STOP_MLP).set_params(
        max_iter=200),
    lambda: MLPRegressor(solver="lbfgs", hidden_layer_sizes=(6,), random_state=0),
    lambda: MLPClassifier(solver="sgd", learning_rate_init=1e4, **NO_STOP_MLP).set_params(
        max_iter=200),
    lambda: MLPClassifier(solver=Adagrad(lr=1e30), **NO_STOP_MLP).set_params(max_iter=200),
]


@pytest.mark.parametrize("make", EXTREME, ids=lambda m: repr(m())[:60])
@pytest.mark.parametrize("scale", [1.0, 1e6, 1e150], ids=["scaled", "1e6", "1e150"])
def test_extreme_settings_never_return_a_non_finite_model(make, scale):
    est = make()
    y = Y_CLS if "Classifier" in type(est).__name__ else Y_REG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X * scale, y)
        except ValueError as exc:
            assert ADVICE in str(exc)
            return
    assert all(np.isfinite(p).all() for p in _params(est))
