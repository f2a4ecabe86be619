"""Weight initialisation of the multi-layer perceptrons."""

import numpy as np

WEIGHT_INITS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal")


def init_layer(weight_init, activation, fan_in, fan_out, random_state):
    """Draw the weights and intercepts of one layer.

    ``'glorot_uniform'`` is scikit-learn's rule, draw for draw: weights then
    intercepts from ``U(-b, b)`` with ``b = sqrt(f / (fan_in + fan_out))``,
    ``f = 2`` for the logistic activation and ``6`` otherwise. The other rules
    draw the weights only and start the intercepts at zero (as Keras does):
    ``'glorot_normal'`` ``N(0, f / 3 / (fan_in + fan_out))`` (the variance of
    the uniform rule), ``'he_uniform'`` ``U(-sqrt(6 / fan_in), sqrt(6 / fan_in))``
    and ``'he_normal'`` ``N(0, 2 / fan_in)`` (He et al., 2015).

    Parameters
    ----------
    weight_init : str
        One of ``WEIGHT_INITS``.
    activation : str
        The activation this layer is initialised for (sets the Glorot factor).
    fan_in, fan_out : int
        Layer sizes.
    random_state : numpy.random.RandomState
        Source of the draws.

    Returns
    -------
    coef : ndarray of shape (fan_in, fan_out), float64
    intercept : ndarray of shape (fan_out,), float64
    """
    factor = 2.0 if activation == "logistic" else 6.0
    if weight_init == "glorot_uniform":
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        return coef, random_state.uniform(-bound, bound, fan_out)
    if weight_init == "glorot_normal":
        coef = random_state.normal(0.0, np.sqrt(factor / 3.0 / (fan_in + fan_out)),
                                   (fan_in, fan_out))
    elif weight_init == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
    else:
        coef = random_state.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
    return coef, np.zeros(fan_out)
