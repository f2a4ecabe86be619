"""Per-layer options of the MLPs (activation and dropout lists, input dropout),
and what they refuse."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.neural_network._per_layer import init_activations

NEW_ACTIVATIONS = ["leaky_relu", "elu", "gelu", "silu"]


def _data(n=80):
    return make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("activation", [["relu"], ("relu", "tanh", "gelu"), []])
def test_activation_list_of_the_wrong_length_raises(activation):
    X, y = _data()
    with pytest.raises(ValueError, match=f"activation has {len(activation)} value\\(s\\) but "
                                         "the network has 2 hidden layers"):
        MLPClassifier((5, 4), activation=activation).fit(X, y)


@pytest.mark.parametrize("activation", ["swish", ["relu", "swish"]])
def test_unknown_activation_name_raises(activation):
    X, y = _data()
    with pytest.raises(ValueError, match="swish"):
        MLPClassifier((5, 4), activation=activation).fit(X, y)


def test_a_list_of_one_name_per_layer_equals_that_name():
    X, y = _data()
    params = dict(hidden_layer_sizes=(6, 5), max_iter=5, random_state=0)
    single = _fit(MLPClassifier(activation="gelu", **params), X, y)
    listed = _fit(MLPClassifier(activation=["gelu", "gelu"], **params), X, y)
    for a, b in zip(single.coefs_ + single.intercepts_, listed.coefs_ + listed.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_each_layer_is_initialised_for_the_activation_after_it():
    assert init_activations("logistic", 2) == ("logistic",) * 3
    assert init_activations(["logistic", "relu"], 2) == ("logistic", "relu", "relu")
    assert init_activations([], 0) == ("identity",)
    units = [6, 30, 30, 3]
    flat = MLPClassifier((30, 30), activation=["logistic", "relu"])._initial_params(
        units, np.float64, np.random.RandomState(0))
    rs = np.random.RandomState(0)
    for fan_in, fan_out, factor in zip(units[:-1], units[1:], (2.0, 6.0, 6.0)):
        bound = np.sqrt(factor / (fan_in + fan_out))
        expected = rs.uniform(-bound, bound, fan_in * fan_out)
        rs.uniform(-bound, bound, fan_out)
        np.testing.assert_array_equal(flat[:fan_in * fan_out], expected)
        flat = flat[fan_in * fan_out:]


@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_float32_fit_is_close_to_the_float64_fit(activation):
    X, y = _data()
    params = dict(hidden_layer_sizes=(8, 6), activation=activation, max_iter=20,
                  random_state=0)
    fit64 = _fit(MLPClassifier(**params), X, y)
    fit32 = _fit(MLPClassifier(**params), X.astype(np.float32), y)
    assert fit32.coefs_[0].dtype == np.float32
    for a, b in zip(fit32.coefs_ + fit32.intercepts_, fit64.coefs_ + fit64.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fit32.predict_proba(X.astype(np.float32)),
                               fit64.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_csr_input_trains_as_dense_input(activation):
    X, y = _data()
    X[X < 0] = 0.0
    params = dict(hidden_layer_sizes=(8,), activation=activation, max_iter=10,
                  random_state=0)
    dense = _fit(MLPRegressor(**params), X, y.astype(float))
    sparse = _fit(MLPRegressor(**params), sp.csr_matrix(X), y.astype(float))
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dropout, message", [
    ([0.1], "dropout has 1 value\\(s\\) but the network has 2 hidden layers"),
    ((0.1, 0.2, 0.3), "dropout has 3 value\\(s\\)"),
    ([0.1, 1.0], "in \\[0, 1\\)"),
    ([-0.1, 0.2], "in \\[0, 1\\)"),
    (1.0, "'dropout' parameter"),
])
def test_bad_dropout_raises(dropout, message):
    X, y = _data()
    with pytest.raises(ValueError, match=message):
        MLPClassifier((5, 4), dropout=dropout).fit(X, y)


@pytest.mark.parametrize("params", [dict(input_dropout=0.2), dict(dropout=[0.0, 0.2])])
def test_dropout_needs_a_stochastic_solver(params):
    X, y = _data()
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier((5, 4), solver="lbfgs", **params).fit(X, y)


def test_input_dropout_must_be_a_rate():
    X, y = _data()
    with pytest.raises(ValueError, match="'input_dropout' parameter"):
        MLPClassifier((5, 4), input_dropout=1.0).fit(X, y)


def test_zero_rates_train_as_no_dropout():
    X, y = _data()
    params = dict(hidden_layer_sizes=(6, 5), max_iter=5, random_state=0)
    plain = _fit(MLPClassifier(**params), X, y)
    zeros = _fit(MLPClassifier(dropout=[0.0, 0.0], input_dropout=0.0, **params), X, y)
    for a, b in zip(plain.coefs_ + plain.intercepts_, zeros.coefs_ + zeros.intercepts_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_and_per_layer_dropout_fit_dense_csr_and_float32(sparse, dtype):
    X, y = _data(200)
    X = np.where(X > 0, X, 0.0).astype(dtype)
    Xin = sp.csr_matrix(X) if sparse else X
    before = Xin.copy()
    est = _fit(MLPClassifier((16, 8), dropout=[0.1, 0.3], input_dropout=0.2, max_iter=60,
                             learning_rate_init=0.01, random_state=0), Xin, y)
    assert est.coefs_[0].dtype == dtype
    assert est.score(Xin, y) > 0.7
    assert (Xin != before).nnz == 0 if sparse else np.array_equal(Xin, before)
    again = _fit(MLPClassifier((16, 8), dropout=[0.1, 0.3], input_dropout=0.2, max_iter=60,
                               learning_rate_init=0.01, random_state=0), Xin, y)
    np.testing.assert_array_equal(est.coefs_[0], again.coefs_[0])


def test_float32_input_dropout_fit_is_close_to_float64():
    X, y = _data()
    params = dict(hidden_layer_sizes=(8,), dropout=[0.2], input_dropout=0.2, max_iter=10,
                  random_state=0)
    fit64 = _fit(MLPClassifier(**params), X, y)
    fit32 = _fit(MLPClassifier(**params), X.astype(np.float32), y)
    np.testing.assert_allclose(fit32.coefs_[0], fit64.coefs_[0], rtol=1e-3, atol=1e-4)
