"""The compiled loss and gradient equal finite differences and scikit-learn's backprop."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _mlp_layout import unflatten
from fastopt.neural_network._mlp_fast import MLPCore
from fastopt.optim import SGD

UNITS = [5, 4, 3]
N = 11


def _problem(out, n_out, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    units = UNITS + [n_out]
    X = rng.normal(size=(N, units[0]))
    if out == "softmax":
        Y = np.eye(n_out)[rng.randint(n_out, size=N)]
    elif out == "logistic":
        Y = (rng.uniform(size=(N, n_out)) > 0.5).astype(float)
    elif out == "exp":
        Y = rng.poisson(2.0, size=(N, n_out)).astype(float)
    else:
        Y = rng.normal(size=(N, n_out))
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    params = rng.uniform(-0.8, 0.8, n_params)
    sw = rng.uniform(0.5, 2.0, N)
    return units, X.astype(dtype), Y.astype(dtype), params.astype(dtype), sw.astype(dtype)


def _loss(core, params, X, Y, sw):
    return core.loss_grad(params, np.empty_like(params), X, Y, sw)


def _numeric_gradient(core, params, X, Y, sw, h=1e-6):
    """Central finite differences of the core's full-batch objective."""
    return np.array([(_loss(core, params + h * e, X, Y, sw)
                      - _loss(core, params - h * e, X, Y, sw)) / (2 * h)
                     for e in np.eye(len(params))])


CASES = [("identity", 1), ("exp", 2), ("logistic", 1), ("logistic", 3), ("softmax", 4)]
HIDDEN = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu",
          ("gelu", "elu"), ("silu", "leaky_relu")]


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("out, n_out", CASES)
@pytest.mark.parametrize("penalty", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.2), (0.1, 0.05)])
def test_gradient_equals_central_finite_differences(hidden, out, n_out, penalty):
    units, X, Y, params, sw = _problem(out, n_out)
    l2, l1 = penalty
    core = MLPCore(units, hidden, out, np.float64, 4, True, l2=l2, l1=l1)
    grads = np.empty_like(params)
    core.loss_grad(params, grads, X, Y, sw)
    np.testing.assert_allclose(grads, _numeric_gradient(core, params, X, Y, sw), rtol=1e-5,
                               atol=1e-7)


def test_multioutput_squared_error_gradient_follows_sklearn_convention():
    # scikit-learn averages the squared error over outputs but back-propagates
    # (p - y) unscaled: the data gradient is n_outputs times the loss gradient.
    units, X, Y, params, sw = _problem("identity", 3)
    core = MLPCore(units, "tanh", "identity", np.float64, N, True)
    grads = np.empty_like(params)
    core.loss_grad(params, grads, X, Y, sw)
    np.testing.assert_allclose(grads, 3 * _numeric_gradient(core, params, X, Y, sw),
                               rtol=1e-5, atol=1e-7)


def _sklearn_backprop(est, units, params, X, Y, sw, out):
    est.n_layers_ = len(units)
    est.out_activation_ = out
    coefs, intercepts = unflatten(params, units)
    est.coefs_, est.intercepts_ = coefs, intercepts
    n_layers = len(units)
    loss, cg, ig = est._backprop(X, Y, sw, [X] + [None] * (n_layers - 1),
                                 [None] * (n_layers - 1), [None] * (n_layers - 1),
                                 [None] * (n_layers - 1))
    return loss, np.concatenate([g.ravel() for g in cg] + [g.ravel() for g in ig])


@pytest.mark.parametrize("out, n_out", CASES + [("identity", 3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_loss_and_gradient_equal_sklearn_backprop(out, n_out, weighted, sparse):
    units, X, Y, params, sw = _problem(out, n_out, seed=1)
    sw = sw if weighted else None
    if out in ("identity", "exp"):
        est = SkMLPRegressor(activation="relu", alpha=0.3,
                             loss="poisson" if out == "exp" else "squared_error")
    else:
        est = SkMLPClassifier(activation="relu", alpha=0.3)
    expected_loss, expected_grad = _sklearn_backprop(est, units, params, X, Y, sw, out)
    Xin = sp.csr_matrix(X) if sparse else X
    core = MLPCore(units, "relu", out, np.float64, 4, not sparse, l2=0.3)
    grads = np.empty_like(params)
    loss = core.loss_grad(params, grads, Xin, Y, sw)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(grads, expected_grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("out, n_out", CASES)
@pytest.mark.parametrize("hidden", ["tanh", "leaky_relu", "elu", "gelu", "silu"])
def test_float32_gradient_is_float64_gradient_rounded(out, n_out, hidden):
    units, X, Y, params, sw = _problem(out, n_out)
    g64, g32 = np.empty_like(params), np.empty(len(params), np.float32)
    core64 = MLPCore(units, hidden, out, np.float64, N, True, l2=0.1)
    core32 = MLPCore(units, hidden, out, np.float32, N, True, l2=0.1)
    loss64 = core64.loss_grad(params, g64, X, Y, sw)
    loss32 = core32.loss_grad(params.astype(np.float32), g32, X.astype(np.float32),
                              Y.astype(np.float32), sw.astype(np.float32))
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_softmax_and_log_loss_are_stable_for_huge_logits():
    units = [2, 3]
    core = MLPCore(units, "relu", "softmax", np.float64, 2, True)
    params = np.array([800.0, -800.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    Y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    grads = np.empty_like(params)
    loss = core.loss_grad(params, grads, X, Y, None)
    assert np.isfinite(loss) and np.isfinite(grads).all()
    # the second row is confidently wrong: its loss is clipped at -log(eps)
    assert loss == pytest.approx(-np.log(np.finfo(np.float64).eps) / 2, rel=1e-6)
    proba = core.predict(params, X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_dropout_masks_are_inverted_and_backpropagated():
    rng = np.random.RandomState(3)
    units, n, drop, l2 = [5, 7, 6, 3], 40, 0.4, 0.2
    X = rng.normal(size=(n, units[0]))
    Y = np.eye(3)[rng.randint(3, size=n)]
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    params = rng.uniform(-0.8, 0.8, n_params)
    coefs, intercepts = unflatten(params, units)

    def core():
        return MLPCore(units, "tanh", "softmax", np.float64, n, True, l2=l2, dropout=drop,
                       seed=123)

    # a fresh core with the same seed draws the masks of the first minibatch
    dropped = core().hidden_activations(params, X, True)
    hidden, masks, a = [], [], X
    for W, b, d in zip(coefs[:-1], intercepts[:-1], dropped):
        h = np.tanh(a @ W + b)
        mask = np.where(d != 0, 1.0 / (1.0 - drop), 0.0)
        np.testing.assert_allclose(d, h * mask, rtol=1e-12)
        hidden.append(h)
        masks.append(mask)
        a = h * mask
    dropped_share = np.mean(np.concatenate([m.ravel() == 0 for m in masks]))
    assert dropped_share == pytest.approx(drop, abs=0.08)

    train, work, grads = core(), params.copy(), np.empty_like(params)
    train.epoch(work, grads, SGD(lr=0.0).init(work), X, Y, None, np.arange(n, dtype=np.intp),
                n, False)
    acts = [X] + [h * m for h, m in zip(hidden, masks)]
    z = acts[-1] @ coefs[-1] + intercepts[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    delta = p / p.sum(axis=1, keepdims=True) - Y
    gc, gi = [None] * 3, [None] * 3
    for i in range(2, -1, -1):
        gc[i] = (acts[i].T @ delta + l2 * coefs[i]) / n
        gi[i] = delta.sum(axis=0) / n
        if i > 0:
            delta = (delta @ coefs[i].T) * masks[i - 1] * (1 - hidden[i - 1] ** 2)
    np.testing.assert_allclose(grads, np.concatenate([g.ravel() for g in gc] + gi),
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss, delta", [("absolute_error", 1.0), ("huber", 1.0),
                                         ("huber", 0.3)])
@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("hidden", ["tanh", "gelu"])
def test_robust_loss_gradient_equals_central_finite_differences(loss, delta, n_out, hidden):
    units, X, Y, params, sw = _problem("identity", n_out)
    Y *= 2.0  # residuals on both sides of delta
    core = MLPCore(units, hidden, "identity", np.float64, 4, True, l2=0.3, loss=loss,
                   huber_delta=delta)
    grads = np.empty_like(params)
    core.loss_grad(params, grads, X, Y, sw)
    np.testing.assert_allclose(grads, _numeric_gradient(core, params, X, Y, sw), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_loss_value_is_the_weighted_mean_of_the_numpy_loss(loss):
    units, X, Y, params, sw = _problem("identity", 3)
    Y *= 2.0
    core = MLPCore(units, "tanh", "identity", np.float64, 4, True, loss=loss,
                   huber_delta=0.7)
    r = np.abs(core.predict(params, X) - Y)
    per_row = r if loss == "absolute_error" else np.where(r <= 0.7, 0.5 * r * r,
                                                          0.7 * (r - 0.35))
    assert _loss(core, params, X, Y, sw) == pytest.approx(
        np.sum(sw * per_row.mean(axis=1)) / sw.sum(), rel=1e-12)
    assert 0 < (r <= 0.7).mean() < 1


def test_absolute_error_gradient_is_zero_where_the_prediction_is_exact():
    """sign(0) = 0, as torch's L1Loss: targets equal to the outputs give no gradient."""
    units, X, _, params, sw = _problem("identity", 2)
    core = MLPCore(units, "tanh", "identity", np.float64, 4, True, loss="absolute_error")
    Y = core.predict(params, X)
    grads = np.empty_like(params)
    assert core.loss_grad(params, grads, X, Y, sw) == 0.0
    np.testing.assert_array_equal(grads, 0.0)
