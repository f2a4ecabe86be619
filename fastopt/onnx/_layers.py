"""ONNX graphs of the inference layers of fastopt's multi-layer perceptrons.

Two tables are the whole vocabulary of the MLP exporter:

* ``ACTIVATIONS`` maps an activation name (the ``activation`` parameter and
  the fitted ``out_activation_``) to a function ``(graph, x) -> y``;
* ``LAYERS`` maps a layer kind to a function ``(graph, x, **params) -> y``.

``inference_layers(est)`` describes a fitted network as a list of
``(kind, params)`` pairs and ``forward`` emits them in order. Supporting a new
activation is one entry in ``ACTIVATIONS``; a new inference layer is one
entry in ``LAYERS`` and its place in ``inference_layers``. Batch normalisation
needs no layer: at inference it is a per-unit scale and shift, folded into the
dense layer before it. A name missing from a table raises
``NotImplementedError`` at conversion. Dropout has no layer: inverted dropout
scales during training, so inference is the plain network.
"""

import numpy as np

from fastopt.neural_network._per_layer import layer_activations

__all__ = ["ACTIVATIONS", "LAYERS", "forward", "inference_layers"]


def _leaky_relu(g, x):
    """``max(x, 0.01 x)`` (onnxruntime has no float64 LeakyRelu)."""
    return g.op("Max", x, g.op("Mul", x, g.const(np.array(0.01))))


def _elu(g, x):
    """``relu(x) + exp(min(x, 0)) - 1`` (onnxruntime has no float64 Elu)."""
    negative = g.op("Sub", g.op("Exp", g.op("Min", x, g.const(np.array(0.0)))),
                    g.const(np.array(1.0)))
    return g.op("Add", g.op("Relu", x), negative)


def _gelu(g, x):
    """``x Phi(x) = x (1 + erf(x / sqrt(2))) / 2``, with ops of opset 13.

    (onnxruntime 1.32 implements Erf for float32 only; a float64 graph needs a
    runtime with float64 Erf, such as onnx's reference evaluator.)
    """
    cdf = g.op("Add", g.const(np.array(1.0)),
               g.op("Erf", g.op("Mul", x, g.const(np.array(np.sqrt(0.5))))))
    return g.op("Mul", g.op("Mul", x, cdf), g.const(np.array(0.5)))


ACTIVATIONS = {
    "identity": lambda g, x: x,
    "logistic": lambda g, x: g.op("Sigmoid", x),
    "tanh": lambda g, x: g.op("Tanh", x),
    "relu": lambda g, x: g.op("Relu", x),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "gelu": _gelu,
    "silu": lambda g, x: g.op("Mul", x, g.op("Sigmoid", x)),
    "softmax": lambda g, x: g.op("Softmax", x, axis=1),
    "exp": lambda g, x: g.op("Exp", x),
}


def _dense(g, x, weight, bias):
    """``x @ weight + bias``."""
    return g.op("Add", g.op("MatMul", x, g.const(weight)), g.const(bias))


def _activation(g, x, name):
    return _lookup(ACTIVATIONS, name, "activation")(g, x)


LAYERS = {
    "dense": _dense,
    "activation": _activation,
}


def _lookup(table, name, what):
    if name not in table:
        raise NotImplementedError(
            f"fastopt's ONNX export has no graph for the {what} {name!r} (it knows "
            f"{sorted(table)}); add an entry for it to fastopt.onnx._layers "
            f"{'ACTIVATIONS' if what == 'activation' else 'LAYERS'}")
    return table[name]


def _folded_batch_norm(est):
    """``coefs_`` and ``intercepts_`` with each hidden layer's batch normalisation
    (inference: running statistics) folded into the affine map before it:
    ``gamma (x W + b - mean) / sqrt(var + eps) + beta = x (W s) + (b - mean) s + beta``
    with ``s = gamma / sqrt(var + eps)``."""
    weights, biases = list(est.coefs_), list(est.intercepts_)
    if "batch_norm_weights_" not in est.__dict__:
        return weights, biases
    for l, (gamma, beta, mean, var) in enumerate(zip(
            est.batch_norm_weights_, est.batch_norm_biases_, est.batch_norm_running_means_,
            est.batch_norm_running_vars_)):
        scale = gamma / np.sqrt(var + 1e-5)
        weights[l] = weights[l] * scale
        biases[l] = (biases[l] - mean) * scale + beta
    return weights, biases


def inference_layers(est):
    """The fitted network ``est`` as ``[(kind, params), ...]``, input to output
    (batch normalisation folded into the dense layers)."""
    activations = layer_activations(est.activation, len(est.coefs_) - 1)
    layers = []
    for weight, bias, name in zip(*_folded_batch_norm(est),
                                  activations + (est.out_activation_,)):
        layers.append(("dense", {"weight": weight, "bias": bias}))
        layers.append(("activation", {"name": name}))
    return layers


def forward(g, x, layers):
    """Emit ``layers`` (from :func:`inference_layers`) on input ``x``; return the output."""
    for kind, params in layers:
        x = _lookup(LAYERS, kind, "layer")(g, x, **params)
    return x
