"""ONNX export (fastopt.onnx): onnxruntime's predictions equal fastopt's.

Skipped without the optional extra ``onnx`` (skl2onnx, onnxruntime).
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import fastopt
from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
from skl2onnx import to_onnx, update_registered_converter  # noqa: E402

from fastopt.onnx._converters import (  # noqa: E402
    _CLASSIFIER_OPTIONS,
    _convert_mlp_classifier,
    _mlp_classifier_shapes,
)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]


def _classification(n_classes, dtype=np.float32, seed=0):
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=seed)
    return X.astype(dtype), y


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _onnx_outputs(est, X, **options):
    """Outputs of onnxruntime on ``X`` for ``est`` converted from ``X[:1]``."""
    onx = to_onnx(est, X[:1], options=options or None)
    session = ort.InferenceSession(onx.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def _assert_classifier_matches(est, X, atol=1e-5, **options):
    labels, proba = _onnx_outputs(est, X, zipmap=False, **options)
    np.testing.assert_array_equal(labels, est.predict(X))
    expected = est.predict_proba(X) if hasattr(est, "predict_proba") else None
    if expected is not None:
        np.testing.assert_allclose(proba, expected, rtol=0, atol=atol)
    return proba


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_mlp_classifier_onnx_labels_and_probabilities_equal_fastopt(activation, n_classes):
    X, y = _classification(n_classes)
    clf = _fit(MLPClassifier((8, 5), activation=activation, max_iter=30, random_state=0), X, y)
    _assert_classifier_matches(clf, X)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu", "silu"])
def test_mlp_regressor_onnx_new_activations_equal_fastopt_in_float64(activation):
    """onnxruntime has no float64 Erf: the GELU graph runs on onnx's reference
    evaluator, whose Erf rounds to float32 (hence its looser tolerance)."""
    X, y = make_regression(n_samples=120, n_features=6, random_state=0)
    reg = _fit(MLPRegressor(hidden_layer_sizes=(8, 5), activation=activation, max_iter=30,
                            random_state=0), X, y / np.abs(y).max())
    if activation == "gelu":
        from onnx.reference import ReferenceEvaluator

        onx = to_onnx(reg, X[:1])
        (values,) = ReferenceEvaluator(onx).run(None, {onx.graph.input[0].name: X})
    else:
        (values,) = _onnx_outputs(reg, X)
    tol = 1e-6 if activation == "gelu" else 1e-12
    np.testing.assert_allclose(values.ravel(), reg.predict(X), rtol=tol, atol=tol)


def test_mlp_per_layer_activations_onnx_equal_fastopt():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((8, 6, 5), activation=["gelu", "tanh", "elu"], max_iter=30,
                             random_state=0), X, y)
    _assert_classifier_matches(clf, X)


def test_mlp_classifier_onnx_string_labels_equal_fastopt():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((8,), max_iter=30, random_state=0), X,
               np.array(["ant", "bee", "cat"])[y])
    _assert_classifier_matches(clf, X)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_mlp_multilabel_onnx_labels_and_probabilities_equal_fastopt(activation):
    X, y = _classification(3)
    Y = np.column_stack([y == 0, y == 1])  # two labels: not to be read as a binary problem
    clf = _fit(MLPClassifier((8,), activation=activation, max_iter=30, random_state=0), X, Y)
    _assert_classifier_matches(clf, X)


def test_mlp_dropout_is_absent_from_the_onnx_graph():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((16,), dropout=0.5, max_iter=20, random_state=0), X, y)
    _assert_classifier_matches(clf, X)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_mlp_batch_norm_is_folded_into_the_dense_layers_of_the_onnx_graph(n_classes):
    X, y = _classification(n_classes)
    X = X * np.array([1e3, 1e-2, 5.0, 1.0, 30.0, 0.1], dtype=np.float32) + 7.0
    clf = _fit(MLPClassifier((8, 5), batch_norm=True, max_iter=30, random_state=0), X, y)
    _assert_classifier_matches(clf, X)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_mlp_regressor_onnx_values_equal_fastopt(loss, n_targets):
    X, y = make_regression(n_samples=120, n_features=6, n_targets=n_targets, random_state=0)
    y = np.exp(y / np.abs(y).max()) if loss == "poisson" else y / np.abs(y).max()
    X = X.astype(np.float32)
    reg = _fit(MLPRegressor(loss=loss, hidden_layer_sizes=(8,), activation="tanh",
                            max_iter=30, random_state=0), X, y)
    (values,) = _onnx_outputs(reg, X)
    np.testing.assert_allclose(values, reg.predict(X).reshape(len(X), -1), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber", "perceptron",
                                  "squared_error"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_sgd_classifier_ovr_onnx_equals_fastopt(loss, n_classes):
    X, y = _classification(n_classes)
    clf = _fit(SGDClassifier(loss=loss, max_iter=5, random_state=0), X, y)
    proba = _assert_classifier_matches(clf, X)
    if not hasattr(clf, "predict_proba"):  # skl2onnx's convention: decision scores
        scores = clf.decision_function(X)
        expected = np.column_stack([-scores, scores]) if n_classes == 2 else scores
        np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_sgd_classifier_multinomial_onnx_equals_fastopt(n_classes):
    X, y = _classification(n_classes)
    clf = _fit(SGDClassifier(loss="log_loss", multi_class="multinomial", solver="adam",
                             batch_size=16, max_iter=10, random_state=0), X, y)
    _assert_classifier_matches(clf, X)


def test_sgd_classifier_multinomial_raw_scores_are_the_decision_function():
    X, y = _classification(3)
    clf = _fit(SGDClassifier(loss="log_loss", multi_class="multinomial", solver="adam",
                             max_iter=10, random_state=0), X, y)
    labels, raw = _onnx_outputs(clf, X, zipmap=False, raw_scores=True)
    np.testing.assert_array_equal(labels, clf.predict(X))
    np.testing.assert_allclose(raw, clf.decision_function(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_sgd_regressor_onnx_values_equal_fastopt(loss):
    X, y = make_regression(n_samples=120, n_features=6, random_state=0)
    X = X.astype(np.float32)
    reg = _fit(SGDRegressor(loss=loss, max_iter=5, random_state=0), X, y / 100)
    (values,) = _onnx_outputs(reg, X)
    np.testing.assert_allclose(values.ravel(), reg.predict(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: MLPClassifier((8,), max_iter=20, random_state=0),
    lambda: SGDClassifier(loss="log_loss", multi_class="multinomial", solver="adam",
                          max_iter=5, random_state=0),
    lambda: SGDClassifier(loss="log_loss", max_iter=5, random_state=0),
], ids=["mlp", "sgd-multinomial", "sgd-ovr"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classifiers_export_in_the_input_float_type(make, dtype):
    """float64 input gives a float64 graph (tight agreement), float32 a float32 one."""
    X, y = _classification(3, dtype=dtype)
    clf = _fit(make(), X, y)
    proba = _assert_classifier_matches(clf, X, atol=1e-12 if dtype == np.float64 else 1e-5)
    assert proba.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float64_model_exports_for_either_input_type(dtype):
    X, y = _classification(3, dtype=np.float64)
    clf = _fit(MLPClassifier((8,), max_iter=20, random_state=0), X, y)
    _assert_classifier_matches(clf, X.astype(dtype))


def test_default_zipmap_gives_one_dict_of_probabilities_per_row():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((8,), max_iter=20, random_state=0), X, y)
    labels, rows = _onnx_outputs(clf, X[:5])
    expected = clf.predict_proba(X[:5])
    for row, proba in zip(rows, expected):
        assert sorted(row) == list(clf.classes_)
        np.testing.assert_allclose([row[c] for c in clf.classes_], proba, atol=1e-5)


def test_unknown_activation_raises_at_conversion():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    clf.activation = "softplus"  # as a fitted model of an activation the exporter lacks
    with pytest.raises(NotImplementedError, match="activation 'softplus'.*ACTIVATIONS"):
        to_onnx(clf, X[:1])


class _MLPWithNorm(MLPClassifier):
    """A classifier with a parameter the converter was never taught."""

    def __init__(self, hidden_layer_sizes=(8,), max_iter=5, layer_norm=False):
        super().__init__(hidden_layer_sizes, max_iter=max_iter, random_state=0)
        self.layer_norm = layer_norm


def test_unknown_parameter_raises_unless_at_its_default():
    update_registered_converter(_MLPWithNorm, "FastoptMLPWithNorm", _mlp_classifier_shapes,
                                _convert_mlp_classifier, options=_CLASSIFIER_OPTIONS)
    X, y = _classification(3)
    default = _fit(_MLPWithNorm(), X, y)
    _assert_classifier_matches(default, X)
    changed = _fit(_MLPWithNorm(layer_norm=True), X, y)
    with pytest.raises(NotImplementedError, match="parameter layer_norm=True"):
        to_onnx(changed, X[:1])


def test_integral_float_and_boolean_labels_come_out_as_int64_values():
    X, y = _classification(2)
    for labels in (y.astype(np.float64), y.astype(bool)):
        clf = _fit(SGDClassifier(loss="log_loss", max_iter=5, random_state=0), X, labels)
        _assert_classifier_matches(clf, X)


def test_multilabel_with_zipmap_raises_at_conversion():
    X, y = _classification(3)
    clf = _fit(MLPClassifier((8,), max_iter=5, random_state=0), X,
               np.column_stack([y == 0, y == 1]))
    with pytest.raises(NotImplementedError, match="zipmap"):
        to_onnx(clf, X[:1])


def test_importing_fastopt_registers_converters_without_importing_skl2onnx():
    """fastopt first, skl2onnx later: the import hook registers the converters."""
    code = (
        "import sys, numpy as np, fastopt\n"
        "assert 'skl2onnx' not in sys.modules and 'onnx' not in sys.modules\n"
        "from skl2onnx import to_onnx\n"
        "X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)\n"
        "reg = fastopt.SGDRegressor(max_iter=2, tol=None).fit(X, X[:, 0])\n"
        "to_onnx(reg, X[:1])\n"
    )
    root = os.path.dirname(os.path.dirname(fastopt.__file__))
    subprocess.run([sys.executable, "-c", code], check=True,
                   env={**os.environ, "PYTHONPATH": root})
