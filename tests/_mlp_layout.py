"""scikit-learn's flat MLP parameter layout (``_pack`` order), shared by the MLP tests."""


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
