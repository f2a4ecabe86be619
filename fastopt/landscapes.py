"""Loss landscapes: small test functions to watch optimizers move on.

Each function is an object: ``f(x)`` evaluates it, ``f.grad(x)`` gives its
gradient, ``f.minima`` holds its global minimisers (one per row) and
``f.bounds`` the box, one ``(low, high)`` pair per coordinate, that shows
them best. Both ``f`` and ``f.grad`` work on one point of shape ``(dim,)`` or
on any array of points whose last axis has length ``dim`` (a grid for contour
plots, a whole path from :func:`fastopt.optim.trace`).

>>> import numpy as np
>>> from fastopt.landscapes import Quadratic, Rosenbrock
>>> f = Quadratic(1.0, center=3.0)          # (theta - 3)^2
>>> float(f(np.array([5.0]))), f.grad(np.array([5.0]))
(4.0, array([4.]))
>>> Rosenbrock().minima
array([[1., 1.]])
"""

import numpy as np

__all__ = ["Beale", "Himmelblau", "Landscape", "Quadratic", "Rosenbrock", "Saddle"]


def _frozen(values):
    """A read-only float64 array, so that shared attributes cannot be changed by accident."""
    a = np.array(values, dtype=np.float64)
    a.flags.writeable = False
    return a


class Landscape:
    """Base class: a differentiable function of ``dim`` variables.

    Subclasses set ``dim``, ``minima`` and ``bounds`` and implement
    ``_value(x)`` and ``_grad(x)`` on arrays whose last axis holds the
    coordinates.
    """

    dim = 2

    def _points(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"{self!r} takes points with {self.dim} coordinate(s) on the last axis, "
                f"got an array of shape {x.shape}"
            )
        return x

    def __call__(self, x):
        """Value at ``x`` (shape ``(..., dim)``); a float for one point, else ``x.shape[:-1]``."""
        value = self._value(self._points(x))
        return float(value) if np.ndim(value) == 0 else value

    def grad(self, x):
        """Gradient at ``x`` (shape ``(..., dim)``), float64 of the same shape."""
        return self._grad(self._points(x))

    def __repr__(self):
        return f"{type(self).__name__}()"


class Quadratic(Landscape):
    r"""Quadratic bowl :math:`f(x) = (x - c)^\top A (x - c)`.

    Its gradient is :math:`2 A (x - c)` and its only minimiser is :math:`c`.
    The textbook exercises are instances: ``Quadratic(1.0, center=3.0)`` is
    :math:`(\theta - 3)^2` and ``Quadratic(np.eye(2))`` is
    :math:`\lVert\theta\rVert^2`. Plain gradient descent at rate
    :math:`\eta` multiplies the error :math:`x - c` by :math:`I - 2\eta A`
    every step, so it converges iff :math:`\eta < 1/\lambda_{\max}(A)`.

    Parameters
    ----------
    A : float or array-like of shape (dim, dim)
        Symmetric positive-definite matrix; a number means a 1-by-1 matrix.
    center : float or array-like of shape (dim,), default=None
        The minimiser :math:`c`; the origin when None. A number is repeated
        over every coordinate.

    Attributes
    ----------
    dim : int
        Number of variables.
    minima : ndarray of shape (1, dim)
        The minimiser :math:`c`.
    bounds : ndarray of shape (dim, 2)
        :math:`c \pm 2.5` box sides scaled by :math:`1/\sqrt{A_{ii}}`.
    """

    def __init__(self, A, center=None):
        A = np.array(A, dtype=np.float64)
        if A.ndim == 0:
            A = A.reshape(1, 1)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a number or a square matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("A contains NaN or infinite values")
        if not np.allclose(A, A.T, rtol=1e-12, atol=0.0):
            raise ValueError("A must be symmetric; pass (A + A.T) / 2 for the same function")
        if np.linalg.eigvalsh(A)[0] <= 0:
            raise ValueError(
                "A must be positive definite (all eigenvalues > 0), otherwise the "
                "quadratic has no unique minimum; see Saddle for an indefinite one"
            )
        self.A = A
        self.dim = A.shape[0]
        c = np.zeros(self.dim) if center is None else np.asarray(center, dtype=np.float64)
        if c.ndim == 0:
            c = np.full(self.dim, float(c))
        if c.shape != (self.dim,) or not np.all(np.isfinite(c)):
            raise ValueError(
                f"center must be a finite number or a vector of length {self.dim}, got {center!r}"
            )
        self.center = c
        self.minima = _frozen(c[None, :])
        half = 2.5 / np.sqrt(np.diag(A))
        self.bounds = _frozen(np.stack([c - half, c + half], axis=1))

    def _value(self, x):
        d = x - self.center
        return np.einsum("...i,ij,...j->...", d, self.A, d)

    def _grad(self, x):
        return 2.0 * (x - self.center) @ self.A

    def __repr__(self):
        A = self.A[0, 0] if self.dim == 1 else self.A.tolist()
        c = self.center[0] if self.dim == 1 else self.center.tolist()
        return f"Quadratic(A={A}, center={c})"


class Rosenbrock(Landscape):
    r"""Rosenbrock's banana valley :math:`f(x, y) = (a - x)^2 + b (y - x^2)^2`.

    The minimum 0 lies at :math:`(a, a^2)` at the end of a long, curved, flat
    valley: easy to find, slow to follow (Rosenbrock, 1960).

    Parameters
    ----------
    a : float, default=1.0
    b : float, default=100.0
        Steepness of the valley walls; must be positive.
    """

    def __init__(self, a=1.0, b=100.0):
        if not (np.isfinite(a) and np.isfinite(b) and b > 0):
            raise ValueError(f"Rosenbrock needs a finite a and b > 0, got a={a}, b={b}")
        self.a, self.b = float(a), float(b)
        self.minima = _frozen([[self.a, self.a**2]])
        self.bounds = _frozen([[self.a - 3.0, self.a + 1.5], [self.a**2 - 2.0, self.a**2 + 2.5]])

    def _value(self, x):
        u, v = x[..., 0], x[..., 1]
        return (self.a - u) ** 2 + self.b * (v - u**2) ** 2

    def _grad(self, x):
        u, v = x[..., 0], x[..., 1]
        r = v - u**2
        return np.stack([-2.0 * (self.a - u) - 4.0 * self.b * u * r, 2.0 * self.b * r], axis=-1)

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Landscape):
    r"""Beale's function.

    .. math::

        f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    Minimum 0 at :math:`(3, 0.5)`; flat plateaus and steep ridges in between.
    """

    minima = _frozen([[3.0, 0.5]])
    bounds = _frozen([[-4.5, 4.5], [-4.5, 4.5]])
    _C = (1.5, 2.25, 2.625)

    def _value(self, x):
        u, v = x[..., 0], x[..., 1]
        return sum((c - u + u * v**k) ** 2 for k, c in enumerate(self._C, start=1))

    def _grad(self, x):
        u, v = x[..., 0], x[..., 1]
        gu = np.zeros_like(u)
        gv = np.zeros_like(v)
        for k, c in enumerate(self._C, start=1):
            r = c - u + u * v**k
            gu += 2.0 * r * (v**k - 1.0)
            gv += 2.0 * r * k * u * v ** (k - 1)
        return np.stack([gu, gv], axis=-1)


class Himmelblau(Landscape):
    r"""Himmelblau's function :math:`f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four minima of value 0: which one an optimizer reaches depends on where
    it starts and how it moves (Himmelblau, 1972).
    """

    minima = _frozen([
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286170],
        [3.584428340330492, -1.848126526964404],
    ])
    bounds = _frozen([[-5.0, 5.0], [-5.0, 5.0]])

    def _value(self, x):
        u, v = x[..., 0], x[..., 1]
        return (u**2 + v - 11.0) ** 2 + (u + v**2 - 7.0) ** 2

    def _grad(self, x):
        u, v = x[..., 0], x[..., 1]
        p, q = u**2 + v - 11.0, u + v**2 - 7.0
        return np.stack([4.0 * u * p + 2.0 * q, 2.0 * p + 4.0 * v * q], axis=-1)


class Saddle(Landscape):
    r"""The saddle :math:`f(x, y) = x^2 - y^2`.

    Unbounded below, so ``minima`` is empty (shape ``(0, 2)``). Its only
    stationary point, the origin, is a saddle: gradient descent started on
    the ridge :math:`y \approx 0` slows down near it and escapes along
    :math:`y` only as fast as the tiny :math:`y`-gradient allows, while
    per-coordinate adaptive rules (Adagrad, RMSprop, Adam) rescale that
    gradient and leave at once.
    """

    minima = _frozen(np.empty((0, 2)))
    bounds = _frozen([[-2.0, 2.0], [-2.0, 2.0]])

    def _value(self, x):
        return x[..., 0] ** 2 - x[..., 1] ** 2

    def _grad(self, x):
        return np.stack([2.0 * x[..., 0], -2.0 * x[..., 1]], axis=-1)
