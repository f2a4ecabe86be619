"""Input checking of prediction and small-batch ``partial_fit``, in microseconds.

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

The second and later ``partial_fit`` calls of a fitted estimator use the same
recognisers: :func:`plain_rows` for X, :func:`plain_values` and
:func:`known_label_indices` for y. They answer yes only for input that
scikit-learn's checks would return unchanged; on any other input (or a no)
the estimator takes its full path, which raises scikit-learn's errors.
:func:`validate_params_when_changed` validates the parameters once per set
of values rather than once per call.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["check_fitted", "check_predict_input", "known_label_indices", "plain_rows",
           "plain_values", "validate_params_when_changed"]

_FLOATS = (np.float32, np.float64)
# estimator class -> names of its constructor parameters
_PARAM_NAMES = {}


def _finite(a):
    """Whether every entry of float array ``a`` is finite, or the check is switched off."""
    # a finite sum means finite entries; an overflowing sum is rechecked by the full path
    return get_config()["assume_finite"] or bool(np.isfinite(np.add.reduce(a, axis=None)))


def plain_rows(est, X):
    """Whether ``X`` is a non-empty, finite, float32/float64 2-D NumPy array of the
    fitted width, for an estimator fitted without feature names: the input that
    ``validate_data(est, X, reset=False)`` returns as is."""
    return (type(X) is np.ndarray and X.ndim == 2 and X.dtype.type in _FLOATS
            and X.shape[0] > 0 and X.shape[1] == getattr(est, "n_features_in_", -1)
            and "feature_names_in_" not in est.__dict__ and _finite(X))


def check_fitted(est, attribute):
    """``check_is_fitted(est)``, skipped when ``attribute`` is set (a dict lookup)."""
    if attribute not in est.__dict__:
        check_is_fitted(est)


def check_predict_input(est, X, accept_sparse):
    """``X`` validated for prediction by ``est``, as ``validate_data(..., reset=False)``."""
    if plain_rows(est, X):
        return X
    return validate_data(est, X, accept_sparse=accept_sparse, reset=False)


def plain_values(y, n_samples):
    """Whether ``y`` is a finite numeric (integer or float) 1-D NumPy array of
    ``n_samples`` values: regression targets scikit-learn accepts unchanged."""
    return (type(y) is np.ndarray and y.ndim == 1 and y.shape[0] == n_samples
            and (y.dtype.kind in "iu" or (y.dtype.type in _FLOATS and _finite(y))))


def known_label_indices(y, classes, n_samples):
    """Positions in ``classes`` (sorted, as ``classes_``) of the labels ``y``, or None.

    None unless ``y`` is a 1-D NumPy array of ``n_samples`` numeric or string
    labels of ``classes``'s dtype (or both integer) that are all among
    ``classes`` (NaN never is).
    """
    if not (type(y) is np.ndarray and y.ndim == 1 and y.shape[0] == n_samples
            and y.dtype.kind in "iufU" and (y.dtype == classes.dtype or (
                y.dtype.kind in "iu" and classes.dtype.kind in "iu"))):
        return None
    indices = np.searchsorted(classes, y)
    np.minimum(indices, classes.shape[0] - 1, out=indices)
    return indices if (classes[indices] == y).all() else None


def validate_params_when_changed(est):
    """``est._validate_params()`` unless the parameters are the objects last validated.

    scikit-learn's ``partial_fit`` validates the parameters at the first call
    only; here a call after ``set_params`` (or an assignment to a parameter)
    validates them again, and the calls in between compare a few object
    identities. The validated values are kept in ``est._validated_params``.
    """
    cls = type(est)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = _PARAM_NAMES[cls] = tuple(cls._get_param_names())
    values = tuple([getattr(est, name) for name in names])
    last = est.__dict__.get("_validated_params")
    if last is None or any([a is not b for a, b in zip(values, last)]):
        est._validate_params()
        est._validated_params = values
