"""scikit-learn's flat MLP parameter layout (``_pack`` order) and initial
weights, shared by the MLP tests."""

import numpy as np


def unflatten(flat, units):
    """Views of the layer matrices (fan_in x fan_out) and intercepts of ``flat``:
    every weight matrix row-major, then every intercept vector."""
    coefs, intercepts, start = [], [], 0
    for a, b in zip(units[:-1], units[1:]):
        coefs.append(flat[start:start + a * b].reshape(a, b))
        start += a * b
    for b in units[1:]:
        intercepts.append(flat[start:start + b])
        start += b
    return coefs, intercepts


def glorot(units, seed):
    """scikit-learn's Glorot-uniform initial parameters (factor 6, every
    activation but logistic) for ``random_state=seed``, flat."""
    rs = np.random.RandomState(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return np.concatenate([c.ravel() for c in coefs] + intercepts)


def torch_linear(torch, W, b):
    """A float64 ``torch.nn.Linear`` holding the (fan_in, fan_out) weights ``W``
    and the intercepts ``b`` (torch stores the weights transposed)."""
    linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T.copy()))
        linear.bias.copy_(torch.from_numpy(b.copy()))
    return linear


def torch_mlp(torch, flat, units, activations):
    """A float64 ``torch.nn.Sequential`` of Linear layers holding the flat
    parameters ``flat``, each hidden one followed by a fresh module of the
    class ``activations[i]`` (``torch`` is passed in: it is optional)."""
    coefs, intercepts = unflatten(flat, units)
    layers = []
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        layers.append(torch_linear(torch, W, b))
        if i < len(activations):
            layers.append(activations[i]())
    return torch.nn.Sequential(*layers)
