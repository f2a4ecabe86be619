"""Per-hidden-layer options of the multi-layer perceptrons.

``activation`` is one name for every hidden layer or a list with one name per
hidden layer; the functions here expand it to one value per layer and say
clearly what is wrong with a list that does not fit the network.
"""

from fastopt.neural_network._mlp_fast import HIDDEN_ACTIVATIONS

__all__ = ["HIDDEN_ACTIVATIONS", "init_activations", "layer_activations"]


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
    if len(names) != n_hidden:
        raise ValueError(
            f"activation has {len(names)} name(s) but the network has {n_hidden} hidden "
            f"layers; give one name per hidden layer (or a single name for all)")
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
