"""fastopt.plot_optimizer_paths: paths, markers, log-spaced contours, legend (matplotlib Agg)."""

import sys

import numpy as np
import pytest

from fastopt import plot_optimizer_paths
from fastopt.landscapes import Himmelblau, Quadratic, Rosenbrock, Saddle
from fastopt.optim import SGD, Adam, RMSprop, trace

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OPTIMIZERS = {"momentum": SGD(lr=5e-4, momentum=0.9), "Adam": Adam(lr=0.05),
              "RMSprop": RMSprop(lr=1e-2)}
X0 = [-1.5, 2.0]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_one_line_per_optimizer_is_its_trace():
    ax = plot_optimizer_paths(OPTIMIZERS, Rosenbrock(), X0, 60)
    for line, (label, opt) in zip(ax.lines, OPTIMIZERS.items()):
        assert line.get_label() == label
        path = trace(opt, Rosenbrock(), X0, 60)
        np.testing.assert_array_equal(np.column_stack([line.get_xdata(), line.get_ydata()]),
                                      path)
    assert len({line.get_color() for line in ax.lines[:3]}) == 3
    assert _legend(ax) == ["momentum", "Adam", "RMSprop", "start", "minimum"]


def test_start_and_minima_markers():
    ax = plot_optimizer_paths([Adam(lr=0.1)], Himmelblau(), [0.0, 0.0], 20)
    start, minima = ax.lines[1], ax.lines[2]
    np.testing.assert_array_equal(np.column_stack([start.get_xdata(), start.get_ydata()]),
                                  [[0.0, 0.0]])
    np.testing.assert_array_equal(np.column_stack([minima.get_xdata(), minima.get_ydata()]),
                                  Himmelblau().minima)
    assert _legend(ax) == ["Adam(lr=0.1)", "start", "minima"]  # a list is labelled by repr
    ax = plot_optimizer_paths([SGD(lr=0.05)], Saddle(), [1.5, 1e-3], 20)
    assert _legend(ax) == ["SGD(lr=0.05)", "start"]  # the saddle has no minimum


def _levels(ax):
    (contours,) = [c for c in ax.collections if hasattr(c, "levels")]
    return np.asarray(contours.levels)


def test_contour_levels_are_geometric_in_the_distance_from_the_minimum():
    levels = _levels(plot_optimizer_paths(OPTIMIZERS, Rosenbrock(), X0, 5))
    ratios = levels[1:] / levels[:-1]  # Rosenbrock's minimum value is 0
    assert len(levels) >= 8 and np.all(levels > 0)
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert ratios[0] > 1.5
    f = Quadratic(np.diag([1.0, 4.0]), center=[1.0, 2.0])
    shifted = _levels(plot_optimizer_paths([SGD(lr=0.1)], f, [0.0, 0.0], 5))
    assert np.all(shifted > 0) and np.allclose(shifted[1:] / shifted[:-1],
                                               shifted[1] / shifted[0], rtol=1e-9)


def test_saddle_levels_are_geometric_on_both_sides_of_zero():
    levels = _levels(plot_optimizer_paths([SGD(lr=0.05)], Saddle(), [1.5, 1e-3], 5))
    negative, positive = -levels[levels < 0][::-1], levels[levels > 0]
    np.testing.assert_allclose(negative, positive, rtol=1e-12)
    np.testing.assert_allclose(positive[1:] / positive[:-1], positive[1] / positive[0],
                               rtol=1e-9)


def test_box_is_the_bounds_widened_to_contain_the_start():
    ax = plot_optimizer_paths([SGD(lr=1e-4)], Rosenbrock(), [-3.0, 5.0], 3)
    low, high = Rosenbrock().bounds.T
    assert ax.get_xlim()[0] < -3.0 and ax.get_xlim()[1] >= high[0]
    assert ax.get_ylim()[1] > 5.0 and ax.get_ylim()[0] <= low[1]


def test_draws_on_given_axes():
    _, ax = plt.subplots()
    assert plot_optimizer_paths({"sgd": SGD(lr=1e-3)}, Rosenbrock(), X0, 3, ax=ax) is ax


@pytest.mark.parametrize("args, error, match", [
    (({}, Rosenbrock(), X0, 3), ValueError, "optimizers is empty"),
    (([SGD()], Quadratic(1.0), [1.0], 3), ValueError, "function of two variables"),
    (([SGD()], np.sin, X0, 3), ValueError, "fastopt.landscapes function"),
    (([SGD()], Rosenbrock(), [1.0, 2.0, 3.0], 3), ValueError, "x0 must be a point with 2"),
    (([SGD()], Rosenbrock(), X0, -2), ValueError, "n_steps"),
])
def test_bad_input_is_refused(args, error, match):
    with pytest.raises(error, match=match):
        plot_optimizer_paths(*args)


def test_missing_matplotlib_raises_import_error_with_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="plot_optimizer_paths needs matplotlib.*pip install"):
        plot_optimizer_paths(OPTIMIZERS, Rosenbrock(), X0, 3)
