"""Every epoch visits the samples in a fresh random order (storage order with
``shuffle=False``), read back from the trained model itself.

A one-coefficient model trained on ``x = 1`` with squared error, no penalty and
a constant rate ``eta = 0.9`` takes the step ``w <- w - eta (w - y_i) =
0.1 w + 0.9 y_i`` per sample (batch size 1). With targets ``y_i = 100 (i + 1)``
the final value is ``90 * sum_k 10**(k - T) (i_k + 1)`` over the T steps, so its
decimal digits spell out which sample came at which step. The decoded orders
are checked against a NumPy loop of that update rule.
"""

import numpy as np
import pytest

from fastopt.linear_model import SGDRegressor
from fastopt.neural_network import MLPRegressor
from fastopt.optim import SGD

N = 6  # two epochs of six steps: twelve digits, within float64 precision
X = np.ones((N, 1))
Y = 100.0 * np.arange(1, N + 1)

# three engines with the per-sample update w <- 0.1 w + 0.9 y: scikit-learn's
# per-sample SGD, the minibatch engine with an optimizer object, and a network
# without hidden layer (output = w + b, both stepped by 0.45 (w + b - y))
MODELS = {
    "SGDRegressor per-sample": lambda **kw: SGDRegressor(
        solver="sgd", learning_rate="constant", eta0=0.9, penalty=None, fit_intercept=False,
        tol=None, **kw),
    "SGDRegressor minibatch": lambda **kw: SGDRegressor(
        solver=SGD(lr=0.9), batch_size=1, penalty=None, fit_intercept=False, tol=None, **kw),
    "MLPRegressor": lambda **kw: MLPRegressor(
        hidden_layer_sizes=(), solver="sgd", momentum=0.0, learning_rate_init=0.45,
        batch_size=1, alpha=0.0, **kw),
}


def _output(model):
    return float(model.predict(np.ones((1, 1)))[0])


def _orders(model, epochs):
    """The row order of each epoch, decoded from the trained model's output."""
    steps = epochs * N
    code = round(_output(model) / 90 * 10 ** (steps - 1))
    visited = [(code // 10**k) % 10 - 1 for k in range(steps)]
    return [visited[e * N:(e + 1) * N] for e in range(epochs)]


def _numpy_output(rows):
    w = 0.0
    for i in rows:
        w = w - 0.9 * (w - Y[i])
    return w


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_consecutive_epochs_use_different_orders(name, random_state):
    one = MODELS[name](max_iter=1, shuffle=True, random_state=random_state).fit(X, Y)
    two = MODELS[name](max_iter=2, shuffle=True, random_state=random_state).fit(X, Y)
    (first,) = _orders(one, 1)
    epoch_1, epoch_2 = _orders(two, 2)
    assert sorted(first) == sorted(epoch_2) == list(range(N))
    assert epoch_1 == first  # the same seed starts with the same order
    assert epoch_2 != epoch_1
    # the decoding is right: a NumPy loop over the decoded orders gives the model
    # (up to 1e-12 times the network's random initial output), and repeating the
    # first epoch's order would not
    assert _numpy_output(epoch_1 + epoch_2) == pytest.approx(_output(two), abs=1e-6)
    assert _numpy_output(epoch_1 + epoch_1) != pytest.approx(_output(two), abs=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(MODELS))
def test_shuffle_false_visits_samples_in_storage_order(name):
    model = MODELS[name](max_iter=2, shuffle=False, random_state=0).fit(X, Y)
    assert _orders(model, 2) == [list(range(N)), list(range(N))]
