"""The MLP building blocks beyond scikit-learn's equal PyTorch's modules.

Full-batch gradient descent (solver='sgd', momentum 0, constant rate, no
penalty, one minibatch of all rows per epoch: plain ``W -= lr dJ/dW``) from
the same initial weights, in float64, must leave the same weights as a
``torch.nn.Sequential`` of the same modules trained by the same steps, and
the trained networks must predict the same. Skipped without torch.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from _mlp_layout import glorot, torch_mlp
from fastopt.neural_network import MLPClassifier, MLPRegressor

torch = pytest.importorskip("torch")

HIDDEN = (7, 5)
N, STEPS, LR, SEED = 40, 6, 0.1, 3
MODULES = {
    "leaky_relu": torch.nn.LeakyReLU,
    "elu": torch.nn.ELU,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
}
GD = dict(solver="sgd", batch_size=N, momentum=0.0, learning_rate="constant",
          learning_rate_init=LR, alpha=0.0, max_iter=STEPS, tol=0.0, n_iter_no_change=STEPS,
          random_state=SEED)


def _torch_model(units, activations):
    return torch_mlp(torch, glorot(units, SEED), units, [MODULES[a] for a in activations])


def _train_torch(model, X, target, loss_fn, lr=LR):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt = torch.from_numpy(X)
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(model(Xt), target).backward()
        opt.step()
    return model


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _assert_same_weights(est, model):
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for W, b, linear in zip(est.coefs_, est.intercepts_, linears):
        np.testing.assert_allclose(W, linear.weight.detach().numpy().T, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(b, linear.bias.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu", "silu",
                                        ("gelu", "leaky_relu"), ["silu", "elu"],
                                        ("relu", "gelu")])
def test_full_batch_descent_equals_torch_for_each_activation(activation):
    X, y = make_classification(N, 6, n_informative=4, n_classes=3, random_state=0)
    est = _fit(MLPClassifier(HIDDEN, activation=activation, **GD), X, y)
    activations = [activation] * 2 if isinstance(activation, str) else list(activation)
    model = _train_torch(_torch_model([6, *HIDDEN, 3], activations), X, torch.from_numpy(y),
                         torch.nn.functional.cross_entropy)
    _assert_same_weights(est, model)
    with torch.no_grad():
        proba = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu", "silu"])
def test_kinks_and_tails_equal_torch(activation):
    """Pre-activations exactly 0 (leaky ReLU's kink, where torch's slope is 0.01)
    and far in both tails (exp overflow in SiLU, ELU and GELU) train as in torch."""
    X = np.array([[0.0], [1.0], [-1.0], [40.0], [-40.0], [800.0], [-800.0]])
    y = np.linspace(-1.0, 1.0, len(X))
    model = _torch_model([1, 4, 1], [activation])
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0], [0.5], [-1.0], [2.0]]))
        model[0].bias.zero_()
        model[2].weight.mul_(1e-3)
    params = dict(GD, batch_size=len(X), learning_rate_init=1e-6)
    est = _fit(MLPRegressor(hidden_layer_sizes=(4,), activation=activation,
                            **dict(params, max_iter=1)), X, y)
    est.coefs_ = [m.weight.detach().numpy().T.copy() for m in (model[0], model[2])]
    est.intercepts_ = [m.bias.detach().numpy().copy() for m in (model[0], model[2])]
    _fit(est.set_params(warm_start=True, max_iter=STEPS), X, y)
    _train_torch(model, X, torch.from_numpy(y).reshape(-1, 1), _half_squared_error, lr=1e-6)
    _assert_same_weights(est, model)


def _half_squared_error(out, target):
    """scikit-learn's squared-error objective: half the squared error summed over
    outputs, averaged over samples."""
    return 0.5 * ((out - target) ** 2).sum(dim=1).mean()


def _weighted_mean(loss_module, weights):
    """The module's loss per element (reduction='none'), each sample's mean over
    outputs, averaged over samples with ``weights``."""
    def loss(out, target):
        w = torch.from_numpy(weights)
        return (w * loss_module(out, target).mean(dim=1)).sum() / w.sum()
    return loss


@pytest.mark.parametrize("loss, delta", [("absolute_error", 1.0), ("huber", 1.0),
                                         ("huber", 0.25)])
@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_full_batch_descent_equals_torch_for_each_robust_loss(loss, delta, n_targets,
                                                              weighted):
    X, y = make_regression(N, 6, n_targets=n_targets, noise=5.0, random_state=0)
    y = y / np.abs(y).std()
    sw = np.random.RandomState(1).uniform(0.2, 2.0, N) if weighted else None
    est = MLPRegressor(loss=loss, huber_delta=delta, hidden_layer_sizes=HIDDEN,
                       activation="gelu", **GD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sw)
    module = (torch.nn.L1Loss(reduction="none") if loss == "absolute_error"
              else torch.nn.HuberLoss(reduction="none", delta=delta))
    if not weighted:  # then the loss is torch's own mean reduction
        module = (torch.nn.L1Loss() if loss == "absolute_error"
                  else torch.nn.HuberLoss(delta=delta))
    target = torch.from_numpy(y.reshape(N, -1))
    model = _torch_model([6, *HIDDEN, n_targets], ["gelu", "gelu"])
    objective = module if not weighted else _weighted_mean(module, sw)
    with torch.no_grad():
        initial_loss = float(objective(model(torch.from_numpy(X)), target))
    # loss_curve_[0]: the full-batch objective at the initial weights
    assert est.loss_curve_[0] == pytest.approx(initial_loss, rel=1e-12)
    _assert_same_weights(est, _train_torch(model, X, target, objective))
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(est.predict(X).reshape(N, -1), expected, rtol=1e-10,
                               atol=1e-12)
