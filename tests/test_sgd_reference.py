"""fastopt's default SGD (solver='sgd', batch_size=1) against scikit-learn.

Without shuffling both implementations visit the samples in the same order,
so the fitted models must agree to rounding: the compiled dot products sum in
a different order and use FMA, and float32 fits keep the wscale factor in
double (scikit-learn: float32), nothing else differs. With shuffling the sample orders
come from different generators, so only the test scores are compared.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from fastopt.linear_model import SGDClassifier, SGDRegressor


def _sparsify(X):
    """CSR with about 40% of the entries, keeping the largest of each row (an
    all-zero row predicts exactly the intercept, and the perceptron's tie at 0
    would then depend on the last bit of a rounding)."""
    drop = np.abs(X) < 0.8
    drop[np.arange(X.shape[0]), np.abs(X).argmax(axis=1)] = False
    X = X.copy()
    X[drop] = 0.0
    return sp.csr_matrix(X)


def _regression(n=400, d=8, dtype=np.float64, sparse=False, seed=0):
    X, y = make_regression(n, d, noise=5.0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    if sparse:
        X = _sparsify(X)
    return X.astype(dtype), y.astype(dtype)


def _classification(n=400, d=8, n_classes=2, dtype=np.float64, sparse=False, seed=0):
    X, y = make_classification(n, d, n_informative=5, n_classes=n_classes,
                               random_state=seed)
    X = StandardScaler().fit_transform(X)
    if sparse:
        X = _sparsify(X)
    return X.astype(dtype), y


def _fit_both(sk_cls, fo_cls, X, y, **params):
    with warnings.catch_warnings(record=True) as sk_warn:
        warnings.simplefilter("always")
        ref = sk_cls(**params).fit(X, y)
    with warnings.catch_warnings(record=True) as fo_warn:
        warnings.simplefilter("always")
        ours = fo_cls(**params).fit(X, y)
    sk_conv = [w for w in sk_warn if issubclass(w.category, ConvergenceWarning)]
    fo_conv = [w for w in fo_warn if issubclass(w.category, ConvergenceWarning)]
    assert len(sk_conv) == len(fo_conv)
    return ref, ours


def _assert_same_model(ref, ours, rtol):
    """Same epochs, shapes and dtypes; parameters equal up to ``rtol`` relative
    to the norm of scikit-learn's parameter vector."""
    assert ours.n_iter_ == ref.n_iter_
    assert ours.t_ == ref.t_
    for name in ("coef_", "intercept_"):
        a, b = getattr(ref, name), getattr(ours, name)
        assert a.shape == b.shape and a.dtype == b.dtype, name
    a = np.r_[ref.coef_.ravel(), ref.intercept_]
    b = np.r_[ours.coef_.ravel(), ours.intercept_]
    assert np.linalg.norm(b - a) <= rtol * max(1.0, np.linalg.norm(a)), np.linalg.norm(b - a)


REG_CASES = [
    dict(),
    dict(loss="huber", penalty="l1", learning_rate="constant", eta0=0.01),
    dict(loss="epsilon_insensitive", penalty="elasticnet", l1_ratio=0.3),
    dict(loss="squared_epsilon_insensitive", penalty=None, learning_rate="adaptive"),
    dict(loss="huber", learning_rate="optimal", alpha=0.01, average=True),
    dict(average=50, penalty="elasticnet", fit_intercept=False),
    dict(learning_rate="pa1", loss="epsilon_insensitive", eta0=0.1),
    dict(learning_rate="pa2", loss="epsilon_insensitive", eta0=0.1),
    dict(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3),
    dict(tol=None, max_iter=7),
]


@pytest.mark.parametrize("params", REG_CASES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regressor_without_shuffle_matches_sklearn(params, sparse, dtype):
    X, y = _regression(dtype=dtype, sparse=sparse)
    if dtype == np.float32:
        params = {**params, "tol": None, "max_iter": 5}
    ref, ours = _fit_both(sk.SGDRegressor, SGDRegressor, X, y, shuffle=False,
                          random_state=0, **params)
    _assert_same_model(ref, ours, rtol=1e-6 if dtype == np.float64 else 2e-2)


CLF_CASES = [
    dict(),
    dict(loss="log_loss", penalty="elasticnet", alpha=0.01),
    dict(loss="modified_huber", alpha=0.01),
    dict(loss="squared_hinge", learning_rate="invscaling", eta0=0.05),
    dict(loss="perceptron", penalty="l1", learning_rate="constant", eta0=0.1),
    dict(loss="squared_error", learning_rate="adaptive", eta0=0.001),
    dict(loss="huber", average=True, alpha=0.01),
    dict(loss="epsilon_insensitive", average=30),
    dict(loss="squared_epsilon_insensitive", learning_rate="constant", eta0=0.001),
    dict(class_weight="balanced", loss="log_loss", alpha=0.01),
    dict(class_weight={0: 2.0, 1: 0.5}, alpha=0.01),
    dict(learning_rate="pa1", eta0=0.5),
    dict(early_stopping=True, n_iter_no_change=3, alpha=0.01),
]


@pytest.mark.parametrize("params", CLF_CASES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_without_shuffle_matches_sklearn(params, n_classes, sparse, dtype):
    if sparse and params.get("loss") == "perceptron":
        pytest.skip("sparse rows often predict exactly the intercept: the perceptron's "
                    "tie at 0 then depends on FMA rounding of the intercept")
    X, y = _classification(n_classes=n_classes, dtype=dtype, sparse=sparse)
    if dtype == np.float32:
        # float32 objectives differ in the last bits (see above): a near tie in
        # the stopping rule may then move by an epoch, so fix the epochs.
        params = {**params, "tol": None, "max_iter": 5}
    ref, ours = _fit_both(sk.SGDClassifier, SGDClassifier, X, y, shuffle=False,
                          random_state=0, **params)
    _assert_same_model(ref, ours, rtol=1e-6 if dtype == np.float64 else 2e-2)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


def test_sample_weight_matches_sklearn_without_shuffle():
    X, y = _classification(n_classes=3)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, size=y.shape[0])
    ref = sk.SGDClassifier(shuffle=False, alpha=0.01).fit(X, y, sample_weight=sw)
    ours = SGDClassifier(shuffle=False, alpha=0.01).fit(X, y, sample_weight=sw)
    _assert_same_model(ref, ours, rtol=1e-8)


def test_partial_fit_and_warm_start_match_sklearn_without_shuffle():
    X, y = _classification(n_classes=3)
    ref = sk.SGDClassifier(shuffle=False, random_state=0)
    ours = SGDClassifier(shuffle=False, random_state=0)
    for _ in range(3):
        ref.partial_fit(X[:200], y[:200], classes=np.unique(y))
        ours.partial_fit(X[:200], y[:200], classes=np.unique(y))
    _assert_same_model(ref, ours, rtol=1e-8)
    Xr, yr = _regression()
    ref = sk.SGDRegressor(shuffle=False, warm_start=True, max_iter=3, tol=None)
    ours = SGDRegressor(shuffle=False, warm_start=True, max_iter=3, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            ref.fit(Xr, yr)
            ours.fit(Xr, yr)
    _assert_same_model(ref, ours, rtol=1e-9)


def _scores(sk_cls, fo_cls, X_train, X_test, y_train, y_test, seeds, **params):
    ref, ours = [], []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ref.append(sk_cls(random_state=seed, **params).fit(X_train, y_train)
                       .score(X_test, y_test))
            ours.append(fo_cls(random_state=seed, **params).fit(X_train, y_train)
                        .score(X_test, y_test))
    return np.mean(ref), np.mean(ours)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regressor_test_r2_within_0002_of_sklearn_with_shuffle(sparse, dtype):
    X, y = _regression(n=6000, d=20, dtype=dtype, sparse=sparse, seed=1)
    parts = train_test_split(X, y, test_size=0.5, random_state=0)
    ref, ours = _scores(sk.SGDRegressor, SGDRegressor, *parts, seeds=range(4))
    assert abs(ours - ref) <= 0.002


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classifier_test_accuracy_within_0002_of_sklearn_with_shuffle(n_classes, loss, dtype):
    X, y = make_classification(20000, 20, n_informative=10, n_classes=n_classes,
                               class_sep=2.0, random_state=1)
    X = StandardScaler().fit_transform(X).astype(dtype)
    parts = train_test_split(X, y, test_size=0.5, random_state=0)
    ref, ours = _scores(sk.SGDClassifier, SGDClassifier, *parts, seeds=range(4), loss=loss,
                        alpha=1e-3, average=True)
    assert abs(ours - ref) <= 0.002


@pytest.mark.parametrize("params", [{}, {"solver": "adam", "batch_size": 4}])
def test_divergence_raises_sklearn_value_error_and_keeps_previous_model(params):
    X, y = _regression()
    model = SGDRegressor(random_state=0, **params).fit(X, y)
    coef = model.coef_.copy()
    diverging = dict(eta0=1e200, learning_rate="constant", penalty=None)
    with pytest.raises(ValueError, match="Floating-point under-/overflow occurred at epoch"):
        model.set_params(**diverging).fit(X * 1e100, y)
    np.testing.assert_array_equal(model.coef_, coef)
    with pytest.raises(ValueError, match="Floating-point under-/overflow occurred at epoch"):
        sk.SGDRegressor(**diverging).fit(X * 1e100, y)


def test_early_stopping_reaches_sklearn_validation_quality():
    X, y = make_classification(4000, 20, n_informative=10, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    parts = train_test_split(X, y, test_size=0.5, random_state=0)
    ref, ours = _scores(sk.SGDClassifier, SGDClassifier, *parts, seeds=range(10),
                        early_stopping=True, alpha=1e-3)
    assert abs(ours - ref) <= 0.015


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_one_vs_rest_result_does_not_depend_on_thread_count(n_jobs):
    X, y = _classification(n=600, n_classes=4)
    one = SGDClassifier(random_state=0, n_jobs=1).fit(X, y)
    many = SGDClassifier(random_state=0, n_jobs=n_jobs).fit(X, y)
    np.testing.assert_array_equal(one.coef_, many.coef_)
    np.testing.assert_array_equal(one.intercept_, many.intercept_)


def test_read_only_memmapped_input_is_accepted(tmp_path):
    X, y = _classification()
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_mm = np.load(path, mmap_mode="r")
    ours = SGDClassifier(random_state=0, shuffle=False).fit(X_mm, y)
    ref = sk.SGDClassifier(random_state=0, shuffle=False).fit(X, y)
    _assert_same_model(ref, ours, rtol=1e-8)


def test_predict_proba_and_sparsify_behave_as_sklearn():
    X, y = _classification(n_classes=3)
    ref = sk.SGDClassifier(loss="modified_huber", shuffle=False, alpha=0.01).fit(X, y)
    ours = SGDClassifier(loss="modified_huber", shuffle=False, alpha=0.01).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    assert not hasattr(SGDClassifier(loss="hinge").fit(X, y), "predict_proba")
    ours.sparsify()
    assert sp.issparse(ours.coef_)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    ours.densify()
    assert isinstance(ours.coef_, np.ndarray)


def _verbose_lines(capsys, est, X, y):
    capsys.readouterr()
    est.fit(X, y)
    # the wall-clock times are the only figures that may differ
    return [re.sub(r"\d+\.\d+ seconds", "<t> seconds", line)
            for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("cls_pair, data, params", [
    ((sk.SGDRegressor, SGDRegressor), _regression, dict(max_iter=20)),
    ((sk.SGDRegressor, SGDRegressor), lambda: _regression(sparse=True),
     dict(penalty=None, max_iter=3, tol=None)),
    ((sk.SGDClassifier, SGDClassifier), _classification, dict(max_iter=4, tol=None)),
    ((sk.SGDClassifier, SGDClassifier), _classification,
     dict(early_stopping=True, n_iter_no_change=2, alpha=0.01, penalty="elasticnet")),
], ids=["regressor-converges", "sparse-no-penalty", "classifier", "early-stopping-elasticnet"])
def test_verbose_output_is_sklearns_without_shuffling(capsys, cls_pair, data, params):
    X, y = data()
    ref_cls, our_cls = cls_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = _verbose_lines(capsys, ref_cls(verbose=1, shuffle=False, random_state=0,
                                                  **params), X, y)
        got = _verbose_lines(capsys, our_cls(verbose=1, shuffle=False, random_state=0,
                                             **params), X, y)
    assert got == expected
    assert any(line.startswith("Norm: ") for line in got)


def test_verbose_one_vs_rest_prints_sklearns_lines_grouped_by_epoch(capsys):
    # scikit-learn fits the classes one after the other; fastopt interleaves
    # them epoch by epoch, so the same per-class lines come in another order.
    X, y = _classification(n_classes=3)
    params = dict(verbose=1, shuffle=False, random_state=0, max_iter=3, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = _verbose_lines(capsys, sk.SGDClassifier(**params), X, y)
        got = _verbose_lines(capsys, SGDClassifier(n_jobs=1, **params), X, y)
    norm_lines = sorted(line for line in got if line.startswith("Norm: "))
    assert len(norm_lines) == 9
    assert norm_lines == sorted(line for line in expected if line.startswith("Norm: "))
    assert [line for line in got if line.startswith("-- Epoch")] == [
        "-- Epoch 1", "-- Epoch 2", "-- Epoch 3"]
