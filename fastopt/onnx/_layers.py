"""ONNX graphs of the inference layers of fastopt's multi-layer perceptrons.

Two tables are the whole vocabulary of the MLP exporter:

* ``ACTIVATIONS`` maps an activation name (the ``activation`` parameter and
  the fitted ``out_activation_``) to a function ``(graph, x) -> y``;
* ``LAYERS`` maps a layer kind to a function ``(graph, x, **params) -> y``.

``inference_layers(est)`` describes a fitted network as a list of
``(kind, params)`` pairs and ``forward`` emits them in order. Supporting a new
activation is one entry in ``ACTIVATIONS``; a new inference layer (batch
normalisation, say, as a per-unit scale and shift) is one entry in ``LAYERS``
and its place in ``inference_layers``. A name missing from a table raises
``NotImplementedError`` at conversion. Dropout has no layer: inverted dropout
scales during training, so inference is the plain network.
"""

__all__ = ["ACTIVATIONS", "LAYERS", "forward", "inference_layers"]

ACTIVATIONS = {
    "identity": lambda g, x: x,
    "logistic": lambda g, x: g.op("Sigmoid", x),
    "tanh": lambda g, x: g.op("Tanh", x),
    "relu": lambda g, x: g.op("Relu", x),
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


def inference_layers(est):
    """The fitted network ``est`` as ``[(kind, params), ...]``, input to output."""
    last = len(est.coefs_) - 1
    layers = []
    for i, (weight, bias) in enumerate(zip(est.coefs_, est.intercepts_)):
        layers.append(("dense", {"weight": weight, "bias": bias}))
        layers.append(("activation",
                       {"name": est.activation if i < last else est.out_activation_}))
    return layers


def forward(g, x, layers):
    """Emit ``layers`` (from :func:`inference_layers`) on input ``x``; return the output."""
    for kind, params in layers:
        x = _lookup(LAYERS, kind, "layer")(g, x, **params)
    return x
