"""scikit-learn's own unit tests of its SGD and MLP estimators, run on fastopt's.

The test modules that ship inside the installed scikit-learn
(``sklearn/linear_model/tests/test_sgd.py`` and
``sklearn/neural_network/tests/test_mlp.py``) are executed afresh with their
estimator names pointing at fastopt's classes, and their test functions are
collected here under ``test_sgd__<name>`` and ``test_mlp__<name>``. A
scikit-learn release that adds a tested behaviour therefore shows up here as a
failing test.

* ``EXPECTED_FAILURES``: tests that need scikit-learn's private internals or
  its exact random stream, each with its reason. They are strict: one that
  starts passing fails the run, so the list stays honest.
* ``NOT_RUN``: tests that exercise no fastopt code (``SGDOneClassSVM``, which
  fastopt does not have, and scikit-learn's private Cython loss objects).
* ``SLOW``: tests that take tens of seconds (process pools, hundreds of fits);
  they run with ``FASTOPT_UPSTREAM_SLOW=1``.
"""

import importlib.util
import os
import re
import sys
import types

import pytest
import sklearn
import sklearn.linear_model
import sklearn.neural_network

import fastopt

_SKLEARN_DIR = os.path.dirname(sklearn.__file__)
_RUN_SLOW = os.environ.get("FASTOPT_UPSTREAM_SLOW") == "1"

# collected test id (regex) -> reason
EXPECTED_FAILURES = {
    r"^test_sgd__tol_parameter$": (
        "asserts n_iter_(tol=0) > n_iter_(tol=0.1) at random_state=0, true for scikit-learn's "
        "shuffle order only (scikit-learn itself gives equal counts at random_state 1, 2 and "
        "3; without shuffling fastopt's counts and coefficients equal scikit-learn's)"),
    r"^test_sgd__sgd_proba\[SparseSGDClassifier\]$": (
        "asserts the argmin of a modified_huber decision equals that of predict_proba on a "
        "point where they may tie, true for scikit-learn's shuffle order at random_state=42 "
        "(scikit-learn itself fails it at random_state=6)"),
    r"^test_sgd__validation_mask_correctly_subsets$": (
        "mocks scikit-learn's private `_stochastic_gradient._ValidationScoreCallback`; the "
        "split it checks is tested in test_validation_set.py"),
    r"^test_mlp__gradient$": "calls scikit-learn's private `MLP._loss_grad_lbfgs`",
    r"^test_mlp__(learning_rate_warmstart|adaptive_learning_rate)$": (
        "reads scikit-learn's private optimizer object `mlp._optimizer.learning_rate`; the "
        "schedules are checked against scikit-learn's fits in test_mlp_reference.py"),
}
NOT_RUN = {
    r"one_?class|ocsvm": "tests scikit-learn's SGDOneClassSVM (fastopt has none)",
    r"^test_sgd__(loss_[a-z_]+|gradient_squared_hinge)$":
        "tests scikit-learn's private Cython loss objects (`_sgd_fast.Hinge`, ...)",
}
SLOW = {
    r"^test_sgd__multi_core_gridsearch_and_early_stopping$": "25 fits in a process pool",
    r"^test_sgd__SGDClassifier_fit_for_all_backends\[": "20-class fits in process pools",
    r"^test_sgd__multi_thread_multi_class_and_early_stopping$": "over 100 epochs of 3 classes",
    r"^test_mlp__partial_fit_classification$": "200 partial_fit calls and 2 fits",
    r"^test_mlp__n_iter_no_change_inf$": "a 1000-epoch fit",
    r"^test_mlp__lbfgs_regression\[": "lbfgs fits with 4 activations to 150 iterations",
}


def _load(path, name, package, replacements):
    """Execute the test module at ``path`` with ``package``'s attributes
    ``replacements`` swapped for fastopt's during import, and return it with
    ``package`` itself replaced by a proxy that keeps the swap at call time
    (``linear_model.SGDClassifier(...)`` inside a test)."""
    proxy = types.ModuleType(package.__name__)
    proxy.__dict__.update(vars(package))
    proxy.__dict__.update(replacements)
    saved = {attr: getattr(package, attr) for attr in replacements}
    for attr, value in replacements.items():
        setattr(package, attr, value)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its helper classes must pickle
        spec.loader.exec_module(module)
    finally:
        for attr, value in saved.items():
            setattr(package, attr, value)
    for key, value in list(vars(module).items()):
        if value is package:
            setattr(module, key, proxy)
    return module


_sgd = _load(
    os.path.join(_SKLEARN_DIR, "linear_model", "tests", "test_sgd.py"), "upstream_test_sgd",
    sklearn.linear_model,
    {"SGDClassifier": fastopt.SGDClassifier, "SGDRegressor": fastopt.SGDRegressor})
_mlp = _load(
    os.path.join(_SKLEARN_DIR, "neural_network", "tests", "test_mlp.py"), "upstream_test_mlp",
    sklearn.neural_network,
    {"MLPClassifier": fastopt.MLPClassifier, "MLPRegressor": fastopt.MLPRegressor})


def _matching(patterns, test_id):
    """The reason of the first pattern of ``patterns`` found in ``test_id``, else None."""
    return next((reason for pattern, reason in patterns.items()
                 if re.search(pattern, test_id, flags=re.IGNORECASE)), None)


for _prefix, _module in (("sgd", _sgd), ("mlp", _mlp)):
    for _name, _function in vars(_module).items():
        _collected = f"test_{_prefix}__{_name[5:]}"
        if (_name.startswith("test_") and callable(_function)
                and _matching(NOT_RUN, _collected) is None):
            globals()[_collected] = _function


@pytest.fixture
def global_random_seed():
    """scikit-learn's default global seed (its conftest parametrizes it; 42 by default)."""
    return 42


@pytest.fixture(autouse=True)
def _upstream_marks(request):
    test_id = request.node.name
    not_run = _matching(NOT_RUN, test_id)
    if not_run is not None:  # a parametrized case of a test that also runs fastopt's
        pytest.skip(not_run)
    slow = _matching(SLOW, test_id)
    if slow is not None and not _RUN_SLOW:
        pytest.skip(f"slow ({slow}); run with FASTOPT_UPSTREAM_SLOW=1")
    reason = _matching(EXPECTED_FAILURES, test_id)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
