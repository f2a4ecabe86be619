"""fastopt: compiled optimizers for neural networks and linear models, as
scikit-learn estimators."""

from fastopt import optim
from fastopt.linear_model import SGDClassifier, SGDRegressor

__version__ = "0.1.0"

__all__ = ["SGDClassifier", "SGDRegressor", "optim"]
