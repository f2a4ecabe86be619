"""The lean prediction path (fastopt._predict_input and the estimators' predict
methods): scikit-learn's guarantees and errors, word for word, at a fraction of
the cost; the reused compiled core follows every change of the network."""

import pickle
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 5))
Y_CLASS = rng.integers(0, 3, size=60)
Y_REG = X @ rng.normal(size=5)

PAIRS = {  # fastopt class, scikit-learn class, kwargs, (method names)
    "SGDClassifier": (SGDClassifier, SkSGDClassifier, {"loss": "log_loss", "max_iter": 5},
                      ("predict", "decision_function", "predict_proba")),
    "SGDRegressor": (SGDRegressor, SkSGDRegressor, {"max_iter": 5}, ("predict",)),
    "MLPClassifier": (MLPClassifier, SkMLPClassifier, {"hidden_layer_sizes": (4,),
                                                       "max_iter": 5},
                      ("predict", "predict_proba", "predict_log_proba")),
    "MLPRegressor": (MLPRegressor, SkMLPRegressor, {"hidden_layer_sizes": (4,),
                                                    "max_iter": 5}, ("predict",)),
}
BAD_INPUTS = {
    "too few features": X[:2, :3],
    "NaN": np.where(np.arange(5) == 2, np.nan, X[:2]),
    "infinity": np.where(np.arange(5) == 1, np.inf, X[:2]),
    "strings": np.array([["a"] * 5]),
    "1-D": X[0],
    "no rows": X[:0],
    "3-D": X[:2, None, :],
}


def _fitted(name, X_fit=X, library=0):
    cls, sk_cls, kwargs, _ = PAIRS[name]
    est = (cls, sk_cls)[library](random_state=0, **kwargs)
    y = Y_CLASS if "Classifier" in name else Y_REG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X_fit, y)


def _outcome(method, X_in):
    """(exception type, message) or None, and the warnings' messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            method(X_in)
            error = None
        except Exception as exc:
            error = (type(exc), str(exc))
    return error, [str(w.message) for w in caught]


@pytest.mark.parametrize("bad", BAD_INPUTS)
@pytest.mark.parametrize("name", PAIRS)
def test_bad_input_errors_equal_scikit_learns(name, bad):
    ours, theirs = _fitted(name), _fitted(name, library=1)
    for method in PAIRS[name][3]:
        ours_outcome = _outcome(getattr(ours, method), BAD_INPUTS[bad])
        assert ours_outcome[0] is not None
        assert ours_outcome == _outcome(getattr(theirs, method), BAD_INPUTS[bad])


@pytest.mark.parametrize("name", PAIRS)
def test_feature_name_checks_equal_scikit_learns(name):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    ours, theirs = _fitted(name, frame), _fitted(name, frame, library=1)
    renamed = frame.rename(columns={"f0": "g0"})
    for X_in in (X[:3], renamed[:3], frame[:3]):
        for method in PAIRS[name][3]:
            assert _outcome(getattr(ours, method), X_in) == _outcome(
                getattr(theirs, method), X_in)


@pytest.mark.parametrize("name", PAIRS)
def test_unfitted_estimators_raise_scikit_learns_not_fitted_error(name):
    cls, sk_cls, kwargs, methods = PAIRS[name]
    for method in methods:
        with pytest.raises(NotFittedError) as ours:
            getattr(cls(**kwargs), method)(X)
        with pytest.raises(NotFittedError) as theirs:
            getattr(sk_cls(**kwargs), method)(X)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", PAIRS)
def test_assume_finite_skips_the_finiteness_check_as_in_scikit_learn(name):
    est = _fitted(name)
    with config_context(assume_finite=True):
        out = est.predict(BAD_INPUTS["NaN"])
    assert out.shape[0] == 2


@pytest.mark.parametrize("name", PAIRS)
def test_every_accepted_input_form_predicts_like_the_float64_array(name):
    est = _fitted(name)
    forms = [X[:7].tolist(), sp.csr_matrix(X[:7]), np.asfortranarray(X[:7]),
             X[:7].astype(np.float32), X[:7].round().astype(np.int64)]
    expected = [est.predict(X[:7])] * 4 + [est.predict(X[:7].round())]
    for form, want in zip(forms, expected):
        np.testing.assert_allclose(est.predict(form).astype(float), want.astype(float),
                                   rtol=1e-5, atol=1e-6)


def _numpy_forward(mlp, X_in):
    """The MLP from its attributes, in plain NumPy (scikit-learn's formulas)."""
    act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "identity": lambda z: z,
           "logistic": lambda z: 1 / (1 + np.exp(-z))}
    h = X_in
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        h = h @ w + b
        if i < len(mlp.coefs_) - 1:
            h = act[mlp.activation](h)
    return h


def test_reused_core_follows_weight_edits_and_activation_changes():
    reg = _fitted("MLPRegressor")
    np.testing.assert_allclose(reg.predict(X[:3]), _numpy_forward(reg, X[:3]).ravel())
    reg.coefs_[0][0, 0] += 1.0  # in place, through the view
    np.testing.assert_allclose(reg.predict(X[:3]), _numpy_forward(reg, X[:3]).ravel())
    reg.coefs_ = [c * 2 for c in reg.coefs_]  # new arrays, no longer views
    np.testing.assert_allclose(reg.predict(X[:3]), _numpy_forward(reg, X[:3]).ravel())
    reg.set_params(activation="tanh")
    np.testing.assert_allclose(reg.predict(X[:3]), _numpy_forward(reg, X[:3]).ravel())


def test_predicting_leaves_the_estimator_picklable_and_equal_after_the_round_trip():
    clf = _fitted("MLPClassifier")
    before = clf.predict_proba(X[:2])
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X[:2]), before)


def test_concurrent_small_predictions_from_threads_are_correct():
    """Threads predicting at once never share the reused core's workspaces.

    The network is wide so that each compiled call (GIL released) lasts long
    enough for the threads to overlap.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPRegressor(hidden_layer_sizes=(256, 256), max_iter=2, random_state=0)
        clf.fit(X, Y_REG)
    blocks = [X[i::4] for i in range(4)]
    expected = [clf.predict(block) for block in blocks]
    errors = []

    def work(i):
        for _ in range(40):
            if not np.array_equal(clf.predict(blocks[i]), expected[i]):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.parametrize("n_classes", [2, 3])
def test_labels_equal_the_label_binarizers_decoding(n_classes):
    y = np.array(["no", "yes", "maybe"])[Y_CLASS % n_classes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)
    proba = clf._forward(X)
    expected = clf._label_binarizer.inverse_transform(proba.ravel() if proba.shape[1] == 1
                                                      else proba)
    np.testing.assert_array_equal(clf.predict(X), expected)
