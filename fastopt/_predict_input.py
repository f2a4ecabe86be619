"""Input checking of the prediction methods, in microseconds.

``check_predict_input(est, X, accept_sparse)`` returns what scikit-learn's
``validate_data(est, X, accept_sparse=accept_sparse, reset=False)`` returns.
The common serving case -- a 2-D float32/float64 NumPy array of the fitted
width, for an estimator fitted without feature names -- is recognised with a
few attribute reads and one finiteness test (skipped under
``sklearn.set_config(assume_finite=True)``), and returned as is, as
``validate_data`` would. Everything else (lists, DataFrames, sparse matrices,
other dtypes, 1-D or empty input, a wrong width, NaN or infinity, or a model
that records no ``n_features_in_``, as scikit-learn's early-stopping score
callback builds) goes through
``validate_data`` itself, so every error and warning is scikit-learn's, word
for word.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["check_fitted", "check_predict_input"]

_FLOATS = (np.float32, np.float64)


def check_fitted(est, attribute):
    """``check_is_fitted(est)``, skipped when ``attribute`` is set (a dict lookup)."""
    if attribute not in est.__dict__:
        check_is_fitted(est)


def check_predict_input(est, X, accept_sparse):
    """``X`` validated for prediction by ``est``, as ``validate_data(..., reset=False)``."""
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype.type in _FLOATS
            and X.shape[0] > 0 and X.shape[1] == getattr(est, "n_features_in_", -1)
            and "feature_names_in_" not in est.__dict__
            # a finite sum means finite entries; an overflowing sum is rechecked below
            and (get_config()["assume_finite"] or np.isfinite(np.add.reduce(X, axis=None)))):
        return X
    return validate_data(est, X, accept_sparse=accept_sparse, reset=False)
