"""batch_norm=True: the MLPs with torch.nn.BatchNorm1d after every hidden affine map.

Exactness against PyTorch (float64 full-batch gradient descent from the same
weights, the running statistics and eval-mode predictions), finite-difference
gradients of the compiled objective with batch norm, and the estimator-level
contract: assigned arrays, the fold rule, sample weights as repeated rows,
early stopping, partial_fit, float32, CSR and pickling (thread counts:
test_thread_identity.py).
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import erf
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from _mlp_layout import torch_linear, unflatten
from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.neural_network._mlp_fast import MLPCore

HIDDEN = (7, 5)
N, STEPS, LR = 40, 6, 0.1
GD = dict(solver="sgd", batch_size=N, momentum=0.0, learning_rate="constant",
          learning_rate_init=LR, alpha=0.0, max_iter=STEPS, tol=0.0, n_iter_no_change=STEPS,
          random_state=3, shuffle=False, batch_norm=True)
BN_NAMES = ("batch_norm_weights_", "batch_norm_biases_", "batch_norm_running_means_",
            "batch_norm_running_vars_")


def _fit(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def _classification(n=N, seed=0):
    return make_classification(n, 6, n_informative=4, n_classes=3, random_state=seed)


def _regression(n=N, n_targets=1):
    X, y = make_regression(n, 6, n_targets=n_targets, noise=5.0, random_state=0)
    return X, y / np.abs(y).std()


def _state(est):
    """Every fitted array of ``est``, flat."""
    names = ("coefs_", "intercepts_") + BN_NAMES
    return np.concatenate([a.ravel() for name in names for a in getattr(est, name)])


# ------------------------------------------------------------------ PyTorch

MODULES = ("identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu")


def _torch_modules(torch):
    return {"identity": torch.nn.Identity, "logistic": torch.nn.Sigmoid,
            "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU,
            "elu": torch.nn.ELU, "gelu": torch.nn.GELU, "silu": torch.nn.SiLU}


def _torch_bn_model(torch, est, activations):
    """Linear -> BatchNorm1d -> activation per hidden layer, then Linear, holding
    ``est``'s weights and random batch-norm scales, shifts and running statistics,
    which are assigned to ``est`` as well."""
    gen = torch.Generator().manual_seed(0)
    layers, norms = [], []
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        layers.append(torch_linear(torch, W, b))
        if i < len(activations):
            norm = torch.nn.BatchNorm1d(W.shape[1], eps=1e-5, momentum=0.1,
                                        dtype=torch.float64)
            with torch.no_grad():
                norm.weight.uniform_(0.5, 1.5, generator=gen)
                norm.bias.uniform_(-0.5, 0.5, generator=gen)
                norm.running_mean.uniform_(-1.0, 1.0, generator=gen)
                norm.running_var.uniform_(0.5, 2.0, generator=gen)
            norms.append(norm)
            layers += [norm, _torch_modules(torch)[activations[i]]()]
    est.batch_norm_weights_ = [n.weight.detach().numpy().copy() for n in norms]
    est.batch_norm_biases_ = [n.bias.detach().numpy().copy() for n in norms]
    est.batch_norm_running_means_ = [n.running_mean.numpy().copy() for n in norms]
    est.batch_norm_running_vars_ = [n.running_var.numpy().copy() for n in norms]
    return torch.nn.Sequential(*layers)


def _assert_same_network(torch, est, model):
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    norms = [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]
    pairs = [(est.coefs_, [m.weight.T for m in linears]),
             (est.intercepts_, [m.bias for m in linears]),
             (est.batch_norm_weights_, [m.weight for m in norms]),
             (est.batch_norm_biases_, [m.bias for m in norms]),
             (est.batch_norm_running_means_, [m.running_mean for m in norms]),
             (est.batch_norm_running_vars_, [m.running_var for m in norms])]
    for ours, theirs in pairs:
        assert len(ours) == len(theirs)
        for a, t in zip(ours, theirs):
            np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-10, atol=1e-12)


def _descend_both(torch, est, X, y, target, loss_fn, activations, batches=None):
    """One epoch to create the attributes, then the torch model's weights in both,
    then ``STEPS`` epochs of gradient descent on each (``batches``: row slices of
    an epoch, default one full batch)."""
    _fit(est.set_params(max_iter=1), X, y)
    model = _torch_bn_model(torch, est, activations)
    _fit(est.set_params(warm_start=True, max_iter=STEPS), X, y)
    opt = torch.optim.SGD(model.parameters(), lr=est.learning_rate_init)
    Xt = torch.from_numpy(X)
    for _ in range(STEPS):
        for rows in batches or [slice(None)]:
            opt.zero_grad()
            loss_fn(model(Xt[rows]), target[rows]).backward()
            opt.step()
    return model.eval()


@pytest.mark.parametrize("activation", [*MODULES, ("gelu", "leaky_relu")])
def test_full_batch_descent_with_batch_norm_equals_torch(activation):
    torch = pytest.importorskip("torch")
    X, y = _classification()
    activations = [activation] * 2 if isinstance(activation, str) else list(activation)
    est = MLPClassifier(HIDDEN, activation=activation, **GD)
    model = _descend_both(torch, est, X, y, torch.from_numpy(y),
                          torch.nn.functional.cross_entropy, activations)
    _assert_same_network(torch, est, model)
    with torch.no_grad():
        proba = torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_with_batch_norm_equal_torch(loss):
    torch = pytest.importorskip("torch")
    X, y = _regression(n_targets=2)
    est = MLPRegressor(loss=loss, huber_delta=0.5, hidden_layer_sizes=HIDDEN,
                       activation="silu", **GD)
    module = torch.nn.L1Loss() if loss == "absolute_error" else torch.nn.HuberLoss(delta=0.5)
    model = _descend_both(torch, est, X, y, torch.from_numpy(y), module, ["silu", "silu"])
    _assert_same_network(torch, est, model)
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(est.predict(X), expected, rtol=1e-10, atol=1e-12)


def test_last_minibatch_of_one_row_joins_the_one_before_as_in_torch():
    """2 * 10 + 1 rows at batch_size=10: minibatches of 10 and 11 rows."""
    torch = pytest.importorskip("torch")
    X, y = _classification(21)
    est = MLPClassifier(HIDDEN, activation="tanh", **dict(GD, batch_size=10))
    model = _descend_both(torch, est, X, y, torch.from_numpy(y),
                          torch.nn.functional.cross_entropy, ["tanh", "tanh"],
                          batches=[slice(0, 10), slice(10, 21)])
    _assert_same_network(torch, est, model)
    assert est.t_ == 21 * (STEPS + 1)


# ------------------------------------------------------- gradient of the core

def _core_problem(out, n_out, n=9, seed=0):
    rng = np.random.RandomState(seed)
    units = [4, 6, 5, n_out]
    core = MLPCore(units, ["gelu", "tanh"], out, np.float64, n, True, l2=0.3,
                   batch_norm=True)
    params = rng.uniform(-1.0, 1.0, core.n_params)
    X = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 3.0]
    Y = (np.eye(n_out)[rng.randint(n_out, size=n)] if out == "softmax"
         else rng.standard_normal((n, n_out)))
    sw = rng.uniform(0.2, 2.0, n)
    return core, params, X, Y, sw


def _running(core):
    h = core.n_running // 2
    return np.concatenate([np.zeros(h), np.ones(h)])


@pytest.mark.parametrize("out, n_out", [("softmax", 3), ("identity", 1), ("logistic", 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_batch_norm_gradient_equals_central_finite_differences(out, n_out, weighted):
    core, params, X, Y, sw = _core_problem(out, n_out)
    sw = sw if weighted else None
    running = _running(core)
    grads = np.empty_like(params)
    core.loss_grad(params, grads, X, Y, sw, running)
    h = 1e-6
    numeric = np.array([(core.loss_grad(params + h * e, np.empty_like(params), X, Y, sw,
                                        running)
                         - core.loss_grad(params - h * e, np.empty_like(params), X, Y, sw,
                                          running)) / (2 * h)
                        for e in np.eye(len(params))])
    np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-7)


def test_alpha_penalises_the_weights_only_not_the_scales_and_shifts():
    core, params, X, Y, _ = _core_problem("identity", 2)
    plain = MLPCore([4, 6, 5, 2], ["gelu", "tanh"], "identity", np.float64, 9, True,
                    batch_norm=True)
    g_pen, g_plain = np.empty_like(params), np.empty_like(params)
    core.loss_grad(params, g_pen, X, Y, None, _running(core))
    plain.loss_grad(params, g_plain, X, Y, None, _running(plain))
    n_coef = 4 * 6 + 6 * 5 + 5 * 2  # the weights; intercepts, scales and shifts follow
    assert not np.allclose(g_pen[:n_coef], g_plain[:n_coef])
    np.testing.assert_array_equal(g_pen[n_coef:], g_plain[n_coef:])


def test_running_statistics_follow_torch_update_rule():
    """One training pass: running = 0.9 running + 0.1 stat, the variance unbiased."""
    core, params, X, Y, _ = _core_problem("identity", 2)
    running = _running(core)
    before = running.copy()
    core.loss_grad(params, np.empty_like(params), X, Y, None, running)
    coefs, intercepts = unflatten(params[:core.n_params - core.n_running], [4, 6, 5, 2])
    z = X @ coefs[0] + intercepts[0]
    np.testing.assert_allclose(running[:6], 0.9 * before[:6] + 0.1 * z.mean(0), rtol=1e-12)
    np.testing.assert_allclose(running[11:17], 0.9 * before[11:17] + 0.1 * z.var(0, ddof=1),
                               rtol=1e-12)


# --------------------------------------------------------------- estimators

def test_integer_sample_weights_fit_as_repeated_rows():
    X, y = _regression(20)
    sw = np.random.RandomState(0).randint(0, 4, 20)
    params = dict(GD, batch_size=200, max_iter=5, activation="tanh")
    weighted = _fit(MLPRegressor(hidden_layer_sizes=HIDDEN, **params), X, y,
                    sample_weight=sw.astype(float))
    repeated = _fit(MLPRegressor(hidden_layer_sizes=HIDDEN, **params),
                    np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(_state(weighted), _state(repeated), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9)


def test_training_set_of_one_row_and_batch_size_one_raise():
    X, y = _regression(5)
    with pytest.raises(ValueError, match="n_samples=1"):
        MLPRegressor(batch_norm=True).fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="batch_size must be at least 2"):
        MLPRegressor(batch_norm=True, batch_size=1).fit(X, y)
    with pytest.raises(ValueError, match="n_samples=1"):
        MLPRegressor(batch_norm=True).partial_fit(X[:1], y[:1])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("n", [2, 3, 33])
def test_any_training_set_size_fits_without_nan(solver, n):
    X, _ = _classification(40)
    est = _fit(MLPClassifier(HIDDEN, batch_size=16, max_iter=3, random_state=0, solver=solver,
                             batch_norm=True), X[:n], np.arange(n) % 2)
    assert np.isfinite(_state(est)).all()
    assert np.isfinite(est.predict_proba(X)).all()


def test_assigned_arrays_are_where_warm_start_begins_and_wrong_shapes_raise():
    X, y = _regression()
    est = _fit(MLPRegressor(hidden_layer_sizes=HIDDEN, random_state=0, max_iter=2, batch_norm=True), X, y)
    for name in BN_NAMES:
        saved = getattr(est, name)
        setattr(est, name, [np.zeros(3)] + saved[1:])
        with pytest.raises(ValueError, match=rf"{name}\[0\] has shape \(3,\)"):
            _fit(est.set_params(warm_start=True), X, y)
        setattr(est, name, saved[:1])
        with pytest.raises(ValueError, match=f"{name} has 1 arrays"):
            est.partial_fit(X, y)
        setattr(est, name, saved)
    # an assigned zero scale makes the next layer's input the shift alone
    est.batch_norm_weights_ = [np.zeros(7), est.batch_norm_weights_[1].copy()]
    est.batch_norm_biases_ = [np.full(7, 0.25), est.batch_norm_biases_[1].copy()]
    expected = est.predict(X[:1])
    np.testing.assert_allclose(est.predict(X), np.full(N, expected[0]))
    est.set_params(learning_rate_init=1e-12, max_iter=1)
    _fit(est, X, y)
    np.testing.assert_allclose(est.batch_norm_biases_[0], 0.25, atol=1e-9)
    assert np.abs(est.batch_norm_weights_[0]).max() < 1e-9


def test_changing_batch_norm_between_warm_started_fits_raises():
    X, y = _regression()
    est = _fit(MLPRegressor(hidden_layer_sizes=HIDDEN, random_state=0, max_iter=2), X, y)
    with pytest.raises(ValueError, match="batch_norm=True but the fitted network"):
        est.set_params(warm_start=True, batch_norm=True).fit(X, y)
    est = _fit(est.set_params(warm_start=False), X, y)
    assert all(hasattr(est, name) for name in BN_NAMES)
    est = _fit(est.set_params(batch_norm=False), X, y)
    assert not any(hasattr(est, name) for name in BN_NAMES)


def test_early_stopping_restores_the_best_running_statistics_with_the_weights():
    X, y = _classification(200)
    X = X * [100.0, 1.0, 0.01, 1.0, 1.0, 10.0]
    est = _fit(MLPClassifier((16,), batch_norm=True, early_stopping=True, max_iter=40,
                             n_iter_no_change=3, learning_rate_init=0.05, random_state=0),
               X, y)
    best = int(np.argmax(est.validation_scores_))
    assert best < len(est.validation_scores_) - 1  # a later epoch was not kept
    replay = _fit(MLPClassifier((16,), batch_norm=True, early_stopping=True,
                                max_iter=best + 1, n_iter_no_change=100,
                                learning_rate_init=0.05, random_state=0), X, y)
    np.testing.assert_array_equal(_state(est), _state(replay))


def test_partial_fit_continues_the_running_statistics():
    X, y = _classification(60)
    est = MLPClassifier((8,), batch_norm=True, batch_size=20, random_state=0)
    est.partial_fit(X, y, classes=[0, 1, 2])
    first = [m.copy() for m in est.batch_norm_running_means_]
    est.partial_fit(X, y)
    assert not np.allclose(first[0], est.batch_norm_running_means_[0])
    assert est.batch_norm_running_vars_[0].shape == (8,)


def test_dropout_with_batch_norm_trains_and_predicts_finite():
    X, y = _classification(100)
    est = _fit(MLPClassifier((8, 6), batch_norm=True, dropout=[0.2, 0.0], input_dropout=0.1,
                             max_iter=5, random_state=0), X, y)
    assert np.isfinite(_state(est)).all()


def test_float32_fit_follows_float64_fit():
    X, y = _classification(100)
    params = dict(batch_norm=True, max_iter=5, random_state=0, activation="gelu")
    f64 = _fit(MLPClassifier((8, 6), **params), X, y)
    f32 = _fit(MLPClassifier((8, 6), **params), X.astype(np.float32), y)
    assert all(a.dtype == np.float32 for name in BN_NAMES for a in getattr(f32, name))
    np.testing.assert_allclose(_state(f32), _state(f64), rtol=1e-3, atol=1e-4)


def test_csr_input_fits_as_dense_input():
    X, y = _classification(100)
    X[np.abs(X) < 0.5] = 0.0
    params = dict(batch_norm=True, max_iter=5, random_state=0)
    dense = _fit(MLPClassifier((8,), **params), X, y)
    sparse = _fit(MLPClassifier((8,), **params), sp.csr_matrix(X), y)
    np.testing.assert_allclose(_state(sparse), _state(dense), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X),
                               rtol=1e-10)


def test_pickled_model_predicts_the_same_and_keeps_views_into_flat_buffers():
    X, y = _classification(100)
    est = _fit(MLPClassifier((8, 6), batch_norm=True, max_iter=3, random_state=0), X, y)
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    assert copy.batch_norm_weights_[1].base is copy._params
    assert copy.batch_norm_running_vars_[0].base is copy._running


def test_batch_norm_rescues_training_on_badly_scaled_inputs():
    X, y = _classification(300)
    X = X * 1000.0 + 500.0
    params = dict(batch_size=32, max_iter=20, random_state=0)
    plain = _fit(MLPClassifier((16,), **params), X, y)
    normed = _fit(MLPClassifier((16,), batch_norm=True, **params), X, y)
    assert normed.loss_ < plain.loss_ / 5
    assert normed.score(X, y) > plain.score(X, y) + 0.05


@pytest.mark.parametrize("train", [False, True])
def test_hidden_activations_normalise_with_running_or_batch_statistics(train):
    core, params, X, _, _ = _core_problem("identity", 2)
    rng = np.random.RandomState(1)
    running = np.concatenate([rng.uniform(-1, 1, 11), rng.uniform(0.5, 2.0, 11)])
    before = running.copy()
    hidden = core.hidden_activations(params, X, train, running)
    n_net = core.n_params - core.n_running
    coefs, intercepts = unflatten(params[:n_net], [4, 6, 5, 2])
    gammas, betas = params[n_net:n_net + 11], params[n_net + 11:]
    a, start = X, 0
    for layer, act in zip(range(2), (lambda z: z * (1 + erf(z / np.sqrt(2))) / 2, np.tanh)):
        z = a @ coefs[layer] + intercepts[layer]
        h = z.shape[1]
        mean, var = ((z.mean(0), z.var(0)) if train
                     else (running[start:start + h], running[11 + start:11 + start + h]))
        y = (z - mean) / np.sqrt(var + 1e-5) * gammas[start:start + h] + betas[start:start + h]
        a = act(y)
        np.testing.assert_allclose(hidden[layer], a, rtol=1e-12, atol=1e-14)
        start += h
    np.testing.assert_array_equal(running, before)
