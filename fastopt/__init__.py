"""fastopt: compiled optimizers for neural networks and linear models, as
scikit-learn estimators."""

from fastopt import optim
from fastopt.neural_network import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = ["MLPClassifier", "MLPRegressor", "optim"]
