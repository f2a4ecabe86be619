"""docs/textbook.md: every relation between textbook formulas and fastopt, checked numerically.

Each test names the section of the page it backs. The references are plain
NumPy loops written from the textbook formulas (and torch's MSELoss when
installed); the other side is fastopt itself (optimizer objects through
``trace`` or ``OptimizerState``, and the estimators).
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastopt import MLPRegressor, SGDRegressor
from fastopt.landscapes import Quadratic, Rosenbrock
from fastopt.optim import SGD, Adam, ExponentialDecay, RMSprop, SklearnAdam, SklearnSGD, trace

ROSENBROCK, X0 = Rosenbrock(), np.array([-1.2, 1.5])


def _gradients(n_steps, size, seed=0):
    return np.random.default_rng(seed).standard_normal((n_steps, size))


# -- 1. Momentum: the exponential moving average -------------------------------------

def _ema_momentum_path(lr, beta, function, x0, n_steps):
    x, v, path = x0.copy(), np.zeros_like(x0), [x0.copy()]
    for _ in range(n_steps):
        v = beta * v + (1 - beta) * function.grad(x)
        x = x - lr * v
        path.append(x.copy())
    return np.array(path)


def test_ema_momentum_is_undampened_sgd_at_rate_times_one_minus_beta():
    lr, beta = 2e-3, 0.9
    ema = _ema_momentum_path(lr, beta, ROSENBROCK, X0, 60)
    same = trace(SGD(lr=lr * (1 - beta), momentum=beta), ROSENBROCK, X0, 60)
    np.testing.assert_allclose(same, ema, rtol=1e-12, atol=1e-14)
    # Without the rescaled rate, SGD(momentum) steps 1 / (1 - beta) = 10 times further.
    unscaled = trace(SGD(lr=lr, momentum=beta), Quadratic(1.0), 1.0, 1)
    assert unscaled[1, 0] == pytest.approx(1.0 - lr * 2.0)
    assert _ema_momentum_path(lr, beta, Quadratic(1.0), np.ones(1), 1)[1, 0] == pytest.approx(
        1.0 - lr * (1 - beta) * 2.0)


def test_dampening_beta_buffer_is_the_ema_plus_beta_power_t_times_first_gradient():
    beta, grads = 0.9, _gradients(25, 6)
    opt = SGD(lr=0.01, momentum=beta, dampening=beta)
    params = np.zeros(6)
    state = opt.init(params)
    v = np.zeros(6)
    for t, g in enumerate(grads, start=1):
        opt.step(params, g, state)
        v = beta * v + (1 - beta) * g
        np.testing.assert_allclose(state.buffers["momentum_buffer"], v + beta**t * grads[0],
                                   rtol=1e-12, atol=1e-14)
    assert np.abs(state.buffers["momentum_buffer"] - v).max() > 1e-3  # so it is not the EMA


def test_sklearn_heavy_ball_equals_torch_momentum_at_a_constant_rate_only():
    a = trace(SklearnSGD(lr=1e-3, momentum=0.9, nesterov=False), ROSENBROCK, X0, 60)
    b = trace(SGD(lr=1e-3, momentum=0.9), ROSENBROCK, X0, 60)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    decay = ExponentialDecay(0.9)
    a = trace(SklearnSGD(lr=1e-3, momentum=0.9, nesterov=False, schedule=decay), ROSENBROCK,
              X0, 60)
    b = trace(SGD(lr=1e-3, momentum=0.9, schedule=decay), ROSENBROCK, X0, 60)
    assert np.abs(a - b).max() > 1e-3


# -- 2. Where epsilon sits ----------------------------------------------------------

def _one_rmsprop_step(g, eps, alpha=0.99, lr=0.01):
    params = np.zeros_like(g)
    opt = RMSprop(lr=lr, alpha=alpha, eps=eps)
    opt.step(params, g, opt.init(params))
    return -params


def test_rmsprop_adds_eps_outside_the_square_root():
    g, eps, alpha, lr = np.logspace(-12, 2, 57), 1e-8, 0.99, 0.01
    v = (1 - alpha) * g**2
    step = _one_rmsprop_step(g, eps, alpha, lr)
    np.testing.assert_allclose(step, lr * g / (np.sqrt(v) + eps), rtol=1e-13)
    inside = lr * g / np.sqrt(v + eps)
    assert np.max(np.abs(step / inside)) > 1e3  # a tiny gradient: 1e4 times larger steps


def test_eps_inside_as_eps_squared_steps_between_1_and_sqrt2_times_further():
    eps, alpha, lr = 1e-6, 0.99, 0.01
    g = np.logspace(-10, -2, 801)
    v = (1 - alpha) * g**2
    ratio = (lr * g / np.sqrt(v + eps**2)) / _one_rmsprop_step(g, eps, alpha, lr)
    assert np.all(ratio >= 1 - 1e-12) and np.all(ratio <= np.sqrt(2) * (1 + 1e-12))
    assert ratio.max() == pytest.approx(np.sqrt(2), rel=1e-4)
    assert np.sqrt(v[np.argmax(ratio)]) == pytest.approx(eps, rel=0.02)  # the peak: sqrt(v) = eps
    assert ratio[0] == pytest.approx(1, abs=1e-3) and ratio[-1] == pytest.approx(1, abs=1e-3)


def test_sklearn_adam_is_torch_adam_with_eps_divided_by_sqrt_of_bias_correction():
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-3
    x, m, v, path = X0.copy(), np.zeros(2), np.zeros(2), [X0.copy()]
    for t in range(1, 41):
        g = ROSENBROCK.grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        eps_t = eps / np.sqrt(1 - b2**t)
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps_t)
        path.append(x.copy())
    sklearn_form = trace(SklearnAdam(lr=lr, eps=eps), ROSENBROCK, X0, 40)
    np.testing.assert_allclose(sklearn_form, path, rtol=1e-12, atol=1e-14)
    torch_form = trace(Adam(lr=lr, eps=eps), ROSENBROCK, X0, 40)
    assert np.abs(torch_form - sklearn_form).max() > 1e-4


# -- 3. Adam's bias correction --------------------------------------------------------

class _Linear:
    """f(x) = c . x: the gradient is the constant c."""

    def __init__(self, c):
        self.c = np.asarray(c, dtype=np.float64)

    def grad(self, x):
        return self.c


def _adam_steps(c, n_steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, mistake=None):
    """NumPy Adam on a constant gradient; mistake: None, 'twice' or 'fixed_t'."""
    m = v = 0.0
    steps = []
    for t in range(1, n_steps + 1):
        m = b1 * m + (1 - b1) * c
        v = b2 * v + (1 - b2) * c * c
        tc = 1 if mistake == "fixed_t" else t
        rate = lr * np.sqrt(1 - b2**tc) / (1 - b1**tc) if mistake == "twice" else lr
        steps.append(rate * (m / (1 - b1**tc)) / (np.sqrt(v / (1 - b2**tc)) + eps))
    return np.array(steps)


def test_adam_on_a_constant_gradient_steps_exactly_lr_every_step():
    c, lr, eps = np.array([3.0, -0.02, 1e-5]), 0.01, 1e-8
    path = trace(Adam(lr=lr, eps=eps), _Linear(c), np.zeros(3), 300)
    steps = -np.diff(path, axis=0)
    np.testing.assert_allclose(steps, np.tile(lr * c / (np.abs(c) + eps), (300, 1)), rtol=1e-9)
    np.testing.assert_allclose(steps[:, 0], _adam_steps(3.0, 300, lr, eps=eps), rtol=1e-9)


def test_the_two_bias_correction_mistakes_change_the_step_length():
    lr = 0.01
    twice = _adam_steps(1.0, 1000, lr, mistake="twice") / lr
    assert twice[0] == pytest.approx(np.sqrt(1 - 0.999) / (1 - 0.9))  # 0.316
    assert twice.argmin() + 1 == 12 and twice.min() == pytest.approx(0.152, abs=5e-4)
    assert twice[999] == pytest.approx(0.795, abs=5e-4)
    fixed = _adam_steps(1.0, 1000, lr, mistake="fixed_t") / lr
    assert fixed[0] == pytest.approx(1.0)
    assert fixed.argmax() + 1 == 12 and fixed.max() == pytest.approx(2.08, abs=5e-3)
    assert fixed[999] == pytest.approx(0.398, abs=5e-4)


# -- 4. scikit-learn's squared loss is half the MSE ---------------------------------

def _line_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 1))
    return X, 2.0 * X[:, 0]


def _batch_gd(eta0, epochs, X, y):
    est = SGDRegressor(eta0=eta0, batch_size=len(X), penalty=None, fit_intercept=False,
                       learning_rate="constant", shuffle=False)
    for _ in range(epochs):
        est.partial_fit(X, y)
    return est.coef_[0]


def _mse_gd(lr, epochs, X, y):
    """Keras / PyTorch: loss mean((w x - y)^2), gradient 2 mean((w x - y) x)."""
    w = 0.0
    for _ in range(epochs):
        w -= lr * 2.0 * np.mean((w * X[:, 0] - y) * X[:, 0])
    return w


def test_sgd_regressor_gradient_is_half_the_mse_gradient():
    X, y = _line_data()
    eta = 0.3
    assert _batch_gd(eta, 1, X, y) == pytest.approx(eta * np.mean(X[:, 0] * y), rel=1e-12)
    assert _batch_gd(2 * eta, 7, X, y) == pytest.approx(_mse_gd(eta, 7, X, y), rel=1e-12)
    assert abs(_batch_gd(eta, 7, X, y) - _mse_gd(eta, 7, X, y)) > 1e-2


def test_sgd_regressor_at_twice_the_rate_equals_torch_mse_loss():
    torch = pytest.importorskip("torch")
    X, y = _line_data()
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.3)
    Xt, yt = torch.from_numpy(X[:, 0]), torch.from_numpy(y)
    for _ in range(7):
        opt.zero_grad()
        torch.nn.functional.mse_loss(w * Xt, yt).backward()
        opt.step()
    assert _batch_gd(0.6, 7, X, y) == pytest.approx(w.item(), rel=1e-12)


def test_mlp_regressor_loss_is_half_the_mean_squared_error():
    X, y = _line_data()
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=1e-12,
                       momentum=0.0, batch_size=len(X), max_iter=1, alpha=0.0, shuffle=False,
                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    mse = np.mean((y - est.predict(X)) ** 2)  # the weights moved by ~1e-12 only
    assert est.loss_curve_[0] == pytest.approx(mse / 2, rel=1e-9)


def test_adam_does_not_see_the_factor_two_but_sgd_does():
    f, f2 = Quadratic(np.diag([1.0, 3.0])), Quadratic(np.diag([2.0, 6.0]))
    x0 = np.array([1.0, -2.0])
    np.testing.assert_array_equal(trace(Adam(lr=0.05, eps=0.0), f, x0, 50),
                                  trace(Adam(lr=0.05, eps=0.0), f2, x0, 50))
    np.testing.assert_array_equal(trace(SGD(lr=0.02), f2, x0, 50),
                                  trace(SGD(lr=0.04), f, x0, 50))
