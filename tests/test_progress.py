"""progress=True draws a tqdm bar per epoch without changing the fit; without tqdm it says so."""

import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification

from fastopt import MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor

X, Y = make_classification(n_samples=300, n_features=8, n_classes=3, n_informative=4,
                           random_state=0)
ESTIMATORS = {
    "SGDRegressor": (lambda **kw: SGDRegressor(max_iter=5, tol=None, random_state=0, **kw),
                     Y.astype(float)),
    "SGDClassifier": (lambda **kw: SGDClassifier(max_iter=5, tol=None, random_state=0, **kw), Y),
    "MLPRegressor": (lambda **kw: MLPRegressor(hidden_layer_sizes=(8,), max_iter=5,
                                               random_state=0, **kw), Y.astype(float)),
    "MLPClassifier": (lambda **kw: MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                                 random_state=0, **kw), Y),
}


def _outputs(est):
    return est.coefs_ + est.intercepts_ if hasattr(est, "coefs_") else [est.coef_,
                                                                         est.intercept_]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_progress_bar_counts_epochs_and_leaves_the_fit_unchanged(name, capsys):
    pytest.importorskip("tqdm")
    make, y = ESTIMATORS[name]
    plain = make().fit(X, y)
    capsys.readouterr()
    shown = make(progress=True).fit(X, y)
    err = capsys.readouterr().err
    assert name in err and "5/5" in err and "epoch" in err
    for a, b in zip(_outputs(plain), _outputs(shown)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_progress_without_tqdm_raises_an_import_error_that_says_how_to_install(name,
                                                                             monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    make, y = ESTIMATORS[name]
    with pytest.raises(ImportError, match="pip install tqdm"):
        make(progress=True).fit(X, y)
