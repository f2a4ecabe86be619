"""Back-propagation through dropout masks equals finite differences, for every
activation, per-layer rates and input dropout (dense and CSR input).

The masks of a training pass are read back from the compiled forward pass; with
them held fixed the training loss is a smooth function of the parameters,
evaluated here in plain NumPy from the published formulas (inverted dropout,
softmax log-loss, L2 penalty divided by the minibatch size as in
scikit-learn), and its central finite differences are the reference for the
gradient of the compiled training epoch.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import erf, expit

from _mlp_layout import unflatten
from fastopt.neural_network._mlp_fast import MLPCore
from fastopt.optim import SGD

UNITS = [4, 6, 5, 3]
N, DROP, L2, SEED = 12, 0.4, 0.2, 7

ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "gelu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))),
    "silu": lambda z: z * expit(z),
}


def _problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, UNITS[0]))
    Y = np.eye(UNITS[-1])[rng.randint(UNITS[-1], size=N)]
    n_params = sum(a * b + b for a, b in zip(UNITS[:-1], UNITS[1:]))
    return X, Y, rng.uniform(-0.8, 0.8, n_params)


def _core(activation):
    return MLPCore(UNITS, activation, "softmax", np.float64, N, True, l2=L2, dropout=DROP,
                   seed=SEED)


def _masks(activation, params, X):
    """The inverted-dropout scales of the first training minibatch of a core seeded
    with SEED, read from its dropped hidden activations."""
    coefs, intercepts = unflatten(params, UNITS)
    dropped = _core(activation).hidden_activations(params, X, True)
    masks, a = [], X
    for W, b, d in zip(coefs[:-1], intercepts[:-1], dropped):
        h = ACTIVATIONS[activation](a @ W + b)
        mask = np.where(d != 0, 1 / (1 - DROP), 0.0)
        np.testing.assert_allclose(d, h * mask, rtol=1e-12, atol=1e-15)
        masks.append(mask)
        a = h * mask
    return masks


def _numpy_loss(activation, params, X, Y, masks):
    """Mean softmax log-loss of the network with fixed dropout masks, plus
    ``L2 / (2 n) ||W||^2``."""
    coefs, intercepts = unflatten(params, UNITS)
    a = X
    for W, b, mask in zip(coefs[:-1], intercepts[:-1], masks):
        a = ACTIVATIONS[activation](a @ W + b) * mask
    z = a @ coefs[-1] + intercepts[-1]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    penalty = 0.5 * L2 * sum(np.sum(W * W) for W in coefs) / N
    return -np.sum(Y * log_p) / N + penalty


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_dropout_backprop_equals_finite_differences_with_the_same_masks(activation):
    X, Y, params = _problem()
    masks = _masks(activation, params, X)
    assert 0 < np.mean(np.concatenate([m.ravel() == 0 for m in masks])) < 1
    grads, work = np.empty_like(params), params.copy()
    _core(activation).epoch(work, grads, SGD(lr=0.0).init(work), X, Y, None,
                            np.arange(N, dtype=np.intp), N, False)
    h = 1e-6
    numeric = np.array([
        (_numpy_loss(activation, params + h * e, X, Y, masks)
         - _numpy_loss(activation, params - h * e, X, Y, masks)) / (2 * h)
        for e in np.eye(len(params))])
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)


# Per-layer rates and input dropout. The masks depend on the seed and the shapes
# only, so a core whose first layer is the identity (an identity activation and an
# identity weight matrix, as many units as features) reveals the input mask, and
# the hidden mask, that a core with the same seed draws for any parameters.
UNITS_IN, RATES, IN_DROP = [4, 4, 5, 3], [0.0, 0.5], 0.3
LAYER_ACTS = ["identity", "tanh"]


def _in_problem(sparse):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(N, UNITS_IN[0]))
    if sparse:
        X[rng.uniform(size=X.shape) < 0.3] = 0.0
    Y = np.eye(UNITS_IN[-1])[rng.randint(UNITS_IN[-1], size=N)]
    n_params = sum(a * b + b for a, b in zip(UNITS_IN[:-1], UNITS_IN[1:]))
    return X, Y, rng.uniform(-0.8, 0.8, n_params)


def _in_masks(X, Xin, core_for):
    """The input and second-hidden-layer masks of the first training minibatch."""
    rng = np.random.RandomState(2)
    probe = np.concatenate([np.eye(4).ravel(), rng.uniform(-1, 1, 20), np.zeros(15),
                            np.zeros(4), rng.uniform(-1, 1, 5), np.zeros(3)])
    coefs, intercepts = unflatten(probe, UNITS_IN)
    h1, h2 = core_for().hidden_activations(probe, Xin, True)
    stored = X != 0
    m0 = np.where(h1 != 0, 1 / (1 - IN_DROP), 0.0)
    np.testing.assert_allclose(h1, X * m0, rtol=1e-15)
    m2 = np.where(h2 != 0, 1 / (1 - RATES[1]), 0.0)
    np.testing.assert_allclose(h2, np.tanh(h1 @ coefs[1] + intercepts[1]) * m2, rtol=1e-12)
    assert 0 < np.mean(m0[stored] == 0) < 0.6 and 0.2 < np.mean(m2 == 0) < 0.8
    return m0, m2


def _in_numpy_loss(params, X, Y, m0, m2):
    coefs, intercepts = unflatten(params, UNITS_IN)
    a1 = (X * m0) @ coefs[0] + intercepts[0]
    a2 = np.tanh(a1 @ coefs[1] + intercepts[1]) * m2
    z = a2 @ coefs[2] + intercepts[2]
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.sum(Y * log_p) / N + 0.5 * L2 * sum(np.sum(W * W) for W in coefs) / N


@pytest.mark.parametrize("sparse", [False, True])
def test_input_and_per_layer_dropout_backprop_equals_finite_differences(sparse):
    X, Y, params = _in_problem(sparse)
    Xin = sp.csr_matrix(X) if sparse else X
    X_before = Xin.copy()

    def core():
        return MLPCore(UNITS_IN, LAYER_ACTS, "softmax", np.float64, N, not sparse, l2=L2,
                       dropout=RATES, input_dropout=IN_DROP, seed=SEED)

    m0, m2 = _in_masks(X, Xin, core)
    grads, work = np.empty_like(params), params.copy()
    core().epoch(work, grads, SGD(lr=0.0).init(work), Xin, Y, None,
                 np.arange(N, dtype=np.intp), N, False)
    h = 1e-6
    numeric = np.array([
        (_in_numpy_loss(params + h * e, X, Y, m0, m2)
         - _in_numpy_loss(params - h * e, X, Y, m0, m2)) / (2 * h)
        for e in np.eye(len(params))])
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)
    if sparse:  # the dropped values are a copy
        np.testing.assert_array_equal(Xin.data, X_before.data)
    else:
        np.testing.assert_array_equal(Xin, X_before)
