"""Estimator messages about ``solver``: the obvious slip gets its fix, public names only,
and a flat parameter that an optimizer object makes irrelevant warns instead of being
silently ignored."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor
from fastopt.optim import SGD, Adam, InverseScaling

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
Y_CLASS = (X[:, 0] > 0).astype(int)
Y_REG = X @ np.array([1.0, -2.0, 0.5])
SMALL = {
    MLPClassifier: dict(hidden_layer_sizes=(4,), max_iter=2),
    MLPRegressor: dict(hidden_layer_sizes=(4,), max_iter=2),
    SGDClassifier: dict(max_iter=2, tol=None),
    SGDRegressor: dict(max_iter=2, tol=None),
}
ESTIMATORS = list(SMALL)


def _fit(cls, **params):
    y = Y_CLASS if cls in (MLPClassifier, SGDClassifier) else Y_REG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**SMALL[cls], random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_optimizer_class_instead_of_instance_suggests_calling_it(cls):
    with pytest.raises(InvalidParameterError, match=r"did you mean solver=Adam\(\)\?"):
        _fit(cls, solver=Adam)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_capitalised_solver_name_suggests_the_lower_case_name(cls):
    with pytest.raises(InvalidParameterError, match=r"did you mean solver='adam'\?"):
        _fit(cls, solver="Adam")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bad_solver_message_names_public_classes_not_private_modules(cls):
    with pytest.raises(InvalidParameterError) as exc:
        _fit(cls, solver=3)
    message = str(exc.value)
    assert "._" not in message
    assert "fastopt.optim" in message and "Adam()" in message


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_failed_solver_check_keeps_the_fitted_model(cls):
    est = _fit(cls, solver=Adam(lr=1e-2))
    coef = (est.coefs_[0] if hasattr(est, "coefs_") else est.coef_).copy()
    est.set_params(solver=SGD)
    with pytest.raises(InvalidParameterError):
        est.fit(X, Y_CLASS if cls in (MLPClassifier, SGDClassifier) else Y_REG)
    np.testing.assert_array_equal(coef, est.coefs_[0] if hasattr(est, "coefs_") else est.coef_)


IGNORED = [
    (MLPClassifier, dict(learning_rate_init=0.5), r"learning_rate_init=0\.5 has no effect"),
    (MLPRegressor, dict(beta_2=0.99, epsilon=1e-6), r"beta_2=0\.99, epsilon=1e-06"),
    (MLPClassifier, dict(momentum=0.5), r"momentum=0\.5 has no effect"),
    (MLPClassifier, dict(learning_rate="invscaling"), r"learning_rate='invscaling'"),
    (SGDClassifier, dict(eta0=0.5), r"eta0=0\.5 has no effect.*Set lr on the object"),
    (SGDRegressor, dict(learning_rate="constant", power_t=0.5),
     r"learning_rate='constant', power_t=0\.5 has no effect"),
]


@pytest.mark.parametrize("cls, params, match", IGNORED)
def test_flat_parameter_ignored_by_an_optimizer_object_warns(cls, params, match):
    with pytest.warns(UserWarning, match=match):
        est = _fit(cls, solver=Adam(lr=1e-2), **params)
    # The object's settings made the fit: same model as without the ignored parameter.
    plain = _fit(cls, solver=Adam(lr=1e-2))
    got = est.coefs_[0] if hasattr(est, "coefs_") else est.coef_
    want = plain.coefs_[0] if hasattr(plain, "coefs_") else plain.coef_
    np.testing.assert_array_equal(got, want)


APPLIED = [
    (MLPClassifier, dict(solver=Adam(lr=1e-2))),  # defaults everywhere
    (MLPClassifier, dict(solver=Adam(lr=1e-2), learning_rate=InverseScaling(power_t=0.5))),
    (MLPClassifier, dict(solver=Adam(lr=1e-2), clip_norm=1.0, alpha=1e-3)),
    (MLPClassifier, dict(solver="adam", learning_rate_init=0.01)),
    (SGDClassifier, dict(solver=Adam(lr=1e-2), learning_rate="adaptive", batch_size=8)),
    (SGDRegressor, dict(solver="adam", eta0=0.001)),
]


@pytest.mark.parametrize("cls, params", APPLIED)
def test_parameters_that_apply_do_not_warn(cls, params):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _fit(cls, **params)


@pytest.mark.parametrize("rate", ["pa1", "pa2"])
def test_passive_aggressive_rate_with_an_optimizer_object_is_refused(rate):
    with pytest.raises(ValueError, match="only available with solver='sgd'"):
        _fit(SGDClassifier, solver=Adam(), learning_rate=rate)
