"""Multi-layer perceptrons trained by compiled backpropagation.

>>> from fastopt.neural_network import MLPClassifier, MLPRegressor
"""

from fastopt.neural_network._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
