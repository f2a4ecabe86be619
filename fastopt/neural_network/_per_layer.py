"""Per-hidden-layer options of the multi-layer perceptrons.

``activation`` and ``dropout`` are one value for every hidden layer or a list
with one value per hidden layer; the functions here expand them to one value
per layer and say clearly what is wrong with a list that does not fit the
network.
"""

from numbers import Real

from fastopt.neural_network._mlp_fast import HIDDEN_ACTIVATIONS

__all__ = ["HIDDEN_ACTIVATIONS", "init_activations", "layer_activations", "layer_dropouts"]


def _check_length(name, values, n_hidden):
    if len(values) != n_hidden:
        raise ValueError(
            f"{name} has {len(values)} value(s) but the network has {n_hidden} hidden "
            f"layers; give one per hidden layer (or a single value for all)")


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
    if isinstance(activation, str):
        return (activation,) * n_hidden
    names = tuple(activation)
    _check_length("activation", names, n_hidden)
    unknown = [name for name in names if name not in HIDDEN_ACTIVATIONS]
    if unknown:
        raise ValueError(f"activation has unknown names {unknown}; each must be one of "
                         f"{HIDDEN_ACTIVATIONS}")
    return names


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
    if isinstance(dropout, Real):
        return (float(dropout),) * n_hidden
    rates = tuple(dropout)
    _check_length("dropout", rates, n_hidden)
    if not all(isinstance(r, Real) and 0.0 <= r < 1.0 for r in rates):
        raise ValueError(f"dropout rates must be numbers in [0, 1), got {list(rates)}")
    return tuple(float(r) for r in rates)
