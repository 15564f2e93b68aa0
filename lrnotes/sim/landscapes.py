r"""Toy objectives with value, gradient and curvature, vectorised over points.

Every landscape works on NumPy ``float64`` arrays of points of shape ``(..., dim)``:
``value(x)`` has shape ``(...)``, ``grad(x)`` shape ``(..., dim)``, ``hess(x)`` shape
``(..., dim, dim)``.  Each one knows its minima (in closed form or computed, and checked),
so a simulation can report the suboptimality ``gap(x)`` :math:`= f(x) - f_*`.  They plug
into the vectorised simulator :func:`lrnotes.sim.sgd.simulate`, which adds the gradient noise:
a landscape's own gradient is exact.

Contents
--------
Landscape          the common interface (value, grad, hess, curvature, gap, minima)
DoubleWell         f = θ⁴ − 2aθ² + bθ: two wells, which is deeper, barriers, curvatures
double_well_sympy  the same in closed form with sympy (critical points, discriminant, range of b)
Quadratic          f = ½ (x − c)ᵀ H (x − c), H diagonal or full SPD; L = λ_max, μ = λ_min
Multiscale         a broad bowl plus cosine ripples at several wavelengths (separable in dim)
Cliff              a bowl with a narrow cliff whose gradient is ~10³ where the bowl's is ~10
RiverValley        a steep valley (walls of curvature κ) whose floor slopes gently to a lake
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from lrnotes.schedules import _int_at_least, _positive_real, _real

__all__ = [
    "Landscape",
    "DoubleWell",
    "double_well_sympy",
    "Quadratic",
    "Multiscale",
    "Cliff",
    "RiverValley",
]


class Landscape:
    """The interface of a toy objective :math:`f:\\mathbb{R}^d \\to \\mathbb{R}`.

    Subclasses define ``dim``, ``value``, ``grad``, ``hess`` and ``minima`` (local minima,
    shape ``(k, dim)``, the global one first).  Derived here:

    - ``x_star`` — the global minimiser ``minima[0]``; ``f_star`` — :math:`f(x_*)`;
    - ``gap(x)`` — :math:`f(x) - f_*`;
    - ``curvature(x)`` — the top eigenvalue of the Hessian (:math:`f''` in 1-D);
    - ``sample_grad(x, rng)`` — the gradient oracle the simulator calls; here the exact
      gradient (the simulator adds Gaussian noise of its own).
    """

    dim: int = 1

    def _points(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 and self.dim == 1:
            x = x[None]
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}) (the last axis is the "
                             f"dimension dim={self.dim}), got shape {x.shape}")
        return x

    # subclasses implement these three on a checked array of shape (..., dim)
    def _value(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _hess(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def value(self, x) -> np.ndarray:
        """:math:`f(x)` for points ``x`` of shape ``(..., dim)``; returns shape ``(...)``."""
        return self._value(self._points(x))

    def grad(self, x) -> np.ndarray:
        r""":math:`\nabla f(x)`, shape ``(..., dim)``."""
        return self._grad(self._points(x))

    def hess(self, x) -> np.ndarray:
        r""":math:`\nabla^2 f(x)`, shape ``(..., dim, dim)``."""
        return self._hess(self._points(x))

    def curvature(self, x) -> np.ndarray:
        r"""Top Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 f(x))`, shape ``(...)``."""
        h = self.hess(x)
        if self.dim == 1:
            return h[..., 0, 0]
        return np.linalg.eigvalsh(h)[..., -1]

    def sample_grad(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The simulator's gradient oracle: the exact gradient (``rng`` is not used)."""
        return self._grad(x)

    @property
    def minima(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def x_star(self) -> np.ndarray:
        """The global minimiser, ``minima[0]``."""
        return self.minima[0]

    @property
    def f_star(self) -> float:
        r""":math:`f_* = f(x_*)`."""
        return float(self._value(self.x_star))

    def gap(self, x) -> np.ndarray:
        r"""Suboptimality :math:`f(x) - f_*`, shape ``(...)``."""
        return self.value(x) - self.f_star

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._params().items())})"

    def _params(self) -> dict:
        return {}


# --------------------------------------------------------------------------- double well
class DoubleWell(Landscape):
    r"""The tilted double well :math:`f(\theta) = \theta^4 - 2a\theta^2 + b\theta` (1-D).

    .. math::
        f'(\theta) = 4\theta^3 - 4a\theta + b, \qquad f''(\theta) = 12\theta^2 - 4a.

    For :math:`a > 0` it has two wells exactly when :math:`f'` has three distinct real
    roots, that is when the discriminant of the cubic is positive:

    .. math::
        \operatorname{disc}_\theta f' &= 1024 a^3 - 432 b^2 = 16\,(64 a^3 - 27 b^2) > 0 \\
        &\iff |b| < b_c = \frac{8}{3\sqrt3}\, a^{3/2}.

    The critical points are then, in trigonometric form (:math:`k = 0, 1, 2`),

    .. math::
        \theta_k = 2\sqrt{a/3}\,\cos\Bigl(\frac{\varphi - 2\pi k}{3}\Bigr), \qquad
        \varphi = \arccos\Bigl(-\frac{b}{b_c}\Bigr),

    with :math:`\theta_0` the right well, :math:`\theta_2` the left well and
    :math:`\theta_1` the barrier between them.  Since :math:`f(-\theta) = f(\theta) - 2b\theta`,
    the left well is the deeper one for :math:`b > 0` (the right one for :math:`b < 0`).

    Parameters
    ----------
    a : float > 0
        Half the squared distance of the untilted wells, :math:`\pm\sqrt a`.
    b : float with :math:`|b| < b_c(a)`
        The tilt.  ``b = 0`` gives two equally deep wells (then ``minima[0]`` is the left).
    """

    dim = 1

    def __init__(self, a: float = 1.0, b: float = 0.3):
        self.a = _positive_real("a", a)
        self.b = _real("b", b)
        bc = self.b_crit(self.a)
        if not abs(self.b) < bc:
            raise ValueError(f"b must be in (-{bc:.6g}, {bc:.6g}) = ±(8/(3√3)) a^(3/2) for two wells "
                             f"at a={self.a:g}, got {b!r}")

    def _params(self):
        return {"a": self.a, "b": self.b}

    @staticmethod
    def b_crit(a: float) -> float:
        r""":math:`b_c(a) = \frac{8}{3\sqrt3} a^{3/2}`: two wells exist iff :math:`|b| < b_c`."""
        a = _positive_real("a", a)
        return 8.0 / (3.0 * math.sqrt(3.0)) * a**1.5

    def _value(self, x):
        t = x[..., 0]
        t2 = t * t
        return t2 * t2 - 2.0 * self.a * t2 + self.b * t

    def _grad(self, x):
        return 4.0 * x * x * x - 4.0 * self.a * x + self.b

    def _hess(self, x):
        return (12.0 * x * x - 4.0 * self.a)[..., None]

    @property
    def critical_points(self) -> np.ndarray:
        """``[left well, barrier, right well]`` (the closed form above), increasing."""
        phi = math.acos(-self.b / self.b_crit(self.a))
        r = 2.0 * math.sqrt(self.a / 3.0)
        right, barrier, left = (r * math.cos((phi - 2.0 * math.pi * k) / 3.0) for k in range(3))
        return np.array([left, barrier, right])

    @property
    def wells(self) -> np.ndarray:
        """The two minima ``[left, right]``, shape ``(2,)``."""
        return self.critical_points[[0, 2]]

    @property
    def barrier(self) -> float:
        """The local maximum between the wells; it separates their basins."""
        return float(self.critical_points[1])

    @property
    def minima(self) -> np.ndarray:
        """Both wells, shape ``(2, 1)``, the deeper (global) one first."""
        left, right = self.wells
        order = [left, right] if self.b >= 0 else [right, left]
        return np.array(order)[:, None]

    @property
    def deeper(self) -> str:
        """``"left"`` if :math:`b \\ge 0` else ``"right"``: the well holding :math:`f_*`."""
        return "left" if self.b >= 0 else "right"

    def in_deeper_well(self, x) -> np.ndarray:
        """Whether each point lies in the basin (of gradient flow) of the deeper well."""
        t = self._points(x)[..., 0]
        return t < self.barrier if self.b >= 0 else t > self.barrier

    @property
    def barrier_heights(self) -> np.ndarray:
        r""":math:`f(\theta_1) - f(\theta_\text{well})` for ``[left, right]``: the climb out of each well."""
        left, mid, right = self.critical_points
        f = self._value(np.array([[left], [mid], [right]]))
        return np.array([f[1] - f[0], f[1] - f[2]])

    @property
    def well_curvatures(self) -> np.ndarray:
        r""":math:`f''` at ``[left, right]`` wells; the larger one is the sharper well."""
        w = self.wells
        return 12.0 * w * w - 4.0 * self.a


def double_well_sympy():
    r"""The double well in closed form, with sympy (for a notebook to display and check).

    Returns a namespace with the symbols ``theta, a, b`` (``a`` positive, ``b`` real),
    the expressions ``f``, ``df`` (:math:`f'`), ``d2f`` (:math:`f''`), ``disc`` (the
    discriminant of :math:`f'` in :math:`\theta`), ``b_crit`` (:math:`b_c`, the positive
    root of ``disc = 0`` in ``b``), ``critical_points`` (the trigonometric closed forms
    ``[right well, barrier, left well]`` for :math:`k = 0, 1, 2`), and
    ``depth_difference`` — :math:`f(-\theta) - f(\theta) = -2b\theta`, the identity that
    makes the well on the side opposite to the tilt the deeper one.
    """
    import sympy as sp

    theta = sp.Symbol("theta", real=True)
    a = sp.Symbol("a", positive=True)
    b = sp.Symbol("b", real=True)
    f = theta**4 - 2 * a * theta**2 + b * theta
    df = sp.diff(f, theta)
    d2f = sp.diff(f, theta, 2)
    disc = sp.factor(sp.discriminant(df, theta))
    b_crit = sp.Rational(8, 3) / sp.sqrt(3) * a ** sp.Rational(3, 2)
    phi = sp.acos(-b / b_crit)
    points = [2 * sp.sqrt(a / 3) * sp.cos((phi - 2 * sp.pi * k) / 3) for k in range(3)]
    return SimpleNamespace(theta=theta, a=a, b=b, f=f, df=df, d2f=d2f, disc=disc, b_crit=b_crit,
                           critical_points=points,
                           depth_difference=sp.expand(f.subs(theta, -theta) - f))


# --------------------------------------------------------------------------- quadratic
class Quadratic(Landscape):
    r"""The quadratic :math:`f(x) = \tfrac12 (x - c)^\top H (x - c)`, with :math:`f_* = 0`.

    .. math:: \nabla f(x) = H (x - c), \qquad \nabla^2 f = H, \qquad
              L = \lambda_{\max}(H), \quad \mu = \lambda_{\min}(H).

    Gradient descent :math:`x \leftarrow x - \eta \nabla f` is stable iff
    :math:`\eta < 2/L`.  Gradient noise is added by the simulator (``sigma``).

    Parameters
    ----------
    H : float, array of shape (d,) (the diagonal) or (d, d)
        Symmetric positive definite: every eigenvalue finite and > 0.
    center : array of shape (d,), optional
        The minimiser :math:`c` (default the origin).
    """

    def __init__(self, H, center=None):
        H = np.asarray(H, dtype=float)
        if H.ndim == 0:
            H = H[None]
        if H.ndim == 1:
            diag = H
            H = np.diag(H)
        elif H.ndim == 2 and H.shape[0] == H.shape[1]:
            diag = None
        else:
            raise ValueError(f"H must be a number, a diagonal of shape (d,) or a matrix of "
                             f"shape (d, d), got shape {H.shape}")
        if H.shape[0] < 1 or not np.all(np.isfinite(H)):
            raise ValueError("H must be non-empty and finite")
        if diag is None and not np.allclose(H, H.T, rtol=1e-12, atol=1e-12 * np.abs(H).max()):
            raise ValueError("H must be symmetric")
        eig = diag if diag is not None else np.linalg.eigvalsh(H)
        if not np.all(eig > 0):
            raise ValueError(f"H must be positive definite (every eigenvalue > 0), "
                             f"got smallest eigenvalue {eig.min():g}")
        self.H = H
        self.dim = H.shape[0]
        self.eigenvalues = np.sort(eig)
        self._diag = diag
        c = np.zeros(self.dim) if center is None else np.asarray(center, dtype=float)
        if c.shape != (self.dim,) or not np.all(np.isfinite(c)):
            raise ValueError(f"center must be a finite array of shape ({self.dim},), got shape {c.shape}")
        self.center = c

    def _params(self):
        return {"H": self._diag.tolist() if self._diag is not None else self.H.tolist()}

    @property
    def L(self) -> float:
        r"""Smoothness :math:`L = \lambda_{\max}(H)`."""
        return float(self.eigenvalues[-1])

    @property
    def mu(self) -> float:
        r"""Strong convexity :math:`\mu = \lambda_{\min}(H)`."""
        return float(self.eigenvalues[0])

    @property
    def condition_number(self) -> float:
        r""":math:`\kappa = L/\mu`."""
        return self.L / self.mu

    def _value(self, x):
        y = x - self.center
        return 0.5 * np.einsum("...i,...i->...", y, self._grad(x))

    def _grad(self, x):
        y = x - self.center
        if self._diag is not None:
            return y * self._diag
        return y @ self.H  # H is symmetric

    def _hess(self, x):
        return np.broadcast_to(self.H, x.shape[:-1] + self.H.shape).copy()

    @property
    def minima(self) -> np.ndarray:
        """The single minimiser ``center``, shape ``(1, d)``."""
        return self.center[None, :].copy()

    @property
    def f_star(self) -> float:
        return 0.0


# --------------------------------------------------------------------------- multiscale
class Multiscale(Landscape):
    r"""A broad bowl plus cosine ripples at several wavelengths, separable over coordinates.

    .. math::
        f(x) = \sum_{i=1}^{d} \Bigl[\tfrac{c}{2} x_i^2
               + \sum_{k} A_k \Bigl(1 - \cos\frac{2\pi (x_i - \phi_k)}{w_k}\Bigr)\Bigr].

    Each coarse ripple holds many fine ones: local minima at every scale, the
    landscape on which period doubling (SGDR, "multigrid in time") is meant to explore.
    Being separable, its global minimiser is :math:`(u_*, \dots, u_*)` with :math:`u_*`
    the 1-D global minimiser, which is found numerically: a grid of spacing
    :math:`\min_k w_k / 400` over :math:`|u| \le \sqrt{2 f(0)/c}` (outside it the bowl
    alone exceeds :math:`f(0)`), refined by Newton's method.  ``minima_1d`` lists every
    1-D local minimum in that interval.

    Parameters
    ----------
    dim : int >= 1
    bowl : float > 0
        Curvature :math:`c` of the broad bowl.
    amplitudes, wavelengths, phases : sequences of equal length >= 1
        :math:`A_k > 0`, :math:`w_k > 0`, :math:`\phi_k` real.
    """

    def __init__(self, dim: int = 1, bowl: float = 0.1, amplitudes=(1.0, 0.3, 0.08),
                 wavelengths=(4.0, 1.0, 0.25), phases=(1.3, 0.4, 0.1)):
        self.dim = _int_at_least("dim", dim, 1)
        self.bowl = _positive_real("bowl", bowl)
        k = len(amplitudes)
        if k < 1 or len(wavelengths) != k or len(phases) != k:
            raise ValueError(f"amplitudes, wavelengths and phases must have the same length >= 1, "
                             f"got {len(amplitudes)}, {len(wavelengths)}, {len(phases)}")
        self.amplitudes = np.array([_positive_real(f"amplitudes[{i}]", v) for i, v in enumerate(amplitudes)])
        self.wavelengths = np.array([_positive_real(f"wavelengths[{i}]", v) for i, v in enumerate(wavelengths)])
        self.phases = np.array([_real(f"phases[{i}]", v) for i, v in enumerate(phases)])
        self._omega = 2.0 * np.pi / self.wavelengths
        self._find_minima()

    def _params(self):
        return {"dim": self.dim, "bowl": self.bowl, "amplitudes": self.amplitudes.tolist(),
                "wavelengths": self.wavelengths.tolist(), "phases": self.phases.tolist()}

    def _terms(self):
        return zip(self.amplitudes.tolist(), self._omega.tolist(), self.phases.tolist())

    def _f1(self, u):
        out = 0.5 * self.bowl * u * u
        for amp, om, ph in self._terms():  # a loop over the few scales beats a 4-D temporary
            out += amp * (1.0 - np.cos(om * (u - ph)))
        return out

    def _df1(self, u):
        out = self.bowl * u
        for amp, om, ph in self._terms():
            out += (amp * om) * np.sin(om * (u - ph))
        return out

    def _d2f1(self, u):
        out = np.full_like(u, self.bowl)
        for amp, om, ph in self._terms():
            out += (amp * om * om) * np.cos(om * (u - ph))
        return out

    def _value(self, x):
        return np.sum(self._f1(x), axis=-1)

    def _grad(self, x):
        return self._df1(x)

    def _hess(self, x):
        d = self._d2f1(x)
        return d[..., :, None] * np.eye(self.dim)

    def _find_minima(self):
        radius = math.sqrt(2.0 * float(self._f1(np.zeros(1))[0]) / self.bowl) + self.wavelengths.max()
        h = self.wavelengths.min() / 400.0
        u = np.arange(-radius, radius + h, h)
        d = self._df1(u)
        cross = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0))  # f' goes - to +: a minimum
        lo, hi = u[cross], u[cross + 1]
        for _ in range(60):  # bisection on the bracket, then it is exact to rounding
            mid = 0.5 * (lo + hi)
            neg = self._df1(mid) < 0
            lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
        mins = 0.5 * (lo + hi)
        vals = self._f1(mins)
        order = np.argsort(vals)
        self.minima_1d = mins[order]  # every 1-D local minimum in the search interval, lowest first
        self.minima_1d_values = vals[order]
        if len(vals) > 1 and not vals[order[1]] - vals[order[0]] > 1e-9:
            raise ValueError("the 1-D global minimum is not unique for these parameters; "
                             "shift a phase")

    def basin_1d(self, i: int = 0) -> tuple[float, float]:
        r"""The 1-D basin ``(lo, hi)`` of the local minimum ``minima_1d[i]`` (0: the global one).

        ``lo`` and ``hi`` are the local maxima of the 1-D profile on either side of it
        (roots of :math:`f'` where it goes from + to −, found on the same grid and refined
        by bisection).  Gradient flow started strictly inside flows to ``minima_1d[i]``.
        """
        i = _int_at_least("i", i, 0)
        if i >= len(self.minima_1d):
            raise ValueError(f"i must be in [0, {len(self.minima_1d)}) (an index into minima_1d), got {i}")
        u0 = float(self.minima_1d[i])
        h = self.wavelengths.min() / 400.0

        def side(direction):
            u = u0 + direction * h * np.arange(1, 400 * 100 + 1)
            d = self._df1(u)
            hit = np.flatnonzero(d * direction < 0)  # f' changes sign: past the next maximum
            if hit.size == 0:  # pragma: no cover - the bowl always turns f' around
                raise RuntimeError("no local maximum found next to the minimum")
            a, b = u[hit[0] - 1] if hit[0] > 0 else u0, u[hit[0]]
            lo, hi = min(a, b), max(a, b)
            for _ in range(60):  # f' > 0 left of a maximum, < 0 right of it
                mid = 0.5 * (lo + hi)
                if self._df1(np.array([mid]))[0] > 0:
                    lo = mid
                else:
                    hi = mid
            return 0.5 * (lo + hi)

        return side(-1), side(+1)

    def in_global_basin(self, x) -> np.ndarray:
        r"""Whether each point lies in the basin of the global minimiser: every coordinate
        strictly inside :meth:`basin_1d` ``(0)`` (the landscape is separable).  Shape ``(...)``."""
        lo, hi = self.basin_1d(0)
        x = self._points(x)
        return np.all((x > lo) & (x < hi), axis=-1)

    @property
    def minima(self) -> np.ndarray:
        """The local minima, lowest first.  For ``dim = 1`` all of them in the search interval,
        shape ``(k, 1)``; for ``dim > 1`` only the global one, shape ``(1, dim)`` (the local
        minima are the points whose every coordinate is in ``minima_1d``)."""
        if self.dim == 1:
            return self.minima_1d[:, None].copy()
        return np.full((1, self.dim), self.minima_1d[0])

    @property
    def f_star(self) -> float:
        return float(self.dim * self.minima_1d_values[0])


# --------------------------------------------------------------------------- cliff
class Cliff(Landscape):
    r"""A bowl with a cliff: a narrow region of huge gradient next to ordinary ones.

    .. math::
        f(x) = \frac{\kappa}{2}\|x\|^2 + \frac{h}{2}\Bigl(1 + \tanh\frac{x_1 - p}{w}\Bigr),

    a drop of height :math:`h` across a band of width :math:`\sim w` at :math:`x_1 = p`
    (the plateau :math:`x_1 > p` is higher).  In the band the gradient reaches
    :math:`\kappa p + h/(2w)` (about 1,005 with the defaults), while elsewhere it is the
    bowl's :math:`\kappa\|x\|` (10 at :math:`\|x\| = 10`).  A step of size :math:`\eta`
    that lands in the band is thrown :math:`\approx \eta h/(2w)` away.  The minimiser is
    :math:`x_* = (u_*, 0, \dots)` with :math:`u_* \approx -h/(2w\kappa)\,\operatorname{sech}^2(p/w)`
    (about :math:`-5\times10^{-84}` with the defaults), found by Newton's method.

    Parameters
    ----------
    dim : int >= 1
    curvature : float > 0       :math:`\kappa`
    height : float > 0          :math:`h`
    width : float > 0           :math:`w`
    position : float >= 5 width :math:`p` (the cliff sits away from the minimum)
    """

    def __init__(self, dim: int = 1, curvature: float = 1.0, height: float = 100.0,
                 width: float = 0.05, position: float = 5.0):
        self.dim = _int_at_least("dim", dim, 1)
        self.kappa = _positive_real("curvature", curvature)
        self.height = _positive_real("height", height)
        self.width = _positive_real("width", width)
        self.position = _real("position", position, low=5.0 * self.width)
        u = 0.0
        for _ in range(50):
            z = (u - self.position) / self.width
            s = 1.0 / math.cosh(z) ** 2 if abs(z) < 350 else 0.0
            g = self.kappa * u + 0.5 * self.height / self.width * s
            h = self.kappa - self.height / self.width**2 * s * math.tanh(z)
            u -= g / h
        self._u_star = u

    def _params(self):
        return {"dim": self.dim, "curvature": self.kappa, "height": self.height,
                "width": self.width, "position": self.position}

    @property
    def max_cliff_grad(self) -> float:
        r""":math:`\kappa p + h/(2w)`: the gradient at the middle of the cliff."""
        return self.kappa * self.position + 0.5 * self.height / self.width

    def _value(self, x):
        z = (x[..., 0] - self.position) / self.width
        return 0.5 * self.kappa * np.sum(x * x, axis=-1) + 0.5 * self.height * (1.0 + np.tanh(z))

    def _grad(self, x):
        z = (x[..., 0] - self.position) / self.width
        g = self.kappa * x
        g[..., 0] += 0.5 * self.height / self.width / np.cosh(np.clip(z, -350, 350)) ** 2
        return g

    def _hess(self, x):
        z = np.clip((x[..., 0] - self.position) / self.width, -350, 350)
        H = np.broadcast_to(self.kappa * np.eye(self.dim), x.shape + (self.dim,)).copy()
        H[..., 0, 0] -= self.height / self.width**2 * np.tanh(z) / np.cosh(z) ** 2
        return H

    @property
    def minima(self) -> np.ndarray:
        """The unique minimiser, shape ``(1, dim)``."""
        m = np.zeros((1, self.dim))
        m[0, 0] = self._u_star
        return m

    def in_cliff(self, x, factor: float = 10.0) -> np.ndarray:
        r"""Points where the cliff term's gradient exceeds ``factor`` × the bowl's at :math:`x_1 = p`."""
        z = (self._points(x)[..., 0] - self.position) / self.width
        return 0.5 * self.height / self.width / np.cosh(np.clip(z, -350, 350)) ** 2 > factor * self.kappa * self.position


# --------------------------------------------------------------------------- river valley
class RiverValley(Landscape):
    r"""A river valley (after Wen et al. 2024, arXiv 2410.05192): steep walls, a gently sloping floor.

    In 2-D, with :math:`x = (u, v)` (:math:`u` along the river, :math:`v` across it),

    .. math::
        f(u, v) = \underbrace{s\,\log\cosh(u - u_*)}_{\text{river: slope} \le s}
                + \underbrace{\tfrac{\kappa}{2}\,\bigl(v - A\sin(u/\ell)\bigr)^2}_{\text{hill: walls of curvature }\kappa}.

    The floor :math:`v = A\sin(u/\ell)` meanders (straight for ``amplitude=0``) and falls
    with slope :math:`s\tanh(u - u_*)` towards the lake at :math:`(u_*, A\sin(u_*/\ell))`,
    where :math:`f_* = 0`.  With :math:`\kappa \gg s`, a large learning rate bounces
    between the walls (the hill part of the loss is :math:`\propto \eta` under noise) while
    moving down the river; a decay then drops to the floor.

    Parameters
    ----------
    steepness : float > 0      :math:`\kappa`, the curvature across the valley
    slope : float > 0          :math:`s`, the river's slope far from the lake
    lake : float               :math:`u_*`
    amplitude : float >= 0     :math:`A`, how far the river meanders
    meander : float > 0        :math:`\ell`, the meander length scale
    """

    dim = 2

    def __init__(self, steepness: float = 100.0, slope: float = 0.1, lake: float = 20.0,
                 amplitude: float = 0.0, meander: float = 3.0):
        self.kappa = _positive_real("steepness", steepness)
        self.slope = _positive_real("slope", slope)
        self.lake = _real("lake", lake)
        self.amplitude = _real("amplitude", amplitude, low=0.0)
        self.meander = _positive_real("meander", meander)

    def _params(self):
        return {"steepness": self.kappa, "slope": self.slope, "lake": self.lake,
                "amplitude": self.amplitude, "meander": self.meander}

    def floor(self, u) -> np.ndarray:
        r"""The river bed :math:`v = A\sin(u/\ell)`."""
        return self.amplitude * np.sin(np.asarray(u, dtype=float) / self.meander)

    def river_loss(self, x) -> np.ndarray:
        r"""The river part :math:`s\log\cosh(u - u_*)`: the loss on the valley floor."""
        z = np.abs(self._points(x)[..., 0] - self.lake)
        return self.slope * (z + np.log1p(np.exp(-2.0 * z)) - math.log(2.0))

    def hill_loss(self, x) -> np.ndarray:
        r"""The hill part :math:`\tfrac{\kappa}{2}(v - A\sin(u/\ell))^2`: height above the floor."""
        x = self._points(x)
        r = x[..., 1] - self.floor(x[..., 0])
        return 0.5 * self.kappa * r * r

    def _value(self, x):
        return self.river_loss(x) + self.hill_loss(x)

    def _grad(self, x):
        u, v = x[..., 0], x[..., 1]
        r = v - self.amplitude * np.sin(u / self.meander)
        dfloor = self.amplitude / self.meander * np.cos(u / self.meander)
        g = np.empty_like(x)
        g[..., 0] = self.slope * np.tanh(u - self.lake) - self.kappa * r * dfloor
        g[..., 1] = self.kappa * r
        return g

    def _hess(self, x):
        u, v = x[..., 0], x[..., 1]
        sn, cs = np.sin(u / self.meander), np.cos(u / self.meander)
        r = v - self.amplitude * sn
        d1 = self.amplitude / self.meander * cs
        d2 = -self.amplitude / self.meander**2 * sn
        H = np.empty(x.shape + (2,))
        H[..., 0, 0] = self.slope / np.cosh(u - self.lake) ** 2 + self.kappa * (d1 * d1 - r * d2)
        H[..., 0, 1] = H[..., 1, 0] = -self.kappa * d1
        H[..., 1, 1] = self.kappa
        return H

    @property
    def minima(self) -> np.ndarray:
        """The lake, the unique minimiser, shape ``(1, 2)``."""
        return np.array([[self.lake, float(self.floor(self.lake))]])

    @property
    def f_star(self) -> float:
        return 0.0
