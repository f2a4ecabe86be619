"""Per-hidden-layer options of the multi-layer perceptrons.

``activation`` and ``dropout`` are one value for every hidden layer or a list
with one value per hidden layer; the functions here expand them to one value
per layer and say clearly what is wrong with a list that does not fit the
network.
"""

from numbers import Real

from fastopt.neural_network._mlp_fast import HIDDEN_ACTIVATIONS

__all__ = ["HIDDEN_ACTIVATIONS", "init_activations", "layer_activations", "layer_dropouts"]


def _per_layer(name, value, n_hidden, single, is_valid, valid):
    """``value`` repeated ``n_hidden`` times if it is a ``single``, else the
    tuple of a list with one valid value per hidden layer."""
    if isinstance(value, single):
        return (value,) * n_hidden
    values = tuple(value)
    if len(values) != n_hidden:
        raise ValueError(
            f"{name} has {len(values)} value(s) but the network has {n_hidden} hidden "
            f"layers; give one per hidden layer (or a single value for all)")
    invalid = [v for v in values if not is_valid(v)]
    if invalid:
        raise ValueError(f"{name} has invalid values {invalid}; each must be {valid}")
    return values


def layer_activations(activation, n_hidden):
    """One activation name per hidden layer, as a tuple.

    Parameters
    ----------
    activation : str or list or tuple of str
        The estimator's ``activation``.
    n_hidden : int
        Number of hidden layers.

    Raises
    ------
    ValueError
        If a list does not have ``n_hidden`` names, or names an unknown activation.
    """
    return _per_layer("activation", activation, n_hidden, str,
                      lambda name: name in HIDDEN_ACTIVATIONS, f"one of {HIDDEN_ACTIVATIONS}")


def init_activations(activation, n_hidden):
    """The activation each weight layer's initialisation is chosen for.

    A weight layer is initialised for the hidden activation that follows it,
    the output layer for the last hidden layer's. With a single name this is
    scikit-learn's rule (every layer initialised for ``activation``).
    """
    if isinstance(activation, str):
        return (activation,) * (n_hidden + 1)
    names = layer_activations(activation, n_hidden)
    return names + (names[-1:] if names else ("identity",))


def layer_dropouts(dropout, n_hidden):
    """One dropout rate per hidden layer, as a tuple of floats.

    Parameters
    ----------
    dropout : float or list or tuple of float
        The estimator's ``dropout``.
    n_hidden : int
        Number of hidden layers.

    Raises
    ------
    ValueError
        If a list does not have ``n_hidden`` rates, or a rate is not a number in [0, 1).
    """
    rates = _per_layer("dropout", dropout, n_hidden, Real,
                       lambda rate: isinstance(rate, Real) and 0.0 <= rate < 1.0,
                       "a rate in [0, 1)")
    return tuple(float(rate) for rate in rates)
