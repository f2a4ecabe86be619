"""The lean path of the second and later ``partial_fit`` calls (online learning).

A fitted estimator fed plain NumPy batches skips scikit-learn's input checks
(fastopt._predict_input); these tests hold it to the full path it replaces:
the same model bit for bit (the reference: the same batches with y as a list,
which always takes the full path), scikit-learn's errors on bad input with
the model left intact, parameters changed between calls validated and
applied, and ``assume_finite`` handled as scikit-learn does.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model import SGDRegressor as SkSGDRegressor
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(96, 5))
Y_CLASS = rng.integers(0, 3, size=96)
Y_REG = X @ rng.normal(size=5)

CASES = {  # fastopt class, scikit-learn class, kwargs, targets, classes
    "SGDClassifier": (SGDClassifier, SkSGDClassifier, {}, Y_CLASS, np.arange(3)),
    "SGDClassifier binary": (SGDClassifier, SkSGDClassifier, {"loss": "log_loss"},
                             Y_CLASS % 2, np.arange(2)),
    "SGDClassifier adam minibatch": (SGDClassifier, SkSGDClassifier,
                                     {"solver": "adam", "batch_size": 8}, Y_CLASS,
                                     np.arange(3)),
    "SGDRegressor": (SGDRegressor, SkSGDRegressor, {"average": 10}, Y_REG, None),
    "MLPClassifier": (MLPClassifier, SkMLPClassifier, {"hidden_layer_sizes": (4,)},
                      Y_CLASS, np.arange(3)),
    "MLPClassifier binary": (MLPClassifier, SkMLPClassifier,
                             {"hidden_layer_sizes": (4,), "solver": "sgd"}, Y_CLASS % 2,
                             np.arange(2)),
    "MLPRegressor": (MLPRegressor, SkMLPRegressor, {"hidden_layer_sizes": (4,)}, Y_REG, None),
}
BATCHES = [slice(32, 64), slice(64, 96), slice(40, 72)]


def _started(case, library=0, dtype=np.float64):
    """An estimator after its first partial_fit (32 rows, with ``classes``)."""
    cls, sk_cls, kwargs, y, classes = CASES[case]
    est = (cls, sk_cls)[library](random_state=0, **kwargs)
    first = {} if classes is None else {"classes": classes}
    return est.partial_fit(X[:32].astype(dtype), y[:32], **first)


def _state(est):
    """Every attribute, arrays and optimizer states by content (each on its own: a
    restored model holds copies where the fitted one shared an array)."""
    return {k: pickle.dumps(v) for k, v in est.__dict__.items() if k != "_validated_params"}


def _outcome(call):
    """(exception type, message) of ``call()``, or None when it succeeds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except Exception as exc:
            return type(exc), str(exc)
    return None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_lean_calls_train_the_same_model_as_the_full_path(case, dtype):
    lean, full = _started(case, dtype=dtype), _started(case, dtype=dtype)
    y = CASES[case][3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, rows in enumerate(BATCHES):
            X_batch = X[rows].astype(dtype)
            if i == 1:  # a sparse batch in between takes the full path on both
                X_batch = sp.csr_matrix(X_batch)
            lean.partial_fit(X_batch, y[rows])
            full.partial_fit(X_batch, y[rows].tolist())
    assert _state(lean) == _state(full)


def _bad_inputs(case):
    """name -> (X, y) of a later partial_fit call."""
    y = CASES[case][3][:8]
    X_nan = X[:8].copy()
    X_nan[2, 1] = np.nan
    X_inf = X[:8].copy()
    X_inf[5, 0] = np.inf
    bad = {
        "too few features": (X[:8, :3], y),
        "NaN": (X_nan, y),
        "infinity": (X_inf, y),
        "strings": (np.array([["a"] * 5] * 8), y),
        "1-D X": (X[0], y[:1]),
        "no rows": (X[:0], y[:0]),
        "y too short": (X[:8], y[:7]),
        "y 2-D column": (X[:8], y.reshape(-1, 1)),
        "y with NaN": (X[:8], np.where(np.arange(8) == 3, np.nan, y)),
    }
    if CASES[case][4] is not None:
        bad["unknown label"] = (X[:8], np.where(np.arange(8) == 3, 7, y))
        bad["classes differ"] = (X[:8], y)
    return bad


@pytest.mark.parametrize("case", ["SGDClassifier", "SGDRegressor", "MLPClassifier",
                                  "MLPRegressor"])
def test_bad_input_on_later_calls_meets_scikit_learns_outcome_and_keeps_the_model(case):
    ours, theirs = _started(case), _started(case, library=1)
    for name, (X_bad, y_bad) in _bad_inputs(case).items():
        extra = {"classes": np.arange(4)} if name == "classes differ" else {}
        before = _state(ours)
        outcome = _outcome(lambda: ours.partial_fit(X_bad, y_bad, **extra))
        assert outcome == _outcome(lambda: theirs.partial_fit(X_bad, y_bad, **extra)), name
        if outcome is not None:
            assert _state(ours) == before, name


@pytest.mark.parametrize("case,change,invalid", [
    ("SGDClassifier", {"eta0": 0.5, "learning_rate": "constant"}, {"alpha": -1.0}),
    ("SGDRegressor", {"alpha": 0.1}, {"penalty": "l3"}),
    ("MLPClassifier", {"learning_rate_init": 0.05}, {"alpha": -1.0}),
    ("MLPRegressor", {"alpha": 0.5}, {"learning_rate_init": 0.0}),
])
def test_set_params_between_calls_is_validated_and_applied(case, change, invalid):
    y = CASES[case][3]
    changed, unchanged = _started(case), _started(case)
    changed.partial_fit(X[32:64], y[32:64])
    unchanged.partial_fit(X[32:64], y[32:64])
    changed.set_params(**invalid)
    before = _state(changed)
    with pytest.raises(InvalidParameterError, match=list(invalid)[0]):
        changed.partial_fit(X[64:96], y[64:96])
    assert _state(changed) == before
    changed.set_params(**{k: CASES[case][0]().get_params()[k] for k in invalid}, **change)
    full = pickle.loads(pickle.dumps(changed))
    changed.partial_fit(X[64:96], y[64:96])
    full.partial_fit(X[64:96], y[64:96].tolist())
    unchanged.partial_fit(X[64:96], y[64:96])
    assert _state(changed) == _state(full)
    assert _state(changed) != _state(unchanged)


@pytest.mark.parametrize("case", ["SGDClassifier", "SGDRegressor", "MLPClassifier",
                                  "MLPRegressor"])
def test_assume_finite_passes_nan_to_training_as_scikit_learn_and_keeps_a_finite_model(case):
    ours, theirs = _started(case), _started(case, library=1)
    X_nan = X[32:40].copy()
    X_nan[2, 1] = np.nan
    y = CASES[case][3][32:40]
    before = _state(ours)
    with config_context(assume_finite=True):
        outcome = _outcome(lambda: ours.partial_fit(X_nan, y))
        reference = _outcome(lambda: theirs.partial_fit(X_nan, y))
    # the same error type and first sentence; fastopt's message then adds a hint
    assert (outcome and (outcome[0], outcome[1].split(".")[0])) == (
        reference and (reference[0], reference[1].split(".")[0]))
    if outcome is not None:
        assert _state(ours) == before
    params = ours.coef_ if hasattr(ours, "coef_") else np.concatenate(
        [c.ravel() for c in ours.coefs_])
    assert np.isfinite(params).all()
