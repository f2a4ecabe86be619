"""skl2onnx converters and shape calculators for fastopt's four estimators.

``SGDRegressor`` computes at inference exactly what scikit-learn's does, so
it reuses skl2onnx's converter. The classifiers reuse skl2onnx's shape
calculators and emit their own graphs: the MLPs from the layer tables of
:mod:`fastopt.onnx._layers`, ``SGDClassifier`` because it has a multinomial
(softmax) mode and because its labels must be the class of the largest
decision score, as ``predict`` computes them. (skl2onnx's graph for
scikit-learn's SGDClassifier takes the class of the largest probability, and
one-vs-rest probabilities saturate: two classes whose sigmoid rounds to 1.0
tie, and the graph returns the first.)

Before a graph is emitted, the estimator's constructor parameters are checked
against the ones this module understands: a parameter it does not know, set to
anything but its default, raises ``NotImplementedError`` rather than yielding
a graph that may ignore it.
"""

import inspect

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import Int64TensorType
from skl2onnx.common.shape_calculator import (
    calculate_linear_classifier_output_shapes,
    calculate_linear_regressor_output_shapes,
)
from skl2onnx.operator_converters.linear_regressor import convert_sklearn_linear_regressor

from fastopt.linear_model import SGDClassifier, SGDRegressor
from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt.onnx._graph import Graph
from fastopt.onnx._layers import forward, inference_layers

__all__ = ["register"]

# Parameters that only steer training: their effect is in the fitted attributes.
_SGD_TRAINING = {
    "penalty", "alpha", "l1_ratio", "fit_intercept", "max_iter", "tol", "shuffle", "verbose",
    "epsilon", "random_state", "learning_rate", "eta0", "power_t", "early_stopping",
    "validation_fraction", "n_iter_no_change", "warm_start", "average", "n_jobs",
    "class_weight", "solver", "batch_size", "progress",
}
_MLP_TRAINING = {
    "solver", "alpha", "batch_size", "learning_rate", "learning_rate_init", "power_t",
    "max_iter", "shuffle", "random_state", "tol", "verbose", "warm_start", "momentum",
    "nesterovs_momentum", "early_stopping", "validation_fraction", "beta_1", "beta_2",
    "epsilon", "n_iter_no_change", "max_fun", "dropout", "input_dropout", "penalty",
    "l1_ratio", "clip_norm", "clip_value", "weight_init", "class_weight", "progress",
}
# Parameters the graphs below (or skl2onnx's) implement.
_UNDERSTOOD = {
    SGDRegressor: _SGD_TRAINING | {"loss"},
    SGDClassifier: _SGD_TRAINING | {"loss", "multi_class"},
    MLPRegressor: _MLP_TRAINING | {"loss", "huber_delta", "hidden_layer_sizes", "activation",
                                   "batch_norm"},
    MLPClassifier: _MLP_TRAINING | {"hidden_layer_sizes", "activation", "batch_norm"},
}
_PROBABILISTIC = ("log_loss", "modified_huber")
_CLASSIFIER_OPTIONS = {"zipmap": [True, False], "nocl": [False]}


def _check_parameters(est):
    """Raise if ``est`` sets a constructor parameter this module does not understand."""
    understood = next(names for cls, names in _UNDERSTOOD.items() if isinstance(est, cls))
    signature = inspect.signature(type(est).__init__).parameters
    for name, value in est.get_params(deep=False).items():
        default = signature[name].default if name in signature else inspect.Parameter.empty
        is_default = value is default or (type(value) is type(default) and value == default)
        if name not in understood and not is_default:
            raise NotImplementedError(
                f"fastopt's ONNX converter for {type(est).__name__} does not know the "
                f"parameter {name}={value!r}, so it cannot tell whether the exported graph "
                f"would compute the same predictions; teach fastopt/onnx/_converters.py "
                f"about it (or leave {name} at its default {default!r})")


def _class_labels(est):
    """``classes_`` as the int64 or string tensor skl2onnx's label output declares.

    (scikit-learn's classifiers accept float labels only when they are integers.)
    """
    classes = np.asarray(est.classes_)
    if classes.dtype.kind in "biuf":
        return classes.astype(np.int64)
    return classes.astype(str).astype(object)


def _write_classifier_outputs(g, est, proba, scores=None):
    """Probabilities to output 1; labels, the class of the largest score, to output 0."""
    label_out, proba_out = (variable.full_name for variable in g.operator.outputs[:2])
    g.op("Identity", proba, out=proba_out)
    winner = g.op("ArgMax", proba if scores is None else scores, axis=1)
    label = g.op("ArrayFeatureExtractor", g.const(_class_labels(est)), winner,
                 domain="ai.onnx.ml")
    g.op("Reshape", label, g.const(np.array([-1], np.int64)), out=label_out)


def _sgd_probabilities(g, est, scores):
    """scikit-learn's ``SGDClassifier.predict_proba`` from the (N, K) decision scores.

    Losses without probabilities give the scores, as skl2onnx does for
    scikit-learn's SGDClassifier (``[-s, s]`` for a binary problem).
    """
    binary = len(est.classes_) == 2
    if g.options(dict(raw_scores=False))["raw_scores"] or est.loss not in _PROBABILISTIC:
        return g.op("Concat", g.op("Neg", scores), scores, axis=1) if binary else scores
    if est.multi_class == "multinomial" and not binary:
        return g.op("Softmax", scores, axis=1)
    if est.loss == "log_loss" and not binary:
        # sigmoid(s_k) / sum_j sigmoid(s_j) = softmax_k(log sigmoid(s)): no 0/0 when every
        # sigmoid underflows (scikit-learn's division gives NaN there), with
        # log sigmoid(s) = min(s, 0) - log(1 + exp(-|s|))
        tail = g.op("Log", g.op("Add", g.const(np.array(1.0)),
                                g.op("Exp", g.op("Neg", g.op("Abs", scores)))))
        log_sigmoid = g.op("Sub", g.op("Min", scores, g.const(np.array(0.0))), tail)
        return g.op("Softmax", log_sigmoid, axis=1)
    if est.loss == "log_loss":
        proba = g.op("Sigmoid", scores)
    else:
        clipped = g.op("Clip", scores, g.const(np.array(-1.0)), g.const(np.array(1.0)))
        proba = g.op("Div", g.op("Add", clipped, g.const(np.array(1.0))), g.const(np.array(2.0)))
    if binary:
        return g.op("Concat", g.op("Sub", g.const(np.array(1.0)), proba), proba, axis=1)
    total = g.op("ReduceSum", proba, g.const(np.array([1], np.int64)), keepdims=1)
    none = g.cast(g.op("Equal", total, g.const(np.array(0.0))), g.dtype)  # all -1: uniform
    proba = g.op("Add", proba, none)
    total = g.op("Add", total, g.op("Mul", none, g.const(np.array(float(len(est.classes_))))))
    return g.op("Div", proba, total)


def _convert_sgd_classifier(scope, operator, container):
    est = operator.raw_operator
    _check_parameters(est)
    g = Graph(scope, operator, container)
    scores = g.op("Add", g.op("MatMul", g.input(), g.const(est.coef_.T)),
                  g.const(est.intercept_))
    signed = scores
    if len(est.classes_) == 2:
        signed = g.op("Concat", g.op("Neg", scores), scores, axis=1)
    _write_classifier_outputs(g, est, _sgd_probabilities(g, est, scores), signed)


def _convert_sgd_regressor(scope, operator, container):
    _check_parameters(operator.raw_operator)
    convert_sklearn_linear_regressor(scope, operator, container)


def _convert_mlp_classifier(scope, operator, container):
    est = operator.raw_operator
    _check_parameters(est)
    g = Graph(scope, operator, container)
    out = forward(g, g.input(), inference_layers(est))
    if est._label_binarizer.y_type_ == "multilabel-indicator":
        if g.options(dict(zipmap=True))["zipmap"]:
            raise NotImplementedError(
                "a multilabel MLPClassifier has one probability per label, not a "
                "distribution over classes: convert it with options={'zipmap': False}")
        label_out, proba_out = (variable.full_name for variable in operator.outputs[:2])
        g.op("Identity", out, out=proba_out)
        g.cast(g.op("Greater", out, g.const(np.array(0.5))), np.int64, out=label_out)
        return
    if est.n_outputs_ == 1:
        out = g.op("Concat", g.op("Sub", g.const(np.array(1.0)), out), out, axis=1)
    _write_classifier_outputs(g, est, out)


def _convert_mlp_regressor(scope, operator, container):
    est = operator.raw_operator
    _check_parameters(est)
    g = Graph(scope, operator, container)
    out = forward(g, g.input(), inference_layers(est))
    g.op("Identity", out, out=operator.outputs[0].full_name)


def _mlp_classifier_shapes(operator):
    calculate_linear_classifier_output_shapes(operator)
    est = operator.raw_operator
    if est._label_binarizer.y_type_ == "multilabel-indicator":
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, est.n_outputs_])


def _mlp_regressor_shapes(operator):
    calculate_linear_regressor_output_shapes(operator)
    operator.outputs[0].type.shape = [operator.inputs[0].get_first_dimension(),
                                      operator.raw_operator.n_outputs_]


def register():
    """Register the four converters with skl2onnx (idempotent)."""
    update_registered_converter(SGDRegressor, "FastoptSGDRegressor",
                                calculate_linear_regressor_output_shapes,
                                _convert_sgd_regressor)
    update_registered_converter(SGDClassifier, "FastoptSGDClassifier",
                                calculate_linear_classifier_output_shapes,
                                _convert_sgd_classifier,
                                options={**_CLASSIFIER_OPTIONS, "raw_scores": [True, False]})
    update_registered_converter(MLPRegressor, "FastoptMLPRegressor", _mlp_regressor_shapes,
                                _convert_mlp_regressor)
    update_registered_converter(MLPClassifier, "FastoptMLPClassifier", _mlp_classifier_shapes,
                                _convert_mlp_classifier, options=_CLASSIFIER_OPTIONS)
