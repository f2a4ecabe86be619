"""fastopt.plot_loss_curves: draws loss_curve_ of fitted estimators (matplotlib Agg)."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from fastopt import MLPClassifier, plot_loss_curves
from fastopt.optim import AdamW

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    kw = dict(hidden_layer_sizes=(8,), max_iter=4, random_state=0)
    return [MLPClassifier(**kw).fit(X, y), MLPClassifier(solver=AdamW(), **kw).fit(X, y),
            SkMLPClassifier(**kw).fit(X, y)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_lines_are_the_loss_curves_per_epoch(fitted):
    ax = plot_loss_curves(fitted)
    assert len(ax.lines) == len(fitted)
    for line, est in zip(ax.lines, fitted):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, est.n_iter_ + 1))
        np.testing.assert_array_equal(line.get_ydata(), est.loss_curve_)
    assert ax.get_yscale() == "log"


def test_default_labels_name_class_and_solver_and_custom_labels_win(fitted):
    ax = plot_loss_curves(fitted)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "MLPClassifier (adam)", "MLPClassifier (AdamW)", "MLPClassifier (adam)"]
    ax = plot_loss_curves(fitted[:2], labels=["a", "b"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_draws_on_given_axes_and_accepts_one_estimator(fitted):
    _, ax = plt.subplots()
    assert plot_loss_curves(fitted[0], ax=ax) is ax
    assert len(ax.lines) == 1


def test_estimator_without_loss_curve_is_refused(fitted):
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="no loss_curve_"):
        plot_loss_curves([MLPClassifier(solver="lbfgs", max_iter=2).fit(X[:50], y[:50])])
    with pytest.raises(ValueError, match="labels has 1 entries but 3"):
        plot_loss_curves(fitted, labels=["only one"])


def test_missing_matplotlib_raises_import_error_with_install_hint(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_loss_curves(fitted)
