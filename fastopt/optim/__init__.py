"""Optimizers and learning-rate schedules over flat buffers.

>>> import numpy as np
>>> from fastopt.optim import Adam
>>> params = np.zeros(10, dtype=np.float32)
>>> opt = Adam(lr=1e-2)
>>> state = opt.init(params)
>>> opt.step(params, np.ones(10, dtype=np.float32), state)
"""

from fastopt.optim import _optimizers, _schedules
from fastopt.optim._optimizers import *  # noqa: F403 -- one class per row of the rule table
from fastopt.optim._schedules import *  # noqa: F403
from fastopt.optim._state import OptimizerState
from fastopt.optim._trace import trace

__all__ = sorted([*_optimizers.__all__, *_schedules.__all__, "OptimizerState", "trace"])

# Public names in messages and reprs: scikit-learn's parameter validation names
# a type by its module ("an instance of 'fastopt.optim.Optimizer'").
for _name in [*_optimizers.__all__, *_schedules.__all__]:
    globals()[_name].__module__ = __name__
del _name
