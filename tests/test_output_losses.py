"""The row losses of csrc/fo_losses.h (MLP output layer, multinomial SGD) against
NumPy written from their published formulas."""

import numpy as np
import pytest

from fastopt.neural_network._mlp_fast import (
    CANONICAL_LOSS, OutputLoss, output_loss, robust_loss,
)

RNG = np.random.default_rng(0)
N, K = 7, 4
EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps}


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _reference(kind, z, y, delta, eps):
    """(row losses, gradient of each row's loss) in float64."""
    z, y = z.astype(np.float64), y.astype(np.float64)
    if kind == OutputLoss.OUT_SQUARED_ERROR:
        return ((z - y) ** 2).sum(1) / (2 * z.shape[1]), z - y
    if kind == OutputLoss.OUT_POISSON:
        mu = np.exp(z)
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
        return (ylogy + mu - y).sum(1), mu - y
    if kind == OutputLoss.OUT_BINARY_LOG_LOSS:
        p = 1 / (1 + np.exp(-z))
        q = np.clip(p, eps, 1 - eps)
        return -(y * np.log(q) + (1 - y) * np.log(1 - q)).sum(1), p - y
    if kind == OutputLoss.OUT_LOG_LOSS:
        p = _softmax(z)
        return -(y * np.log(np.clip(p, eps, 1 - eps))).sum(1), p - y
    r = z - y
    if kind == OutputLoss.OUT_ABSOLUTE_ERROR:
        return np.abs(r).mean(1), np.sign(r) / z.shape[1]
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    return loss.mean(1), np.clip(r, -delta, delta) / z.shape[1]


def _targets(kind):
    if kind == OutputLoss.OUT_LOG_LOSS:
        return np.eye(K)[RNG.integers(0, K, N)]
    if kind == OutputLoss.OUT_BINARY_LOG_LOSS:
        return RNG.integers(0, 2, (N, K)).astype(float)
    if kind == OutputLoss.OUT_POISSON:
        return RNG.poisson(1.5, (N, K)).astype(float)
    return RNG.normal(size=(N, K))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(OutputLoss), ids=lambda k: k.name)
def test_row_loss_and_gradient_follow_the_published_formulas(kind, dtype):
    z = (2 * RNG.normal(size=(N, K))).astype(dtype)
    y = _targets(kind)
    w = RNG.uniform(0.5, 2.0, N)
    loss, grad = output_loss(kind, 0.7, y, z, w)
    ref_loss, ref_grad = _reference(kind, z, y, 0.7, EPS[dtype])
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert grad.dtype == dtype
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(grad, w[:, None] * ref_grad, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("kind", list(OutputLoss), ids=lambda k: k.name)
def test_gradient_is_the_derivative_of_the_loss(kind):
    z = RNG.normal(size=(N, K))
    y = _targets(kind)
    _, grad = output_loss(kind, 0.7, y, z)
    if kind == OutputLoss.OUT_SQUARED_ERROR:
        grad = grad / K  # scikit-learn's: the mean over outputs, back-propagated summed
    h = 1e-6
    for j in range(K):
        step = np.zeros_like(z)
        step[:, j] = h
        numeric = (output_loss(kind, 0.7, y, z + step)[0]
                   - output_loss(kind, 0.7, y, z - step)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_loss_is_finite_for_huge_logits(dtype):
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    y = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    loss, grad = output_loss(OutputLoss.OUT_LOG_LOSS, 1.0, y, z)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[0, 0, 0], [1 / 3, 1 / 3, -2 / 3]], atol=1e-6)


@pytest.mark.parametrize("kind", list(OutputLoss), ids=lambda k: k.name)
def test_a_nan_pre_activation_stays_nan(kind):
    z = np.zeros((1, K))
    z[0, 1] = np.nan
    loss, grad = output_loss(kind, 1.0, _targets(kind)[:1], z)
    assert np.isnan(loss[0]) and np.isnan(grad[0, 1])


def test_every_output_activation_has_a_canonical_loss():
    from fastopt.neural_network._mlp_fast import ACTIVATION_CODES, OUTPUT_ACTIVATIONS

    assert {ACTIVATION_CODES[a] for a in OUTPUT_ACTIVATIONS} == set(CANONICAL_LOSS)


@pytest.mark.parametrize("kind, z, match", [
    (len(OutputLoss), np.zeros((2, 3)), "kind"),
    (OutputLoss.OUT_SQUARED_ERROR, np.zeros((2, 0)), "n_outputs >= 1"),
    (OutputLoss.OUT_SQUARED_ERROR, np.zeros((2, 3), dtype=np.int64), "float32 or float64"),
])
def test_bad_arguments_are_refused(kind, z, match):
    with pytest.raises(ValueError, match=match):
        output_loss(kind, 1.0, np.zeros(z.shape), z)


def test_robust_validation_score_is_the_weighted_mean_of_the_training_loss():
    z, y, w = RNG.normal(size=(N, K)), RNG.normal(size=(N, K)), RNG.uniform(0.5, 2, N)
    rows, _ = output_loss(OutputLoss.OUT_HUBER, 0.5, y, z)
    assert robust_loss("huber", 0.5, y, z, w) == pytest.approx(np.average(rows, weights=w))
