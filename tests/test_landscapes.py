"""fastopt.landscapes: values from the published formulas, gradients, minima, bad input."""

import numpy as np
import pytest

from fastopt.landscapes import Beale, Himmelblau, Quadratic, Rosenbrock, Saddle

SPD = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.0], [0.5, 0.0, 1.0]])
FUNCTIONS = [Quadratic(SPD, center=[1.0, -2.0, 0.5]), Quadratic(1.0, center=3.0),
             Rosenbrock(), Rosenbrock(a=-0.5, b=10.0), Beale(), Himmelblau(), Saddle()]
IDS = [repr(f) for f in FUNCTIONS]


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_gradient_matches_central_differences(f):
    rng = np.random.default_rng(0)
    h = 1e-6
    for x in rng.uniform(-2, 2, size=(5, f.dim)):
        numeric = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(f.dim)]
        np.testing.assert_allclose(f.grad(x), numeric, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_points_on_a_grid_give_the_values_of_each_point(f):
    grid = np.random.default_rng(1).uniform(-2, 2, size=(4, 3, f.dim))
    values, grads = f(grid), f.grad(grid)
    assert values.shape == (4, 3) and grads.shape == (4, 3, f.dim)
    for idx in np.ndindex(4, 3):
        assert values[idx] == pytest.approx(f(grid[idx]), rel=1e-14)
        np.testing.assert_allclose(grads[idx], f.grad(grid[idx]), rtol=1e-14)


@pytest.mark.parametrize("f", FUNCTIONS, ids=IDS)
def test_minima_are_zeros_of_the_gradient_inside_the_bounds(f):
    for m in f.minima:
        np.testing.assert_allclose(f.grad(m), 0.0, atol=1e-11)
        assert np.all((f.bounds[:, 0] < m) & (m < f.bounds[:, 1]))
    assert f.bounds.shape == (f.dim, 2)
    with pytest.raises(ValueError, match="read-only"):
        f.minima[...] = 0.0


def test_values_are_the_published_formulas():
    x, y = 0.7, -1.3
    p = np.array([x, y])
    assert Rosenbrock()(p) == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2)
    assert Beale()(p) == pytest.approx((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
                                       + (2.625 - x + x * y**3) ** 2)
    assert Himmelblau()(p) == pytest.approx((x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2)
    assert Saddle()(p) == pytest.approx(x**2 - y**2)
    assert Quadratic(1.0, center=3.0)(np.array([5.5])) == pytest.approx((5.5 - 3) ** 2)
    assert Quadratic(np.eye(2))(p) == pytest.approx(x**2 + y**2)
    d = np.array([0.3, -0.1, 2.0]) - [1.0, -2.0, 0.5]
    assert FUNCTIONS[0](d + [1.0, -2.0, 0.5]) == pytest.approx(d @ SPD @ d)


def test_minimum_values_and_the_saddle_has_none():
    for f in (Rosenbrock(), Rosenbrock(a=2.0), Beale(), Himmelblau(), Quadratic(SPD)):
        np.testing.assert_allclose(f(f.minima), 0.0, atol=1e-20)
    assert len(Himmelblau().minima) == 4
    assert Saddle().minima.shape == (0, 2)
    np.testing.assert_array_equal(Saddle().grad(np.zeros(2)), 0.0)


@pytest.mark.parametrize("A, center, match", [
    ([[1.0, 2.0], [0.0, 1.0]], None, "symmetric"),
    ([[1.0, 0.0], [0.0, -1.0]], None, "positive definite"),
    ([[1.0, 0.0], [0.0, 0.0]], None, "positive definite"),
    (np.ones((2, 3)), None, "square matrix"),
    ([[np.nan]], None, "NaN"),
    (np.eye(2), [1.0, 2.0, 3.0], "center must be"),
    (np.eye(2), [np.inf, 0.0], "center must be"),
])
def test_quadratic_refuses_what_has_no_unique_minimum(A, center, match):
    with pytest.raises(ValueError, match=match):
        Quadratic(A, center=center)


def test_points_of_the_wrong_dimension_are_refused():
    with pytest.raises(ValueError, match=r"2 coordinate\(s\) on the last axis, got .* \(3,\)"):
        Rosenbrock()(np.zeros(3))
    with pytest.raises(ValueError, match="1 coordinate"):
        Quadratic(1.0).grad(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="b > 0"):
        Rosenbrock(b=-1.0)
