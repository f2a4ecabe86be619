"""Features beyond scikit-learn: solvers, penalties, clipping, schedules, dropout,
initialisations, class weights, plus divergence handling, pickling and threads.

The reference for the training loop is a plain NumPy implementation of
backpropagation (published formulas) driven by the same fastopt.optim
optimizer object stepping the flat parameter vector.
"""

import pickle
import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.class_weight import compute_sample_weight

from _mlp_layout import glorot, torch_mlp, unflatten
from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.optim import SGD, Adagrad, Adam, AdamW, NAdam, RMSprop, StepDecay

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HIDDEN = (9, 6)


def _data(n=90):
    X, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)
    return X, y


def _numpy_grad(flat, units, X, Y, l2, l1):
    """ReLU network, softmax + log-loss; gradient of mean loss + penalty / n."""
    coefs, intercepts = unflatten(flat, units)
    acts = [X]
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = acts[-1] @ W + b
        acts.append(np.maximum(z, 0) if i < len(coefs) - 1 else z)
    z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    delta = p - Y
    n = len(X)
    gc, gi = [None] * len(coefs), [None] * len(coefs)
    for i in range(len(coefs) - 1, -1, -1):
        W = coefs[i]
        gc[i] = (acts[i].T @ delta + l2 * W + l1 * np.sign(W)) / n
        gi[i] = delta.sum(axis=0) / n
        if i > 0:
            delta = (delta @ W.T) * (acts[i] > 0)
    return np.concatenate([g.ravel() for g in gc] + gi)


def _numpy_fit(X, y, optimizer, epochs, batch_size, seed, l2, l1=0.0):
    Y = np.eye(3)[y]
    units = [X.shape[1], *HIDDEN, 3]
    flat = glorot(units, seed)
    state = optimizer.init(flat)
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            sl = slice(start, start + batch_size)
            optimizer.step(flat, _numpy_grad(flat, units, X[sl], Y[sl], l2, l1), state)
    return flat


def _flat(est):
    return np.concatenate([c.ravel() for c in est.coefs_] + list(est.intercepts_))


COMMON = dict(hidden_layer_sizes=HIDDEN, shuffle=False, random_state=4, max_iter=6,
              batch_size=16, learning_rate_init=0.01, alpha=1e-3)


@pytest.mark.parametrize("solver, optimizer", [
    ("adamw", AdamW(lr=0.01)),
    ("nadam", NAdam(lr=0.01)),
    ("rmsprop", RMSprop(lr=0.01)),
    ("adagrad", Adagrad(lr=0.01, eps=1e-8)),
    (Adam(lr=0.01, amsgrad=True), Adam(lr=0.01, amsgrad=True)),
    (SGD(lr=0.05, momentum=0.9, nesterov=True), SGD(lr=0.05, momentum=0.9, nesterov=True)),
])
def test_extra_solvers_match_numpy_backprop_with_the_same_optimizer(solver, optimizer):
    X, y = _data()
    ours = MLPClassifier(solver=solver, **COMMON).fit(X, y)
    expected = _numpy_fit(X, y, optimizer, COMMON["max_iter"], 16, 4, COMMON["alpha"])
    np.testing.assert_allclose(_flat(ours), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("penalty, l2, l1", [("l1", 0.0, 1e-2), ("elasticnet", 7.5e-3, 2.5e-3)])
def test_l1_and_elasticnet_penalties_match_numpy_reference(penalty, l2, l1):
    X, y = _data()
    params = dict(COMMON, alpha=1e-2, penalty=penalty, l1_ratio=0.25, solver=Adam(lr=0.01))
    ours = MLPClassifier(**params).fit(X, y)
    expected = _numpy_fit(X, y, Adam(lr=0.01), COMMON["max_iter"], 16, 4, l2, l1)
    np.testing.assert_allclose(_flat(ours), expected, rtol=1e-8, atol=1e-10)


def test_clipping_and_schedule_parameters_reach_the_optimizer():
    X, y = _data()
    schedule = StepDecay(step_size=5, gamma=0.5)
    ours = MLPClassifier(solver=Adam(lr=0.01), clip_norm=0.5, clip_value=0.05,
                         learning_rate=schedule, **dict(COMMON, learning_rate_init=0.001)).fit(X, y)
    expected = _numpy_fit(X, y, Adam(lr=0.01, clip_norm=0.5, clip_value=0.05, schedule=schedule),
                          COMMON["max_iter"], 16, 4, COMMON["alpha"])
    np.testing.assert_allclose(_flat(ours), expected, rtol=1e-8, atol=1e-10)


def test_optimizer_object_is_cloned_not_mutated_and_searchable():
    X, y = _data()
    opt = Adam(lr=0.01)
    est = MLPClassifier(solver=opt, clip_norm=1.0, **COMMON).fit(X, y)
    assert opt.get_params() == Adam(lr=0.01).get_params()
    assert est.get_params()["solver__lr"] == 0.01
    search = GridSearchCV(MLPClassifier(solver=Adam(), **COMMON),
                          {"solver__lr": [1e-3, 3e-2]}, cv=2).fit(X, y)
    assert search.best_params_["solver__lr"] in (1e-3, 3e-2)


def test_partial_fit_keeps_optimizer_state_between_calls():
    X, y = _data()
    params = dict(COMMON, solver=NAdam(lr=0.01))
    once = MLPClassifier(**dict(params, max_iter=3)).fit(X, y)
    inc = MLPClassifier(**params)
    for _ in range(3):
        inc.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(_flat(inc), _flat(once), rtol=1e-12)


def test_negligible_dropout_equals_no_dropout():
    X, y = _data()
    base = MLPClassifier(solver="adam", activation="tanh", **COMMON).fit(X, y)
    tiny = MLPClassifier(solver="adam", activation="tanh", dropout=1e-13, **COMMON).fit(X, y)
    np.testing.assert_allclose(_flat(tiny), _flat(base), rtol=1e-8, atol=1e-10)


def test_dropout_is_seeded_and_inactive_at_prediction():
    X, y = _data(300)
    params = dict(COMMON, dropout=0.5, shuffle=True, max_iter=20)
    a = MLPClassifier(**params).fit(X, y)
    b = MLPClassifier(**params).fit(X, y)
    c = MLPClassifier(**dict(params, random_state=5)).fit(X, y)
    np.testing.assert_array_equal(_flat(a), _flat(b))
    assert not np.allclose(_flat(a), _flat(c))
    no_drop = MLPClassifier(**dict(params, dropout=0.0)).fit(X, y)
    assert not np.allclose(_flat(a), _flat(no_drop))
    # prediction is the plain forward pass of the trained weights: no mask, no scale
    acts = X
    for W, b in zip(a.coefs_[:-1], a.intercepts_[:-1]):
        acts = np.maximum(acts @ W + b, 0)
    z = acts @ a.coefs_[-1] + a.intercepts_[-1]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.predict_proba(X), expected, rtol=1e-10, atol=1e-14)
    assert a.score(X, y) > 0.6


def test_dropout_with_lbfgs_is_rejected_before_fitting():
    X, y = _data()
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(solver="lbfgs", dropout=0.3).fit(X, y)


@pytest.mark.parametrize("weight_init, std, zero_intercepts", [
    ("glorot_uniform", np.sqrt(6.0 / 700) / np.sqrt(3), False),
    ("glorot_normal", np.sqrt(2.0 / 700), True),
    ("he_uniform", np.sqrt(6.0 / 400) / np.sqrt(3), True),
    ("he_normal", np.sqrt(2.0 / 400), True),
])
def test_weight_init_draws_have_the_published_scale(weight_init, std, zero_intercepts):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 400)), rng.normal(size=20)
    est = MLPRegressor(hidden_layer_sizes=(300,), weight_init=weight_init, solver="sgd",
                       learning_rate_init=1e-300, max_iter=1, random_state=0).fit(X, y)
    assert est.coefs_[0].std() == pytest.approx(std, rel=0.02)
    # one epoch at a rate of 1e-300 leaves the drawn values in place
    assert (np.abs(est.intercepts_[0]).max() < 1e-100) == zero_intercepts


def test_class_weight_equals_the_corresponding_sample_weight():
    X, y = _data()
    weighted = MLPClassifier(class_weight="balanced", **COMMON).fit(X, y)
    reference = MLPClassifier(**COMMON).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(_flat(weighted), _flat(reference), rtol=1e-12)
    weighted = MLPClassifier(class_weight={0: 3.0}, **COMMON).fit(X, y)
    reference = MLPClassifier(**COMMON).fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))
    np.testing.assert_allclose(_flat(weighted), _flat(reference), rtol=1e-12)


def test_divergence_raises_and_keeps_the_previous_model():
    X, y = _data()
    est = MLPRegressor(**dict(COMMON, solver="sgd", learning_rate_init=1e-3)).fit(
        X, y.astype(float))
    before = [c.copy() for c in est.coefs_]
    with pytest.raises(ValueError, match="non-finite parameter weights.*learning rate"):
        est.set_params(learning_rate_init=1e6).fit(X * 1e6, y.astype(float) * 1e6)
    for c, b in zip(est.coefs_, before):
        np.testing.assert_array_equal(c, b)
    assert np.isfinite(est.predict(X)).all()


def test_coefs_and_intercepts_are_views_of_one_flat_array_after_pickling():
    X, y = _data()
    est = MLPClassifier(**COMMON).fit(X, y)
    clone_ = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone_.predict_proba(X), est.predict_proba(X))
    for fitted in (est, clone_):
        base = fitted.coefs_[0].base
        assert base is not None and base.ndim == 1
        assert all(a.base is base for a in fitted.coefs_ + fitted.intercepts_)


def test_concurrent_fits_in_threads_equal_sequential_fits():
    X, y = _data(400)
    estimators = [MLPClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=s)
                  for s in range(3)]
    sequential = [_flat(clone(e).fit(X, y)) for e in estimators]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        threads = [threading.Thread(target=e.fit, args=(X, y)) for e in estimators]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for e, expected in zip(estimators, sequential):
        np.testing.assert_array_equal(_flat(e), expected)


@pytest.mark.parametrize("batch_size", [1, 90])
def test_pure_sgd_and_full_batch_gradient_descent_train(batch_size):
    X, y = _data()
    est = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd",
                        learning_rate_init=0.005 if batch_size == 1 else 0.05,
                        batch_size=batch_size, max_iter=60 if batch_size == 1 else 400,
                        random_state=0).fit(X, y)
    assert est.score(X, y) > 0.8


def test_adam_object_reproduces_a_torch_training_loop():
    torch = pytest.importorskip("torch")
    X, y = _data()
    est = MLPClassifier(solver=Adam(lr=0.01), **dict(COMMON, alpha=0.0)).fit(X, y)
    units = [X.shape[1], *HIDDEN, 3]
    model = torch_mlp(torch, glorot(units, COMMON["random_state"]), units,
                      [torch.nn.ReLU] * len(HIDDEN))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(COMMON["max_iter"]):
        for start in range(0, len(X), 16):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[start:start + 16]),
                                              yt[start:start + 16]).backward()
            opt.step()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for W, b, lin in zip(est.coefs_, est.intercepts_, linears):
        np.testing.assert_allclose(W, lin.weight.detach().numpy().T, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(b, lin.bias.detach().numpy(), rtol=1e-7, atol=1e-9)
