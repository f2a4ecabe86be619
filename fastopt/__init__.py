"""fastopt: compiled optimizers for neural networks and linear models, as
scikit-learn estimators."""

from fastopt import landscapes, optim
from fastopt._lr_find import LRFindResult, lr_find
from fastopt._plot_gradients import plot_gradient_norms
from fastopt._plotting import plot_loss_curves, plot_optimizer_paths
from fastopt.linear_model import SGDClassifier, SGDRegressor
from fastopt.neural_network import MLPClassifier, MLPRegressor
from fastopt import onnx  # registers skl2onnx converters once skl2onnx is imported

__version__ = "0.1.0"

__all__ = [
    "LRFindResult",
    "MLPClassifier",
    "MLPRegressor",
    "SGDClassifier",
    "SGDRegressor",
    "landscapes",
    "lr_find",
    "onnx",
    "optim",
    "plot_gradient_norms",
    "plot_loss_curves",
    "plot_optimizer_paths",
]
