"""Linear models trained by stochastic gradient descent on compiled loops."""

from fastopt.linear_model._sgd import SGDClassifier, SGDRegressor

__all__ = ["SGDClassifier", "SGDRegressor"]
