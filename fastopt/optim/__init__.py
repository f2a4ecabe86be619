"""Optimizers and learning-rate schedules over flat buffers.

>>> import numpy as np
>>> from fastopt.optim import Adam
>>> params = np.zeros(10, dtype=np.float32)
>>> opt = Adam(lr=1e-2)
>>> state = opt.init(params)
>>> opt.step(params, np.ones(10, dtype=np.float32), state)
"""

from fastopt.optim._optimizers import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    NAdam,
    Optimizer,
    RMSprop,
    SklearnAdam,
    SklearnSGD,
)
from fastopt.optim._schedules import (
    Constant,
    CosineAnnealing,
    ExponentialDecay,
    InverseScaling,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
)
from fastopt.optim._state import OptimizerState

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Constant",
    "CosineAnnealing",
    "ExponentialDecay",
    "InverseScaling",
    "NAdam",
    "Optimizer",
    "OptimizerState",
    "RMSprop",
    "ReduceOnPlateau",
    "Schedule",
    "SklearnAdam",
    "SklearnSGD",
    "StepDecay",
]
